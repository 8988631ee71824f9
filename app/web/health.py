"""Probes for orchestrators and load balancers: no token, no Crossbar envelope."""

from __future__ import annotations

from aiohttp import web

from app.web.context import LOADER, SETTINGS, json_response


async def health_handler(request: web.Request) -> web.Response:
    """Whether CouchDB answers."""
    up = await request.app[LOADER].couch.ping()
    body = {"status": "ok" if up else "degraded", "couchdb": "up" if up else "down"}
    return json_response(200 if up else 503, body)


async def live_handler(request: web.Request) -> web.Response:
    """The process answers (orchestrators restart it when not)."""
    return json_response(200, {"status": "ok"})


async def ready_handler(request: web.Request) -> web.Response:
    """A CouchDB node answers within ``QUBICLE_REPORTS_READY_TIMEOUT`` (send traffic here)."""
    up = await request.app[LOADER].couch.ready(request.app[SETTINGS].ready_timeout)
    body = {"status": "ready" if up else "not ready", "couchdb": "up" if up else "down"}
    return json_response(200 if up else 503, body)
