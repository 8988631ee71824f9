"""One report, one pipeline: plan buckets -> plan queries (MoDB range) -> load + merge."""

from __future__ import annotations

import time

from app import errors
from app.report import offload
from app.report.agent_states import FIELDS, AgentSums, TooManyAgents, gregorian_now, timeline
from app.report.buckets import BucketPlan, plan
from app.report.events import read_events
from app.report.load import Answer, Loader, Query, plan_queries, sources_for
from app.report.merge import Merge, TooManyCells
from app.report.metrics import REPORTS
from app.report.request import ReportRequest
from app.report.result import Result


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
    now: int | None = None,
) -> Result:
    """Load and merge. ``load`` is the time until the last answer is folded in (receiving
    and parsing the answers) less the time spent folding rows into sums (``filter``), which
    happens as each answer arrives, one batch of rows after the other."""
    started = time.perf_counter()
    buckets = plan(req.start, req.end, req.period, req.timezone)
    if req.identifiers is not None and len(req.identifiers) * len(buckets.buckets) > max_cells:
        raise too_large(len(req.identifiers) * len(buckets.buckets), max_cells)
    if REPORTS[req.report].reads == "events":
        return await agent_states(loader, account_id, req, buckets, max_cells, now, started)
    sources = sources_for(req)
    merge = Merge(req, buckets, sources, max_cells)

    def fold(query: Query, raw: Answer) -> None:
        assert query.source is not None
        merge.add_answer(query.source, raw)

    await loader.load(plan_queries(account_id, req, buckets, sources), fold, use_cache)
    try:
        cells = max(len(merge.sums), len(req.identifiers or ())) * len(buckets.buckets)
        result = await offload.run(cells <= offload.SMALL_REPORT, merge.result)
    except TooManyCells as e:
        raise too_large(e.cells, max_cells) from None
    folding = merge.fold_seconds
    result.timings = {
        "load": _ms(time.perf_counter() - started - folding),
        "filter": _ms(folding),
    }
    return result


async def agent_states(
    loader: Loader,
    account_id: str,
    req: ReportRequest,
    buckets: BucketPlan,
    max_cells: int,
    now: int | None,
    started: float,
) -> Result:
    """The agent_states report (CONTRACT.md 7): status events read in key order and folded
    into seconds per state as they arrive (app.report.events, app.report.agent_states).
    ``now``: Gregorian seconds no state is counted past (default: the clock)."""
    wanted = set(req.identifiers) if req.identifiers is not None else None
    sums = AgentSums(timeline(buckets), now or gregorian_now(), wanted, max_cells)
    await read_events(loader, account_id, req.identifiers, sums)
    try:
        sums.check()
    except TooManyAgents as e:
        raise too_large(e.cells, max_cells) from None
    agents = list(req.identifiers) if req.identifiers is not None else sorted(sums.sums)
    result = Result(req, buckets.buckets, agents, FIELDS, sums.sums)
    result.timings = {
        "load": _ms(time.perf_counter() - started - sums.fold_seconds),
        "filter": _ms(sums.fold_seconds),
    }
    return result
