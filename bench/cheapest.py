"""The cheapest read that answers a report: the benchmark's floor (issue 11).

``_design/bench_minimal`` holds one minimal view per report shape: a type check and nothing
else (no validation of any field), the same key and the same value vector a report needs,
over both document shapes (``qubicle_session`` and ACDC ``call_stat``, CONTRACT.md 2, 2b).
:func:`cheapest_queries` reads them with the coarsest ``group_level`` and the narrowest key
ranges that still answer the report exactly. It is derived from the report's parameters
(its bucket plan, its metrics' raw fields, its filters), never from ``app.load``: the floor
must not inherit the service's choices, or it cannot show that they are wrong.

Comparison only: the design doc is installed next to ours by the benchmark, never by the
service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.couch.modb import modbs_for_range
from app.report.buckets import BucketPlan, plan
from app.report.metrics import KPI_FIELDS, OFFER_FIELDS, REPORTS, THRESHOLDS, VISIT_FIELDS
from app.report.request import ReportRequest, validate

DDOC = "bench_minimal"
HIGH: dict[str, Any] = {}  # CouchDB collation's highest value

# One visit per document: its queue, entered time, result and wait, for either shape.
_VISIT = """
  var q, at, wait, result;
  if (doc.pvt_type === 'qubicle_session') {
    q = doc.queue_id; at = doc.entered_timestamp; wait = doc.wait_time; result = doc.result;
  } else if (doc.pvt_type === 'call_stat') {
    q = doc.queue_id; at = doc.entered_timestamp; wait = doc.wait_time;
    result = doc.status === 'processed' ? 'answered'
      : doc.abandoned_reason === 'member_timeout' ? 'timeout' : 'abandoned';
  } else return;
  var d = new Date((at - 62167219200) * 1000), m = d.getUTCMonth() + 1, n = d.getUTCDate();
  var day = d.getUTCFullYear() + (m < 10 ? '0' : '') + m + (n < 10 ? '0' : '') + n;
  var hour = d.getUTCHours(), quarter = Math.floor(d.getUTCMinutes() / 15);
"""

# Every offer of a document as (recipient, time, result, ring or null, talk), either shape.
_OFFERS = """
  var q, offers = [], i, o;
  if (doc.pvt_type === 'qubicle_session') {
    q = doc.queue_id;
    for (i = 0; i < (doc.offers || []).length; i++) {
      o = doc.offers[i];
      offers.push([o.recipient_id, o.offered_timestamp, o.result, o.ring_time, o.call_duration]);
    }
  } else if (doc.pvt_type === 'call_stat') {
    q = doc.queue_id;
    for (i = 0; i < (doc.misses || []).length; i++) {
      o = doc.misses[i];
      if (o.reason !== 'LOSE_RACE') {
        offers.push([o.agent_id, o.timestamp, o.reason === 'rejected' ? 'rejected' : 'missed',
                     null, 0]);
      }
    }
    if (doc.status === 'processed') {
      offers.push([doc.agent_id, doc.handled_timestamp, 'answered', null, doc.talk_time]);
    }
  } else return;
  for (i = 0; i < offers.length; i++) {
    o = offers[i];
    var d = new Date((o[1] - 62167219200) * 1000), m = d.getUTCMonth() + 1, n = d.getUTCDate();
    var day = d.getUTCFullYear() + (m < 10 ? '0' : '') + m + (n < 10 ? '0' : '') + n;
    var hour = d.getUTCHours(), quarter = Math.floor(d.getUTCMinutes() / 15);
    var a = o[2] === 'answered', rung = a && o[3] !== null;
    emit(KEY, [a ? 1 : 0, o[2] === 'missed' ? 1 : 0, o[2] === 'rejected' ? 1 : 0,
               a ? o[4] : 0, rung ? o[3] : 0, rung ? 1 : 0]);
  }
"""

_VISIT_VALUE = (
    "[1, wait, result === 'timeout' ? 1 : 0, result === 'abandoned' ? 1 : 0]"  # VISIT_FIELDS
)
_KPI_VALUE = """
  var answered = result === 'answered';
  var value = [1, wait, result === 'timeout' ? 1 : 0, result === 'abandoned' ? 1 : 0,
               answered ? 1 : 0, answered ? wait : 0, result === 'abandoned' ? wait : 0];
  for (var i = 0; i < T.length; i++) value.push(answered && wait <= T[i] ? 1 : 0);
"""

_DAY_KEY = "[q, day]"
_QUARTER_KEY = "[q, day, hour, quarter]"


def _visit_view(key: str, value: str) -> str:
    return f"function (doc) {{{_VISIT}  emit({key}, {value});\n}}"


def _kpi_view(key: str) -> str:
    return (
        f"function (doc) {{\n  var T = {list(THRESHOLDS)};{_VISIT}{_KPI_VALUE}"
        f"  emit({key}, value);\n}}"
    )


def _offer_view(key: str) -> str:
    return "function (doc) {" + _OFFERS.replace("KEY", key) + "}"


# view name -> (map, reduce); the names say the key, the value is what the report sums
VIEWS: dict[str, tuple[str, str]] = {
    "queue_day": (_visit_view(_DAY_KEY, _VISIT_VALUE), "_sum"),
    "queue_quarter": (_visit_view(_QUARTER_KEY, _VISIT_VALUE), "_sum"),
    "kpis_day": (_kpi_view(_DAY_KEY), "_sum"),
    "kpis_quarter": (_kpi_view(_QUARTER_KEY), "_sum"),
    "waits_day": (_visit_view(_DAY_KEY, "wait"), "_stats"),
    "waits_quarter": (_visit_view(_QUARTER_KEY, "wait"), "_stats"),
    "recipient_day": (_offer_view("[o[0], day]"), "_sum"),
    "recipient_quarter": (_offer_view("[o[0], day, hour, quarter]"), "_sum"),
    "queue_recipient_day": (_offer_view("[q, o[0], day]"), "_sum"),
    "queue_recipient_quarter": (_offer_view("[q, o[0], day, hour, quarter]"), "_sum"),
}


def design_doc() -> dict[str, Any]:
    return {
        "_id": f"_design/{DDOC}",
        "language": "javascript",
        "views": {name: {"map": m, "reduce": r} for name, (m, r) in VIEWS.items()},
    }


@dataclass(frozen=True)
class Read:
    """One view query of the floor."""

    db: str
    view: str
    params: dict[str, Any]


def request_of(params: dict[str, Any]) -> tuple[ReportRequest, BucketPlan]:
    req = validate(params)
    return req, plan(req.start, req.end, req.period, req.timezone)


def views_for(req: ReportRequest, resolution: str) -> tuple[list[str], int]:
    """The minimal views that carry the report's raw fields, and the key's entity width."""
    fields = set(REPORTS[req.report].fields(req.metrics, req.threshold))
    if req.report == "recipients":
        assert fields <= set(OFFER_FIELDS), fields
        if req.queue_ids is not None:
            return [f"queue_recipient_{resolution}"], 2
        return [f"recipient_{resolution}"], 1
    if fields <= set(VISIT_FIELDS):
        return [f"queue_{resolution}"], 1
    if fields <= {"visits", "wait", "max_wait"}:
        return [f"waits_{resolution}"], 1
    summed = fields - {"max_wait"}
    assert summed <= set(KPI_FIELDS), summed
    views = [f"kpis_{resolution}"]
    if "max_wait" in fields:
        views.append(f"waits_{resolution}")
    return views, 1


def key_ranges(req: ReportRequest, bp: BucketPlan, width: int) -> list[dict[str, Any]]:
    """The narrowest ranges: the whole view of each MoDB when every entity is asked (a MoDB
    is about one month: little is read outside the range), else one range per asked entity
    (per asked queue, and per recipient within it when recipients are asked too)."""
    level = {"group_level": bp.group_level + width - 1}
    first, last = bp.first_day_key, bp.last_day_key
    ids = sorted(req.identifiers) if req.identifiers is not None else None
    if width == 1:
        if ids is None:
            return [level]
        return [{**level, "startkey": [e, first], "endkey": [e, last, HIGH]} for e in ids]
    queues = sorted(req.queue_ids or ())
    if ids is None:
        return [{**level, "startkey": [q], "endkey": [q, HIGH]} for q in queues]
    return [
        {**level, "startkey": [q, r, first], "endkey": [q, r, last, HIGH]}
        for q in queues
        for r in ids
    ]


def cheapest_queries(account_id: str, params: dict[str, Any]) -> list[Read]:
    """Every minimal-view query that together answers the report: per MoDB that can hold
    its data (app.modb: the month after the last one too), per view, per key range."""
    req, bp = request_of(params)
    views, width = views_for(req, bp.resolution)
    months = modbs_for_range(account_id, bp.first_day, bp.last_day)
    return [
        Read(m.name, view, rng)
        for view in views
        for rng in key_ranges(req, bp, width)
        for m in months
    ]
