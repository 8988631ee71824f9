"""Turn a local-calendar date range into the view rows to read and the buckets they fill.

The views key rows by UTC quarter hour (``[entity, day, hour, quarter]``). A
:class:`BucketPlan` says which group_level to ask for, which UTC days the key ranges span,
and maps each row's key tail to its output bucket (or to nothing when outside the range).
UTC daily/weekly/monthly reports read whole UTC days (group_level 2, the "day"
resolution); any other zone or the hourly period reads the coarsest level that the zone's
offsets allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo

PERIODS = ("daily", "weekly", "monthly", "hourly")
QUARTER = timedelta(minutes=15)


class UnsupportedTimezone(ValueError):
    """The zone's offset in the range is not a whole number of quarter hours."""


def week_key(d: date) -> str:
    """Year and %U week number of the Sunday that starts d's week (CONTRACT.md section 4)."""
    sunday = d - timedelta(days=(d.weekday() + 1) % 7)
    return sunday.strftime("%Y%U")


def bucket_key(period: str, local: datetime | date) -> str:
    if period == "daily":
        return local.strftime("%Y%m%d")
    if period == "weekly":
        return week_key(local if not isinstance(local, datetime) else local.date())
    if period == "monthly":
        return local.strftime("%Y%m")
    if period == "hourly":
        return local.strftime("%Y%m%d%H")
    raise ValueError(period)


def offset_seconds(t: datetime) -> int:
    """The seconds part of an aware time's UTC offset (0 for a naive one)."""
    offset = t.utcoffset()
    return offset.seconds if offset is not None else 0


def day_key(d: date) -> str:
    return f"{d.year:04d}{d.month:02d}{d.day:02d}"


@dataclass(frozen=True, eq=False)
class BucketPlan:
    resolution: str  # "day": whole UTC days (group_level 2); "quarter": finer
    group_level: int  # 2 (day), 3 (hour) or 4 (quarter hour)
    first_day: date  # UTC days spanned by the key ranges, inclusive
    last_day: date
    buckets: tuple[str, ...]  # every output bucket, in order
    slots: dict[tuple[str | int, ...], str]  # row key tail (key[1:]) -> bucket

    @cached_property
    def index(self) -> dict[str, int | list[int]]:
        """UTC day key -> bucket number (group_level 2), or -> a list of bucket numbers by
        hour (3) or by hour * 4 + quarter (4), -1 outside the range: the merge's lookup,
        which needs no tuple per row."""
        number = {b: i for i, b in enumerate(self.buckets)}
        if self.group_level == 2:
            return {str(tail[0]): number[b] for tail, b in self.slots.items()}
        per_day = 24 if self.group_level == 3 else 96
        out: dict[str, list[int]] = {}
        for tail, b in self.slots.items():
            day, hour = str(tail[0]), int(tail[1])
            at = hour if self.group_level == 3 else hour * 4 + int(tail[2])
            out.setdefault(day, [-1] * per_day)[at] = number[b]
        return {day: numbers for day, numbers in out.items()}

    @property
    def first_day_key(self) -> str:
        return day_key(self.first_day)

    @property
    def last_day_key(self) -> str:
        return day_key(self.last_day)


def local_window(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC instants of the first local midnight and of the local midnight after ``end``."""
    t0 = datetime.combine(start, time(0), tz).astimezone(UTC)
    t1 = datetime.combine(end + timedelta(days=1), time(0), tz).astimezone(UTC)
    return t0, t1


def _steps(t0: datetime, t1: datetime, step: timedelta) -> list[datetime]:
    out = []
    t = t0
    while t < t1:
        out.append(t)
        t += step
    return out


@lru_cache(maxsize=32)  # a year of quarter-hour slots is ~35k entries: keep few
def plan(start: date, end: date, period: str, tz_name: str = "UTC") -> BucketPlan:
    """The rows to read and where each goes, for local days ``start``..``end`` inclusive."""
    if period not in PERIODS:
        raise ValueError(period)
    if tz_name == "UTC" and period != "hourly":
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        slots: dict[tuple[str | int, ...], str] = {
            (day_key(d),): bucket_key(period, d) for d in days
        }
        return BucketPlan("day", 2, start, end, tuple(dict.fromkeys(slots.values())), slots)

    tz = ZoneInfo(tz_name)
    t0, t1 = local_window(start, end, tz)
    quarters = _steps(t0, t1, QUARTER)
    local = [q.astimezone(tz) for q in quarters]  # per quarter: offsets can change mid-hour
    if t0.minute % 15 or t0.second or any(offset_seconds(lt) % 900 for lt in local):
        raise UnsupportedTimezone(tz_name)
    keys: dict[tuple[date, int], str] = {}  # local (date, hour) -> bucket: strftime once each
    quarter_slots: dict[tuple[str | int, ...], str] = {}
    utc_days: dict[date, str] = {}
    for q, lt in zip(quarters, local, strict=True):
        lk = (lt.date(), lt.hour)
        bucket = keys.get(lk)
        if bucket is None:
            bucket = keys[lk] = bucket_key(period, lt)
        qd = q.date()
        utc_day = utc_days.get(qd) or utc_days.setdefault(qd, day_key(qd))
        quarter_slots[(utc_day, q.hour, q.minute // 15)] = bucket
    # the coarsest rows that still fall whole into one bucket: hours where the zone allows
    hour_slots: dict[tuple[str | int, ...], str] = {}
    whole_hours = t0.minute == 0 and t1.minute == 0
    for (day, hour, _), bucket in quarter_slots.items():
        if not whole_hours:
            break
        if hour_slots.setdefault((day, hour), bucket) != bucket:
            whole_hours = False
    level, slots = (3, hour_slots) if whole_hours else (4, quarter_slots)
    last = t1 - timedelta(microseconds=1)
    return BucketPlan(
        "quarter", level, t0.date(), last.date(), tuple(dict.fromkeys(slots.values())), slots
    )
