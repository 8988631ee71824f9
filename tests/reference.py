"""Brute-force reference aggregation of raw ``qubicle_session`` documents, for tests only.

Written from CONTRACT.md sections 2-4 and the well-formedness rule of
``couch_design_docs/qubicle_reports/lib/session.js``, deliberately without importing any app
code, so that views and reports can be checked against something independent of them.

Everything is first aggregated into 15-minute UTC slots (an aware UTC ``datetime`` of the
slot start); any coarser bucket - UTC or local day, hour, week, month - is a roll-up of slots
by a ``key_fn(slot_datetime)``, see :func:`roll_up`.

Value arrays have the views' layout:
  queue:  ``[call_count, wait_time_sum, timeout_count, abandon_count]``
  offers: ``[answered, missed, rejected, call_duration_sum_answered, ring_time_sum_answered]``
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

GREGORIAN_OFFSET = 62167219200  # KAZOO Gregorian seconds - Unix seconds
MAX_UNIX = 253402300799  # 9999-12-31T23:59:59Z
VISIT_RESULTS = frozenset({"answered", "abandoned", "timeout"})
OFFER_RESULTS = frozenset({"answered", "missed", "rejected"})

Number = int | float
Values = list[Number]
Entity = Hashable  # a queue id, a recipient id, or a (recipient_id, queue_id) pair
SlotBuckets = dict[tuple[Entity, datetime], Values]

# metric names in the published API's order ("Available Metrics")
QUEUE_METRICS = ["avg_wait", "call_count", "timeout_count", "abandon_count"]
RECIPIENT_METRICS = [
    "call_count",
    "missed_call_count",
    "rejected_call_count",
    "avg_call_duration",
    "avg_ring_duration",
]


# -- the well-formedness rule (lib/session.js, in Python) ------------------------------------


def _is_json_number(v: object) -> bool:
    """A JSON number as JavaScript sees it: not a bool, and finite once made a double."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return False
    try:
        return math.isfinite(float(v))
    except OverflowError:  # an integer beyond double range parses as Infinity in JS
        return False


def is_number(v: object) -> bool:
    return _is_json_number(v) and v >= 0  # type: ignore[operator]


def is_id(v: object) -> bool:
    return isinstance(v, str) and len(v) > 0


def is_timestamp(v: object) -> bool:
    """An integral Gregorian second between 1970-01-01 and 9999-12-31 UTC."""
    if not _is_json_number(v) or not float(v).is_integer():  # type: ignore[arg-type]
        return False
    unix = v - GREGORIAN_OFFSET  # type: ignore[operator]
    return 0 <= unix <= MAX_UNIX


def is_valid_offer(o: object) -> bool:
    return (
        isinstance(o, dict)
        and is_id(o.get("recipient_id"))
        and is_timestamp(o.get("offered_timestamp"))
        and isinstance(o.get("result"), str)
        and o["result"] in OFFER_RESULTS
        and is_number(o.get("ring_time"))
        and is_number(o.get("call_duration"))
    )


def session(doc: object) -> dict[str, Any] | None:
    """The document when it is a well-formed, live ``qubicle_session``; else None (skipped)."""
    if not isinstance(doc, dict):
        return None
    if doc.get("pvt_type") != "qubicle_session" or doc.get("pvt_deleted") is True:
        return None
    if not is_id(doc.get("queue_id")) or not is_timestamp(doc.get("entered_timestamp")):
        return None
    if not isinstance(doc.get("result"), str) or doc["result"] not in VISIT_RESULTS:
        return None
    if not is_number(doc.get("wait_time")):
        return None
    offers = doc.get("offers", [])
    if not isinstance(offers, list) or not all(is_valid_offer(o) for o in offers):
        return None
    return doc


def is_well_formed(doc: object) -> bool:
    return session(doc) is not None


def offers_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return list(doc.get("offers", []))


# -- slots -----------------------------------------------------------------------------------


def utc(gregorian: int | float) -> datetime:
    return datetime.fromtimestamp(int(gregorian) - GREGORIAN_OFFSET, tz=UTC)


def quarter_slot(gregorian: int | float) -> datetime:
    """Start of the 15-minute UTC slot holding a Gregorian timestamp."""
    t = utc(gregorian)
    return t.replace(minute=t.minute - t.minute % 15, second=0, microsecond=0)


def _add(buckets: dict[Any, Values], key: Any, values: Values) -> None:
    acc = buckets.get(key)
    if acc is None:
        buckets[key] = list(values)
    else:
        for i, v in enumerate(values):
            acc[i] += v


def visit_values(doc: dict[str, Any]) -> Values:
    r = doc["result"]
    return [1, doc["wait_time"], int(r == "timeout"), int(r == "abandoned")]


def offer_values(offer: dict[str, Any]) -> Values:
    answered = offer["result"] == "answered"
    return [
        int(answered),
        int(offer["result"] == "missed"),
        int(offer["result"] == "rejected"),
        offer["call_duration"] if answered else 0,
        offer["ring_time"] if answered else 0,
    ]


def queue_buckets(docs: Iterable[object]) -> SlotBuckets:
    """{(queue_id, slot of entered_timestamp): [count, wait_sum, timeouts, abandons]}."""
    out: SlotBuckets = {}
    for doc in docs:
        s = session(doc)
        if s is not None:
            _add(out, (s["queue_id"], quarter_slot(s["entered_timestamp"])), visit_values(s))
    return out


def offer_buckets(docs: Iterable[object], by_queue: bool = False) -> SlotBuckets:
    """{(recipient_id or (recipient_id, queue_id), slot of offered_timestamp): offer values}."""
    out: SlotBuckets = {}
    for doc in docs:
        s = session(doc)
        if s is None:
            continue
        for o in offers_of(s):
            entity = (o["recipient_id"], s["queue_id"]) if by_queue else o["recipient_id"]
            _add(out, (entity, quarter_slot(o["offered_timestamp"])), offer_values(o))
    return out


# -- roll-ups --------------------------------------------------------------------------------


def roll_up(
    buckets: Mapping[tuple[Entity, datetime], Values], key_fn: Callable[[datetime], Hashable]
) -> dict[tuple[Entity, Hashable], Values]:
    """Sum slots into {(entity, key_fn(slot)): values}; ``key_fn`` sees the UTC slot start."""
    out: dict[tuple[Entity, Hashable], Values] = {}
    for (entity, slot), values in buckets.items():
        _add(out, (entity, key_fn(slot)), values)
    return out


def restrict(
    buckets: Mapping[tuple[Entity, datetime], Values],
    keep: Callable[[Entity, datetime], bool],
) -> SlotBuckets:
    """Only the slots ``keep(entity, slot)`` accepts (e.g. a date range, some entities)."""
    return {k: list(v) for k, v in buckets.items() if keep(*k)}


def utc_day(slot: datetime) -> str:
    return slot.strftime("%Y%m%d")


def by_utc_day(buckets: Mapping[tuple[Entity, datetime], Values]) -> dict[tuple, Values]:
    """{(entity, "YYYYMMDD")}: the rows of a ``*_by_day`` view at group_level 2."""
    return roll_up(buckets, utc_day)  # type: ignore[return-value]


def view_rows(
    buckets: Mapping[tuple[Entity, datetime], Values], group_level: int
) -> dict[tuple, Values]:
    """The rows of a ``*_by_quarter`` view at ``group_level`` 1-4, keyed like the view:
    (entity,), (entity, "YYYYMMDD"), (entity, "YYYYMMDD", hour), (entity, day, hour, quarter).
    """
    if not 1 <= group_level <= 4:
        raise ValueError(f"group_level {group_level}")

    def parts(slot: datetime) -> tuple[Any, ...]:
        return (utc_day(slot), slot.hour, slot.minute // 15)[: group_level - 1]

    return {(entity, *k): v for (entity, k), v in roll_up(buckets, parts).items()}  # type: ignore[misc]


# -- report periods (CONTRACT.md section 4), for whole-report checks ---------------------------


def local_date(tz: str | None) -> Callable[[datetime], date]:
    """key_fn: the date of the slot in ``tz`` (UTC when None)."""
    zone = ZoneInfo(tz) if tz else UTC
    return lambda slot: slot.astimezone(zone).date()


def period_key(period: str, day: date) -> str:
    """Bucket key of a day: daily YYYYMMDD, weekly %Y%U of the week's Sunday, monthly YYYYMM."""
    if period == "daily":
        return day.strftime("%Y%m%d")
    if period == "weekly":
        sunday = day - timedelta(days=(day.weekday() + 1) % 7)
        return sunday.strftime("%Y%U")
    if period == "monthly":
        return day.strftime("%Y%m")
    raise ValueError(f"period {period!r}")


def report_buckets(
    buckets: Mapping[tuple[Entity, datetime], Values],
    period: str,
    first: date,
    last: date,
    tz: str | None = None,
) -> dict[tuple[Entity, str], Values]:
    """{(entity, period key)}: slots whose local day is within [first, last], rolled up."""
    day_of = local_date(tz)
    kept = restrict(buckets, lambda _e, slot: first <= day_of(slot) <= last)
    return roll_up(kept, lambda slot: period_key(period, day_of(slot)))  # type: ignore[return-value]


def _avg(total: Number, n: Number) -> float:
    return round(total / n, 2) if n else 0


def queue_metrics(v: Values) -> dict[str, Number]:
    """CONTRACT.md section 3 queue metrics from ``[count, wait_sum, timeouts, abandons]``."""
    return {
        "call_count": v[0],
        "avg_wait": _avg(v[1], v[0]),
        "timeout_count": v[2],
        "abandon_count": v[3],
    }


def recipient_metrics(v: Values) -> dict[str, Number]:
    """CONTRACT.md section 3 recipient metrics from the offer values."""
    return {
        "call_count": v[0],
        "missed_call_count": v[1],
        "rejected_call_count": v[2],
        "avg_call_duration": _avg(v[3], v[0]),
        "avg_ring_duration": _avg(v[4], v[0]),
    }


# -- test documents --------------------------------------------------------------------------


def good_doc(
    account_id: str,
    queue_id: str,
    call_id: str,
    entered: int,
    *,
    result: str = "answered",
    wait: Number = 30,
    talk: int = 120,
    offers: list[dict[str, Any]] | None = None,
    recipient_id: str | None = None,
) -> dict[str, Any]:
    """A well-formed session; the MoDB prefix of ``_id`` is the UTC month of its exit."""
    exited = entered + wait + (talk if result == "answered" else 0)
    doc: dict[str, Any] = {
        "_id": f"{utc(exited).strftime('%Y%m')}-{call_id}-{queue_id}",
        "pvt_type": "qubicle_session",
        "pvt_account_id": account_id,
        "pvt_created": exited,
        "queue_id": queue_id,
        "call_id": call_id,
        "entered_timestamp": entered,
        "exited_timestamp": exited,
        "result": result,
        "wait_time": wait,
        "offers": offers if offers is not None else [],
    }
    if recipient_id is not None:
        doc["recipient_id"] = recipient_id
    return doc


def offer(
    recipient_id: str, at: int, result: str = "answered", ring: int = 5, talk: int = 0
) -> dict[str, Any]:
    return {
        "recipient_id": recipient_id,
        "offered_timestamp": at,
        "result": result,
        "ring_time": ring,
        "call_duration": talk if result == "answered" else 0,
    }


def malformed_docs(account_id: str, queue_id: str, recipient_id: str, entered: int) -> list[dict]:
    """Documents every view must skip whole, each with one flaw; ids are ``bad-<flaw>``.

    ``entered`` is a Gregorian second; the docs claim the month of ``entered`` (their
    exits are within 10 minutes of it).
    """
    month = utc(entered).strftime("%Y%m")

    def base(flaw: str) -> dict[str, Any]:
        doc = good_doc(
            account_id,
            queue_id,
            f"bad{flaw.replace('_', '')}",
            entered,
            wait=40,
            talk=100,
            offers=[
                offer(recipient_id, entered + 10, "missed", ring=20),
                offer(recipient_id, entered + 35, "answered", ring=5, talk=100),
            ],
            recipient_id=recipient_id,
        )
        doc["_id"] = f"{month}-bad-{flaw}"
        return doc

    cases: dict[str, Callable[[dict[str, Any]], None]] = {
        "no_queue_id": lambda d: d.pop("queue_id"),
        "empty_queue_id": lambda d: d.update(queue_id=""),
        "numeric_queue_id": lambda d: d.update(queue_id=42),
        "no_entered": lambda d: d.pop("entered_timestamp"),
        "no_result": lambda d: d.pop("result"),
        "no_wait": lambda d: d.pop("wait_time"),
        "no_pvt_type": lambda d: d.pop("pvt_type"),
        "string_entered": lambda d: d.update(entered_timestamp=str(entered)),
        "string_wait": lambda d: d.update(wait_time="40"),
        "string_ring": lambda d: d["offers"][1].update(ring_time="5"),
        "bool_wait": lambda d: d.update(wait_time=True),
        "wrong_pvt_type": lambda d: d.update(pvt_type="cdr"),
        "call_stat_type": lambda d: d.update(pvt_type="call_stat"),
        "unknown_result": lambda d: d.update(result="transferred"),
        "offers_object": lambda d: d.update(offers={"0": d["offers"][0]}),
        "offers_string": lambda d: d.update(offers="none"),
        "offers_null": lambda d: d.update(offers=None),
        "offer_null": lambda d: d["offers"].append(None),
        "offer_list": lambda d: d["offers"].append([recipient_id, entered + 1]),
        "offer_no_recipient": lambda d: d["offers"][0].pop("recipient_id"),
        "offer_no_timestamp": lambda d: d["offers"][1].pop("offered_timestamp"),
        "offer_no_result": lambda d: d["offers"][0].pop("result"),
        "offer_bad_result": lambda d: d["offers"][0].update(result="hungup"),
        "offer_no_call_duration": lambda d: d["offers"][1].pop("call_duration"),
        "offer_negative_ring": lambda d: d["offers"][0].update(ring_time=-3),
        "offer_float_timestamp": lambda d: d["offers"][1].update(offered_timestamp=entered + 35.5),
        "null_queue_id": lambda d: d.update(queue_id=None),
        "null_entered": lambda d: d.update(entered_timestamp=None),
        "null_wait": lambda d: d.update(wait_time=None),
        "null_result": lambda d: d.update(result=None),
        "float_entered": lambda d: d.update(entered_timestamp=entered + 0.25),
        "unix_entered": lambda d: d.update(entered_timestamp=entered - GREGORIAN_OFFSET - 1),
        "year_10000_entered": lambda d: d.update(entered_timestamp=GREGORIAN_OFFSET + MAX_UNIX + 1),
        "negative_wait": lambda d: d.update(wait_time=-5),
        "deleted": lambda d: d.update(pvt_deleted=True),
    }
    docs = []
    for flaw, spoil in cases.items():
        doc = base(flaw)
        spoil(doc)
        docs.append(doc)
    return docs
