"""Where the tests get their CouchDB, and how they stay out of everything else on it.

Order: ``COUCHDB_URL`` if set (a real CouchDB 3.x, possibly holding other data); else a
``couchdb:3`` container when a Docker engine answers; else the in-memory stand-in from
``devcouch/``. Tests create uniquely named accounts and delete exactly those afterwards.

Also what the test modules share: a fault proxy per module (``proxy``); a seeded account per
module (``seeded``, sized by the module's ``SEEDED``; :func:`seed_account` for more), the
service over it behind a test client presenting :data:`TOKEN` (``client``, configured by the
``service_settings`` fixture a module may override), one way to ask it for a report
(:func:`post`), and the Crossbar error body expected (:func:`error_body`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from faultproxy import FaultProxy
from hypothesis import settings

from app.config import Settings
from app.couch.client import Couch
from app.couch.modb import parse_db_name
from app.web.server import create_app
from qubicle_dev.couch_server import couchdb
from qubicle_dev.seed import SeededAccount
from qubicle_dev.seed import seed as seed_accounts

# CI runs the property tests on a fixed sequence of examples, so a landing never depends on
# luck; on a developer machine they keep exploring new examples each run.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def couch_url() -> Iterator[str]:
    with couchdb() as (url, _):
        yield url


@pytest.fixture(scope="session")
async def couch(couch_url: str) -> AsyncIterator[Couch]:
    client = Couch(couch_url, timeout=300)
    yield client
    await client.close()


class Accounts:
    """Hands out fresh account ids and deletes every database of them afterwards."""

    def __init__(self, couch: Couch) -> None:
        self.couch = couch
        self.ids: set[str] = set()

    def new(self) -> str:
        account_id = uuid.uuid4().hex
        self.ids.add(account_id)
        return account_id

    async def cleanup(self) -> None:
        if not self.ids:
            return
        for name in await self.couch.all_dbs():
            parsed = parse_db_name(name)
            if parsed is not None and parsed[0] in self.ids:
                await self.couch.delete_db(name)
        self.ids.clear()


@pytest.fixture
async def accounts(couch: Couch) -> AsyncIterator[Accounts]:
    acc = Accounts(couch)
    yield acc
    await acc.cleanup()


@pytest.fixture(scope="session")
async def session_accounts(couch: Couch) -> AsyncIterator[Accounts]:
    acc = Accounts(couch)
    yield acc
    await acc.cleanup()


@pytest.fixture(scope="module")
async def proxy(couch_url: str) -> AsyncIterator[FaultProxy]:
    """A pass-through :class:`faultproxy.FaultProxy` in front of the tests' CouchDB, one per
    test module."""
    async with FaultProxy(couch_url) as p:
        yield p


# -- helpers for the test modules --------------------------------------------------------------

TOKEN = "tok-shared-Q7x2Lm-3f9a"  # what the shared client presents: the seeded account's
QUERY = {"report": "queues", "start_date": "2024-01-30", "end_date": "2024-02-01"}  # its days

SMALL_ACCOUNT: dict[str, Any] = {
    "queues": 3,
    "recipients": 4,
    "days": 3,
    "calls_per_day": 10,
    "start": date(2024, 1, 30),  # 2024-01-30 .. 2024-02-01: two MoDBs
}


async def seed_account(
    couch: Couch, account_id: str, *, seed: int, build: bool = True, **sizes: Any
) -> SeededAccount:
    """One account seeded with :func:`app.seed.seed` under ``account_id``, quietly.

    Small unless ``sizes`` say otherwise (:data:`SMALL_ACCOUNT`); ``sizes`` may also carry
    ``seed()``'s ``batch_size``. ``build``: also install the views and build their indexes.
    """
    [account] = await seed_accounts(
        couch,
        seed=seed,
        accounts=1,
        progress=False,
        account_ids=[account_id],
        **{**SMALL_ACCOUNT, **sizes},
    )
    if build:
        await build_indexes(couch, account_id)
    return account


async def account_docs(couch: Couch, account_id: str) -> list[dict[str, Any]]:
    """Every document in the account's MoDBs, as stored (design documents left out): what
    the reference aggregation is computed from."""
    from app.couch.installer import month_dbs

    docs = []
    for db in await month_dbs(couch, account_id):
        rows = await couch.all_docs(db, include_docs=True)
        docs.extend(r["doc"] for r in rows if not r["id"].startswith("_design/"))
    return docs


async def build_indexes(couch: Couch, account_id: str) -> None:
    """Install the design doc into the account's MoDBs and build its indexes, as an operator
    does with ``install-views --warm`` after loading data: a report over an index still being
    built is answered 503 "index being built" within seconds, by design."""
    from app.couch.installer import Installer, month_dbs, warm

    installer = Installer(couch)
    for db in await month_dbs(couch, account_id):
        if await installer.ensure(db):
            await warm(couch, db, list(installer.ddoc["views"]))


@asynccontextmanager
async def make_client(
    settings: Settings, design_doc: dict[str, Any] | None = None
) -> AsyncIterator[TestClient]:
    """The service configured by ``settings`` behind an aiohttp test server (a release whose
    design doc is ``design_doc``, when given)."""
    async with TestClient(TestServer(create_app(settings, design_doc=design_doc))) as client:
        yield client


def error_body(
    status: int, message: str, data: dict[str, Any], request_id: str, auth_token: str = ""
) -> dict[str, Any]:
    """A whole Crossbar error body, as the service must answer it."""
    return {
        "data": data,
        "error": str(status),
        "message": message,
        "status": "error",
        "request_id": request_id,
        "auth_token": auth_token,
    }


def report_url(account_id: str, report: str | None = None) -> str:
    path = f"/v2/accounts/{account_id}/qubicle_reports"
    return f"{path}/{report}" if report else path


async def post(
    client: TestClient,
    account_id: str,
    data: dict[str, Any] = QUERY,
    *,
    token: str | None = TOKEN,
    report: str | None = None,
    request_id: str | None = None,
    **headers: str,
) -> tuple[int, Any]:
    """POST ``{"data": data}`` (to the report the path names, if ``report``), presenting
    ``token`` in ``X-Auth-Token`` (none if None), ``request_id`` in ``X-Request-ID`` and
    ``headers``: the status, and the body (parsed JSON, or text when it is not JSON)."""
    if request_id is not None:
        headers = {"X-Request-ID": request_id, **headers}
    if token is not None:
        headers = {"X-Auth-Token": token, **headers}
    resp = await client.post(report_url(account_id, report), json={"data": data}, headers=headers)
    if resp.content_type == "application/json":
        return resp.status, await resp.json()
    return resp.status, await resp.text()


@pytest.fixture(scope="module")
async def seeded(
    request: pytest.FixtureRequest, couch: Couch, session_accounts: Accounts
) -> SeededAccount:
    """A fresh account per module, seeded as the module's ``SEEDED`` says (``seed`` and
    :func:`seed_account`'s sizes), with its views built."""
    options = {"seed": 1, **getattr(request.module, "SEEDED", {})}
    return await seed_account(couch, session_accounts.new(), **options)


@pytest.fixture(scope="module")
def service_settings(couch_url: str, seeded: SeededAccount) -> Settings:
    """The service's settings: the tests' CouchDB, :data:`TOKEN` for the seeded account (a
    module overrides this fixture to go through its ``proxy`` or change a limit)."""
    return Settings(couchdb_url=couch_url, tokens={TOKEN: seeded.account_id})


@pytest.fixture(scope="module")
async def client(service_settings: Settings) -> AsyncIterator[TestClient]:
    """The service as ``service_settings`` say, behind a test client."""
    async with make_client(service_settings) as c:
        yield c
