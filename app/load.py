"""Read the reduced view rows a report needs, from every month database it touches.

Which queries to send is decided by :func:`plan_queries` (pure); :func:`load` runs them
concurrently (bounded), installing the design doc into each MoDB on first use. A MoDB that
does not exist contributes nothing; any CouchDB failure fails the whole load, so a report is
never presented whole when part of it is missing. Rows of closed months come from the
:class:`~app.cache.ViewCache` while the MoDB's ``update_seq`` is unchanged.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.buckets import BucketPlan
from app.cache import ViewCache
from app.couch import Couch, CouchError, view_rows
from app.design_docs import DDOC
from app.installer import Installer
from app.metrics import REPORTS
from app.modb import MonthDb, modbs_for_range, next_month
from app.request import ReportRequest

Rows = list[dict[str, Any]]
Answer = tuple[bytes, Rows]  # a view answer as CouchDB sent it, and its rows
EMPTY = b'{"rows": []}'  # the answer of a MoDB that does not exist
PER_ENTITY_RANGES = 8  # more identifiers than this: one spanning range per MoDB
HIGH: dict[str, Any] = {}  # CouchDB collation's highest value, for inclusive key-range ends


@dataclass(frozen=True)
class Query:
    month: MonthDb
    view: str
    params: dict[str, Any] = field(hash=False)

    @property
    def db(self) -> str:
        return self.month.name


def view_for(req: ReportRequest, plan: BucketPlan) -> tuple[str, bool]:
    """The view to read, and whether its entity is a [recipient, queue] pair."""
    kind = REPORTS[req.report]
    if req.queue_ids is not None and kind.queue_views is not None:
        return kind.queue_views[plan.resolution], True
    return kind.views[plan.resolution], False


def key_range(by_queue: bool, first: str, last: str, plan: BucketPlan) -> dict[str, Any]:
    """startkey/endkey from entity ``first`` to entity ``last`` over the plan's UTC days."""
    if by_queue:  # every queue of these recipients; queue_ids are filtered on merge
        return {"startkey": [[first]], "endkey": [[last, HIGH]]}
    return {
        "startkey": [first, plan.first_day_key],
        "endkey": [last, plan.last_day_key, HIGH],
    }


def plan_queries(account_id: str, req: ReportRequest, plan: BucketPlan) -> list[Query]:
    """The fewest queries per MoDB that cover the report.

    No identifiers: the whole view of each MoDB (a MoDB holds about one month, so little is
    read outside the range). A few identifiers: one key range each. Many: one range from the
    lowest to the highest id, the rows of other entities dropped on merge.
    """
    view, by_queue = view_for(req, plan)
    level = {"group_level": plan.group_level}
    ids = sorted(req.identifiers) if req.identifiers is not None else None
    if ids is None:
        ranges = [level]
    elif len(ids) > PER_ENTITY_RANGES:
        ranges = [{**level, **key_range(by_queue, ids[0], ids[-1], plan)}]
    else:
        ranges = [{**level, **key_range(by_queue, e, e, plan)} for e in ids]
    return [
        Query(month, view, params)
        for month in modbs_for_range(account_id, plan.first_day, plan.last_day)
        for params in ranges
    ]


def is_closed(month: MonthDb, now: datetime) -> bool:
    """The month is over (UTC), so its MoDB only changes by late or corrected writes."""
    y, m = next_month(month.year, month.month)
    return (now.year, now.month) >= (y, m)


@dataclass
class _Flight:
    """A view request in flight and how many report loads wait for it."""

    task: asyncio.Task[Answer]
    waiters: int = 0


@dataclass
class Loader:
    """Runs a report's queries: install on first use, closed months from the cache, and one
    CouchDB request for identical queries in flight at the same time."""

    couch: Couch
    installer: Installer
    concurrency: int = 8
    cache: ViewCache | None = None
    _inflight: dict[bytes, _Flight] = field(default_factory=dict)

    async def _view(self, q: Query) -> Answer:
        """The answer as sent (for the cache) and parsed once (shared by every asker)."""
        for attempt in (1, 2):
            if not await self.installer.ensure(q.db):
                return EMPTY, []
            try:
                raw = await self.couch.view_raw(q.db, DDOC, q.view, **q.params)
            except CouchError as e:
                if e.status != 404 or attempt == 2:
                    raise
                self.installer.forget(q.db)  # design doc (or db) vanished since installed
            else:
                return raw, view_rows(raw)
        return EMPTY, []

    async def _joined(self, key: bytes, q: Query) -> Answer:
        """The answer of the in-flight request for ``key``, started if there is none.

        Requests that join it share its answer. One that gives up (timeout, a failure
        elsewhere in its report) leaves it running for the others; the last one to give up
        cancels it, so no request outlives its askers (one begun during a CouchDB fault is not
        left behind for a report asked after the fault to join).
        """
        flight = self._inflight.get(key)
        if flight is None:
            flight = self._inflight[key] = _Flight(asyncio.ensure_future(self._view(q)))
            flight.task.add_done_callback(lambda _: self._forget(key, flight))
        flight.waiters += 1
        try:
            return await asyncio.shield(flight.task)
        finally:
            flight.waiters -= 1
            if flight.waiters == 0 and not flight.task.done():
                self._forget(key, flight)
                flight.task.cancel()

    def _forget(self, key: bytes, flight: _Flight) -> None:
        if self._inflight.get(key) is flight:
            del self._inflight[key]
        if flight.task.done() and not flight.task.cancelled():
            flight.task.exception()  # retrieved: every asker may have given up already

    async def _seq(self, db: str) -> Any:
        """The MoDB's update_seq once our design doc is in (installing it moves the seq)."""
        if not await self.installer.ensure(db):
            return None
        info = await self.couch.db_info(db)
        return None if info is None else info.get("update_seq")

    async def load(self, queries: list[Query], use_cache: bool = True) -> list[Rows]:
        """Rows of every query, in query order. ``use_cache=False`` bypasses the cache."""
        slots = asyncio.Semaphore(self.concurrency)
        cache = (
            self.cache if use_cache and self.cache is not None and self.cache.max_bytes else None
        )
        now = datetime.now(UTC)
        # update_seq is read BEFORE the view, so a cached answer is never older than its seq
        seqs: dict[str, asyncio.Task[Any]] = {}
        if cache is not None:
            for q in queries:
                if q.db not in seqs and is_closed(q.month, now):
                    seqs[q.db] = asyncio.ensure_future(self._seq(q.db))

        async def one(q: Query) -> Rows:
            key = ViewCache.key(q.db, q.view, q.params)
            if q.db not in seqs:
                async with slots:
                    return (await self._joined(key, q))[1]
            seq = await seqs[q.db]
            if seq is None:  # no such MoDB
                return []
            raw = cache.get(key, seq)  # type: ignore[union-attr]
            if raw is not None:
                return view_rows(raw)
            # joining only a request started after a read of this same seq keeps the rule
            async with slots:
                raw, rows = await self._joined(key + repr(seq).encode(), q)
            cache.put(key, seq, raw)  # type: ignore[union-attr]
            return rows

        tasks = [asyncio.ensure_future(one(q)) for q in queries]
        try:
            return list(await asyncio.gather(*tasks))
        finally:  # one failed (or we were cancelled): stop waiting for the others
            for task in [*tasks, *seqs.values()]:
                task.cancel()
