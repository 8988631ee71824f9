"""Where the tests get their CouchDB, and how they stay out of everything else on it.

Order: ``COUCHDB_URL`` if set (a real CouchDB 3.x, possibly holding other data); else a
``couchdb:3`` container when a Docker engine answers; else the in-memory stand-in from
``devcouch/``. Tests create uniquely named accounts and delete exactly those afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from hypothesis import settings

from app.couch import Couch
from app.couch_server import couchdb
from app.modb import parse_db_name

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
