"""KAZOO ACDC ``status_stat`` documents (CONTRACT.md 7a): every status change of every agent
of the floor (:mod:`.floor`), so they agree with the ``call_stat`` documents of its calls.

An ACDC call rings an agent ``connecting`` -> ``ready`` (a miss, a lost race, a caller who
hung up) or ``connecting`` -> ``connected`` (at ``handled_timestamp``) -> ``wrapup`` (at
``processed_timestamp``, with the queue's planned ``wait_time``) -> ``ready``. Around them:
shifts (``logged_in`` -> ``ready`` ... ``logged_out``, now and then a lost ``logged_out``, or a
``pending_logged_out`` during the shift's last call), pauses (``lunch``, ``break``,
``training``, with their planned ``pause_time``) and ``outbound`` calls. ACDC does not route
Qubicle calls (an account holding both): it sees the agent's phone on a call it did not
place, ``outbound`` until the call ends, and nothing of the rings.

Documents are written as ``acdc_agent_stats.erl`` ``status_stat_to_doc/1`` builds them
(``_id`` ``<agent_id>::<timestamp>``, absent values omitted), archived like call_stats: at the
first archiver tick an hour after the event, into the MoDB of the archive month.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from .call_stats import ARCHIVE_PERIOD, ARCHIVE_WINDOW
from .clock import archived_as
from .floor import ACDC, Event, Floor

STATUS_STAT_TYPE = "status_stat"
# the optional fields, in status_stat_to_doc/1's order
DOC_FIELDS = (
    "wait_time", "pause_time", "pause_alias", "caller_id_name", "caller_id_number", "queue_id"
)  # fmt: skip


def acdc_view(events: list[Event]) -> list[tuple[int, str, dict[str, Any]]]:
    """One agent's status changes as ACDC records them: a Qubicle call is an ``outbound``
    call from its answer to its end, its rings and after-call time are ready time."""
    out: list[tuple[int, str, dict[str, Any]]] = []
    for ts, status, fields, call in events:
        if call is not None and call.queue.shape != ACDC:
            if status == "connected":
                status, fields = "outbound", {"call_id": call.call_id}
            elif status == "wrapup":
                status, fields = "ready", {}
            else:
                continue  # a ring ACDC never saw
        if status == "ready" and out and out[-1][1] == "ready":
            continue  # still ready
        out.append((ts, status, fields))
    return out


def render_status_stats(
    rng: random.Random, account_id: str, floor: Floor
) -> Iterator[dict[str, Any]]:
    """Every agent's status_stats, in timestamp order (none without an ACDC queue); the
    archiver's phase within its minute is drawn from ``rng``."""
    if not any(q.shape == ACDC for q in floor.queues):
        return
    tick = rng.randrange(ARCHIVE_PERIOD)
    events = [
        (ts, agent, status, fields)
        for agent in sorted(floor.events)
        for ts, status, fields in acdc_view(floor.events[agent])
    ]
    events.sort(key=lambda e: (e[0], e[1]))
    for ts, agent, status, fields in events:
        yield _doc(account_id, tick, agent, ts, status, fields)


def _doc(
    account_id: str, tick: int, agent: str, ts: int, status: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """Shaped as ``status_stat_to_doc/1``; archived at the first tick an hour later."""
    archived = ts + ARCHIVE_WINDOW
    archived += (tick - archived) % ARCHIVE_PERIOD
    doc: dict[str, Any] = {"_id": f"{agent}::{ts}"}
    if "call_id" in fields:
        doc["call_id"] = fields["call_id"]
    doc |= {"agent_id": agent, "timestamp": ts, "status": status}
    for key in DOC_FIELDS:
        if key in fields:
            doc[key] = fields[key]
    doc |= archived_as(STATUS_STAT_TYPE, account_id, archived)
    return doc
