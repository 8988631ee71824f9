"""One report, one pipeline: plan buckets -> plan queries (MoDB range) -> load + merge."""

from __future__ import annotations

import time

from app import errors
from app.report.buckets import plan
from app.report.load import Answer, Loader, Query, plan_queries, sources_for
from app.report.merge import Merge, Result, TooManyCells
from app.report.request import ReportRequest


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def too_large(cells: int, limit: int) -> errors.ApiError:
    return errors.invalid(
        "identifiers",
        "maxCells",
        f"The report would hold {cells} entity x bucket cells, more than {limit}: narrow the "
        "range, use a longer period or fewer identifiers",
        value=cells,
        target=limit,
    )


async def run_report(
    loader: Loader,
    account_id: str,
    req: ReportRequest,
    *,
    max_cells: int = 500_000,
    use_cache: bool = True,
) -> Result:
    """Load and merge. ``load`` is the time until the last answer is folded in (receiving
    and parsing the answers) less the time spent folding rows into sums (``filter``), which
    happens as each answer arrives, one batch of rows after the other."""
    started = time.perf_counter()
    buckets = plan(req.start, req.end, req.period, req.timezone)
    if req.identifiers is not None and len(req.identifiers) * len(buckets.buckets) > max_cells:
        raise too_large(len(req.identifiers) * len(buckets.buckets), max_cells)
    sources = sources_for(req)
    merge = Merge(req, buckets, sources, max_cells)

    def fold(query: Query, raw: Answer) -> None:
        merge.add_answer(query.source, raw)

    await loader.load(plan_queries(account_id, req, buckets, sources), fold, use_cache)
    try:
        result = merge.result()
    except TooManyCells as e:
        raise too_large(e.cells, max_cells) from None
    folding = merge.fold_seconds
    result.timings = {
        "load": _ms(time.perf_counter() - started - folding),
        "filter": _ms(folding),
    }
    return result
