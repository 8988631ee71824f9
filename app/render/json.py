"""The Crossbar JSON envelope of the published examples."""

from __future__ import annotations

import time
from typing import Any

import orjson

from app.merge import Result


def render_json(result: Result, envelope: dict[str, Any]) -> bytes:
    """``{"data": [{"execution_times", "report"}], **envelope}``; render time measured here."""
    started = time.perf_counter()
    report = [{"id": entity, "data": data} for entity, data in result.series()]
    result.timings["render"] = round((time.perf_counter() - started) * 1000, 3)
    body = {
        "data": [{"execution_times": dict(result.timings), "report": report}],
        **envelope,
        "status": "success",
    }
    return orjson.dumps(body)
