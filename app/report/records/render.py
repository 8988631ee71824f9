"""A record report's body (CONTRACT.md 8c): a JSON page in Crossbar's paginated envelope, or
CSV of every row, streamed a batch at a time (one header line, the report's fields as
columns, CRLF; absent values empty; text a spreadsheet would run as a formula prefixed with
``'``, as the aggregates' CSV does)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import orjson

from app.report import offload
from app.report.record_kinds import RECORDS
from app.report.records.read import Page, Ranked
from app.report.render.csv import neutralise
from app.report.request import RecordRequest

Row = dict[str, Any]
SMALL_ROWS = 500  # rows written out on the event loop (~1 ms); more go to the report worker


def page_json(req: RecordRequest, page: Page, envelope: dict[str, Any]) -> bytes:
    """``{"data": [rows], "page_size", "start_key"?, "next_start_key"?, **envelope,
    "status": "success"}``: Crossbar's paginated list."""
    body: dict[str, Any] = {"data": page.rows, "page_size": len(page.rows)}
    if req.start_key_text is not None:
        body["start_key"] = req.start_key_text
    if page.next_start_key is not None:
        body["next_start_key"] = page.next_start_key
    return orjson.dumps({**body, **envelope, "status": "success"})


def csv_filename(req: RecordRequest) -> str:
    part = f"_{req.bucket}" if req.bucket else ""
    return f"qubicle_{req.report}{part}_{req.start:%Y%m%d}_{req.end:%Y%m%d}.csv"


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return neutralise(value)
    return value  # a number: as csv writes it (int, or float's shortest repr)


def csv_lines(columns: tuple[str, ...], rows: list[Row], header: bool = False) -> bytes:
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\r\n")
    if header:
        out.writerow(columns)
    out.writerows([_cell(row.get(c)) for c in columns] for row in rows)
    return buf.getvalue().encode()


def csv_page(req: RecordRequest, rows: list[Row]) -> bytes:
    return csv_lines(RECORDS[req.report].columns, rows, header=True)


async def csv_chunks(
    req: RecordRequest, first: list[Row], rest: AsyncIterator[list[Ranked]]
) -> AsyncGenerator[bytes, None]:
    """The header and the first batch, then each batch as it is read."""
    columns = RECORDS[req.report].columns
    yield csv_lines(columns, first, header=True)
    async for batch in rest:
        rows = [row for _, row in batch]
        yield await offload.run(len(rows) < SMALL_ROWS, csv_lines, columns, rows)
