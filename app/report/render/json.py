"""The Crossbar JSON envelope of the published examples, streamed.

Written as a stream of chunks, one report item at a time, so a large report is never held
whole as Python objects nor as text. ``execution_times`` comes after ``report`` in the
object (key order carries no meaning in JSON) because the render time is known only once
the report is written.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import orjson

from app.report.render.registry import Renderer, register

if TYPE_CHECKING:
    from app.report.result import Result

CHUNK_BYTES = 64 * 1024


def iter_json(result: Result, envelope: dict[str, Any]) -> Iterator[bytes]:
    """``{"data": [{"report", "execution_times"}], **envelope, "status": "success"}``."""
    spent = 0.0
    t = time.perf_counter()
    keys = result.keys
    parts = [b'{"data":[{"report":[']
    size = 0
    for n, (entity, metrics) in enumerate(result.series()):
        item = orjson.dumps(
            {"id": entity, "data": {m: dict(zip(keys, v, strict=True)) for m, v in metrics.items()}}
        )
        parts.append(b"," + item if n else item)
        size += len(item)
        if size >= CHUNK_BYTES:
            chunk = b"".join(parts)
            parts, size = [], 0
            spent += time.perf_counter() - t
            yield chunk
            t = time.perf_counter()
    spent += time.perf_counter() - t
    result.timings["render"] = round(spent * 1000, 3)
    tail = orjson.dumps({**envelope, "status": "success"})
    parts.append(b'],"execution_times":' + orjson.dumps(result.timings) + b"}]," + tail[1:])
    yield b"".join(parts)


def render_json(result: Result, envelope: dict[str, Any]) -> bytes:
    """The whole body at once (tests and small callers)."""
    return b"".join(iter_json(result, envelope))


register(
    Renderer(
        name="json",
        media_type="application/json",
        charset=None,
        chunks=iter_json,
        headers=lambda result: {},
        description="Crossbar's envelope: `data` holds one item with the report and its "
        "execution times",
    )
)
