"""Who works when: an Erlang C forecast of the agents each half hour needs, shifts of about
eight hours (a lunch, two breaks) staggered to cover it, and agents given those shifts with
rest between them and five days a week. Pure: the floor (:mod:`.floor`) plays it out."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

SLOT = 1800  # staffing is planned per half hour
SHIFT = 17 * SLOT  # 8.5 h: eight hours of work and a lunch
TARGET_SERVICE_LEVEL = 0.70  # of callers answered within THRESHOLD seconds
THRESHOLD = 20
MAX_OCCUPANCY = 0.85  # nobody plans agents busier than this
SHRINKAGE = 0.12  # lunch and breaks: planned on top of the agents the calls need (one at
# least in the hours with calls)
REST = 11 * 3600  # hours off between two shifts of one agent
WEEK = 7 * 86400
SHIFTS_PER_WEEK = 5  # 6 when nobody else can take a shift (overtime)
PAUSES = {"lunch": (1800, 2700), "break": (600, 900), "training": (1800, 3600)}
TRAINING_SHARE = 0.1  # shifts whose second break is a training session


@dataclass(frozen=True)
class Pause:
    due: int  # Gregorian seconds: taken then, or when the agent's call ends
    alias: str
    planned: int  # pause_time, seconds


@dataclass(frozen=True)
class Shift:
    agent: str
    start: int  # logs in (Gregorian seconds)
    end: int  # logs out then, or when the call at hand ends
    pauses: tuple[Pause, ...]
    outbound: tuple[int, ...]  # moments the agent means to call out, if idle then


def erlang_c(agents: int, load: float) -> float:
    """The probability that a caller waits (Erlang C), ``load`` in Erlangs."""
    if agents <= load:
        return 1.0
    blocked = 1.0  # Erlang B, by its recurrence
    for k in range(1, agents + 1):
        blocked = load * blocked / (k + load * blocked)
    return agents * blocked / (agents - load * (1 - blocked))


def service_level(agents: int, load: float, handle_time: float, threshold: float) -> float:
    """The share of callers answered within ``threshold`` seconds (Erlang C)."""
    if agents <= load:
        return 0.0
    waits = erlang_c(agents, load)
    return 1 - waits * math.exp(-(agents - load) * threshold / handle_time)


def agents_needed(calls_per_hour: float, handle_time: float) -> int:
    """The fewest agents that answer ``TARGET_SERVICE_LEVEL`` within ``THRESHOLD`` seconds
    without planning anyone beyond ``MAX_OCCUPANCY``; one at least, the line is always open."""
    load = calls_per_hour * handle_time / 3600
    n = max(1, math.ceil(load))
    while (
        load / n > MAX_OCCUPANCY
        or service_level(n, load, handle_time, THRESHOLD) < TARGET_SERVICE_LEVEL
    ):
        n += 1
    return n


def _pauses(rng: random.Random, start: int) -> tuple[Pause, ...]:
    second = "training" if rng.random() < TRAINING_SHARE else "break"
    plan = (
        (2 * 3600, 1200, "break"),
        (4 * 3600, 1800, "lunch"),
        (6 * 3600 + 1800, 1200, second),
    )
    return tuple(
        Pause(start + at + rng.randint(-spread, spread), alias, rng.choice(PAUSES[alias]))
        for at, spread, alias in plan
    )


def plan_shifts(
    rng: random.Random,
    agents: list[str],
    first_midnight: int,
    slots: int,
    calls_per_hour: Callable[[int], float],
    handle_time: float,
) -> list[Shift]:
    """Shifts covering ``slots`` half hours from ``first_midnight``: each half hour gets the
    agents :func:`agents_needed` says for its forecast (``calls_per_hour(slot)``) plus
    shrinkage, new shifts starting wherever the ones under way fall short. Each shift goes
    to the agent with the fewest shifts that week who has rested, the busiest shifts first; a
    shift nobody can take stays empty (an understaffed floor, at night)."""
    on_duty = [0] * (slots + SHIFT // SLOT)
    starts: list[int] = []
    for s in range(slots):
        needed = agents_needed(calls_per_hour(s), handle_time)
        if calls_per_hour(s) >= 1:  # someone to answer while another is at lunch
            needed += max(1, round(needed * SHRINKAGE))
        for _ in range(needed - on_duty[s]):
            starts.append(s)
            for t in range(s, s + SHIFT // SLOT):
                on_duty[t] += 1
    order = {a: rng.random() for a in agents}  # who is asked first among equals
    taken: dict[str, list[tuple[int, int]]] = {a: [] for a in agents}  # (start, end)
    planned = []
    for s in starts:
        start = first_midnight + s * SLOT + rng.randint(-600, 300)
        end = start + SHIFT + rng.randint(-300, 600)
        calls_out = tuple(
            sorted(rng.randint(start + 1800, end - 1800) for _ in range(rng.choice((0, 1, 1, 2))))
        )
        demand = sum(calls_per_hour(t) for t in range(s, s + SHIFT // SLOT))
        planned.append((demand, start, end, _pauses(rng, start), calls_out))
    shifts: list[Shift] = []
    # the busiest shifts are given first: a pool too small for the forecast leaves the
    # quiet hours (the nights) unstaffed, not the peak
    for _, start, end, pauses, calls_out in sorted(planned, key=lambda p: (-p[0], p[1])):

        def week(agent: str, start: int = start) -> int:
            return sum(1 for w, _ in taken[agent] if (w - first_midnight) // WEEK
                       == (start - first_midnight) // WEEK)  # fmt: skip

        def rested(agent: str, start: int = start, end: int = end) -> bool:
            return all(end + REST <= w or e + REST <= start for w, e in taken[agent])

        able = [a for a in agents if rested(a)]
        able = [a for a in able if week(a) < SHIFTS_PER_WEEK] or [
            a for a in able if week(a) < SHIFTS_PER_WEEK + 1
        ]
        if not able:
            continue
        agent = min(able, key=lambda a: (week(a), order[a]))
        taken[agent].append((start, end))
        shifts.append(Shift(agent, start, end, pauses, calls_out))
    shifts.sort(key=lambda s: s.start)
    return shifts
