"""A loopback CouchDB-protocol server that answers view queries with canned bytes.

The service's own cost (parse, merge, render) is measured against it without a CouchDB
(issue 11): it does no work per request beyond a dict lookup, so a report's time is the
service's. Answers come from a recording (:class:`Recorder`, a proxy in front of a real
CouchDB or the stand-in that keeps every GET answer byte for byte) or from :class:`Synth`
(view answers generated once per query, with the key shapes and value layouts of our design
doc, formatted as CouchDB 3 formats them). What a service asks besides view queries is
answered as CouchDB would: database info, the design doc it installs (kept in memory), the
index's ``_info``, the account document of the token's account.
"""

from __future__ import annotations

import asyncio
import calendar
import random
import threading
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl, unquote

import aiohttp
import orjson
from aiohttp import web

from app.couch.modb import months_between, parse_db_name
from app.couch.nodes import split_url
from app.report.metrics import THRESHOLDS

Key = tuple[str, str]  # (path with every segment decoded, canonical query)
Answer = tuple[int, bytes]  # status, body (JSON)
ROWS_HEAD, ROWS_SEP, ROWS_TAIL = b'{"rows":[\r\n', b",\r\n", b"\r\n]}\n"  # CouchDB 3's framing


def _segments(raw_path: str) -> list[str]:
    return [unquote(s) for s in raw_path.split("?", 1)[0].split("/") if s]


def canonical(raw_path: str, query: Iterable[tuple[str, str]]) -> Key:
    """One key per request whatever the encoding and parameter order."""
    return "/".join(_segments(raw_path)), "&".join(f"{k}={v}" for k, v in sorted(query))


def couch_answer(rows: Iterable[bytes]) -> bytes:
    """A reduced view's body as CouchDB 3 sends it, from each row's compact JSON."""
    rows = list(rows)
    return ROWS_HEAD + ROWS_SEP.join(rows) + (ROWS_TAIL if rows else b"]}\n")


# -- synthetic answers ------------------------------------------------------------------------

CACHED_DAYS = 20_000  # (entity, day) series kept by a Synth: 60 agents x 92 days x 3 kinds

_COLLATION = {type(None): 0, bool: 1, int: 2, float: 2, str: 3, list: 4, tuple: 4, dict: 5}


def collate(key: Any) -> tuple[Any, ...]:
    """A sort key in CouchDB's collation order (null < bools < numbers < strings < arrays <
    objects); ids are ASCII here, so code-point order stands in for ICU's."""
    rank = _COLLATION[type(key)]
    if rank in (0, 5):
        return (rank,)
    if rank == 4:
        return (rank, tuple(collate(k) for k in key))
    return (rank, key)


@dataclass(frozen=True)
class Shape:
    """What a view of our design doc emits: key width before the day, value kind."""

    entity_width: int  # 1: [entity, day, ...]; 2: [queue, recipient, day, ...]
    value: str  # "visits" | "waits" | "offers"


SHAPES = {
    "queue_visits": Shape(1, "visits"),
    "queue_waits": Shape(1, "waits"),
    "offers_by_recipient": Shape(1, "offers"),
    "offers_by_queue_recipient": Shape(2, "offers"),
}


def _shape(view: str) -> tuple[Shape, bool] | None:
    """(shape, quarter resolution) of a view name of our design doc."""
    stem, _, resolution = view.rpartition("_by_")
    shape = SHAPES.get(stem)
    return (
        None
        if shape is None or resolution not in ("day", "quarter")
        else (shape, resolution == "quarter")
    )


def _visit_values(rng: random.Random, kind: str) -> list[Any]:
    """One quarter hour's reduced value of a queue: 1-4 visits, waits as KAZOO's look; in the
    queue_visits layout (visits, wait, timeouts, abandons, answered wait, abandoned wait, wait
    bands) or as _stats of the waits."""
    visits = rng.choice((1, 1, 2, 2, 3, 4))
    out = [0] * (6 + len(THRESHOLDS))
    waits = []
    for _ in range(visits):
        wait = int(rng.expovariate(1 / 35)) + 1
        waits.append(wait)
        result = rng.random()
        out[0] += 1
        out[1] += wait
        if result < 0.05:
            out[2] += 1  # timeout
        elif result < 0.15:
            out[3] += 1  # abandoned
            out[5] += wait
        else:
            out[4] += wait
            band = next((i for i, t in enumerate(THRESHOLDS) if wait <= t), None)
            if band is not None:
                out[6 + band] += 1
    if kind == "visits":
        return out
    return [len(waits), sum(waits), min(waits), max(waits), sum(w * w for w in waits)]


def _offer_values(rng: random.Random) -> list[int]:
    """[answered, talk, ring, rung, missed, rejected] of 1-3 offers."""
    out = [0] * 6
    for _ in range(rng.choice((1, 1, 2, 3))):
        r = rng.random()
        if r < 0.72:
            out[0] += 1
            out[1] += rng.randint(20, 600)
            out[2] += rng.randint(2, 25)
            out[3] += 1
        elif r < 0.92:
            out[4] += 1
        else:
            out[5] += 1
    return out


def _combine(kind: str, a: list[Any], b: list[Any]) -> list[Any]:
    if kind != "waits":
        return [x + y for x, y in zip(a, b, strict=True)]
    return [a[0] + b[0], a[1] + b[1], min(a[2], b[2]), max(a[3], b[3]), a[4] + b[4]]


def _value_json(kind: str, v: list[Any]) -> Any:
    if kind != "waits":  # trailing zeros dropped, as the views emit them
        n = len(v)
        while n and v[n - 1] == 0:
            n -= 1
        return v[:n]
    return {"sum": v[1], "count": v[0], "min": v[2], "max": v[3], "sumsqr": v[4]}


@dataclass
class Synth:
    """Deterministic view answers for an account's MoDBs from ``first`` to ``last`` (days).

    Every (entity, UTC hour) has 1-4 quarter hours with data (2.24 on average: 56% of the
    quarter rows a fully busy view would have), like a contact centre open around the
    clock; each quarter holds a few visits or offers. Answers are generated on first ask
    and kept, so a timed request costs the server a lookup.
    """

    account_id: str
    first: date
    last: date
    queues: Sequence[str]
    recipients: Sequence[str]
    seed: int = 11
    _answers: dict[Key, bytes] = field(default_factory=dict, repr=False)
    _days_made: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)

    @cached_property
    def months(self) -> set[tuple[int, int]]:
        return set(months_between(self.first, self.last))

    def has_db(self, db: str) -> bool:
        parsed = parse_db_name(db)
        return (
            parsed is not None
            and parsed[0] == self.account_id
            and (parsed[1] is None or (parsed[1], parsed[2]) in self.months)
        )

    def answer(self, key: Key, db: str, view: str, params: dict[str, Any]) -> bytes | None:
        cached = self._answers.get(key)
        if cached is None:
            made = self._make(db, view, params)
            if made is None:
                return None
            cached = self._answers[key] = made
        return cached

    def _days(self, db: str) -> list[str]:
        _, year, month = parse_db_name(db)  # type: ignore[misc]
        n = calendar.monthrange(year, month)[1]  # type: ignore[arg-type]
        days = [date(year, month, d) for d in range(1, n + 1)]  # type: ignore[arg-type]
        return [f"{d:%Y%m%d}" for d in days if self.first <= d <= self.last]

    def _quarters(self, seed_key: str, kind: str, busy: float) -> list[tuple[int, int, list[Any]]]:
        """(hour, quarter, value) of one entity's UTC day, in key order; kept while the
        account is small, so answers over other ranges and levels cost no generation."""
        found = self._days_made.get((seed_key, kind))
        if found is None:
            found = self._generate(seed_key, kind, busy)
            if len(self._days_made) < CACHED_DAYS:
                self._days_made[(seed_key, kind)] = found
        return found

    def _generate(self, seed_key: str, kind: str, busy: float) -> list[tuple[int, int, list[Any]]]:
        rng = random.Random(zlib.crc32(f"{self.seed}|{seed_key}".encode()))
        out = []
        for hour in range(24):
            if rng.random() >= busy:
                continue
            k = rng.choices((1, 2, 3, 4), (25, 35, 31, 9))[0]
            for q in sorted(rng.sample(range(4), k)):
                value = _offer_values(rng) if kind == "offers" else _visit_values(rng, kind)
                out.append((hour, q, value))
        return out

    def _make(self, db: str, view: str, params: dict[str, Any]) -> bytes | None:
        found = _shape(view)
        if found is None or not self.has_db(db) or parse_db_name(db)[1] is None:  # type: ignore[index]
            return None
        shape, quarter = found
        level = params.get("group_level", 99 if params.get("group") else 0)
        if params.get("reduce") is False or not isinstance(level, int) or level < 1:
            return None  # only grouped reduced reads are canned
        entities: list[tuple[str, ...]]
        if shape.entity_width == 1:
            ids = self.recipients if shape.value == "offers" else self.queues
            entities = [(e,) for e in sorted(ids)]
            busy = 1.0
        else:
            entities = [(q, r) for q in sorted(self.queues) for r in sorted(self.recipients)]
            busy = min(1.0, 3.0 / max(1, len(self.queues)))  # an agent serves ~3 queues an hour
        low = collate(params["startkey"]) if "startkey" in params else None
        high = collate(params["endkey"]) if "endkey" in params else None
        rows: list[bytes] = []
        for entity in entities:
            if low is not None and collate([*entity, {}]) < low:
                continue
            if high is not None and collate(list(entity)) > high:
                continue
            for day in self._days(db):
                grouped: dict[tuple[Any, ...], list[Any]] = {}
                for hour, q, value in self._quarters("|".join((*entity, day)), shape.value, busy):
                    full = [*entity, day, *((hour, q) if quarter else ())]
                    fk = collate(full)
                    if (low is not None and fk < low) or (high is not None and fk > high):
                        continue
                    gk = tuple(full[:level])
                    old = grouped.get(gk)
                    grouped[gk] = value if old is None else _combine(shape.value, old, value)
                for gk, value in grouped.items():
                    row = {"key": list(gk), "value": _value_json(shape.value, value)}
                    rows.append(orjson.dumps(row))
        return couch_answer(rows)


# -- the server -------------------------------------------------------------------------------


def _json(status: int, body: Any) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


NOT_FOUND = {"error": "not_found", "reason": "missing"}
NO_DB = {"error": "not_found", "reason": "Database does not exist."}


@dataclass
class Replay:
    """What the server answers: recorded answers first, then the synthetic ones."""

    recorded: dict[Key, Answer] = field(default_factory=dict)
    synth: Synth | None = None
    strict: bool = True  # a view query with no answer is a 500 (a test must not pass quietly)
    design_docs: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    served: int = 0  # view answers served
    rows_served: int = 0  # rows in them
    _row_counts: dict[Key, int] = field(default_factory=dict, repr=False)
    missing: list[Key] = field(default_factory=list)

    def _db_exists(self, db: str) -> bool:
        if self.synth is not None and self.synth.has_db(db):
            return True
        return any(path == db or path.startswith(db + "/") for path, _ in self.recorded)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        query = list(parse_qsl(request.query_string, keep_blank_values=True))
        key = canonical(request.raw_path, query)
        segs = _segments(request.raw_path)
        if request.method == "GET" and key in self.recorded:
            status, body = self.recorded[key]
            if len(segs) == 5 and segs[3] == "_view":
                self._count(key, body)
            return web.Response(status=status, body=body, content_type="application/json")
        if not segs:
            return _json(
                200, {"couchdb": "Welcome", "version": "3.4.3", "vendor": {"name": "replay"}}
            )
        if segs[0] == "_up":
            return _json(200, {"status": "ok"})
        if segs[0] == "_active_tasks":
            return _json(200, [])
        db = segs[0]
        if not self._db_exists(db):
            return _json(404, NO_DB)
        if len(segs) == 1:
            return _json(200, {"db_name": db, "update_seq": "1-replay", "doc_count": 1})
        if segs[1] == "_design" and len(segs) == 3:
            return await self._design_doc(request, db, segs[2])
        if segs[1] == "_design" and len(segs) == 4 and segs[3] == "_info":
            index = {"updater_running": False, "update_seq": 1, "compact_running": False}
            return _json(200, {"name": segs[2], "view_index": index})
        if segs[1] == "_design" and len(segs) == 5 and segs[3] == "_view":
            params = {k: _param(v) for k, v in query}
            body = None
            if self.synth is not None:
                body = await asyncio.to_thread(self.synth.answer, key, db, segs[4], params)
            if body is None:
                self.missing.append(key)
                if self.strict:
                    return _json(500, {"error": "replay", "reason": f"no answer for {key}"})
                return _json(404, NOT_FOUND)
            self._count(key, body)
            return web.Response(body=body, content_type="application/json")
        if len(segs) == 2 and parse_db_name(db) is not None and parse_db_name(db)[1] is None:  # type: ignore[index]
            return _json(
                200, {"_id": segs[1], "_rev": "1-replay", "pvt_type": "account", "pvt_tree": []}
            )
        return _json(404, NOT_FOUND)

    def _count(self, key: Key, body: bytes) -> None:
        n = self._row_counts.get(key)
        if n is None:
            n = self._row_counts[key] = body.count(b'{"key":')
        self.served += 1
        self.rows_served += n

    async def _design_doc(self, request: web.Request, db: str, ddoc: str) -> web.Response:
        at = (db, ddoc)
        if request.method == "GET":
            doc = self.design_docs.get(at)
            return _json(200, doc) if doc is not None else _json(404, NOT_FOUND)
        if request.method == "PUT":
            doc = orjson.loads(await request.read())
            n = int(str(self.design_docs.get(at, {}).get("_rev", "0-")).split("-")[0]) + 1
            doc["_rev"] = f"{n}-replay"
            self.design_docs[at] = doc
            return _json(201, {"ok": True, "id": f"_design/{ddoc}", "rev": doc["_rev"]})
        return _json(405, {"error": "method_not_allowed", "reason": request.method})


def _param(value: str) -> Any:
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return value


def make_app(replay: Replay) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", replay.handle)
    return app


class Recorder:
    """A proxy in front of ``upstream`` that keeps every GET answer as it was sent."""

    def __init__(self, upstream: str) -> None:
        self.upstream = split_url(upstream)[0].rstrip("/")  # credentials: the asker's header
        self.recorded: dict[Key, Answer] = {}
        self._session: aiohttp.ClientSession | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self._session is None:
            self._session = aiohttp.ClientSession(auto_decompress=False)
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() in ("authorization", "accept", "content-type")
        }
        headers["Accept-Encoding"] = "identity"  # kept as the body CouchDB writes
        body = await request.read() if request.can_read_body else None
        async with self._session.request(
            request.method,
            aiohttp.client.URL(self.upstream + request.raw_path, encoded=True),
            headers=headers,
            data=body,
        ) as resp:
            raw = await resp.read()
            if request.method == "GET" and resp.status in (200, 404):
                query = parse_qsl(request.query_string, keep_blank_values=True)
                self.recorded[canonical(request.raw_path, query)] = (resp.status, raw)
            return web.Response(
                status=resp.status, body=raw, content_type=resp.content_type or "application/json"
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def recorder_app(recorder: Recorder) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", recorder.handle)

    async def close(_: web.Application) -> None:
        await recorder.close()

    app.on_cleanup.append(close)
    return app


class Loopback:
    """An aiohttp app served on 127.0.0.1 by a thread of its own (its own event loop), so
    a caller's loop, or a blocking caller, does not slow its answers."""

    def __init__(self, app: web.Application, port: int = 0) -> None:
        self.app = app
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Loopback:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(30)
        return self

    async def _start(self) -> None:
        # closing, a request still in flight is given 2 s, then cancelled: a proxied
        # longpoll (the service's _db_updates follower) would otherwise hold the close for
        # its whole timeout, past the 30 s this waits for it
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def __exit__(self, *exc: object) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
