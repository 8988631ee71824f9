"""KAZOO ACDC ``status_stat`` documents (CONTRACT.md 7a): every status change of every agent,
consistent with the ``call_stat`` documents of the same account.

Each ring of an agent in a call_stat becomes ``connecting`` -> ``ready`` (a miss) or
``connecting`` -> ``connected`` (at ``handled_timestamp``) -> ``wrapup`` (at
``processed_timestamp``, with the queue's planned ``wait_time``) -> ``ready`` (an answer),
with the call's ``call_id``, ``queue_id`` and caller id. Around them: shifts (``logged_in`` ->
``ready`` ... ``logged_out``, now and then a lost ``logged_out``, or a ``pending_logged_out``
during the shift's last call), pauses (``lunch``, ``break``, ``training``, with their planned
``pause_time``) and ``outbound`` calls in the idle gaps.

The call_stat generator does not model whether an agent is free, so an agent's rings can
overlap; an agent can only be in one state, so rings that overlap an earlier kept one get no
status events (answers are kept before misses). Everything else here is drawn from a random
stream of its own, so the call_stats stay what they were without status_stats.

Documents are written as ``acdc_agent_stats.erl`` ``status_stat_to_doc/1`` builds them
(``_id`` ``<agent_id>::<timestamp>``, absent values omitted), archived like call_stats: at the
first archiver tick an hour after the event, into the MoDB of the archive month.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .call_stats import ARCHIVE_PERIOD, ARCHIVE_WINDOW, LOSE_RACE
from .clock import archived_as, from_gregorian, random_hex_id
from .queues import AcdcQueue

STATUS_STAT_TYPE = "status_stat"
WRAPUP_CHOICES = (10, 15, 30, 60)  # a queue's agent_wrapup_time, seconds
SHIFT_GAP = 2 * 3600  # idle longer than this between rings: the agent went home
LOST_LOGOUT_SHARE = 0.04  # shifts whose logged_out never reached the stats (a node crash)
PENDING_LOGOUT_SHARE = 0.1  # shifts ended by a logout asked for during the last call
OUTBOUND_SHARE = 0.12  # idle gaps of 5 min or more in which the agent calls out
# the optional fields, in status_stat_to_doc/1's order
DOC_FIELDS = (
    "wait_time", "pause_time", "pause_alias", "caller_id_name", "caller_id_number", "queue_id"
)  # fmt: skip
# alias -> planned pause_time choices (seconds)
PAUSES = {"lunch": (1800, 2700, 3600), "break": (600, 900), "training": (1800, 3600)}


@dataclass(order=True)
class _Ring:
    """One ring of one agent: ``connecting`` at ``start``; a miss ends (``ready``) at ``end``,
    an answer is ``connected`` at ``handled`` and ``wrapup`` at ``end`` (processed)."""

    start: int
    end: int
    handled: int | None = field(default=None, compare=False)  # None: a miss
    call_id: str = field(default="", compare=False)
    queue_id: str = field(default="", compare=False)
    caller: tuple[tuple[str, Any], ...] = field(default=(), compare=False)


def plan_wrapups(rng: random.Random, queue_ids: list[str]) -> dict[str, int]:
    """Each queue's planned wrap-up (``agent_wrapup_time``): the first draws of the stream."""
    return {q: rng.choice(WRAPUP_CHOICES) for q in queue_ids}


class StatusStats:
    """Watches an account's call_stats go by (:meth:`observe`), then writes the status_stats
    of its agents (:meth:`docs`). Keeps only each ring's few numbers, not the documents."""

    def __init__(self, rng: random.Random, account_id: str, queues: list[AcdcQueue]) -> None:
        self._rng = rng
        self._account_id = account_id
        self._queues = {q.queue_id: q for q in queues}
        self._wrapup = plan_wrapups(rng, [q.queue_id for q in queues])
        self._tick = rng.randrange(ARCHIVE_PERIOD)  # the archiver's phase within a minute
        self._rings: dict[str, list[_Ring]] = {}

    def observe(self, stat: dict[str, Any]) -> None:
        """Note the rings of one call_stat."""
        rng, queue = self._rng, self._queues[stat["queue_id"]]
        entered = stat["entered_timestamp"]
        caller = tuple((k, stat[k]) for k in ("caller_id_name", "caller_id_number") if k in stat)
        common = {"call_id": stat["call_id"], "queue_id": queue.queue_id, "caller": caller}
        floor = entered  # the last ring of a call starts after its failed rounds ended
        for miss in reversed(stat["misses"]):  # stored newest first
            if miss["reason"] == LOSE_RACE:
                continue
            at = miss["timestamp"]
            if miss["reason"] == "timeout":
                rang = queue.agent_ring_timeout
            else:
                rang = rng.randint(1, 8) if miss["reason"] == "rejected" else rng.randint(1, 3)
            start = min(max(at - rang, entered), at - 1)
            self._add(miss["agent_id"], _Ring(start, at, **common))
            floor = max(floor, at)
        if stat["status"] != "processed":
            return
        handled = stat["handled_timestamp"]
        start = min(max(handled - rng.randint(2, 14), floor + 1), handled - 1)
        self._add(stat["agent_id"], _Ring(start, stat["processed_timestamp"], handled, **common))
        for miss in stat["misses"]:  # the agents rung with the winner hang up as it answers
            if miss["reason"] == LOSE_RACE:
                self._add(miss["agent_id"], _Ring(start, miss["timestamp"], **common))

    def _add(self, agent: str, ring: _Ring) -> None:
        self._rings.setdefault(agent, []).append(ring)

    def docs(self) -> Iterator[dict[str, Any]]:
        """Every agent's status_stats, in timestamp order."""
        events = [
            (ts, agent, status, extra)
            for agent in sorted(self._rings)
            for ts, status, extra in self._timeline(self._rings[agent])
        ]
        events.sort(key=lambda e: (e[0], e[1]))
        for ts, agent, status, extra in events:
            yield self._doc(agent, ts, status, extra)

    def _timeline(self, rings: list[_Ring]) -> list[tuple[int, str, dict[str, Any]]]:
        """One agent's events: its non-overlapping rings, grouped into shifts."""
        kept = _non_overlapping(rings)
        rng = self._rng
        # each ring ends with the agent ready again: after the miss, or after the wrap-up,
        # cut short when the next ring comes sooner
        ready_at = []
        for i, ring in enumerate(kept):
            ready = ring.end
            if ring.handled is not None:
                planned = self._wrapup[ring.queue_id]
                ready = ring.end + max(1, round(planned * rng.uniform(0.5, 1.1)))
                if i + 1 < len(kept):
                    ready = min(ready, kept[i + 1].start - 1)
            ready_at.append(ready)
        shifts: list[list[int]] = [[]]
        for i in range(len(kept)):
            if shifts[-1] and kept[i].start - ready_at[i - 1] > SHIFT_GAP:
                shifts.append([])
            shifts[-1].append(i)
        out: list[tuple[int, str, dict[str, Any]]] = []
        for shift in shifts:
            if shift:
                out += self._shift([kept[i] for i in shift], [ready_at[i] for i in shift])
        return out

    def _shift(self, rings: list[_Ring], ready_at: list[int]) -> list[tuple[int, str, dict]]:
        rng = self._rng
        first = rings[0].start
        login = first - rng.randint(300, 1800)
        events: list[tuple[int, str, dict[str, Any]]] = [
            (login, "logged_in", {}),
            (min(login + rng.randint(10, 120), first - 1), "ready", {}),
        ]
        lunched = False
        last = len(rings) - 1
        pending = (
            rings[last].handled is not None
            and rings[last].end - rings[last].handled >= 2
            and rng.random() < PENDING_LOGOUT_SHARE
        )
        for i, ring in enumerate(rings):
            if i:
                lunched = self._fill_gap(events, ready_at[i - 1], ring.start, lunched)
            call = {"call_id": ring.call_id}
            offered = {**call, **dict(ring.caller), "queue_id": ring.queue_id}
            events.append((ring.start, "connecting", offered))
            if ring.handled is not None:
                events.append((ring.handled, "connected", offered))
                if pending and i == last:
                    asked = rng.randint(ring.handled + 1, ring.end - 1)
                    events.append((asked, "pending_logged_out", {}))
                events.append((ring.end, "wrapup", {"wait_time": self._wrapup[ring.queue_id]}))
            if pending and i == last:
                events.append((ready_at[i], "logged_out", {}))
            else:
                events.append((ready_at[i], "ready", {}))
        if not pending and rng.random() >= LOST_LOGOUT_SHARE:
            events.append((ready_at[last] + rng.randint(120, 2400), "logged_out", {}))
        return events

    def _fill_gap(
        self, events: list[tuple[int, str, dict]], free: int, busy: int, lunched: bool
    ) -> bool:
        """Maybe a pause or an outbound call while the agent is idle from ``free`` until the
        next ring at ``busy``; return whether the shift has had its lunch."""
        rng = self._rng
        gap = busy - free
        if gap < 300:
            return lunched
        begin = free + rng.randint(20, 90)
        room = busy - 30 - begin  # back and ready a little before the next ring
        midday = 11 <= from_gregorian(free).hour <= 13
        if gap >= 1500 and midday and not lunched:
            alias = "lunch"
        elif gap >= 720 and rng.random() < 0.3:
            alias = "training" if gap >= 2400 and rng.random() < 0.2 else "break"
        elif rng.random() < OUTBOUND_SHARE:
            talk = min(room, max(20, round(rng.lognormvariate(math.log(120), 0.6))))
            events.append((begin, "outbound", {"call_id": random_hex_id(rng)}))
            events.append((begin + talk, "ready", {}))
            return lunched
        else:
            return lunched
        planned = rng.choice(PAUSES[alias])
        took = min(room, max(60, round(planned * rng.uniform(0.8, 1.15))))
        events.append((begin, "paused", {"pause_time": planned, "pause_alias": alias}))
        events.append((begin + took, "ready", {}))
        return lunched or alias == "lunch"

    def _doc(self, agent: str, ts: int, status: str, extra: dict[str, Any]) -> dict[str, Any]:
        """Shaped as ``status_stat_to_doc/1``; archived at the first tick an hour later."""
        archived = ts + ARCHIVE_WINDOW
        archived += (self._tick - archived) % ARCHIVE_PERIOD
        doc: dict[str, Any] = {"_id": f"{agent}::{ts}"}
        if "call_id" in extra:
            doc["call_id"] = extra["call_id"]
        doc |= {"agent_id": agent, "timestamp": ts, "status": status}
        for key in DOC_FIELDS:
            if key in extra:
                doc[key] = extra[key]
        doc |= archived_as(STATUS_STAT_TYPE, self._account_id, archived)
        return doc


def _non_overlapping(rings: Iterable[_Ring]) -> list[_Ring]:
    """The rings one agent can have had, in time order: answers first (an answer holds the
    agent until at least a second after its wrap-up starts), then misses, each kept only if
    it starts after what was kept before it ends, and ends before what follows starts."""
    ordered = sorted(rings)
    kept: list[_Ring] = []
    starts: list[int] = []
    for answers in (True, False):
        for ring in ordered:
            if (ring.handled is not None) != answers:
                continue
            end = ring.end + 1 if answers else ring.end  # room for the ready after a wrap-up
            i = bisect.bisect_left(starts, ring.start)
            if i and _busy_until(kept[i - 1]) >= ring.start:
                continue
            if i < len(kept) and kept[i].start <= end:
                continue
            kept.insert(i, ring)
            starts.insert(i, ring.start)
    return kept


def _busy_until(ring: _Ring) -> int:
    return ring.end + 1 if ring.handled is not None else ring.end
