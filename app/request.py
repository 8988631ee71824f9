"""Validate a report request into a :class:`ReportRequest`, reporting every bad field at once.

Errors use Crossbar's validation shape (CONTRACT.md section 5):
``{field: {keyword: {"message": ..., "value": ..., "target": ...}}}``. Pure: no I/O.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from app import errors
from app.buckets import PERIODS, UnsupportedTimezone, plan
from app.metrics import REPORTS

FORMATS = ("json", "csv")
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@:+-]*$")
LIST_FIELDS = ("metrics", "identifiers", "queue_ids")
# Room for a report's local window and the MoDB month after it inside Python's calendar
# (years 1..9999, where plan() would overflow), with four-digit years in every bucket key
MIN_DATE, MAX_DATE = date(1900, 1, 1), date(9998, 12, 31)


@dataclass(frozen=True)
class Limits:
    max_range_days: int = 366
    max_identifiers: int = 1000
    max_queue_ids: int = 100
    max_id_length: int = 128


@dataclass(frozen=True)
class ReportRequest:
    report: str
    start: date  # local calendar days in ``timezone``, inclusive
    end: date
    period: str
    metrics: tuple[str, ...]
    identifiers: tuple[str, ...] | None
    queue_ids: tuple[str, ...] | None
    format: str
    timezone: str


@cache
def time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


def _err(keyword: str, message: str, **extra: Any) -> dict[str, dict[str, Any]]:
    return {keyword: {"message": message, **extra}}


def _date(value: Any, tz: zoneinfo.ZoneInfo | None) -> date:
    """An ISO 8601 date, or a date-time whose day is taken in the report's zone."""
    if not isinstance(value, str):
        raise TypeError
    text = value.strip()
    if len(text) == 10:
        return date.fromisoformat(text)
    dt = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    if dt.tzinfo is not None and tz is not None:
        dt = dt.astimezone(tz)
    return dt.date()


def _out_of_calendar(day: date) -> dict[str, dict[str, Any]]:
    return _err(
        "date_range",
        f"Must be between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}",
        value=day.isoformat(),
        target=[MIN_DATE.isoformat(), MAX_DATE.isoformat()],
    )


def split_list(value: Any) -> Any:
    """Query strings carry lists comma-separated."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _id_list(
    name: str, value: Any, limit: int, limits: Limits, errs: dict[str, Any]
) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        errs[name] = _err("type", "Value did not match type(s): array", value=value)
        return None
    if not value:
        errs[name] = _err("minItems", "The list must have at least 1 item", target=1)
        return None
    if len(value) > limit:
        errs[name] = _err("maxItems", f"The list has more than {limit} items", target=limit)
        return None
    for item in value:
        if not isinstance(item, str):
            errs[name] = _err("type", "Each item must be a string", value=item)
            return None
        if len(item) > limits.max_id_length:
            errs[name] = _err(
                "maxLength",
                f"An id is longer than {limits.max_id_length} characters",
                value=item[:64],
                target=limits.max_id_length,
            )
            return None
        if not ID_RE.fullmatch(item):
            errs[name] = _err(
                "pattern", "An id may hold only letters, digits and _ . @ : + -", value=item
            )
            return None
    return tuple(dict.fromkeys(value))


def validate(
    params: dict[str, Any],
    *,
    path_report: str | None = None,
    today: date | None = None,
    limits: Limits = Limits(),
    csv_requested: bool = False,
) -> ReportRequest:
    """The validated request, or an :class:`errors.ApiError` naming every bad field."""
    errs: dict[str, dict[str, Any]] = {}
    params = {k: v for k, v in params.items() if v is not None}  # JSON null = omitted

    report = params.get("report", path_report)
    if report is None:
        errs["report"] = _err("required", "Field is required but missing")
    elif path_report is not None and report != path_report:
        errs["report"] = _err(
            "enum", "Must match the report in the URL", value=report, target=[path_report]
        )
    elif not isinstance(report, str) or report not in REPORTS:
        errs["report"] = _err(
            "enum",
            "Value not found in enumerated list of values",
            value=report,
            target=list(REPORTS),
        )
    kind = REPORTS.get(report) if isinstance(report, str) else None

    tz_name = params.get("timezone", "UTC")
    tz: zoneinfo.ZoneInfo | None = None
    if not isinstance(tz_name, str) or tz_name not in time_zones():
        errs["timezone"] = _err(
            "format", "Must be an IANA time zone name such as America/New_York", value=tz_name
        )
    else:
        tz = zoneinfo.ZoneInfo(tz_name)

    start = end = None
    raw_start = params.get("start_date")
    if raw_start is None:
        errs["start_date"] = _err("required", "Field is required but missing")
    else:
        try:
            start = _date(raw_start, tz)
        except (TypeError, ValueError, OverflowError):
            errs["start_date"] = _err(
                "format", "Must be an ISO 8601 date (YYYY-MM-DD) or date-time", value=raw_start
            )
    raw_end = params.get("end_date")
    if raw_end is None:
        end = today or datetime.now(tz or UTC).date()
    else:
        try:
            end = _date(raw_end, tz)
        except (TypeError, ValueError, OverflowError):
            errs["end_date"] = _err(
                "format", "Must be an ISO 8601 date (YYYY-MM-DD) or date-time", value=raw_end
            )
    if start is not None and not MIN_DATE <= start <= MAX_DATE:
        errs["start_date"], start = _out_of_calendar(start), None
    if end is not None and not MIN_DATE <= end <= MAX_DATE:
        errs["end_date"], end = _out_of_calendar(end), None
    if start is not None and end is not None:
        if start > end:
            errs["start_date"] = _err(
                "date_range",
                "start_date is after end_date",
                value=start.isoformat(),
                target=end.isoformat(),
            )
        elif (end - start).days + 1 > limits.max_range_days:
            errs["end_date"] = _err(
                "date_range",
                f"The range may span at most {limits.max_range_days} days",
                value=(end - start).days + 1,
                target=limits.max_range_days,
            )

    period = params.get("period", "daily")
    if period not in PERIODS:
        errs["period"] = _err(
            "enum",
            "Value not found in enumerated list of values",
            value=period,
            target=list(PERIODS),
        )

    metrics: tuple[str, ...] = ()
    raw_metrics = params.get("metrics")
    if raw_metrics is None:
        metrics = tuple(kind.metrics) if kind else ()
    elif not isinstance(raw_metrics, list):
        errs["metrics"] = _err("type", "Value did not match type(s): array", value=raw_metrics)
    elif not raw_metrics:
        errs["metrics"] = _err("minItems", "The list must have at least 1 item", target=1)
    elif kind is not None:
        unknown = [m for m in raw_metrics if not isinstance(m, str) or m not in kind.metrics]
        if unknown:
            errs["metrics"] = _err(
                "enum",
                "Value not found in enumerated list of values",
                value=unknown[0] if len(unknown) == 1 else unknown,
                target=list(kind.metrics),
            )
        else:
            metrics = tuple(dict.fromkeys(raw_metrics))

    identifiers = _id_list(
        "identifiers", params.get("identifiers"), limits.max_identifiers, limits, errs
    )
    queue_ids = None
    if params.get("queue_ids") is not None and report == "queues":
        errs["queue_ids"] = _err(
            "forbidden",
            "queue_ids applies only to the recipients report",
            value=params["queue_ids"],
        )
    else:
        queue_ids = _id_list(
            "queue_ids", params.get("queue_ids"), limits.max_queue_ids, limits, errs
        )

    fmt = params.get("format", "csv" if csv_requested else "json")
    if fmt not in FORMATS:
        errs["format"] = _err(
            "enum", "Value not found in enumerated list of values", value=fmt, target=list(FORMATS)
        )

    if not errs and tz is not None and start is not None and end is not None:
        try:
            plan(start, end, str(period), tz.key)
        except UnsupportedTimezone:
            errs["timezone"] = _err(
                "date_range",
                "The zone's UTC offset in this range is not a whole number of quarter hours",
                value=tz.key,
            )

    if errs:
        raise errors.validation(errs)
    assert kind is not None and start is not None and end is not None and tz is not None
    return ReportRequest(
        report=kind.name,
        start=start,
        end=end,
        period=str(period),
        metrics=metrics,
        identifiers=identifiers,
        queue_ids=queue_ids,
        format=str(fmt),
        timezone=tz.key,
    )
