"""Probes for orchestrators and load balancers: no token, no Crossbar envelope."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from app import __version__
from app.web import readiness
from app.web.context import LOADER, json_response

# what readiness says of CouchDB, by what the client found
COUCHDB_SAYS = {
    "up": "up",
    "down": "down",
    "refused": "credentials refused",
    "locked": "user locked by CouchDB",
}
COUCHDB_DOWN = tuple(v for k, v in COUCHDB_SAYS.items() if k != "up")  # for OpenAPI


def release(request: web.Request) -> dict[str, Any]:
    """Which release answers, and the design doc it reads."""
    return {"release": __version__, "design_doc": request.app[LOADER].installer.name}


async def health_handler(request: web.Request) -> web.Response:
    """Whether CouchDB answers, and which release this is."""
    couch = request.app[LOADER].couch
    up = await couch.ping()
    found = "up" if up else couch.credentials.refused_now() or "down"
    body = {
        "status": "ok" if up else "degraded",
        "couchdb": COUCHDB_SAYS[found],
        **release(request),
    }
    return json_response(200 if up else 503, body)


async def live_handler(request: web.Request) -> web.Response:
    """The process answers (orchestrators restart it when not)."""
    return json_response(200, {"status": "ok"})


async def ready_handler(request: web.Request) -> web.Response:
    """A CouchDB node answers within ``QUBICLE_REPORTS_READY_TIMEOUT`` (send traffic here);
    not while CouchDB refuses the service's credentials. Asked at most once per
    ``QUBICLE_REPORTS_READY_INTERVAL`` (:mod:`app.web.readiness`)."""
    found = await readiness.ready(request.app)
    body = {"status": "ready" if found == "up" else "not ready", "couchdb": COUCHDB_SAYS[found]}
    return json_response(200 if found == "up" else 503, body)
