"""The report route: ``/v2/accounts/{account_id}/qubicle_reports[/{report}]``.

Its steps in :class:`app.web.context.AccountRoute`'s order: validate the parameters
(:mod:`app.report.request`), wait for a report slot, run the pipeline (:mod:`app.report`),
and stream the result through the renderer of the requested format (:mod:`app.report.render`).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

from aiohttp import web

from app import errors
from app.report import offload
from app.report.merge import Result
from app.report.pipeline import run_report
from app.report.render import RENDERERS
from app.report.request import ReportRequest, validate
from app.telemetry import TELEMETRY, observe_report
from app.web.context import (
    LIMITS,
    LOADER,
    LOG_EXTRA,
    REPORT_SHARES,
    REPORT_SLOTS,
    REQUEST_ID,
    SETTINGS,
    AccountRoute,
    Params,
    envelope,
)
from app.web.negotiate import prefers

PATH = "/v2/accounts/{account_id}/qubicle_reports"
ACCEPT_PARAM = "accept"  # a parameter naming a format other than the body's or the default


def _wants_csv(request: web.Request, params: Params) -> bool:
    accept = params.pop(ACCEPT_PARAM, None) or request.query.get(ACCEPT_PARAM)
    csv = RENDERERS["csv"]
    if accept in (csv.name, csv.media_type):
        return True
    return prefers(request.headers.get("Accept"), csv.media_type, RENDERERS["json"].media_type)


def validate_report(request: web.Request, params: Params) -> ReportRequest:
    req = validate(
        params,
        path_report=request.match_info.get("report"),
        limits=request.app[LIMITS],
        csv_requested=_wants_csv(request, params),
    )
    request[LOG_EXTRA].update(report=req.report, period=req.period)
    return req


async def load_report(request: web.Request, account_id: str, req: ReportRequest) -> Result:
    settings = request.app[SETTINGS]
    result = await run_report(
        request.app[LOADER],
        account_id,
        req,
        max_cells=settings.max_cells,
        use_cache="no-cache" not in request.headers.get("Cache-Control", ""),
    )
    request[LOG_EXTRA].update(result.timings)
    return result


async def respond_report(
    request: web.Request, req: ReportRequest, result: Result
) -> web.StreamResponse:
    """The registered renderer of ``req.format``, its chunks streamed."""
    renderer = RENDERERS[req.format]
    started = time.perf_counter()
    headers = {"Content-Type": renderer.content_type, **renderer.headers(result)}
    small = len(result.entities) * len(result.keys) <= offload.SMALL_REPORT
    chunks = renderer.chunks(result, envelope(request))
    response = await respond_chunks(request, chunks, headers, small)
    timings = {**result.timings, "render": (time.perf_counter() - started) * 1000}
    observe_report(request.app[TELEMETRY], req.report, req.period, timings)
    return response


async def respond_chunks(
    request: web.Request, chunks: Iterator[bytes], headers: dict[str, str], small: bool = True
) -> web.StreamResponse:
    """A body that fits one chunk is sent whole; a larger one is streamed chunk by chunk, so
    a large report is never held whole as text. The chunks of a report that is not
    ``small`` are made in the report worker (:mod:`app.report.offload`): its rendering never
    holds up the event loop (other requests, liveness probes)."""
    first = await offload.run(small, next, chunks, b"")
    second = await offload.run(small, next, chunks, None)
    if second is None:
        return web.Response(body=first, headers=headers)
    response = web.StreamResponse(headers={**headers, "X-Request-ID": request[REQUEST_ID]})
    await response.prepare(request)
    await response.write(first)
    await response.write(second)
    while (chunk := await offload.run(small, next, chunks, None)) is not None:
        await response.write(chunk)
    await response.write_eof()
    return response


@asynccontextmanager
async def report_slot(app: web.Application, account_id: str) -> AsyncIterator[None]:
    """At most ``account_reports`` reports of one account and ``max_reports`` in all at once:
    a request waits ``queue_timeout`` for both, first its account's share (so an account over
    its share waits, and is told ``too busy``, without holding a slot the others need)."""
    slots, shares, telemetry = app[REPORT_SLOTS], app[REPORT_SHARES], app[TELEMETRY]
    wait = app[SETTINGS].queue_timeout
    telemetry.reports_waiting.inc()
    try:
        async with asyncio.timeout(wait):
            release_share = await shares.acquire(account_id)
            try:
                await slots.acquire()
            except BaseException:
                release_share()
                raise
    except TimeoutError:
        telemetry.reports_rejected.inc()
        raise errors.too_busy(math.ceil(wait)) from None
    finally:
        telemetry.reports_waiting.dec()
    telemetry.reports_running.inc()
    try:
        yield
    finally:
        telemetry.reports_running.dec()
        slots.release()
        release_share()


REPORT_ROUTE: AccountRoute[ReportRequest, Result] = AccountRoute(
    validate=validate_report, load=load_report, respond=respond_report, admit=report_slot
)
report_handler = REPORT_ROUTE.handle
