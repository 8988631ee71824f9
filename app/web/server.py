"""The app's assembly: settings, shared state, middleware and the route table.

Per request: the envelope middleware (request id, Crossbar errors, the access log), CORS
preflights, then the route (:mod:`app.web.routes`); account-scoped routes run the steps of
:class:`app.web.context.AccountRoute`. Only :mod:`app.cli` imports this module.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
import traceback
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
from aiohttp import web

from app import __version__, errors
from app.config import Settings
from app.couch import design_docs
from app.couch.client import Couch
from app.couch.installer import Installer
from app.couch.nodes import node_urls, split_url
from app.couch.upkeep import index_upkeep
from app.couch.view_cache import ViewCache
from app.report.load import Loader
from app.report.request import Limits
from app.report.shares import Shares
from app.telemetry import TELEMETRY, Telemetry, observe_request, serve_metrics_apart
from app.web import cors, dashboard, names, readiness, routes
from app.web.auth import Authenticator, build_authenticator
from app.web.context import (
    AUTH,
    LIMITS,
    LOADER,
    LOG_EXTRA,
    REPORT_SHARES,
    REPORT_SLOTS,
    REQUEST_ID,
    REQUEST_ID_RE,
    SETTINGS,
    TOKEN,
    Handler,
    error_response,
    token_of,
)
from app.web.rejected import API_HEADERS
from app.web.slow_clients import CLIENT_GONE, ClientGone, SlowClientLog

log = logging.getLogger("qubicle_reports.access")


@web.middleware
async def envelope_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request id in and out, Crossbar errors for everything, one access-log line."""
    started = time.perf_counter()
    sent = request.headers.get("X-Request-ID", "")
    request[REQUEST_ID] = sent if REQUEST_ID_RE.fullmatch(sent) else uuid.uuid4().hex
    request[TOKEN] = token_of(request, request.query.get("auth_token")) or ""
    try:
        response = await handler(request)
    except ClientGone:
        response = web.Response(status=CLIENT_GONE)  # counted and logged; nobody to answer
        response.force_close()
    except errors.ApiError as e:
        response = error_response(request, e)
    except web.HTTPException as e:
        if e.status == 413:
            response = error_response(request, errors.too_large(e.text or ""))
        elif e.status == 405:
            response = error_response(request, errors.method_not_allowed())
            response.headers["Allow"] = e.headers.get("Allow", "")
        elif e.status >= 400:
            response = error_response(request, errors.not_found())
        else:
            raise
    except Exception as e:
        # one line: where it failed, not the exception's text (it may quote request bytes)
        log.error("unhandled error (request %s): %s", request[REQUEST_ID], where(e))
        response = error_response(request, errors.internal())
    if not response.prepared:
        response.headers["X-Request-ID"] = request[REQUEST_ID]
    if TELEMETRY in request.app:
        observe_request(
            request.app[TELEMETRY], request, response.status, time.perf_counter() - started
        )
    log.info(
        "%s",
        orjson.dumps(
            {
                "request_id": request[REQUEST_ID],
                "method": request.method,
                "path": request.path,
                "status": response.status,
                "ms": round((time.perf_counter() - started) * 1000, 3),
                **request.get(LOG_EXTRA, {}),
            }
        ).decode(),
    )
    if response.status == errors.REQUEST_TIMEOUT.status and not response.prepared:
        # sent now and the connection closed: aiohttp would otherwise linger, reading the
        # rest of the slow body for another lingering_time
        await response.prepare(request)
        await response.write_eof()
        request.protocol.force_close()
    return response


async def add_api_headers(request: web.Request, response: web.StreamResponse) -> None:
    """:data:`API_HEADERS`, where a response did not set its own (the dashboard's files)."""
    for name, value in API_HEADERS.items():
        response.headers.setdefault(name, value)


def where(e: BaseException) -> str:
    """An exception's class and the frames it passed through, without its message."""
    frames = traceback.extract_tb(e.__traceback__)[-4:]
    trail = " < ".join(f"{f.name}@{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in frames)
    return f"{type(e).__name__} at {trail}"


def create_app(
    settings: Settings, auth: Authenticator | None = None, design_doc: dict[str, Any] | None = None
) -> web.Application:
    """The service; ``design_doc``: the release's design doc (default: this one's)."""
    telemetry = Telemetry()
    app = web.Application(
        middlewares=[envelope_middleware, cors.preflight_middleware],
        client_max_size=settings.max_body_bytes,
        # a GET's query string carries what a POST's body would (aiohttp's default: 8190)
        # parser rejections: Crossbar's envelope and one log line without request bytes
        handler_args={
            "max_line_size": max(8190, settings.max_body_bytes),
            "logger": SlowClientLog(settings.header_timeout, telemetry),
        },
    )
    app[SETTINGS] = settings
    app[TELEMETRY] = telemetry
    app[LIMITS] = Limits(
        max_range_days=settings.max_range_days,
        max_identifiers=settings.max_identifiers,
        max_queue_ids=settings.max_queue_ids,
        max_id_length=settings.max_id_length,
    )
    app[REPORT_SLOTS] = asyncio.Semaphore(settings.max_reports)
    app[REPORT_SHARES] = Shares(settings.account_reports)

    async def couch_lifecycle(app: web.Application) -> AsyncIterator[None]:
        couch = Couch(
            settings.couchdb_url,
            timeout=settings.couch_timeout,
            max_concurrency=settings.couch_concurrency,
            node_retry=settings.node_retry,
            build_wait=settings.index_wait or None,
            telemetry=telemetry,
            credentials_pause=settings.couch_auth_pause,
        )
        metrics_apart = None
        try:
            cache = ViewCache(int(settings.cache_mb * 1024 * 1024), ttl=settings.cache_ttl)
            telemetry.watch_cache(cache.stats)
            installer = Installer(couch, design_doc)
            telemetry.build_info.labels(__version__, installer.name).set(1)
            app[LOADER] = Loader(
                couch,
                installer,
                settings.month_concurrency,
                cache,
                account_concurrency=settings.account_couch_concurrency,
            )
            app[AUTH] = auth or build_authenticator(settings, couch)
            if settings.metrics and settings.metrics_address:
                metrics_apart = await serve_metrics_apart(settings.metrics_address, telemetry)
            async with index_upkeep(
                couch,
                installer,
                telemetry,
                follow=settings.follow_db_updates,
                follow_retry=settings.follow_retry,
            ):
                yield
        finally:
            if metrics_apart is not None:
                await metrics_apart.cleanup()
            await couch.close()

    app.cleanup_ctx.append(couch_lifecycle)
    app.cleanup_ctx.append(names.name_cache)
    routes.add_routes(app, settings)
    dashboard.setup(app)
    cors.setup(app, settings.cors_origins)
    app.on_response_prepare.append(add_api_headers)
    readiness.setup(app)
    return app


def startup_line(settings: Settings, host: str, port: int) -> str:
    """What an operator checks first: which release, how clients authenticate, which CouchDB
    (never a password), which design doc, whether new MoDBs are followed."""
    nodes = [split_url(url) for url in node_urls(settings.couchdb_url)]
    user = next((u for _, u, _ in nodes if u), None)
    auth = (
        f"static tokens ({len(settings.tokens)})" if settings.auth == "static" else settings.auth
    )
    return (
        f"qubicle-reports {__version__} on http://{host}:{port}: auth {auth}; CouchDB "
        f"{', '.join(base for base, _, _ in nodes)} as {user or 'nobody'}; design doc "
        f"{design_docs.current_name()}; _db_updates follower "
        f"{'on' if settings.follow_db_updates else 'off'}"
    )


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # the event loop takes the interpreter lock back from the report worker within 0.2 ms
    # (Python's default: 5 ms): a request waits at most that per step behind report work
    # (bench/tenants.py: liveness p95 under A's load 77 ms at 1 ms, 16-29 ms at 0.2 ms)
    sys.setswitchinterval(0.0002)
    logging.getLogger("qubicle_reports").info(startup_line(settings, host, port))
    web.run_app(
        create_app(settings),
        host=host,
        port=port,
        access_log=None,
        shutdown_timeout=60,
        print=lambda msg: logging.getLogger("qubicle_reports").info(msg),
    )
