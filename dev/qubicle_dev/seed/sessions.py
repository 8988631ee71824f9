"""Qubicle ``qubicle_session`` documents (CONTRACT.md 2): one per queue visit, in the MoDB of
the month the caller left, with every offer that rang a recipient, rendered from the calls
of the floor (:mod:`.floor`) to Qubicle queues."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from typing import Any

from .clock import from_gregorian
from .floor import ANSWERED, QUBICLE, Call, Floor, simulate

SESSION_TYPE = "qubicle_session"


def _offer(ring_agent: str, start: int, end: int, outcome: str, talk: int) -> dict[str, Any]:
    """A ring as Qubicle records it: answered, rejected (declined), or missed (rang out, or
    the caller or the line hung up first)."""
    result = outcome if outcome in (ANSWERED, "rejected") else "missed"
    return {
        "recipient_id": ring_agent,
        "offered_timestamp": start,
        "result": result,
        "ring_time": end - start,
        "call_duration": talk if result == ANSWERED else 0,
    }


def session_doc(account_id: str, call: Call) -> dict[str, Any]:
    """One visit: answered, abandoned (the caller hung up or pressed the exit key) or timeout."""
    if call.handled is not None:
        result, left_queue = ANSWERED, call.handled
    else:
        assert call.left is not None
        result = "timeout" if call.reason == "member_timeout" else "abandoned"
        left_queue = call.left
    exited = left_queue + call.talk
    rings = sorted(call.rings, key=lambda r: (r.start, r.end))
    month = from_gregorian(exited)
    doc: dict[str, Any] = {
        "_id": f"{month.year:04d}{month.month:02d}-{call.call_id}-{call.queue.queue_id}",
        "pvt_type": SESSION_TYPE,
        "pvt_account_id": account_id,
        "pvt_created": exited,
        "queue_id": call.queue.queue_id,
        "call_id": call.call_id,
        "entered_timestamp": call.entered,
        "exited_timestamp": exited,
        "result": result,
        "wait_time": left_queue - call.entered,
    }
    if call.agent is not None:
        doc["recipient_id"] = call.agent
    doc["offers"] = [_offer(r.agent, r.start, r.end, r.outcome, call.talk) for r in rings]
    return doc


def render_sessions(account_id: str, floor: Floor) -> Iterator[dict[str, Any]]:
    """The floor's visits to Qubicle queues, in entry order."""
    for call in floor.calls:
        if call.queue.shape == QUBICLE:
            yield session_doc(account_id, call)


def generate_sessions(
    rng: random.Random,
    account_id: str,
    queue_ids: list[str],
    recipient_ids: list[str],
    start: date,
    days: int,
    calls_per_day: int,
) -> Iterator[dict[str, Any]]:
    """Yield ``qubicle_session`` docs for ``days`` UTC days from ``start``, in entry order, of
    a floor of Qubicle queues drawn from ``rng`` (see :mod:`.floor`)."""
    floor = simulate(rng, queue_ids, recipient_ids, QUBICLE, start, days, calls_per_day)
    return render_sessions(account_id, floor)
