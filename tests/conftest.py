"""Where the tests get their CouchDB, and how they stay out of everything else on it.

Order: ``COUCHDB_URL`` if set (a real CouchDB 3.x, possibly holding other data); else a
``couchdb:3`` container when a Docker engine answers; else the in-memory stand-in from
``devcouch/``. Tests create uniquely named accounts and delete exactly those afterwards.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from app.couch import Couch
from app.modb import parse_db_name


def _docker_couch() -> Iterator[str] | None:
    """A CouchDB 3 container, or None when no Docker engine answers."""
    try:
        from testcontainers.core.container import DockerContainer

        container = (
            DockerContainer("couchdb:3")
            .with_env("COUCHDB_USER", "admin")
            .with_env("COUCHDB_PASSWORD", "admin")
            .with_exposed_ports(5984)
        )
        container.start()
    except Exception:  # docker.errors.DockerException without an engine
        return None

    def run() -> Iterator[str]:
        try:
            host = container.get_container_host_ip()
            port = container.get_exposed_port(5984)
            url = f"http://admin:admin@{host}:{port}"
            _wait_up(url)
            yield url
        finally:
            container.stop()

    return run()


def _wait_up(url: str, seconds: float = 60) -> None:
    import urllib.request

    from app.couch import split_url

    base, _, _ = split_url(url)
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(base + "/", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@pytest.fixture(scope="session")
def couch_url() -> Iterator[str]:
    url = os.environ.get("COUCHDB_URL")
    if url:
        yield url
        return
    docker = _docker_couch()
    if docker is not None:
        yield from docker
        return
    from app.devcouch import DevCouch

    with DevCouch() as dev:
        yield dev.url


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
