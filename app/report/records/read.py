"""Read the rows of a record report (CONTRACT.md 8) from the views the aggregates build.

Each report reads the view its aggregate reads, map-only (``reduce=false``), over the same
key ranges, then the documents of the rows it lists (a row needs the call id, the exact time,
the caller) with ``_bulk_get``: on CouchDB 3.4 that reads about twice as many documents a
second as the view's ``include_docs``, and a page reads the documents of its own rows only,
not of the few rows more it reads to know where it ends. Visits ``queue_visits_by_quarter``,
offers ``offers_by_recipient_by_quarter``, agent intervals ``agent_events``. One entity at
a time, in id order (the entities: the asked ones, or each MoDB's from the view's reduce at
``group_level=1``), each MoDB read in key order a batch at a time and the MoDBs merged; a
CSV reads ahead (:func:`ahead`), a page reads what it needs (:func:`groups`).

The views key by UTC quarter hour, and within one key CouchDB orders rows by document id,
not by time; so a batch that ends inside a key is completed by reading that key whole, and
each key's rows are sorted by their place (8c) before they are handed on. The next batch
starts just past the key (``[*key, {}]``), never by a count of rows to skip, so writes
between two reads move nothing. A page resumes at the key of its ``start_key``'s place and
drops every row up to that place.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from contextlib import aclosing, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import msgspec

from app.couch.client import CouchUnavailable
from app.couch.modb import MonthDb
from app.report import offload
from app.report.agent_states import CAP, GREGORIAN_OFFSET, STATUSES, timeline
from app.report.buckets import plan
from app.report.events import every, months
from app.report.load import HIGH, Loader, Query
from app.report.record_kinds import DEFAULT_PAGE_SIZE
from app.report.records.docs import Row, offer_row, visit_of, visit_row
from app.report.records.intervals import Event, Intervals
from app.report.request import RecordRequest
from app.report.start_key import Place, encode

VIEWS = {
    "visits": "queue_visits_by_quarter",
    "offers": "offers_by_recipient_by_quarter",
    "agent_intervals": "agent_events",
}
FIRST_BATCH = 200  # rows of a MoDB's first read (a page asks for a few more than its size)
CSV_FIRST_BATCH = 1_000  # rows of a MoDB's first read for CSV: every MoDB holds one at once
BATCH = 2_500  # rows of each later read (5,000: 5 % faster, over 150 MiB on four months)
AHEAD = 2  # reads (with their documents) a CSV holds ahead of the rows being written out
DOC_BATCH = 2_500  # documents a _bulk_get asks for
DOCS_AHEAD = 2  # a CSV's _bulk_get requests in flight: more only slow the first one down
SMALL_ROWS = 200  # rows made into a report's rows on the event loop (~1-2 ms); more: off it
Ranked = tuple[Place, Row]  # a row and its place in the report's order
T = TypeVar("T")


class DocRow(msgspec.Struct, gc=False):
    key: tuple[Any, ...]
    id: str
    doc: dict[str, Any] | None = None


class _Answer(msgspec.Struct, gc=False):
    rows: list[DocRow]


_DECODE = msgspec.json.Decoder(_Answer)


def parse(raw: bytes) -> list[DocRow]:
    try:
        return _DECODE.decode(raw).rows
    except msgspec.DecodeError:
        raise CouchUnavailable("CouchDB answered a view query without rows") from None


class _Found(msgspec.Struct, gc=False):
    ok: dict[str, Any] | None = None  # absent: missing ("error"), or the stand-in's {}


class _Got(msgspec.Struct, gc=False):
    id: str
    docs: list[_Found]


class _BulkGet(msgspec.Struct, gc=False):
    results: list[_Got]


_BULK = msgspec.json.Decoder(_BulkGet)


def documents(raw: bytes) -> dict[str, dict[str, Any]]:
    """A ``_bulk_get`` answer's documents by id: deleted or missing ones left out (their
    rows are then skipped, as a row whose document changed since the view read)."""
    try:
        got = _BULK.decode(raw).results
    except msgspec.DecodeError:
        raise CouchUnavailable("CouchDB answered _bulk_get without results") from None
    out: dict[str, dict[str, Any]] = {}
    for one in got:
        for found in one.docs:
            if found.ok is not None and not found.ok.get("_deleted"):
                out[one.id] = found.ok
    return out


async def fill(
    loader: Loader,
    dbs: list[MonthDb],
    rows: list[tuple[int, DocRow]],
    slots: asyncio.Semaphore | None = None,
) -> None:
    """Give each row (of MoDB ``dbs[n]``) its document: every MoDB's ids, a batch a
    request, all at once (the account's CouchDB share bounds them; ``slots``: and they,
    taken in the order asked)."""
    wanted: dict[int, dict[str, None]] = {}
    for n, row in rows:
        if row.doc is None:
            wanted.setdefault(n, {})[row.id] = None

    async def one(n: int, ids: list[str]) -> tuple[int, dict[str, dict[str, Any]]]:
        async with slots or nullcontext():
            raw = await loader.docs(dbs[n], ids)
        return n, await offload.run(len(raw) <= offload.SMALL_ANSWER, documents, raw)

    batches = []
    for n, found in wanted.items():
        ids = list(found)
        batches += [one(n, ids[i : i + DOC_BATCH]) for i in range(0, len(ids), DOC_BATCH)]
    got: dict[int, dict[str, dict[str, Any]]] = {}
    for n, docs in await every(batches):
        got.setdefault(n, {}).update(docs)
    for n, row in rows:
        if row.doc is None:
            row.doc = got.get(n, {}).get(row.id)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def clock(zone: str) -> Callable[[int], str]:
    """Gregorian seconds -> ISO 8601 with the zone's offset at that moment."""
    tz = _zone(zone)

    def when(at: int) -> str:
        return datetime.fromtimestamp(at - GREGORIAN_OFFSET, tz).isoformat()

    return when


def slot(at: int) -> tuple[str, int, int]:
    """The views' UTC slot of a Gregorian second: ("YYYYMMDD", hour, quarter)."""
    t = datetime.fromtimestamp(at - GREGORIAN_OFFSET, UTC)
    return f"{t.year:04d}{t.month:02d}{t.day:02d}", t.hour, t.minute // 15


@dataclass(frozen=True)
class Window:
    """The Gregorian seconds ``[low, high)`` whose rows the request lists."""

    low: int
    high: int


def window(req: RecordRequest, now: int | None = None) -> Window:
    """The range (or the bucket of it), in the request's zone; ``now``: never past it."""
    buckets = plan(req.start, req.end, req.period or "daily", req.timezone)
    line = timeline(buckets)
    low, high = line.start, line.end
    if req.bucket is not None:
        number = buckets.buckets.index(req.bucket)
        spans = [i for i, b in enumerate(line.bucket_of) if b == number]
        low, high = line.edges[spans[0]], line.edges[spans[-1] + 1]
    return Window(low, high if now is None else min(high, now))


async def _read(loader: Loader, month: MonthDb, view: str, params: dict[str, Any]) -> list[DocRow]:
    """The view's rows, keys and ids (their documents come with :func:`fill`, or with
    ``include_docs`` in ``params`` for a read of a row or two)."""
    raw = await loader.read(Query(month, view, {"reduce": False, **params}))
    # the documents' request waits for the keys: never behind the rows before being written
    return await offload.run_first(len(raw) <= offload.SMALL_ANSWER, parse, raw)


Group = tuple[tuple[Any, ...], list[DocRow]]


async def groups(
    loader: Loader,
    month: MonthDb,
    view: str,
    low: list[Any],
    high: list[Any],
    first: int,
    prefetch: int = 0,
    resume: bool = False,
) -> AsyncGenerator[list[Group], None]:
    """One MoDB's rows of ``[low, high]`` in key order, whole keys at a time, as the runs of
    keys each read completes, read when asked for (a page). ``prefetch``: the documents of a
    read's first rows are asked for as soon as its keys are in, beside the other MoDBs'
    reads, not after them all; ``resume`` (a page from a ``start_key``): with those of every
    row of ``low``, the start key's slot, as it is reread to be dropped up to the place."""

    async def with_docs(params: dict[str, Any]) -> list[DocRow]:
        rows = await _read(loader, month, view, {"endkey": high, **params})
        if prefetch:
            wanted = _head(rows, prefetch, low if resume else None)
            await fill(loader, [month], [(0, row) for row in wanted])
        return rows

    limit = first
    nxt: asyncio.Future[list[DocRow]] | None = None
    try:
        while True:
            nxt = asyncio.ensure_future(with_docs({"startkey": low, "limit": limit}))
            rows = await nxt
            if len(rows) < limit:
                if rows:
                    yield _grouped(rows)
                return
            last = list(rows[-1].key)
            cut = _cut(rows)
            if cut:
                yield _grouped(rows[:cut])
            nxt = asyncio.ensure_future(with_docs({"startkey": last, "endkey": last}))
            yield [(tuple(last), await nxt)]
            low, limit = [*last, HIGH], min(BATCH, 2 * limit)
    finally:
        if nxt is not None:
            nxt.cancel()


def _cut(rows: list[DocRow]) -> int:
    """Where the rows of a read's last key begin: the read may end inside that key."""
    cut = len(rows) - 1
    while cut > 0 and rows[cut - 1].key == rows[-1].key:
        cut -= 1
    return cut


async def ahead(
    loader: Loader,
    month: MonthDb,
    view: str,
    low: list[Any],
    high: list[Any],
    first: int,
    slots: asyncio.Semaphore,
    eager: bool = False,
) -> AsyncGenerator[list[Group], None]:
    """As :func:`groups`, every row with its document (CSV), read ahead: once the MoDB's
    first rows are taken, the next read is sent as soon as the one before is in and its
    documents asked for at once, up to ``AHEAD`` reads ahead of the rows being written out,
    so CouchDB always has documents to read; ``slots`` bound the ``_bulk_get`` requests in
    flight, taken in the order asked, so the rows written out next come in first. A MoDB
    whose rows are not yet taken (the months after the one being written out) holds the
    keys of its first read only (the documents of those rows are read as they are written
    out), so memory stays flat however many months the range spans; ``eager`` (the range's
    first MoDB, whose rows are taken first): it reads ahead, with documents, at once."""
    done: asyncio.Queue[tuple[list[DocRow], asyncio.Future[None]] | BaseException | None]
    done = asyncio.Queue()
    room = asyncio.Semaphore(1 + AHEAD if eager else 1)  # not eager: the first read alone
    taken = eager

    async def read() -> None:
        start, limit = low, first
        keys_only = not eager  # until taken: the rows' documents come when they are written
        try:
            while True:
                await room.acquire()
                rows = await _read(
                    loader, month, view, {"startkey": start, "endkey": high, "limit": limit}
                )
                full = len(rows) == limit
                if full:  # the last key read whole
                    last = list(rows[-1].key)
                    rows = rows[: _cut(rows)] + await _read(
                        loader, month, view, {"startkey": last, "endkey": last}
                    )
                    start, limit = [*last, HIGH], min(BATCH, 2 * limit)
                wanted = [] if keys_only else [(0, r) for r in rows]
                docs = asyncio.ensure_future(fill(loader, [month], wanted, slots))
                done.put_nowait((rows, docs))
                keys_only = False
                if not full:
                    done.put_nowait(None)
                    return
        except Exception as e:  # handed to the reader of the rows, in their order
            done.put_nowait(e)

    reading = asyncio.ensure_future(read())
    try:
        while (got := await done.get()) is not None:
            if isinstance(got, BaseException):
                raise got
            rows, docs = got
            await docs
            if rows:
                yield _grouped(rows)
            if not taken:
                taken = True
                for _ in range(AHEAD):
                    room.release()
            room.release()
    finally:
        reading.cancel()
        while not done.empty():
            got = done.get_nowait()
            if isinstance(got, tuple):
                got[1].cancel()
                if got[1].done() and not got[1].cancelled():
                    got[1].exception()  # retrieved: nobody will read these rows now


def _head(rows: list[DocRow], count: int, low: list[Any] | None = None) -> list[DocRow]:
    """The first ``count`` rows and the rest of the last one's key: a key's rows are put in
    order by their documents, so a page that ends inside a key needs them all (one
    ``_bulk_get``, not a second one for the key's last rows). Rows of the key ``low`` come
    on top of the ``count``."""
    start = 0
    while low is not None and start < len(rows) and list(rows[start].key) == low:
        start += 1
    end = min(start + count, len(rows))
    while 0 < end < len(rows) and rows[end].key == rows[end - 1].key:
        end += 1
    return rows[:end]


def _grouped(rows: list[DocRow]) -> list[Group]:
    out: list[Group] = []
    for row in rows:
        if out and out[-1][0] == row.key:
            out[-1][1].append(row)
        else:
            out.append((tuple(row.key), [row]))
    return out


Merged = list[list[tuple[int, DocRow]]]  # keys in order, each its rows and their MoDB


async def merged(streams: list[AsyncGenerator[list[Group], None]]) -> AsyncGenerator[Merged, None]:
    """The keys of every MoDB merged in order, each key's rows with their MoDB's number, a
    run at a time: as far as every MoDB's rows read so far go. A MoDB is read again only
    when the next run is asked for, so a page that is full reads nothing more."""
    try:
        firsts = await every([anext(s, None) for s in streams])
        bufs: list[deque[Group] | None] = [deque(b) if b else None for b in firsts]
        while True:
            empty = [i for i, b in enumerate(bufs) if b is not None and not b]
            if empty:
                refills = await every([anext(streams[i], None) for i in empty])
                for i, got in zip(empty, refills, strict=True):
                    bufs[i] = deque(got) if got else None
            live = [b for b in bufs if b is not None]
            if not live:
                return
            run: Merged = []
            while live and all(live):  # every MoDB's next key is known
                key = min(b[0][0] for b in live)
                rows: list[tuple[int, DocRow]] = []
                for i, b in enumerate(bufs):
                    if b and b[0][0] == key:
                        rows.extend((i, row) for row in b.popleft()[1])
                run.append(rows)
            yield run
    finally:  # the reads still in flight are not waited for
        for stream in streams:
            await stream.aclose()


async def entities(loader: Loader, dbs: list[MonthDb], view: str) -> list[str]:
    """Every entity with a row in any of the MoDBs, sorted: the view's reduce, by entity."""

    async def one(month: MonthDb) -> set[str]:
        raw = await loader.read(Query(month, view, {"group_level": 1}))
        return {r.key[0] for r in _GROUPED.decode(raw).rows if isinstance(r.key[0], str)}

    found = await every([one(m) for m in dbs])
    return sorted(set[str]().union(*found))


class _KeyRow(msgspec.Struct, gc=False):
    key: tuple[Any, ...]


class _Grouped(msgspec.Struct, gc=False):
    rows: list[_KeyRow]


_GROUPED = msgspec.json.Decoder(_Grouped)


@dataclass
class Reader:
    """The rows of one record request, in order, batch by batch (:meth:`rows`)."""

    loader: Loader
    account_id: str
    req: RecordRequest
    now: int
    first: int = FIRST_BATCH
    want: int | None = None  # rows the reader is asked for (a page's); None: every row
    prefetch: int = 0  # documents of each MoDB's first rows read with its keys (a page)
    made: int = 0  # rows handed on so far
    docs_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(DOCS_AHEAD))

    def __post_init__(self) -> None:
        req = self.req
        self.view = VIEWS[req.report]
        self.win = window(req, self.now if req.report == "agent_intervals" else None)
        self.when = clock(req.timezone)
        self.values = frozenset(req.values) if req.values is not None else None
        self.queues = frozenset(req.queue_ids) if req.queue_ids is not None else None
        low = self.win.low - (CAP if req.report == "agent_intervals" else 0)
        self.dbs = months(self.account_id, low, self.win.high) if self.win.high > low else []

    async def rows(self, after: Place | None) -> AsyncGenerator[list[Ranked], None]:
        """Every row past ``after`` (None: from the first), in order, a batch at a time."""
        if not self.dbs or self.win.high <= self.win.low:
            return
        ids = self.req.identifiers
        wanted = list(ids) if ids is not None else await entities(self.loader, self.dbs, self.view)
        read = self._intervals if self.req.report == "agent_intervals" else self._calls
        each = (
            read(entity, after if after is not None and after[0] == entity else None)
            for entity in wanted
            if after is None or entity >= after[0]
        )
        # every row (CSV): the next entity's first rows are read while this one's are taken
        chained = _one_ahead(each) if self.want is None else _in_turn(each)
        async with aclosing(chained) as batches:
            async for batch in batches:
                if batch:
                    yield batch

    async def _open_at(self, agent: str, at: int) -> Event | None:
        """The event whose state is open at ``at``: the agent's last of the 12 hours before
        (of several at its last second, the last in order), one short read backwards per
        MoDB, instead of reading 12 hours of events forwards."""

        async def last(month: MonthDb) -> DocRow | None:
            params = {
                "descending": True,
                "limit": 1,
                "startkey": [agent, at - 1, HIGH],
                "endkey": [agent, at - CAP],
                "include_docs": True,  # one row: its document in the same request
            }
            rows = await _read(self.loader, month, self.view, params)
            return rows[0] if rows else None

        found = [r for r in await every([last(m) for m in self.dbs]) if r is not None]
        if not found:
            return None
        row = max(found, key=lambda r: (tuple(r.key), r.id))
        _, when, code = row.key
        return Event(agent, when, STATUSES[code], row.id, row.doc)

    async def _filled(self, run: Merged) -> AsyncIterator[Merged]:
        """The run's keys with their rows' documents, some keys at a time: for a page only as
        many keys as the rows it still wants (more only when the filters drop some) and none
        past the page's end, else all at once."""
        i = 0
        while i < len(run):
            j, rows = i, 0
            if self.want is None:
                j = len(run)
            elif self.made >= self.want:
                return  # the page is full: the rest of the run is not read
            else:
                need = self.want - self.made
                while j < len(run) and rows < need:
                    rows += len(run[j])
                    j += 1
            await fill(self.loader, self.dbs, [r for key in run[i:j] for r in key])
            yield run[i:j]
            i = j

    def _streams(
        self, low: list[Any], high: list[Any], resume: bool
    ) -> list[AsyncGenerator[list[Group], None]]:
        if self.want is None:  # every row (CSV): read ahead
            args = (low, high, self.first, self.docs_slots)
            return [ahead(self.loader, m, self.view, *args, n == 0) for n, m in enumerate(self.dbs)]
        return [
            groups(self.loader, m, self.view, low, high, self.first, self.prefetch, resume)
            for m in self.dbs
        ]

    async def _calls(self, entity: str, after: Place | None) -> AsyncGenerator[list[Ranked], None]:
        """Visits of a queue or offers to a recipient, key by key."""
        win = self.win
        start = max(win.low, after[1]) if after is not None else win.low
        low, high = [entity, *slot(start)], [entity, *slot(win.high - 1)]
        pick = self._visits if self.req.report == "visits" else self._offers
        async with aclosing(merged(self._streams(low, high, after is not None))) as runs:
            async for run in runs:
                out: list[Ranked] = []
                async for keys in self._filled(run):
                    small = sum(map(len, keys)) <= SMALL_ROWS
                    mine = await offload.run(small, _ranked, pick, entity, keys, after)
                    out += mine
                    self.made += len(mine)
                yield out

    def _visits(self, queue: str, row: DocRow) -> list[Ranked]:
        v = visit_of(row.doc)
        req, win = self.req, self.win
        if v is None or v.queue != queue or not win.low <= v.entered < win.high:
            return []
        if self.values is not None and v.result not in self.values:
            return []
        if (req.wait_min is not None and v.wait < req.wait_min) or (
            req.wait_max is not None and v.wait > req.wait_max
        ):
            return []
        return [((queue, v.entered, "", row.id, 0), visit_row(v, self.when))]

    def _offers(self, recipient: str, row: DocRow) -> list[Ranked]:
        v = visit_of(row.doc)
        win = self.win
        if v is None or (self.queues is not None and v.queue not in self.queues):
            return []
        here = tuple(row.key[1:])  # the view's slot: the document's other offers have theirs
        return [
            ((recipient, o.at, "", row.id, o.place), offer_row(v, o, self.when))
            for o in v.offers
            if o.recipient == recipient
            and win.low <= o.at < win.high
            and slot(o.at) == here
            and (self.values is None or o.result in self.values)
        ]

    async def _intervals(
        self, agent: str, after: Place | None
    ) -> AsyncGenerator[list[Ranked], None]:
        """An agent's events from 12 hours before the window (the state at its start), or
        from the event of ``after``, folded into intervals."""
        win = self.win
        fold = Intervals(win.low, win.high, self.when, after, self.values)
        if after is not None:
            low: list[Any] = [agent, after[1], STATUSES.index(after[2])]
        else:
            low = [agent, win.low]
        streams = self._streams(low, [agent, win.high - 1, HIGH], after is not None)
        async with aclosing(merged(streams)) as source:
            batches: AsyncIterator[Merged] = source
            if after is None:  # the state open at the window's start, beside the first rows
                opening_task = asyncio.ensure_future(self._open_at(agent, win.low))
                try:
                    head = await anext(source, None)
                    opening = await opening_task
                finally:
                    opening_task.cancel()
                if opening is not None:
                    fold.add(opening)
                if head is not None:
                    batches = _chain(head, source)
            async for run in batches:
                out: list[Ranked] = []
                async for keys in self._filled(run):
                    small = sum(map(len, keys)) <= SMALL_ROWS
                    mine = await offload.run(small, _folded, fold, agent, keys)
                    out += mine
                    self.made += len(mine)
                yield out
        last = fold.close()
        if last is not None:
            yield [last]


def _ranked(
    pick: Callable[[str, DocRow], list[Ranked]],
    entity: str,
    keys: Merged,
    after: Place | None,
) -> list[Ranked]:
    """The keys' visits or offers past ``after``, in order (a key's rows are in the order
    of their ids, not of their times)."""
    out: list[Ranked] = []
    for rows in keys:
        mine: list[Ranked] = []
        seen: set[tuple[int, str]] = set()
        for n, row in rows:
            if (n, row.id) in seen:
                continue  # a document with two offers to one recipient in one slot
            seen.add((n, row.id))
            mine.extend(r for r in pick(entity, row) if after is None or r[0] > after)
        mine.sort(key=lambda r: r[0])
        out += mine
    return out


def _folded(fold: Intervals, agent: str, keys: Merged) -> list[Ranked]:
    """The intervals the keys' events end (of one key: in the order of their ids)."""
    out: list[Ranked] = []
    for rows in keys:
        for _, row in sorted(rows, key=lambda r: r[1].id):
            _, at, code = row.key
            ranked = fold.add(Event(agent, at, STATUSES[code], row.id, row.doc))
            if ranked is not None:
                out.append(ranked)
    return out


async def _in_turn(gens: Iterator[AsyncGenerator[T, None]]) -> AsyncGenerator[T, None]:
    """Every item of each generator, one generator after the other."""
    for gen in gens:
        async with aclosing(gen):
            async for item in gen:
                yield item


async def _one_ahead(gens: Iterator[AsyncGenerator[T, None]]) -> AsyncGenerator[T, None]:
    """As :func:`_in_turn`, with each generator's first item asked for as soon as the one
    before is begun: its reads overlap the rows before (one first batch more in memory)."""

    def begin(gen: AsyncGenerator[T, None] | None) -> asyncio.Future[T | None] | None:
        return None if gen is None else asyncio.ensure_future(anext(gen, None))

    async def end(
        gen: AsyncGenerator[T, None] | None, head: asyncio.Future[T | None] | None
    ) -> None:
        if head is not None:  # a generator's step must be over before it can be closed
            head.cancel()
            await asyncio.gather(head, return_exceptions=True)
        if gen is not None:
            await gen.aclose()

    gen = next(gens, None)
    first = begin(gen)
    try:
        while gen is not None:
            here, head = gen, first
            gen = next(gens, None)
            first = begin(gen)
            try:
                item = await head if head is not None else None
                if item is not None:
                    yield item
                    async for item in here:
                        yield item
            finally:
                await end(here, head)
    finally:
        await end(gen, first)


async def _chain(first: T, rest: AsyncIterator[T]) -> AsyncIterator[T]:
    yield first
    async for item in rest:
        yield item


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    next_start_key: str | None


async def read_page(loader: Loader, account_id: str, req: RecordRequest, now: int) -> Page:
    """One page (``page_size`` rows, 8c) and the key of the next, if there are more rows."""
    size = req.page_size or DEFAULT_PAGE_SIZE
    # a read that ends inside a key reads that key again, whole: a few rows more than the
    # page needs usually end the page inside the read's complete keys instead
    # (and a page that goes on from a start_key rereads the rows of its key up to that place);
    # agent events are keyed to the second: a few more for the logged-out states (no rows)
    slack = max(8, size // 8) * (2 if req.start_key is not None else 1)
    if req.report == "agent_intervals":
        slack = 8
    # the documents of the page's rows are asked for with its keys (from a start_key, with
    # those of its key's rows, read to be dropped up to that place)
    reader = Reader(
        loader, account_id, req, now, first=size + 1 + slack, want=size + 1, prefetch=size + 1
    )
    out: list[Ranked] = []
    async with aclosing(reader.rows(req.start_key)) as batches:
        async for batch in batches:
            out.extend(batch)
            if len(out) > size:
                break
    more = len(out) > size
    return Page(
        [row for _, row in out[:size]],
        encode(req.report, out[size - 1][0]) if more else None,
    )


async def first_batch(
    loader: Loader, account_id: str, req: RecordRequest, now: int
) -> tuple[list[Row], AsyncGenerator[list[Ranked], None]]:
    """Every row (CSV): the first batch read now (so a failure is still an error answer),
    and the rest as they are read."""
    stream = Reader(loader, account_id, req, now, first=CSV_FIRST_BATCH).rows(req.start_key)
    try:
        batch: list[Ranked] = await anext(stream, [])
    except BaseException:
        await stream.aclose()
        raise
    return [row for _, row in batch], stream
