"""KAZOO ACDC ``call_stat`` documents (CONTRACT.md 2b), rendered from the calls of the floor
(:mod:`.floor`) to ACDC queues, written exactly as KAZOO's archiver (``acdc_stats.erl``
``call_stat_to_doc/1``) writes them: only processed and abandoned calls, ``_id``
``<call_id>::<queue_id>``, absent values omitted (never null), misses newest first, in the
MoDB of the month it was ARCHIVED (``archive_window_s``, an hour after it entered, at the
next 60 s archiver tick), so calls entered in a month's last hour sit in the next."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from typing import Any

from .clock import archived_as
from .floor import ACDC, ANSWERED, LOSE_RACE, Call, Floor, simulate

CALL_STAT_TYPE = "call_stat"
# ACDC (applications/acdc in 2600hz/kazoo)
ARCHIVE_WINDOW = 3600  # acdc archive_window_s default: archive calls entered an hour ago
ARCHIVE_PERIOD = 60  # archive_period_ms default 60000: the archiver runs every minute

__all__ = ["ARCHIVE_PERIOD", "ARCHIVE_WINDOW", "CALL_STAT_TYPE", "LOSE_RACE"]


def call_stat_doc(account_id: str, call: Call) -> dict[str, Any]:
    """One archived call: processed (answered) or abandoned (hung up, exit key, timeout)."""
    misses = sorted(
        ({"agent_id": r.agent, "reason": r.outcome, "timestamp": r.end}
         for r in call.rings if r.outcome != ANSWERED),
        key=lambda m: (m["timestamp"], m["agent_id"]),
        reverse=True,  # KAZOO prepends each miss
    )  # fmt: skip
    doc: dict[str, Any] = {"_id": f"{call.call_id}::{call.queue.queue_id}"}
    doc["call_id"] = call.call_id
    doc["queue_id"] = call.queue.queue_id
    if call.handled is not None:
        done = call.processed
        doc["agent_id"] = call.agent
        doc["entered_timestamp"] = call.entered
        doc["handled_timestamp"] = call.handled
        doc["processed_timestamp"] = done
        doc["hung_up_by"] = call.hung_up_by
    else:
        assert call.left is not None
        done = call.left
        doc["entered_timestamp"] = call.entered
        doc["abandoned_timestamp"] = call.left
        doc["abandoned_reason"] = call.reason
    doc["misses"] = misses
    doc["status"] = "processed" if call.handled is not None else "abandoned"
    doc.update(call.caller)
    doc["wait_time"] = (call.handled if call.handled is not None else done) - call.entered
    if call.handled is not None:
        doc["talk_time"] = call.talk
    archived = max(call.entered + ARCHIVE_WINDOW, done) + call.archive_delay
    doc |= archived_as(CALL_STAT_TYPE, account_id, archived)
    return doc


def render_call_stats(account_id: str, floor: Floor) -> Iterator[dict[str, Any]]:
    """The floor's calls to ACDC queues, in entry order."""
    for call in floor.calls:
        if call.queue.shape == ACDC:
            yield call_stat_doc(account_id, call)


def generate_call_stats(
    rng: random.Random,
    account_id: str,
    queue_ids: list[str],
    agent_ids: list[str],
    start: date,
    days: int,
    calls_per_day: int,
) -> Iterator[dict[str, Any]]:
    """Yield ACDC ``call_stat`` docs for ``days`` UTC days from ``start``, in entry order, of
    a floor of ACDC queues drawn from ``rng`` (see :mod:`.floor`)."""
    floor = simulate(rng, queue_ids, agent_ids, ACDC, start, days, calls_per_day)
    return render_call_stats(account_id, floor)
