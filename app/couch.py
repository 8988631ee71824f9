"""The one place that talks to CouchDB.

aiocouch owns the pooled HTTP session (keep-alive, Basic auth from ``COUCHDB_URL``), but two
of its bugs bite us (COUCH_FACTS.md): reduce queries raise ``TypeError`` in ``View.get()``
and ``_all_docs`` forgets to encode ``account/...`` names. So every request goes through
:meth:`Couch.request` here, over aiocouch's session, with names encoded and JSON query
parameters serialised by us, and bodies parsed with orjson. Every transport failure becomes a
:class:`CouchUnavailable`, so callers never see a half-read answer as a whole one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson
from aiocouch import CouchDB
from yarl import URL

from app.modb import encode

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


def couch_error(status: int, body: Any) -> CouchError:
    """A CouchError from any error reply, JSON object or not."""
    body = body if isinstance(body, dict) else {}
    return CouchError(status, str(body.get("error", "")), str(body.get("reason", "")))


def split_url(url: str) -> tuple[str, str | None, str | None]:
    """Base URL without credentials, plus the user and password it carried."""
    u = URL(url)
    base = str(u.with_user(None).with_password(None)).rstrip("/")
    return base, u.user, u.password


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


class Couch:
    """A CouchDB server: one pooled session, bounded concurrency, a timeout per request."""

    def __init__(self, url: str, *, timeout: float = 30.0, max_concurrency: int = 16) -> None:
        self.base, user, password = split_url(url)
        self.timeout = timeout
        # Basic auth goes on each request (aiohttp deprecates session-level BasicAuth)
        self._auth = aiohttp.encode_basic_auth(user, password or "") if user else None
        self._client = CouchDB(
            self.base,
            connector=aiohttp.TCPConnector(limit=max_concurrency, keepalive_timeout=30),
            json_serialize=lambda o: orjson.dumps(o).decode(),
        )
        self._session: aiohttp.ClientSession = self._client._server._http_session
        self._slots = asyncio.Semaphore(max_concurrency)

    def __repr__(self) -> str:  # never shows credentials
        return f"Couch({self.base!r})"

    async def close(self) -> None:
        await self._client.close()

    async def request_raw(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        timeout: float | None = None,
    ) -> tuple[int, bytes]:
        """Send one request; return (status, body bytes). Raise only CouchUnavailable."""
        data = None if body is None else orjson.dumps(body)
        # identity: compressing view answers costs both ends CPU for nothing on a LAN
        headers = {"Accept": "application/json", "Accept-Encoding": "identity"}
        if self._auth:
            headers["Authorization"] = self._auth
        if data is not None:
            headers["Content-Type"] = "application/json"
        client_timeout = aiohttp.ClientTimeout(total=timeout or self.timeout)
        try:
            async with (
                self._slots,
                self._session.request(
                    method,
                    f"{self.base}/{path}",
                    params=query_params(params),
                    data=data,
                    headers=headers,
                    timeout=client_timeout,
                ) as resp,
            ):
                raw = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            raise CouchUnavailable(f"CouchDB request failed: {type(e).__name__}") from None
        if status >= 500:
            raise CouchUnavailable(f"CouchDB answered {status}")
        return status, raw

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

    async def all_dbs(self) -> list[str]:
        return list(await self.ok("GET", "_all_dbs"))

    # -- databases ----------------------------------------------------------------------

    async def db_info(self, db: str) -> dict[str, Any] | None:
        """The database's info document, or None when it does not exist."""
        return (await self.answered(404, "GET", encode(db)))[1]

    async def create_db(self, db: str) -> bool:
        """Create a database; False when it already existed."""
        return (await self.answered(412, "PUT", encode(db)))[0]

    async def delete_db(self, db: str) -> bool:
        """Delete a database; False when there was none."""
        return (await self.answered(404, "DELETE", encode(db)))[0]

    # -- documents ----------------------------------------------------------------------

    async def get_doc(self, db: str, doc_id: str) -> dict[str, Any] | None:
        """A document, or None when it (or its database) does not exist."""
        return (await self.answered(404, "GET", f"{encode(db)}/{_doc_path(doc_id)}"))[1]

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

    async def view_raw(self, db: str, ddoc: str, view: str, **params: Any) -> bytes:
        """A view query's answer as CouchDB sent it (see :func:`view_rows`)."""
        path = f"{encode(db)}/_design/{ddoc}/_view/{view}"
        status, raw = await self.request_raw("GET", path, params=params)
        if status >= 300:
            raise couch_error(status, parse(raw))
        return raw

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


def _doc_path(doc_id: str) -> str:
    """Design documents keep their slash; any other id is fully encoded."""
    if doc_id.startswith("_design/"):
        return "_design/" + quote(doc_id[len("_design/") :], safe="")
    return quote(doc_id, safe="")
