"""Read the agent_states report's status events: the ``agent_events`` view of every MoDB the
range touches, in key order, merged across MoDBs, a page at a time.

An event of a month's last hour is archived into the next month's MoDB (CONTRACT.md 7a), so
one agent's events are spread over two or more MoDBs, each sorted by ``[agent, timestamp,
code]``. Each (key range, MoDB) is read page by page (:data:`PAGE` rows, the next page asked
for while the current one is folded) and the pages of one key range are merged in key order
(:func:`merged`: long runs of one MoDB are handed on whole, so the merge costs a comparison
per run, not per row). So memory holds about two pages per MoDB and key range being read (at
most ``concurrency`` key ranges at once), however many events the range has. The key ranges:
one per agent when few are asked for, one spanning range when many; each starts 12 hours
before the range (the state at its start) and ends before ``min(end, now)``. Without
``identifiers`` the agents are not known, and the whole view of a MoDB holds a month of every
agent (an hourly week would read four times its events): so the view's ``_count`` at
``group_level=1`` lists each MoDB's agents first (one small answer per MoDB), and each agent
is then read over its own key range, only in the MoDBs it has events in. Every event read
asks ``reduce=false``.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from collections.abc import AsyncIterator, Coroutine
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from app.couch.modb import MonthDb, modbs_for_range
from app.report import offload
from app.report.agent_states import CAP, GREGORIAN_OFFSET, AgentSums
from app.report.load import HIGH, PER_ENTITY_RANGES, Loader, Query
from app.report.rows import EventRow, event_batches, row_batches

VIEW = "agent_events"
PAGE = 20_000  # rows per view request: ~2 MB of answer


def parsed(raw: bytes) -> list[EventRow]:
    return [row for batch in event_batches(raw) for row in batch]
T = TypeVar("T")


def agent_range(agent: str, low: int, high: int) -> dict[str, Any]:
    """One agent's events of ``[low, high)`` (Gregorian seconds)."""
    return {"reduce": False, "startkey": [agent, low], "endkey": [agent, high - 1, HIGH]}


def key_ranges(identifiers: tuple[str, ...], low: int, high: int) -> list[dict[str, Any]]:
    """Events of ``[low, high)`` of the asked agents: one range each, or one spanning them."""
    ids = sorted(identifiers)
    if len(ids) > PER_ENTITY_RANGES:
        return [{"reduce": False, "startkey": [ids[0], low], "endkey": [ids[-1], high - 1, HIGH]}]
    return [agent_range(a, low, high) for a in ids]


def months(account_id: str, low: int, high: int) -> list[MonthDb]:
    """The MoDBs holding events of ``[low, high)``, and the month after (archive lag)."""

    def day(at: int) -> date:
        return datetime.fromtimestamp(at - GREGORIAN_OFFSET, UTC).date()

    return modbs_for_range(account_id, day(low), day(high - 1))


async def pages(
    loader: Loader, slots: asyncio.Semaphore, month: MonthDb, params: dict[str, Any]
) -> AsyncIterator[list[EventRow]]:
    """One MoDB's rows of one key range, a page at a time, the next page already asked for.

    A page ends somewhere in a run of equal keys (two documents of one event), so the next
    starts at the last key and skips the rows of that key already read."""

    async def page(p: dict[str, Any]) -> list[EventRow]:
        async with slots:
            raw = await loader.read(Query(month, VIEW, p))
        # a page of ~2 MB is parsed in the report worker, off the event loop
        return await offload.run(len(raw) <= offload.SMALL_ANSWER, parsed, raw)

    current = asyncio.ensure_future(page({**params, "limit": PAGE}))
    try:
        while True:
            rows = await current
            if len(rows) < PAGE:
                if rows:
                    yield rows
                return
            last = rows[-1].key
            same = 1
            while same < len(rows) and rows[-same - 1].key == last:
                same += 1
            current = asyncio.ensure_future(
                page({**params, "startkey": list(last), "skip": same, "limit": PAGE})
            )
            yield rows
    finally:
        current.cancel()


async def merged(streams: list[AsyncIterator[list[EventRow]]]) -> AsyncIterator[list[EventRow]]:
    """The rows of sorted streams in key order, as runs: from the stream whose next key is
    smallest, every row up to the next key of any other stream."""
    heads: list[tuple[list[EventRow], int, AsyncIterator[list[EventRow]]]] = []
    for stream in streams:
        rows = await anext(stream, None)
        if rows:
            heads.append((rows, 0, stream))
    while heads:
        i = min(range(len(heads)), key=lambda n: heads[n][0][heads[n][1]].key)
        rows, at, stream = heads[i]
        if len(heads) == 1:
            upto = len(rows)
        else:
            bound = min(h[0][h[1]].key for n, h in enumerate(heads) if n != i)
            upto = bisect_right(rows, bound, lo=at, key=lambda r: r.key)
        yield rows[at:upto] if at or upto < len(rows) else rows
        if upto < len(rows):
            heads[i] = (rows, upto, stream)
            continue
        nxt = await anext(stream, None)
        if nxt:
            heads[i] = (nxt, 0, stream)
        else:
            del heads[i]


async def agents_in(loader: Loader, slots: asyncio.Semaphore, month: MonthDb) -> set[str]:
    """The agents with any event in the MoDB: the view's ``_count`` at ``group_level=1``
    (a row per agent, however many events it has)."""
    async with slots:
        raw = await loader.read(Query(month, VIEW, {"group_level": 1}))
    return {row.key[0] for batch in row_batches(raw) for row in batch}


async def read_events(
    loader: Loader,
    account_id: str,
    identifiers: tuple[str, ...] | None,
    target: AgentSums,
) -> None:
    """Fold every event the report needs into ``target``, key range by key range
    concurrently (at most ``loader.concurrency`` at once), MoDBs merged."""
    low, high = target.low - CAP, target.high
    if high <= target.low:
        return  # the range begins after now: nothing to count
    slots = asyncio.Semaphore(loader.concurrency)
    ranges = asyncio.Semaphore(loader.concurrency)  # key ranges being read: bounds memory
    dbs = months(account_id, low, high)
    if identifiers is None:
        found = await every([agents_in(loader, slots, month) for month in dbs])
        plans = [
            (
                agent_range(a, low, high),
                [m for m, there in zip(dbs, found, strict=True) if a in there],
            )
            for a in sorted(set[str]().union(*found))
        ]
    else:
        plans = [(params, dbs) for params in key_ranges(identifiers, low, high)]

    async def one(params: dict[str, Any], where: list[MonthDb]) -> None:
        async with ranges:
            fold = target.fold()
            streams = [pages(loader, slots, month, params) for month in where]
            async for rows in merged(streams):
                fold.add(rows)
            fold.close()

    await every([one(p, where) for p, where in plans])


async def every(coros: list[Coroutine[Any, Any, T]]) -> list[T]:
    """Their results, run concurrently; when one fails (or we are cancelled), the others are
    cancelled, so no view request outlives the report."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        return await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
