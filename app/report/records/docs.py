"""A KAZOO document as the rows of the visits and offers reports (CONTRACT.md 8a). Pure.

The same reading as the views' map functions (couch_design_docs/qubicle_reports/lib: a
``qubicle_session`` or a ``call_stat`` as one visit and its offers, by the table of 2b, a
malformed document skipped whole), so a row is listed exactly where the view counted it.
Absent values stay absent, as KAZOO omits them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

GREGORIAN_OFFSET = 62167219200  # KAZOO Gregorian seconds - Unix seconds
MAX_TIMESTAMP = 2**37  # CONTRACT.md 2c, as lib/common.js
MAX_AMOUNT = 2**32 - 1
ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@:+-]{0,127}")
SESSION_RESULTS = frozenset({"answered", "abandoned", "timeout"})
OFFER_RESULTS = frozenset({"answered", "missed", "rejected"})
CALL_STAT_STATUSES = frozenset({"processed", "abandoned"})
TEXT_FIELDS = ("caller_id_name", "caller_id_number", "abandoned_reason")

Row = dict[str, Any]


def is_number(v: Any) -> bool:
    """A duration or count: a finite JSON number from 0 to 2^32 - 1 (never a boolean), as
    lib/common.js ``isNumber``."""
    return (
        not isinstance(v, bool)
        and isinstance(v, int | float)
        and math.isfinite(v)
        and 0 <= v <= MAX_AMOUNT
    )


def is_id(v: Any) -> bool:
    """An id a request may name (CONTRACT.md 2c), never ``total``."""
    return isinstance(v, str) and v != "total" and ID.fullmatch(v) is not None


def is_timestamp(v: Any) -> bool:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return False
    if isinstance(v, float) and not v.is_integer():
        return False
    return GREGORIAN_OFFSET <= v <= MAX_TIMESTAMP


def _absent_or(doc: dict[str, Any], name: str, check: Any) -> bool:
    return name not in doc or check(doc[name])


@dataclass(frozen=True)
class Offer:
    place: int  # its place among the document's offers, as the view emits them
    recipient: str
    at: int
    result: str
    ring: float | None  # ACDC records no ring time
    talk: float


@dataclass(frozen=True)
class Visit:
    doc: dict[str, Any]
    source: str  # the document's pvt_type
    queue: str
    entered: int
    result: str
    wait: float
    offers: tuple[Offer, ...]


def _session(doc: dict[str, Any]) -> Visit | None:
    if not (
        _absent_or(doc, "exited_timestamp", is_timestamp) and _absent_or(doc, "recipient_id", is_id)
    ):
        return None
    raw = doc.get("offers", [])
    if not isinstance(raw, list) or not isinstance(doc.get("result"), str):
        return None
    if doc["result"] not in SESSION_RESULTS:
        return None
    offers = []
    for place, o in enumerate(raw):
        if not (
            isinstance(o, dict)
            and is_id(o.get("recipient_id"))
            and is_timestamp(o.get("offered_timestamp"))
            and o.get("result") in OFFER_RESULTS
            and is_number(o.get("ring_time"))
            and is_number(o.get("call_duration"))
        ):
            return None
        offers.append(
            Offer(
                place,
                o["recipient_id"],
                int(o["offered_timestamp"]),
                o["result"],
                o["ring_time"],
                o["call_duration"],
            )
        )
    return Visit(
        doc,
        "qubicle_session",
        doc["queue_id"],
        int(doc["entered_timestamp"]),
        doc["result"],
        doc["wait_time"],
        tuple(offers),
    )


def _call_stat(doc: dict[str, Any]) -> Visit | None:
    sane = (
        _absent_or(doc, "agent_id", is_id)
        and all(
            _absent_or(doc, f"{t}_timestamp", is_timestamp)
            for t in ("handled", "processed", "abandoned")
        )
        and _absent_or(doc, "talk_time", is_number)
    )
    status = doc.get("status")
    if not sane:
        return None
    if not isinstance(status, str) or status not in CALL_STAT_STATUSES:
        return None
    processed = status == "processed"
    if processed and not (
        is_id(doc.get("agent_id"))
        and is_timestamp(doc.get("handled_timestamp"))
        and is_number(doc.get("talk_time"))
    ):
        return None
    misses = doc.get("misses", [])
    if not isinstance(misses, list):
        return None
    offers: list[Offer] = []
    for m in misses:
        if not (
            isinstance(m, dict)
            and is_id(m.get("agent_id"))
            and isinstance(m.get("reason"), str)
            and is_timestamp(m.get("timestamp"))
        ):
            return None
        if m["reason"] == "LOSE_RACE":
            continue  # another agent answered first: nobody's miss
        result = "rejected" if m["reason"] == "rejected" else "missed"
        offers.append(Offer(len(offers), m["agent_id"], int(m["timestamp"]), result, None, 0))
    if processed:
        offers.append(
            Offer(
                len(offers),
                doc["agent_id"],
                int(doc["handled_timestamp"]),
                "answered",
                None,
                doc["talk_time"],
            )
        )
    result = (
        "answered"
        if processed
        else "timeout"
        if doc.get("abandoned_reason") == "member_timeout"
        else "abandoned"
    )
    return Visit(
        doc,
        "call_stat",
        doc["queue_id"],
        int(doc["entered_timestamp"]),
        result,
        doc["wait_time"],
        tuple(offers),
    )


def visit_of(doc: Any) -> Visit | None:
    """The visit a document records, or None when the views skip it."""
    if not isinstance(doc, dict) or doc.get("pvt_deleted") is True:
        return None
    if not is_id(doc.get("queue_id")) or not is_timestamp(doc.get("entered_timestamp")):
        return None
    if not is_number(doc.get("wait_time")):
        return None
    kind = doc.get("pvt_type")
    if kind == "qubicle_session":
        return _session(doc)
    if kind == "call_stat":
        return _call_stat(doc)
    return None


def _text(doc: dict[str, Any], row: Row, *names: str) -> None:
    for name in names:
        value = doc.get(name)
        if isinstance(value, str):
            row[name] = value


def visit_row(v: Visit, when: Any) -> Row:
    """The visits report's row; ``when(gregorian)``: the ISO 8601 time in the report's zone."""
    doc = v.doc
    row: Row = {"id": doc.get("_id"), "source": v.source, "queue_id": v.queue}
    _text(doc, row, "call_id")
    row |= {"entered": when(v.entered), "entered_timestamp": v.entered, "result": v.result}
    row["wait_time"] = v.wait
    if v.result == "answered":
        if v.source == "call_stat":
            row["recipient_id"], row["talk_time"] = doc["agent_id"], doc["talk_time"]
        else:
            _text(doc, row, "recipient_id")
            answered = [o for o in v.offers if o.result == "answered"]
            who = [o for o in answered if o.recipient == row.get("recipient_id")] or answered
            if who:
                row["talk_time"] = who[-1].talk
    _text(doc, row, *TEXT_FIELDS)
    return row


def offer_row(v: Visit, o: Offer, when: Any) -> Row:
    """The offers report's row of one offer of a visit."""
    doc = v.doc
    row: Row = {
        "id": doc.get("_id"),
        "source": v.source,
        "recipient_id": o.recipient,
        "queue_id": v.queue,
    }
    _text(doc, row, "call_id")
    row |= {"offered": when(o.at), "offered_timestamp": o.at, "result": o.result}
    if o.ring is not None:
        row["ring_time"] = o.ring
    row["call_duration"] = o.talk  # as stored: talk seconds of an answered offer, else 0
    return row
