"""CouchDB failing for real: every fault is a Crossbar 503 in bounded time, never part of a report.

The service talks to the real CouchDB-protocol server through :class:`faultproxy.FaultProxy`,
which refuses, resets, stalls, cuts or answers 500 on demand; one test stops a whole devcouch
and starts it again, one serves with the read-only user, one sends SIGTERM to the real server
process while a report is in flight. After each fault the same service, never restarted,
answers the same report with the right data again.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from conftest import QUERY, TOKEN, make_client, report_url, seed_account
from faultproxy import FaultProxy
from yarl import URL

from app import __version__
from app.commands.install_views import install_views_command
from app.config import Settings
from app.couch import design_docs
from app.couch.client import Couch, Slow
from app.couch.installer import month_dbs
from qubicle_dev.devcouch import DevCouch
from qubicle_dev.seed import GREGORIAN_OFFSET

ROOT = Path(__file__).resolve().parent.parent
START = date(2024, 1, 30)  # 3 days across a month end: MoDBs 202401 and 202402 hold data
DAYS = ["20240130", "20240131", "20240201"]
COUCH_TIMEOUT = 1.0
REPORT_TIMEOUT = 3.0
MARGIN = 1.5  # seconds allowed beyond the configured timeout
FEB_VIEW = re.compile(r"-202402/_design/qubicle_reports-[0-9a-f]{16}/_view/")
ERROR_KEYS = {"data", "error", "message", "status", "request_id", "auth_token"}


@dataclass
class Seeded:
    account_id: str
    queue_ids: list[str]
    calls: dict[str, dict[str, int]]  # queue -> day -> visits, from the stored documents


async def seed_small(couch: Couch, account_id: str, build: bool = True) -> Seeded:
    """One small account (3 days, 10 calls a day); the expected counts read back as stored."""
    acc = await seed_account(couch, account_id, seed=11, start=START, build=build)
    counts: Counter[tuple[str, str]] = Counter()
    for db in await month_dbs(couch, account_id):
        for row in await couch.all_docs(db, include_docs=True):
            doc = row["doc"]
            if doc.get("pvt_type") == "qubicle_session":
                entered = datetime.fromtimestamp(doc["entered_timestamp"] - GREGORIAN_OFFSET, UTC)
                counts[doc["queue_id"], f"{entered:%Y%m%d}"] += 1
    calls = {q: {d: counts[q, d] for d in DAYS} for q in sorted(acc.queue_ids)}
    assert sum(counts.values()) >= 20, "the seed must have written the sessions"
    return Seeded(account_id, acc.queue_ids, calls)


def settings_for(url: str, account_id: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "couchdb_url": url,
        "couch_timeout": COUCH_TIMEOUT,
        "report_timeout": REPORT_TIMEOUT,
        "cache_mb": 0,  # every report reads CouchDB: a fault cannot hide behind the cache
        "tokens": {TOKEN: account_id},
    }
    return Settings(**{**values, **overrides})


async def post_report(
    client: TestClient | aiohttp.ClientSession,
    url: str,
    data: dict[str, Any] = QUERY,
    request_id: str = "faults-1",
    *,
    no_cache: bool = False,
) -> tuple[int, dict[str, Any], float]:
    headers = {"X-Auth-Token": TOKEN, "X-Request-ID": request_id}
    if no_cache:
        headers["Cache-Control"] = "no-cache"
    started = time.monotonic()
    resp = await client.post(url, json={"data": data}, headers=headers)
    assert resp.content_type == "application/json"
    body = await resp.json()
    return resp.status, body, time.monotonic() - started


def call_counts(body: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {item["id"]: item["data"]["call_count"] for item in body["data"][0]["report"]}


def assert_no_leak(text: str, *couch_urls: str) -> None:
    """No URL, host:port, user name, password or stack trace in what a client sees."""
    assert "Traceback" not in text and 'File "' not in text and ".py" not in text
    assert "http://" not in text and "https://" not in text and "127.0.0.1" not in text
    assert "localhost" not in text
    for raw in (node for urls in couch_urls for node in urls.split(",")):  # several nodes too
        url = URL(raw.strip())
        assert f"{url.host}:{url.port}" not in text
        assert str(url.port) not in text
        for secret in (url.user, url.password):
            if secret:
                assert secret not in text


def assert_datastore_error(body: dict[str, Any], request_id: str, *couch_urls: str) -> str:
    """The exact Crossbar 503 shape; returns its message."""
    assert set(body) == ERROR_KEYS, body
    assert body["error"] == "503"
    assert body["message"] == "datastore fatal error"
    assert body["status"] == "error"
    assert body["request_id"] == request_id
    assert body["auth_token"] == TOKEN
    assert set(body["data"]) == {"message"}, body
    message = body["data"]["message"]
    assert isinstance(message, str) and message
    assert_no_leak(message, *couch_urls)
    return message


async def assert_health(client: TestClient, up: bool) -> None:
    resp = await client.get("/health")
    body = await resp.json()
    release = {"release": __version__, "design_doc": design_docs.current_name()}
    if up:
        assert (resp.status, body) == (200, {"status": "ok", "couchdb": "up", **release})
    else:
        assert (resp.status, body) == (503, {"status": "degraded", "couchdb": "down", **release})


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def seeded(couch: Couch, session_accounts: Any) -> Seeded:
    return await seed_small(couch, session_accounts.new())


@pytest.fixture(autouse=True)
async def _pass_through(proxy: FaultProxy) -> AsyncIterator[None]:
    await proxy.reset()
    yield
    await proxy.reset()


@pytest.fixture(scope="module", params=["no-cache", "cache"])
async def client(
    request: pytest.FixtureRequest, proxy: FaultProxy, seeded: Seeded
) -> AsyncIterator[TestClient]:
    """The service as configured for the faults, and with the closed-month row cache on."""
    overrides = {"cache_mb": 16} if request.param == "cache" else {}
    async with make_client(settings_for(proxy.url, seeded.account_id, **overrides)) as c:
        yield c


@pytest.fixture(scope="module")
async def baseline(client: TestClient, seeded: Seeded) -> dict[str, Any]:
    """The first good report: builds the views, and is what every recovery must equal."""
    status, body, _ = await post_report(client, report_url(seeded.account_id))
    assert status == 200, body
    return body


@pytest.fixture
def couch_urls(couch_url: str, proxy: FaultProxy) -> tuple[str, str]:
    return couch_url, proxy.url


# -- the proxy's faults -----------------------------------------------------------------------


async def test_the_baseline_report_counts_the_stored_sessions(
    baseline: dict[str, Any], seeded: Seeded
) -> None:
    assert call_counts(baseline) == seeded.calls


@pytest.mark.parametrize("mode", ["refuse", "reset", "http500", "stall", "cut"])
async def test_fault_is_a_503_in_time_and_the_service_recovers_by_itself(
    client: TestClient,
    proxy: FaultProxy,
    seeded: Seeded,
    baseline: dict[str, Any],
    couch_urls: tuple[str, str],
    mode: str,
) -> None:
    url = report_url(seeded.account_id)
    await proxy.set_mode(mode)

    status, body, elapsed = await post_report(client, url, request_id=f"fault-{mode}")
    assert status == 503, body
    assert_datastore_error(body, f"fault-{mode}", *couch_urls)
    assert elapsed < REPORT_TIMEOUT + MARGIN
    if mode == "refuse":
        assert proxy.requests == []  # nothing got through: the listener was gone
    else:
        assert proxy.faulted >= 1  # the fault really was met
    if mode == "stall":
        assert elapsed >= COUCH_TIMEOUT * 0.9  # it did wait for CouchDB, then gave up
    await assert_health(client, up=False)

    await proxy.set_mode("pass")
    status, body, _ = await post_report(client, url, request_id=f"after-{mode}")
    assert status == 200, body
    assert body["request_id"] == f"after-{mode}"
    assert body["data"][0]["report"] == baseline["data"][0]["report"]
    assert call_counts(body) == seeded.calls
    await assert_health(client, up=True)


@pytest.mark.parametrize("mode", ["cut", "http500", "stall", "reset"])
@pytest.mark.parametrize("fmt", ["json", "csv"])
async def test_one_month_failing_fails_the_whole_report_never_a_smaller_one(
    client: TestClient,
    proxy: FaultProxy,
    seeded: Seeded,
    baseline: dict[str, Any],
    couch_urls: tuple[str, str],
    mode: str,
    fmt: str,
) -> None:
    """January answers; February's view query fails: 503, not January's half of the report."""
    url = report_url(seeded.account_id)
    await proxy.set_mode(mode, match=lambda _method, target: bool(FEB_VIEW.search(target)))

    status, body, elapsed = await post_report(
        client, url, {**QUERY, "format": fmt}, "one-month", no_cache=True
    )
    assert status == 503, body
    message = assert_datastore_error(body, "one-month", *couch_urls)
    # one line: which month failed and why (CouchDB's error name, never its reason); the
    # first failure is told (on a loaded machine January's answer may time out first)
    assert re.fullmatch(r"the report could not read 2024-0[12]: CouchDB [^\n]+", message)
    if mode == "http500" and "2024-02" in message:
        assert message.endswith("CouchDB answered 500 (unknown_error)"), message
    assert elapsed < REPORT_TIMEOUT + MARGIN
    faulted = [r for r in proxy.requests if r.mode != "pass"]
    assert faulted and all(FEB_VIEW.search(r.target) for r in faulted)

    await proxy.set_mode("pass")
    status, body, _ = await post_report(client, url, request_id="one-month-after", no_cache=True)
    assert status == 200, body
    assert body["data"][0]["report"] == baseline["data"][0]["report"]


async def test_report_timeout_bounds_a_datastore_that_answers_too_slowly(
    proxy: FaultProxy, seeded: Seeded, couch_urls: tuple[str, str]
) -> None:
    """CouchDB's per-request timeout is long, the report's is short: the report's wins."""
    settings = settings_for(proxy.url, seeded.account_id, couch_timeout=30.0, report_timeout=1.0)
    async with make_client(settings) as client:
        url = report_url(seeded.account_id)
        status, body, _ = await post_report(client, url)  # warm: account read, views known
        assert status == 200, body
        await proxy.set_mode("stall")
        status, body, elapsed = await post_report(client, url, request_id="slow")
        assert status == 503, body
        message = assert_datastore_error(body, "slow", *couch_urls)
        assert message == "the datastore did not answer in time"
        assert 0.9 <= elapsed < 1.0 + MARGIN

        await proxy.set_mode("pass")
        status, body, _ = await post_report(client, url, request_id="fast")
        assert status == 200, body
        assert call_counts(body) == seeded.calls


async def test_a_query_not_answering_is_looked_at_again_until_it_answers(
    proxy: FaultProxy,
) -> None:
    """One look at a query with no answer that learnt nothing (its probes timed out on a busy
    CouchDB) is not the last: the query would otherwise wait out its whole timeout behind an
    index build (a "datastore fatal error" instead of "index being built")."""
    looks = 0

    async def look() -> None:
        nonlocal looks
        looks += 1

    couch = Couch(proxy.url, timeout=60)
    try:
        # the credentials are checked on first use (app.couch.credentials): before the hold
        assert (await couch.request_raw("GET", ""))[0] == 200
        await proxy.set_mode("hold")
        sent = asyncio.ensure_future(couch.request_raw("GET", "", slow=Slow(0.05, look)))
        async with asyncio.timeout(30):
            while looks < 3:
                await asyncio.sleep(0.05)
        proxy.release()
        status, _ = await sent
        assert status == 200
    finally:
        await proxy.set_mode("pass")
        await couch.close()


ACCOUNT_DB_ONLY = re.compile(r"^/account%2F[0-9a-f]{2}%2F[0-9a-f]{2}%2F[0-9a-f]{28}(/|\?|$)")


@pytest.mark.parametrize("mode", ["refuse", "reset", "http500", "stall", "cut"])
async def test_fault_while_authorizing_is_a_503_too(
    proxy: FaultProxy, seeded: Seeded, couch_urls: tuple[str, str], mode: str
) -> None:
    """The account document (read to authorize) is where CouchDB fails this time."""
    settings = settings_for(proxy.url, seeded.account_id, account_cache_ttl=0.0)
    async with make_client(settings) as client:
        url = report_url(seeded.account_id)
        match = None if mode == "refuse" else (lambda _m, t: bool(ACCOUNT_DB_ONLY.search(t)))
        await proxy.set_mode(mode, match=match)
        status, body, elapsed = await post_report(client, url, request_id="authorize")
        assert status == 503, body
        assert_datastore_error(body, "authorize", *couch_urls)
        assert elapsed < COUCH_TIMEOUT + MARGIN
        assert all(ACCOUNT_DB_ONLY.search(r.target) for r in proxy.requests if r.mode != "pass")
        assert not [r for r in proxy.requests if "/_view/" in r.target]  # never got that far

        await proxy.set_mode("pass")
        status, body, _ = await post_report(client, url, request_id="authorized")
        assert status == 200, body
        assert call_counts(body) == seeded.calls


async def test_wrong_couchdb_credentials_are_a_503_that_names_none_of_them(
    proxy: FaultProxy, seeded: Seeded, couch_urls: tuple[str, str]
) -> None:
    wrong = str(URL(proxy.url).with_user("qr-nobody-77").with_password("pw-Wr0ng-5ecret"))
    settings = settings_for(wrong, seeded.account_id)
    async with make_client(settings) as client:
        status, body, _ = await post_report(client, report_url(seeded.account_id), request_id="pw")
        assert status == 503, body
        message = assert_datastore_error(body, "pw", wrong, *couch_urls)
        # what went wrong, without whose credentials
        assert "CouchDB refused the service's credentials" in message


# -- a whole CouchDB stopped, a read-only CouchDB user ---------------------------------------


@pytest.fixture
def devcouch() -> Iterator[DevCouch]:
    """A devcouch of our own with distinctive credentials (they must never be shown)."""
    dc = DevCouch(
        user="qr-admin-a7f3",
        password="pw-Adm1n-5ecret",
        reader_user="qr-reader-9c1b",
        reader_password="pw-Re4der-5ecret",
    )
    dc.start()
    yield dc
    dc.stop()


async def test_couchdb_stopped_is_a_503_and_started_again_serves_again(
    devcouch: DevCouch, session_accounts: Any
) -> None:
    account_id = session_accounts.new()
    admin = Couch(devcouch.url, timeout=60)
    try:
        seeded = await seed_small(admin, account_id)
    finally:
        await admin.close()
    settings = settings_for(devcouch.url, account_id)
    async with make_client(settings) as client:
        url = report_url(account_id)
        status, before, _ = await post_report(client, url)
        assert status == 200, before
        assert call_counts(before) == seeded.calls

        port, couch_url = devcouch.port, devcouch.url
        devcouch.stop()
        status, body, elapsed = await post_report(client, url, request_id="stopped")
        assert status == 503, body
        assert_datastore_error(body, "stopped", couch_url)
        assert elapsed < REPORT_TIMEOUT + MARGIN
        await assert_health(client, up=False)

        # the same server comes back on the same port (empty: devcouch keeps data in memory)
        devcouch.requested_port = port
        devcouch.start()
        admin = Couch(devcouch.url, timeout=60)
        try:
            await seed_small(admin, account_id)
        finally:
            await admin.close()
        status, body, _ = await post_report(client, url, request_id="restarted")
        assert status == 200, body
        assert body["data"][0]["report"] == before["data"][0]["report"]
        await assert_health(client, up=True)


async def test_read_only_user_needs_install_views_then_serves(
    devcouch: DevCouch, session_accounts: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    account_id = session_accounts.new()
    admin = Couch(devcouch.url, timeout=60)
    try:
        seeded = await seed_small(admin, account_id, build=False)  # no design doc yet
    finally:
        await admin.close()
    settings = settings_for(devcouch.reader_url, account_id)
    async with make_client(settings) as client:
        url = report_url(account_id)
        await assert_health(client, up=True)
        status, body, _ = await post_report(client, url, request_id="read-only")
        assert status == 503, body
        message = assert_datastore_error(body, "read-only", devcouch.reader_url, devcouch.url)
        assert "qubicle-reports install-views" in message
        assert "admin credentials" in message

        code = await install_views_command(Settings(couchdb_url=devcouch.url), account_id, False)
        assert code == 0
        assert "2 installed" in capsys.readouterr().out

        status, body, _ = await post_report(client, url, request_id="read-only-after")
        assert status == 200, body
        assert call_counts(body) == seeded.calls


# -- graceful shutdown of the real server process -------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _stopped_listening(port: int) -> None:
    """Until a connection to the port is refused (polled: no event tells us from outside).

    A reset while connecting says the same: the listening socket closed with our connection
    still in its backlog.
    """
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except (ConnectionRefusedError, ConnectionResetError):
            return
        writer.close()
        await asyncio.sleep(0.02)


async def test_sigterm_lets_the_in_flight_report_finish_then_exits_0(
    proxy: FaultProxy, seeded: Seeded
) -> None:
    exe = Path(sys.executable).with_name("qubicle-reports")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUBICLE_REPORTS_")}
    env.update(
        COUCHDB_URL=proxy.url,
        QUBICLE_REPORTS_TOKENS=f"{TOKEN}={seeded.account_id}",
        QUBICLE_REPORTS_COUCH_TIMEOUT="30",
        QUBICLE_REPORTS_REPORT_TIMEOUT="30",
    )
    # the month databases' requests wait at the proxy until released: a report is in flight
    await proxy.set_mode("hold", match=lambda _m, target: bool(re.search(r"-\d{6}\b", target)))
    proc = await asyncio.create_subprocess_exec(
        str(exe),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output: list[str] = []
    listening = asyncio.Event()

    async def read_output() -> None:
        assert proc.stdout is not None
        async for line in proc.stdout:
            output.append(line.decode(errors="replace"))
            if "Running on" in output[-1]:
                listening.set()

    reader = asyncio.create_task(read_output())
    try:
        async with asyncio.timeout(20):
            await listening.wait()
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            in_flight = asyncio.create_task(
                post_report(http, report_url(seeded.account_id), request_id="in-flight")
            )
            async with asyncio.timeout(10):
                await proxy.wait_faulted()
            proc.send_signal(signal.SIGTERM)
            async with asyncio.timeout(10):
                await _stopped_listening(port)  # shutting down, the report still in flight
            assert proc.returncode is None
            assert not in_flight.done()
            proxy.release()
            async with asyncio.timeout(10):
                status, body, _ = await in_flight
        assert status == 200, body
        assert body["request_id"] == "in-flight"
        assert call_counts(body) == seeded.calls
        async with asyncio.timeout(15):
            code = await proc.wait()
        assert code == 0, "".join(output)
    finally:
        proxy.release()
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
