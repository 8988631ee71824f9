"""Properties of the pure parts, over generated inputs (hypothesis; no server, no I/O).

1. ``app.request.validate`` never fails with anything but a 400 ``ApiError`` in Crossbar's
   validation shape, whatever JSON-like value each field holds; when it accepts, the request
   keeps the contract (range, metrics, ids, order, defaults); and it names exactly the bad
   fields, all at once.
2. ``app.buckets.plan`` maps every UTC slot of the local window to the bucket of its local
   time, computed here independently with zoneinfo and a hand-written ``%Y%U`` week key.
"""

from __future__ import annotations

import operator
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import orjson
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from reference import (
    AGENT_METRICS,
    DEFAULT_THRESHOLD,
    QUEUE_ALL_METRICS,
    QUEUE_METRICS,
    RECIPIENT_ALL_METRICS,
    RECIPIENT_METRICS,
    THRESHOLDS,
)

from app.errors import ApiError
from app.report.buckets import PERIODS, UnsupportedTimezone, plan, week_key
from app.report.load import plan_queries
from app.report.metrics import REPORTS
from app.report.request import FORMATS, ID_RE, MAX_DATE, MIN_DATE, Limits, ReportRequest, validate
from app.web.openapi import REPORT_FIELDS, VALIDATION_KEYWORDS

# what the OpenAPI document says a 400 may name, less what validate() itself never names:
# the body ("json", "invalid": app.errors) and the cell count ("maxCells": app.report)
FIELDS = tuple(f for f in REPORT_FIELDS if f != "json")
KEYWORDS = set(VALIDATION_KEYWORDS) - {"maxCells", "invalid"}
DETAIL_KEYS = {"message", "value", "target"}
ZONES = sorted(zoneinfo.available_timezones() | {"UTC"})
# zones whose offsets or transitions are unusual: half/quarter hours, 30-minute or 2-hour
# DST, negative DST, skipped days, +14, transitions at local midnight
ODD_ZONES = [
    "UTC",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "America/St_Johns",
    "Pacific/Chatham",
    "Antarctica/Troll",
    "America/Santiago",
    "America/Asuncion",
    "America/Havana",
    "Asia/Tehran",
    "Europe/Dublin",
    "Africa/Casablanca",
    "Pacific/Apia",
    "Pacific/Kiritimati",
    "Etc/GMT+12",
    "America/New_York",
    "Europe/London",
]
ALL_METRICS = sorted({*QUEUE_ALL_METRICS, *RECIPIENT_ALL_METRICS})
# CONTRACT.md 3 and 3b: the default (published) metrics and every metric, per report
PUBLISHED = {
    "queues": QUEUE_METRICS,
    "recipients": RECIPIENT_METRICS,
    "agent_states": AGENT_METRICS,
}
EVERY_METRIC = {
    "queues": QUEUE_ALL_METRICS,
    "recipients": RECIPIENT_ALL_METRICS,
    "agent_states": AGENT_METRICS,
}
MIN_DAY, MAX_DAY = MIN_DATE, MAX_DATE
COMMON = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- generated JSON-like values -----------------------------------------------------------

# real requests never carry lone surrogates (orjson rejects them, query strings are decoded
# with replacement), nor integers beyond 64 bits (orjson reads those as floats)
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
huge = st.builds(
    operator.mul,
    st.sampled_from(["a", "é", "😀", "2024-01-01", " ", "\x00", ",", "Europe/London"]),
    st.integers(1_000, 70_000),
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
    | huge
)
json_like = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=10,
)

edge_dates = st.sampled_from(
    [
        "0001-01-01",
        "0001-01-02",
        "1899-12-31",
        "1900-01-01",
        "1969-12-31",
        "1970-01-01",
        "2016-02-29",
        "2017-02-29",
        "2017-12-31",
        "2018-01-01",
        "9998-12-31",
        "9999-11-30",
        "9999-12-31",
        "2024-13-01",
        "2024-00-10",
        "2024-1-1",
        " 2024-01-01 ",
        "20240101",
        "2024-W01-1",
        "2024-001",
        "",
        "2024-01-01T00:00:00Z",
        "0001-01-01T00:00:00+00:00",
        "0001-01-01T00:00:00",
        "9999-12-31T23:59:59-14:00",
        "9999-12-31T23:59:59+14:00",
        "2024-03-10T02:30:00",
        "2024-01-01T24:00:00",
        "2024-01-01t00:00:00z",
    ]
)
fixed_offsets = st.builds(
    timezone, st.timedeltas(timedelta(hours=-23, minutes=-59), timedelta(hours=23, minutes=59))
)
# days at both ends of the calendar and around the accepted range, and everything between
edge_days = (
    st.dates(date(1, 1, 1), date(1, 1, 10))
    | st.dates(date(1899, 12, 1), date(1900, 1, 31))
    | st.dates(date(9998, 12, 1), date(9999, 12, 31))
)
any_days = st.dates() | edge_days | st.dates(date(2000, 1, 1), date(2040, 12, 31))
lengths = st.integers(0, 3) | st.integers(0, 40) | st.integers(0, 400)
date_strings = (
    any_days.map(date.isoformat)
    | st.datetimes(timezones=st.none() | st.timezones() | fixed_offsets).map(datetime.isoformat)
    | st.datetimes(datetime(1990, 1, 1), datetime(2030, 1, 1)).map(lambda d: f"{d.isoformat()}Z")
    | edge_dates
)


def _plus(d: date, days: int) -> date:
    try:
        return d + timedelta(days=days)
    except OverflowError:
        return date.max


ids = st.from_regex(ID_RE, fullmatch=True).filter(lambda s: len(s) <= 200) | text | huge
id_lists = st.lists(ids | json_like, max_size=6) | st.lists(
    st.sampled_from(["q1", "q2", "r1", "r2", "a.b@c:d+e-f_g"]), max_size=25
)
zone_names = (
    st.sampled_from(ZONES)
    | st.sampled_from(ODD_ZONES)
    | st.sampled_from(["utc", "Europe/Nowhere", "../../etc/passwd", "", " UTC", "localtime"])
    | text
)
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "report": st.sampled_from(list(REPORTS)) | text | json_like,
    "start_date": date_strings | json_like,
    "end_date": date_strings | json_like,
    "period": st.sampled_from(PERIODS) | text | json_like,
    "metrics": st.lists(st.sampled_from(ALL_METRICS) | text, max_size=10) | json_like,
    "identifiers": id_lists | json_like,
    "queue_ids": id_lists | json_like,
    "format": st.sampled_from(FORMATS) | text | json_like,
    "timezone": zone_names | json_like,
    "service_level_threshold": st.sampled_from(THRESHOLDS) | st.integers(-1, 700) | json_like,
    "totals": st.booleans() | st.sampled_from(["true", "false", 0, 1]) | json_like,
}
hostile_params = st.builds(
    lambda extra, fields: {**extra, **fields},
    st.dictionaries(text, json_like, max_size=3),
    st.fixed_dictionaries({}, optional=FIELD_VALUES),
)
plausible_params = st.builds(
    lambda fields, start, length, as_datetime: {
        "start_date": f"{start.isoformat()}T00:00:00Z" if as_datetime else start.isoformat(),
        "end_date": _plus(start, length).isoformat(),
        **fields,
    },
    st.fixed_dictionaries(
        {"report": st.sampled_from(list(REPORTS))},
        optional={
            "period": st.sampled_from(PERIODS),
            "metrics": st.lists(st.sampled_from(ALL_METRICS), min_size=1, max_size=5),
            "identifiers": st.lists(st.sampled_from(["q1", "q2", "r1", "x:y@z"]), min_size=1),
            "queue_ids": st.lists(st.sampled_from(["q1", "q2"]), min_size=1, max_size=3),
            "format": st.sampled_from(FORMATS),
            "timezone": st.sampled_from(ZONES) | st.sampled_from(ODD_ZONES),
            "service_level_threshold": st.sampled_from(THRESHOLDS),
            "totals": st.booleans(),
        },
    ),
    any_days,
    lengths,
    st.booleans(),
)
params_st = hostile_params | plausible_params
limits_st = st.just(Limits()) | st.builds(
    Limits,
    max_range_days=st.integers(1, 400),
    max_identifiers=st.integers(1, 30),
    max_queue_ids=st.integers(1, 30),
    max_id_length=st.integers(1, 200),
)


# -- 1. the validator ---------------------------------------------------------------------


def _expected_day(raw: str, tz: zoneinfo.ZoneInfo) -> date:
    """ISO 8601 date, or the day of a date-time in the report's zone (when it has an offset)."""
    text_ = raw.strip()
    if len(text_) == 10:
        return date.fromisoformat(text_)
    dt = datetime.fromisoformat(text_)
    return (dt.astimezone(tz) if dt.tzinfo is not None else dt).date()


def _check_error_shape(err: ApiError) -> None:
    assert err.status == 400
    assert err.message == "validation error"
    assert isinstance(err.data, dict) and err.data
    for field, keywords in err.data.items():
        assert field in FIELDS, field
        assert isinstance(keywords, dict) and keywords, (field, keywords)
        for keyword, detail in keywords.items():
            assert keyword in KEYWORDS, (field, keyword)
            assert isinstance(detail, dict), detail
            assert isinstance(detail.get("message"), str) and detail["message"]
            assert set(detail) <= DETAIL_KEYS, detail
    orjson.dumps(err.data)  # the body the client gets: it must serialise


def _check_id_list(got: tuple[str, ...] | None, given_: Any, limit: int, limits: Limits) -> None:
    if given_ is None:
        assert got is None
        return
    assert isinstance(given_, list) and 1 <= len(given_) <= limit
    assert got == tuple(dict.fromkeys(given_))  # unique, first occurrence order kept
    for item in got:
        assert isinstance(item, str) and len(item) <= limits.max_id_length
        assert ID_RE.fullmatch(item)


def _check_accepted(req: ReportRequest, params: dict[str, Any], options: dict[str, Any]) -> None:
    """``req``, which validate(params, **options) accepted, keeps the contract."""
    path_report, today, limits = options["path_report"], options["today"], options["limits"]
    p = {k: v for k, v in params.items() if v is not None}
    assert req.report == p.get("report", path_report)
    assert path_report is None or req.report == path_report
    assert req.timezone == p.get("timezone", "UTC")
    tz = zoneinfo.ZoneInfo(req.timezone)
    assert req.start == _expected_day(p["start_date"], tz)
    assert req.end == (_expected_day(p["end_date"], tz) if "end_date" in p else today)
    assert MIN_DAY <= req.start <= req.end <= MAX_DAY
    assert (req.end - req.start).days + 1 <= limits.max_range_days
    assert req.period == p.get("period", "daily")
    assert req.period in PERIODS
    if "metrics" in p:
        assert req.metrics == tuple(dict.fromkeys(p["metrics"]))
    else:
        assert req.metrics == tuple(PUBLISHED[req.report])
    assert req.metrics and set(req.metrics) <= set(EVERY_METRIC[req.report])
    _check_id_list(req.identifiers, p.get("identifiers"), limits.max_identifiers, limits)
    if req.report != "recipients":  # queue_ids: recipients only; no threshold in agent_states
        assert req.queue_ids is None and "queue_ids" not in p
    else:
        _check_id_list(req.queue_ids, p.get("queue_ids"), limits.max_queue_ids, limits)
    assert req.format == p.get("format", "csv" if options["csv_requested"] else "json")
    assert req.report != "agent_states" or "service_level_threshold" not in p
    assert req.threshold == p.get("service_level_threshold", DEFAULT_THRESHOLD)
    assert req.threshold in THRESHOLDS and type(req.threshold) is int
    assert req.totals is p.get("totals", False)
    plan(req.start, req.end, req.period, req.timezone)  # the pipeline can plan it


@COMMON
@given(
    params=params_st,
    options=st.fixed_dictionaries(  # validate()'s keyword arguments
        {
            "path_report": st.none() | st.sampled_from(list(REPORTS)) | text,
            "today": st.dates(date(1970, 1, 1), date(2100, 12, 31)),
            "limits": limits_st,
            "csv_requested": st.booleans(),
        }
    ),
)
def test_validate_accepts_within_the_contract_or_answers_a_crossbar_400(
    params: dict[str, Any], options: dict[str, Any]
) -> None:
    try:
        req = validate(params, **options)
    except ApiError as err:
        _check_error_shape(err)
    else:
        _check_accepted(req, params, options)


# a valid request, then some fields replaced by a value that is wrong for that field alone
BAD_VALUES: dict[str, list[Any]] = {
    "report": ["queue", 1, ["queues"]],
    "start_date": ["2017-13-01", 20170101, "", "0001-01-01"],
    "end_date": ["tomorrow", {"d": 1}, "9999-12-31"],
    "period": ["yearly", "Daily", 7],
    "metrics": ["call_count", [], ["nope"], [None]],
    "identifiers": [[], "q1", ["bad id"], [1], ["x" * 129], ["q"] * 1001],
    "queue_ids": [[], "q1", ["-q"], [True], ["q"] * 101],
    "format": ["xml", "JSON", 0],
    "timezone": ["Mars/Olympus_Mons", "utc", 0],
    "service_level_threshold": [7, "20", True, 20.5],
    "totals": ["true", 1, [True]],
    # the record reports' own (CONTRACT.md 8): forbidden on an aggregate, and bad by type
    # before the report is known
    "bucket": [20240101, ["20240101"]],
    "results": ["answered", [5], []],
    "states": ["ready", [None]],
    "wait_min": [-1, "5", 2.5],
    "wait_max": [True, 2**32],
    "page_size": [0, 1001, "50"],
    "start_key": [5, ["k"]],
}


@COMMON
@given(
    report=st.sampled_from(list(REPORTS)),
    # from 1990: earlier, some zones had offsets that are not whole quarter hours
    # (Pacific/Kiritimati was -10:40 until 1979), which is rightly a timezone error
    start=st.dates(date(1990, 1, 1), date(2090, 1, 1)),
    length=st.integers(0, 365),
    period=st.sampled_from(PERIODS),
    zone=st.sampled_from(ODD_ZONES),
    bad=st.dictionaries(st.sampled_from(FIELDS), st.integers(0, 5), max_size=len(FIELDS)),
)
def test_validate_names_exactly_the_bad_fields_at_once(
    report: str, start: date, length: int, period: str, zone: str, bad: dict[str, int]
) -> None:
    end = start + timedelta(days=length)
    params: dict[str, Any] = {
        "report": report,
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "period": period,
        "metrics": list(REPORTS[report].metrics)[:2],
        "identifiers": ["q1", "q2"],
        "format": "json",
        "timezone": zone,
    }
    if report == "recipients":
        params["queue_ids"] = ["q1"]
    for field, choice in bad.items():
        values = BAD_VALUES[field]
        params[field] = values[choice % len(values)]
    bad_fields = set(bad)
    if "report" in bad and isinstance(params["metrics"], list) and params["metrics"]:
        bad_fields.discard("metrics")  # names are checked against the report only once known
    try:
        validate(params, today=date(2100, 1, 1))
    except ApiError as err:
        _check_error_shape(err)
        assert set(err.data) == bad_fields, (params, err.data)
    else:
        assert not bad_fields, params


# -- 2. bucket plans ----------------------------------------------------------------------


def _week_key(d: date) -> str:
    """``%Y%U`` of the Sunday starting d's week, without strftime."""
    sunday = d - timedelta(days=d.isoweekday() % 7)
    jan1 = date(sunday.year, 1, 1)
    first_sunday = jan1 + timedelta(days=(6 - jan1.weekday()) % 7)
    return f"{sunday.year:04d}{(sunday - first_sunday).days // 7 + 1:02d}"


def _bucket(period: str, local: datetime) -> str:
    d = local.date()
    if period == "daily":
        return f"{d.year:04d}{d.month:02d}{d.day:02d}"
    if period == "weekly":
        return _week_key(d)
    if period == "monthly":
        return f"{d.year:04d}{d.month:02d}"
    return f"{d.year:04d}{d.month:02d}{d.day:02d}{local.hour:02d}"


def _slot_key(q: datetime, level: int) -> tuple[object, ...]:
    day = f"{q.year:04d}{q.month:02d}{q.day:02d}"
    if level == 2:
        return (day,)
    return (day, q.hour) if level == 3 else (day, q.hour, q.minute // 15)


def _window(start: date, end: date, tz: zoneinfo.ZoneInfo) -> list[datetime]:
    """Every UTC quarter-hour whose local date lies in [start, end], found by brute force."""
    t = datetime.combine(start - timedelta(days=1), time(0), UTC)  # offsets stay within ±1 day
    stop = datetime.combine(end + timedelta(days=2), time(0), UTC)
    out = []
    while t < stop:
        if start <= t.astimezone(tz).date() <= end:
            out.append(t)
        t += timedelta(minutes=15)
    return out


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


@COMMON
@given(
    start=st.dates(MIN_DAY, date(2100, 12, 31))
    | st.dates(date(2010, 1, 1), date(2030, 12, 31))
    | st.dates(date(9998, 1, 1), MAX_DAY),
    length=st.integers(0, 3) | st.integers(0, 40) | st.integers(0, 365),
    period=st.sampled_from(PERIODS),
    zone=st.sampled_from(ZONES) | st.sampled_from(ODD_ZONES),
)
# a zone that moves from a quarter-hour offset to an odd one inside the window
@example(start=date(1932, 12, 30), length=4, period="daily", zone="Asia/Singapore")
@example(start=date(1919, 11, 20), length=10, period="hourly", zone="Africa/Accra")
# a day that does not exist locally (Samoa crossed the date line), 30-minute DST, 2-hour DST
@example(start=date(2011, 12, 28), length=5, period="daily", zone="Pacific/Apia")
@example(start=date(2024, 3, 30), length=10, period="hourly", zone="Australia/Lord_Howe")
# whole-hour offset at both ends (+11), half-hour offset between (+10:30)
@example(start=date(2024, 3, 1), length=300, period="daily", zone="Australia/Lord_Howe")
@example(start=date(2024, 3, 25), length=40, period="weekly", zone="Antarctica/Troll")
# DST ends at local midnight (24:00 -> 23:00) and starts at midnight (no 00:00)
@example(start=date(2024, 4, 5), length=3, period="hourly", zone="America/Santiago")
@example(start=date(2024, 9, 6), length=3, period="daily", zone="America/Santiago")
def test_plan_maps_every_slot_of_the_local_window_to_its_local_bucket(
    start: date, length: int, period: str, zone: str
) -> None:
    _check_plan(start, min(start + timedelta(days=length), MAX_DAY), period, zone)


def _changes_2024(tz: zoneinfo.ZoneInfo) -> list[date]:
    """UTC days of 2024 on which the zone's offset changes."""
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(367)]
    offsets = [datetime.combine(d, time(0), UTC).astimezone(tz).utcoffset() for d in days]
    return [
        d - timedelta(days=1)
        for d, a, b in zip(days[1:], offsets[:-1], offsets[1:], strict=True)
        if a != b
    ]


def test_plan_in_every_zone_around_its_clock_changes_of_2024() -> None:
    failures = {}
    for n, zone in enumerate(ZONES):
        tz = zoneinfo.ZoneInfo(zone)
        try:
            for day in _changes_2024(tz) or [date(2024, 6, 30)]:
                _check_plan(day - timedelta(days=1), day + timedelta(days=1), PERIODS[n % 4], zone)
        except AssertionError as e:
            failures[zone] = str(e)[:200]
    assert not failures, failures


def _check_plan(start: date, end: date, period: str, zone: str) -> None:
    """plan() against brute force over every UTC quarter hour around the local window."""
    tz = zoneinfo.ZoneInfo(zone)
    window = _window(start, end, tz)
    midnight = datetime.combine(start, time(0), tz)
    offsets = [q.astimezone(tz).utcoffset() for q in window] + [midnight.utcoffset()]
    odd_offset = any(o is not None and o.total_seconds() % 900 for o in offsets)
    try:
        p = plan(start, end, period, zone)
    except UnsupportedTimezone:
        assert zone != "UTC" and odd_offset, (start, end, zone)
        return
    assert not odd_offset, (start, end, zone)

    if zone == "UTC" and period != "hourly":
        assert (p.resolution, p.group_level) == ("day", 2)
    else:
        assert p.resolution == "quarter" and p.group_level in (3, 4)

    # every slot of the window: exactly one bucket, the one of its local time
    local = [q.astimezone(tz) for q in window]
    expected: dict[tuple[object, ...], str] = {}
    quarters: dict[tuple[object, ...], int] = {}  # row key -> window quarters it holds
    hour_buckets: dict[tuple[object, ...], set[str]] = {}
    for q, lt in zip(window, local, strict=True):
        key = _slot_key(q, p.group_level)
        bucket = _bucket(period, lt)
        assert expected.setdefault(key, bucket) == bucket, "a row would span two buckets"
        assert p.slots.get(key) == bucket, (q, key, p.slots.get(key), bucket)
        quarters[key] = quarters.get(key, 0) + 1
        hour_buckets.setdefault(_slot_key(q, 3), set()).add(bucket)
    # ...and no row from outside it: a day or hour row lies wholly inside the window
    assert set(p.slots) == set(expected)
    whole = {2: 96, 3: 4, 4: 1}[p.group_level]
    assert all(n == whole for n in quarters.values()), "a row reaches outside the window"
    if p.group_level == 4:  # the coarsest level: some hour is cut by the window or a bucket
        hour_quarters: dict[tuple[object, ...], int] = {}
        for q in window:
            hour_quarters[_slot_key(q, 3)] = hour_quarters.get(_slot_key(q, 3), 0) + 1
        assert any(n < 4 for n in hour_quarters.values()) or any(
            len(b) > 1 for b in hour_buckets.values()
        )

    # buckets: unique, chronological (== sorted), each one fed by some slot
    assert p.buckets == tuple(dict.fromkeys(_bucket(period, lt) for lt in local))
    assert list(p.buckets) == sorted(set(p.buckets))

    # the UTC days of the key ranges cover the window exactly
    if window:
        assert p.first_day == window[0].date() and p.last_day == window[-1].date()

    # as many daily buckets as days (less a day the zone skipped, e.g. Pacific/Apia 2011-12-30)
    days = _days(start, end)
    skipped = [
        d
        for d in days
        if datetime.combine(d, time(0), tz).astimezone(UTC)
        == datetime.combine(d + timedelta(days=1), time(0), tz).astimezone(UTC)
    ]
    present = [d for d in days if d not in skipped]
    if period == "daily":
        assert len(p.buckets) == len(days) - len(skipped)
    if period == "weekly":
        assert len(p.buckets) == len({_week_key(d) for d in present})
    if period == "monthly":
        assert len(p.buckets) == len({(d.year, d.month) for d in present})


@settings(max_examples=200, deadline=None)
@given(d=st.dates(MIN_DAY, MAX_DAY))
def test_week_key_is_the_percent_U_week_of_the_starting_sunday(d: date) -> None:
    assert week_key(d) == _week_key(d)


def test_week_key_examples_from_the_contract() -> None:
    assert {week_key(date(2017, 12, 31) + timedelta(days=i)) for i in range(7)} == {"201753"}
    assert week_key(date(2017, 1, 1)) == "201701"


@COMMON
@given(
    start=any_days,
    length=lengths,
    period=st.sampled_from(PERIODS),
    zone=st.sampled_from(ODD_ZONES),
    report=st.sampled_from(list(REPORTS)),
)
def test_whatever_validate_accepts_the_pipeline_can_plan(
    start: date, length: int, period: str, zone: str, report: str
) -> None:
    """No overflow at either end of the calendar: plan() and the MoDB list always work."""
    params = {
        "report": report,
        "start_date": start.isoformat(),
        "end_date": _plus(start, length).isoformat(),
        "period": period,
        "timezone": zone,
    }
    try:
        req = validate(params, today=date(2100, 1, 1))
    except ApiError as err:
        _check_error_shape(err)
        return
    buckets = plan(req.start, req.end, req.period, req.timezone)
    if REPORTS[req.report].reads == "events":  # agent_states: its MoDBs and spans
        from app.report import agent_states, events

        line = agent_states.timeline(buckets)
        months = events.months("0" * 32, line.start - agent_states.CAP, line.end)
        assert months and all(m.name.startswith("account/00/00/") for m in months)
        return
    queries = plan_queries("0" * 32, req, buckets)
    assert queries and all(q.month.name.startswith("account/00/00/") for q in queries)
