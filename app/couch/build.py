"""Follow CouchDB's build of a design doc's index in one MoDB to the end, however long.

CouchDB answers a view query that waits on a build ``500`` after its 60 s view timeout
(``fabric_worker_timeout``) while the build goes on, so no query is held open for long: each
asks with ``query_timeout`` (below CouchDB's), and while it waits, and after it gives up, the
build is watched through ``_active_tasks`` / ``_info`` (:mod:`app.couch.index_state`) and its
percentage, documents per second and time left are printed. A query that answers means the
view is built. Nothing here changes CouchDB but the queries, so Ctrl-C at any point leaves it
consistent, and a second run picks up where CouchDB is.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from app.couch.client import NEARLY_BUILT_CHANGES, Couch, CouchUnavailable
from app.couch.index_state import IndexState, seconds_left
from app.couch.modb import encode
from app.couch.wire import couch_error, parse

STALLS = 3  # query attempts in a row with no build seen progressing: CouchDB is not building


class BuildFailed(Exception):
    """CouchDB refused the view query or stopped building the index."""


@dataclass
class Sample:
    at: float
    state: IndexState


def describe(db: str, first: Sample | None, last: Sample) -> str:
    """``<db>: 42% built, 1234 docs/s, about 35 s left`` (what is known of it)."""
    state = last.state
    parts = [f"{db}: " + ("progress unknown" if state.progress is None else f"{state.progress}%")]
    if first is not None and last.at > first.at:
        elapsed = last.at - first.at
        if first.state.changes_done is not None and state.changes_done is not None:
            rate = (state.changes_done - first.state.changes_done) / elapsed
            parts.append(f"{max(rate, 0):.0f} docs/s")
        left = seconds_left(first.state, state, elapsed)
        parts.append(f"about {left:.0f} s left" if left != float("inf") else "time left unknown")
    return ", ".join(parts)


def _settled(state: IndexState) -> bool:
    if not state.building:
        return True
    if state.running or state.indexed_seq is None or state.db_seq is None:
        return False
    return state.db_seq - state.indexed_seq <= NEARLY_BUILT_CHANGES


class BuildFollower:
    """Builds one MoDB's indexes to the end, printing how it goes every ``poll`` seconds."""

    def __init__(
        self,
        couch: Couch,
        ddoc: str,
        *,
        query_timeout: float,
        poll: float,
        say: Callable[[str], None] = lambda line: print(line, flush=True),
    ) -> None:
        self.couch = couch
        self.ddoc = ddoc  # the design doc's name (this release's)
        self.query_timeout = query_timeout
        self.poll = poll
        self.say = say

    async def build(self, db: str, views: list[str]) -> None:
        """Return when every view answers (its index is built); raise BuildFailed if not."""
        watched = False
        for view in views:  # CouchDB builds a ddoc's views together: the later ones are quick
            watched = await self._view(db, view) or watched
        watched = await self._settle(db) or watched
        if watched:
            self.say(f"{db}: built")

    async def _view(self, db: str, view: str) -> bool:
        """Wait until ``view`` answers; True when it had to wait for a build."""
        first: Sample | None = None
        stalls = 0
        seen_before: int | None = None
        while True:
            query = asyncio.ensure_future(self._query(db, view))
            try:
                while not query.done():
                    await asyncio.wait({query}, timeout=self.poll)
                    if query.done():
                        break
                    sample = await self._look(db)
                    if sample is not None:
                        first = first or sample
                        self.say(describe(db, first, sample))
            finally:
                if not query.done():
                    query.cancel()
            if await query:
                return first is not None
            # the query gave up (CouchDB builds on): wait while the build moves, then ask again
            sample = await self._look(db)
            if sample is not None:
                first = first or sample
                self.say(describe(db, first, sample))
            done = sample.state.changes_done if sample is not None else None
            moved = done is not None and done != seen_before
            seen_before = done
            stalls = 0 if moved or (sample and sample.state.running) else stalls + 1
            if stalls >= STALLS:
                raise BuildFailed(
                    f"view {view} did not answer within {self.query_timeout:g} s "
                    f"{STALLS} times and CouchDB shows no build going on"
                )

    async def _settle(self, db: str) -> bool:
        """Wait until no copy is left building; True when it had to wait.

        A view answers once one copy of each shard range is built, while on a cluster the
        other copies may still be indexing. Done when CouchDB reports no build, or no indexer
        at work and at most a few changes left (a MoDB in use is written to all the time)."""
        first: Sample | None = None
        stalls = 0
        seen_before: int | None = None
        while True:
            sample = await self._look(db)
            if sample is None or _settled(sample.state):
                return first is not None
            first = first or sample
            self.say(describe(db, first, sample))
            done = sample.state.changes_done
            moved = done is not None and done != seen_before
            seen_before = done
            stalls = 0 if moved or sample.state.running else stalls + 1
            if stalls >= STALLS:
                raise BuildFailed(f"{db}: CouchDB shows the index behind and no build going on")
            await asyncio.sleep(self.poll)

    async def _query(self, db: str, view: str) -> bool:
        """True when the view answered (built); False when it timed out (still building)."""
        path = f"{encode(db)}/_design/{self.ddoc}/_view/{view}"
        try:
            status, raw = await self.couch.request_raw(
                "GET",
                path,
                params={"limit": 1, "reduce": False},
                timeout=self.query_timeout,
                retry=False,
            )
        except CouchUnavailable:  # our timeout, CouchDB's 500 timeout, or a node away
            return False
        if status >= 300:
            raise BuildFailed(str(couch_error(status, parse(raw))))
        return True

    async def _look(self, db: str) -> Sample | None:
        state = await self.couch.index_state(db, self.ddoc)
        return None if state is None else Sample(time.monotonic(), state)
