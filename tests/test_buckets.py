"""Week keys (CONTRACT.md section 4) and the bucket plan: view rows -> local buckets."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.report.buckets import BucketPlan, UnsupportedTimezone, plan, week_key

QUARTER = timedelta(minutes=15)
HOUR = timedelta(hours=1)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def sunday_count_week_key(d: date) -> str:
    """Independent of %U: the Sunday starting d's week, numbered by counting the Sundays of
    its year up to and including it."""
    sunday = d
    while sunday.isoweekday() != 7:
        sunday -= timedelta(days=1)
    first_sunday = date(sunday.year, 1, 1)
    while first_sunday.isoweekday() != 7:
        first_sunday += timedelta(days=1)
    n = (sunday - first_sunday).days // 7 + 1
    return f"{sunday.year:04d}{n:02d}"


def local_bucket(period: str, local: datetime) -> str:
    """The bucket of a local wall-clock time, straight from CONTRACT.md section 4."""
    if period == "daily":
        return f"{local.year:04d}{local.month:02d}{local.day:02d}"
    if period == "monthly":
        return f"{local.year:04d}{local.month:02d}"
    if period == "hourly":
        return f"{local.year:04d}{local.month:02d}{local.day:02d}{local.hour:02d}"
    assert period == "weekly"
    return sunday_count_week_key(local.date())


def slot_instant(tail: tuple[object, ...]) -> datetime:
    """The UTC instant a view key tail (day, hour[, quarter]) starts at."""
    day = datetime.strptime(str(tail[0]), "%Y%m%d").replace(tzinfo=UTC)
    if len(tail) == 1:
        return day
    hour = int(tail[1])  # type: ignore[call-overload]
    quarter = int(tail[2]) if len(tail) == 3 else 0  # type: ignore[call-overload]
    return day + timedelta(hours=hour, minutes=15 * quarter)


def window(first: date, last: date, tz_name: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(tz_name)
    t0 = datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC)
    t1 = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return t0, t1


def steps(t0: datetime, t1: datetime, step: timedelta) -> list[datetime]:
    out = []
    while t0 < t1:
        out.append(t0)
        t0 += step
    return out


# --- week_key ----------------------------------------------------------------------------


def test_week_of_sunday_2017_12_31_is_201753() -> None:
    assert week_key(date(2017, 12, 31)) == "201753"


@pytest.mark.parametrize("day", range(1, 7))
def test_first_days_of_2018_stay_in_the_week_that_started_on_sunday_2017_12_31(day: int) -> None:
    assert week_key(date(2018, 1, day)) == "201753"


def test_sunday_2018_01_07_starts_week_201801() -> None:
    assert week_key(date(2018, 1, 7)) == "201801"


def test_sunday_2017_01_01_is_week_201701() -> None:
    assert week_key(date(2017, 1, 1)) == "201701"


def test_published_weekly_example_january_2017_has_weeks_201701_to_201705() -> None:
    keys = {week_key(d) for d in days(date(2017, 1, 1), date(2017, 1, 31))}
    assert keys == {"201701", "201702", "201703", "201704", "201705"}
    # the last week starts on Sunday the 29th and only the 29th..31st are in range
    assert [
        d.day for d in days(date(2017, 1, 1), date(2017, 1, 31)) if week_key(d) == "201705"
    ] == [
        29,
        30,
        31,
    ]


def test_week_key_never_uses_week_00() -> None:
    keys = {week_key(d) for d in days(date(2015, 12, 1), date(2029, 1, 31))}
    assert not any(k.endswith("00") for k in keys)


def test_week_key_matches_counting_sundays_over_many_years() -> None:
    for d in days(date(2015, 12, 20), date(2029, 1, 15)):
        assert week_key(d) == sunday_count_week_key(d), d


def test_every_week_key_covers_seven_consecutive_days_starting_on_sunday() -> None:
    by_key: dict[str, list[date]] = {}
    for d in days(date(2016, 1, 3), date(2026, 12, 26)):  # Sunday .. Saturday
        by_key.setdefault(week_key(d), []).append(d)
    for key, ds in by_key.items():
        assert len(ds) == 7, key
        assert ds[0].isoweekday() == 7, key
        assert ds == days(ds[0], ds[-1]), key


# --- plan(): UTC, day resolution ---------------------------------------------------------


def test_utc_daily_uses_the_day_view_at_group_level_2_with_every_day_of_the_range() -> None:
    p = plan(date(2017, 1, 1), date(2017, 1, 10), "daily", "UTC")
    assert (p.resolution, p.group_level) == ("day", 2)
    assert (p.first_day, p.last_day) == (date(2017, 1, 1), date(2017, 1, 10))
    assert (p.first_day_key, p.last_day_key) == ("20170101", "20170110")
    expected = tuple(f"201701{d:02d}" for d in range(1, 11))
    assert p.buckets == expected
    assert p.slots == {(b,): b for b in expected}


def test_utc_daily_across_a_leap_day_and_year_end() -> None:
    p = plan(date(2024, 2, 28), date(2024, 3, 1), "daily")
    assert p.buckets == ("20240228", "20240229", "20240301")
    p = plan(date(2023, 12, 31), date(2024, 1, 1), "daily")
    assert p.buckets == ("20231231", "20240101")


def test_utc_weekly_published_example_has_five_weeks_and_each_day_in_its_week() -> None:
    p = plan(date(2017, 1, 1), date(2017, 1, 31), "weekly", "UTC")
    assert (p.resolution, p.group_level) == ("day", 2)
    assert p.buckets == ("201701", "201702", "201703", "201704", "201705")
    assert len(p.slots) == 31
    assert p.slots[("20170107",)] == "201701"
    assert p.slots[("20170108",)] == "201702"
    assert p.slots[("20170131",)] == "201705"


def test_utc_weekly_splits_weeks_at_the_range_ends() -> None:
    p = plan(date(2017, 1, 4), date(2017, 1, 10), "weekly")
    assert p.buckets == ("201701", "201702")
    assert p.slots == {
        ("20170104",): "201701",
        ("20170105",): "201701",
        ("20170106",): "201701",
        ("20170107",): "201701",
        ("20170108",): "201702",
        ("20170109",): "201702",
        ("20170110",): "201702",
    }
    # days of those weeks outside the range are not read
    assert ("20170103",) not in p.slots and ("20170111",) not in p.slots


def test_utc_weekly_over_new_year_keeps_the_december_week() -> None:
    p = plan(date(2017, 12, 30), date(2018, 1, 8), "weekly")
    assert p.buckets == ("201752", "201753", "201801")
    assert p.slots[("20180106",)] == "201753"


def test_utc_monthly_has_every_month_overlapping_the_range() -> None:
    p = plan(date(2017, 1, 15), date(2017, 3, 2), "monthly")
    assert (p.resolution, p.group_level) == ("day", 2)
    assert p.buckets == ("201701", "201702", "201703")
    assert p.slots[("20170131",)] == "201701"
    assert p.slots[("20170201",)] == "201702"
    assert p.slots[("20170302",)] == "201703"
    assert len(p.slots) == 17 + 28 + 2


def test_utc_monthly_published_example_is_three_months() -> None:
    p = plan(date(2017, 1, 1), date(2017, 3, 31), "monthly")
    assert p.buckets == ("201701", "201702", "201703")
    assert len(p.slots) == 31 + 28 + 31


# --- plan(): UTC hourly ------------------------------------------------------------------


def test_utc_hourly_reads_the_quarter_view_at_group_level_3_with_24_buckets_a_day() -> None:
    p = plan(date(2024, 1, 1), date(2024, 1, 2), "hourly", "UTC")
    assert (p.resolution, p.group_level) == ("quarter", 3)
    assert (p.first_day, p.last_day) == (date(2024, 1, 1), date(2024, 1, 2))
    expected = tuple(f"202401{d:02d}{h:02d}" for d in (1, 2) for h in range(24))
    assert p.buckets == expected
    assert p.slots == {
        (f"202401{d:02d}", h): f"202401{d:02d}{h:02d}" for d in (1, 2) for h in range(24)
    }


# --- plan(): half- and quarter-hour zones ------------------------------------------------


def test_kolkata_daily_uses_quarter_hours_and_starts_at_1830_utc_the_day_before() -> None:
    p = plan(date(2024, 3, 1), date(2024, 3, 1), "daily", "Asia/Kolkata")
    assert (p.resolution, p.group_level) == ("quarter", 4)
    assert (p.first_day, p.last_day) == (date(2024, 2, 29), date(2024, 3, 1))
    assert p.buckets == ("20240301",)
    assert len(p.slots) == 96
    # UTC 2024-02-29 18:30 is local 2024-03-01 00:00; 18:15 is still Feb 29 (outside)
    assert p.slots[("20240229", 18, 2)] == "20240301"
    assert ("20240229", 18, 1) not in p.slots
    # UTC 2024-03-01 18:15 is local 23:45, the last quarter; 18:30 is the next day
    assert p.slots[("20240301", 18, 1)] == "20240301"
    assert ("20240301", 18, 2) not in p.slots


def test_kolkata_monthly_puts_utc_feb_29_1830_into_march() -> None:
    p = plan(date(2024, 2, 1), date(2024, 3, 31), "monthly", "Asia/Kolkata")
    assert p.group_level == 4
    assert p.buckets == ("202402", "202403")
    assert p.slots[("20240229", 18, 1)] == "202402"
    assert p.slots[("20240229", 18, 2)] == "202403"
    assert (p.first_day, p.last_day) == (date(2024, 1, 31), date(2024, 3, 31))


def test_kathmandu_daily_starts_at_1815_utc_the_day_before() -> None:
    p = plan(date(2024, 3, 1), date(2024, 3, 1), "daily", "Asia/Kathmandu")
    assert (p.resolution, p.group_level) == ("quarter", 4)
    assert (p.first_day, p.last_day) == (date(2024, 2, 29), date(2024, 3, 1))
    assert p.buckets == ("20240301",)
    assert len(p.slots) == 96
    assert p.slots[("20240229", 18, 1)] == "20240301"
    assert ("20240229", 18, 0) not in p.slots
    assert p.slots[("20240301", 18, 0)] == "20240301"
    assert ("20240301", 18, 1) not in p.slots


def test_kathmandu_hourly_buckets_are_local_hours() -> None:
    p = plan(date(2024, 3, 1), date(2024, 3, 1), "hourly", "Asia/Kathmandu")
    assert p.group_level == 4
    assert p.buckets == tuple(f"20240301{h:02d}" for h in range(24))
    # 18:15 UTC = 00:00 local .. 19:00 UTC = 00:45 local, 19:15 UTC = 01:00 local
    assert p.slots[("20240229", 18, 1)] == "2024030100"
    assert p.slots[("20240229", 19, 0)] == "2024030100"
    assert p.slots[("20240229", 19, 1)] == "2024030101"


# --- plan(): daylight saving in New York -------------------------------------------------


def test_new_york_spring_forward_hourly_has_23_buckets_and_no_local_hour_02() -> None:
    p = plan(date(2024, 3, 10), date(2024, 3, 10), "hourly", "America/New_York")
    assert (p.resolution, p.group_level) == ("quarter", 3)
    assert (p.first_day, p.last_day) == (date(2024, 3, 10), date(2024, 3, 11))
    assert len(p.buckets) == 23
    assert "2024031002" not in p.buckets
    assert p.buckets == tuple(f"20240310{h:02d}" for h in range(24) if h != 2)
    # local midnight EST = 05:00 UTC; 06:00 UTC = 01:00 EST; 07:00 UTC = 03:00 EDT
    assert p.slots[("20240310", 5)] == "2024031000"
    assert p.slots[("20240310", 6)] == "2024031001"
    assert p.slots[("20240310", 7)] == "2024031003"
    assert ("20240310", 4) not in p.slots
    # the next local midnight is 04:00 UTC (EDT)
    assert p.slots[("20240311", 3)] == "2024031023"
    assert ("20240311", 4) not in p.slots
    assert len(p.slots) == 23


def test_new_york_fall_back_hourly_local_hour_01_covers_two_utc_hours() -> None:
    p = plan(date(2024, 11, 3), date(2024, 11, 3), "hourly", "America/New_York")
    assert (p.resolution, p.group_level) == ("quarter", 3)
    assert (p.first_day, p.last_day) == (date(2024, 11, 3), date(2024, 11, 4))
    assert p.buckets == tuple(f"20241103{h:02d}" for h in range(24))
    assert len(p.slots) == 25
    assert p.slots[("20241103", 4)] == "2024110300"  # 00:00 EDT
    assert p.slots[("20241103", 5)] == "2024110301"  # 01:00 EDT
    assert p.slots[("20241103", 6)] == "2024110301"  # 01:00 EST
    assert p.slots[("20241103", 7)] == "2024110302"
    assert p.slots[("20241104", 4)] == "2024110323"
    assert ("20241104", 5) not in p.slots


def test_new_york_daily_across_spring_forward_has_a_23_hour_day() -> None:
    p = plan(date(2024, 3, 9), date(2024, 3, 11), "daily", "America/New_York")
    assert (p.resolution, p.group_level) == ("quarter", 3)
    assert p.buckets == ("20240309", "20240310", "20240311")
    per_bucket = {b: sum(1 for v in p.slots.values() if v == b) for b in p.buckets}
    assert per_bucket == {"20240309": 24, "20240310": 23, "20240311": 24}
    assert (p.first_day, p.last_day) == (date(2024, 3, 9), date(2024, 3, 12))


def test_new_york_daily_across_fall_back_has_a_25_hour_day() -> None:
    p = plan(date(2024, 11, 2), date(2024, 11, 4), "daily", "America/New_York")
    per_bucket = {b: sum(1 for v in p.slots.values() if v == b) for b in p.buckets}
    assert per_bucket == {"20241102": 24, "20241103": 25, "20241104": 24}


# --- plan(): properties over many zones --------------------------------------------------

CASES = [
    ("UTC", "hourly", date(2024, 2, 28), date(2024, 3, 1)),
    ("Asia/Kolkata", "daily", date(2024, 2, 27), date(2024, 3, 2)),
    ("Asia/Kolkata", "hourly", date(2024, 2, 29), date(2024, 3, 1)),
    ("Asia/Kolkata", "weekly", date(2017, 12, 28), date(2018, 1, 9)),
    ("Asia/Kolkata", "monthly", date(2024, 1, 30), date(2024, 3, 2)),
    ("Asia/Kathmandu", "daily", date(2024, 2, 28), date(2024, 3, 1)),
    ("Asia/Kathmandu", "hourly", date(2024, 12, 31), date(2025, 1, 1)),
    ("America/New_York", "hourly", date(2024, 3, 9), date(2024, 3, 11)),
    ("America/New_York", "hourly", date(2024, 11, 2), date(2024, 11, 4)),
    ("America/New_York", "daily", date(2024, 3, 1), date(2024, 3, 31)),
    ("America/New_York", "weekly", date(2024, 10, 27), date(2024, 11, 16)),
    ("America/New_York", "monthly", date(2024, 10, 15), date(2024, 11, 15)),
    # -03:30 / -02:30: the clock change falls on a half hour in UTC
    ("America/St_Johns", "hourly", date(2024, 3, 10), date(2024, 3, 10)),
    ("America/St_Johns", "hourly", date(2024, 11, 3), date(2024, 11, 3)),
    ("America/St_Johns", "daily", date(2024, 3, 9), date(2024, 3, 11)),
    # +10:30 / +11:00: a 30-minute daylight saving shift
    ("Australia/Lord_Howe", "hourly", date(2024, 4, 7), date(2024, 4, 7)),
    ("Australia/Lord_Howe", "hourly", date(2024, 10, 6), date(2024, 10, 6)),
    ("Europe/London", "daily", date(2024, 3, 30), date(2024, 4, 1)),
    ("Pacific/Chatham", "daily", date(2024, 4, 6), date(2024, 4, 8)),
]


def _case_id(case: tuple[str, str, date, date]) -> str:
    tz, period, first, last = case
    return f"{tz}-{period}-{first:%Y%m%d}-{last:%Y%m%d}"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_every_utc_slot_of_the_local_window_appears_once_in_the_bucket_of_its_local_time(
    case: tuple[str, str, date, date],
) -> None:
    tz_name, period, first, last = case
    tz = ZoneInfo(tz_name)
    p = plan(first, last, period, tz_name)
    assert p.resolution == "quarter"
    assert p.group_level in (3, 4)
    tail_len = p.group_level - 1
    assert all(len(tail) == tail_len for tail in p.slots)

    t0, t1 = window(first, last, tz_name)
    step = QUARTER if p.group_level == 4 else HOUR
    expected_instants = steps(t0, t1, step)
    instants = [slot_instant(tail) for tail in p.slots]
    assert sorted(instants) == expected_instants  # each exactly once, nothing outside
    assert len(set(instants)) == len(instants)

    for tail, bucket in p.slots.items():
        assert bucket == local_bucket(period, slot_instant(tail).astimezone(tz)), tail

    expected_buckets = tuple(
        dict.fromkeys(local_bucket(period, t.astimezone(tz)) for t in expected_instants)
    )
    assert p.buckets == expected_buckets
    assert (p.first_day, p.last_day) == (t0.date(), (t1 - timedelta(seconds=1)).date())


@pytest.mark.parametrize("tz_name", ["Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns"])
def test_zones_with_non_whole_hour_offsets_need_group_level_4(tz_name: str) -> None:
    assert plan(date(2024, 6, 1), date(2024, 6, 2), "daily", tz_name).group_level == 4


@pytest.mark.parametrize("tz_name", ["America/New_York", "Europe/Berlin", "Asia/Tokyo"])
def test_zones_with_whole_hour_offsets_use_group_level_3(tz_name: str) -> None:
    p = plan(date(2024, 6, 1), date(2024, 6, 2), "daily", tz_name)
    assert (p.resolution, p.group_level) == ("quarter", 3)


def test_plan_is_a_bucket_plan_and_rejects_an_unknown_period() -> None:
    assert isinstance(plan(date(2024, 1, 1), date(2024, 1, 1), "daily"), BucketPlan)
    with pytest.raises(ValueError):
        plan(date(2024, 1, 1), date(2024, 1, 1), "yearly")
    with pytest.raises(ValueError):
        plan(date(2024, 1, 1), date(2024, 1, 1), "yearly", "Asia/Kolkata")


# --- plan(): zones whose offset is not a multiple of 15 minutes --------------------------


@pytest.mark.parametrize(
    "tz_name,day",
    [
        ("Africa/Monrovia", date(1960, 6, 1)),  # -0:44:30
        ("Asia/Kolkata", date(1900, 6, 1)),  # Madras time +5:21:10
        ("Europe/Amsterdam", date(1930, 1, 15)),  # Amsterdam time +0:19:32
    ],
)
@pytest.mark.parametrize("period", ["daily", "hourly", "monthly"])
def test_an_offset_that_is_not_a_quarter_hour_multiple_is_unsupported(
    tz_name: str, day: date, period: str
) -> None:
    offset = datetime.combine(day, time(12), tzinfo=ZoneInfo(tz_name)).utcoffset()
    assert offset is not None
    assert offset % timedelta(minutes=15) != timedelta(0), "pick another historical date"
    with pytest.raises(UnsupportedTimezone):
        plan(day, day, period, tz_name)


def test_unsupported_timezone_is_a_value_error() -> None:
    assert issubclass(UnsupportedTimezone, ValueError)
