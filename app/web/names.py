"""Names for the ids in a report: ``GET /v2/accounts/{account_id}/qubicle_names?ids=a,b``.

KAZOO keeps them in the account database: a queue is a ``pvt_type: "queue"`` document with a
``name`` (ACDC's ``queues/crossbar_listing`` view reads the same field), an agent is a
``pvt_type: "user"`` document with ``first_name`` and ``last_name``. The dashboard asks only
for the ids it shows, so one ``_all_docs`` lookup by key answers it: no view to install, no
scan of the account database, nothing needing more than read access.

Answer (Crossbar envelope): ``{"data": {"queues": {id: name}, "recipients": {id: "First
Last"}}}``; an id without a name (no such document, another type, no name fields) is left
out, and the page shows the id. So is an id no report can hold (CONTRACT.md 2c: more than 128
characters, other characters, ``total``): one such id never costs the rest of its batch their
names. Authorized exactly like the reports. Names are cached per account and id for
:data:`TTL` seconds, bounded to :data:`MAX_ENTRIES`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from app.couch.client import Couch
from app.couch.modb import account_db, encode
from app.report.request import ID_RE, split_list, validate_ids
from app.web.context import LIMITS, LOADER, AccountRoute, Params, envelope, json_response
from app.web.ttlcache import MISS, TtlCache

TTL = 60.0  # seconds a name is reused: a renamed queue shows its new name within a minute
MAX_ENTRIES = 50_000
MAX_NAME_CHARS = 200
KINDS = {"queue": "queues", "user": "recipients"}
Name = tuple[str, str] | None  # ("queues" | "recipients", name), or None: no name
PATH = "/v2/accounts/{account_id}/qubicle_names"
FIELD = "ids"  # the query string's comma-separated ids


def name_of(doc: Any) -> Name:
    """The kind and display name of an account-database document, if it has one."""
    if not isinstance(doc, dict):
        return None
    kind = KINDS.get(str(doc.get("pvt_type")))
    if kind == "queues":
        parts = [doc.get("name")]
    elif kind == "recipients":
        parts = [doc.get("first_name"), doc.get("last_name")]
    else:
        return None
    text = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    return (kind, text[:MAX_NAME_CHARS]) if text else None


class NameCache:
    """What :func:`name_of` said about each (account, id), for ``ttl`` seconds."""

    def __init__(
        self,
        couch: Couch,
        *,
        ttl: float = TTL,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._couch = couch
        self._cache: TtlCache[Name] = TtlCache(ttl, max_entries, clock)

    async def names(self, account_id: str, ids: list[str]) -> dict[str, dict[str, str]]:
        now = self._cache.clock()
        found: dict[str, Name] = {}
        missing: list[str] = []
        for doc_id in dict.fromkeys(ids):
            hit = self._cache.get((account_id, doc_id), now)
            if hit is MISS:
                missing.append(doc_id)
            else:
                found[doc_id] = hit
        if missing:
            fetched = await self._fetch(account_id, missing)
            for doc_id in missing:
                found[doc_id] = fetched.get(doc_id)
                self._cache.put((account_id, doc_id), found[doc_id], now)
        out: dict[str, dict[str, str]] = {"queues": {}, "recipients": {}}
        for doc_id, name in found.items():
            if name is not None:
                out[name[0]][doc_id] = name[1]
        return out

    async def _fetch(self, account_id: str, ids: list[str]) -> dict[str, Name]:
        path = f"{encode(account_db(account_id))}/_all_docs"
        found, body = await self._couch.answered(
            404, "POST", path, params={"include_docs": True}, body={"keys": ids}
        )
        rows = body.get("rows", []) if found and isinstance(body, dict) else []
        return {
            row["key"]: name_of(row.get("doc"))
            for row in rows
            if isinstance(row, dict) and isinstance(row.get("key"), str)
        }


NAMES = web.AppKey("names", NameCache)


def validate_names(request: web.Request, params: Params) -> list[str]:
    """The well-formed ``ids`` of the query string (none, or too many, is a Crossbar 400);
    the others have no name and are not looked up."""
    limits = request.app[LIMITS]
    given = split_list(params.get(FIELD, ""))
    limit = limits.max_identifiers + limits.max_queue_ids
    if isinstance(given, list) and 0 < len(given) <= limit:
        well_formed = [i for i in given if is_entity_id(i, limits.max_id_length)]
        if not well_formed:
            return []
        given = well_formed
    return validate_ids(given, field=FIELD, limit=limit, max_length=limits.max_id_length)


def is_entity_id(value: object, max_length: int) -> bool:
    """An id a report may hold (CONTRACT.md 2c)."""
    return (
        isinstance(value, str)
        and len(value) <= max_length
        and value != "total"
        and ID_RE.fullmatch(value) is not None
    )


async def load_names(
    request: web.Request, account_id: str, ids: list[str]
) -> dict[str, dict[str, str]]:
    return await request.app[NAMES].names(account_id, ids)


async def respond_names(
    request: web.Request, ids: list[str], names: dict[str, dict[str, str]]
) -> web.StreamResponse:
    return json_response(200, {"data": names, "status": "success", **envelope(request)})


NAMES_ROUTE: AccountRoute[list[str], dict[str, dict[str, str]]] = AccountRoute(
    validate=validate_names, load=load_names, respond=respond_names
)


async def name_cache(app: web.Application) -> AsyncIterator[None]:
    """A name cache over the service's CouchDB client once it exists (a cleanup context)."""
    app[NAMES] = NameCache(app[LOADER].couch)
    yield
