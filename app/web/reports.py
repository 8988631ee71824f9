"""The report route: ``/v2/accounts/{account_id}/qubicle_reports[/{report}]``.

Its steps in :class:`app.web.context.AccountRoute`'s order: validate the parameters
(:mod:`app.report.request`), wait for a report slot, run the pipeline (:mod:`app.report`),
and stream the result through the renderer of the requested format (:mod:`app.report.render`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from app import errors
from app.report import offload
from app.report.agent_states import gregorian_now
from app.report.pipeline import run_report
from app.report.records.read import Page, Ranked, first_batch, read_page
from app.report.records.render import csv_chunks, csv_filename, csv_page, page_json
from app.report.render import RENDERERS
from app.report.request import RecordRequest, ReportRequest, validate
from app.report.result import Result
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
log = logging.getLogger("qubicle_reports.access")
ACCEPT_PARAM = "accept"  # a parameter naming a format other than the body's or the default


def _wants_csv(request: web.Request, params: Params) -> bool:
    accept = params.pop(ACCEPT_PARAM, None) or request.query.get(ACCEPT_PARAM)
    csv = RENDERERS["csv"]
    if accept in (csv.name, csv.media_type):
        return True
    return prefers(request.headers.get("Accept"), csv.media_type, RENDERERS["json"].media_type)


@dataclass
class Records:
    """A record report's answer: one page, or (CSV) every row, the first batch read."""

    page: Page | None = None
    first: list[dict[str, object]] | None = None
    rest: AsyncGenerator[list[Ranked], None] | None = None


Request = ReportRequest | RecordRequest
Loaded = Result | Records


def validate_report(request: web.Request, params: Params) -> Request:
    req = validate(
        params,
        path_report=request.match_info.get("report"),
        limits=request.app[LIMITS],
        csv_requested=_wants_csv(request, params),
    )
    request[LOG_EXTRA].update(report=req.report, period=req.period)
    return req


def _paged(req: RecordRequest) -> bool:
    """JSON answers a page; CSV every row unless a page_size or start_key asks for a page."""
    return req.format != "csv" or req.page_size is not None or req.start_key is not None


async def load_report(request: web.Request, account_id: str, req: Request) -> Loaded:
    if isinstance(req, RecordRequest):
        loader, now = request.app[LOADER], gregorian_now()
        if _paged(req):
            return Records(page=await read_page(loader, account_id, req, now))
        first, rest = await first_batch(loader, account_id, req, now)
        return Records(first=first, rest=rest)
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


async def respond_report(request: web.Request, req: Request, loaded: Loaded) -> web.StreamResponse:
    """The registered renderer of ``req.format``, its chunks streamed."""
    if isinstance(req, RecordRequest) and isinstance(loaded, Records):
        return await respond_records(request, req, loaded)
    assert isinstance(req, ReportRequest) and isinstance(loaded, Result)
    result = loaded
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


async def respond_records(
    request: web.Request, req: RecordRequest, loaded: Records
) -> web.StreamResponse:
    """A page as one body (JSON, or CSV of the page's rows with its ``X-Next-Start-Key``),
    or CSV of every row streamed as it is read: a failure past the first batch breaks the
    response off (no final chunk), so a cut answer never passes for a whole one."""
    if loaded.page is not None:
        page = loaded.page
        if req.format != "csv":
            return web.json_response(body=page_json(req, page, envelope(request)))
        rest = page.next_start_key
        headers = {"X-Next-Start-Key": rest} if rest else {}
        body = csv_page(req, page.rows)
        return web.Response(body=body, headers={**headers, **_csv_headers(req)})
    assert loaded.first is not None and loaded.rest is not None
    response = web.StreamResponse(
        headers={**_csv_headers(req), "X-Request-ID": request[REQUEST_ID]}
    )
    chunks = csv_chunks(req, loaded.first, loaded.rest)
    await response.prepare(request)
    try:
        async for chunk in chunks:
            await response.write(chunk)
    except Exception as e:  # CouchDB failing, timing out: nothing more can be said
        # the status is sent: break the answer off, so it cannot pass for a whole one
        log.error(
            "record stream broken off (request %s): %s", request[REQUEST_ID], type(e).__name__
        )
        if request.transport is not None:
            request.transport.abort()
        return response
    finally:
        await chunks.aclose()
        await loaded.rest.aclose()
    await response.write_eof()
    return response


def _csv_headers(req: RecordRequest) -> dict[str, str]:
    return {
        "Content-Type": RENDERERS["csv"].content_type,
        "Content-Disposition": f'attachment; filename="{csv_filename(req)}"',
    }


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


REPORT_ROUTE: AccountRoute[Request, Loaded] = AccountRoute(
    validate=validate_report, load=load_report, respond=respond_report, admit=report_slot
)
report_handler = REPORT_ROUTE.handle
