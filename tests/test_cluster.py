"""A CouchDB cluster as the service meets one: several node URLs, seqs that vary, nodes dying.

Two :class:`faultproxy.FaultProxy` instances in front of the tests' CouchDB are two nodes of
one cluster (``COUCHDB_URL=http://…node1,http://…node2``); each answers ``GET /{db}`` with a
cluster-shaped ``update_seq`` (``"<number>-<opaque>"``, a new opaque part on every call, as
COUCH_FACTS.md "Clusters" measured). Then: the closed-month cache still hits; a view answer
cut off by one node is read again from the other; a node that refuses connections is failed
over and used again once back; readiness follows the nodes; a conflicted design doc (as two
racing creates leave on a cluster) is resolved to one current revision.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from conftest import Accounts, make_client, seed_account
from faultproxy import FaultProxy

from app.config import Settings
from app.couch import design_docs, modb
from app.couch.client import Couch
from app.couch.index_state import seq_number
from app.couch.installer import Installer
from qubicle_dev.devcouch import DevCouch
from qubicle_dev.seed import SeededAccount

TOKEN = "tok-cluster-77c1"
QUERY = {"report": "queues", "start_date": "2024-01-30", "end_date": "2024-02-01"}
FEB_VIEW = re.compile(r"-202402/_design/qubicle_reports-[0-9a-f]{16}/_view/")
DDOC_ID = design_docs.load()["_id"]


@pytest.fixture(scope="module")
async def seeded(couch: Couch, session_accounts: Accounts) -> SeededAccount:
    return await seed_account(couch, session_accounts.new(), seed=31, start=date(2024, 1, 30))


@pytest.fixture(scope="module")
async def nodes(couch_url: str) -> AsyncIterator[tuple[FaultProxy, FaultProxy]]:
    async with FaultProxy(couch_url) as one, FaultProxy(couch_url) as two:
        yield one, two


@pytest.fixture(autouse=True)
async def _clustered(nodes: tuple[FaultProxy, FaultProxy]) -> AsyncIterator[None]:
    for node in nodes:
        await node.reset()
        node.cluster_seqs = True
    yield
    for node in nodes:
        await node.reset()


def cluster_settings(nodes: tuple[FaultProxy, ...], account_id: str, **kw: Any) -> Settings:
    values: dict[str, Any] = {
        "couchdb_url": ",".join(n.url for n in nodes),
        "tokens": {TOKEN: account_id},
        "node_retry": 0.3,
        "couch_timeout": 5.0,
        "report_timeout": 10.0,
    }
    return Settings(**{**values, **kw})


async def post(client: TestClient, account_id: str, *, no_cache: bool = False) -> Any:
    headers = {"X-Auth-Token": TOKEN}
    if no_cache:
        headers["Cache-Control"] = "no-cache"
    resp = await client.post(
        f"/v2/accounts/{account_id}/qubicle_reports", json={"data": QUERY}, headers=headers
    )
    body = await resp.json()
    assert resp.status == 200, body
    return body["data"][0]["report"]


def views(node: FaultProxy) -> list[str]:
    return [r.target for r in node.requests if "/_view/" in r.target]


def metric(text: str, name: str, **labels: str) -> float:
    """One sample of /metrics (0 when the labelled series does not exist yet)."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{name}{{{want}}} (\S+)$" if labels else rf"^{name} (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def metrics(client: TestClient) -> str:
    return await (await client.get("/metrics")).text()


async def test_the_nodes_answer_cluster_shaped_seqs_that_vary_with_no_writes() -> None:
    """The simulator's own behaviour, so on a simulator of its own: a real CouchDB named by
    COUCHDB_URL answers seqs of its own shape (a single node's do not vary)."""
    with DevCouch() as own:
        async with FaultProxy(own.url) as node:
            node.cluster_seqs = True
            couch = Couch(node.url)
            try:
                db = modb.modb(uuid.uuid4().hex, 2024, 1)
                await couch.create_db(db)
                await couch.put_doc(db, {"_id": "one"})
                seqs = [(await couch.db_info(db))["update_seq"] for _ in range(3)]  # type: ignore[index]
            finally:
                await couch.close()
    assert all(isinstance(s, str) and re.fullmatch(r"\d+-\S+", s) for s in seqs), seqs
    assert len(set(seqs)) == 3
    assert len({seq_number(s) for s in seqs}) == 1


async def test_closed_month_cache_hits_though_every_seq_string_differs(
    nodes: tuple[FaultProxy, FaultProxy], seeded: SeededAccount
) -> None:
    async with make_client(cluster_settings(nodes, seeded.account_id, cache_mb=16)) as client:
        first = await post(client, seeded.account_id)
        before = await metrics(client)
        for node in nodes:
            await node.reset()
            node.cluster_seqs = True
        for _ in range(5):
            assert await post(client, seeded.account_id) == first
        after = await metrics(client)
    assert not views(nodes[0]) and not views(nodes[1])  # every month from the cache
    assert any(r.target.startswith("/account%2F") for r in nodes[0].requests)  # seqs were read
    name = "qubicle_reports_cache_hits_total"
    hits = metric(after, name) - metric(before, name)
    assert hits >= 10  # 2 closed months x 5 reports


@pytest.mark.parametrize("mode", ["cut", "reset", "http500"])
async def test_a_view_read_failing_on_one_node_is_read_again_from_the_other(
    nodes: tuple[FaultProxy, FaultProxy], seeded: SeededAccount, mode: str
) -> None:
    one, two = nodes
    async with make_client(cluster_settings(nodes, seeded.account_id, cache_mb=0)) as client:
        baseline = await post(client, seeded.account_id)
        await one.set_mode(mode, match=lambda _m, target: bool(FEB_VIEW.search(target)))
        await two.reset()
        two.cluster_seqs = True
        assert await post(client, seeded.account_id) == baseline
        text = await metrics(client)
    assert one.faulted >= 1
    assert [t for t in views(two) if FEB_VIEW.search(t)]  # the retry went to the other node
    assert metric(text, "qubicle_reports_couchdb_retries_total", operation="view") >= 1


@pytest.mark.parametrize("mode", ["cut", "http500"])
async def test_on_one_node_a_failed_read_is_retried_once_then_503(
    proxy: FaultProxy, seeded: SeededAccount, mode: str
) -> None:
    """With one node, the retry goes to the same node: one failure is absorbed, two are not."""
    await proxy.reset()
    settings = cluster_settings((proxy,), seeded.account_id, cache_mb=0)
    feb = lambda _m, target: bool(FEB_VIEW.search(target))  # noqa: E731
    async with make_client(settings) as client:
        baseline = await post(client, seeded.account_id)
        await proxy.set_mode(mode, match=feb, times=1)
        assert await post(client, seeded.account_id) == baseline
        assert proxy.faulted == 1
        await proxy.set_mode(mode, match=feb, times=2)
        resp = await client.post(
            f"/v2/accounts/{seeded.account_id}/qubicle_reports",
            json={"data": QUERY},
            headers={"X-Auth-Token": TOKEN},
        )
        assert resp.status == 503
        assert (await resp.json())["message"] == "datastore fatal error"
    await proxy.reset()


async def test_a_dead_node_is_failed_over_and_used_again_once_back(
    nodes: tuple[FaultProxy, FaultProxy], seeded: SeededAccount
) -> None:
    one, two = nodes
    settings = cluster_settings(nodes, seeded.account_id, cache_mb=0)
    async with make_client(settings) as client:
        baseline = await post(client, seeded.account_id)
        assert views(one) and not views(two)  # the first listed node takes the requests

        await one.set_mode("refuse")
        for _ in range(3):
            assert await post(client, seeded.account_id, no_cache=True) == baseline
        assert (await client.get("/health/ready")).status == 200
        text = await metrics(client)
        assert metric(text, "qubicle_reports_couchdb_failovers_total") >= 1
        assert metric(text, "qubicle_reports_couchdb_nodes_up") == 1
        assert views(two)

        await one.set_mode("pass")
        await one.reset()
        one.cluster_seqs = True
        await asyncio.sleep(settings.node_retry + 0.1)
        assert await post(client, seeded.account_id, no_cache=True) == baseline
        assert views(one)  # back in use
        assert metric(await metrics(client), "qubicle_reports_couchdb_nodes_up") == 2


@pytest.mark.parametrize("fault", ["refuse", "stall"])
async def test_readiness_fails_within_its_timeout_while_no_node_answers_and_recovers(
    nodes: tuple[FaultProxy, FaultProxy], seeded: SeededAccount, fault: str
) -> None:
    settings = cluster_settings(nodes, seeded.account_id, ready_timeout=0.5, ready_interval=0)
    async with make_client(settings) as client:
        resp = await client.get("/health/ready")
        assert (resp.status, await resp.json()) == (200, {"status": "ready", "couchdb": "up"})
        for node in nodes:
            await node.set_mode(fault)
        started = time.monotonic()
        resp = await client.get("/health/ready")
        elapsed = time.monotonic() - started
        assert (resp.status, await resp.json()) == (
            503,
            {"status": "not ready", "couchdb": "down"},
        )
        assert elapsed < 0.5 + 0.5
        live = await client.get("/health/live")
        assert (live.status, await live.json()) == (200, {"status": "ok"})
        for node in nodes:
            await node.set_mode("pass")
        resp = await client.get("/health/ready")
        assert resp.status == 200


# -- design-doc conflicts -----------------------------------------------------------------


def rev(n: int, tag: str) -> str:
    return f"{n}-{tag * 32}"


@pytest.mark.parametrize("winner_is_current", [True, False])
async def test_racing_installers_resolve_a_conflicted_design_doc_to_one_current_revision(
    couch: Couch, couch_url: str, accounts: Accounts, winner_is_current: bool
) -> None:
    """Two leaves as two racing creates leave them on a cluster; CouchDB's winner is the
    higher revision id ("1-bbb…" over "1-aaa…")."""
    db = modb.modb(accounts.new(), 2024, 5)
    await couch.create_db(db)
    current = design_docs.load()
    # under our name, with other views (a hand edit): never read, written over
    views = {**current["views"], "agent_events": {"map": current["views"]["agent_events"]["map"]}}
    outdated = {**current, "views": views}
    low, high = (outdated, current) if winner_is_current else (current, outdated)
    await couch.ok(
        "POST",
        f"{modb.encode(db)}/_bulk_docs",
        body={
            "docs": [{**low, "_rev": rev(1, "a")}, {**high, "_rev": rev(1, "b")}],
            "new_edits": False,
        },
    )
    before = await couch.get_doc(db, DDOC_ID, conflicts=True)
    assert before is not None and before["_rev"] == rev(1, "b")
    assert before["_conflicts"] == [rev(1, "a")]

    one, two = Couch(couch_url), Couch(couch_url)
    try:
        assert all(await asyncio.gather(Installer(one).ensure(db), Installer(two).ensure(db)))
    finally:
        await one.close()
        await two.close()
    after = await couch.get_doc(db, DDOC_ID, conflicts=True)
    assert after is not None and "_conflicts" not in after
    assert design_docs.version_of(after) == design_docs.version_of(current)
    if winner_is_current:
        assert after["_rev"] == rev(1, "b")  # kept as it was: nothing rewritten
    else:
        assert after["_rev"].startswith("2-")  # the winner, written over once
    assert await Installer(couch).install(db) == "current"
