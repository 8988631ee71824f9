"""The request's days: ISO 8601 dates or date-times, taken in the report's zone, and the
range rule (``end_date`` defaults to today there; not before ``start_date``; bounded)."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from pydantic import ValidationInfo, ValidatorFunctionWrapHandler, WrapValidator

from app.report.request.types import fail

# Room for a report's local window and the MoDB month after it inside Python's calendar
# (years 1..9999, where plan() would overflow), with four-digit years in every bucket key
MIN_DATE, MAX_DATE = date(1900, 1, 1), date(9998, 12, 31)
DATE_MSG = "Must be an ISO 8601 date (YYYY-MM-DD) or date-time"


@cache
def time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


def parse_day(value: Any, info: ValidationInfo) -> date:
    """An ISO 8601 date, or a date-time whose day is taken in the report's zone."""
    zone = info.data.get("timezone")
    try:
        if not isinstance(value, str):
            raise TypeError
        text = value.strip()
        if len(text) == 10:
            day = date.fromisoformat(text)
        else:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
            if dt.tzinfo is not None and zone is not None:
                dt = dt.astimezone(zoneinfo.ZoneInfo(zone))
            day = dt.date()
    except (TypeError, ValueError, OverflowError):
        raise fail("format", DATE_MSG, value=value) from None
    if not MIN_DATE <= day <= MAX_DATE:
        bounds = [MIN_DATE.isoformat(), MAX_DATE.isoformat()]
        message = f"Must be between {bounds[0]} and {bounds[1]}"
        raise fail("date_range", message, value=day.isoformat(), target=bounds)
    return day


def last_day(max_days: int) -> WrapValidator:
    """``end_date``: default today in the zone; not before ``start_date``, at most
    ``max_days`` days after it counting both ends."""

    def check(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> date:
        if value is None:
            zone = info.data.get("timezone")
            today = (info.context or {}).get("today")
            today = today or datetime.now(zoneinfo.ZoneInfo(zone) if zone else UTC).date()
            value = today.isoformat()
        end: date = handler(value)
        start = info.data.get("start_date")
        if start is not None and start > end:
            raise fail(
                "date_range",
                "start_date is after end_date",
                value=start.isoformat(),
                target=end.isoformat(),
                field="start_date",
            )
        if start is not None and (end - start).days + 1 > max_days:
            message = f"The range may span at most {max_days} days"
            raise fail("date_range", message, value=(end - start).days + 1, target=max_days)
        return end

    return WrapValidator(check)
