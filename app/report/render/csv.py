"""CSV: one header row ``id,period,<metrics...>``, one row per entity per bucket, CRLF.

With totals, each entity also gets a row whose period is ``total``, and the rows of the
all-entities item have the id ``total``. Produced as a stream of chunks so a large report is
never held in memory twice. Text cells that a spreadsheet would act on (OWASP's CSV injection
guidance: starting with ``=``, ``+``, ``-``, ``@``, a tab, CR or LF; also ``;``, ``%``, ``|``
and their full-width forms such as U+FF1D, and any other control character) are prefixed
with ``'``; NUL is removed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING

import orjson

from app.report.render.registry import Renderer, register

if TYPE_CHECKING:
    from app.report.result import Result

# what a spreadsheet may read as the start of a formula or a command, with the full-width
# forms (U+FF01..U+FF5E mirror ASCII) some programs fold to ASCII before parsing
FORMULA_CHARS = "=+-@;%|"
FORMULA_START = frozenset(FORMULA_CHARS + "".join(chr(ord(c) + 0xFEE0) for c in FORMULA_CHARS))
CHUNK_ROWS = 2000


def neutralise(cell: str) -> str:
    """``cell`` without NUL, prefixed with ``'`` when a spreadsheet would act on its start."""
    cell = cell.replace("\0", "")
    if cell and (cell[0] in FORMULA_START or cell[0] < " " or cell[0] == "\x7f"):
        return "'" + cell
    return cell


def csv_filename(result: Result) -> str:
    r = result.request
    return f"qubicle_{r.report}_{r.period}_{r.start:%Y%m%d}_{r.end:%Y%m%d}.csv"


def _cell(text: str) -> str:
    """One text cell, neutralised and quoted as the csv module would."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow([neutralise(text)])
    return buf.getvalue()[:-2]


def _numbers(values: list[float | int]) -> list[bytes]:
    """Each value as JSON writes it (the shortest round-trip form, as ``str`` does), all
    formatted by one C call instead of one ``str`` per cell."""
    return orjson.dumps(values)[1:-1].split(b",") if values else []


def iter_csv(result: Result) -> Iterator[bytes]:
    """Chunks of CSV. Bucket keys and numbers never need quoting; only ids go through csv.
    Lines are joined column-wise (one id prefix per bucket, one formatted column per
    metric), so no Python code runs per cell."""
    header = ",".join(_cell(c) for c in ("id", "period", *result.request.metrics)) + "\r\n"
    keys = [k.encode() for k in result.keys]
    parts = [header.encode()]
    lines = 1
    for entity, metrics in result.series():
        id_cell = _cell(entity).encode() + b","
        columns = [_numbers(v) for v in metrics.values()]
        rows = zip([id_cell + k for k in keys], *columns, strict=True)
        parts.append(b"\r\n".join(map(b",".join, rows)) + b"\r\n")
        lines += len(keys)
        if lines >= CHUNK_ROWS:
            yield b"".join(parts)
            parts, lines = [], 0
    if parts:
        yield b"".join(parts)


register(
    Renderer(
        name="csv",
        media_type="text/csv",
        charset="utf-8",
        chunks=lambda result, envelope: iter_csv(result),
        headers=lambda result: {
            "Content-Disposition": f'attachment; filename="{csv_filename(result)}"'
        },
        description="header `id,period,<metrics...>`, then one row per entity per bucket "
        "(with `totals`: a row whose period is `total` after each entity's buckets, and last "
        "the rows whose id is `total`), CRLF line ends; cells a spreadsheet would run as a "
        "formula are prefixed with `'`",
    )
)
