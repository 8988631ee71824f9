"""HTTP front: Crossbar routes, envelope, errors, request ids and the access log.

Per request: authenticate -> check the account id -> authorize -> validate -> run the
report pipeline (:mod:`app.report`) -> hand the result to a renderer (:mod:`app.render`).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from functools import cache
from typing import Any

import orjson
from aiohttp import web

from app import errors
from app.config import Settings
from app.couch.client import Couch, CouchError, CouchUnavailable, IndexBuilding
from app.couch.index_status import IndexBuildingError
from app.couch.installer import Installer, ViewsNotInstallable
from app.couch.modb import is_account_id
from app.couch.upkeep import index_upkeep
from app.couch.view_cache import ViewCache
from app.report.load import Loader
from app.report.merge import Result
from app.report.pipeline import run_report
from app.report.render import csv_filename, iter_csv, iter_json
from app.report.request import Limits, from_query, validate
from app.telemetry import (
    TELEMETRY,
    Telemetry,
    metrics_handler,
    observe_report,
    observe_request,
    serve_metrics_apart,
)
from app.web import cors, dashboard, names
from app.web.auth import Authenticator, build_authenticator
from app.web.openapi import spec
from app.web.rejected import REJECTED_LOG

log = logging.getLogger("qubicle_reports.access")

SETTINGS = web.AppKey("settings", Settings)
LOADER = web.AppKey("loader", Loader)
LIMITS = web.AppKey("limits", Limits)
REPORT_SLOTS = web.AppKey("report_slots", asyncio.Semaphore)
AUTH = web.AppKey("auth", Authenticator)
REQUEST_ID = web.RequestKey("request_id", str)
TOKEN = web.RequestKey("auth_token", str)
LOG_EXTRA = web.RequestKey("log_extra", dict)
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(status: int, body: dict[str, Any]) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


def error_response(request: web.Request, err: errors.ApiError) -> web.Response:
    response = _json(err.status, err.body(request.get(REQUEST_ID, ""), request.get(TOKEN) or ""))
    response.headers.update(err.headers)
    return response


@web.middleware
async def envelope_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request id in and out, Crossbar errors for everything, one access-log line."""
    started = time.perf_counter()
    sent = request.headers.get("X-Request-ID", "")
    request[REQUEST_ID] = sent if REQUEST_ID_RE.fullmatch(sent) else uuid.uuid4().hex
    request[TOKEN] = _token(request, request.query.get("auth_token")) or ""
    try:
        response = await handler(request)
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
    return response


def where(e: BaseException) -> str:
    """An exception's class and the frames it passed through, without its message."""
    frames = traceback.extract_tb(e.__traceback__)[-4:]
    trail = " < ".join(f"{f.name}@{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in frames)
    return f"{type(e).__name__} at {trail}"


@contextmanager
def datastore_errors() -> Iterator[None]:
    """Any CouchDB trouble is a Crossbar 503 that names no URL and no credential."""
    try:
        yield
    except ViewsNotInstallable as e:
        raise errors.datastore(str(e)) from None
    except IndexBuilding as e:
        raise IndexBuildingError(e.state) from None
    except CouchUnavailable as e:
        raise errors.datastore(f"the datastore is unavailable: {e}") from None
    except CouchError as e:
        raise errors.datastore(f"the datastore failed: {e.status} {e.error}") from None
    except TimeoutError:
        raise errors.datastore("the datastore did not answer in time") from None


async def _params(request: web.Request) -> tuple[dict[str, Any], str | None]:
    """Report parameters and a token found in the body or query string."""
    if request.method == "GET":
        params = from_query(request.query)
        return params, params.pop("auth_token", None)
    raw = await request.read()
    if not raw.strip():
        return {}, request.query.get("auth_token")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise errors.invalid_json() from None
    if not isinstance(body, dict) or not isinstance(body.get("data", {}), dict):
        raise errors.invalid_json("validation error")
    data = dict(body.get("data", {}))
    token = (
        body.get("auth_token") or data.pop("auth_token", None) or request.query.get("auth_token")
    )
    return data, token if isinstance(token, str) else None


def _token(request: web.Request, from_params: str | None) -> str | None:
    header = request.headers.get("X-Auth-Token")
    if header:
        return _utf8(header)
    authorization = request.headers.get("Authorization", "")
    if authorization[:7].lower() == "bearer ":
        return _utf8(authorization[7:].strip())
    return from_params


def _utf8(token: str) -> str:
    """A header that is not UTF-8 (aiohttp keeps such bytes as surrogates) holds no token."""
    try:
        token.encode()
    except UnicodeEncodeError:
        return ""
    return token


def _wants_csv(request: web.Request, params: dict[str, Any]) -> bool:
    accept = params.pop("accept", None) or request.query.get("accept")
    if accept in ("csv", "text/csv"):
        return True
    return "text/csv" in request.headers.get("Accept", "")


async def authorized_account(request: web.Request, token: str | None) -> str:
    """The path's account id once the token may read it: 401, 404 ``bad_identifier``, 403,
    or a 503 when CouchDB cannot say (every account-scoped route goes through here)."""
    request[TOKEN] = token or ""
    auth = request.app[AUTH]
    principal = await auth.authenticate(token)
    account_id = request.match_info["account_id"]
    if not is_account_id(account_id):
        raise errors.bad_identifier(account_id)
    with datastore_errors():
        async with asyncio.timeout(request.app[SETTINGS].report_timeout):
            await auth.authorize(principal, account_id)
    return account_id


async def report_handler(request: web.Request) -> web.StreamResponse:
    app = request.app
    params, body_token = await _params(request)
    token = _token(request, body_token)
    account_id = await authorized_account(request, token)

    settings = app[SETTINGS]
    req = validate(
        params,
        path_report=request.match_info.get("report"),
        limits=app[LIMITS],
        csv_requested=_wants_csv(request, params),
    )
    request[LOG_EXTRA] = {"account_id": account_id, "report": req.report, "period": req.period}
    no_cache = "no-cache" in request.headers.get("Cache-Control", "")
    async with report_slot(app):
        with datastore_errors():
            async with asyncio.timeout(settings.report_timeout):
                result = await run_report(
                    app[LOADER],
                    account_id,
                    req,
                    max_cells=settings.max_cells,
                    use_cache=not no_cache,
                )
    request[LOG_EXTRA].update(result.timings)

    started = time.perf_counter()
    response = await RESPONDERS[req.format](request, result, token or "")
    timings = {**result.timings, "render": (time.perf_counter() - started) * 1000}
    observe_report(app[TELEMETRY], req.report, req.period, timings)
    return response


async def respond_json(request: web.Request, result: Result, token: str) -> web.StreamResponse:
    envelope = {"request_id": request[REQUEST_ID], "auth_token": token}
    return await respond_chunks(
        request, iter_json(result, envelope), {"Content-Type": "application/json"}
    )


async def respond_csv(request: web.Request, result: Result, token: str) -> web.StreamResponse:
    headers = {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{csv_filename(result)}"',
    }
    return await respond_chunks(request, iter_csv(result), headers)


async def respond_chunks(
    request: web.Request, chunks: Iterator[bytes], headers: dict[str, str]
) -> web.StreamResponse:
    """A body that fits one chunk is sent whole; a larger one is streamed chunk by chunk, so
    a large report is never held whole as text."""
    first = next(chunks, b"")
    second = next(chunks, None)
    if second is None:
        return web.Response(body=first, headers=headers)
    response = web.StreamResponse(headers={**headers, "X-Request-ID": request[REQUEST_ID]})
    await response.prepare(request)
    await response.write(first)
    await response.write(second)
    for chunk in chunks:
        await response.write(chunk)
    await response.write_eof()
    return response


Responder = Callable[[web.Request, Result, str], Awaitable[web.StreamResponse]]
RESPONDERS: dict[str, Responder] = {"json": respond_json, "csv": respond_csv}


@asynccontextmanager
async def report_slot(app: web.Application) -> AsyncIterator[None]:
    """At most ``max_reports`` reports at once; a request waits ``queue_timeout`` for a slot."""
    slots, telemetry = app[REPORT_SLOTS], app[TELEMETRY]
    telemetry.reports_waiting.inc()
    try:
        await asyncio.wait_for(slots.acquire(), app[SETTINGS].queue_timeout)
    except TimeoutError:
        telemetry.reports_rejected.inc()
        raise errors.too_busy() from None
    finally:
        telemetry.reports_waiting.dec()
    telemetry.reports_running.inc()
    try:
        yield
    finally:
        telemetry.reports_running.dec()
        slots.release()


async def health_handler(request: web.Request) -> web.Response:
    up = await request.app[LOADER].couch.ping()
    body = {"status": "ok" if up else "degraded", "couchdb": "up" if up else "down"}
    return _json(200 if up else 503, body)


async def live_handler(request: web.Request) -> web.Response:
    """The process answers (orchestrators restart it when not)."""
    return _json(200, {"status": "ok"})


async def ready_handler(request: web.Request) -> web.Response:
    """A CouchDB node answers within ``QUBICLE_REPORTS_READY_TIMEOUT`` (send traffic here)."""
    up = await request.app[LOADER].couch.ready(request.app[SETTINGS].ready_timeout)
    body = {"status": "ready" if up else "not ready", "couchdb": "up" if up else "down"}
    return _json(200 if up else 503, body)


@cache
def spec_bytes(limits: Limits) -> bytes:
    """The OpenAPI document, built once per process (pydantic's schema generation is slow)."""
    return orjson.dumps(spec(limits))


async def openapi_handler(request: web.Request) -> web.Response:
    return web.Response(body=spec_bytes(request.app[LIMITS]), content_type="application/json")


def create_app(settings: Settings, auth: Authenticator | None = None) -> web.Application:
    app = web.Application(
        middlewares=[envelope_middleware, cors.preflight_middleware],
        client_max_size=settings.max_body_bytes,
        # a GET's query string carries what a POST's body would (aiohttp's default: 8190)
        # parser rejections: Crossbar's envelope and one log line without request bytes
        handler_args={
            "max_line_size": max(8190, settings.max_body_bytes),
            "logger": REJECTED_LOG,
        },
    )
    app[SETTINGS] = settings
    app[TELEMETRY] = telemetry = Telemetry()
    app[LIMITS] = Limits(
        max_range_days=settings.max_range_days,
        max_identifiers=settings.max_identifiers,
        max_queue_ids=settings.max_queue_ids,
        max_id_length=settings.max_id_length,
    )
    app[REPORT_SLOTS] = asyncio.Semaphore(settings.max_reports)

    async def couch_lifecycle(app: web.Application) -> Any:
        couch = Couch(
            settings.couchdb_url,
            timeout=settings.couch_timeout,
            max_concurrency=settings.couch_concurrency,
            node_retry=settings.node_retry,
            build_wait=settings.index_wait or None,
            telemetry=telemetry,
        )
        metrics_apart = None
        try:
            cache = ViewCache(int(settings.cache_mb * 1024 * 1024), ttl=settings.cache_ttl)
            telemetry.watch_cache(cache.stats)
            installer = Installer(couch)
            app[LOADER] = Loader(couch, installer, settings.month_concurrency, cache)
            app[AUTH] = auth or build_authenticator(settings, couch)
            if settings.metrics and settings.metrics_address:
                metrics_apart = await serve_metrics_apart(settings.metrics_address, telemetry)
            follow = settings.follow_db_updates
            async with index_upkeep(couch, installer, telemetry, follow=follow):
                yield
        finally:
            if metrics_apart is not None:
                await metrics_apart.cleanup()
            await couch.close()

    app.cleanup_ctx.append(couch_lifecycle)
    base = "/v2/accounts/{account_id}/qubicle_reports"
    for path in (base, base + "/", base + "/{report}", base + "/{report}/"):
        app.router.add_route("POST", path, report_handler)
        app.router.add_route("GET", path, report_handler)
    app.router.add_get("/health", health_handler)
    app.router.add_get("/health/live", live_handler)
    app.router.add_get("/health/ready", ready_handler)
    if settings.metrics and not settings.metrics_address:
        app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/openapi.json", openapi_handler)
    names.setup(app)
    dashboard.setup(app)
    cors.setup(app, settings.cors_origins)
    return app


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    web.run_app(
        create_app(settings),
        host=host,
        port=port,
        access_log=None,
        shutdown_timeout=60,
        print=lambda msg: logging.getLogger("qubicle_reports").info(msg),
    )
