"""Find a CouchDB for development, the demo and the tests.

Order: ``COUCHDB_URL`` if set; else a ``couchdb:3`` container when a Docker engine answers
(testcontainers); else the in-memory stand-in in ``devcouch/`` (development only).
"""

from __future__ import annotations

import os
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from app.couch.nodes import split_url


def wait_up(url: str, seconds: float = 60) -> None:
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


@contextmanager
def docker_couch() -> Iterator[str | None]:
    """A CouchDB 3 container's URL, or None when no Docker engine answers."""
    try:
        from testcontainers.core.container import DockerContainer

        container = (
            DockerContainer("couchdb:3")
            .with_env("COUCHDB_USER", "admin")
            .with_env("COUCHDB_PASSWORD", "admin")
            .with_exposed_ports(5984)
        )
        container.start()
    except Exception:  # docker.errors.DockerException within a second without an engine
        yield None
        return
    try:
        url = (
            f"http://admin:admin@{container.get_container_host_ip()}:"
            f"{container.get_exposed_port(5984)}"
        )
        wait_up(url)
        yield url
    finally:
        container.stop()


@contextmanager
def couchdb() -> Iterator[tuple[str, str]]:
    """(url, where it came from) of a CouchDB-protocol server, stopped on exit."""
    url = os.environ.get("COUCHDB_URL")
    if url:
        yield url, "COUCHDB_URL"
        return
    with docker_couch() as docker_url:
        if docker_url is not None:
            yield docker_url, "docker couchdb:3"
            return
    from qubicle_dev.devcouch import DevCouch

    with DevCouch() as dev:
        yield dev.url, "devcouch stand-in (in memory, development only)"
