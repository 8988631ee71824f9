"""View answers parsed a batch of rows at a time give exactly the rows of a whole parse.

app.rows cuts CouchDB 3's one-row-per-line answers at ``,\\r\\n`` and decodes each batch on
its own; anything framed otherwise is parsed whole, and what is not a view answer fails as
a failing CouchDB (503), never as an empty report.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
import pytest

from app.couch.client import CouchUnavailable
from app.report.buckets import plan
from app.report.load import sources_for
from app.report.merge import Merge
from app.report.request import ReportRequest
from app.report.rows import row_batches
from qubicle_dev.replay import couch_answer

ROWS: list[dict[str, Any]] = [
    {"key": ["q1", "20240101", 0], "value": [3, 120, 0, 1]},
    {"key": ["q1", "20240101", 1], "value": [1, 7.5, 0, 0]},
    {"key": ['q\r\n,"x\\', "20240101"], "value": [2, 0, 1, 0]},  # escaped CR LF in an id
    {"key": ["q2", "20240102", 23, 3], "value": {"sum": 9, "count": 2, "max": 7}},
    {"key": ["q3", "20240102"], "value": 4},
] * 50


def parsed(raw: bytes, batch_bytes: int) -> list[tuple[list[Any], Any]]:
    out = []
    for batch in row_batches(raw, batch_bytes):
        out += [
            (list(r.key), dict(r.value) if isinstance(r.value, dict) else r.value) for r in batch
        ]
    return out


def expected(rows: list[dict[str, Any]]) -> list[tuple[list[Any], Any]]:
    return [
        (r["key"], r["value"] if isinstance(r["value"], dict | int) else tuple(r["value"]))
        for r in rows
    ]


@pytest.mark.parametrize("batch_bytes", [1, 50, 1000, 10**6])
def test_couchdb_framed_answers_parse_the_same_in_any_batch_size(batch_bytes: int) -> None:
    raw = couch_answer(orjson.dumps(r) for r in ROWS)
    assert raw.startswith(b'{"rows":[\r\n') and raw.count(b",\r\n") == len(ROWS) - 1
    assert parsed(raw, batch_bytes) == expected(ROWS)
    if batch_bytes == 50:
        assert len(list(row_batches(raw, batch_bytes))) > 10  # really in batches


@pytest.mark.parametrize(
    "raw",
    [
        orjson.dumps({"rows": ROWS}),  # compact, one line
        orjson.dumps({"total_rows": 250, "offset": 0, "rows": ROWS}, option=orjson.OPT_INDENT_2),
    ],
)
def test_other_framings_are_parsed_whole(raw: bytes) -> None:
    assert len(list(row_batches(raw, 10))) == 1
    assert parsed(raw, 10) == expected(ROWS)


@pytest.mark.parametrize("raw", [b'{"rows":[\r\n\r\n]}\n', b'{"rows":[\r\n]}', b'{"rows": []}'])
def test_empty_answers_have_no_rows(raw: bytes) -> None:
    assert parsed(raw, 10) == []


@pytest.mark.parametrize(
    "raw",
    [
        b'{"error":"not_found","reason":"missing"}',
        b"",
        b"<html>proxy error</html>",
        couch_answer(orjson.dumps(r) for r in ROWS)[:-40],  # cut short
        b'{"rows":[\r\n{"key":["q1","20240101"],"value":[1,2,3,4]},\r\n{"key":["q1"\r\n]}\n',
        b'{"rows":[\r\n{"key":null,"value":[1]}\r\n]}',  # a key that is no array
    ],
)
def test_what_is_not_a_view_answer_fails_as_couchdb_unavailable(raw: bytes) -> None:
    with pytest.raises(CouchUnavailable):
        parsed(raw, 16)


def test_folding_an_answer_equals_folding_its_parsed_rows() -> None:
    req = ReportRequest(
        report="queues",
        start=date(2024, 1, 1),
        end=date(2024, 1, 2),
        period="hourly",
        metrics=("call_count", "avg_wait"),
        identifiers=None,
        queue_ids=None,
        format="json",
        timezone="UTC",
        threshold=20,
        totals=True,
    )
    rows = [
        {"key": [q, day, hour], "value": [hour % 3 + 1, hour * 7, 0, hour % 2]}
        for q in ("qa", "qb")
        for day in ("20231231", "20240101", "20240102", "20240103")
        for hour in range(24)
    ]
    sources = sources_for(req)
    buckets = plan(req.start, req.end, req.period, req.timezone)
    by_rows, by_answer = (Merge(req, buckets, sources, 10**6) for _ in range(2))
    by_rows.add(sources[0], rows)
    by_answer.add_answer(sources[0], couch_answer(orjson.dumps(r) for r in rows))
    assert by_answer.sums == by_rows.sums
    assert list(by_answer.result().series()) == list(by_rows.result().series())
    assert sum(by_answer.sums["qa"]) > 0
