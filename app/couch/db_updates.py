"""Install the design doc into each new MoDB as KAZOO creates it, so no report over the
current month waits for a build.

Follows CouchDB's ``GET /_db_updates`` feed (longpoll, resuming from the last seq after any
failure, through the client's failover between nodes). A ``created`` MoDB gets the design doc
only when its account already holds it in an earlier MoDB (CONTRACT.md section 1); CouchDB
then builds its index in the background as documents arrive. A 4xx answer (not a server
admin; 404: no ``_global_changes`` database, which CouchDB 3 serves the feed from but does not
create) is logged once and stops the follower; ``/metrics`` shows it.

CouchDB writes the events into ``_global_changes`` up to ~0.5 s late, one document per (type,
database): a database's later event of a type replaces its earlier one, and within one answer
the order is not the order things happened in (measured on CouchDB 3.4.3). So nothing here
depends on the order of a batch: a MoDB deleted and created again is forgotten, then installed
into (a MoDB already gone is a failed install, logged).
"""

from __future__ import annotations

import asyncio
import logging
import time

from app.couch.client import Couch, CouchUnavailable
from app.couch.installer import Installer, ViewsNotInstallable, account_range, has_design_doc
from app.couch.modb import parse_db_name
from app.couch.wire import CouchError
from app.telemetry import Telemetry

LOG = logging.getLogger("qubicle_reports.db_updates")
FEED_TIMEOUT = 30.0  # seconds CouchDB holds a longpoll open with nothing to say
BACKOFF_MAX = 30.0  # seconds between reconnection attempts, at most
INSTALLS_IN_FLIGHT = 8
NO_GLOBAL_CHANGES = (
    "; CouchDB keeps that feed in _global_changes: a server admin creates it once with "
    "PUT /_global_changes"
)


class DbUpdatesFollower:
    def __init__(
        self,
        couch: Couch,
        installer: Installer,
        telemetry: Telemetry,
        feed_timeout: float = FEED_TIMEOUT,
    ) -> None:
        self.couch = couch
        self.installer = installer
        self.telemetry = telemetry
        self.feed_timeout = feed_timeout
        self.since: str = "now"
        self.last_answer = time.monotonic()
        self._slots = asyncio.Semaphore(INSTALLS_IN_FLIGHT)
        telemetry.db_updates_last_answer_age.set_function(
            lambda: time.monotonic() - self.last_answer
        )

    async def run(self) -> None:
        """Follow the feed until cancelled, or until CouchDB refuses it (4xx)."""
        t = self.telemetry
        t.db_updates_enabled.set(1)
        backoff = 0.5
        try:
            while True:
                # "now" is first made a seq of its own (a normal feed answers at once), so
                # what happens after the start is followed, and resumed from, exactly
                feed = "normal" if self.since == "now" else "longpoll"
                try:
                    status, body = await self.couch.request(
                        "GET",
                        "_db_updates",
                        params={
                            "feed": feed,
                            "since": self.since,
                            "timeout": int(self.feed_timeout * 1000),
                        },
                        timeout=self.feed_timeout + 15,
                        bounded=False,
                        retry=False,
                    )
                except CouchUnavailable as e:
                    status, body = 0, str(e)
                if 400 <= status < 500:
                    LOG.warning(
                        "db_updates: CouchDB refused _db_updates (%s %s%s): new MoDBs get the "
                        "design doc on their first report only",
                        status,
                        body,
                        NO_GLOBAL_CHANGES if status == 404 else "",
                    )
                    t.db_updates_enabled.set(0)
                    t.db_updates_connected.set(0)
                    return
                if status != 200 or not isinstance(body, dict):
                    t.db_updates_errors.inc()
                    t.db_updates_connected.set(0)
                    await asyncio.sleep(backoff)
                    backoff = min(BACKOFF_MAX, backoff * 2)
                    continue
                backoff = 0.5
                t.db_updates_connected.set(1)
                self.last_answer = time.monotonic()
                await self.handle(body.get("results") or [])
                self.since = str(body.get("last_seq", self.since))
        finally:
            t.db_updates_connected.set(0)

    async def handle(self, events: list[object]) -> None:
        """Act on one batch: install into created MoDBs, forget deleted ones."""
        created = []
        for event in events:
            if not isinstance(event, dict):
                continue
            db = str(event.get("db_name", ""))
            parsed = parse_db_name(db)
            if parsed is None or parsed[1] is None:
                continue
            if event.get("type") == "created":
                created.append(db)
            elif event.get("type") == "deleted":
                self.installer.forget(db)
        await asyncio.gather(*(self.created(db) for db in created))

    async def created(self, db: str) -> bool:
        """Install the design doc into a new MoDB of a reporting account; True if so."""
        async with self._slots:
            try:
                if not await self.reports(db):
                    return False
                self.installer.forget(db)  # a report may have found it missing just before
                if await self.installer.ensure(db):
                    self.telemetry.design_docs_installed_ahead.inc()
                    return True
            except (CouchUnavailable, CouchError, ViewsNotInstallable) as e:
                self.telemetry.db_updates_errors.inc()
                LOG.warning("db_updates: could not install the design doc ahead: %s", e)
            return False

    async def reports(self, db: str) -> bool:
        """Does ``db``'s account hold the design doc in an earlier MoDB (newest first)?"""
        parsed = parse_db_name(db)
        assert parsed is not None
        start, _ = account_range(parsed[0])
        earlier = [name async for page in self.couch.db_names(start, db) for name in page]
        for name in reversed(earlier):
            if name != db and await has_design_doc(self.couch, name):
                return True
        return False
