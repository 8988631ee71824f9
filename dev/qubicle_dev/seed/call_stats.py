"""KAZOO ACDC ``call_stat`` documents (CONTRACT.md 2b), written exactly as KAZOO's archiver
(``acdc_stats.erl`` ``call_stat_to_doc/1``) writes them: only processed and abandoned calls,
``_id`` ``<call_id>::<queue_id>``, absent values omitted (never null), misses newest first,
in the MoDB of the month it was ARCHIVED (``archive_window_s``, an hour after it entered, at
the next 60 s archiver tick), so calls entered in a month's last hour sit in the next."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from .arrivals import day_arrivals
from .clock import DAY, archived_as, random_hex_id
from .names import FIRST_NAMES, LAST_NAMES
from .queues import AcdcQueue, plan_acdc_queues

CALL_STAT_TYPE = "call_stat"
# ACDC (applications/acdc in 2600hz/kazoo)
ARCHIVE_WINDOW = 3600  # acdc archive_window_s default: archive calls entered an hour ago
ARCHIVE_PERIOD = 60  # archive_period_ms default 60000: the archiver runs every minute
PROCESSED_SHARE = 0.80
# acdc.hrl ABANDON_*: callers hang up, the queue times out, or the caller presses the exit key
ABANDON_REASONS = (("member_hangup", 0.75), ("member_timeout", 0.18), ("member_exit", 0.07))
# a ring no agent took, after acdc_agent_fsm:missed_reason/1: ALLOTTED_TIMEOUT -> timeout,
# NO_USER_RESPONSE | CALL_REJECTED | USER_BUSY -> rejected, other hangup causes verbatim
MISS_REASONS = (
    ("timeout", 0.70),
    ("rejected", 0.20),
    ("NO_ANSWER", 0.04),
    ("USER_NOT_REGISTERED", 0.03),
    ("NORMAL_TEMPORARY_FAILURE", 0.03),
)
LOSE_RACE = "LOSE_RACE"  # ringing at once, another agent answered first


def _caller(rng: random.Random) -> dict[str, Any]:
    number = f"+1{rng.randint(201, 989)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
    caller: dict[str, Any] = {
        "caller_id_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
        "caller_id_number": number,
    }
    if rng.random() < 0.1:  # Caller-Priority is set by some callflows only
        caller["caller_priority"] = rng.randint(1, 5)
    return caller


def _failed_ring(rng: random.Random, agent: str, rang_at: int, ring_timeout: int) -> dict:
    """A miss, as ``acdc_stats:call_missed`` records it when the agent FSM gives up."""
    reason = rng.choices([r for r, _ in MISS_REASONS], [w for _, w in MISS_REASONS])[0]
    if reason == "timeout":
        at = rang_at + ring_timeout
    elif reason == "rejected":
        at = rang_at + rng.randint(1, 8)
    else:  # the agent's leg failed to set up
        at = rang_at + rng.randint(0, 3)
    return {"agent_id": agent, "reason": reason, "timestamp": at}


def _call_stat(
    rng: random.Random,
    account_id: str,
    queue: AcdcQueue,
    entered: int,
    *,
    handled_after: int | None = None,
    race_only: bool = False,
) -> dict[str, Any]:
    """One archived call_stat entering ``queue`` at ``entered`` (Gregorian seconds).

    ``handled_after``: answered, and not before that moment (a call waiting past midnight).
    ``race_only``: answered at the first ring of several agents, so the only misses are the
    LOSE_RACE of the agents who lost.
    """
    forced = handled_after is not None or race_only
    processed = forced or rng.random() < PROCESSED_SHARE
    call_id = random_hex_id(rng)
    caller = _caller(rng)
    order = list(queue.agents)
    rng.shuffle(order)
    if processed:
        failed_rounds = 0
        while not forced and failed_rounds < 6 and rng.random() < 0.25:
            failed_rounds += 1
        leave = None
        ring_delay = queue.first_ring_mean
    else:
        reason = rng.choices([r for r, _ in ABANDON_REASONS], [w for _, w in ABANDON_REASONS])[0]
        if reason == "member_timeout":
            leave = entered + queue.connection_timeout
        elif reason == "member_exit":
            leave = entered + max(5, round(rng.expovariate(1 / 40)))
        else:
            leave = entered + max(1, round(rng.expovariate(1.0 / queue.abandon_mean)))
        leave = min(leave, entered + queue.connection_timeout)
        failed_rounds = 0  # rings while the caller waited, if the caller stayed that long
        while failed_rounds < 4 and rng.random() < 0.45:
            failed_rounds += 1
        ring_delay = 2.5 * queue.first_ring_mean  # callers give up mostly while agents are busy
    t = entered + max(1, round(rng.expovariate(1.0 / ring_delay)))
    if handled_after is not None:
        t = max(t, handled_after)
    misses: list[dict[str, Any]] = []  # oldest first here; stored newest first, as KAZOO does
    k = queue.ring_simultaneously
    if race_only:
        k = max(2, k) if len(order) >= 2 else 1
    nxt = 0
    for _ in range(failed_rounds):
        rung = [order[(nxt + j) % len(order)] for j in range(k)]
        nxt += k
        round_misses = [_failed_ring(rng, a, t, queue.agent_ring_timeout) for a in rung]
        if leave is not None and max(m["timestamp"] for m in round_misses) >= leave:
            break  # the caller was gone before this round ended
        misses.extend(sorted(round_misses, key=lambda m: m["timestamp"]))
        t = max(m["timestamp"] for m in round_misses) + rng.randint(1, 10)
        if leave is not None and t >= leave:
            break
    doc: dict[str, Any] = {"_id": f"{call_id}::{queue.queue_id}", "call_id": call_id}
    doc["queue_id"] = queue.queue_id
    if processed:
        rung = [order[(nxt + j) % len(order)] for j in range(min(k, len(order)))]
        agent = rng.choice(rung)
        handled = t + rng.randint(2, 14)
        talk = max(5, round(rng.lognormvariate(math.log(150), 0.7)))
        done = handled + talk
        for other in rung:
            if other != agent:  # the losers hang up as the winner answers
                misses.append({"agent_id": other, "reason": LOSE_RACE, "timestamp": handled})
        doc["agent_id"] = agent
        doc["entered_timestamp"] = entered
        doc["handled_timestamp"] = handled
        doc["processed_timestamp"] = done
        doc["hung_up_by"] = "member" if rng.random() < 0.6 else "agent"
    else:
        done = leave
        doc["entered_timestamp"] = entered
        doc["abandoned_timestamp"] = leave
        doc["abandoned_reason"] = reason
    doc["misses"] = list(reversed(misses))
    doc["status"] = "processed" if processed else "abandoned"
    doc.update(caller)
    doc["wait_time"] = (handled if processed else leave) - entered
    if processed:
        doc["talk_time"] = talk
    archived = max(entered + ARCHIVE_WINDOW, done) + rng.randrange(ARCHIVE_PERIOD)
    doc |= archived_as(CALL_STAT_TYPE, account_id, archived)
    return doc


def generate_call_stats(
    rng: random.Random,
    account_id: str,
    queue_ids: list[str],
    agent_ids: list[str],
    start: date,
    days: int,
    calls_per_day: int,
) -> Iterator[dict[str, Any]]:
    """Yield ACDC ``call_stat`` docs for ``days`` UTC days from ``start``, in entry order.

    Same day and hour shapes as :func:`generate_sessions`. Every day also has a call entering
    in its last quarter hour that is answered after midnight (its handled_timestamp is the
    next day; on a month's last day it is archived into the next month's MoDB), and a call
    answered at the first ring of two agents, whose only miss is a LOSE_RACE.
    """
    queues = plan_acdc_queues(rng, queue_ids, agent_ids)
    queue_weights = [q.weight for q in queues]
    racing = [q for q in queues if len(q.agents) >= 2] or queues
    for offset in range(days):
        midnight, arrivals = day_arrivals(
            rng, start + timedelta(days=offset), calls_per_day, queues, queue_weights, special=2
        )
        calls = [_call_stat(rng, account_id, queue, entered) for entered, queue in arrivals]
        hour = rng.choice(range(9, 17))
        entered = midnight + hour * 3600 + rng.randrange(3600)
        calls.append(_call_stat(rng, account_id, rng.choice(racing), entered, race_only=True))
        entered = midnight + DAY - rng.randint(30, 900)
        queue = rng.choices(queues, queue_weights)[0]
        after = midnight + DAY + rng.randint(1, 120)
        calls.append(_call_stat(rng, account_id, queue, entered, handled_after=after))
        calls.sort(key=lambda d: (d["entered_timestamp"], d["_id"]))
        yield from calls
