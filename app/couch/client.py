"""The one place that talks to CouchDB: one node, or several nodes of one cluster.

One pooled aiohttp session (keep-alive); every request goes through :meth:`Couch.request_raw`,
with names encoded and JSON query parameters serialised (:mod:`app.couch.wire`) and bodies
parsed with orjson. Every transport failure becomes a :class:`CouchUnavailable`, so callers
never see a half-read answer as a whole one.

Failover between the nodes ``COUCHDB_URL`` lists (:mod:`app.couch.nodes`): a node that cannot
be connected to is marked down and the request moves on to the next (nothing was sent, so any
method may move). A read (GET/HEAD) that was sent but cut off mid-answer, reset or answered
5xx is sent once more (a *retry*), to another node where there is one. Timeouts are not
retried: a slow CouchDB would only be asked twice as long.

Credentials CouchDB refuses are not sent again for a long pause (:mod:`app.couch.credentials`),
so no mix of requests can get the CouchDB user locked.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

from app.couch.credentials import CredentialGate, CredentialsRefused, memo_for
from app.couch.index_state import (
    PROBE_TIMEOUT,
    IndexBuilding,
    IndexProbes,
    IndexState,
    seconds_left,
)
from app.couch.modb import encode
from app.couch.nodes import Node, Nodes
from app.couch.wire import (
    CouchError,
    CouchUnavailable,
    couch_error,
    json_or_none,
    operation,
    outcome_of,
    parse,
    query_params,
    view_rows,
)
from app.telemetry import Telemetry

__all__ = [
    "Couch",
    "CouchError",
    "CouchUnavailable",
    "CredentialsRefused",
    "IndexBuilding",
    "IndexState",
    "Slow",
]

IDEMPOTENT = frozenset({"GET", "HEAD"})
CONNECT_TIMEOUT = 3.0  # seconds to open a connection: longer means that node is unreachable
RATE_SAMPLE = 0.2  # seconds between two looks at an index build, to see its pace
NEARLY_BUILT = 3.0  # a build done within this many seconds is waited for, not reported
NEARLY_BUILT_CHANGES = 500  # or when no more changes than this are left to index
SLOW_LOOKS_MAX = 4.0  # seconds between two looks at a query with no answer, at most
# seconds nothing is sent after CouchDB refused our credentials: longer than CouchDB's memory
# of failed logins (5 minutes from the first), so one process fails at most once in it
CREDENTIALS_PAUSE = 330.0


class _NotSent(Exception):
    """No connection: the request never reached this node, any method may move on."""


class _Broken(Exception):
    """Sent, but the answer was cut off or the connection reset."""


@dataclass(frozen=True)
class Slow:
    """What to do when a request has had no answer head after ``after`` seconds, and again
    while none comes (twice as long after each look, up to :data:`SLOW_LOOKS_MAX`)."""

    after: float
    check: Callable[[], Awaitable[None]]  # may raise to give up waiting


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
        probe_timeout: float = PROBE_TIMEOUT,
        credentials_pause: float = CREDENTIALS_PAUSE,
    ) -> None:
        """``build_wait``: seconds a report's view query waits for CouchDB to begin answering
        before looking whether an index is being built (see :meth:`view_raw`).
        ``probe_timeout``: seconds for each request of such a look.
        ``credentials_pause``: seconds nothing is sent after CouchDB refused the credentials."""
        self.telemetry = telemetry or Telemetry()
        self.nodes = Nodes(url, node_retry, self.telemetry)
        self.credentials = CredentialGate(
            credentials_pause, self.telemetry, who=self.nodes.user or "", memo=memo_for(url)
        )
        self.base = self.nodes.all[0].base
        self.timeout = timeout
        self.build_wait = build_wait
        self._session: aiohttp.ClientSession | None = None  # made on first use, in the loop
        self._slots = asyncio.Semaphore(max_concurrency)
        self.probes = IndexProbes(self, timeout=probe_timeout)
        # told (db, design doc) of every view query answered: that index is built
        self.view_answered: Callable[[str, str], None] | None = None

    def __repr__(self) -> str:  # never shows credentials
        return f"Couch({', '.join(n.base for n in self.nodes.all)!r})"

    def session(self) -> aiohttp.ClientSession:
        """The pooled session (keep-alive). Its pool has no limit of its own: the bounded
        requests are held to ``max_concurrency`` before they ask it for a connection, and the
        few others (the ``_db_updates`` longpoll, index probes) must never wait behind them,
        nor take a connection the bounded ones counted on (with ``COUCH_CONCURRENCY=1`` the
        longpoll held the only one and every report timed out)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=30)
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

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
        read_only: bool = False,
    ) -> tuple[int, bytes]:
        """Send one request; return (status, body bytes). Raise only CouchUnavailable (or
        whatever ``slow.check`` raises). ``read_only``: a POST that changes nothing (a
        ``_bulk_get``), retried as a GET is."""
        data = None if body is None else orjson.dumps(body)
        op = operation(method, path)
        t = self.telemetry
        retries_left = 1 if retry and (read_only or method in IDEMPOTENT) else 0
        tried: set[int] = set()
        node = self.nodes.pick(tried)
        assert node is not None
        while True:
            tried.add(self.nodes.index(node))
            started = time.perf_counter()
            outcome = "ok"
            try:
                status, raw = await self._send(
                    node, method, path, params, data, timeout, slow, bounded
                )
                outcome = outcome_of(status)
            except _NotSent:
                outcome = "unreachable"
                self.nodes.mark_down(node)
                nxt = self.nodes.pick(tried)
                if nxt is None or nxt is node:
                    raise CouchUnavailable("CouchDB request failed: no node reachable") from None
                t.couch_failovers.inc()
                node = nxt
                continue
            except _Broken as e:
                outcome = "broken"
                self.nodes.mark_down(node)
                if not retries_left:
                    raise CouchUnavailable(f"CouchDB request failed: {e}") from None
                retries_left -= 1
                t.couch_retries.labels(op).inc()
                node = self.nodes.pick({self.nodes.index(node)}) or node
                continue
            except TimeoutError:
                outcome = "timeout"
                raise CouchUnavailable("CouchDB request failed: TimeoutError") from None
            except IndexBuilding:
                outcome = "index_building"
                raise
            except CredentialsRefused:
                outcome = "credentials_refused"
                raise
            finally:
                t.couch_requests.labels(op, outcome).inc()
                t.couch_duration.labels(op).observe(time.perf_counter() - started)
            self.nodes.mark_up(node)
            if status >= 500:
                if retries_left:
                    retries_left -= 1
                    t.couch_retries.labels(op).inc()
                    node = self.nodes.pick({self.nodes.index(node)}) or node
                    continue
                raise CouchUnavailable.answered(status, raw)
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
            if node.auth:
                await self.credentials.verified(lambda: self._session_check(node, client_timeout))
            async with slots:
                sent = asyncio.ensure_future(
                    self.session().request(
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
                        # looked at again while no answer comes: a look that learnt nothing
                        # (a probe timed out on a busy CouchDB) must not leave the query to
                        # wait out its whole timeout behind a build
                        wait = slow.after
                        while not (await asyncio.wait({sent}, timeout=wait))[0]:
                            await slow.check()
                            wait = min(wait * 2, SLOW_LOOKS_MAX)
                    resp = await sent
                except BaseException:
                    _abandon(sent)
                    raise
                try:
                    raw = await resp.read()
                finally:
                    resp.release()
                self.credentials.answered(resp.status, raw)  # a refusal raises from here on
                self.credentials.check()
                return resp.status, raw
        except aiohttp.ClientConnectorError as e:
            raise _NotSent(type(e).__name__) from None
        except aiohttp.ConnectionTimeoutError as e:
            raise _NotSent(type(e).__name__) from None
        except TimeoutError:
            raise
        except (aiohttp.ClientError, OSError) as e:
            raise _Broken(type(e).__name__) from None

    async def _session_check(
        self, node: Node, timeout: aiohttp.ClientTimeout
    ) -> tuple[int, bytes]:
        """``GET /_session`` with our credentials: what CouchDB thinks of them, cheaply."""
        assert node.auth is not None
        async with self.session().get(
            f"{node.base}/_session",
            headers={"Accept": "application/json", "Authorization": node.auth},
            timeout=timeout,
        ) as resp:
            raw = await resp.read()
        self.telemetry.couch_requests.labels("session", outcome_of(resp.status)).inc()
        return resp.status, raw

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

    async def ready(self, timeout: float = 2.0, *, bounded: bool = False) -> str:
        """``up`` when a node answers ``/_up`` (``GET /`` where there is no ``/_up``, as on the
        stand-in) within ``timeout``, asked of every listed node at once, the first yes
        winning; ``refused``/``locked`` while CouchDB turns our credentials away (not asked);
        else ``down``. ``bounded``: inside the concurrency cap (the wait for a slot counts in
        ``timeout``)."""
        refused = self.credentials.refused_now()
        if refused is not None:
            return refused

        async def node_up(node: Node) -> bool:
            for path in ("_up", ""):
                try:
                    status, raw = await self._send(
                        node, "GET", path, None, None, timeout, None, bounded=bounded
                    )
                except (_NotSent, _Broken, TimeoutError, CredentialsRefused):
                    return False
                if status != 404:
                    return status == 200
                body = json_or_none(raw)
                if isinstance(body, dict) and "status" in body:
                    return False  # CouchDB's own 404: {"status": "maintenance_mode"} or "nolb"
            return False

        checks = [asyncio.ensure_future(node_up(n)) for n in self.nodes.all]
        try:
            async with asyncio.timeout(timeout):
                for check in asyncio.as_completed(checks):
                    if await check:
                        return "up"
        except TimeoutError:
            pass
        finally:
            for check in checks:
                check.cancel()
        return self.credentials.refused_now() or "down"

    async def all_dbs(self) -> list[str]:
        return list(await self.ok("GET", "_all_dbs"))

    async def db_names(
        self, start: str, end: str, page: int = 10_000
    ) -> AsyncIterator[list[str]]:
        """The database names from ``start`` to ``end`` (inclusive), a page of ``_all_dbs``
        at a time (``start_key``/``limit``): a cluster may hold millions of databases."""
        after: str | None = None
        while True:
            params: dict[str, Any] = {"start_key": start, "end_key": end, "limit": page}
            if after is not None:
                params["start_key"] = after  # listed again, dropped below
            names = [str(n) for n in await self.ok("GET", "_all_dbs", params=params)]
            # a server that ignores the range or paging still ends: only names past the last
            names = [n for n in names if start <= n <= end and (after is None or n > after)]
            if not names:
                return
            yield names
            after = names[-1]

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

    async def bulk_get_raw(self, db: str, ids: list[str]) -> bytes:
        """``POST /{db}/_bulk_get`` of the documents' current revisions, as CouchDB sent it.
        On CouchDB 3.4 it reads about twice as many documents a second as a view's
        ``include_docs`` (bench/records.py)."""
        body = {"docs": [{"id": i} for i in ids]}
        path = f"{encode(db)}/_bulk_get"
        status, raw = await self.request_raw("POST", path, body=body, read_only=True)
        if status >= 300:
            raise couch_error(status, parse(raw))
        return raw

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
        it is and will not be done within another :data:`NEARLY_BUILT` seconds (nor has at most
        :data:`NEARLY_BUILT_CHANGES` changes left), stop waiting
        (CouchDB builds on) and raise :class:`IndexBuilding`, else keep waiting and look again
        later (see :class:`Slow`). Costs nothing when the answer comes first.
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
                # a second look that learnt nothing (its probe timed out on a busy CouchDB)
                # leaves the build as the first saw it, pace unknown
                second = await self.index_state(db, ddoc) or first
                if not second.building:
                    return  # done meanwhile: the answer is on its way
                left = seconds_left(first, second, then - since)
                if left <= NEARLY_BUILT or few_changes_left(second):
                    return  # nearly built: waiting costs less than coming back
                self.telemetry.index_build_waits.inc()
                raise IndexBuilding(second)

            slow = Slow(build_wait, check)
        status, raw = await self.request_raw("GET", path, params=params, slow=slow)
        if status >= 300:
            raise couch_error(status, parse(raw))
        if self.view_answered is not None:
            self.view_answered(db, ddoc)
        return raw

    async def index_state(self, db: str, ddoc: str) -> IndexState | None:
        """Is CouchDB building ``ddoc``'s index in ``db``, and how far along? None when the
        database or design doc is missing or CouchDB does not say (never raises); see
        :mod:`app.couch.index_state`."""
        return await self.probes.state(db, ddoc)

    async def view(self, db: str, ddoc: str, view: str, **params: Any) -> list[dict[str, Any]]:
        """Rows of a view query (reduced or not). JSON parameters are serialised here."""
        return view_rows(await self.view_raw(db, ddoc, view, **params))


def few_changes_left(state: IndexState) -> bool:
    """An index only catching up with a few late writes (its pace is not visible in a fraction
    of a second: a cluster's copies took over a second for one document)."""
    if state.indexed_seq is None or state.db_seq is None:
        return False
    return state.db_seq - state.indexed_seq <= NEARLY_BUILT_CHANGES


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
