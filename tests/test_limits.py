"""Every limit is a Crossbar error with an exact body, and the service goes on serving.

One service with small limits runs against the real CouchDB-protocol server through a
:class:`faultproxy.FaultProxy` (pass-through, except where a test holds CouchDB's answers),
so "rejected before loading" is checked on the wire. After each limit is hit, the same
service answers a normal report with the same data as before.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient
from conftest import QUERY, TOKEN, error_body, make_client, post, report_url
from faultproxy import FaultProxy

from app.config import Settings
from qubicle_dev.seed import SeededAccount

SEEDED = {"seed": 13}
MODB = re.compile(r"-\d{6}(/|$|\?)")  # a request to a month database
LIMITS: dict[str, Any] = {
    "max_body_bytes": 4096,
    "max_identifiers": 5,
    "max_queue_ids": 3,
    "max_id_length": 40,
    "max_cells": 20,
    "max_range_days": 31,
    "max_reports": 1,
    "queue_timeout": 0.3,
    "couch_timeout": 10.0,
    "report_timeout": 20.0,
    "cache_mb": 0,  # every report reads the views: loads are visible at the proxy
}


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
async def _pass_through(proxy: FaultProxy) -> AsyncIterator[None]:
    await proxy.reset()
    yield
    await proxy.reset()


@pytest.fixture(scope="module")
def service_settings(proxy: FaultProxy, seeded: SeededAccount) -> Settings:
    return Settings(couchdb_url=proxy.url, tokens={TOKEN: seeded.account_id}, **LIMITS)


@pytest.fixture(scope="module")
async def baseline(client: TestClient, seeded: SeededAccount) -> dict[str, Any]:
    status, body = await post(client, seeded.account_id, QUERY, request_id="baseline")
    assert status == 200, body
    assert len(body["data"][0]["report"]) == 3  # 3 queues x 3 days: within max_cells
    return body


@pytest.fixture
async def still_serving(
    client: TestClient, seeded: SeededAccount, baseline: dict[str, Any]
) -> AsyncIterator[None]:
    """After the test, the same service answers the normal report, unchanged."""
    yield
    status, body = await post(client, seeded.account_id, QUERY, request_id="after")
    assert status == 200, body
    assert body["data"][0]["report"] == baseline["data"][0]["report"]


# -- helpers ----------------------------------------------------------------------------------


def crossbar(
    data: dict[str, Any], request_id: str, status: int = 400, message: str = "validation error"
) -> dict[str, Any]:
    return error_body(status, message, data, request_id, TOKEN)


def loaded(proxy: FaultProxy) -> bool:
    """Whether any month database was asked for anything."""
    return any(MODB.search(r.target) for r in proxy.requests)


# -- request body -----------------------------------------------------------------------------


def _body_of_size(size: int) -> bytes:
    """A valid report request padded (an ignored field) to exactly ``size`` bytes."""
    empty = orjson.dumps({"data": {**QUERY, "pad": ""}})
    raw = orjson.dumps({"data": {**QUERY, "pad": "x" * (size - len(empty))}})
    assert len(raw) == size
    return raw


@pytest.mark.usefixtures("still_serving")
async def test_a_body_over_max_body_bytes_is_413(
    client: TestClient, proxy: FaultProxy, seeded: SeededAccount, baseline: dict[str, Any]
) -> None:
    limit = LIMITS["max_body_bytes"]
    headers = {"X-Auth-Token": TOKEN, "Content-Type": "application/json"}
    expected = {
        "data": {"message": f"Maximum request body size {limit} exceeded."},
        "error": "413",
        "message": "request too large",
        "status": "error",
        "auth_token": TOKEN,
    }

    resp = await client.post(
        report_url(seeded.account_id), data=_body_of_size(limit + 1), headers=headers
    )
    body = await resp.json()
    assert resp.status == 413
    assert body == {**expected, "request_id": resp.headers["X-Request-ID"]}

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length to trust
        raw = _body_of_size(limit * 3)
        for i in range(0, len(raw), 1000):
            yield raw[i : i + 1000]

    resp = await client.post(report_url(seeded.account_id), data=chunks(), headers=headers)
    body = await resp.json()
    assert resp.status == 413
    assert body == {**expected, "request_id": resp.headers["X-Request-ID"]}
    assert not loaded(proxy)

    resp = await client.post(
        report_url(seeded.account_id), data=_body_of_size(limit), headers=headers
    )
    body = await resp.json()
    assert resp.status == 200, body  # exactly the limit is allowed
    assert body["data"][0]["report"] == baseline["data"][0]["report"]


# -- lists and ids ------------------------------------------------------------------------------


@pytest.mark.usefixtures("still_serving")
async def test_more_identifiers_than_max_identifiers_is_400_max_items(
    client: TestClient, proxy: FaultProxy, seeded: SeededAccount
) -> None:
    ids = [*seeded.queue_ids, "q-4", "q-5", "q-6"]  # 6 > 5
    status, body = await post(
        client, seeded.account_id, {**QUERY, "identifiers": ids}, request_id="ids"
    )
    assert status == 400
    assert body == crossbar(
        {"identifiers": {"maxItems": {"message": "The list has more than 5 items", "target": 5}}},
        "ids",
    )
    resp = await client.get(
        report_url(seeded.account_id),
        params={**QUERY, "identifiers": ",".join(ids)},
        headers={"X-Auth-Token": TOKEN, "X-Request-ID": "ids-get"},
    )
    assert resp.status == 400
    assert (await resp.json())["data"] == body["data"]
    assert not loaded(proxy)

    status, body = await post(
        client, seeded.account_id, {**QUERY, "identifiers": ids[:5]}, request_id="5"
    )
    assert status == 200, body
    assert [item["id"] for item in body["data"][0]["report"]] == ids[:5]


@pytest.mark.usefixtures("still_serving")
async def test_more_queue_ids_than_max_queue_ids_is_400_max_items(
    client: TestClient, proxy: FaultProxy, seeded: SeededAccount
) -> None:
    queue_ids = [*seeded.queue_ids, "q-4"]  # 4 > 3
    data = {**QUERY, "report": "recipients", "queue_ids": queue_ids}
    status, body = await post(client, seeded.account_id, data, request_id="queue-ids")
    assert status == 400
    assert body == crossbar(
        {"queue_ids": {"maxItems": {"message": "The list has more than 3 items", "target": 3}}},
        "queue-ids",
    )
    assert not loaded(proxy)

    data["queue_ids"] = queue_ids[:3]
    status, body = await post(client, seeded.account_id, data, request_id="queue-ids-3")
    assert status == 200, body


@pytest.mark.usefixtures("still_serving")
@pytest.mark.parametrize("field", ["identifiers", "queue_ids"])
async def test_an_id_longer_than_max_id_length_is_400_max_length(
    client: TestClient, proxy: FaultProxy, seeded: SeededAccount, field: str
) -> None:
    report = "queues" if field == "identifiers" else "recipients"
    too_long = "q" * 41
    data = {**QUERY, "report": report, field: [seeded.queue_ids[0], too_long]}
    status, body = await post(client, seeded.account_id, data, request_id="long")
    assert status == 400
    assert body == crossbar(
        {
            field: {
                "maxLength": {
                    "message": "An id is longer than 40 characters",
                    "value": too_long,
                    "target": 40,
                }
            }
        },
        "long",
    )
    assert not loaded(proxy)

    data[field] = [seeded.queue_ids[0], "q" * 40]  # exactly the limit
    status, body = await post(client, seeded.account_id, data, request_id="long-40")
    assert status == 200, body


@pytest.mark.usefixtures("still_serving")
@pytest.mark.parametrize("bad", ["q 1", "q/1", 'q"1', "-q1"])
async def test_an_id_with_bad_characters_is_400_pattern(
    client: TestClient, proxy: FaultProxy, seeded: SeededAccount, bad: str
) -> None:
    status, body = await post(
        client, seeded.account_id, {**QUERY, "identifiers": [bad]}, request_id="pat"
    )
    assert status == 400
    assert body == crossbar(
        {
            "identifiers": {
                "pattern": {
                    "message": "An id may hold only letters, digits and _ . @ : + -",
                    "value": bad,
                }
            }
        },
        "pat",
    )
    assert not loaded(proxy)


# -- report size ------------------------------------------------------------------------------


def _max_cells(cells: int) -> dict[str, Any]:
    return {
        "identifiers": {
            "maxCells": {
                "message": f"The report would hold {cells} entity x bucket cells, more than "
                "20: narrow the range, use a longer period or fewer identifiers",
                "value": cells,
                "target": 20,
            }
        }
    }


@pytest.mark.usefixtures("still_serving")
async def test_too_many_cells_with_identifiers_is_400_before_loading(
    client: TestClient, proxy: FaultProxy, seeded: SeededAccount
) -> None:
    hourly = {**QUERY, "period": "hourly", "start_date": "2024-01-31", "end_date": "2024-01-31"}
    data = {**hourly, "identifiers": seeded.queue_ids[:2]}  # 2 x 24 hours = 48 > 20
    status, body = await post(client, seeded.account_id, data, request_id="cells")
    assert status == 400
    assert body == crossbar(_max_cells(48), "cells")
    assert not loaded(proxy)

    daily = {**QUERY, "start_date": "2024-01-10", "identifiers": seeded.queue_ids[:1]}
    status, body = await post(
        client, seeded.account_id, {**daily, "end_date": "2024-01-30"}, request_id="21"
    )
    assert status == 400
    assert body == crossbar(_max_cells(21), "21")  # 1 x 21 days
    assert not loaded(proxy)
    status, body = await post(
        client, seeded.account_id, {**daily, "end_date": "2024-01-29"}, request_id="20"
    )
    assert status == 200, body  # 1 x 20 days: exactly the limit


@pytest.mark.usefixtures("still_serving")
async def test_too_many_cells_without_identifiers_is_400_after_loading(
    client: TestClient, proxy: FaultProxy, seeded: SeededAccount
) -> None:
    day = {**QUERY, "start_date": "2024-01-31", "end_date": "2024-01-31"}
    status, body = await post(client, seeded.account_id, day, request_id="one-day")
    assert status == 200, body
    entities = len(body["data"][0]["report"])  # the queues with data that day
    assert entities >= 1
    await proxy.reset()

    status, body = await post(
        client, seeded.account_id, {**day, "period": "hourly"}, request_id="hourly"
    )
    assert status == 400
    assert body == crossbar(_max_cells(entities * 24), "hourly")
    assert loaded(proxy)  # only the rows tell how many entities there are


@pytest.mark.usefixtures("still_serving")
async def test_a_range_longer_than_max_range_days_is_400_date_range(
    client: TestClient, proxy: FaultProxy, seeded: SeededAccount
) -> None:
    monthly = {**QUERY, "period": "monthly", "start_date": "2024-01-01"}
    status, body = await post(
        client, seeded.account_id, {**monthly, "end_date": "2024-02-01"}, request_id="r"
    )
    assert status == 400
    assert body == crossbar(
        {
            "end_date": {
                "date_range": {
                    "message": "The range may span at most 31 days",
                    "value": 32,
                    "target": 31,
                }
            }
        },
        "r",
    )
    assert not loaded(proxy)
    status, body = await post(
        client, seeded.account_id, {**monthly, "end_date": "2024-01-31"}, request_id="r31"
    )
    assert status == 200, body  # 31 days: exactly the limit


# -- concurrency ------------------------------------------------------------------------------


@pytest.mark.usefixtures("still_serving")
async def test_a_report_beyond_max_reports_waits_queue_timeout_then_is_503_too_busy(
    client: TestClient, proxy: FaultProxy, seeded: SeededAccount, baseline: dict[str, Any]
) -> None:
    await proxy.set_mode("hold", match=lambda _method, target: bool(MODB.search(target)))
    first = asyncio.create_task(post(client, seeded.account_id, QUERY, request_id="first"))
    try:
        async with asyncio.timeout(10):
            await proxy.wait_faulted()  # the first report is at CouchDB, holding the one slot
        started = time.monotonic()
        status, body = await post(client, seeded.account_id, QUERY, request_id="second")
        elapsed = time.monotonic() - started
        assert status == 503
        assert body == crossbar(
            {"message": "too many reports in progress, retry shortly"},
            "second",
            status=503,
            message="too busy",
        )
        assert LIMITS["queue_timeout"] * 0.9 <= elapsed < LIMITS["queue_timeout"] + 1.5
        assert not first.done()
    finally:
        proxy.release()
    async with asyncio.timeout(10):
        status, body = await first
    assert status == 200, body  # the report in flight was not disturbed
    assert body["data"][0]["report"] == baseline["data"][0]["report"]


@pytest.mark.parametrize("cache_mb", [0, 4])
@pytest.mark.parametrize("with_ids", [False, True])
async def test_couch_concurrency_1_is_bounded_not_deadlocked_over_several_months(
    couch_url: str, seeded: SeededAccount, cache_mb: float, with_ids: bool
) -> None:
    """Jan..Mar (4 MoDBs with the month after), per-id ranges: one CouchDB request at a time.

    Through a proxy of its own: the module's may still relay a query an earlier test gave up
    on (a real CouchDB answers it only when done), which would count as in flight here."""
    data: dict[str, Any] = {
        "report": "recipients",
        "period": "monthly",
        "start_date": "2024-01-01",
        "end_date": "2024-03-31",
    }
    if with_ids:
        data["identifiers"] = sorted(seeded.recipient_ids)[:3]
        data["queue_ids"] = seeded.queue_ids[:2]
    reports = []
    async with FaultProxy(couch_url) as proxy:
        for concurrency in (16, 1):
            settings = Settings(
                couchdb_url=proxy.url,
                tokens={TOKEN: seeded.account_id},
                couch_concurrency=concurrency,
                month_concurrency=8,
                cache_mb=cache_mb,
                couch_timeout=10.0,
                # nothing but the report's own requests: no follower longpoll, and no look at
                # an index build (its probes are outside the bound) when a query is slow to come
                follow_db_updates=False,
                index_wait=60.0,
            )
            async with make_client(settings) as c:
                await proxy.reset()
                async with asyncio.timeout(20):
                    status, body = await post(
                        c, seeded.account_id, data, request_id=f"conc-{concurrency}"
                    )
                assert status == 200, body
                reports.append(body["data"][0]["report"])
                if concurrency == 1:
                    assert proxy.max_inflight == 1
                    assert len([r for r in proxy.requests if "/_view/" in r.target]) >= 2
    assert reports[0] == reports[1]
    calls = sum(sum(item["data"]["call_count"].values()) for item in reports[1])
    assert calls > 0


async def test_get_carries_as_many_identifiers_as_post_and_over_the_limit_is_crossbar_400(
    proxy: FaultProxy, seeded: SeededAccount
) -> None:
    """Default limits: 1000 ids of 32 hex digits make a ~33 kB query string (> 8190 bytes)."""
    settings = Settings(couchdb_url=proxy.url, tokens={TOKEN: seeded.account_id})
    ids = [seeded.queue_ids[0], *(f"{i:032x}" for i in range(settings.max_identifiers - 1))]
    headers = {"X-Auth-Token": TOKEN, "X-Request-ID": "many-ids"}
    async with make_client(settings) as c:
        resp = await c.get(
            report_url(seeded.account_id),
            params={**QUERY, "identifiers": ",".join(ids)},
            headers=headers,
        )
        assert resp.content_type == "application/json"
        body = await resp.json()
        assert resp.status == 200, body
        report = body["data"][0]["report"]
        assert [item["id"] for item in report] == ids
        assert sum(report[0]["data"]["call_count"].values()) > 0

        too_many = ",".join([*ids, "one-more"])
        resp = await c.get(
            report_url(seeded.account_id),
            params={**QUERY, "identifiers": too_many},
            headers=headers,
        )
        assert resp.content_type == "application/json"
        assert resp.status == 400
        assert await resp.json() == crossbar(
            {
                "identifiers": {
                    "maxItems": {"message": "The list has more than 1000 items", "target": 1000}
                }
            },
            "many-ids",
        )


@pytest.mark.parametrize("cache_mb", [0, 4])
async def test_identical_reports_in_flight_share_one_couchdb_request_per_query(
    proxy: FaultProxy, seeded: SeededAccount, cache_mb: float
) -> None:
    """Ten users open the same report at once: CouchDB sees each view query once (ten
    reports of one account at once: its share of report slots raised to that)."""
    settings = Settings(
        couchdb_url=proxy.url,
        tokens={TOKEN: seeded.account_id},
        cache_mb=cache_mb,
        account_reports=10,
    )
    async with make_client(settings) as c:
        status, body = await post(
            c, seeded.account_id, QUERY, request_id="warm-up"
        )  # installs the views
        assert status == 200, body
        await proxy.reset()
        await proxy.set_mode("hold", match=lambda _m, target: "/_view/" in target)
        same = {**QUERY, "report": "recipients"}  # a view the warm-up did not read (nor cache)
        reports = [
            asyncio.create_task(post(c, seeded.account_id, same, request_id=f"same-{i}"))
            for i in range(10)
        ]
        async with asyncio.timeout(10):
            await proxy.wait_faulted(2)  # the queries of the Jan and Feb 2024 MoDBs: held
        await asyncio.sleep(0.2)  # let every report reach its view queries
        proxy.release()
        async with asyncio.timeout(20):
            results = await asyncio.gather(*reports)
    views = [r.target for r in proxy.requests if "/_view/" in r.target]
    assert len(views) == len(set(views)) == 2  # one per MoDB: 202401, 202402 (no 202403)
    first = results[0][1]["data"][0]["report"]
    assert sum(sum(item["data"]["call_count"].values()) for item in first) > 0
    for status, body in results:
        assert status == 200, body
        assert body["data"][0]["report"] == first


async def test_missing_months_are_not_asked_again_on_every_report(
    proxy: FaultProxy, seeded: SeededAccount
) -> None:
    """Archived months (no MoDB) cost CouchDB requests once, not once per report."""
    settings = Settings(couchdb_url=proxy.url, tokens={TOKEN: seeded.account_id})
    archived = {**QUERY, "start_date": "2023-01-01", "end_date": "2023-06-30"}
    async with make_client(settings) as c:
        status, first = await post(c, seeded.account_id, archived, request_id="archived-1")
        assert status == 200, first
        assert loaded(proxy)  # the first report looked for the 2023 MoDBs
        await proxy.reset()
        status, again = await post(c, seeded.account_id, archived, request_id="archived-2")
    assert status == 200, again
    assert again["data"][0]["report"] == first["data"][0]["report"]
    assert not loaded(proxy)  # the second did not ask again
