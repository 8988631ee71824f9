"""Read the reduced view rows a report needs, from every month database it touches.

Which queries to send is decided by :func:`plan_queries` (pure): the cheapest views that carry
the fields the asked metrics need (:meth:`app.metrics.ReportKind.cover`), over the fewest key
ranges. :meth:`Loader.load` runs them concurrently (bounded), installing the design doc into
each MoDB on first use, and hands each answer to a sink (the report's :class:`~app.merge.Merge`)
as it arrives, so a report never holds all its rows at once. A MoDB that does not exist
contributes nothing; any CouchDB failure fails the whole load, so a report is never presented
whole when part of it is missing. Rows of closed months come from the
:class:`~app.cache.ViewCache` while the MoDB's ``update_seq`` is unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.couch.build_eta import month_of
from app.couch.client import Couch, CouchError, CouchUnavailable
from app.couch.index_state import seq_number
from app.couch.installer import Installer
from app.couch.modb import MonthDb, modbs_for_range, next_month, parse_db_name
from app.couch.view_cache import ViewCache
from app.couch.wire import error_name
from app.report import offload
from app.report.buckets import BucketPlan
from app.report.merge import Source
from app.report.metrics import REPORTS, View
from app.report.request import ReportRequest
from app.report.shares import Shares

Answer = bytes  # a view answer as CouchDB sent it: parsed by its folder, batch by batch
EMPTY = b'{"rows": []}'  # the answer of a MoDB that does not exist
PER_ENTITY_RANGES = 8  # more ranges than this: one spanning range per MoDB
HIGH: dict[str, Any] = {}  # CouchDB collation's highest value, for inclusive key-range ends


@dataclass(frozen=True)
class Query:
    month: MonthDb
    view: str
    params: dict[str, Any] = field(hash=False)
    # how its rows fold into the report (None: read by app.report.events, not merged)
    source: Source | None = field(hash=False, compare=False, default=None)

    @property
    def db(self) -> str:
        return self.month.name


def sources_for(req: ReportRequest) -> list[Source]:
    """Where each raw field the report's metrics need is read: the cheapest views."""
    kind = REPORTS[req.report]
    needed = kind.fields(req.metrics, req.threshold)
    cover = kind.cover(needed, by_queue=req.queue_ids is not None and bool(kind.queue_views))
    return [Source(view, tuple(fs)) for view, fs in cover]


def key_ranges(view: View, req: ReportRequest, plan: BucketPlan) -> list[dict[str, Any]]:
    """The fewest key ranges of ``view`` that hold the report's rows.

    No identifiers: the whole view of each MoDB (a MoDB holds about one month, so little is
    read outside the range). A few identifiers: one range each, over the range's UTC days.
    Many: one range from the lowest to the highest id, the rows of other entities dropped on
    merge. A [queue, recipient, ...] view (recipients filtered by ``queue_ids``) is read one
    range per asked queue (per queue and recipient when there are few of both), so no other
    queue's rows are read unless the queues are many.
    """
    level = {"group_level": plan.group_level + view.entity_width - 1}
    first, last = plan.first_day_key, plan.last_day_key
    ids = sorted(req.identifiers) if req.identifiers is not None else None
    if view.entity_width == 1:
        if ids is None:
            return [level]
        if len(ids) > PER_ENTITY_RANGES:
            return [{**level, "startkey": [ids[0], first], "endkey": [ids[-1], last, HIGH]}]
        return [{**level, "startkey": [e, first], "endkey": [e, last, HIGH]} for e in ids]
    queues = sorted(req.queue_ids or ())
    if ids is not None and len(queues) * len(ids) <= PER_ENTITY_RANGES:
        return [
            {**level, "startkey": [q, r, first], "endkey": [q, r, last, HIGH]}
            for q in queues
            for r in ids
        ]
    low, high = ([ids[0]], [ids[-1], HIGH]) if ids is not None else ([], [HIGH])
    if len(queues) > PER_ENTITY_RANGES:
        return [{**level, "startkey": [queues[0], *low], "endkey": [queues[-1], *high]}]
    return [{**level, "startkey": [q, *low], "endkey": [q, *high]} for q in queues]


def plan_queries(
    account_id: str, req: ReportRequest, plan: BucketPlan, sources: list[Source] | None = None
) -> list[Query]:
    """Every (MoDB, view, key range) the report reads."""
    if sources is None:
        sources = sources_for(req)
    months = modbs_for_range(account_id, plan.first_day, plan.last_day)
    return [
        Query(month, source.view.names[plan.resolution], params, source)
        for source in sources
        for params in key_ranges(source.view, req, plan)
        for month in months
    ]


def is_closed(month: MonthDb, now: datetime) -> bool:
    """The month is over (UTC), so its MoDB only changes by late or corrected writes."""
    y, m = next_month(month.year, month.month)
    return (now.year, now.month) >= (y, m)


class MonthUnreadable(Exception):
    """One MoDB's answer failed: the month and why, in one line (the report is a 503)."""


@contextmanager
def month_failures(db: str) -> Iterator[None]:
    """CouchDB's failure for one request to MoDB ``db``, as :class:`MonthUnreadable`
    naming its month."""
    try:
        yield
    except CouchError as e:
        why = f"CouchDB answered {e.status}{error_name(e.error)}"
        raise MonthUnreadable(f"the report could not read {month_of(db)}: {why}") from None
    except CouchUnavailable as e:
        raise MonthUnreadable(f"the report could not read {month_of(db)}: {e}") from None


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
    # view queries one account may have in flight, all its reports together (a fair share
    # of the process's CouchDB requests); None: no limit but the process's
    account_concurrency: int | None = None
    _inflight: dict[bytes, _Flight] = field(default_factory=dict)
    _shares: Shares | None = None

    def __post_init__(self) -> None:
        if self.account_concurrency is not None:
            self._shares = Shares(self.account_concurrency)

    def _share(self, db: str) -> AbstractAsyncContextManager[None]:
        """One of the account's CouchDB slots (its fair share), held for one request."""
        parsed = parse_db_name(db)
        if self._shares is None or parsed is None:
            return nullcontext()
        return self._shares.hold(parsed[0])

    async def _view(self, q: Query) -> Answer:
        """The answer as sent (shared by every asker, kept by the cache; app.rows parses it)."""
        for attempt in (1, 2):
            if not await self.installer.ensure(q.db):
                return EMPTY
            try:
                async with self._share(q.db):
                    raw = await self.couch.view_raw(
                        q.db, self.installer.name, q.view, build_wait=self.couch.build_wait,
                        **q.params,
                    )
            except CouchError as e:
                if e.status != 404 or attempt == 2:
                    raise
                self.installer.forget(q.db)  # design doc (or db) vanished since installed
            else:
                return raw
        return EMPTY

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
        else:
            self.couch.telemetry.coalesced.inc()
        flight.waiters += 1
        try:
            return await asyncio.shield(flight.task)
        finally:
            flight.waiters -= 1
            if flight.waiters == 0 and not flight.task.done():
                self._forget(key, flight)
                flight.task.cancel()

    async def read(self, q: Query) -> Answer:
        """One query's answer, read now (never from the cache; identical queries in flight
        share one request): for readers that page through a view (app.report.events)."""
        with month_failures(q.db):
            return await self._joined(self._key(q), q)

    async def docs(self, month: MonthDb, ids: list[str]) -> bytes:
        """The documents ``ids`` of one MoDB, as ``_bulk_get`` answers them (one of the
        account's CouchDB slots held while read)."""
        db = month.name
        with month_failures(db):
            async with self._share(db):
                return await self.couch.bulk_get_raw(db, ids)

    def _key(self, q: Query) -> bytes:
        """A query's identity: this release's design doc's, never another's answer."""
        return ViewCache.key(q.db, f"{self.installer.name}/{q.view}", q.params)

    def _forget(self, key: bytes, flight: _Flight) -> None:
        if self._inflight.get(key) is flight:
            del self._inflight[key]
        if flight.task.done() and not flight.task.cancelled():
            flight.task.exception()  # retrieved: every asker may have given up already

    async def _seq(self, db: str) -> Any:
        """The number of the MoDB's update_seq once our design doc is in (installing it moves
        the seq). Only the number: on a cluster the rest of the string differs from call to
        call with no writes (app.couch.seq_number), and the number is what changes with data."""
        if not await self.installer.ensure(db):
            return None
        async with self._share(db):
            info = await self.couch.db_info(db)
        if info is None:
            return None
        number = seq_number(info.get("update_seq"))
        return number if number is not None else repr(info.get("update_seq"))  # never cached

    async def load(
        self,
        queries: list[Query],
        sink: Callable[[Query, Answer], None],
        use_cache: bool = True,
    ) -> None:
        """Hand every query's answer to ``sink`` as it arrives (in any order), to be folded
        at once and not kept (a process holds at most the answers being received and the
        one being folded). ``use_cache=False`` bypasses the cache.

        ``sink`` runs in a worker thread, one answer of this load at a time: parsing and
        folding a large answer never holds up the event loop, so other requests (a liveness
        probe, another account's report) are answered meanwhile."""
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

        folding = asyncio.Lock()

        async def folded(q: Query, raw: Answer) -> None:
            async with folding:
                await offload.run(len(raw) <= offload.SMALL_ANSWER, sink, q, raw)

        async def one(q: Query) -> None:
            with month_failures(q.db):
                await fold(q)

        async def fold(q: Query) -> None:
            key = self._key(q)
            if q.db not in seqs:
                async with slots:
                    raw = await self._joined(key, q)
                await folded(q, raw)
                return
            seq = await seqs[q.db]
            if seq is None:  # no such MoDB
                return
            assert cache is not None  # seqs are read only when there is a cache
            hit = cache.get(key, seq)
            if hit is not None:
                await folded(q, hit)
                return
            # joining only a request started after a read of this same seq keeps the rule
            async with slots:
                raw = await self._joined(key + repr(seq).encode(), q)
            await folded(q, raw)  # first: an answer that does not parse is not cached
            cache.put(key, seq, raw)

        tasks = [asyncio.ensure_future(one(q)) for q in queries]
        try:
            await asyncio.gather(*tasks)
        finally:  # one failed (or we were cancelled): stop waiting for the others
            for task in [*tasks, *seqs.values()]:
                task.cancel()
