"""Read the reduced view rows a report needs, from every month database it touches.

Which queries to send is decided by :func:`plan_queries` (pure); :func:`load` runs them
concurrently (bounded), installing the design doc into each MoDB on first use. A MoDB that
does not exist contributes nothing; any CouchDB failure fails the whole load, so a report is
never presented whole when part of it is missing. Rows of closed months come from the
:class:`~app.cache.RowCache` while the MoDB's ``update_seq`` is unchanged.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.buckets import BucketPlan
from app.cache import RowCache, Rows
from app.couch import Couch, CouchError
from app.design_docs import DDOC
from app.installer import Installer
from app.metrics import REPORTS
from app.modb import MonthDb, modbs_for_range, next_month
from app.request import ReportRequest

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


def plan_queries(account_id: str, req: ReportRequest, plan: BucketPlan) -> list[Query]:
    """One key range per entity when identifiers are given, else one query per MoDB."""
    view, by_queue = view_for(req, plan)
    level = plan.group_level
    queries: list[Query] = []
    for month in modbs_for_range(account_id, plan.first_day, plan.last_day):
        if req.identifiers is None:
            queries.append(Query(month, view, {"group_level": level}))
            continue
        for entity in req.identifiers:
            if by_queue:  # every queue of this recipient; queue_ids are filtered on merge
                start: list[Any] = [[entity]]
                end: list[Any] = [[entity, HIGH]]
            else:
                start = [entity, plan.first_day_key]
                end = [entity, plan.last_day_key, HIGH]
            queries.append(
                Query(month, view, {"group_level": level, "startkey": start, "endkey": end})
            )
    return queries


def is_closed(month: MonthDb, now: datetime) -> bool:
    """The month is over (UTC), so its MoDB only changes by late or corrected writes."""
    y, m = next_month(month.year, month.month)
    return (now.year, now.month) >= (y, m)


@dataclass
class Loader:
    """Runs a report's queries: install on first use, closed months from the cache."""

    couch: Couch
    installer: Installer
    concurrency: int = 8
    cache: RowCache | None = None

    async def _view(self, q: Query) -> Rows:
        for attempt in (1, 2):
            if not await self.installer.ensure(q.db):
                return []
            try:
                return await self.couch.view(q.db, DDOC, q.view, **q.params)
            except CouchError as e:
                if e.status != 404 or attempt == 2:
                    raise
                self.installer.forget(q.db)  # design doc (or db) vanished since installed
        return []

    async def _seq(self, db: str) -> Any:
        info = await self.couch.db_info(db)
        return None if info is None else info.get("update_seq")

    async def load(self, queries: list[Query], use_cache: bool = True) -> list[Rows]:
        """Rows of every query, in query order."""
        slots = asyncio.Semaphore(self.concurrency)
        now = datetime.now(UTC)
        cache = self.cache if self.cache is not None and self.cache.max_rows > 0 else None
        seqs: dict[str, asyncio.Task[Any]] = {}
        if cache is not None:
            for q in queries:
                if q.db not in seqs and is_closed(q.month, now):
                    seqs[q.db] = asyncio.ensure_future(self._seq(q.db))

        async def one(q: Query) -> Rows:
            key = seq = None
            if cache is not None and q.db in seqs:
                seq = await seqs[q.db]
                if seq is None:  # no such MoDB
                    return []
                key = cache.key(q.db, q.view, q.params)
                if use_cache and (rows := cache.get(key, seq)) is not None:
                    return rows
            async with slots:
                rows = await self._view(q)
            if key is not None:
                cache.put(key, seq, rows)  # type: ignore[union-attr]
            return rows

        try:
            return list(await asyncio.gather(*(one(q) for q in queries)))
        finally:
            for task in seqs.values():
                task.cancel()
