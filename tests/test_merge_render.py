"""Merge over hand-made view rows, and the JSON and CSV renderers (CONTRACT.md sections 3, 3c)."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import orjson
import pytest
import reference as ref

from app.report.buckets import plan
from app.report.load import sources_for
from app.report.merge import Merge
from app.report.render import csv as csv_render
from app.report.render import iter_csv, render_json
from app.report.request import ReportRequest
from app.report.result import Result

QUEUE_METRICS = tuple(ref.QUEUE_METRICS)
RECIPIENT_METRICS = tuple(ref.RECIPIENT_METRICS)


def request(
    report: str = "queues",
    start: date = date(2017, 1, 1),
    end: date = date(2017, 1, 3),
    period: str = "daily",
    metrics: tuple[str, ...] | None = None,
    identifiers: tuple[str, ...] | None = None,
    queue_ids: tuple[str, ...] | None = None,
    timezone: str = "UTC",
    fmt: str = "json",
    threshold: int = 20,
    totals: bool = False,
) -> ReportRequest:
    if metrics is None:
        metrics = QUEUE_METRICS if report == "queues" else RECIPIENT_METRICS
    return ReportRequest(
        report=report,
        start=start,
        end=end,
        period=period,
        metrics=metrics,
        identifiers=identifiers,
        queue_ids=queue_ids,
        format=fmt,
        timezone=timezone,
        threshold=threshold,
        totals=totals,
    )


def run(req: ReportRequest, *row_sets: list[dict[str, Any]], max_cells: int = 10**6) -> Result:
    """Each row set is one answer of the report's first (for these metrics: only) view."""
    sources = sources_for(req)
    merge = Merge(req, plan(req.start, req.end, req.period, req.timezone), sources, max_cells)
    for rows in row_sets:
        merge.add(sources[0], rows)
    return merge.result()


def row(key: list[Any], value: list[float]) -> dict[str, Any]:
    return {"key": key, "value": value}


def visits(n: int, wait: float, timeouts: int = 0, abandons: int = 0) -> list[float]:
    """Queue view value: [visits, wait seconds, timeouts, abandons] (the KPIs' fields after
    them left out, as the view drops trailing zeros)."""
    return [n, wait, timeouts, abandons]


def offers(
    answered: int,
    missed: int = 0,
    rejected: int = 0,
    talk: float = 0,
    ring: float = 0,
    rung: int | None = None,
) -> list[float]:
    """Recipient view value: [answered, talk s, ring s, answered with a ring time, missed,
    rejected] (every answered offer has a ring time unless ``rung`` says otherwise)."""
    return [answered, talk, ring, answered if rung is None else rung, missed, rejected]


def series(result: Result) -> dict[str, dict[str, dict[str, float | int]]]:
    keys = result.keys
    return {
        entity: {m: dict(zip(keys, values, strict=True)) for m, values in metrics.items()}
        for entity, metrics in result.series()
    }


# --- merge: sums, averages, zero fill ----------------------------------------------------


def test_sums_the_same_bucket_across_row_sets_of_several_months() -> None:
    req = request(start=date(2017, 1, 1), end=date(2017, 1, 2), identifiers=("q1",))
    result = run(
        req,
        [row(["q1", "20170101"], visits(2, 30, 1, 0))],  # MoDB 201701
        [row(["q1", "20170101"], visits(3, 50, 0, 2))],  # MoDB 201702 (left next month)
    )
    s = series(result)["q1"]
    assert s["call_count"] == {"20170101": 5, "20170102": 0}
    assert s["timeout_count"] == {"20170101": 1, "20170102": 0}
    assert s["abandon_count"] == {"20170101": 2, "20170102": 0}
    assert s["avg_wait"] == {"20170101": 16.0, "20170102": 0.0}  # (30 + 50) / 5


def test_average_is_sum_over_sum_not_the_average_of_row_averages() -> None:
    req = request(start=date(2017, 1, 1), end=date(2017, 1, 7), period="weekly")
    # two days of the same week: 1 visit waiting 10 s, then 3 visits waiting 90 s in all
    result = run(
        req,
        [row(["q1", "20170101"], visits(1, 10)), row(["q1", "20170103"], visits(3, 90))],
    )
    s = series(result)["q1"]
    assert s["call_count"] == {"201701": 4}
    assert s["avg_wait"] == {"201701": 25.0}  # 100 / 4; averaging 10 and 30 would give 20
    assert s["avg_wait"]["201701"] != (10 / 1 + 90 / 3) / 2


def test_averages_are_rounded_to_two_decimals() -> None:
    req = request(report="recipients", identifiers=("r1",))
    result = run(
        req,
        [
            row(["r1", "20170101"], offers(3, talk=10, ring=20)),  # 3.333.. and 6.666..
            row(["r1", "20170102"], offers(7, talk=100, ring=1)),  # 14.2857.. and 0.142857..
        ],
    )
    s = series(result)["r1"]
    assert s["avg_call_duration"]["20170101"] == 3.33
    assert s["avg_ring_duration"]["20170101"] == 6.67
    assert s["avg_call_duration"]["20170102"] == 14.29
    assert s["avg_ring_duration"]["20170102"] == 0.14


def test_average_is_zero_when_nothing_was_counted() -> None:
    req = request(report="recipients", identifiers=("r1",))
    # only missed and rejected offers: nothing answered, so the averages have no divisor
    result = run(req, [row(["r1", "20170101"], offers(0, missed=2, rejected=1))])
    s = series(result)["r1"]
    assert s["avg_call_duration"]["20170101"] == 0.0
    assert s["avg_ring_duration"]["20170101"] == 0.0
    assert s["missed_call_count"]["20170101"] == 2
    assert s["rejected_call_count"]["20170101"] == 1
    assert s["call_count"]["20170101"] == 0


def test_counts_are_integers_and_averages_floats() -> None:
    req = request(identifiers=("q1",))
    result = run(req, [row(["q1", "20170101"], [2.0, 7.0, 1.0, 0.0])])
    s = series(result)["q1"]
    for metric in ("call_count", "timeout_count", "abandon_count"):
        assert all(type(v) is int for v in s[metric].values()), metric
    assert all(type(v) is float for v in s["avg_wait"].values())


def test_an_identifier_without_data_gets_every_bucket_zero_filled() -> None:
    req = request(identifiers=("q1", "empty"))
    result = run(req, [row(["q1", "20170102"], visits(1, 5))])
    s = series(result)
    assert s["empty"] == {
        "avg_wait": {"20170101": 0.0, "20170102": 0.0, "20170103": 0.0},
        "call_count": {"20170101": 0, "20170102": 0, "20170103": 0},
        "timeout_count": {"20170101": 0, "20170102": 0, "20170103": 0},
        "abandon_count": {"20170101": 0, "20170102": 0, "20170103": 0},
    }
    assert s["q1"]["call_count"] == {"20170101": 0, "20170102": 1, "20170103": 0}


def test_series_lists_only_the_requested_metrics_in_request_order() -> None:
    req = request(metrics=("abandon_count", "call_count"), identifiers=("q1",))
    s = series(run(req, [row(["q1", "20170101"], visits(4, 1, 0, 3))]))
    assert list(s["q1"]) == ["abandon_count", "call_count"]
    assert list(s["q1"]["call_count"]) == ["20170101", "20170102", "20170103"]


def test_entity_order_follows_the_identifiers() -> None:
    req = request(identifiers=("zeta", "alpha", "mid"))
    result = run(
        req,
        [row(["alpha", "20170101"], visits(1, 1)), row(["zeta", "20170101"], visits(1, 1))],
    )
    assert result.entities == ["zeta", "alpha", "mid"]
    assert list(series(result)) == ["zeta", "alpha", "mid"]


def test_without_identifiers_entities_with_data_are_sorted() -> None:
    req = request()
    result = run(
        req,
        [row(["q-b", "20170101"], visits(1, 1)), row(["q-a", "20170102"], visits(1, 1))],
        [row(["Q-c", "20170103"], visits(1, 1)), row(["q-b", "20170103"], visits(1, 1))],
    )
    assert result.entities == ["Q-c", "q-a", "q-b"]  # plain string order: uppercase first


def test_rows_of_entities_not_asked_for_are_ignored() -> None:
    req = request(identifiers=("q1",))
    result = run(
        req, [row(["q2", "20170101"], visits(9, 9)), row(["q1", "20170101"], visits(1, 2))]
    )
    assert result.entities == ["q1"]
    assert series(result)["q1"]["call_count"]["20170101"] == 1


def test_rows_outside_the_plans_slots_are_ignored() -> None:
    req = request(start=date(2017, 1, 2), end=date(2017, 1, 2), identifiers=("q1",))
    result = run(
        req,
        [
            row(["q1", "20170101"], visits(100, 100)),  # the day before
            row(["q1", "20170102"], visits(1, 4)),
            row(["q1", "20170103"], visits(100, 100)),  # the day after
        ],
    )
    s = series(result)["q1"]
    assert s["call_count"] == {"20170102": 1}
    assert s["avg_wait"] == {"20170102": 4.0}


def test_quarter_rows_fold_into_local_days_of_the_report_timezone() -> None:
    # Kolkata: UTC 2024-02-29 18:15 is local Feb 29 23:45, 18:30 is local Mar 1 00:00
    req = request(
        start=date(2024, 2, 29), end=date(2024, 3, 1), timezone="Asia/Kolkata", identifiers=("q",)
    )
    result = run(
        req,
        [
            row(["q", "20240229", 18, 1], visits(1, 10)),
            row(["q", "20240229", 18, 2], visits(2, 40)),
        ],
        [row(["q", "20240301", 3, 0], visits(1, 5))],
    )
    s = series(result)["q"]
    assert s["call_count"] == {"20240229": 1, "20240301": 3}
    assert s["avg_wait"] == {"20240229": 10.0, "20240301": 15.0}  # (40 + 5) / 3


def test_merge_does_not_alias_the_first_rows_value() -> None:
    value = visits(1, 10)
    req = request(identifiers=("q1",))
    run(req, [row(["q1", "20170101"], value)], [row(["q1", "20170101"], visits(2, 20))])
    assert value == visits(1, 10)


def test_queue_ids_keep_only_offers_from_those_queues() -> None:
    req = request(report="recipients", identifiers=("r1", "r2"), queue_ids=("qa", "qb"))
    result = run(  # the [queue, recipient, day] view, read over a spanning range
        req,
        [
            row(["qa", "r1", "20170101"], offers(1, talk=60, ring=4)),
            row(["qa", "r3", "20170102"], offers(7)),  # not an identifier
            row(["qb", "r1", "20170101"], offers(1, missed=1, talk=120, ring=8)),
            row(["qc", "r1", "20170101"], offers(50, missed=50, talk=9999, ring=9999)),
            row(["qc", "r2", "20170102"], offers(7)),
        ],
    )
    s = series(result)
    assert list(s) == ["r1", "r2"]
    assert s["r1"]["call_count"] == {"20170101": 2, "20170102": 0, "20170103": 0}
    assert s["r1"]["missed_call_count"]["20170101"] == 1
    assert s["r1"]["avg_call_duration"]["20170101"] == 90.0  # (60 + 120) / 2
    assert s["r1"]["avg_ring_duration"]["20170101"] == 6.0  # (4 + 8) / 2
    assert s["r2"]["call_count"] == {"20170101": 0, "20170102": 0, "20170103": 0}


def test_queue_ids_without_identifiers_list_recipients_with_matching_offers_sorted() -> None:
    req = request(report="recipients", queue_ids=("qa",))
    result = run(
        req,
        [
            row(["qa", "r1", "20170102"], offers(2)),
            row(["qa", "r2", "20170101"], offers(1)),
            row(["qz", "r0", "20170102"], offers(2)),
        ],
    )
    assert result.entities == ["r1", "r2"]


def test_queue_ids_mode_skips_rows_whose_recipient_is_not_an_id() -> None:
    req = request(report="recipients", identifiers=("r1",), queue_ids=("qa",))
    result = run(
        req,
        [
            row(["qa", 5, "20170101"], offers(5)),
            row(["qa", ["r1"], "20170101"], offers(5)),
            row(["qa", "r1", "20170101"], offers(1)),
        ],
    )
    assert series(result)["r1"]["call_count"]["20170101"] == 1


def test_avg_ring_duration_divides_by_answered_offers_that_have_a_ring_time() -> None:
    # 3 answered offers, 1 of them (ACDC) without ring time: ring 12 s over 2 offers
    req = request(report="recipients", identifiers=("r1",))
    result = run(req, [row(["r1", "20170101"], offers(3, talk=300, ring=12, rung=2))])
    s = series(result)["r1"]
    assert s["avg_ring_duration"]["20170101"] == 6.0
    assert s["avg_call_duration"]["20170101"] == 100.0


def test_series_are_one_list_per_metric_per_entity_in_order() -> None:
    req = request(metrics=("call_count", "avg_wait"), identifiers=("q2", "q1"))
    result = run(req, [row(["q1", "20170102"], visits(2, 3))])
    assert list(result.series()) == [
        ("q2", {"call_count": [0, 0, 0], "avg_wait": [0.0, 0.0, 0.0]}),
        ("q1", {"call_count": [0, 2, 0], "avg_wait": [0.0, 1.5, 0.0]}),
    ]


def test_totals_add_a_whole_range_key_and_an_all_entities_item_from_raw_sums() -> None:
    req = request(metrics=("call_count", "avg_wait"), identifiers=("q1", "q2", "nope"), totals=True)
    result = run(
        req,
        [row(["q1", "20170101"], visits(1, 10)), row(["q1", "20170103"], visits(2, 5))],
        [row(["q2", "20170101"], visits(3, 30))],
    )
    s = series(result)
    assert list(s) == ["q1", "q2", "nope", "total"]
    assert s["q1"]["call_count"] == {"20170101": 1, "20170102": 0, "20170103": 2, "total": 3}
    assert s["q1"]["avg_wait"]["total"] == 5.0  # 15 / 3, not the mean of 10.0 and 2.5
    assert s["nope"]["call_count"]["total"] == 0
    assert s["total"]["call_count"] == {"20170101": 4, "20170102": 0, "20170103": 2, "total": 6}
    assert s["total"]["avg_wait"] == {"20170101": 10.0, "20170102": 0.0, "20170103": 2.5,
                                      "total": 7.5}  # fmt: skip


def test_too_many_entities_without_identifiers_counts_them_all_for_the_error() -> None:
    from app.report.merge import TooManyCells

    req = request()  # 3 daily buckets
    rows = [row([f"q{i}", "20170101"], visits(1, 1)) for i in range(5)]
    with pytest.raises(TooManyCells) as caught:
        run(req, rows, max_cells=7)  # room for 2 entities
    assert caught.value.cells == 15


# --- render_json -------------------------------------------------------------------------


def test_render_json_has_the_published_envelope() -> None:
    req = request(end=date(2017, 1, 2), metrics=("call_count",), identifiers=("q1",))
    result = run(req, [row(["q1", "20170101"], visits(3, 1))])
    result.timings = {"load": 12.5, "filter": 0.25}
    body = orjson.loads(render_json(result, {"request_id": "req-1", "auth_token": "tok"}))
    assert set(body) == {"data", "request_id", "status", "auth_token"}
    assert (body["request_id"], body["auth_token"], body["status"]) == ("req-1", "tok", "success")
    assert isinstance(body["data"], list) and len(body["data"]) == 1
    (item,) = body["data"]
    assert set(item) == {"execution_times", "report"}
    times = item["execution_times"]
    assert set(times) == {"load", "filter", "render"}
    assert (times["load"], times["filter"]) == (12.5, 0.25)
    assert isinstance(times["render"], (int, float)) and times["render"] >= 0
    assert item["report"] == [{"id": "q1", "data": {"call_count": {"20170101": 3, "20170102": 0}}}]


def test_render_json_status_is_success_even_if_the_envelope_says_otherwise() -> None:
    result = run(request(identifiers=("q1",)), [])
    body = orjson.loads(render_json(result, {"request_id": "r", "auth_token": "", "status": "x"}))
    assert body["status"] == "success"


def test_render_json_weekly_report_matches_the_published_example_keys() -> None:
    req = request(
        start=date(2017, 1, 1),
        end=date(2017, 1, 31),
        period="weekly",
        metrics=("call_count",),
        identifiers=("q1",),
    )
    result = run(req, [row(["q1", "20170131"], visits(1, 1))])
    result.timings = {"load": 0.0, "filter": 0.0}
    body = orjson.loads(render_json(result, {"request_id": "r", "auth_token": "t"}))
    counts = body["data"][0]["report"][0]["data"]["call_count"]
    assert list(counts) == ["201701", "201702", "201703", "201704", "201705"]
    assert counts["201705"] == 1
    assert sum(counts.values()) == 1


def test_render_json_report_is_empty_for_no_entities() -> None:
    result = run(request(), [])
    body = orjson.loads(render_json(result, {"request_id": "r", "auth_token": "t"}))
    assert body["data"][0]["report"] == []


# --- iter_csv ----------------------------------------------------------------------------


def csv_text(result: Result) -> str:
    chunks = list(iter_csv(result))
    assert all(isinstance(c, bytes) for c in chunks)
    return b"".join(chunks).decode()


def test_csv_header_is_id_period_and_the_metrics_in_request_order() -> None:
    req = request(metrics=("timeout_count", "avg_wait", "call_count"), identifiers=("q1",))
    text = csv_text(run(req, []))
    assert text.split("\r\n")[0] == "id,period,timeout_count,avg_wait,call_count"


def test_csv_rows_end_with_crlf_and_are_one_per_entity_per_bucket() -> None:
    req = request(metrics=("call_count", "avg_wait"), identifiers=("q2", "q1"))
    text = csv_text(run(req, [row(["q1", "20170102"], visits(4, 10))]))
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert text == (
        "id,period,call_count,avg_wait\r\n"
        "q2,20170101,0,0.0\r\n"
        "q2,20170102,0,0.0\r\n"
        "q2,20170103,0,0.0\r\n"
        "q1,20170101,0,0.0\r\n"
        "q1,20170102,4,2.5\r\n"
        "q1,20170103,0,0.0\r\n"
    )


def test_csv_of_a_report_without_entities_is_only_the_header() -> None:
    assert csv_text(run(request(metrics=("call_count",)), [])) == "id,period,call_count\r\n"


# OWASP's CSV injection prefixes, what spreadsheets also act on (LF, ";", "%", "|"), the
# full-width forms some fold to ASCII, and other control characters
FORMULA_PREFIXES = ["=", "+", "-", "@", "\t", "\r", "\n", ";", "%", "|",
                    "\uff1d", "\uff0b", "\uff0d", "\uff20", "\uff1b", "\uff05", "\uff5c",
                    "\x01", "\x1b", "\x7f"]  # fmt: skip


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_csv_neutralises_ids_a_spreadsheet_would_run_as_a_formula(prefix: str) -> None:
    entity = prefix + "SUM(A1:A9)"
    req = request(end=date(2017, 1, 1), metrics=("call_count",))
    text = csv_text(run(req, [row([entity, "20170101"], visits(1, 1))]))
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[1] == ["'" + entity, "20170101", "1"]


@pytest.mark.parametrize(("entity", "cell"), [("a\0b", "ab"), ("\0=1", "'=1"), ("\0", "")])
def test_csv_removes_nul(entity: str, cell: str) -> None:
    req = request(end=date(2017, 1, 1), metrics=("call_count",))
    text = csv_text(run(req, [row([entity, "20170101"], visits(1, 1))]))
    assert "\0" not in text
    assert list(csv.reader(io.StringIO(text, newline="")))[1][0] == cell


@pytest.mark.parametrize("entity", ["q1", "a=b", "1-2", "x@y"])
def test_csv_leaves_ordinary_ids_alone(entity: str) -> None:
    req = request(end=date(2017, 1, 1), metrics=("call_count",))
    text = csv_text(run(req, [row([entity, "20170101"], visits(1, 1))]))
    assert list(csv.reader(io.StringIO(text, newline="")))[1][0] == entity


def test_csv_quotes_an_id_holding_a_comma_or_quote() -> None:
    req = request(end=date(2017, 1, 1), metrics=("call_count",))
    text = csv_text(run(req, [row(['a,"b', "20170101"], visits(1, 1))]))
    assert text.split("\r\n")[1] == '"a,""b",20170101,1'


def test_csv_in_chunks_joins_to_the_same_text_as_one_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    # 2017 daily x 10 queues = 3650 rows: more than CHUNK_ROWS, not a multiple of it
    ids = tuple(f"q{i:02d}" for i in range(10))
    req = request(
        start=date(2017, 1, 1), end=date(2017, 12, 31), metrics=("call_count",), identifiers=ids
    )
    rows = [row([q, "20170615"], visits(i + 1, 0)) for i, q in enumerate(ids)]
    result = run(req, rows)
    n_rows = len(ids) * 365
    assert n_rows > csv_render.CHUNK_ROWS

    chunks = list(iter_csv(result))
    assert len(chunks) == -(-n_rows // csv_render.CHUNK_ROWS)  # ceil: header rides in chunk 1
    chunked = b"".join(chunks).decode()

    monkeypatch.setattr(csv_render, "CHUNK_ROWS", n_rows + 10)
    single = list(iter_csv(result))
    assert len(single) == 1
    assert chunked == single[0].decode()

    lines = chunked.split("\r\n")
    assert lines[-1] == ""  # the text ends with CRLF
    assert len(lines) - 2 == n_rows  # minus header and the empty tail
    assert lines[1] == "q00,20170101,0"
    assert "q03,20170615,4" in lines


def test_csv_with_exactly_chunk_rows_rows_has_no_empty_trailing_chunk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(csv_render, "CHUNK_ROWS", 3)
    req = request(metrics=("call_count",), identifiers=("q1", "q2"))  # 2 x 3 days = 6 rows
    chunks = list(iter_csv(run(req, [])))
    assert len(chunks) == 2
    assert all(chunks)
    assert b"".join(chunks).decode().count("\r\n") == 7


def test_csv_filename_names_report_period_and_range() -> None:
    req = request(start=date(2017, 1, 1), end=date(2017, 1, 31), period="weekly")
    assert csv_render.csv_filename(run(req, [])) == "qubicle_queues_weekly_20170101_20170131.csv"


def test_an_entity_with_rows_only_outside_the_range_is_not_listed() -> None:
    req = request(start=date(2017, 1, 2), end=date(2017, 1, 2))  # no identifiers
    result = run(
        req,
        [row(["q-before", "20170101"], visits(5, 5)), row(["q-in", "20170102"], visits(1, 1))],
        [row(["q-after", "20170103"], visits(5, 5))],  # the month after, read for straddlers
    )
    assert result.entities == ["q-in"]
