"""What ``serve`` runs beside the reports to keep indexes ahead of them: the ``_db_updates``
follower (new MoDBs get the design doc as KAZOO creates them) and the index book behind the
``index_states`` metric."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from app.couch.client import Couch
from app.couch.db_updates import FEED_RETRY, DbUpdatesFollower, follower_state
from app.couch.index_book import IndexBook
from app.couch.installer import Installer
from app.telemetry import Telemetry

REFRESH_EVERY = 30.0  # seconds between looks at the MoDBs still building


@contextlib.asynccontextmanager
async def index_upkeep(
    couch: Couch,
    installer: Installer,
    telemetry: Telemetry,
    *,
    follow: bool,
    follow_retry: float = FEED_RETRY,
) -> AsyncIterator[IndexBook]:
    book = IndexBook(telemetry)
    couch.probes.seen = book.seen
    installer.wrote = lambda db: book.record(db, "building")

    def answered(db: str, ddoc: str) -> None:
        if ddoc == installer.name and book.states.get(db) != "built":
            book.record(db, "built")

    couch.view_answered = answered

    async def refresh() -> None:
        while True:
            await asyncio.sleep(REFRESH_EVERY)
            await book.refresh(lambda db: couch.index_state(db, installer.name))

    tasks = [asyncio.create_task(refresh(), name="index-book-refresh")]
    if follow:
        follower = DbUpdatesFollower(couch, installer, telemetry, feed_retry=follow_retry)
        tasks.append(asyncio.create_task(follower.run(), name="db-updates-follower"))
    else:
        follower_state(telemetry, "off")
    try:
        yield book
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
