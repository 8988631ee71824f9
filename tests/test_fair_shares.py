"""Fair shares (issue "One tenant never hurts another", rows 5 and 6 of its table): one
account cannot take more than its share of report slots or CouchDB requests; when it is over
its share it alone is told ``503 too busy`` with ``Retry-After``; liveness never waits behind
report work; readiness asks CouchDB at most once per interval however many probes arrive.

Two seeded accounts behind a :class:`faultproxy.FaultProxy` that holds the view queries of
account A only (A's reports are "in progress" for as long as the test likes) while B's pass.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from conftest import QUERY, make_client, post, seed_account
from faultproxy import FaultProxy

from app.config import Settings
from app.couch.client import Couch
from app.web.readiness import SharedLook
from qubicle_dev.seed import SeededAccount

SEEDED = {"seed": 51}
TOKEN_A, TOKEN_B = "tok-greedy-a", "tok-polite-b"
SHARES: dict[str, Any] = {
    "max_reports": 6,
    "account_reports": 2,
    "account_couch_concurrency": 2,
    "month_concurrency": 8,
    "queue_timeout": 0.5,
    "cache_mb": 0,  # every report reads its views: what is held is visible at the proxy
    "report_timeout": 20.0,
}
YEAR = {**QUERY, "start_date": "2023-03-01", "end_date": "2024-02-01"}  # 12 MoDBs


@pytest.fixture(scope="module")
async def other(couch: Couch, session_accounts: Any) -> SeededAccount:
    return await seed_account(couch, session_accounts.new(), seed=52)


@pytest.fixture(scope="module")
def service_settings(proxy: FaultProxy, seeded: SeededAccount, other: SeededAccount) -> Settings:
    tokens = {TOKEN_A: seeded.account_id, TOKEN_B: other.account_id}
    return Settings(couchdb_url=proxy.url, tokens=tokens, **SHARES)


@pytest.fixture(autouse=True)
async def _pass_through(proxy: FaultProxy) -> AsyncIterator[None]:
    await proxy.reset()
    yield
    await proxy.reset()


def encoded_prefix(account_id: str) -> str:
    a = account_id
    return f"account%2F{a[:2]}%2F{a[2:4]}%2F{a[4:]}-"


async def hold_views_of(proxy: FaultProxy, account_id: str) -> None:
    prefix = encoded_prefix(account_id)
    await proxy.set_mode("hold", match=lambda _m, target: prefix in target and "/_view/" in target)


async def test_an_account_over_its_report_share_is_told_too_busy_and_the_others_are_not(
    client: TestClient, proxy: FaultProxy, seeded: SeededAccount, other: SeededAccount
) -> None:
    assert (await post(client, other.account_id, token=TOKEN_B))[0] == 200  # B, views built
    await hold_views_of(proxy, seeded.account_id)
    greedy = [
        asyncio.ensure_future(post(client, seeded.account_id, token=TOKEN_A, request_id=f"a{i}"))
        for i in range(5)
    ]
    async with asyncio.timeout(10):
        await proxy.wait_faulted(1)
    started = time.monotonic()
    status, body = await post(client, other.account_id, token=TOKEN_B, request_id="b")
    assert status == 200, body  # B is served while A holds its whole share
    assert time.monotonic() - started < 2
    # A's requests beyond its share waited queue_timeout, then were told to come back
    done, pending = await asyncio.wait(greedy, timeout=5)
    busy = [t.result() for t in done]
    assert len(busy) == 3 and len(pending) == 2
    for status, body in busy:
        assert status == 503
        assert body["message"] == "too busy"
        assert body["data"] == {"message": "too many reports in progress, retry shortly"}
    resp = await client.post(
        "/v2/accounts/" + seeded.account_id + "/qubicle_reports",
        json={"data": QUERY},
        headers={"X-Auth-Token": TOKEN_A},
    )
    assert resp.status == 503 and resp.headers["Retry-After"] == "1"
    live_started = time.monotonic()
    live = await client.get("/health/live")
    assert live.status == 200 and time.monotonic() - live_started < 0.1
    proxy.release()
    results = await asyncio.gather(*pending)
    assert [s for s, _ in results] == [200, 200]


async def test_an_account_never_has_more_than_its_share_of_couchdb_requests_in_flight(
    client: TestClient, proxy: FaultProxy, seeded: SeededAccount, other: SeededAccount
) -> None:
    """A year is 12 MoDBs (up to 8 view queries at once per report, 2 reports): A may have 2
    in flight; B's report goes past them."""
    await hold_views_of(proxy, seeded.account_id)
    greedy = [
        asyncio.ensure_future(post(client, seeded.account_id, YEAR, token=TOKEN_A))
        for _ in range(2)
    ]
    async with asyncio.timeout(10):
        await proxy.wait_faulted(2)
    await asyncio.sleep(0.3)  # time for any more of A's to arrive, were they allowed
    assert proxy.faulted == 2
    status, _ = await post(client, other.account_id, YEAR, token=TOKEN_B)
    assert status == 200
    assert proxy.faulted == 2
    proxy.release()
    assert [s for s, _ in await asyncio.gather(*greedy)] == [200, 200]


def looks(proxy: FaultProxy) -> int:
    return len([r for r in proxy.requests if r.target == "/_up"])


async def test_readiness_asks_couchdb_once_per_interval_however_many_probes(
    proxy: FaultProxy, service_settings: Settings
) -> None:
    settings = Settings(
        couchdb_url=service_settings.couchdb_url, ready_interval=1.0, ready_timeout=2.0
    )
    async with make_client(settings) as client:
        answers = await asyncio.gather(*(client.get("/health/ready") for _ in range(50)))
        assert {r.status for r in answers} == {200}
        # one look: GET /_up (and, on the stand-in, which has none, GET /)
        assert looks(proxy) == 1, proxy.requests
        await asyncio.gather(*(client.get("/health/ready") for _ in range(20)))
        assert looks(proxy) == 1
        await asyncio.sleep(1.05)
        assert (await client.get("/health/ready")).status == 200
        assert looks(proxy) == 2


async def test_readiness_looks_inside_the_couchdb_cap(proxy: FaultProxy) -> None:
    """With every CouchDB slot taken, the look waits for one (and says not ready in time)."""
    from app.couch.client import Couch as Client

    couch = Client(proxy.url, max_concurrency=1)
    try:
        await proxy.set_mode("hold", match=lambda _m, target: "_all_dbs" in target)
        blocker = asyncio.ensure_future(couch.all_dbs())
        async with asyncio.timeout(5):
            await proxy.wait_faulted(1)
        assert await couch.ready(0.3, bounded=True) == "down"  # waited for the one slot
        assert await couch.ready(0.3) == "up"  # outside the cap it would have gone past
        proxy.release()
        await blocker
        assert await couch.ready(0.3, bounded=True) == "up"
    finally:
        await couch.close()


async def test_a_shared_look_is_one_look_for_concurrent_callers_and_reused_for_its_interval() -> (
    None
):
    now = [0.0]
    gate = asyncio.Event()

    async def look() -> str:
        await gate.wait()
        return "up"

    shared = SharedLook(look, 1.0, clock=lambda: now[0])
    callers = [asyncio.ensure_future(shared()) for _ in range(10)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*callers) == ["up"] * 10
    assert shared.looks == 1
    now[0] = 0.9
    assert await shared() == "up" and shared.looks == 1
    now[0] = 1.0
    assert await shared() == "up" and shared.looks == 2
