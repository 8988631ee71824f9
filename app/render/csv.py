"""CSV: one header row ``id,period,<metrics...>``, one row per entity per bucket, CRLF.

With totals, each entity also gets a row whose period is ``total``, and the rows of the
all-entities item have the id ``total``. Produced as a stream of chunks so a large report is
never held in memory twice. Text cells that a spreadsheet would run as a formula (starting
``=``, ``+``, ``-``, ``@``) are prefixed with ``'`` (OWASP's advice for CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from app.merge import Result

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 2000


def neutralise(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def csv_filename(result: Result) -> str:
    r = result.request
    return f"qubicle_{r.report}_{r.period}_{r.start:%Y%m%d}_{r.end:%Y%m%d}.csv"


def _cell(text: str) -> str:
    """One text cell, neutralised and quoted as the csv module would."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow([neutralise(text)])
    return buf.getvalue()[:-2]


def iter_csv(result: Result) -> Iterator[bytes]:
    """Chunks of CSV. Bucket keys and numbers never need quoting; only ids go through csv."""
    lines = [",".join(_cell(c) for c in ("id", "period", *result.request.metrics))]
    keys = result.keys
    for entity, metrics in result.series():
        id_cell = _cell(entity)
        for key, *values in zip(keys, *metrics.values(), strict=True):
            lines.append(f"{id_cell},{key},{','.join(map(str, values))}")
        if len(lines) >= CHUNK_ROWS:
            yield ("\r\n".join(lines) + "\r\n").encode()
            lines = []
    if lines:
        yield ("\r\n".join(lines) + "\r\n").encode()
