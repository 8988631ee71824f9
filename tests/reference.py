"""Brute-force reference aggregation of raw KAZOO documents, for tests only.

Written from CONTRACT.md sections 2-4 (``qubicle_session``), 2b (ACDC ``call_stat``), 3b
(KPIs) and 3c (totals), deliberately without importing any app code, so that views and
reports can be checked against something independent of them.

Two ways in:

- Normalised records (:func:`visits`, :func:`offers`): both document shapes turned into the
  same plain dicts by the contract's table, then :func:`expected_report` computes a whole
  API report from them, metric by metric (:func:`queue_metric_values`,
  :func:`recipient_metric_values`). This is what the API tests compare against.
- 15-minute UTC slots (an aware UTC ``datetime`` of the slot start) of summed value arrays,
  with the views' layout, for the view tests: any coarser bucket - UTC or local day, hour,
  week, month - is a roll-up of slots by a ``key_fn(slot_datetime)``, see :func:`roll_up`.

Value arrays (slots):
  queue:  ``[call_count, wait_time_sum, timeout_count, abandon_count]``
  offers: ``[answered, missed, rejected, call_duration_sum_answered, ring_time_sum_answered]``
          and, with ``with_rung=True``, a sixth: answered offers that have a ring time
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

GREGORIAN_OFFSET = 62167219200  # KAZOO Gregorian seconds - Unix seconds
MAX_UNIX = 253402300799  # 9999-12-31T23:59:59Z
# CONTRACT.md 2c: the values a document may hold
MAX_TIMESTAMP = 2**37  # Gregorian seconds
MAX_AMOUNT = 2**32 - 1  # seconds of a duration, or a count
ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.@:+-")
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
# CONTRACT.md 3b: every metric by name (the published ones first, in the published order)
QUEUE_KPIS = [
    "answered_count",
    "service_level",
    "answer_rate",
    "abandon_rate",
    "avg_answer_speed",
    "avg_abandon_time",
    "max_wait",
]
RECIPIENT_KPIS = ["offered_count", "answer_rate", "total_call_duration"]
QUEUE_ALL_METRICS = [*QUEUE_METRICS, *QUEUE_KPIS]
RECIPIENT_ALL_METRICS = [*RECIPIENT_METRICS, *RECIPIENT_KPIS]
THRESHOLDS = [5, 10, 15, 20, 25, 30, 40, 45, 60, 75, 90, 120, 180, 240, 300, 600]
DEFAULT_THRESHOLD = 20

# ACDC call_stat (CONTRACT.md 2b)
CALL_STAT_STATUSES = frozenset({"processed", "abandoned"})
TIMEOUT_REASON = "member_timeout"  # the one abandon reason that counts as a timeout
LOSE_RACE = "LOSE_RACE"  # a miss that is nobody's miss


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
    """A duration or count (2c): finite, 0 to 2^32 - 1."""
    return _is_json_number(v) and 0 <= v <= MAX_AMOUNT  # type: ignore[operator]


def is_id(v: object) -> bool:
    """An entity id (2c): 1-128 allowed characters, a letter or digit first, not ``total``."""
    return (
        isinstance(v, str)
        and 1 <= len(v) <= 128
        and set(v) <= ID_CHARS
        and v[0].isascii()
        and v[0].isalnum()
        and v != "total"
    )


def is_timestamp(v: object) -> bool:
    """An integral Gregorian second from 1970-01-01 UTC (earlier: Unix seconds stored by
    mistake) to 2^37 (2c)."""
    if not _is_json_number(v) or not float(v).is_integer():  # type: ignore[arg-type]
        return False
    return GREGORIAN_OFFSET <= v <= MAX_TIMESTAMP  # type: ignore[operator]


def absent_or(doc: Mapping[str, Any], name: str, check: Callable[[object], bool]) -> bool:
    """A field the shape may leave out: absent, or sane (2c: every value a document holds)."""
    return name not in doc or check(doc[name])


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
    if not absent_or(doc, "exited_timestamp", is_timestamp) or not absent_or(
        doc, "recipient_id", is_id
    ):
        return None
    offers = doc.get("offers", [])
    if not isinstance(offers, list) or not all(is_valid_offer(o) for o in offers):
        return None
    return doc


def is_well_formed(doc: object) -> bool:
    """A well-formed ``qubicle_session`` (what the session tests mean by well formed)."""
    return session(doc) is not None


def offers_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return list(doc.get("offers", []))


def is_valid_miss(m: object) -> bool:
    return (
        isinstance(m, dict)
        and is_id(m.get("agent_id"))
        and isinstance(m.get("reason"), str)
        and is_timestamp(m.get("timestamp"))
    )


def call_stat(doc: object) -> dict[str, Any] | None:
    """The document when it is a well-formed, live ACDC ``call_stat`` (CONTRACT.md 2b, the
    paragraph "A call_stat is well formed when ..."); else None (skipped whole)."""
    if not isinstance(doc, dict):
        return None
    if doc.get("pvt_type") != "call_stat" or doc.get("pvt_deleted") is True:
        return None
    if not is_id(doc.get("queue_id")) or not is_timestamp(doc.get("entered_timestamp")):
        return None
    held = [("agent_id", is_id), ("talk_time", is_number)] + [
        (f"{name}_timestamp", is_timestamp) for name in ("handled", "processed", "abandoned")
    ]
    if not all(absent_or(doc, name, check) for name, check in held):
        return None
    status = doc.get("status")
    if not isinstance(status, str) or status not in CALL_STAT_STATUSES:
        return None
    if not is_number(doc.get("wait_time")):
        return None
    if "misses" in doc:  # present (even as null) means it must be a list of good misses
        misses = doc["misses"]
        if not isinstance(misses, list) or not all(is_valid_miss(m) for m in misses):
            return None
    if status == "processed" and not (
        is_id(doc.get("agent_id"))
        and is_timestamp(doc.get("handled_timestamp"))
        and is_number(doc.get("talk_time"))
    ):
        return None
    return doc


def is_counted(doc: object) -> bool:
    """Counted by the reports: a well-formed session or a well-formed call_stat."""
    return session(doc) is not None or call_stat(doc) is not None


# -- normalised records: both shapes, by the contract's table ---------------------------------

Record = dict[str, Any]


def visits(docs: Iterable[object]) -> list[Record]:
    """Queue visits ``{queue_id, entered, result, wait}`` of every counted document.

    ``result`` is ``answered`` | ``abandoned`` | ``timeout``; a ``call_stat`` maps as
    CONTRACT.md 2b says: processed -> answered; abandoned with reason ``member_timeout`` ->
    timeout; any other abandon (or none) -> abandoned.
    """
    out: list[Record] = []
    for doc in docs:
        s = session(doc)
        if s is not None:
            out.append(
                {
                    "queue_id": s["queue_id"],
                    "entered": s["entered_timestamp"],
                    "result": s["result"],
                    "wait": s["wait_time"],
                }
            )
            continue
        c = call_stat(doc)
        if c is None:
            continue
        if c["status"] == "processed":
            result = "answered"
        elif c.get("abandoned_reason") == TIMEOUT_REASON:
            result = "timeout"
        else:
            result = "abandoned"
        out.append(
            {
                "queue_id": c["queue_id"],
                "entered": c["entered_timestamp"],
                "result": result,
                "wait": c["wait_time"],
            }
        )
    return out


def offers(docs: Iterable[object]) -> list[Record]:
    """Offers ``{recipient_id, queue_id, at, result, ring, talk}`` of every counted document.

    ``result`` is ``answered`` | ``missed`` | ``rejected``; ``ring`` is None where the data
    has no ring time (ACDC); ``talk`` is the talk seconds of an answered offer, else 0. A
    processed ``call_stat`` is an answered offer to its agent at ``handled_timestamp``; each
    miss is ``rejected`` (reason ``rejected``), nothing (``LOSE_RACE``) or ``missed``.
    """
    out: list[Record] = []
    for doc in docs:
        s = session(doc)
        if s is not None:
            for o in offers_of(s):
                answered = o["result"] == "answered"
                out.append(
                    {
                        "recipient_id": o["recipient_id"],
                        "queue_id": s["queue_id"],
                        "at": o["offered_timestamp"],
                        "result": o["result"],
                        "ring": o["ring_time"],
                        "talk": o["call_duration"] if answered else 0,
                    }
                )
            continue
        c = call_stat(doc)
        if c is None:
            continue
        if c["status"] == "processed":
            out.append(
                {
                    "recipient_id": c["agent_id"],
                    "queue_id": c["queue_id"],
                    "at": c["handled_timestamp"],
                    "result": "answered",
                    "ring": None,
                    "talk": c["talk_time"],
                }
            )
        for m in c.get("misses", []):
            if m["reason"] == LOSE_RACE:
                continue
            out.append(
                {
                    "recipient_id": m["agent_id"],
                    "queue_id": c["queue_id"],
                    "at": m["timestamp"],
                    "result": "rejected" if m["reason"] == "rejected" else "missed",
                    "ring": None,
                    "talk": 0,
                }
            )
    return out


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


def record_visit_values(v: Record) -> Values:
    r = v["result"]
    return [1, v["wait"], int(r == "timeout"), int(r == "abandoned")]


def record_queue_view_values(v: Record, thresholds: Iterable[int] = THRESHOLDS) -> Values:
    """A visit in the ``queue_visits_by_quarter`` layout, before trailing zeros are dropped:
    the visit values, wait if answered, wait if abandoned, then one wait band per threshold,
    1 at the lowest threshold an answered visit waited at most (CONTRACT.md 3b: "answered
    within T" is the sum of the bands up to T)."""
    answered = v["result"] == "answered"
    limits = list(thresholds)
    bands = [0] * len(limits)
    if answered:
        first = next((i for i, t in enumerate(limits) if v["wait"] <= t), None)
        if first is not None:
            bands[first] = 1
    return [
        *record_visit_values(v),
        v["wait"] if answered else 0,
        v["wait"] if v["result"] == "abandoned" else 0,
        *bands,
    ]


def record_offer_view_values(o: Record) -> Values:
    """An offer in the ``offers_by_*`` views' layout, before trailing zeros are dropped:
    answered, talk, ring, rung, missed, rejected."""
    answered, missed, rejected, talk, ring, rung = record_offer_values(o, with_rung=True)
    return [answered, talk, ring, rung, missed, rejected]


def trimmed(values: Values) -> Values:
    """``values`` without its trailing zeros, as the views emit and _sum adds them."""
    out = list(values)
    while out and out[-1] == 0:
        out.pop()
    return out


def record_offer_values(o: Record, with_rung: bool = False) -> Values:
    answered = o["result"] == "answered"
    rung = answered and o["ring"] is not None
    values: Values = [
        int(answered),
        int(o["result"] == "missed"),
        int(o["result"] == "rejected"),
        o["talk"] if answered else 0,
        o["ring"] if rung else 0,
    ]
    if with_rung:
        values.append(int(rung))
    return values


def queue_buckets(docs: Iterable[object]) -> SlotBuckets:
    """{(queue_id, slot of entered_timestamp): [count, wait_sum, timeouts, abandons]}, over
    sessions and call_stats alike."""
    out: SlotBuckets = {}
    for v in visits(docs):
        _add(out, (v["queue_id"], quarter_slot(v["entered"])), record_visit_values(v))
    return out


def offer_buckets(
    docs: Iterable[object], by_queue: bool = False, with_rung: bool = False
) -> SlotBuckets:
    """{(recipient_id or (recipient_id, queue_id), slot of the offer's time): offer values},
    over sessions and call_stats alike; ``with_rung`` adds the sixth value (answered offers
    that have a ring time, the divisor of ``avg_ring_duration``)."""
    out: SlotBuckets = {}
    for o in offers(docs):
        entity = (o["recipient_id"], o["queue_id"]) if by_queue else o["recipient_id"]
        _add(out, (entity, quarter_slot(o["at"])), record_offer_values(o, with_rung))
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
        "avg_ring_duration": _avg(v[4], v[5] if len(v) > 5 else v[0]),
    }


# -- every metric from records (CONTRACT.md 3, 3b) ---------------------------------------------


def _rate(part: Number, whole: Number) -> float:
    return round(100 * part / whole, 2) if whole else 0


def queue_metric_values(
    bucket: Iterable[Record], threshold: int = DEFAULT_THRESHOLD
) -> dict[str, Number]:
    """Every queue metric of one bucket of visits (:func:`visits` records)."""
    vs = list(bucket)
    n = len(vs)
    answered = [v for v in vs if v["result"] == "answered"]
    abandoned = [v for v in vs if v["result"] == "abandoned"]
    timeouts = sum(1 for v in vs if v["result"] == "timeout")
    within = sum(1 for v in answered if v["wait"] <= threshold)
    return {
        "avg_wait": _avg(sum(v["wait"] for v in vs), n),
        "call_count": n,
        "timeout_count": timeouts,
        "abandon_count": len(abandoned),
        "answered_count": len(answered),
        "service_level": _rate(within, n),
        "answer_rate": _rate(len(answered), n),
        "abandon_rate": _rate(len(abandoned), n),
        "avg_answer_speed": _avg(sum(v["wait"] for v in answered), len(answered)),
        "avg_abandon_time": _avg(sum(v["wait"] for v in abandoned), len(abandoned)),
        "max_wait": max((v["wait"] for v in vs), default=0),
    }


def recipient_metric_values(bucket: Iterable[Record]) -> dict[str, Number]:
    """Every recipient metric of one bucket of offers (:func:`offers` records).

    ``avg_ring_duration`` divides by the answered offers that have a ring time only.
    """
    os_ = list(bucket)
    answered = [o for o in os_ if o["result"] == "answered"]
    rung = [o for o in answered if o["ring"] is not None]
    talk = sum(o["talk"] for o in answered)
    return {
        "call_count": len(answered),
        "missed_call_count": sum(1 for o in os_ if o["result"] == "missed"),
        "rejected_call_count": sum(1 for o in os_ if o["result"] == "rejected"),
        "avg_call_duration": _avg(talk, len(answered)),
        "avg_ring_duration": _avg(sum(o["ring"] for o in rung), len(rung)),
        "offered_count": len(os_),
        "answer_rate": _rate(len(answered), len(os_)),
        "total_call_duration": talk,
    }


# -- whole API reports (CONTRACT.md 3-4) ---------------------------------------------------------


def _day(value: str | date) -> date:
    """The day of a request's ``start_date``/``end_date`` (an ISO date or date-time)."""
    if isinstance(value, date):
        return value
    return date.fromisoformat(value[:10])


def bucket_key(period: str, zone: ZoneInfo | Any) -> Callable[[datetime], str]:
    """key_fn of an aware datetime: its bucket key in ``zone`` (hourly: YYYYMMDDHH local)."""
    if period == "hourly":
        return lambda t: t.astimezone(zone).strftime("%Y%m%d%H")
    return lambda t: period_key(period, t.astimezone(zone).date())


def bucket_keys(period: str, first: date, last: date, zone: ZoneInfo | Any) -> list[str]:
    """Every bucket overlapping the local days [first, last], in order: found by walking
    every 15-minute UTC step of the local range (every zone offset is a multiple of it)."""
    key = bucket_key(period, zone)
    t = datetime.combine(first, time(0), zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), zone).astimezone(UTC)
    keys: list[str] = []
    seen: set[str] = set()
    while t < end:
        k = key(t)
        if k not in seen:
            seen.add(k)
            keys.append(k)
        t += timedelta(minutes=15)
    return keys


def expected_report(
    docs: Iterable[object], params: Mapping[str, Any], *, today: date | None = None
) -> list[dict[str, Any]]:
    """The ``report`` list an API request with ``params`` (its ``data``) must answer.

    ``[{"id": entity, "data": {metric: {bucket: value, ...[, "total": v]}}}, ...]`` plus,
    with ``totals``, a last ``{"id": "total", ...}`` over every entity of the report. Each
    record counts in the bucket of its time in the report's zone, if its local day is in
    [start_date, end_date]. Entities: ``identifiers`` in their order, each once (unknown
    ones all zeros), else every entity with at least one counted record in range, sorted. Totals and
    the total item come from the raw records, never from rounded figures.
    """
    report = params["report"]
    zone: Any = ZoneInfo(params["timezone"]) if params.get("timezone") else UTC
    period = params.get("period") or "daily"
    first = _day(params["start_date"])
    last = _day(params.get("end_date") or today or datetime.now(UTC).date())
    threshold = params.get("service_level_threshold", DEFAULT_THRESHOLD)
    totals = params.get("totals") is True
    if report == "queues":
        records = [(v["queue_id"], v["entered"], v) for v in visits(docs)]
        metrics = list(params.get("metrics") or QUEUE_METRICS)

        def values(bucket: list[Record]) -> dict[str, Number]:
            return queue_metric_values(bucket, threshold)

    elif report == "recipients":
        queue_ids = params.get("queue_ids")
        records = [
            (o["recipient_id"], o["at"], o)
            for o in offers(docs)
            if queue_ids is None or o["queue_id"] in queue_ids
        ]
        metrics = list(params.get("metrics") or RECIPIENT_METRICS)
        values = recipient_metric_values
    else:
        raise ValueError(f"report {report!r}")

    key = bucket_key(period, zone)
    keys = bucket_keys(period, first, last, zone)
    grouped: dict[str, dict[str, list[Record]]] = {}
    for entity, ts, rec in records:
        moment = utc(ts)
        if first <= moment.astimezone(zone).date() <= last:
            grouped.setdefault(entity, {}).setdefault(key(moment), []).append(rec)

    def series(buckets: Mapping[str, list[Record]]) -> dict[str, dict[str, Number]]:
        per_bucket = {k: values(buckets.get(k, [])) for k in keys}
        out = {m: {k: per_bucket[k][m] for k in keys} for m in metrics}
        if totals:
            whole = values([r for k in keys for r in buckets.get(k, [])])
            for m in metrics:
                out[m]["total"] = whole[m]
        return out

    entities = list(dict.fromkeys(params.get("identifiers") or sorted(grouped)))
    items = [{"id": e, "data": series(grouped.get(e, {}))} for e in entities]
    if totals:
        merged: dict[str, list[Record]] = {}
        for e in entities:
            for k, recs in grouped.get(e, {}).items():
                merged.setdefault(k, []).extend(recs)
        items.append({"id": "total", "data": series(merged)})
    return items


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
    # KAZOO's timestamps are whole seconds even where the wait is not (2c)
    exited = entered + math.ceil(wait) + (talk if result == "answered" else 0)
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


# -- ACDC call_stat test documents (CONTRACT.md 2b) ----------------------------------------------

ARCHIVE_DELAY = 3600  # KAZOO's default acdc archive_window_s: archived ~1 h after entering


def encoded_modb(account_id: str, month: str) -> str:
    """``pvt_account_db`` as KAZOO writes it: the encoded MoDB name (``month`` YYYYMM)."""
    a = account_id
    return f"account%2F{a[:2]}%2F{a[2:4]}%2F{a[4:]}-{month}"


def archive_month(doc: Mapping[str, Any]) -> str:
    """YYYYMM of the MoDB a call_stat is stored in: the UTC month it was archived."""
    return utc(doc["pvt_created"]).strftime("%Y%m")


def miss(agent_id: str, at: int, reason: str = "timeout") -> dict[str, Any]:
    return {"agent_id": agent_id, "reason": reason, "timestamp": at}


def good_call_stat(
    account_id: str,
    queue_id: str,
    call_id: str,
    entered: int,
    *,
    status: str = "processed",
    wait: int = 30,
    talk: int = 120,
    agent_id: str | None = None,
    misses: list[dict[str, Any]] | None = None,
    abandoned_reason: str | None = "member_hangup",
    archived: int | None = None,
) -> dict[str, Any]:
    """A well-formed call_stat, as KAZOO's archiver writes it: absent values omitted, stored
    (``pvt_created``, ``pvt_account_db``) at ``archived``, by default an hour after
    ``entered`` or when the call ended if later. ``misses`` are kept in the order given."""
    end = entered + wait + (talk if status == "processed" else 0)
    at = archived if archived is not None else max(entered + ARCHIVE_DELAY, end + 30)
    doc: dict[str, Any] = {
        "_id": f"{call_id}::{queue_id}",
        "call_id": call_id,
        "queue_id": queue_id,
        "entered_timestamp": entered,
        "misses": misses if misses is not None else [],
        "status": status,
        "caller_id_name": "Test Caller",
        "caller_id_number": "+15555550100",
        "wait_time": wait,
    }
    if status == "processed":
        if agent_id is None:
            raise ValueError("a processed call has an agent")
        doc.update(
            agent_id=agent_id,
            handled_timestamp=entered + wait,
            processed_timestamp=end,
            hung_up_by="member",
            talk_time=talk,
        )
    else:
        doc["abandoned_timestamp"] = entered + wait
        if abandoned_reason is not None:
            doc["abandoned_reason"] = abandoned_reason
    doc.update(
        pvt_type="call_stat",
        pvt_account_id=account_id,
        pvt_account_db=encoded_modb(account_id, utc(at).strftime("%Y%m")),
        pvt_created=at,
        pvt_modified=at,
    )
    return doc


def malformed_call_stats(
    account_id: str, queue_id: str, agent_id: str, entered: int
) -> list[dict[str, Any]]:
    """call_stats every view must skip whole, each with exactly one flaw; ids are
    ``bad-<flaw>::<queue_id>``. Each is otherwise a good processed call (answered by
    ``agent_id``, with a ``timeout`` and a ``rejected`` miss of ``agent_id`` in it) or, for
    the ``abandoned_*`` flaws, a good abandoned one, so a document that is wrongly counted
    shows in that queue's and that agent's figures. All are archived in the UTC month of
    ``entered`` when ``entered`` is not in the last hour and a half of a month.
    """

    def base(flaw: str) -> dict[str, Any]:
        abandoned = flaw.startswith("abandoned_")
        doc = good_call_stat(
            account_id,
            queue_id,
            f"bad-{flaw}",
            entered,
            status="abandoned" if abandoned else "processed",
            wait=40,
            talk=100,
            agent_id=agent_id,
            misses=[
                miss(agent_id, entered + 25, "rejected"),
                miss(agent_id, entered + 5, "timeout"),
            ],
            abandoned_reason="member_timeout" if flaw.endswith("_timeout") else "member_hangup",
        )
        return doc

    def set_miss(i: int, **fields: Any) -> Callable[[dict[str, Any]], None]:
        return lambda d: d["misses"][i].update(fields)

    def drop_miss(i: int, name: str) -> Callable[[dict[str, Any]], None]:
        return lambda d: d["misses"][i].pop(name)

    cases: dict[str, Callable[[dict[str, Any]], None]] = {
        "no_pvt_type": lambda d: d.pop("pvt_type"),
        "summary_stat_type": lambda d: d.update(pvt_type="call_summary_stat"),
        "session_type": lambda d: d.update(pvt_type="qubicle_session"),
        "deleted": lambda d: d.update(pvt_deleted=True),
        "no_queue_id": lambda d: d.pop("queue_id"),
        "empty_queue_id": lambda d: d.update(queue_id=""),
        "numeric_queue_id": lambda d: d.update(queue_id=42),
        "null_queue_id": lambda d: d.update(queue_id=None),
        "no_entered": lambda d: d.pop("entered_timestamp"),
        "null_entered": lambda d: d.update(entered_timestamp=None),
        "string_entered": lambda d: d.update(entered_timestamp=str(entered)),
        "float_entered": lambda d: d.update(entered_timestamp=entered + 0.5),
        "bool_entered": lambda d: d.update(entered_timestamp=True),
        "unix_entered": lambda d: d.update(entered_timestamp=entered - GREGORIAN_OFFSET),
        "year_10000_entered": lambda d: d.update(entered_timestamp=GREGORIAN_OFFSET + MAX_UNIX + 1),
        "no_status": lambda d: d.pop("status"),
        "null_status": lambda d: d.update(status=None),
        "status_waiting": lambda d: d.update(status="waiting"),
        "status_handled": lambda d: d.update(status="handled"),
        "status_upper_case": lambda d: d.update(status="PROCESSED"),
        "status_list": lambda d: d.update(status=["processed"]),
        "no_wait": lambda d: d.pop("wait_time"),
        "null_wait": lambda d: d.update(wait_time=None),
        "string_wait": lambda d: d.update(wait_time="40"),
        "bool_wait": lambda d: d.update(wait_time=True),
        "negative_wait": lambda d: d.update(wait_time=-1),
        "misses_null": lambda d: d.update(misses=None),
        "misses_object": lambda d: d.update(misses={"0": d["misses"][0]}),
        "misses_string": lambda d: d.update(misses="timeout"),
        "miss_null": lambda d: d["misses"].append(None),
        "miss_string": lambda d: d["misses"].append(agent_id),
        "miss_no_agent_id": drop_miss(0, "agent_id"),
        "miss_empty_agent_id": set_miss(1, agent_id=""),
        "miss_null_agent_id": set_miss(0, agent_id=None),
        "miss_numeric_reason": set_miss(0, reason=486),
        "miss_no_reason": drop_miss(1, "reason"),
        "miss_null_reason": set_miss(1, reason=None),
        "miss_float_timestamp": set_miss(0, timestamp=entered + 25.5),
        "miss_string_timestamp": set_miss(1, timestamp=str(entered + 5)),
        "miss_no_timestamp": drop_miss(0, "timestamp"),
        "processed_no_agent_id": lambda d: d.pop("agent_id"),
        "processed_empty_agent_id": lambda d: d.update(agent_id=""),
        "processed_null_agent_id": lambda d: d.update(agent_id=None),
        "processed_numeric_agent_id": lambda d: d.update(agent_id=7),
        "processed_no_handled": lambda d: d.pop("handled_timestamp"),
        "processed_null_handled": lambda d: d.update(handled_timestamp=None),
        "processed_string_handled": lambda d: d.update(handled_timestamp=str(entered + 40)),
        "processed_float_handled": lambda d: d.update(handled_timestamp=entered + 40.25),
        "processed_no_talk": lambda d: d.pop("talk_time"),
        "processed_null_talk": lambda d: d.update(talk_time=None),
        "processed_string_talk": lambda d: d.update(talk_time="100"),
        "processed_negative_talk": lambda d: d.update(talk_time=-100),
        "abandoned_no_wait": lambda d: d.pop("wait_time"),
        "abandoned_negative_wait_timeout": lambda d: d.update(wait_time=-40),
        "abandoned_string_entered": lambda d: d.update(entered_timestamp=str(entered)),
        "abandoned_misses_null": lambda d: d.update(misses=None),
    }
    docs = []
    for flaw, spoil in cases.items():
        doc = base(flaw)
        spoil(doc)
        docs.append(doc)
    return docs


# -- comparing an API answer with the expected one ---------------------------------------------

COUNT_METRICS = frozenset(
    {
        "call_count",
        "timeout_count",
        "abandon_count",
        "answered_count",
        "missed_call_count",
        "rejected_call_count",
        "offered_count",
    }
)


def _close(got: object, want: Number) -> bool:
    if isinstance(got, bool) or not isinstance(got, int | float):
        return False
    return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9)


def report_differences(got: object, expected: list[dict[str, Any]]) -> list[str]:
    """Every way the ``report`` list of an answer differs from :func:`expected_report`'s, as
    "where: expected X, got Y" lines (empty when equal). Keys must come in the same order;
    counts must be JSON integers."""
    if not isinstance(got, list):
        return [f"report: expected a list, got {got!r:.200}"]
    diffs: list[str] = []
    got_ids = [i.get("id") if isinstance(i, dict) else i for i in got]
    want_ids = [i["id"] for i in expected]
    if got_ids != want_ids:
        diffs.append(f"ids: expected {want_ids}, got {got_ids}")
    by_id = {i.get("id"): i.get("data") for i in got if isinstance(i, dict)}
    for item in expected:
        entity, want = item["id"], item["data"]
        have = by_id.get(entity)
        if not isinstance(have, dict):
            continue
        if list(have) != list(want):
            diffs.append(f"{entity}: metrics expected {list(want)}, got {list(have)}")
        for metric, series in want.items():
            got_series = have.get(metric)
            if not isinstance(got_series, dict):
                continue
            if list(got_series) != list(series):
                diffs.append(
                    f"{entity} {metric}: buckets expected {list(series)}, got {list(got_series)}"
                )
            for bucket, value in series.items():
                g = got_series.get(bucket)
                if not _close(g, value):
                    diffs.append(f"{entity} {metric} {bucket}: expected {value!r}, got {g!r}")
                elif metric in COUNT_METRICS and not isinstance(g, int):
                    diffs.append(f"{entity} {metric} {bucket}: expected an integer, got {g!r}")
    return diffs


def expected_csv_rows(expected: list[dict[str, Any]], metrics: list[str]) -> list[list[Any]]:
    """The CSV body rows of an expected report: ``[id, period, value per metric]`` per bucket
    of each entity in order (``total`` periods and the ``total`` entity included)."""
    rows: list[list[Any]] = []
    for item in expected:
        for key in item["data"][metrics[0]]:
            rows.append([item["id"], key, *(item["data"][m][key] for m in metrics)])
    return rows


def csv_differences(
    rows: list[list[str]], expected: list[dict[str, Any]], metrics: list[str]
) -> list[str]:
    """How parsed CSV ``rows`` (header first) differ from the expected report."""
    diffs: list[str] = []
    if not rows or rows[0] != ["id", "period", *metrics]:
        diffs.append(f"header: expected {['id', 'period', *metrics]}, got {rows[:1]}")
    body = rows[1:]
    want = expected_csv_rows(expected, metrics)
    if len(body) != len(want):
        diffs.append(f"rows: expected {len(want)}, got {len(body)}")
    for g, w in zip(body, want, strict=False):
        if g[:2] != w[:2]:
            diffs.append(f"row key: expected {w[:2]}, got {g[:2]}")
            continue
        for metric, cell, value in zip(metrics, g[2:], w[2:], strict=False):
            try:
                number = float(cell)
            except ValueError:
                number = math.nan
            if not _close(number, value):
                diffs.append(f"{w[0]} {w[1]} {metric}: expected {value!r}, got {cell!r}")
    return diffs


# -- agent states over ACDC status_stat (CONTRACT.md 7) ----------------------------------------
#
# Written from 7a-7c alone: each agent's events in order, each starting a state that lasts
# until the next event or 12 h, whichever is first; every state cut into pieces at each
# 15-minute UTC step (every zone's offset is a multiple of it) and each piece counted in the
# bucket of its first second's local time, inside [local start, min(local end, now)).

AGENT_STATUSES = frozenset(
    {"logged_in", "logged_out", "pending_logged_out", "ready", "connecting", "connected",
     "wrapup", "paused", "outbound"}
)  # fmt: skip
AGENT_METRICS = [
    "logged_in_time", "ready_time", "ringing_time", "talk_time", "wrapup_time", "paused_time",
    "outbound_time", "occupancy", "login_count", "pause_count",
]  # fmt: skip
STATE_METRIC = {  # the state an event starts -> the time metric it counts in (7b, 7c)
    "logged_in": None, "ready": "ready_time", "connecting": "ringing_time",
    "connected": "talk_time", "wrapup": "wrapup_time", "paused": "paused_time",
    "outbound": "outbound_time",
}  # fmt: skip
STATE_CAP = 12 * 3600


def status_stat(doc: object) -> dict[str, Any] | None:
    """The document when it is a well-formed, live ``status_stat`` (7a); else None."""
    if not isinstance(doc, dict) or doc.get("pvt_type") != "status_stat":
        return None
    if doc.get("pvt_deleted") is True or not is_id(doc.get("agent_id")):
        return None
    if not is_timestamp(doc.get("timestamp")):
        return None
    held = [("queue_id", is_id), ("wait_time", is_number), ("pause_time", is_number)]
    if not all(absent_or(doc, name, check) for name, check in held):
        return None
    status = doc.get("status")
    return doc if isinstance(status, str) and status in AGENT_STATUSES else None


def agent_events(docs: Iterable[object]) -> dict[str, list[tuple[int, str]]]:
    """Each agent's events, pending_logged_out set aside, ordered by time then status name."""
    out: dict[str, list[tuple[int, str]]] = {}
    for doc in docs:
        d = status_stat(doc)
        if d is not None and d["status"] != "pending_logged_out":
            out.setdefault(d["agent_id"], []).append((int(d["timestamp"]), d["status"]))
    return {agent: sorted(events) for agent, events in out.items()}


def agent_states(events: list[tuple[int, str]]) -> list[tuple[int, int, str]]:
    """(begin, end, status) of every state an agent was in (logged out left out): each
    event's state lasts until the next event, at most 12 h."""
    out = []
    for i, (ts, status) in enumerate(events):
        end = ts + STATE_CAP
        if i + 1 < len(events):
            end = min(end, events[i + 1][0])
        if status != "logged_out" and end > ts:
            out.append((ts, end, status))
    return out


def expected_agent_report(
    docs: Iterable[object], params: Mapping[str, Any], *, now: int, today: date | None = None
) -> list[dict[str, Any]]:
    """The ``report`` list of an ``agent_states`` request (``now``: Gregorian seconds)."""
    zone: Any = ZoneInfo(params["timezone"]) if params.get("timezone") else UTC
    period = params.get("period") or "daily"
    first = _day(params["start_date"])
    last = _day(params.get("end_date") or today or datetime.now(UTC).date())
    metrics = list(params.get("metrics") or AGENT_METRICS)
    totals = params.get("totals") is True
    key = bucket_key(period, zone)
    keys = bucket_keys(period, first, last, zone)
    low = int(datetime.combine(first, time(0), zone).timestamp()) + GREGORIAN_OFFSET
    high = int(datetime.combine(last + timedelta(days=1), time(0), zone).timestamp())
    high = min(high + GREGORIAN_OFFSET, now)

    def sums_of(events: list[tuple[int, str]]) -> dict[str, dict[str, int]]:
        sums: dict[str, dict[str, int]] = {}

        def add(bucket: str, name: str, n: int) -> None:
            sums.setdefault(bucket, {}).setdefault(name, 0)
            sums[bucket][name] += n

        for begin, end, status in agent_states(events):
            t, end = max(begin, low), min(end, high)
            while t < end:
                piece_end = min(end, (t // 900 + 1) * 900)
                bucket = key(utc(t))
                add(bucket, "logged_in_time", piece_end - t)
                if STATE_METRIC[status]:
                    add(bucket, STATE_METRIC[status], piece_end - t)  # type: ignore[arg-type]
                t = piece_end
        for ts, status in events:
            if low <= ts < high and status in ("logged_in", "paused"):
                add(key(utc(ts)), "login_count" if status == "logged_in" else "pause_count", 1)
        return sums

    def values(raw: Mapping[str, int]) -> dict[str, Number]:
        out: dict[str, Number] = {m: raw.get(m, 0) for m in AGENT_METRICS if m != "occupancy"}
        busy = out["talk_time"] + out["wrapup_time"]
        whole = busy + out["ready_time"] + out["ringing_time"]
        out["occupancy"] = round(100 * busy / whole, 2) if whole else 0.0
        return out

    def add_up(parts: Iterable[Mapping[str, int]]) -> dict[str, int]:
        total: dict[str, int] = {}
        for part in parts:
            for name, n in part.items():
                total[name] = total.get(name, 0) + n
        return total

    def series(per_bucket: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, Number]]:
        by_key = {k: values(per_bucket.get(k, {})) for k in keys}
        out = {m: {k: by_key[k][m] for k in keys} for m in metrics}
        if totals:
            whole = values(add_up(per_bucket.get(k, {}) for k in keys))
            for m in metrics:
                out[m]["total"] = whole[m]
        return out

    per_agent = {a: sums_of(ev) for a, ev in agent_events(docs).items()}
    shown = {a: s for a, s in per_agent.items() if any(v for b in s.values() for v in b.values())}
    agents = list(dict.fromkeys(params.get("identifiers") or sorted(shown)))
    items = [{"id": a, "data": series(per_agent.get(a, {}))} for a in agents]
    if totals:
        merged = {k: add_up(per_agent.get(a, {}).get(k, {}) for a in agents) for k in keys}
        items.append({"id": "total", "data": series(merged)})
    return items


def status_doc(
    account_id: str,
    agent_id: str,
    ts: int,
    status: str,
    *,
    archived: int | None = None,
    suffix: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """A status_stat as KAZOO's archiver writes it (7a), stored ``archived`` (default: an
    hour after ``ts``); ``suffix`` keeps ids apart for two events of one agent at one second."""
    at = archived if archived is not None else ts + ARCHIVE_DELAY
    doc: dict[str, Any] = {
        "_id": f"{agent_id}::{ts}{suffix}",
        "pvt_type": "status_stat",
        "pvt_account_id": account_id,
        "pvt_account_db": encoded_modb(account_id, utc(at).strftime("%Y%m")),
        "pvt_created": at,
        "pvt_modified": at,
        "agent_id": agent_id,
        "timestamp": ts,
        "status": status,
        **extra,
    }
    if status in ("connecting", "connected"):
        doc.setdefault("call_id", f"call-{ts}")
        doc.setdefault("queue_id", "q" * 32)
    if status == "wrapup":
        doc.setdefault("wait_time", 30)
    if status == "paused":
        doc.setdefault("pause_time", 600)
        doc.setdefault("pause_alias", "lunch")
    return doc


def malformed_status_stats(account_id: str, agent_id: str, at: int) -> list[dict[str, Any]]:
    """``logged_out`` status_stats of ``agent_id``, each with one flaw that makes it
    malformed (7a), a minute apart from ``at``; ids ``bad-<flaw>-<agent_id[:4]>``."""
    cases: dict[str, Callable[[dict[str, Any]], Any]] = {
        "no_pvt_type": lambda d: d.pop("pvt_type"),
        "call_stat_type": lambda d: d.update(pvt_type="call_stat"),
        "deleted": lambda d: d.update(pvt_deleted=True),
        "no_agent_id": lambda d: d.pop("agent_id"),
        "empty_agent_id": lambda d: d.update(agent_id=""),
        "numeric_agent_id": lambda d: d.update(agent_id=7),
        "null_agent_id": lambda d: d.update(agent_id=None),
        "no_timestamp": lambda d: d.pop("timestamp"),
        "null_timestamp": lambda d: d.update(timestamp=None),
        "string_timestamp": lambda d: d.update(timestamp=str(d["timestamp"])),
        "float_timestamp": lambda d: d.update(timestamp=d["timestamp"] + 0.5),
        "bool_timestamp": lambda d: d.update(timestamp=True),
        "no_status": lambda d: d.pop("status"),
        "null_status": lambda d: d.update(status=None),
        "unknown_status": lambda d: d.update(status="busy"),
        "upper_case_status": lambda d: d.update(status="LOGGED_OUT"),
        "list_status": lambda d: d.update(status=["logged_out"]),
        "constructor_status": lambda d: d.update(status="constructor"),
    }
    docs = []
    for n, (flaw, spoil) in enumerate(cases.items()):
        doc = status_doc(account_id, agent_id, at + 60 * n, "logged_out")
        doc["_id"] = f"bad-{flaw}-{agent_id[:4]}"
        spoil(doc)
        docs.append(doc)
    return docs


# -- CONTRACT.md 2c: documents holding a value no document may hold --------------------------

HUGE = 1e200  # one such wait made a sum inside CouchDB overflow: every view of its MoDB failed
BEYOND_TIMESTAMP = 2**37 + 1
BEYOND_AMOUNT = 2**32

# ids a document may not hold, each with the trouble it made (or would make)
BAD_IDS = {
    "total": "total",  # the totals item's id: the dashboard took it for the totals
    "129_chars": "i" * 129,  # a names lookup of its batch was refused
    "5000_chars": "a" * 5000,  # the per-agent read's URL was too long for CouchDB
    "leading_dot": ".hidden",
    "leading_underscore": "_design",
    "space": "queue one",
    "slash": "a/b",
    "quote": 'a"b',
    "comma": "a,b",
    "non_ascii": "caf\u00e9",
    "full_width_digit": "\uff11abc",
}
# values at the bounds, which a document may hold
EDGE_ID = "Z" + "9a_.@:+-" * 15 + "abcdefg"  # 128 characters, every kind allowed
EDGE_AMOUNT = 2**32 - 1


def poisoned_docs(
    account_id: str, queue_id: str, agent_id: str, at: int, *, spoil: bool = True
) -> list[dict[str, Any]]:
    """One document of each shape per value 2c forbids, each otherwise good (and so counted
    were it not skipped whole), at ``at`` (a Gregorian second, not in a month's last two
    hours, so each is stored in the month of ``at``); ids ``poison-<shape>-<flaw>``.
    ``spoil=False``: the same documents without their flaw (each counted)."""

    def session_base() -> dict[str, Any]:
        return good_doc(
            account_id,
            queue_id,
            "poison",
            at,
            wait=40,
            talk=100,
            offers=[
                offer(agent_id, at + 10, "missed", ring=20),
                offer(agent_id, at + 35, "answered", ring=5, talk=100),
            ],
            recipient_id=agent_id,
        )

    def call_base(status: str = "processed") -> dict[str, Any]:
        return good_call_stat(
            account_id,
            queue_id,
            "poison",
            at,
            status=status,
            wait=40,
            talk=100,
            agent_id=agent_id,
            misses=[miss(agent_id, at + 5, "timeout")],
            archived=at + 600,
        )

    def status_base(status: str = "connected") -> dict[str, Any]:
        return status_doc(account_id, agent_id, at, status, archived=at + 600)

    def setter(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
        return lambda d: d.update({name: value})

    def offer_field(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
        return lambda d: d["offers"][1].update({name: value})

    def miss_field(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
        return lambda d: d["misses"][0].update({name: value})

    sessions: dict[str, Callable[[dict[str, Any]], Any]] = {
        "wait_1e200": lambda d: d.update(wait_time=HUGE),
        "wait_1.7e308": lambda d: d.update(wait_time=1.7e308),
        "wait_2^32": lambda d: d.update(wait_time=BEYOND_AMOUNT),
        "ring_2^32": offer_field("ring_time", BEYOND_AMOUNT),
        "call_duration_1e200": offer_field("call_duration", HUGE),
        "entered_2^37": lambda d: d.update(entered_timestamp=BEYOND_TIMESTAMP),
        "exited_2^37": lambda d: d.update(exited_timestamp=BEYOND_TIMESTAMP),
        "offered_2^37": offer_field("offered_timestamp", BEYOND_TIMESTAMP),
        **{f"queue_{k}": setter("queue_id", v) for k, v in BAD_IDS.items()},
        **{f"offer_{k}": offer_field("recipient_id", v) for k, v in BAD_IDS.items()},
        "answered_by_5000_chars": lambda d: d.update(recipient_id=BAD_IDS["5000_chars"]),
    }
    call_stats: dict[str, Callable[[dict[str, Any]], Any]] = {
        "wait_1e200": lambda d: d.update(wait_time=HUGE),
        "talk_2^32": lambda d: d.update(talk_time=BEYOND_AMOUNT),
        "handled_2^37": lambda d: d.update(handled_timestamp=BEYOND_TIMESTAMP),
        "processed_2^37": lambda d: d.update(processed_timestamp=BEYOND_TIMESTAMP),
        "miss_2^37": miss_field("timestamp", BEYOND_TIMESTAMP),
        **{f"queue_{k}": setter("queue_id", v) for k, v in BAD_IDS.items()},
        **{f"agent_{k}": setter("agent_id", v) for k, v in BAD_IDS.items()},
        **{f"miss_{k}": miss_field("agent_id", v) for k, v in BAD_IDS.items()},
    }
    abandoned: dict[str, Callable[[dict[str, Any]], Any]] = {
        "abandoned_2^37": lambda d: d.update(abandoned_timestamp=BEYOND_TIMESTAMP),
        "abandoned_with_agent_5000_chars": lambda d: d.update(agent_id=BAD_IDS["5000_chars"]),
        "abandoned_with_talk_1e200": lambda d: d.update(talk_time=HUGE),
    }
    statuses: dict[str, Callable[[dict[str, Any]], Any]] = {
        "timestamp_2^37": lambda d: d.update(timestamp=BEYOND_TIMESTAMP),
        "queue_total": lambda d: d.update(queue_id="total"),
        "queue_5000_chars": lambda d: d.update(queue_id=BAD_IDS["5000_chars"]),
        "wait_1e200": lambda d: d.update(wait_time=HUGE),
        "pause_1.7e308": lambda d: d.update(pause_time=1.7e308),
        **{f"agent_{k}": setter("agent_id", v) for k, v in BAD_IDS.items()},
    }
    docs = []
    for shape, base, cases in (
        ("session", session_base, sessions),
        ("call_stat", call_base, call_stats),
        ("call_stat", lambda: call_base("abandoned"), abandoned),
        ("status_stat", status_base, statuses),
    ):
        for flaw, flawed in cases.items():
            doc = base()
            if spoil:
                flawed(doc)
            doc["_id"] = f"poison-{shape}-{flaw}"
            docs.append(doc)
    return docs


# -- the records behind every number (CONTRACT.md 8) ------------------------------------------
#
# Written from 8a-8c alone: the rows each record report lists for a request, in order. The
# law (8d) is then checked by comparing these rows, and the service's, with the aggregates
# above (expected_report, expected_agent_report).

INTERVAL_STATE = {  # 8a: the state an event starts, as a row names it; logged_out: no rows
    "logged_in": "logged_in",
    "ready": "ready",
    "connecting": "ringing",
    "connected": "talking",
    "wrapup": "wrapup",
    "paused": "paused",
    "outbound": "outbound",
}


def iso(gregorian: int, zone: Any) -> str:
    """A Gregorian second as ISO 8601 with ``zone``'s offset at that moment."""
    return utc(gregorian).astimezone(zone).isoformat()


def record_window(params: Mapping[str, Any], now: int | None = None) -> tuple[int, int]:
    """Gregorian ``[low, high)`` of a record request: its local days, or its bucket of them
    (found by walking the range's 15-minute UTC steps), never past ``now``."""
    zone: Any = ZoneInfo(params["timezone"]) if params.get("timezone") else UTC
    first, last = _day(params["start_date"]), _day(params["end_date"])
    low = int(datetime.combine(first, time(0), zone).timestamp()) + GREGORIAN_OFFSET
    high = int(datetime.combine(last + timedelta(days=1), time(0), zone).timestamp())
    high += GREGORIAN_OFFSET
    if params.get("bucket") is not None:
        key = bucket_key(params["period"], zone)
        inside = [t for t in range(low, high, 900) if key(utc(t)) == params["bucket"]]
        low, high = inside[0], inside[-1] + 900
    return low, high if now is None else min(high, now)


def _texts(doc: Mapping[str, Any], row: dict[str, Any], *names: str) -> None:
    for name in names:
        if isinstance(doc.get(name), str):
            row[name] = doc[name]


def visit_rows(docs: Iterable[object], params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every row of a ``visits`` request (8a, 8b), in order (8c)."""
    zone: Any = ZoneInfo(params["timezone"]) if params.get("timezone") else UTC
    low, high = record_window(params)
    ids, results = params.get("identifiers"), params.get("results")
    out = []
    for doc in docs:
        s, c = session(doc), call_stat(doc)
        if s is None and c is None:
            continue
        d: dict[str, Any] = s or c  # type: ignore[assignment]
        [v] = visits([d])
        row: dict[str, Any] = {"id": d["_id"], "source": d["pvt_type"], "queue_id": v["queue_id"]}
        _texts(d, row, "call_id")
        row |= {
            "entered": iso(v["entered"], zone),
            "entered_timestamp": v["entered"],
            "result": v["result"],
            "wait_time": v["wait"],
        }
        if v["result"] == "answered" and c is not None:
            row |= {"recipient_id": c["agent_id"], "talk_time": c["talk_time"]}
        elif v["result"] == "answered":
            _texts(d, row, "recipient_id")
            answered = [o for o in offers_of(d) if o["result"] == "answered"]
            mine = [o for o in answered if o["recipient_id"] == d.get("recipient_id")]
            if mine or answered:
                row["talk_time"] = (mine or answered)[-1]["call_duration"]
        _texts(d, row, "caller_id_name", "caller_id_number", "abandoned_reason")
        if not low <= v["entered"] < high or (ids is not None and v["queue_id"] not in ids):
            continue
        if results is not None and v["result"] not in results:
            continue
        if params.get("wait_min") is not None and v["wait"] < params["wait_min"]:
            continue
        if params.get("wait_max") is not None and v["wait"] > params["wait_max"]:
            continue
        out.append(row)
    return sorted(out, key=lambda r: (r["queue_id"], r["entered_timestamp"], r["id"]))


def offer_rows(docs: Iterable[object], params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every row of an ``offers`` request, in order: by recipient, time, document id and the
    offer's place in its document (an ACDC call's misses in their order, its answer last)."""
    zone: Any = ZoneInfo(params["timezone"]) if params.get("timezone") else UTC
    low, high = record_window(params)
    ids, results, queues = params.get("identifiers"), params.get("results"), params.get("queue_ids")
    out = []
    for doc in docs:
        s, c = session(doc), call_stat(doc)
        listed: list[tuple[int, dict[str, Any]]] = []
        if s is not None:
            for place, o in enumerate(offers_of(s)):
                listed.append(
                    (
                        place,
                        {
                            "recipient_id": o["recipient_id"],
                            "at": o["offered_timestamp"],
                            "result": o["result"],
                            "ring_time": o["ring_time"],
                            "call_duration": o["call_duration"],
                        },
                    )
                )
        elif c is not None:
            misses = c.get("misses", [])
            for place, m in enumerate(misses):
                if m["reason"] != LOSE_RACE:
                    result = "rejected" if m["reason"] == "rejected" else "missed"
                    listed.append(
                        (
                            place,
                            {
                                "recipient_id": m["agent_id"],
                                "at": m["timestamp"],
                                "result": result,
                                "call_duration": 0,
                            },
                        )
                    )
            if c["status"] == "processed":
                listed.append(
                    (
                        len(misses),
                        {
                            "recipient_id": c["agent_id"],
                            "at": c["handled_timestamp"],
                            "result": "answered",
                            "call_duration": c["talk_time"],
                        },
                    )
                )
        else:
            continue
        d: dict[str, Any] = s or c  # type: ignore[assignment]
        for place, o in listed:
            if not low <= o["at"] < high or (ids is not None and o["recipient_id"] not in ids):
                continue
            if results is not None and o["result"] not in results:
                continue
            if queues is not None and d["queue_id"] not in queues:
                continue
            row: dict[str, Any] = {
                "id": d["_id"],
                "source": d["pvt_type"],
                "recipient_id": o["recipient_id"],
                "queue_id": d["queue_id"],
            }
            _texts(d, row, "call_id")
            row |= {
                "offered": iso(o["at"], zone),
                "offered_timestamp": o["at"],
                "result": o["result"],
            }
            if "ring_time" in o:
                row["ring_time"] = o["ring_time"]
            row["call_duration"] = o["call_duration"]
            out.append(((row["recipient_id"], o["at"], row["id"], place), row))
    return [row for _, row in sorted(out, key=lambda r: r[0])]


def interval_rows(
    docs: Iterable[object], params: Mapping[str, Any], *, now: int
) -> list[dict[str, Any]]:
    """Every row of an ``agent_intervals`` request, in order (8a, 7b): each event's state
    until the agent's next event or 12 h, cut to the window; a 0-second state keeps its row
    when its event is inside the window; logged-out time has none."""
    zone: Any = ZoneInfo(params["timezone"]) if params.get("timezone") else UTC
    low, high = record_window(params, now)
    ids, states = params.get("identifiers"), params.get("states")
    per_agent: dict[str, list[tuple[int, str, str, dict[str, Any]]]] = {}
    for doc in docs:
        d = status_stat(doc)
        if d is not None and d["status"] != "pending_logged_out":
            events = per_agent.setdefault(d["agent_id"], [])
            events.append((int(d["timestamp"]), d["status"], d["_id"], d))
    out = []
    for agent in sorted(per_agent):
        if ids is not None and agent not in ids:
            continue
        events = sorted(per_agent[agent], key=lambda e: e[:3])
        for i, (ts, status, _, d) in enumerate(events):
            nxt = events[i + 1][0] if i + 1 < len(events) else None
            capped = nxt is None or ts + STATE_CAP < nxt
            ends = ts + STATE_CAP if capped else nxt
            assert ends is not None
            begin, end = max(ts, low), min(ends, high)
            state = INTERVAL_STATE.get(status)
            if state is None or (states is not None and state not in states):
                continue
            if not (begin < end or (ends == ts and low <= ts < high)):
                continue
            row: dict[str, Any] = {
                "agent_id": agent,
                "state": state,
                "from": iso(begin, zone),
                "to": iso(end, zone),
                "from_timestamp": begin,
                "to_timestamp": end,
                "seconds": end - begin,
                "event_timestamp": ts,
                "capped": capped and ts + STATE_CAP <= high,
            }
            _texts(d, row, "queue_id", "call_id", "pause_alias")
            planned = d.get({"paused": "pause_time", "wrapup": "wait_time"}.get(status, ""))
            if is_number(planned):
                row["planned"] = planned
            out.append(row)
    return out
