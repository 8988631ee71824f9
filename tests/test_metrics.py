"""``/metrics``: every family the README lists is there and moves when it should.

One service behind the fault proxy: a report, a cache hit, a design-doc install, a CouchDB
fault (answered 500 once, then retried), two identical reports in flight sharing their view
queries while a third waits for a slot and is turned away. The exposition never holds an
account id, a database name or a token. ``QUBICLE_REPORTS_METRICS=off`` removes it;
``QUBICLE_REPORTS_METRICS_ADDRESS`` moves it to a listener of its own.
"""

from __future__ import annotations

import asyncio
import re
import socket
from datetime import date

import aiohttp
from aiohttp.test_utils import TestClient
from conftest import TOKEN, make_client, post
from faultproxy import FaultProxy

from app import __version__
from app.config import Settings
from app.couch import design_docs, modb
from app.couch.client import Couch
from qubicle_dev.seed import SeededAccount

SEEDED = {"seed": 41, "start": date(2024, 1, 30)}
P = "qubicle_reports_"
ROUTE = "/v2/accounts/{account_id}/qubicle_reports"
FAMILIES = [
    "http_requests",
    "http_request_duration_seconds",
    "report_phase_duration_seconds",
    "reports_running",
    "reports_waiting",
    "reports_rejected_busy",
    "couchdb_requests",
    "couchdb_request_duration_seconds",
    "couchdb_retries",
    "couchdb_failovers",
    "couchdb_nodes_up",
    "view_queries_coalesced",
    "design_doc_writes",
    "index_build_waits",
    "cache_hits",
    "cache_misses",
    "cache_evictions",
    "cache_bytes",
    "cache_entries",
    "build_info",
    "couchdb_credentials",
    "db_updates_state",
]


def sample(text: str, name: str, **labels: str) -> float:
    """One sample's value; 0 when that labelled series does not exist (yet)."""
    for line in text.splitlines():
        if not line.startswith(P + name + ("{" if labels else " ")):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.rsplit("} ", 1)[0])) if labels else {}
        if found == labels:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def scrape(client: TestClient) -> str:
    resp = await client.get("/metrics")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    return await resp.text()


async def test_every_family_appears_and_moves_and_names_no_account_or_token(
    couch: Couch, proxy: FaultProxy, seeded: SeededAccount
) -> None:
    await proxy.reset()
    jan = modb.modb(seeded.account_id, 2024, 1)
    ddoc_id = design_docs.load()["_id"]
    existing = await couch.get_doc(jan, ddoc_id)
    if existing is not None:  # so the service installs it and says so
        await couch.delete_doc(jan, ddoc_id, existing["_rev"])
    settings = Settings(
        couchdb_url=proxy.url,
        tokens={TOKEN: seeded.account_id},
        cache_mb=16,
        max_reports=2,
        queue_timeout=0.3,
    )
    async with make_client(settings) as client:
        text = await scrape(client)
        for family in FAMILIES:
            assert f"# HELP {P}{family}" in text, family
        # which release answers, reading which design doc
        assert sample(text, "build_info", version=__version__, design_doc=ddoc_id[8:]) == 1

        # a report
        status, body = await post(client, seeded.account_id)
        assert status == 200, body
        text = await scrape(client)
        labels = {"route": ROUTE, "method": "POST", "status": "200"}
        assert sample(text, "http_requests_total", **labels) == 1
        assert sample(text, "http_request_duration_seconds_count", route=ROUTE, method="POST")
        for phase in ("load", "filter", "render"):
            assert (
                sample(
                    text,
                    "report_phase_duration_seconds_count",
                    report="queues",
                    period="daily",
                    phase=phase,
                )
                == 1
            )
        assert sample(text, "couchdb_requests_total", operation="view", outcome="ok") >= 2
        assert sample(text, "couchdb_credentials", state="accepted") == 1
        assert sample(text, "couchdb_request_duration_seconds_count", operation="view") >= 2
        assert sample(text, "design_doc_writes_total", outcome="installed") >= 1
        # both MoDBs answered their view queries: their indexes are built, as /metrics says
        assert sample(text, "index_states", state="built") == 2
        assert sample(text, "index_states", state="building") == 0
        assert sample(text, "cache_misses_total") >= 2
        assert sample(text, "cache_bytes") > 0 and sample(text, "cache_entries") >= 2

        # a cache hit (both months are closed); on a cluster the design doc just installed
        # reaches the third copy a moment later, moving update_seq once more: a few tries
        for _ in range(10):
            hits = sample(text, "cache_hits_total")
            status, _ = await post(client, seeded.account_id)
            assert status == 200
            text = await scrape(client)
            if sample(text, "cache_hits_total") >= hits + 2:
                break
            await asyncio.sleep(0.2)
        assert sample(text, "cache_hits_total") >= hits + 2

        # a CouchDB fault: one view answered 500, read again
        await proxy.set_mode("http500", match=lambda _m, t: "/_view/" in t, times=1)
        status, _ = await post(client, seeded.account_id, **{"Cache-Control": "no-cache"})
        assert status == 200
        text = await scrape(client)
        assert sample(text, "couchdb_requests_total", operation="view", outcome="server_error")
        assert sample(text, "couchdb_retries_total", operation="view") == 1

        # two identical reports share their view queries; a third waits for a slot, then 503
        await proxy.set_mode("hold", match=lambda _m, t: "/_view/" in t)
        held = [
            asyncio.create_task(post(client, seeded.account_id, **{"Cache-Control": "no-cache"}))
            for _ in range(2)
        ]
        async with asyncio.timeout(10):
            await proxy.wait_faulted(2)
        third = asyncio.create_task(post(client, seeded.account_id))
        await asyncio.sleep(0.1)
        text = await scrape(client)
        assert sample(text, "reports_running") == 2
        assert sample(text, "reports_waiting") == 1
        assert sample(text, "view_queries_coalesced_total") >= 2  # Jan and Feb, shared
        status, body = await third
        assert status == 503 and body["message"] == "too busy"
        proxy.release()
        for task in held:
            assert (await task)[0] == 200
        text = await scrape(client)
        assert sample(text, "reports_rejected_busy_total") == 1
        assert sample(text, "reports_running") == 0 and sample(text, "reports_waiting") == 0
        assert sample(text, "http_requests_total", route=ROUTE, method="POST", status="503") == 1

    assert seeded.account_id not in text
    assert seeded.account_id[:8] not in text
    assert "account%2F" not in text and "account/" not in text
    assert TOKEN not in text
    await proxy.reset()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_metrics_can_be_turned_off_or_served_on_a_port_of_their_own(couch_url: str) -> None:
    async with make_client(Settings(couchdb_url=couch_url, metrics=False)) as client:
        resp = await client.get("/metrics")
        assert resp.status == 404
        assert (await resp.json())["message"] == "not_found"

    port = free_port()
    settings = Settings(couchdb_url=couch_url, metrics_address=f"127.0.0.1:{port}")
    async with make_client(settings) as client:
        assert (await client.get("/metrics")).status == 404
        assert (await client.get("/health/live")).status == 200
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/metrics") as resp,
        ):
            assert resp.status == 200
            text = await resp.text()
        assert f"# HELP {P}http_requests" in text
        assert sample(text, "http_requests_total", route="/health/live", method="GET", status="200")


async def test_a_missing_month_is_not_an_error_and_no_created_twins_and_process_series(
    couch_url: str, seeded: SeededAccount
) -> None:
    """A report over a month with no MoDB (a normal 404) counts as ``not_found``, never as
    ``client_error``; no family has a ``_created`` twin; the process's own series are there."""
    settings = Settings(couchdb_url=couch_url, tokens={TOKEN: seeded.account_id})
    async with make_client(settings) as client:
        query = {"report": "queues", "start_date": "2023-11-01", "end_date": "2024-01-31"}
        status, body = await post(client, seeded.account_id, query)
        assert status == 200, body
        text = await scrape(client)
    assert sample(text, "couchdb_requests_total", operation="db_get", outcome="not_found") >= 2
    assert not [line for line in text.splitlines() if 'outcome="client_error"' in line]
    assert not [line for line in text.splitlines() if "_created" in line.split(" ")[0]]
    for name in ("process_cpu_seconds_total", "process_resident_memory_bytes", "python_info"):
        assert re.search(rf"^{name}[ {{]", text, re.M), name
