"""Probes for orchestrators and load balancers: no token, no Crossbar envelope."""

from __future__ import annotations

from aiohttp import web

from app.web import readiness
from app.web.context import LOADER, json_response


async def health_handler(request: web.Request) -> web.Response:
    """Whether CouchDB answers."""
    up = await request.app[LOADER].couch.ping()
    body = {"status": "ok" if up else "degraded", "couchdb": "up" if up else "down"}
    return json_response(200 if up else 503, body)


async def live_handler(request: web.Request) -> web.Response:
    """The process answers (orchestrators restart it when not)."""
    return json_response(200, {"status": "ok"})


async def ready_handler(request: web.Request) -> web.Response:
    """A CouchDB node answers within ``QUBICLE_REPORTS_READY_TIMEOUT`` (send traffic here),
    asked at most once per ``QUBICLE_REPORTS_READY_INTERVAL`` (:mod:`app.web.readiness`)."""
    up = await readiness.ready(request.app)
    body = {"status": "ready" if up else "not ready", "couchdb": "up" if up else "down"}
    return json_response(200 if up else 503, body)
