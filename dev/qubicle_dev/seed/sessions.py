"""Qubicle ``qubicle_session`` documents (CONTRACT.md 2): one per queue visit, in the MoDB of
the month the caller left, with every offer that rang a recipient."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from .arrivals import day_arrivals
from .clock import DAY, from_gregorian, random_hex_id
from .queues import QubicleQueue, plan_qubicle_queues

SESSION_TYPE = "qubicle_session"
RESULT_WEIGHTS = (("answered", 0.82), ("abandoned", 0.13), ("timeout", 0.05))
MAX_OFFERS = 10


def _failed_offer(rng: random.Random, recipient: str, at: int) -> dict[str, Any]:
    """A ring nobody took: missed (rang out) or rejected (declined quickly)."""
    if rng.random() < 0.75:
        result, ring = "missed", rng.randint(15, 25)
    else:
        result, ring = "rejected", rng.randint(1, 8)
    return {
        "recipient_id": recipient,
        "offered_timestamp": at,
        "result": result,
        "ring_time": ring,
        "call_duration": 0,
    }


def _visit(
    rng: random.Random,
    account_id: str,
    queue: QubicleQueue,
    entered: int,
    *,
    force_answered: bool = False,
    min_talk: int = 0,
) -> dict[str, Any]:
    """One queue visit entering at ``entered`` (Gregorian seconds), with its offers."""
    if force_answered:
        result = "answered"
    else:
        result = rng.choices([r for r, _ in RESULT_WEIGHTS], [w for _, w in RESULT_WEIGHTS])[0]
    order = list(queue.recipients)
    rng.shuffle(order)
    t = entered + max(1, round(rng.expovariate(1.0 / queue.first_offer_mean)))
    offers: list[dict[str, Any]] = []
    answered_by: str | None = None
    talk = 0
    if result == "answered":
        failures = 0
        while failures < MAX_OFFERS - 1 and rng.random() < 0.35:
            failures += 1
        for i in range(failures):
            offer = _failed_offer(rng, order[i % len(order)], t)
            offers.append(offer)
            t += offer["ring_time"] + rng.randint(1, 10)
        answered_by = order[failures % len(order)]
        ring = rng.randint(2, 14)
        talk = max(min_talk, 5, round(rng.lognormvariate(math.log(150), 0.7)))
        offers.append(
            {
                "recipient_id": answered_by,
                "offered_timestamp": t,
                "result": "answered",
                "ring_time": ring,
                "call_duration": talk,
            }
        )
        left_queue = t + ring
    else:
        if result == "timeout":
            left_queue = entered + queue.timeout
        else:
            left_queue = entered + max(1, round(rng.expovariate(1.0 / queue.abandon_mean)))
        i = 0
        while len(offers) < MAX_OFFERS:
            offer = _failed_offer(rng, order[i % len(order)], t)
            if t + offer["ring_time"] > left_queue:
                break  # the caller was gone before this ring would have ended
            offers.append(offer)
            t += offer["ring_time"] + rng.randint(1, 10)
            i += 1
    exited = left_queue + talk
    call_id = random_hex_id(rng)
    month = from_gregorian(exited)
    doc: dict[str, Any] = {
        "_id": f"{month.year:04d}{month.month:02d}-{call_id}-{queue.queue_id}",
        "pvt_type": SESSION_TYPE,
        "pvt_account_id": account_id,
        "pvt_created": exited,
        "queue_id": queue.queue_id,
        "call_id": call_id,
        "entered_timestamp": entered,
        "exited_timestamp": exited,
        "result": result,
        "wait_time": left_queue - entered,
    }
    if answered_by is not None:
        doc["recipient_id"] = answered_by
    doc["offers"] = offers
    return doc


def generate_sessions(
    rng: random.Random,
    account_id: str,
    queue_ids: list[str],
    recipient_ids: list[str],
    start: date,
    days: int,
    calls_per_day: int,
) -> Iterator[dict[str, Any]]:
    """Yield ``qubicle_session`` docs for ``days`` UTC days from ``start``, in entry order.

    Weekdays are busier than weekends and arrivals follow :data:`HOURLY_WEIGHTS`. Every day
    also has one long call entering in its last quarter hour that ends after midnight, so
    data always has visits straddling midnight (and month ends, when the range has one).
    """
    queues = plan_qubicle_queues(rng, queue_ids, recipient_ids)
    queue_weights = [q.weight for q in queues]
    for offset in range(days):
        midnight, arrivals = day_arrivals(
            rng, start + timedelta(days=offset), calls_per_day, queues, queue_weights, special=1
        )
        visits = [_visit(rng, account_id, queue, entered) for entered, queue in arrivals]
        # the guaranteed straddler: enters 23:45-23:59:30, talks well past midnight
        entered = midnight + DAY - rng.randint(30, 900)
        queue = rng.choices(queues, queue_weights)[0]
        visits.append(_visit(rng, account_id, queue, entered, force_answered=True, min_talk=960))
        visits.sort(key=lambda d: (d["entered_timestamp"], d["_id"]))
        yield from visits
