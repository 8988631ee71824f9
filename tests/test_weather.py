"""CouchDB's weather, which the service rides out by itself, without a restart.

Each test runs its own stand-in (never the shared one: a lock or a restart there would hit
every other test), with CouchDB 3.4's lockout of a user after failed logins
(``[chttpd_auth_lockout]``, taught to the stand-in and checked in test_devcouch_compat):

- a wrong password in ``COUCHDB_URL``: whatever mix of reports, probes, the follower and the
  commands asks, CouchDB never locks the user; every answer says the credentials were
  refused; once the password is set right on CouchDB's side, the service recovers;
- the ``_db_updates`` feed unable to resume from its seq (412, a cluster that lost a node;
  here a restarted server): it starts again from now and the MoDBs created in the blind
  interval get the design doc;
- no ``_global_changes`` (404): asked again now and then, followed once it exists.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from conftest import make_client, post, seed_account
from test_db_updates import until
from yarl import URL

from app.commands.install_views import install_views_command
from app.commands.status import status_command
from app.config import Settings
from app.couch import design_docs, modb
from app.couch.client import Couch
from qubicle_dev.devcouch import DevCouch

TOKEN = "tok-weather-2b7d"
ACCOUNT = "7eaf0c3e5b8e4d7f9a1b2c3d4e5f6a7b"
LIFETIME_MS = 4000  # how long the stand-in remembers failed logins (CouchDB: 5 minutes)
PAUSE = 5.0  # the service's pause after a refusal: longer than that memory, as by default
QUERY = {"report": "queues", "start_date": "2024-01-30", "end_date": "2024-02-01"}


@pytest.fixture
def server() -> Iterator[DevCouch]:
    with DevCouch(password="right", lockout_lifetime_ms=LIFETIME_MS) as couch:
        yield couch


def with_password(url: str, password: str) -> str:
    return str(URL(url).with_password(password))


def metric(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert found, f"{name} not in /metrics"
    return float(found.group(1))


async def session_status(url: str) -> int:
    """What CouchDB answers the right credentials: 200, or 403 once it locked the user."""
    couch = Couch(url)
    try:
        return (await couch.request("GET", "_session"))[0]
    except Exception:  # a refusal on our side would be a failed check too
        return -1
    finally:
        await couch.close()


async def test_a_wrong_password_never_locks_the_couchdb_user_and_the_service_recovers(
    server: DevCouch, capsys: pytest.CaptureFixture[str]
) -> None:
    right = Couch(server.url)
    await right.create_db("_global_changes")
    await seed_account(right, ACCOUNT, seed=41)
    wrong_url = with_password(server.url, "wrong")
    settings = Settings(
        couchdb_url=wrong_url, tokens={TOKEN: ACCOUNT}, couch_auth_pause=PAUSE,
        follow_retry=0.5, ready_timeout=1.0,
    )  # fmt: skip
    async with make_client(settings) as client:
        ended = time.monotonic() + PAUSE * 1.6  # past one pause: the retry is asked once too
        said: set[str] = set()
        while time.monotonic() < ended:
            answers = await asyncio.gather(
                *(post(client, ACCOUNT, QUERY, token=TOKEN) for _ in range(12)),
                *(client.get("/health/ready") for _ in range(4)),
                client.get("/health"),
            )
            for status, body in answers[:12]:  # type: ignore[misc]
                assert status == 503, body
                said.add(body["data"]["message"])
            for resp in answers[12:]:
                assert resp.status == 503  # type: ignore[union-attr]
                body = await resp.json()  # type: ignore[union-attr]
                assert body["couchdb"] == "credentials refused", body
            # the commands, run meanwhile with the same password, stop at the first refusal
            settings_of_command = Settings(couchdb_url=wrong_url)
            assert await install_views_command(settings_of_command, ACCOUNT, build=True) == 3
            assert await status_command(settings_of_command, ACCOUNT) == 3
            await asyncio.sleep(0.3)
        assert said and all("refused the service's credentials" in m for m in said), said
        out = capsys.readouterr().out.splitlines()
        refusals = [line for line in out if "CouchDB refused the credentials" in line]
        assert refusals and all("user 'admin'" in line for line in refusals)
        assert not any("Traceback" in line for line in out)
        assert await session_status(server.url) == 200  # never locked: the right password works
        text = await (await client.get("/metrics")).text()
        assert metric(text, 'qubicle_reports_couchdb_credentials{state="refused"}') == 1
        assert metric(text, 'qubicle_reports_db_updates_state{state="credentials_refused"}') == 1

        # set right on CouchDB's side (the password the service has): it recovers by itself
        await right.ok("PUT", "_node/_local/_config/admins/admin", body="wrong")

        async def reports() -> bool:
            return (await post(client, ACCOUNT, QUERY, token=TOKEN))[0] == 200

        assert await until(reports, PAUSE * 1.3 + 3), "no recovery after the pause"
        assert (await client.get("/health/ready")).status == 200
        text = await (await client.get("/metrics")).text()
        assert metric(text, 'qubicle_reports_couchdb_credentials{state="accepted"}') == 1

        async def following() -> bool:
            text = await (await client.get("/metrics")).text()
            return metric(text, 'qubicle_reports_db_updates_state{state="following"}') == 1

        assert await until(following, PAUSE + 3), "the follower did not come back"
    await right.close()


async def test_the_follower_starts_again_from_now_when_its_seq_cannot_resume(
    server: DevCouch,
) -> None:
    """A restarted server (as a cluster that lost the node a seq names) answers the old seq
    412; MoDBs created before the follower was back get the design doc all the same."""
    now = datetime.now(UTC)
    earlier = modb.modb(ACCOUNT, 2024, 1)
    this_month = modb.modb(ACCOUNT, now.year, now.month)
    port = server.port
    settings = Settings(couchdb_url=server.url, tokens={TOKEN: ACCOUNT}, follow_retry=0.5)
    async with make_client(settings) as client:
        first = Couch(server.url)
        await first.create_db("_global_changes")
        await first.close()

        async def metrics() -> str:
            return await (await client.get("/metrics")).text()

        async def following() -> bool:
            name = 'qubicle_reports_db_updates_state{state="following"}'
            return metric(await metrics(), name) == 1

        assert await until(following, 10)
        await asyncio.sleep(0.5)  # a longpoll from a seq of the first server is under way
        server.stop()
        restarted = DevCouch(port=port or 0, password="right").start()
        try:
            couch = Couch(restarted.url)
            await couch.create_db("_global_changes")
            await couch.create_db(earlier)
            await couch.put_doc(earlier, dict(design_docs.load()))  # an account that reports
            await couch.create_db(this_month)  # created while the follower was away

            async def installed() -> bool:
                return await couch.get_doc(this_month, design_docs.load()["_id"]) is not None

            assert await until(installed, 20), "the MoDB created meanwhile got no design doc"
            assert await until(following, 10)
            assert metric(await metrics(), "qubicle_reports_db_updates_errors_total") >= 1
            await couch.close()
        finally:
            restarted.stop()


async def test_no_global_changes_is_asked_again_and_followed_once_it_exists(
    server: DevCouch,
) -> None:
    settings = Settings(couchdb_url=server.url, tokens={TOKEN: ACCOUNT}, follow_retry=0.5)
    couch = Couch(server.url)
    async with make_client(settings) as client:

        async def state(name: str) -> bool:
            text = await (await client.get("/metrics")).text()
            return metric(text, f'qubicle_reports_db_updates_state{{state="{name}"}}') == 1

        assert await until(lambda: state("no_feed"), 10)
        assert metric(await (await client.get("/metrics")).text(),
                      "qubicle_reports_db_updates_enabled") == 1  # fmt: skip
        await couch.create_db("_global_changes")
        assert await until(lambda: state("following"), 10), "not followed once it exists"
        await couch.create_db(modb.modb(ACCOUNT, 2024, 1))
        await couch.put_doc(modb.modb(ACCOUNT, 2024, 1), dict(design_docs.load()))
        new = modb.modb(ACCOUNT, 2024, 2)
        await couch.create_db(new)

        async def installed() -> bool:
            return await couch.get_doc(new, design_docs.load()["_id"]) is not None

        assert await until(installed, 10)
    await couch.close()
