"""The report route: ``/v2/accounts/{account_id}/qubicle_reports[/{report}]``.

Its steps in :class:`app.web.context.AccountRoute`'s order: validate the parameters
(:mod:`app.report.request`), wait for a report slot, run the pipeline (:mod:`app.report`),
and stream the result through the renderer of the requested format (:mod:`app.report.render`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

from aiohttp import web

from app import errors
from app.report.pipeline import run_report
from app.report.render import RENDERERS
from app.report.request import ReportRequest, validate
from app.report.result import Result
from app.telemetry import TELEMETRY, observe_report
from app.web.context import (
    LIMITS,
    LOADER,
    LOG_EXTRA,
    REPORT_SLOTS,
    REQUEST_ID,
    SETTINGS,
    AccountRoute,
    Params,
    envelope,
)

PATH = "/v2/accounts/{account_id}/qubicle_reports"
ACCEPT_PARAM = "accept"  # a parameter naming a format other than the body's or the default


def _wants_csv(request: web.Request, params: Params) -> bool:
    accept = params.pop(ACCEPT_PARAM, None) or request.query.get(ACCEPT_PARAM)
    csv = RENDERERS["csv"]
    if accept in (csv.name, csv.media_type):
        return True
    return csv.media_type in request.headers.get("Accept", "")


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
    response = await respond_chunks(request, renderer.chunks(result, envelope(request)), headers)
    timings = {**result.timings, "render": (time.perf_counter() - started) * 1000}
    observe_report(request.app[TELEMETRY], req.report, req.period, timings)
    return response


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


REPORT_ROUTE: AccountRoute[ReportRequest, Result] = AccountRoute(
    validate=validate_report, load=load_report, respond=respond_report, admit=report_slot
)
report_handler = REPORT_ROUTE.handle
