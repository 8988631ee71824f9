"""What goes over the wire to CouchDB and back: query parameters, bodies, errors, and the
bounded operation names requests are counted under. No I/O here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

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

    @classmethod
    def answered(cls, status: int, raw: bytes) -> CouchUnavailable:
        """CouchDB failed (5xx): its status and the short name of its error, never its
        ``reason`` (on a failing view that is an Erlang stack trace)."""
        body = json_or_none(raw)
        error = body.get("error") if isinstance(body, dict) else None
        return cls(f"CouchDB answered {status}{error_name(error)}")


ERROR_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def error_name(error: Any) -> str:
    """`` (name)`` of CouchDB's ``error`` field when it is a short name, else nothing."""
    return f" ({error})" if isinstance(error, str) and ERROR_NAME.fullmatch(error) else ""


def couch_error(status: int, body: Any) -> CouchError:
    """A CouchError from any error reply, JSON object or not."""
    body = body if isinstance(body, dict) else {}
    return CouchError(status, str(body.get("error", "")), str(body.get("reason", "")))


def query_params(params: Mapping[str, Any] | None) -> dict[str, str]:
    """Query parameters as CouchDB reads them: keys as JSON, booleans lowercase."""
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


def parse(raw: bytes) -> Any:
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        raise CouchUnavailable("CouchDB answered with a body that is not JSON") from None


def json_or_none(raw: bytes) -> Any:
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return None


def view_rows(raw: bytes) -> list[dict[str, Any]]:
    """The rows of a view answer; anything else is a failing CouchDB, never an empty report."""
    doc = parse(raw)
    rows = doc.get("rows") if isinstance(doc, dict) else None
    if not isinstance(rows, list):
        raise CouchUnavailable("CouchDB answered a view query without rows")
    return rows


def outcome_of(status: int) -> str:
    """How a request that CouchDB answered is counted (``couchdb_requests_total``): a 404 is
    its own (a month with no MoDB, a design doc not yet installed: normal answers), never
    counted as an error."""
    if status < 400:
        return "ok"
    if status == 404:
        return "not_found"
    return "client_error" if status < 500 else "server_error"


def operation(method: str, path: str) -> str:
    """A bounded name for a CouchDB request (a metric label: never a database name)."""
    parts = path.split("?", 1)[0].split("/")
    if not parts[0]:
        return "root"
    if parts[0].startswith("_"):
        return parts[0].lstrip("_")  # up, all_dbs, active_tasks, session, db_updates
    if len(parts) == 1:
        return f"db_{method.lower()}"
    if parts[1] == "_design" and len(parts) >= 4:
        return {"_view": "view", "_info": "design_info"}.get(parts[3], "design_other")
    if parts[1] == "_design":
        return f"design_doc_{method.lower()}"
    if parts[1].startswith("_"):
        return parts[1].lstrip("_")  # all_docs, bulk_docs
    return f"doc_{method.lower()}"
