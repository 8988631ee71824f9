"""One report, one pipeline: plan buckets -> plan queries (MoDB range) -> load -> merge."""

from __future__ import annotations

import time

from app import errors
from app.buckets import plan
from app.load import Loader, plan_queries
from app.merge import Result, merge
from app.request import ReportRequest


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 3)


def too_large(cells: int, limit: int) -> errors.ApiError:
    return errors.validation(
        {
            "identifiers": {
                "maxCells": {
                    "message": f"The report would hold {cells} entity x bucket cells, more "
                    f"than {limit}: narrow the range, use a longer period or fewer identifiers",
                    "value": cells,
                    "target": limit,
                }
            }
        }
    )


async def run_report(
    loader: Loader,
    account_id: str,
    req: ReportRequest,
    *,
    max_cells: int = 500_000,
    use_cache: bool = True,
) -> Result:
    started = time.perf_counter()
    buckets = plan(req.start, req.end, req.period, req.timezone)
    if req.identifiers is not None and len(req.identifiers) * len(buckets.buckets) > max_cells:
        raise too_large(len(req.identifiers) * len(buckets.buckets), max_cells)
    queries = plan_queries(account_id, req, buckets)
    row_sets = await loader.load(queries, use_cache=use_cache)
    load_ms = _ms(started)
    started = time.perf_counter()
    result = merge(req, buckets, row_sets)
    if len(result.entities) * len(result.buckets) > max_cells:
        raise too_large(len(result.entities) * len(result.buckets), max_cells)
    result.timings = {"load": load_ms, "filter": _ms(started)}
    return result
