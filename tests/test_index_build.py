"""A report over a MoDB whose index CouchDB is still building explains itself, fast.

The build is made long on any CouchDB (the stand-in or a real cluster): the service under test
is a release whose design doc has map functions that spend a few ms on every document, in
exactly the views the report reads (found by asking a report of an empty month first). Then:
a 503 in Crossbar's shape, well before the build ends, saying which month is being indexed,
how far along (from ``_active_tasks``, and from ``_info`` where ``_active_tasks`` is not
available), with ``Retry-After``; no report slot held;
``qubicle-reports status`` shows the build; and once CouchDB is done, the same request
answers 200 with the stored data.
"""

from __future__ import annotations

import asyncio
import copy
import re
import time
from datetime import date
from typing import Any

import pytest
from conftest import Accounts, make_client, seed_account
from faultproxy import FaultProxy

from app.commands.status import status_command
from app.config import Settings
from app.couch import design_docs, modb
from app.couch.client import Couch

TOKEN = "tok-index-build-5e2a"
QUERY = {
    "report": "queues",
    "start_date": "2024-03-01",
    "end_date": "2024-03-05",
    "metrics": ["call_count"],
}
SPIN_MS = 8  # per document and slowed view: ~1,600 documents take ~13 s, so the build is
# still well short of "nearly built" (3 s left) when the later steps look
VIEW_TARGET = re.compile(r"/_design/qubicle_reports-[0-9a-f]{16}/_view/([a-z_]+)")
FUNCTION_HEAD = re.compile(r"^(\s*function\s*\([^)]*\)\s*\{)")


def slowed(views: set[str]) -> dict[str, Any]:
    """Our design doc with ``views``' map functions made slow: another release's."""
    ddoc = copy.deepcopy(design_docs.load())
    for name in views:
        source = ddoc["views"][name]["map"]
        assert FUNCTION_HEAD.match(source), source[:80]
        spin = f" var spun = Date.now(); while (Date.now() - spun < {SPIN_MS}) {{}}"
        ddoc["views"][name]["map"] = FUNCTION_HEAD.sub(r"\1" + spin, source, count=1)
    return design_docs.named(ddoc)


async def post(client: Any, account_id: str, request_id: str) -> tuple[int, Any, float, Any]:
    started = time.monotonic()
    resp = await client.post(
        f"/v2/accounts/{account_id}/qubicle_reports",
        json={"data": QUERY},
        headers={"X-Auth-Token": TOKEN, "X-Request-ID": request_id},
    )
    assert resp.content_type == "application/json"
    return resp.status, await resp.json(), time.monotonic() - started, resp.headers


def metric(text: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert found, f"{name} not in /metrics"
    return float(found.group(1))


async def views_read(proxy: FaultProxy, accounts: Accounts, couch: Couch) -> set[str]:
    """The views a report of QUERY reads, seen at the proxy for an account with little data."""
    small = accounts.new()
    await seed_account(couch, small, seed=22, start=date(2024, 3, 1), days=1, calls_per_day=2)
    await proxy.reset()
    async with make_client(settings(proxy, small)) as c:
        status, body, _, _ = await post(c, small, "which-views")
    assert status == 200, body
    names = {m.group(1) for r in proxy.requests if (m := VIEW_TARGET.search(r.target))}
    assert names
    return names


def settings(proxy: FaultProxy, account_id: str) -> Settings:
    return Settings(
        couchdb_url=proxy.url,
        tokens={TOKEN: account_id},
        max_reports=1,  # a report that held its slot while waiting would make the next 503
        # the stand-in answers nothing while it runs a batch of (slowed) map functions, which
        # delays the looks at the build by up to ~0.2 s each: start looking a little earlier
        # than the default (1 s)
        index_wait=0.8,
        queue_timeout=0.5,
        cache_mb=0,
        follow_db_updates=False,
    )


async def copies(couch: Couch, db: str, n: int) -> int:
    """``n`` more copies of every session in ``db`` (new ids): a bigger index, seeded fast.
    Returns how many sessions ``db`` then holds."""
    rows = await couch.all_docs(db, include_docs=True)
    sessions = [r["doc"] for r in rows if r["doc"].get("pvt_type") == "qubicle_session"]
    docs = [
        {**{k: v for k, v in doc.items() if k != "_rev"}, "_id": f"{doc['_id']}-copy{i}"}
        for i in range(n)
        for doc in sessions
    ]
    await couch.bulk_docs(db, docs)
    return len(sessions) + len(docs)


async def stored_calls(couch: Couch, account_id: str, written: int) -> int:
    """The sessions stored, once every one ``written`` reads back: on a cluster a write is
    acknowledged by two copies of three and a read may come from the third, which gets it a
    moment later (a KAZOO writer's reader waits the same way)."""
    async with asyncio.timeout(60):
        while True:
            rows = await couch.all_docs(modb.modb(account_id, 2024, 3), include_docs=True)
            stored = sum(1 for r in rows if r["doc"].get("pvt_type") == "qubicle_session")
            if stored >= written:
                return stored
            await asyncio.sleep(0.5)


async def test_a_report_waiting_for_an_index_build_is_a_503_with_progress_then_200(
    couch: Couch,
    couch_url: str,
    proxy: FaultProxy,
    accounts: Accounts,
    capsys: pytest.CaptureFixture[str],
) -> None:
    account_id = accounts.new()
    start = date(2024, 3, 1)
    await seed_account(
        couch, account_id, seed=21, build=False, start=start, days=5, calls_per_day=150
    )
    written = await copies(couch, modb.modb(account_id, 2024, 3), 4)  # more documents, fast
    calls = await stored_calls(couch, account_id, written)
    assert calls >= 2500  # an index whose build outlasts the wait for a nearly built one
    slow = slowed(await views_read(proxy, accounts, couch))
    async with make_client(settings(proxy, account_id), design_doc=slow) as client:
        db = modb.modb(account_id, 2024, 3)
        await couch.put_doc(db, slow)  # this release's: installed, its index not yet built

        # 1. 503, which month, how far (from _active_tasks where allowed); the build goes on
        status, body, _, headers = await post(client, account_id, "building-1")
        assert status == 503, body
        assert body["message"] == "index being built", body
        assert body["error"] == "503" and body["status"] == "error"
        assert body["request_id"] == "building-1" and body["auth_token"] == TOKEN
        data = body["data"]
        assert data["month"] == "2024-03"
        assert isinstance(data["progress"], int) and 0 <= data["progress"] <= 99
        assert "2024-03" in data["message"] and f"{data['progress']}% done" in data["message"]
        assert account_id not in str(body["data"])
        retry_after = int(headers["Retry-After"])
        assert retry_after >= 1 and data["retry_after"] == retry_after

        # 2. no report slot held (max_reports=1), and the metrics say so
        text = await (await client.get("/metrics")).text()
        assert metric(text, "qubicle_reports_reports_running") == 0
        assert metric(text, "qubicle_reports_index_build_waits_total") >= 1

        # 3. without _active_tasks (a non-admin user): from the index's update_seq vs the db's
        await proxy.set_mode("http500", match=lambda _m, target: "_active_tasks" in target)
        status, body, _, headers = await post(client, account_id, "building-2")
        assert status == 503, body
        assert body["data"].get("month") == "2024-03", body
        assert isinstance(body["data"]["progress"], int)
        assert int(headers["Retry-After"]) >= 1
        await proxy.set_mode("pass")

        # 4. `status` shows the build with a progress bar
        code = await status_command(Settings(couchdb_url=couch_url), account_id, slow)
        out = capsys.readouterr().out
        line = next(x for x in out.splitlines() if x.startswith(db) and "(this release)" in x)
        assert re.search(r"index (building|not built) \[[#.]{20}\] +\d+%", line), line
        assert code == 1

        # 5. CouchDB built on meanwhile: the same request answers 200 with the stored data
        async with asyncio.timeout(120):
            while True:
                status, body, _, _ = await post(client, account_id, "built")
                if status == 200:
                    break
                assert status == 503 and body["message"] == "index being built", body
                await asyncio.sleep(1)
        report = body["data"][0]["report"]
        assert sum(sum(item["data"]["call_count"].values()) for item in report) == calls

    # on a cluster the query answered from one copy of each shard; the others may still be
    # building a little longer, and `status` shows the index built once all are
    async with asyncio.timeout(120):
        while True:
            code = await status_command(Settings(couchdb_url=couch_url), account_id, slow)
            out = capsys.readouterr().out
            line = next(x for x in out.splitlines() if x.startswith(db) and "(this " in x)
            if code == 0:
                break
            assert re.search(r"index building \[[#.]{20}\] +\d+%$", line), line
            await asyncio.sleep(1)
    assert line.endswith("index built"), line
