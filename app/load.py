"""Read the reduced view rows a report needs, from every month database it touches.

Which queries to send is decided by :func:`plan_queries` (pure); :func:`load` runs them
concurrently (bounded), installing the design doc into each MoDB on first use. A MoDB that
does not exist contributes nothing; any CouchDB failure fails the whole load, so a report is
never presented whole when part of it is missing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from app.buckets import BucketPlan
from app.couch import Couch, CouchError
from app.design_docs import DDOC
from app.installer import Installer
from app.metrics import REPORTS
from app.modb import modbs_for_range
from app.request import ReportRequest

HIGH = {}  # CouchDB collation's highest value, for inclusive key-range ends


@dataclass(frozen=True)
class Query:
    db: str
    view: str
    params: dict[str, Any] = field(hash=False)


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
            queries.append(Query(month.name, view, {"group_level": level}))
            continue
        for entity in req.identifiers:
            if by_queue:  # every queue of this recipient; queue_ids are filtered on merge
                start: list[Any] = [[entity]]
                end: list[Any] = [[entity, HIGH]]
            else:
                start = [entity, plan.first_day_key]
                end = [entity, plan.last_day_key, HIGH]
            queries.append(
                Query(month.name, view, {"group_level": level, "startkey": start, "endkey": end})
            )
    return queries


async def _run(couch: Couch, installer: Installer, q: Query) -> list[dict[str, Any]]:
    for attempt in (1, 2):
        if not await installer.ensure(q.db):
            return []
        try:
            return await couch.view(q.db, DDOC, q.view, **q.params)
        except CouchError as e:
            if e.status != 404 or attempt == 2:
                raise
            installer.forget(q.db)  # design doc (or db) vanished since we installed it
    return []


async def load(
    couch: Couch, installer: Installer, queries: list[Query], concurrency: int
) -> list[list[dict[str, Any]]]:
    """Rows of every query, in query order."""
    slots = asyncio.Semaphore(concurrency)

    async def bounded(q: Query) -> list[dict[str, Any]]:
        async with slots:
            return await _run(couch, installer, q)

    return list(await asyncio.gather(*(bounded(q) for q in queries)))
