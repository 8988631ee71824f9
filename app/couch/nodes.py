"""The CouchDB nodes ``COUCHDB_URL`` lists, and which of them to ask next.

``COUCHDB_URL`` may list several nodes of one cluster, comma-separated. Requests go to the
first node not marked down; a node that cannot be connected to (or cuts an answer) is marked
down for ``node_retry`` seconds, and the request moves on to the next.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import aiohttp
from yarl import URL

from app.telemetry import Telemetry


def split_url(url: str) -> tuple[str, str | None, str | None]:
    """Base URL without credentials, plus the user and password it carried (of the first
    node, when ``url`` lists several)."""
    u = URL(url.split(",")[0].strip())
    base = str(u.with_user(None).with_password(None)).rstrip("/")
    return base, u.user, u.password


def node_urls(url: str) -> list[str]:
    """The nodes of ``COUCHDB_URL``: one URL, or several comma-separated."""
    nodes = [part.strip() for part in url.split(",") if part.strip()]
    if not nodes:
        raise ValueError("COUCHDB_URL names no CouchDB node")
    return nodes


@dataclass
class Node:
    base: str  # without credentials
    auth: str | None  # the Authorization header, when the URL carried a user
    down_until: float = 0.0

    def up(self, now: float) -> bool:
        return self.down_until <= now


class Nodes:
    """The listed nodes, each up or marked down for a while (``couchdb_nodes_up``)."""

    def __init__(self, url: str, node_retry: float, telemetry: Telemetry) -> None:
        self.all: list[Node] = []
        self.user: str | None = None  # the first node's user, for messages (never a password)
        for node_url in node_urls(url):
            base, user, password = split_url(node_url)
            self.user = self.user or user
            # Basic auth goes on each request (aiohttp deprecates session-level BasicAuth)
            auth = aiohttp.encode_basic_auth(user, password or "") if user else None
            self.all.append(Node(base, auth))
        self.node_retry = node_retry
        self.telemetry = telemetry
        telemetry.couch_nodes_up.set(len(self.all))

    def index(self, node: Node) -> int:
        return self.all.index(node)

    def pick(self, avoid: set[int]) -> Node | None:
        """The first node up that is not in ``avoid``; else the one down the longest."""
        now = time.monotonic()
        candidates = [n for i, n in enumerate(self.all) if i not in avoid]
        for node in candidates:
            if node.up(now):
                return node
        return min(candidates, key=lambda n: n.down_until, default=None)

    def mark_down(self, node: Node) -> None:
        node.down_until = time.monotonic() + self.node_retry
        self._count()

    def mark_up(self, node: Node) -> None:
        if node.down_until:
            node.down_until = 0.0
            self._count()

    def _count(self) -> None:
        now = time.monotonic()
        self.telemetry.couch_nodes_up.set(sum(n.up(now) for n in self.all))
