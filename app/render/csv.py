"""CSV: one header row ``id,period,<metrics...>``, one row per entity per bucket, CRLF.

Produced as a stream of chunks so a large report is never held in memory twice. Text cells
that a spreadsheet would run as a formula (starting ``=``, ``+``, ``-``, ``@``) are prefixed
with ``'`` (OWASP's advice for CSV injection).
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


def iter_csv(result: Result) -> Iterator[bytes]:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["id", "period", *result.request.metrics])
    for n, (entity, bucket, values) in enumerate(result.rows(), 1):
        writer.writerow([neutralise(entity), bucket, *values])
        if n % CHUNK_ROWS == 0:
            yield buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
    tail = buf.getvalue()
    if tail:
        yield tail.encode()
