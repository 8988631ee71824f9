"""Request validation: defaults, and Crossbar's validation error shape (CONTRACT.md section 5)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from reference import (
    QUEUE_ALL_METRICS,
    QUEUE_METRICS,
    RECIPIENT_ALL_METRICS,
    RECIPIENT_METRICS,
    THRESHOLDS,
)

from app.errors import ApiError
from app.report.request import Limits, ReportRequest, from_query, split_list, validate

TODAY = date(2017, 1, 10)
PERIODS = ["daily", "weekly", "monthly", "hourly"]
ENUM_MSG = "Value not found in enumerated list of values"
DATE_MSG = "Must be an ISO 8601 date (YYYY-MM-DD) or date-time"
REQUIRED = {"required": {"message": "Field is required but missing"}}


def queues(**fields: Any) -> dict[str, Any]:
    return {"report": "queues", "start_date": "2017-01-01", **fields}


def recipients(**fields: Any) -> dict[str, Any]:
    return {"report": "recipients", "start_date": "2017-01-01", **fields}


def ok(params: dict[str, Any], **kwargs: Any) -> ReportRequest:
    kwargs.setdefault("today", TODAY)
    return validate(params, **kwargs)


def error_data(params: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("today", TODAY)
    with pytest.raises(ApiError) as info:
        validate(params, **kwargs)
    assert info.value.status == 400
    assert info.value.message == "validation error"
    return info.value.data


# --- defaults ----------------------------------------------------------------------------


def test_defaults_daily_all_queue_metrics_json_utc_and_end_date_today() -> None:
    req = ok({"report": "queues", "start_date": "2017-01-01"}, today=date(2017, 1, 10))
    assert req == ReportRequest(
        report="queues",
        start=date(2017, 1, 1),
        end=date(2017, 1, 10),
        period="daily",
        metrics=tuple(QUEUE_METRICS),
        identifiers=None,
        queue_ids=None,
        format="json",
        timezone="UTC",
    )


def test_default_metrics_of_the_recipients_report_in_published_order() -> None:
    assert ok(recipients()).metrics == tuple(RECIPIENT_METRICS)


def test_end_date_defaults_to_the_today_argument() -> None:
    assert ok(queues(), today=date(2017, 3, 5)).end == date(2017, 3, 5)


def test_report_may_come_from_the_path_alone() -> None:
    req = ok({"start_date": "2017-01-01"}, path_report="recipients")
    assert req.report == "recipients"
    assert req.metrics == tuple(RECIPIENT_METRICS)


def test_body_report_equal_to_the_path_report_is_accepted() -> None:
    assert ok(queues(), path_report="queues").report == "queues"


def test_published_daily_example_is_valid() -> None:
    req = ok(
        {
            "report": "queues",
            "start_date": "2017-01-01",
            "end_date": "2017-01-10",
            "period": "daily",
            "metrics": ["call_count"],
            "identifiers": ["0123456789abcdef0123456789abcdef"],
        }
    )
    assert (req.start, req.end, req.period) == (date(2017, 1, 1), date(2017, 1, 10), "daily")
    assert req.metrics == ("call_count",)
    assert req.identifiers == ("0123456789abcdef0123456789abcdef",)


@pytest.mark.parametrize("period", PERIODS)
def test_every_period_is_accepted(period: str) -> None:
    assert ok(queues(period=period)).period == period


def test_queue_ids_are_accepted_on_the_recipients_report() -> None:
    assert ok(recipients(queue_ids=["q1", "q2"])).queue_ids == ("q1", "q2")


def test_a_known_timezone_is_kept() -> None:
    assert ok(queues(timezone="Asia/Kolkata")).timezone == "Asia/Kolkata"


# --- report ------------------------------------------------------------------------------


def test_missing_report_is_required() -> None:
    assert error_data({"start_date": "2017-01-01"}) == {"report": REQUIRED}


@pytest.mark.parametrize("report", ["agents", "Queues", "", 5, ["queues"]])
def test_unknown_report_is_an_enum_error_listing_the_reports(report: Any) -> None:
    assert error_data({"report": report, "start_date": "2017-01-01"}) == {
        "report": {
            "enum": {
                "message": ENUM_MSG,
                "value": report,
                "target": [
                    "queues",
                    "recipients",
                    "agent_states",
                    "visits",
                    "offers",
                    "agent_intervals",
                ],
            }
        }
    }


def test_unknown_report_in_the_path_is_an_enum_error() -> None:
    assert error_data({"start_date": "2017-01-01"}, path_report="agents") == {
        "report": {
            "enum": {
                "message": ENUM_MSG,
                "value": "agents",
                "target": [
                    "queues",
                    "recipients",
                    "agent_states",
                    "visits",
                    "offers",
                    "agent_intervals",
                ],
            }
        }
    }


def test_body_report_different_from_the_path_report_is_rejected() -> None:
    assert error_data(queues(), path_report="recipients") == {
        "report": {
            "enum": {
                "message": "Must match the report in the URL",
                "value": "queues",
                "target": ["recipients"],
            }
        }
    }


# --- dates -------------------------------------------------------------------------------


def test_missing_start_date_is_required() -> None:
    assert error_data({"report": "queues"}) == {"start_date": REQUIRED}


@pytest.mark.parametrize(
    "value",
    ["2017/01/01", "01-01-2017", "2017-02-30", "2017-13-01", "yesterday", "", "2017-1-1", 20170101],
)
def test_bad_start_date_is_a_format_error(value: Any) -> None:
    assert error_data(queues(start_date=value)) == {
        "start_date": {"format": {"message": DATE_MSG, "value": value}}
    }


@pytest.mark.parametrize("value", ["2017/01/10", "10.01.2017", "2017-01-32", 1484006400, ["x"]])
def test_bad_end_date_is_a_format_error(value: Any) -> None:
    assert error_data(queues(end_date=value)) == {
        "end_date": {"format": {"message": DATE_MSG, "value": value}}
    }


def test_start_after_end_is_a_date_range_error_on_start_date() -> None:
    assert error_data(queues(start_date="2017-01-10", end_date="2017-01-09")) == {
        "start_date": {
            "date_range": {
                "message": "start_date is after end_date",
                "value": "2017-01-10",
                "target": "2017-01-09",
            }
        }
    }


def test_start_equal_to_end_is_one_valid_day() -> None:
    req = ok(queues(start_date="2017-01-05", end_date="2017-01-05"))
    assert req.start == req.end == date(2017, 1, 5)


def test_start_after_the_default_end_today_is_a_date_range_error() -> None:
    data = error_data(queues(start_date="2017-02-01"), today=date(2017, 1, 31))
    assert data["start_date"]["date_range"]["target"] == "2017-01-31"


def test_range_longer_than_the_limit_is_a_date_range_error_on_end_date() -> None:
    limits = Limits(max_range_days=31)
    # 2017-01-01 .. 2017-02-01 is 32 days, both ends inclusive
    assert error_data(queues(end_date="2017-02-01"), limits=limits) == {
        "end_date": {
            "date_range": {
                "message": "The range may span at most 31 days",
                "value": 32,
                "target": 31,
            }
        }
    }


def test_range_exactly_at_the_limit_is_accepted() -> None:
    req = ok(queues(end_date="2017-01-31"), limits=Limits(max_range_days=31))
    assert (req.end - req.start).days + 1 == 31


def test_default_limit_allows_a_whole_leap_year_but_not_one_day_more() -> None:
    assert ok(queues(start_date="2024-01-01", end_date="2024-12-31")).end == date(2024, 12, 31)
    data = error_data(queues(start_date="2024-01-01", end_date="2025-01-01"))
    assert data == {
        "end_date": {
            "date_range": {
                "message": "The range may span at most 366 days",
                "value": 367,
                "target": 366,
            }
        }
    }


def test_range_to_the_default_end_today_is_limited_too() -> None:
    today = date(2018, 6, 1)
    span = (today - date(2017, 1, 1)).days + 1
    assert error_data(queues(), today=today, limits=Limits(max_range_days=100)) == {
        "end_date": {
            "date_range": {
                "message": "The range may span at most 100 days",
                "value": span,
                "target": 100,
            }
        }
    }


def test_date_times_with_offsets_take_their_day_in_utc_by_default() -> None:
    # 02:00 +05:30 is 20:30 UTC the day before; 23:30 -05:00 is 04:30 UTC the day after
    req = ok(queues(start_date="2024-03-01T02:00:00+05:30", end_date="2024-03-01T23:30:00-05:00"))
    assert (req.start, req.end) == (date(2024, 2, 29), date(2024, 3, 2))


def test_date_times_with_offsets_take_their_day_in_the_report_timezone() -> None:
    # 19:00 UTC is 00:30 the next day in Kolkata (+05:30); 18:00 UTC is 23:30 the same day
    req = ok(
        queues(
            start_date="2024-02-29T19:00:00Z",
            end_date="2024-03-05T18:00:00+00:00",
            timezone="Asia/Kolkata",
        )
    )
    assert (req.start, req.end) == (date(2024, 3, 1), date(2024, 3, 5))


def test_date_time_conversion_agrees_with_zoneinfo_around_new_york_dst() -> None:
    text = "2024-11-03T04:30:00+00:00"  # 00:30 EDT on Nov 3
    expected = datetime.fromisoformat(text).astimezone(ZoneInfo("America/New_York")).date()
    req = ok(
        queues(start_date=text, end_date="2024-11-04", timezone="America/New_York"),
    )
    assert req.start == expected == date(2024, 11, 3)


def test_a_date_time_without_offset_is_already_local() -> None:
    req = ok(
        queues(
            start_date="2024-03-01T23:59:59",
            end_date="2024-03-02T00:00:00",
            timezone="Asia/Kolkata",
        )
    )
    assert (req.start, req.end) == (date(2024, 3, 1), date(2024, 3, 2))


# --- period, metrics, format, timezone ---------------------------------------------------


@pytest.mark.parametrize("period", ["yearly", "Daily", "", 1])
def test_bad_period_is_an_enum_error_listing_the_periods(period: Any) -> None:
    assert error_data(queues(period=period)) == {
        "period": {"enum": {"message": ENUM_MSG, "value": period, "target": PERIODS}}
    }


@pytest.mark.parametrize("metrics", ["call_count", {"call_count": True}, 3])
def test_metrics_not_a_list_is_a_type_error(metrics: Any) -> None:
    assert error_data(queues(metrics=metrics)) == {
        "metrics": {"type": {"message": "Value did not match type(s): array", "value": metrics}}
    }


def test_empty_metrics_is_a_min_items_error() -> None:
    assert error_data(queues(metrics=[])) == {
        "metrics": {"minItems": {"message": "The list must have at least 1 item", "target": 1}}
    }


def test_one_unknown_metric_is_an_enum_error_naming_it_and_listing_the_allowed() -> None:
    assert error_data(queues(metrics=["call_count", "bogus"])) == {
        "metrics": {"enum": {"message": ENUM_MSG, "value": "bogus", "target": QUEUE_ALL_METRICS}}
    }


def test_several_unknown_metrics_are_all_named() -> None:
    # recipient metrics do not exist on the queue report
    assert error_data(queues(metrics=["missed_call_count", "avg_wait", "x"])) == {
        "metrics": {
            "enum": {
                "message": ENUM_MSG,
                "value": ["missed_call_count", "x"],
                "target": QUEUE_ALL_METRICS,
            }
        }
    }


def test_queue_metric_on_the_recipients_report_is_unknown() -> None:
    assert error_data(recipients(metrics=["avg_wait"])) == {
        "metrics": {
            "enum": {"message": ENUM_MSG, "value": "avg_wait", "target": RECIPIENT_ALL_METRICS}
        }
    }


def test_requested_metrics_keep_their_order_and_lose_duplicates() -> None:
    req = ok(queues(metrics=["abandon_count", "call_count", "abandon_count", "avg_wait"]))
    assert req.metrics == ("abandon_count", "call_count", "avg_wait")


@pytest.mark.parametrize("fmt", ["xml", "CSV", "", 1])
def test_bad_format_is_an_enum_error(fmt: Any) -> None:
    assert error_data(queues(format=fmt)) == {
        "format": {"enum": {"message": ENUM_MSG, "value": fmt, "target": ["json", "csv"]}}
    }


def test_format_csv_in_the_body_is_accepted() -> None:
    assert ok(queues(format="csv")).format == "csv"


def test_csv_requested_selects_csv_when_the_body_names_no_format() -> None:
    assert ok(queues(), csv_requested=True).format == "csv"
    assert ok(queues(), csv_requested=False).format == "json"


def test_an_explicit_body_format_wins_over_csv_requested() -> None:
    assert ok(queues(format="json"), csv_requested=True).format == "json"


@pytest.mark.parametrize("tz", ["Mars/Olympus", "utc", "America/new_york", "+05:30", "", 5])
def test_unknown_timezone_is_a_format_error(tz: Any) -> None:
    assert error_data(queues(timezone=tz)) == {
        "timezone": {
            "format": {
                "message": "Must be an IANA time zone name such as America/New_York",
                "value": tz,
            }
        }
    }


def test_timezone_whose_offset_is_not_a_quarter_hour_multiple_in_the_range_is_rejected() -> None:
    day = date(1960, 6, 1)
    offset = datetime.combine(day, time(12), tzinfo=ZoneInfo("Africa/Monrovia")).utcoffset()
    assert offset is not None and offset.total_seconds() % 900 != 0
    assert error_data(
        queues(start_date="1960-06-01", end_date="1960-06-02", timezone="Africa/Monrovia")
    ) == {
        "timezone": {
            "date_range": {
                "message": (
                    "The zone's UTC offset in this range is not a whole number of quarter hours"
                ),
                "value": "Africa/Monrovia",
            }
        }
    }


# --- identifiers and queue_ids -----------------------------------------------------------


@pytest.mark.parametrize("value", ["q1", {"q1": 1}, 7])
def test_identifiers_not_a_list_is_a_type_error(value: Any) -> None:
    assert error_data(queues(identifiers=value)) == {
        "identifiers": {"type": {"message": "Value did not match type(s): array", "value": value}}
    }


def test_empty_identifiers_is_a_min_items_error() -> None:
    assert error_data(queues(identifiers=[])) == {
        "identifiers": {"minItems": {"message": "The list must have at least 1 item", "target": 1}}
    }


def test_too_many_identifiers_is_a_max_items_error() -> None:
    limits = Limits(max_identifiers=2)
    assert ok(queues(identifiers=["a", "b"]), limits=limits).identifiers == ("a", "b")
    assert error_data(queues(identifiers=["a", "b", "c"]), limits=limits) == {
        "identifiers": {"maxItems": {"message": "The list has more than 2 items", "target": 2}}
    }


def test_a_non_string_identifier_is_a_type_error() -> None:
    assert error_data(queues(identifiers=["a", 12])) == {
        "identifiers": {"type": {"message": "Each item must be a string", "value": 12}}
    }


@pytest.mark.parametrize(
    "bad", ["has space", "-starts-with-dash", "=cmd()", "a/b", "a,b", 'quote"d', "ünï", "_x", ""]
)
def test_an_identifier_with_a_bad_character_is_a_pattern_error(bad: str) -> None:
    assert error_data(queues(identifiers=["good", bad])) == {
        "identifiers": {
            "pattern": {
                "message": "An id may hold only letters, digits and _ . @ : + -",
                "value": bad,
            }
        }
    }


@pytest.mark.parametrize("good", ["a", "Q1", "9", "user@example.com", "a_b.c:d+e-f", "x" * 128])
def test_identifiers_of_the_allowed_alphabet_and_length_are_accepted(good: str) -> None:
    assert ok(queues(identifiers=[good])).identifiers == (good,)


def test_an_identifier_longer_than_the_limit_is_a_max_length_error() -> None:
    limits = Limits(max_id_length=8)
    assert ok(queues(identifiers=["abcdefgh"]), limits=limits).identifiers == ("abcdefgh",)
    assert error_data(queues(identifiers=["abcdefghi"]), limits=limits) == {
        "identifiers": {
            "maxLength": {
                "message": "An id is longer than 8 characters",
                "value": "abcdefghi",
                "target": 8,
            }
        }
    }


def test_a_very_long_identifier_is_echoed_back_truncated_to_64_characters() -> None:
    long_id = "a" * 64 + "b" * 200
    assert error_data(queues(identifiers=[long_id])) == {
        "identifiers": {
            "maxLength": {
                "message": "An id is longer than 128 characters",
                "value": "a" * 64,
                "target": 128,
            }
        }
    }


def test_identifiers_lose_duplicates_and_keep_their_order() -> None:
    assert ok(queues(identifiers=["q2", "q1", "q2", "q3", "q1"])).identifiers == ("q2", "q1", "q3")


def test_queue_ids_on_the_queue_report_are_forbidden() -> None:
    assert error_data(queues(queue_ids=["q1"])) == {
        "queue_ids": {
            "forbidden": {
                "message": "queue_ids applies only to the recipients and offers reports",
                "value": ["q1"],
            }
        }
    }


def test_queue_ids_on_the_queue_report_named_by_the_path_are_forbidden() -> None:
    data = error_data({"start_date": "2017-01-01", "queue_ids": ["q1"]}, path_report="queues")
    assert list(data) == ["queue_ids"]
    assert "forbidden" in data["queue_ids"]


def test_queue_ids_are_checked_like_identifiers_with_their_own_limit() -> None:
    limits = Limits(max_queue_ids=1, max_identifiers=5)
    assert error_data(recipients(queue_ids=["q1", "q2"]), limits=limits) == {
        "queue_ids": {"maxItems": {"message": "The list has more than 1 items", "target": 1}}
    }
    assert error_data(recipients(queue_ids="q1")) == {
        "queue_ids": {"type": {"message": "Value did not match type(s): array", "value": "q1"}}
    }
    assert error_data(recipients(queue_ids=["q 1"])) == {
        "queue_ids": {
            "pattern": {
                "message": "An id may hold only letters, digits and _ . @ : + -",
                "value": "q 1",
            }
        }
    }


def test_queue_ids_lose_duplicates_and_keep_their_order() -> None:
    assert ok(recipients(queue_ids=["b", "a", "b"])).queue_ids == ("b", "a")


# --- KPI metrics, service_level_threshold and totals (CONTRACT.md 3b, 3c) ------------------

BOOLEAN_MSG = "Value did not match type(s): boolean"


def test_threshold_defaults_to_20_and_totals_to_off() -> None:
    req = ok(queues())
    assert (req.threshold, req.totals) == (20, False)


@pytest.mark.parametrize("threshold", THRESHOLDS)
def test_every_allowed_threshold_is_accepted(threshold: int) -> None:
    assert ok(queues(service_level_threshold=threshold)).threshold == threshold


@pytest.mark.parametrize(
    "threshold", [0, 1, 7, 21, -20, 601, 3600, "20", "fast", "", True, False, 20.5, [20], {"t": 20}]
)
def test_any_other_threshold_is_an_enum_error_listing_the_allowed(threshold: Any) -> None:
    assert error_data(recipients(service_level_threshold=threshold)) == {
        "service_level_threshold": {
            "enum": {"message": ENUM_MSG, "value": threshold, "target": THRESHOLDS}
        }
    }


@pytest.mark.parametrize("totals", [True, False])
def test_totals_takes_a_json_boolean(totals: bool) -> None:
    assert ok(recipients(totals=totals)).totals is totals


@pytest.mark.parametrize("totals", ["true", "false", "yes", "", 1, 0, 1.0, [True], {"on": True}])
def test_totals_that_is_not_a_json_boolean_is_a_type_error(totals: Any) -> None:
    assert error_data(queues(totals=totals)) == {
        "totals": {"type": {"message": BOOLEAN_MSG, "value": totals}}
    }


def test_every_kpi_is_accepted_on_its_own_report() -> None:
    assert ok(queues(metrics=QUEUE_ALL_METRICS)).metrics == tuple(QUEUE_ALL_METRICS)
    assert ok(recipients(metrics=RECIPIENT_ALL_METRICS)).metrics == tuple(RECIPIENT_ALL_METRICS)


@pytest.mark.parametrize(
    ("params", "wrong", "target"),
    [
        (queues, "offered_count", QUEUE_ALL_METRICS),
        (queues, "total_call_duration", QUEUE_ALL_METRICS),
        (recipients, "service_level", RECIPIENT_ALL_METRICS),
        (recipients, "max_wait", RECIPIENT_ALL_METRICS),
    ],
)
def test_a_kpi_of_the_other_report_is_an_enum_error(params: Any, wrong: str, target: Any) -> None:
    assert error_data(params(metrics=["call_count", wrong])) == {
        "metrics": {"enum": {"message": ENUM_MSG, "value": wrong, "target": target}}
    }


def test_threshold_and_totals_are_reported_with_every_other_bad_field() -> None:
    assert error_data(
        queues(period="yearly", service_level_threshold=19, totals="true", format="xml")
    ) == {
        "period": {"enum": {"message": ENUM_MSG, "value": "yearly", "target": PERIODS}},
        "service_level_threshold": {
            "enum": {"message": ENUM_MSG, "value": 19, "target": THRESHOLDS}
        },
        "totals": {"type": {"message": BOOLEAN_MSG, "value": "true"}},
        "format": {"enum": {"message": ENUM_MSG, "value": "xml", "target": ["json", "csv"]}},
    }


def test_a_query_string_carries_threshold_as_digits_and_totals_as_true_or_false() -> None:
    query = {
        "start_date": "2017-01-01",
        "period": "weekly",
        "metrics": "service_level,max_wait",
        "identifiers": "q1,q2",
        "service_level_threshold": "30",
        "totals": "true",
    }
    assert from_query(query) == {
        "start_date": "2017-01-01",
        "period": "weekly",
        "metrics": ["service_level", "max_wait"],
        "identifiers": ["q1", "q2"],
        "service_level_threshold": 30,
        "totals": True,
    }
    req = ok(from_query(query), path_report="queues")
    assert (req.threshold, req.totals, req.metrics) == (30, True, ("service_level", "max_wait"))
    assert ok(from_query({**query, "totals": "false"}), path_report="queues").totals is False


@pytest.mark.parametrize(
    ("text", "value"), [("7", 7), ("021", 21), ("-5", -5), ("abc", "abc"), ("20s", "20s"), ("", "")]
)
def test_a_query_string_threshold_not_allowed_is_an_enum_error_with_the_parsed_value(
    text: str, value: Any
) -> None:
    assert error_data(
        from_query({"start_date": "2017-01-01", "service_level_threshold": text}),
        path_report="queues",
    ) == {
        "service_level_threshold": {
            "enum": {"message": ENUM_MSG, "value": value, "target": THRESHOLDS}
        }
    }


@pytest.mark.parametrize("text", ["True", "TRUE", "1", "0", "yes", "on", ""])
def test_a_query_string_totals_other_than_true_or_false_is_a_type_error(text: str) -> None:
    params = from_query({"start_date": "2017-01-01", "totals": text})
    assert error_data(params, path_report="recipients") == {
        "totals": {"type": {"message": BOOLEAN_MSG, "value": text}}
    }


# --- several errors at once --------------------------------------------------------------


def test_every_bad_field_is_reported_at_once() -> None:
    data = error_data(
        {
            "start_date": "not a date",
            "end_date": "2017-01-32",
            "period": "yearly",
            "metrics": [],
            "identifiers": "q1",
            "format": "xml",
            "timezone": "Nowhere/Town",
        }
    )
    assert data == {
        "report": REQUIRED,
        "start_date": {"format": {"message": DATE_MSG, "value": "not a date"}},
        "end_date": {"format": {"message": DATE_MSG, "value": "2017-01-32"}},
        "period": {"enum": {"message": ENUM_MSG, "value": "yearly", "target": PERIODS}},
        "metrics": {"minItems": {"message": "The list must have at least 1 item", "target": 1}},
        "identifiers": {"type": {"message": "Value did not match type(s): array", "value": "q1"}},
        "format": {"enum": {"message": ENUM_MSG, "value": "xml", "target": ["json", "csv"]}},
        "timezone": {
            "format": {
                "message": "Must be an IANA time zone name such as America/New_York",
                "value": "Nowhere/Town",
            }
        },
    }


def test_a_range_error_is_reported_together_with_other_fields() -> None:
    data = error_data(queues(start_date="2017-02-01", end_date="2017-01-01", metrics=["nope"]))
    assert set(data) == {"start_date", "metrics"}
    assert set(data["start_date"]) == {"date_range"}
    assert set(data["metrics"]) == {"enum"}


# --- split_list --------------------------------------------------------------------------


def test_split_list_splits_a_query_string_on_commas_and_trims() -> None:
    assert split_list("call_count,avg_wait") == ["call_count", "avg_wait"]
    assert split_list(" q1 , ,q2,, q3 ") == ["q1", "q2", "q3"]
    assert split_list("single") == ["single"]


def test_split_list_of_an_empty_string_is_an_empty_list() -> None:
    assert split_list("") == []
    assert split_list(" , ") == []


def test_split_list_leaves_non_strings_alone() -> None:
    value = ["a", "b"]
    assert split_list(value) is value
    assert split_list(None) is None
    assert split_list(3) == 3


def test_a_query_string_list_validates_like_a_json_list() -> None:
    req = ok(
        queues(
            metrics=split_list("call_count,avg_wait,call_count"), identifiers=split_list("q1,q2")
        )
    )
    assert req.metrics == ("call_count", "avg_wait")
    assert req.identifiers == ("q1", "q2")


def test_an_empty_query_string_list_is_a_min_items_error() -> None:
    assert "minItems" in error_data(queues(identifiers=split_list("")))["identifiers"]


@pytest.mark.parametrize("field", ["period", "format", "end_date", "metrics", "identifiers"])
def test_json_null_means_the_field_was_omitted(field: str) -> None:
    base = {"report": "recipients", "start_date": "2017-01-01"}
    assert validate({**base, field: None}, today=TODAY) == validate(base, today=TODAY)


def test_an_identifier_named_total_is_forbidden_only_with_totals() -> None:
    """With totals the last report item has the id "total": an entity of that id would be
    indistinguishable from it."""
    params = {"report": "queues", "start_date": "2024-01-01", "end_date": "2024-01-02"}
    params["identifiers"] = ["q1", "total"]
    with pytest.raises(ApiError) as caught:
        validate({**params, "totals": True})
    assert caught.value.status == 400
    assert caught.value.data == {
        "identifiers": {
            "forbidden": {
                "message": '"total" is the id of the totals item: it cannot be an identifier '
                "when totals is true",
                "value": "total",
            }
        }
    }
    assert validate(params).identifiers == ("q1", "total")  # without totals it is just an id
