"""``serve`` installs the design doc into each new MoDB of a reporting account as KAZOO creates
it (CONTRACT.md section 1), following CouchDB's ``_db_updates``, and goes on after losing
CouchDB: a MoDB created meanwhile is caught on resuming from the last seq.

CouchDB 3.4 serves ``_db_updates`` only with a ``_global_changes`` database, which it does not
create; the tests create it, as an operator does once (README)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from conftest import Accounts, make_client
from faultproxy import FaultProxy

from app.config import Settings
from app.couch import design_docs, modb
from app.couch.client import Couch

DDOC_ID = design_docs.load()["_id"]


@pytest.fixture(autouse=True)
async def global_changes(couch: Couch) -> None:
    await couch.create_db("_global_changes")


def metric(text: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert found, f"{name} not in /metrics"
    return float(found.group(1))


async def metrics(client: Any) -> str:
    return await (await client.get("/metrics")).text()


async def until(check: Any, seconds: float) -> bool:
    """Whether ``check()`` came true within ``seconds`` (asked every 0.1 s)."""
    try:
        async with asyncio.timeout(seconds):
            while not await check():
                await asyncio.sleep(0.1)
    except TimeoutError:
        return False
    return True


async def connected(client: Any) -> None:
    assert await until(lambda: _is_connected(client), 10), "the follower never connected"


async def _is_connected(client: Any) -> bool:
    return metric(await metrics(client), "qubicle_reports_db_updates_connected") == 1


async def test_a_new_modb_of_a_reporting_account_gets_the_design_doc_others_do_not(
    couch: Couch, couch_url: str, accounts: Accounts
) -> None:
    reporting, silent = accounts.new(), accounts.new()
    for account_id in (reporting, silent):
        await couch.create_db(modb.modb(account_id, 2024, 3))
    await couch.put_doc(modb.modb(reporting, 2024, 3), dict(design_docs.load()))

    async with make_client(Settings(couchdb_url=couch_url)) as client:
        await connected(client)
        new, other = modb.modb(reporting, 2024, 4), modb.modb(silent, 2024, 4)
        await couch.create_db(other)
        await couch.create_db(new)

        async def installed() -> bool:
            return await couch.get_doc(new, DDOC_ID) is not None

        assert await until(installed, 5), "no design doc in the new MoDB within 5 s"
        # the silent account's MoDB was created first, so it has been seen by now
        assert await couch.get_doc(other, DDOC_ID) is None
        text = await metrics(client)
        assert metric(text, "qubicle_reports_design_docs_installed_ahead_total") == 1
        assert metric(text, "qubicle_reports_db_updates_enabled") == 1
        assert metric(text, 'qubicle_reports_index_states{state="building"}') >= 1


async def test_the_longpoll_never_takes_a_connection_the_bounded_requests_count_on(
    proxy: FaultProxy,
) -> None:
    """With COUCH_CONCURRENCY=1 the follower's longpoll held the pool's only connection and
    every report waited out its timeout. Here the longpoll is held at the proxy."""
    one = Couch(proxy.url, max_concurrency=1, timeout=60)
    await proxy.set_mode("hold", match=lambda _m, target: "_db_updates" in target)
    try:
        longpoll = asyncio.ensure_future(
            one.request(
                "GET",
                "_db_updates",
                params={"feed": "longpoll", "since": "now"},
                bounded=False,
                retry=False,
            )
        )
        assert await until(lambda: _seen(proxy, "_db_updates"), 10), "longpoll never sent"
        async with asyncio.timeout(10):
            assert await one.db_info("_global_changes") is not None
        assert not longpoll.done()  # still held: the answer came over another connection
        longpoll.cancel()
    finally:
        proxy.release()
        await one.close()


async def _seen(proxy: FaultProxy, part: str) -> bool:
    return any(part in r.target for r in proxy.requests)


async def test_the_follower_resumes_after_losing_couchdb_and_catches_up(
    couch: Couch, proxy: FaultProxy, accounts: Accounts
) -> None:
    account_id = accounts.new()
    await couch.create_db(modb.modb(account_id, 2024, 3))
    await couch.put_doc(modb.modb(account_id, 2024, 3), dict(design_docs.load()))
    async with make_client(Settings(couchdb_url=proxy.url, node_retry=0.5)) as client:
        await connected(client)
        await proxy.set_mode("refuse")  # CouchDB gone: open connections dropped
        during = modb.modb(account_id, 2024, 4)
        await couch.create_db(during)  # created while the follower cannot see it
        await asyncio.sleep(1.5)
        assert metric(await metrics(client), "qubicle_reports_db_updates_errors_total") >= 1
        await proxy.set_mode("pass")

        async def installed() -> bool:
            return await couch.get_doc(during, DDOC_ID) is not None

        assert await until(installed, 10), "the follower did not resume from its last seq"
        await connected(client)


async def test_the_follower_is_off_by_setting(couch: Couch, couch_url: str) -> None:
    async with make_client(Settings(couchdb_url=couch_url, follow_db_updates=False)) as client:
        await asyncio.sleep(0.3)
        assert metric(await metrics(client), "qubicle_reports_db_updates_enabled") == 0


async def test_a_creation_told_twice_installs_and_counts_once(
    couch: Couch, accounts: Accounts
) -> None:
    """A cluster's feed may tell of one creation more than once (seen on CouchDB 3.4.3 with a
    node coming back): installed ahead once, counted once."""
    from app.couch.db_updates import DbUpdatesFollower
    from app.couch.installer import Installer
    from app.telemetry import Telemetry

    account_id = accounts.new()
    await couch.create_db(modb.modb(account_id, 2024, 3))
    await couch.put_doc(modb.modb(account_id, 2024, 3), dict(design_docs.load()))
    new = modb.modb(account_id, 2024, 4)
    await couch.create_db(new)
    telemetry = Telemetry()
    follower = DbUpdatesFollower(couch, Installer(couch, telemetry=telemetry), telemetry)
    event = {"db_name": new, "type": "created"}
    await follower.handle([event, dict(event)])
    await follower.handle([event])
    assert (await couch.get_doc(new, DDOC_ID)) is not None
    counted = "qubicle_reports_design_docs_installed_ahead_total"
    assert telemetry.registry.get_sample_value(counted) == 1
