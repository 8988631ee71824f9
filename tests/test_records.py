"""The record reports (CONTRACT.md 8): ``visits``, ``offers`` and ``agent_intervals`` list
exactly the rows of the reference oracle (``reference.visit_rows`` and the others), in order,
page by page and as CSV, over both document shapes, two MoDBs and a DST change; pages lose
and repeat nothing while documents are written between them; every bad parameter is a 400
naming it."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import reference as ref
from aiohttp.test_utils import TestClient
from conftest import account_docs, build_indexes, make_client
from record_docs import AGENTS, QUEUES, calls, create_account, events, store

from app.config import Settings
from app.couch.client import Couch
from app.report.record_kinds import RECORDS
from app.report.records import read

TOKEN = "token-records"
LATER = 63_000_000_000 + 2_000_000_000  # "now" for ranges in 2024: long after them
NOW_G = ref.GREGORIAN_OFFSET + int(datetime.now(UTC).timestamp())


def g(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp()) + ref.GREGORIAN_OFFSET


class Data:
    def __init__(self, account_id: str, docs: list[dict[str, Any]]) -> None:
        self.account_id = account_id
        self.docs = docs


@pytest.fixture(scope="module")
async def data(couch: Couch, session_accounts: Any) -> Data:
    account_id = session_accounts.new()
    rng = random.Random(21)
    docs: list[dict[str, Any]] = []
    for start, days in ((g(2024, 1, 30), 3), (g(2024, 3, 9), 3)):  # a month edge; a DST day
        docs += calls(account_id, rng, start, days * 86400, 60 * days)
        docs += events(account_id, rng, start, days * 86400, 40 * days)
    await create_account(couch, account_id)
    await store(couch, account_id, docs)
    await build_indexes(couch, account_id)
    return Data(account_id, await account_docs(couch, account_id))


@pytest.fixture(scope="module")
async def client(couch_url: str, data: Data) -> AsyncIterator[TestClient]:
    async with make_client(Settings(couchdb_url=couch_url, tokens={TOKEN: data.account_id})) as c:
        yield c


async def ask(client: TestClient, data: Data, params: dict[str, Any], get: bool = False) -> Any:
    path = f"/v2/accounts/{data.account_id}/qubicle_reports"
    headers = {"X-Auth-Token": TOKEN}
    if get:
        query = {k: ",".join(v) if isinstance(v, list) else str(v) for k, v in params.items()}
        resp = await client.get(path, params=query, headers=headers)
    else:
        resp = await client.post(path, json={"data": params}, headers=headers)
    if resp.content_type == "application/json":
        return resp.status, await resp.json()
    return resp.status, await resp.text()


async def every_page(client: TestClient, data: Data, params: dict[str, Any]) -> list[dict]:
    rows: list[dict] = []
    key = None
    while True:
        status, body = await ask(client, data, {**params, **({"start_key": key} if key else {})})
        assert status == 200, body
        assert body["page_size"] == len(body["data"]) <= params.get("page_size", 50)
        assert body.get("start_key") == key
        rows += body["data"]
        key = body.get("next_start_key")
        if key is None:
            return rows
        assert len(body["data"]) == params.get("page_size", 50)


def expected(data: Data, params: dict[str, Any]) -> list[dict]:
    if params["report"] == "visits":
        return ref.visit_rows(data.docs, params)
    if params["report"] == "offers":
        return ref.offer_rows(data.docs, params)
    return ref.interval_rows(data.docs, params, now=NOW_G)


def parsed_csv(text: str, report: str) -> list[dict[str, str]]:
    lines = list(csv.reader(io.StringIO(text)))
    assert tuple(lines[0]) == RECORDS[report].columns
    return [dict(zip(lines[0], line, strict=True)) for line in lines[1:]]


def as_csv(row: dict[str, Any], report: str) -> dict[str, str]:
    def cell(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str) and v[:1] in ("=", "+", "-", "@"):
            return "'" + v
        return str(v)

    return {c: cell(row.get(c)) for c in RECORDS[report].columns}


CASES = [
    {"start_date": "2024-01-30", "end_date": "2024-02-01"},
    {"start_date": "2024-01-31", "end_date": "2024-02-01", "timezone": "Asia/Kolkata"},
    {"start_date": "2024-03-10", "end_date": "2024-03-10", "timezone": "America/New_York"},
    {"start_date": "2024-03-09", "end_date": "2024-03-11", "identifiers": [AGENTS[1], QUEUES[0]]},
]


@pytest.mark.parametrize("report", ["visits", "offers", "agent_intervals"])
@pytest.mark.parametrize("case", range(len(CASES)))
async def test_pages_list_the_oracles_rows(
    client: TestClient, data: Data, report: str, case: int
) -> None:
    params = {"report": report, **CASES[case], "page_size": 7}
    want = expected(data, params)
    assert want, "the case lists some rows"
    got = await every_page(client, data, params)
    assert got == want
    status, text = await ask(
        client, data, {k: v for k, v in params.items() if k != "page_size"} | {"format": "csv"}
    )
    assert status == 200
    assert parsed_csv(text, report) == [as_csv(r, report) for r in want]


@pytest.mark.parametrize("report", ["visits", "offers", "agent_intervals"])
async def test_csv_read_ahead_in_small_batches_lists_the_oracles_rows(
    client: TestClient, data: Data, report: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CSV's read-ahead with reads of a few rows: many reads of each MoDB ahead of the
    rows being written out, documents in several requests, keys cut between reads, a month
    edge (a MoDB whose rows come later), every entity in turn with the next one's first
    rows read early. Nothing lost, repeated or out of order."""
    monkeypatch.setattr(read, "CSV_FIRST_BATCH", 3)
    monkeypatch.setattr(read, "BATCH", 5)
    monkeypatch.setattr(read, "DOC_BATCH", 4)
    monkeypatch.setattr(read, "SMALL_ROWS", 2)  # the rows made off the event loop too
    params = {"report": report, "start_date": "2024-01-30", "end_date": "2024-02-01"}
    want = expected(data, params)
    assert len(want) > 50
    status, text = await ask(client, data, params | {"format": "csv"})
    assert status == 200
    assert parsed_csv(text, report) == [as_csv(r, report) for r in want]


@pytest.mark.parametrize(
    "extra",
    [
        {"report": "visits", "results": ["answered"], "wait_max": 20},
        {"report": "visits", "results": ["abandoned", "timeout"], "wait_min": 20},
        {"report": "offers", "results": ["missed", "rejected"], "queue_ids": [QUEUES[1]]},
        {"report": "agent_intervals", "states": ["paused", "logged_in"]},
        {
            "report": "visits",
            "period": "daily",
            "bucket": "20240310",
            "timezone": "America/New_York",
        },
        {"report": "agent_intervals", "period": "weekly", "bucket": "202409"},
        {"report": "offers", "period": "daily", "bucket": "20240131", "timezone": "Asia/Kolkata"},
    ],
)
async def test_filters(client: TestClient, data: Data, extra: dict[str, Any]) -> None:
    params = {"start_date": "2024-01-29", "end_date": "2024-03-11", **extra}
    want = expected(data, params)
    assert want
    assert await every_page(client, data, {**params, "page_size": 1000}) == want
    if extra["report"] == "visits":  # GET carries the same
        status, body = await ask(client, data, {**params, "page_size": 1000}, get=True)
        assert status == 200 and body["data"] == want


async def test_agent_intervals_are_cut_to_the_bucket_and_never_past_now(
    client: TestClient, data: Data
) -> None:
    params = {
        "report": "agent_intervals",
        "start_date": "2024-03-10",
        "end_date": "2024-03-10",
        "period": "hourly",
        "bucket": "2024031004",
        "timezone": "America/New_York",
    }
    rows = await every_page(client, data, params)
    assert rows == expected(data, params)
    low, high = ref.record_window(params)
    assert all(low <= r["from_timestamp"] <= r["to_timestamp"] <= high for r in rows)
    assert all(r["from"].endswith("-04:00") for r in rows)  # after the change to daylight time


async def test_pages_lose_and_repeat_nothing_while_documents_are_written(
    couch_url: str, couch: Couch, session_accounts: Any
) -> None:
    """Documents written into the range between pages (before, inside and after the page
    read so far) never make a row shown twice or one present at both reads skipped."""
    account_id = session_accounts.new()
    rng = random.Random(5)
    start = g(2024, 5, 1, 10)
    first = calls(account_id, rng, start, 3600, 30)
    await create_account(couch, account_id)
    await store(couch, account_id, first)
    await build_indexes(couch, account_id)
    settings = Settings(couchdb_url=couch_url, tokens={TOKEN: account_id})
    mine = Data(account_id, first)
    async with make_client(settings) as c2:
        params = {
            "report": "offers",
            "start_date": "2024-05-01",
            "end_date": "2024-05-01",
            "page_size": 4,
        }
        shown: list[dict] = []
        key = None
        n = 0
        while True:
            status, body = await ask(c2, mine, {**params, **({"start_key": key} if key else {})})
            assert status == 200, body
            shown += body["data"]
            key = body.get("next_start_key")
            if key is None:
                break
            more = calls(account_id, random.Random(100 + n), start, 3600, 2)
            for d in more:
                d["_id"] = f"{d['_id']}-late{n}"
            await store(couch, account_id, more)
            n += 1
    final = ref.offer_rows(await account_docs(couch, account_id), params)
    ids = [(r["id"], r["offered_timestamp"], r["recipient_id"], r["result"]) for r in shown]
    assert len(ids) == len(set(ids)), "no row twice"
    assert [r for r in ref.offer_rows(first, params) if r not in shown] == [], "none skipped"
    assert all(r in final for r in shown)
    order = [(r["recipient_id"], r["offered_timestamp"], r["id"]) for r in shown]
    assert order == sorted(order)


@pytest.mark.parametrize(
    "params, field, keyword",
    [
        ({"report": "visits", "metrics": ["call_count"]}, "metrics", "forbidden"),
        ({"report": "offers", "totals": True}, "totals", "forbidden"),
        (
            {"report": "visits", "service_level_threshold": 20},
            "service_level_threshold",
            "forbidden",
        ),
        ({"report": "visits", "start_key": "not-ours"}, "start_key", "format"),
        ({"report": "visits", "start_key": 7}, "start_key", "format"),
        ({"report": "visits", "page_size": 0}, "page_size", "minimum"),
        ({"report": "visits", "page_size": 1001}, "page_size", "maximum"),
        ({"report": "visits", "page_size": "ten"}, "page_size", "type"),
        ({"report": "visits", "period": "daily"}, "bucket", "required"),
        ({"report": "visits", "bucket": "20240130"}, "period", "required"),
        ({"report": "visits", "period": "daily", "bucket": "20240105"}, "bucket", "enum"),
        ({"report": "visits", "results": ["missed"]}, "results", "enum"),
        ({"report": "offers", "states": ["ready"]}, "states", "forbidden"),
        ({"report": "agent_intervals", "states": ["logged_out"]}, "states", "enum"),
        ({"report": "visits", "wait_min": -1}, "wait_min", "minimum"),
        ({"report": "visits", "wait_min": 30, "wait_max": 20}, "wait_max", "minimum"),
        ({"report": "agent_intervals", "queue_ids": [QUEUES[0]]}, "queue_ids", "forbidden"),
        ({"report": "queues", "page_size": 5}, "page_size", "forbidden"),
    ],
)
async def test_every_bad_parameter_is_a_400_naming_it(
    client: TestClient, data: Data, params: dict[str, Any], field: str, keyword: str
) -> None:
    status, body = await ask(
        client, data, {"start_date": "2024-01-30", "end_date": "2024-01-31", **params}
    )
    assert status == 400, body
    assert body["message"] == "validation error"
    assert keyword in body["data"][field], body["data"]


async def test_a_start_key_of_another_report_or_tampered_is_a_400(
    client: TestClient, data: Data
) -> None:
    base = {"start_date": "2024-01-30", "end_date": "2024-02-01", "page_size": 2}
    status, body = await ask(client, data, {"report": "visits", **base})
    key = body["next_start_key"]
    for bad in (key[:-2], key + "A", key.upper(), "", "x" * 4000):
        status, body = await ask(client, data, {"report": "visits", **base, "start_key": bad})
        assert status == 400 and "start_key" in body["data"], (bad, body)
    status, body = await ask(client, data, {"report": "offers", **base, "start_key": key})
    assert status == 400 and "format" in body["data"]["start_key"]


async def test_csv_of_a_page_gives_the_next_key_in_a_header(client: TestClient, data: Data) -> None:
    path = f"/v2/accounts/{data.account_id}/qubicle_reports/visits"
    query = {
        "start_date": "2024-01-30",
        "end_date": "2024-02-01",
        "page_size": "3",
        "format": "csv",
    }
    resp = await client.get(path, params=query, headers={"X-Auth-Token": TOKEN})
    assert resp.status == 200 and resp.content_type == "text/csv"
    assert len(parsed_csv(await resp.text(), "visits")) == 3
    _, body = await ask(
        client, data, {"report": "visits", **query, "format": "json", "page_size": 3}
    )
    assert resp.headers["X-Next-Start-Key"] == body["next_start_key"]


async def test_a_csv_stream_that_fails_midway_is_broken_off(
    data: Data, proxy: Any, couch: Couch
) -> None:
    """CouchDB failing after the first rows are sent: the answer ends without its final
    chunk, so no client takes a cut CSV for a whole one; before any row, a 503."""
    settings = Settings(couchdb_url=proxy.url, tokens={TOKEN: data.account_id})
    second = QUEUES[1]
    path = f"/v2/accounts/{data.account_id}/qubicle_reports/visits"
    query = {"start_date": "2024-01-30", "end_date": "2024-02-01", "format": "csv"}
    async with make_client(settings) as c:
        await proxy.set_mode("http500", match=lambda method, target: second in target)
        try:
            resp = await c.get(path, params=query, headers={"X-Auth-Token": TOKEN})
            assert resp.status == 200
            with pytest.raises(Exception) as broken:
                await resp.read()
            assert "payload" in repr(broken.value).lower() or "closed" in repr(broken.value)
            await proxy.set_mode("http500", match=lambda method, target: "_view" in target)
            resp = await c.get(path, params=query, headers={"X-Auth-Token": TOKEN})
            assert resp.status == 503
        finally:
            await proxy.reset()


@pytest.mark.parametrize("report, n", [("visits", 80), ("offers", 30)])
async def test_a_page_reads_its_documents_in_one_bulk_get(
    couch: Couch, proxy: Any, session_accounts: Any, report: str, n: int
) -> None:
    """Several calls in each quarter hour (the views' key: 5-10 rows each), pages that end
    inside a key and go on from one: a page asks for its documents once, those of its last
    key's rows and of the rows of its start key read again to be dropped among them; and
    lists the oracle's rows."""
    account_id = session_accounts.new()
    docs = calls(account_id, random.Random(8), g(2024, 5, 14, 10), 3600, n)
    await create_account(couch, account_id)
    await store(couch, account_id, docs)
    await build_indexes(couch, account_id)
    mine = Data(account_id, docs)
    entity = QUEUES[0] if report == "visits" else AGENTS[0]
    params = {
        "report": report,
        "start_date": "2024-05-14",
        "end_date": "2024-05-14",
        "identifiers": [entity],
        "page_size": 7,
    }
    settings = Settings(couchdb_url=proxy.url, tokens={TOKEN: account_id})
    shown: list[dict] = []
    pages = 0
    async with make_client(settings) as c:
        key = None
        while True:
            proxy.requests.clear()
            status, body = await ask(c, mine, {**params, **({"start_key": key} if key else {})})
            assert status == 200, body
            bulk = [r for r in proxy.requests if r.target.split("?")[0].endswith("/_bulk_get")]
            assert len(bulk) == 1, [r.target for r in proxy.requests]
            shown += body["data"]
            pages += 1
            key = body.get("next_start_key")
            if key is None:
                break
    assert pages >= 3
    assert shown == expected(mine, params)
