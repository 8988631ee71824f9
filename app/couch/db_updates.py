"""Install the design doc into each new MoDB as KAZOO creates it, so no report over the
current month waits for a build.

Follows CouchDB's ``GET /_db_updates`` feed (longpoll, resuming from the last seq after any
failure, through the client's failover between nodes). A ``created`` MoDB gets the design doc
only when its account already holds some release's design doc in an earlier MoDB (an account
that reports); CouchDB then builds its index in the background as documents arrive.

Nothing stops the follower for good; every state shows in ``/metrics``
(``db_updates_state``):

- ``reconnecting``: CouchDB away, restarting or failing (5xx): asked again with backoff. A
  seq CouchDB can no longer resume from (412 ``nodedown`` "progress not possible" on a cluster
  that lost the node whose shards the seq names) starts the feed again from ``now``, and the
  MoDBs created in the blind interval are made up for: those of the current and the next month
  (``_all_dbs``, by page) that belong to reporting accounts get the design doc.
- ``no_feed``: CouchDB does not serve the feed (404: no ``_global_changes``, which CouchDB 3
  serves it from but does not create; 401: not a server admin): logged once, asked again every
  few minutes, so fixing it needs no restart.
- ``credentials_refused``: CouchDB refused the credentials (:mod:`app.couch.credentials`):
  waits out the client's pause.

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
from datetime import UTC, datetime
from typing import Literal

from app.couch.client import Couch, CouchUnavailable, CredentialsRefused
from app.couch.installer import (
    ALL_ACCOUNTS,
    Installer,
    ViewsNotInstallable,
    account_range,
    has_design_doc,
    is_modb,
)
from app.couch.modb import next_month, parse_db_name
from app.couch.wire import CouchError
from app.telemetry import Telemetry

LOG = logging.getLogger("qubicle_reports.db_updates")
FEED_TIMEOUT = 30.0  # seconds CouchDB holds a longpoll open with nothing to say
BACKOFF_MAX = 30.0  # seconds between reconnection attempts, at most
FEED_RETRY = 300.0  # seconds before asking again for a feed CouchDB does not serve
INSTALLS_IN_FLIGHT = 8
NO_GLOBAL_CHANGES = (
    "; CouchDB keeps that feed in _global_changes: a server admin creates it once with "
    "PUT /_global_changes"
)

State = Literal["following", "reconnecting", "no_feed", "credentials_refused", "off"]
STATES: tuple[State, ...] = ("following", "reconnecting", "no_feed", "credentials_refused", "off")


def follower_state(telemetry: Telemetry, state: State) -> None:
    for each in STATES:
        telemetry.db_updates_state.labels(each).set(int(each == state))
    telemetry.db_updates_enabled.set(int(state != "off"))


class DbUpdatesFollower:
    def __init__(
        self, couch: Couch, installer: Installer, telemetry: Telemetry,
        feed_timeout: float = FEED_TIMEOUT, feed_retry: float = FEED_RETRY,
    ) -> None:
        self.couch = couch
        self.installer = installer
        self.telemetry = telemetry
        self.feed_timeout = feed_timeout
        self.feed_retry = feed_retry
        self.since: str = "now"
        self.state: State = "off"
        self.blind = False  # the feed restarted from now: MoDBs created meanwhile are unseen
        self.last_answer = time.monotonic()
        self._slots = asyncio.Semaphore(INSTALLS_IN_FLIGHT)
        self._catching_up: asyncio.Task[int] | None = None
        telemetry.db_updates_last_answer_age.set_function(
            lambda: time.monotonic() - self.last_answer
        )

    def _become(self, state: State, why: str = "") -> None:
        if state != self.state and why:
            (LOG.info if state == "following" else LOG.warning)("db_updates: %s", why)
        self.state = state
        follower_state(self.telemetry, state)
        self.telemetry.db_updates_connected.set(int(state == "following"))

    async def run(self) -> None:
        """Follow the feed until cancelled, whatever CouchDB answers meanwhile."""
        t = self.telemetry
        self._become("reconnecting")
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
                except CredentialsRefused as e:
                    self._become("credentials_refused", str(e))
                    await asyncio.sleep(max(e.retry_in, 1.0))
                    continue
                except CouchUnavailable as e:
                    status, body = 0, str(e)
                if status in (400, 412) and self.since != "now":
                    # the seq names copies that cannot answer (a node lost) or that this
                    # CouchDB never had: start again from now, and make up for the gap
                    t.db_updates_errors.inc()
                    self._become(
                        "reconnecting",
                        f"CouchDB cannot resume _db_updates from its last seq ({status} "
                        f"{body}): starting again from now, then looking for MoDBs created "
                        "meanwhile",
                    )
                    self.since, self.blind = "now", True
                    await asyncio.sleep(backoff)
                    backoff = min(BACKOFF_MAX, backoff * 2)
                    continue
                if 400 <= status < 500:
                    self._become(
                        "no_feed",
                        f"CouchDB does not serve _db_updates ({status} {body}"
                        f"{NO_GLOBAL_CHANGES if status == 404 else ''}): new MoDBs get the "
                        f"design doc on their first report; asked again every "
                        f"{self.feed_retry:.0f} s",
                    )
                    await asyncio.sleep(self.feed_retry)
                    continue
                if status != 200 or not isinstance(body, dict):
                    t.db_updates_errors.inc()
                    self._become("reconnecting", f"_db_updates failed ({status or body}): retrying")
                    await asyncio.sleep(backoff)
                    backoff = min(BACKOFF_MAX, backoff * 2)
                    continue
                backoff = 0.5
                self._become("following", "following CouchDB's _db_updates")
                self.last_answer = time.monotonic()
                await self.handle(body.get("results") or [])
                self.since = str(body.get("last_seq", self.since))
                if self.blind:
                    self.blind = False
                    self._start_catch_up()
        finally:
            if self._catching_up is not None:
                self._catching_up.cancel()
            self._become("off")

    def _start_catch_up(self) -> None:
        if self._catching_up is not None and not self._catching_up.done():
            return  # one at a time: the one running looks at the same months
        self._catching_up = asyncio.create_task(self.catch_up(), name="db-updates-catch-up")

    async def catch_up(self, now: datetime | None = None) -> int:
        """Give the design doc to the MoDBs of the current and the next month (UTC) that
        belong to reporting accounts and lack it: those KAZOO may have created while the
        feed was blind. Returns how many got it."""
        now = now or datetime.now(UTC)
        after = next_month(now.year, now.month)
        months = {f"-{now.year:04d}{now.month:02d}", f"-{after[0]:04d}{after[1]:02d}"}
        installed = 0
        try:
            async for page in self.couch.db_names(*ALL_ACCOUNTS):
                dbs = [db for db in page if db[-7:] in months and is_modb(db)]
                found = await asyncio.gather(*(self._make_up(db) for db in dbs))
                installed += sum(found)
        except (CouchUnavailable, CouchError) as e:
            self.telemetry.db_updates_errors.inc()
            LOG.warning("db_updates: could not look for MoDBs created meanwhile: %s", e)
        if installed:
            LOG.info("db_updates: %d MoDBs created meanwhile got the design doc", installed)
        return installed

    async def _make_up(self, db: str) -> bool:
        async with self._slots:
            try:
                if await self.couch.get_doc(db, self.installer.ddoc["_id"]) is not None:
                    return False
            except (CouchUnavailable, CouchError):
                return False
        return await self.created(db)

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
        """Install the design doc into a new MoDB of a reporting account; True if this
        wrote it (a cluster's feed may tell of one creation more than once: counted once)."""
        async with self._slots:
            try:
                if not await self.reports(db):
                    return False
                self.installer.forget(db)  # a report may have found it missing just before
                if await self.installer.settle(db) in ("installed", "repaired"):
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
