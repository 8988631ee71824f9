"""The route table: every route the service answers, once. :mod:`app.web.server` routes
them and :func:`spec` documents them (OpenAPI), so neither can name a route the other lacks.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import orjson
from aiohttp import web

from app import errors
from app.config import Settings
from app.report.request import Limits
from app.telemetry import metrics_handler
from app.web import dashboard, health, names, openapi, reports
from app.web.context import ACCOUNT_SCOPED, LIMITS, Route


def _metrics_here(settings: Settings) -> bool:
    """``/metrics`` on this listener: metrics on, and no listener of their own."""
    return settings.metrics and not settings.metrics_address


async def openapi_handler(request: web.Request) -> web.Response:
    return web.Response(body=spec_bytes(request.app[LIMITS]), content_type="application/json")


REPORT_ERRORS = (*ACCOUNT_SCOPED, errors.TOO_BUSY, errors.INDEX_BUILDING)
BOTH = ("POST", "GET")
ROUTES: tuple[Route, ...] = (
    Route(
        reports.PATH,
        BOTH,
        reports.report_handler,
        openapi.report_operation(in_path=False),
        REPORT_ERRORS,
        openapi.REPORT_FIELDS,
        patterns=(reports.PATH, reports.PATH + "/"),
    ),
    Route(
        reports.PATH + "/{report}",
        BOTH,
        reports.report_handler,
        openapi.report_operation(in_path=True),
        REPORT_ERRORS,
        openapi.REPORT_FIELDS,
        patterns=(reports.PATH + "/{report}", reports.PATH + "/{report}/"),
    ),
    Route(
        "/health",
        ("GET",),
        health.health_handler,
        openapi.probe_operation(
            "getHealth",
            "Whether CouchDB answers (no token needed)",
            ("CouchDB answers", "ok"),
            ("CouchDB does not answer", "degraded"),
            couchdb_down=health.COUCHDB_DOWN,
            release=True,
        ),
    ),
    Route(
        "/health/live",
        ("GET",),
        health.live_handler,
        openapi.probe_operation(
            "getLive",
            "Whether the process answers (orchestrators restart it when not)",
            ("The process answers", "ok"),
        ),
    ),
    Route(
        "/health/ready",
        ("GET",),
        health.ready_handler,
        openapi.probe_operation(
            "getReady",
            "Whether a CouchDB node answers within QUBICLE_REPORTS_READY_TIMEOUT "
            "(send traffic here)",
            ("A CouchDB node answers", "ready"),
            ("No CouchDB node answers, or CouchDB refuses the credentials", "not ready"),
            couchdb_down=health.COUCHDB_DOWN,
        ),
    ),
    Route(
        "/metrics",
        ("GET",),
        metrics_handler,
        openapi.text_operation(
            "getMetrics",
            "Prometheus metrics (when QUBICLE_REPORTS_METRICS is on and "
            "QUBICLE_REPORTS_METRICS_ADDRESS gives them no listener of their own)",
            "The Prometheus text exposition format",
        ),
        enabled=_metrics_here,
    ),
    Route("/openapi.json", ("GET",), openapi_handler, openapi.openapi_operation),
    Route(
        names.PATH,
        ("GET",),
        names.NAMES_ROUTE.handle,
        openapi.names_operation,
        ACCOUNT_SCOPED,
        (names.FIELD,),
    ),
    Route(
        "/",
        ("GET",),
        dashboard.redirect_handler,
        openapi.page_operation("getRoot", "Redirects to the dashboard"),
    ),
    Route(
        "/docs",
        ("GET",),
        dashboard.docs_handler,
        openapi.page_operation(
            "getDocs",
            "The API reference: this document as an interactive page (Swagger UI)",
            page=True,
        ),
    ),
    Route(
        "/dashboard",
        ("GET",),
        dashboard.redirect_handler,
        openapi.page_operation("getDashboardRedirect", "Redirects to `/dashboard/`"),
    ),
    Route(
        dashboard.PREFIX + "{path}",
        ("GET",),
        dashboard.static_handler,
        openapi.page_operation(
            "getDashboardFile",
            "A file of the dashboard: `/dashboard/{path}` (`/dashboard/` is index.html)",
            file=True,
        ),
        (errors.NOT_FOUND,),
        patterns=(dashboard.PREFIX, dashboard.PREFIX + "{path:[A-Za-z0-9_./-]+}"),
    ),
)


def add_routes(app: web.Application, settings: Settings) -> None:
    for route in ROUTES:
        if route.enabled(settings):
            for pattern in route.patterns or (route.path,):
                for method in route.methods:
                    app.router.add_route(method, pattern, route.handler)


def spec(limits: Limits | None = None) -> dict[str, Any]:
    """The service's OpenAPI document (a fresh copy: callers may mutate it)."""
    return openapi.document(ROUTES, limits)


@cache
def spec_bytes(limits: Limits) -> bytes:
    """The OpenAPI document, built once per process (pydantic's schema generation is slow)."""
    return orjson.dumps(spec(limits))
