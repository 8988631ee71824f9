"""The one place that talks to CouchDB: one node, or several nodes of one cluster.

aiocouch owns the pooled HTTP session (keep-alive), but two of its bugs bite us
(COUCH_FACTS.md): reduce queries raise ``TypeError`` in ``View.get()`` and ``_all_docs``
forgets to encode ``account/...`` names. So every request goes through :meth:`Couch.request`
here, over aiocouch's session, with names encoded and JSON query parameters serialised by us,
and bodies parsed with orjson. Every transport failure becomes a :class:`CouchUnavailable`, so
callers never see a half-read answer as a whole one.

``COUCHDB_URL`` may list several nodes of one cluster, comma-separated. Requests go to the
first node not marked down; a node that cannot be connected to (or cuts an answer) is marked
down for ``node_retry`` seconds and the request moves on to the next (a *failover*: nothing
was sent, so any method may move). A read (GET/HEAD) that was sent but cut off mid-answer, reset
or answered 5xx is sent once more (a *retry*), to another node where there is one. Timeouts
are not retried: a slow CouchDB would only be asked twice as long.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson
from aiocouch import CouchDB
from yarl import URL

from app.couch.modb import encode
from app.telemetry import Telemetry

JSON_PARAMS = frozenset({"key", "keys", "startkey", "endkey", "start_key", "end_key"})


class CouchError(Exception):
    """CouchDB answered, but not with what we asked for."""

    def __init__(self, status: int, error: str, reason: str) -> None:
        super().__init__(f"{status} {error}: {reason}")
        self.status = status
        self.error = error
        self.reason = reason


class CouchUnavailable(Exception):
    """CouchDB could not be reached, timed out, failed (5xx) or cut the answer short."""


@dataclass(frozen=True)
class IndexState:
    """How far CouchDB has built a design doc's index in one database."""

    db: str
    building: bool  # not up to date: a query now waits for (or starts) the build
    progress: int | None  # percent done, when known
    indexed_seq: int | None  # the index's update_seq (number part)
    db_seq: int | None  # the database's update_seq (number part)
    source: str  # "_active_tasks" or "_info"
    running: bool = False  # CouchDB says an indexer is at work on it right now


class IndexBuilding(Exception):
    """A view query waits for an index CouchDB is still building (the build goes on)."""

    def __init__(self, state: IndexState) -> None:
        super().__init__(f"index being built in {state.db}")
        self.state = state


def seq_number(seq: Any) -> int | None:
    """The number of an ``update_seq``: itself on one node; on a cluster the number before
    the dash of ``"<number>-<opaque>"`` (the opaque part names which copies answered, so it
    changes between calls with no writes at all; the number changes only with data)."""
    if isinstance(seq, bool):
        return None
    if isinstance(seq, int):
        return seq
    if isinstance(seq, str):
        head = seq.split("-", 1)[0]
        return int(head) if head.isdigit() else None
    return None


def couch_error(status: int, body: Any) -> CouchError:
    """A CouchError from any error reply, JSON object or not."""
    body = body if isinstance(body, dict) else {}
    return CouchError(status, str(body.get("error", "")), str(body.get("reason", "")))


def split_url(url: str) -> tuple[str, str | None, str | None]:
    """Base URL without credentials, plus the user and password it carried (of the first
    node, when ``url`` lists several)."""
    u = URL(url.split(",")[0].strip())
    base = str(u.with_user(None).with_password(None)).rstrip("/")
    return base, u.user, u.password


def node_urls(url: str) -> list[str]:
    """The nodes of ``COUCHDB_URL``: one URL, or several comma-separated."""
    nodes = [part.strip() for part in url.split(",") if part.strip()]
    if not nodes:
        raise ValueError("COUCHDB_URL names no CouchDB node")
    return nodes


def query_params(params: Mapping[str, Any] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in (params or {}).items():
        if value is None:
            continue
        if name in JSON_PARAMS:
            out[name] = orjson.dumps(value).decode()
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        else:
            out[name] = str(value)
    return out


IDEMPOTENT = frozenset({"GET", "HEAD"})
CONNECT_TIMEOUT = 3.0  # seconds to open a connection: longer means that node is unreachable
PROBE_TIMEOUT = 1.0  # seconds for each request that looks at an index build
RATE_SAMPLE = 0.2  # seconds between two looks at an index build, to see its pace
NEARLY_BUILT = 3.0  # a build done within this many seconds is waited for, not reported


class _NotSent(Exception):
    """No connection: the request never reached this node, any method may move on."""


class _Broken(Exception):
    """Sent, but the answer was cut off or the connection reset."""


@dataclass
class Node:
    base: str  # without credentials
    auth: str | None
    down_until: float = 0.0

    def up(self, now: float) -> bool:
        return self.down_until <= now


@dataclass(frozen=True)
class Slow:
    """What to do when a request has had no answer head after ``after`` seconds."""

    after: float
    check: Callable[[], Awaitable[None]]  # may raise to give up waiting


def operation(method: str, path: str) -> str:
    """A bounded name for a CouchDB request (a metric label: never a database name)."""
    parts = path.split("?", 1)[0].split("/")
    if not parts[0]:
        return "root"
    if parts[0].startswith("_"):
        return parts[0].lstrip("_")  # up, all_dbs, active_tasks, session
    if len(parts) == 1:
        return f"db_{method.lower()}"
    if parts[1] == "_design" and len(parts) >= 4:
        return {"_view": "view", "_info": "design_info"}.get(parts[3], "design_other")
    if parts[1] == "_design":
        return f"design_doc_{method.lower()}"
    if parts[1].startswith("_"):
        return parts[1].lstrip("_")  # all_docs, bulk_docs
    return f"doc_{method.lower()}"


class Couch:
    """CouchDB nodes of one cluster: one pooled session, bounded concurrency, a timeout per
    request, failover between nodes and one retry of a failed read."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 30.0,
        max_concurrency: int = 16,
        node_retry: float = 5.0,
        build_wait: float | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        """``build_wait``: seconds a report's view query waits for CouchDB to begin answering
        before looking whether an index is being built (see :meth:`view_raw`)."""
        self.nodes: list[Node] = []
        for node_url in node_urls(url):
            base, user, password = split_url(node_url)
            # Basic auth goes on each request (aiohttp deprecates session-level BasicAuth)
            auth = aiohttp.encode_basic_auth(user, password or "") if user else None
            self.nodes.append(Node(base, auth))
        self.base = self.nodes[0].base
        self.timeout = timeout
        self.node_retry = node_retry
        self.build_wait = build_wait
        self.telemetry = telemetry or Telemetry()
        self.telemetry.couch_nodes_up.set(len(self.nodes))
        self._client = CouchDB(
            self.base,
            connector=aiohttp.TCPConnector(limit=max_concurrency, keepalive_timeout=30),
            json_serialize=lambda o: orjson.dumps(o).decode(),
        )
        self._session: aiohttp.ClientSession = self._client._server._http_session
        self._slots = asyncio.Semaphore(max_concurrency)
        # index-state probes in flight, by (db, ddoc): shared by whoever asks meanwhile
        self._probes: dict[tuple[str, str], asyncio.Future[IndexState | None]] = {}

    def __repr__(self) -> str:  # never shows credentials
        return f"Couch({', '.join(n.base for n in self.nodes)!r})"

    async def close(self) -> None:
        await self._client.close()

    # -- nodes --------------------------------------------------------------------------

    def _pick(self, avoid: set[int]) -> Node | None:
        """The first node up that is not in ``avoid``; else the one down the longest."""
        now = time.monotonic()
        candidates = [n for i, n in enumerate(self.nodes) if i not in avoid]
        for node in candidates:
            if node.up(now):
                return node
        return min(candidates, key=lambda n: n.down_until, default=None)

    def _mark_down(self, node: Node) -> None:
        node.down_until = time.monotonic() + self.node_retry
        now = time.monotonic()
        self.telemetry.couch_nodes_up.set(sum(n.up(now) for n in self.nodes))

    def _mark_up(self, node: Node) -> None:
        if node.down_until:
            node.down_until = 0.0
            now = time.monotonic()
            self.telemetry.couch_nodes_up.set(sum(n.up(now) for n in self.nodes))

    # -- requests -----------------------------------------------------------------------

    async def request_raw(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        timeout: float | None = None,
        slow: Slow | None = None,
        bounded: bool = True,
        retry: bool = True,
    ) -> tuple[int, bytes]:
        """Send one request; return (status, body bytes). Raise only CouchUnavailable (or
        whatever ``slow.check`` raises)."""
        data = None if body is None else orjson.dumps(body)
        op = operation(method, path)
        t = self.telemetry
        retries_left = 1 if retry and method in IDEMPOTENT else 0
        tried: set[int] = set()
        node = self._pick(tried)
        assert node is not None
        while True:
            tried.add(self.nodes.index(node))
            started = time.perf_counter()
            outcome = "ok"
            try:
                status, raw = await self._send(
                    node, method, path, params, data, timeout, slow, bounded
                )
                outcome = (
                    "ok" if status < 400 else "client_error" if status < 500 else "server_error"
                )
            except _NotSent:
                outcome = "unreachable"
                self._mark_down(node)
                nxt = self._pick(tried)
                if nxt is None or nxt is node:
                    raise CouchUnavailable("CouchDB request failed: no node reachable") from None
                t.couch_failovers.inc()
                node = nxt
                continue
            except _Broken as e:
                outcome = "broken"
                self._mark_down(node)
                if not retries_left:
                    raise CouchUnavailable(f"CouchDB request failed: {e}") from None
                retries_left -= 1
                t.couch_retries.labels(op).inc()
                node = self._pick({self.nodes.index(node)}) or node
                continue
            except TimeoutError:
                outcome = "timeout"
                raise CouchUnavailable("CouchDB request failed: TimeoutError") from None
            except IndexBuilding:
                outcome = "index_building"
                raise
            finally:
                t.couch_requests.labels(op, outcome).inc()
                t.couch_duration.labels(op).observe(time.perf_counter() - started)
            self._mark_up(node)
            if status >= 500:
                if retries_left:
                    retries_left -= 1
                    t.couch_retries.labels(op).inc()
                    node = self._pick({self.nodes.index(node)}) or node
                    continue
                raise CouchUnavailable(f"CouchDB answered {status}")
            return status, raw

    async def _send(
        self,
        node: Node,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        data: bytes | None,
        timeout: float | None,
        slow: Slow | None,
        bounded: bool,
    ) -> tuple[int, bytes]:
        # identity: compressing view answers costs both ends CPU for nothing on a LAN
        headers = {"Accept": "application/json", "Accept-Encoding": "identity"}
        if node.auth:
            headers["Authorization"] = node.auth
        if data is not None:
            headers["Content-Type"] = "application/json"
        total = timeout or self.timeout
        client_timeout = aiohttp.ClientTimeout(
            total=total, sock_connect=min(total, CONNECT_TIMEOUT)
        )
        slots = self._slots if bounded else _NO_LIMIT
        try:
            async with slots:
                sent = asyncio.ensure_future(
                    self._session.request(
                        method,
                        f"{node.base}/{path}",
                        params=query_params(params),
                        data=data,
                        headers=headers,
                        timeout=client_timeout,
                    )
                )
                try:
                    if slow is not None:
                        done, _ = await asyncio.wait({sent}, timeout=slow.after)
                        if not done:
                            await slow.check()
                    resp = await sent
                except BaseException:
                    _abandon(sent)
                    raise
                try:
                    raw = await resp.read()
                finally:
                    resp.release()
                return resp.status, raw
        except aiohttp.ClientConnectorError as e:
            raise _NotSent(type(e).__name__) from None
        except aiohttp.ConnectionTimeoutError as e:
            raise _NotSent(type(e).__name__) from None
        except TimeoutError:
            raise
        except (aiohttp.ClientError, OSError) as e:
            raise _Broken(type(e).__name__) from None

    async def request(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        """Send one request; return (status, parsed JSON body). Raise only CouchUnavailable."""
        status, raw = await self.request_raw(method, path, **kwargs)
        return status, parse(raw)

    async def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        """Like :meth:`request`, but any non-2xx answer raises :class:`CouchError`."""
        return (await self.answered(None, method, path, **kwargs))[1]

    async def answered(
        self, absent: int | None, method: str, path: str, **kwargs: Any
    ) -> tuple[bool, Any]:
        """(True, body) on success; (False, None) when CouchDB answers ``absent`` (404: no
        such thing, 412: already exists); any other failure raises :class:`CouchError`."""
        status, doc = await self.request(method, path, **kwargs)
        if status == absent:
            return False, None
        if status >= 300:
            raise couch_error(status, doc)
        return True, doc

    # -- server -------------------------------------------------------------------------

    async def ping(self) -> bool:
        try:
            status, _ = await self.request("GET", "", timeout=min(self.timeout, 5.0))
        except CouchUnavailable:
            return False
        return status == 200

    async def ready(self, timeout: float = 2.0) -> bool:
        """A node answers ``/_up`` (``GET /`` where there is no ``/_up``, as on the stand-in)
        within ``timeout``: asked of every listed node at once, the first yes wins."""

        async def node_up(node: Node) -> bool:
            for path in ("_up", ""):
                try:
                    status, raw = await self._send(
                        node, "GET", path, None, None, timeout, None, bounded=False
                    )
                except (_NotSent, _Broken, TimeoutError):
                    return False
                if status != 404:
                    return status == 200
                body = _json_or_none(raw)
                if isinstance(body, dict) and "status" in body:
                    return False  # CouchDB's own 404: {"status": "maintenance_mode"} or "nolb"
            return False

        checks = [asyncio.ensure_future(node_up(n)) for n in self.nodes]
        try:
            async with asyncio.timeout(timeout):
                for check in asyncio.as_completed(checks):
                    if await check:
                        return True
        except TimeoutError:
            pass
        finally:
            for check in checks:
                check.cancel()
        return False

    async def all_dbs(self) -> list[str]:
        return list(await self.ok("GET", "_all_dbs"))

    # -- databases ----------------------------------------------------------------------

    async def db_info(self, db: str) -> dict[str, Any] | None:
        """The database's info document, or None when it does not exist."""
        info: dict[str, Any] | None = (await self.answered(404, "GET", encode(db)))[1]
        return info

    async def create_db(self, db: str) -> bool:
        """Create a database; False when it already existed."""
        return (await self.answered(412, "PUT", encode(db)))[0]

    async def delete_db(self, db: str) -> bool:
        """Delete a database; False when there was none."""
        return (await self.answered(404, "DELETE", encode(db)))[0]

    # -- documents ----------------------------------------------------------------------

    async def get_doc(self, db: str, doc_id: str, **params: Any) -> dict[str, Any] | None:
        """A document, or None when it (or its database) does not exist."""
        path = f"{encode(db)}/{_doc_path(doc_id)}"
        doc: dict[str, Any] | None = (await self.answered(404, "GET", path, params=params))[1]
        return doc

    async def delete_doc(self, db: str, doc_id: str, rev: str) -> bool:
        """Delete one revision (a losing revision of a conflict, too); False if gone."""
        path = f"{encode(db)}/{_doc_path(doc_id)}"
        return (await self.answered(404, "DELETE", path, params={"rev": rev}))[0]

    async def put_doc(self, db: str, doc: dict[str, Any]) -> str:
        """Write a document; its ``_rev`` must be current. Returns the new rev."""
        result = await self.ok("PUT", f"{encode(db)}/{_doc_path(doc['_id'])}", body=doc)
        return str(result["rev"])

    async def bulk_docs(self, db: str, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return list(await self.ok("POST", f"{encode(db)}/_bulk_docs", body={"docs": docs}))

    async def all_docs(self, db: str, **params: Any) -> list[dict[str, Any]]:
        """``_all_docs`` rows, or [] when the database does not exist."""
        found, doc = await self.answered(404, "GET", f"{encode(db)}/_all_docs", params=params)
        return list(doc["rows"]) if found else []

    # -- views --------------------------------------------------------------------------

    async def view_raw(
        self, db: str, ddoc: str, view: str, *, build_wait: float | None = None, **params: Any
    ) -> bytes:
        """A view query's answer as CouchDB sent it (see :func:`view_rows`).

        ``build_wait``: when CouchDB has not begun to answer after that many seconds, look
        whether it is building the index (twice, :data:`RATE_SAMPLE` apart, for its pace); if
        it is and will not be done within another :data:`NEARLY_BUILT` seconds, stop waiting
        (CouchDB builds on) and raise :class:`IndexBuilding`, else keep waiting. Costs nothing
        when the answer comes first.
        """
        path = f"{encode(db)}/_design/{ddoc}/_view/{view}"
        slow = None
        if build_wait is not None:

            async def check() -> None:
                since = time.monotonic()
                first = await self.index_state(db, ddoc)
                if first is None or not first.building:
                    return  # no build: CouchDB is just slow, keep waiting
                await asyncio.sleep(max(0.0, since + RATE_SAMPLE - time.monotonic()))
                then = time.monotonic()
                second = await self.index_state(db, ddoc)
                if second is None or not second.building:
                    return  # done meanwhile: the answer is on its way
                left = seconds_left(first, second, then - since)
                if left <= NEARLY_BUILT:
                    return  # nearly built: waiting costs less than coming back
                self.telemetry.index_build_waits.inc()
                raise IndexBuilding(second)

            slow = Slow(build_wait, check)
        status, raw = await self.request_raw("GET", path, params=params, slow=slow)
        if status >= 300:
            raise couch_error(status, parse(raw))
        return raw

    async def index_state(self, db: str, ddoc: str) -> IndexState | None:
        """Is CouchDB building ``ddoc``'s index in ``db``, and how far along? From
        ``_active_tasks`` (server admins only) where allowed, else from the index's
        ``update_seq`` (``_design/{ddoc}/_info``) against the database's. None when the
        database or design doc is missing or CouchDB does not say (never raises). Callers
        asking at the same time about the same index share one probe: a report's slow
        queries over one MoDB do not each send their own."""
        key = (db, ddoc)
        probe = self._probes.get(key)
        if probe is None:
            probe = self._probes[key] = asyncio.ensure_future(self._probe_state(db, ddoc))
            probe.add_done_callback(
                lambda done: self._probes.pop(key) if self._probes.get(key) is done else None
            )
        return await asyncio.shield(probe)

    async def _probe_state(self, db: str, ddoc: str) -> IndexState | None:
        try:
            return await self._index_state(db, ddoc)
        except (CouchUnavailable, CouchError, TimeoutError, KeyError, TypeError, ValueError):
            return None

    async def _index_state(self, db: str, ddoc: str) -> IndexState | None:
        probe: dict[str, Any] = {"timeout": PROBE_TIMEOUT, "bounded": False, "retry": False}

        async def active_tasks() -> tuple[int, Any]:  # optional: other answers still tell
            try:
                return await self.request("GET", "_active_tasks", **probe)
            except CouchUnavailable:
                return 0, None

        (tasks_status, tasks), (info_status, info), (found, db_info) = await asyncio.gather(
            active_tasks(),
            self.request("GET", f"{encode(db)}/_design/{ddoc}/_info", **probe),
            self.answered(404, "GET", encode(db), **probe),
        )
        if info_status != 200 or not found:
            return None
        index = info.get("view_index") if isinstance(info, dict) else None
        index = index if isinstance(index, dict) else {}
        indexed = seq_number(index.get("update_seq"))
        current = seq_number(db_info.get("update_seq"))
        ours = []
        if tasks_status == 200 and isinstance(tasks, list):
            ours = [
                task
                for task in tasks
                if isinstance(task, dict)
                and task.get("type") == "indexer"
                and task.get("design_document") == f"_design/{ddoc}"
                and _task_db(str(task.get("database", ""))) == db
            ]
        if ours:
            done = sum(int(task.get("changes_done", 0)) for task in ours)
            total = sum(int(task.get("total_changes", 0)) for task in ours)
            progress: int | None = (
                min(99, done * 100 // total)
                if total
                else sum(int(task.get("progress", 0)) for task in ours) // len(ours)
            )
            return IndexState(db, True, progress, indexed, current, "_active_tasks", True)
        behind = indexed is not None and current is not None and indexed < current
        running = bool(index.get("updater_running"))
        building = running or behind
        progress = None
        if indexed is not None and current:
            progress = min(99 if building else 100, indexed * 100 // current)
        elif indexed is not None:
            progress = 100  # an empty database
        return IndexState(db, building, progress, indexed, current, "_info", running)

    async def view(self, db: str, ddoc: str, view: str, **params: Any) -> list[dict[str, Any]]:
        """Rows of a view query (reduced or not). JSON parameters are serialised here."""
        return view_rows(await self.view_raw(db, ddoc, view, **params))


def parse(raw: bytes) -> Any:
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        raise CouchUnavailable("CouchDB answered with a body that is not JSON") from None


def view_rows(raw: bytes) -> list[dict[str, Any]]:
    """The rows of a view answer; anything else is a failing CouchDB, never an empty report."""
    doc = parse(raw)
    rows = doc.get("rows") if isinstance(doc, dict) else None
    if not isinstance(rows, list):
        raise CouchUnavailable("CouchDB answered a view query without rows")
    return rows


def seconds_left(first: IndexState, second: IndexState, elapsed: float) -> float:
    """When a build will likely be done, from two looks ``elapsed`` seconds apart (inf when
    it did not visibly move: a long build advances less than 1% in a fraction of a second)."""
    if first.progress is None or second.progress is None or elapsed <= 0:
        return float("inf")
    pace = (second.progress - first.progress) / elapsed  # percent per second
    return (100 - second.progress) / pace if pace > 0 else float("inf")


def _json_or_none(raw: bytes) -> Any:
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return None


def _task_db(name: str) -> str:
    """The database of an ``_active_tasks`` entry: on a cluster it names a shard file,
    ``shards/00000000-1fffffff/<db>.<timestamp>``; on one node (and the stand-in) the db."""
    if name.startswith("shards/"):
        name = name.split("/", 2)[2] if name.count("/") >= 2 else name
        head, dot, stamp = name.rpartition(".")
        return head if dot and stamp.isdigit() else name
    return name


class _NoLimit:
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


_NO_LIMIT = _NoLimit()


def _abandon(sent: asyncio.Future[aiohttp.ClientResponse]) -> None:
    """Stop waiting for a request: cancel it, or close its answer if it came meanwhile."""
    if not sent.done():
        sent.cancel()
    elif not sent.cancelled() and sent.exception() is None:
        sent.result().close()


def _doc_path(doc_id: str) -> str:
    """Design documents keep their slash; any other id is fully encoded."""
    if doc_id.startswith("_design/"):
        return "_design/" + quote(doc_id[len("_design/") :], safe="")
    return quote(doc_id, safe="")
