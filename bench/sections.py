"""The sections of bench/bench.py, each measuring one question (see its docstring)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cheapest import DDOC as MINIMAL_DDOC
from cheapest import Read, cheapest_queries, design_doc
from common import (
    Dataset,
    Stats,
    log,
    query_until_built,
)
from shapes import CHECKED, TABLE_MONTHS, Report, queries_of, reports, shape, span
from targets import Bench, Target, call_counts, floor_call_counts, repeat

from app.couch.client import Couch
from app.couch.installer import month_dbs
from app.couch.modb import modbs_for_range
from app.report.metrics import REPORTS


async def steps_of(
    b: Bench, t: Target, r: Report, *, ours: bool = True
) -> tuple[bytes, list[Callable[[], Awaitable[float]]]]:
    """One untimed round (a process's first request to a MoDB also checks its design doc,
    the first floor request opens connections; the floor's answer is checked against the
    service's where ``r.check_floor``), then the timed steps: service, cheapest (, ours)."""
    reads = cheapest_queries(t.ds.account_id, r.params)
    queries = queries_of(t.ds.account_id, r.params)
    _, body = await b.service_once(t, r.params)
    _, floor_bodies = await b.cheapest_once(reads)
    r.response_bytes = len(body)
    if r.check_floor:
        r.floor_agrees = floor_call_counts(floor_bodies, r.params) == call_counts(body)
        if not r.floor_agrees:
            r.notes.append("cheapest read's call_count DIFFERS from the service's")
    if ours:
        await b.ours_once(queries)

    async def service() -> float:
        return (await b.service_once(t, r.params))[0]

    async def floor() -> float:
        return (await b.cheapest_once(reads))[0]

    async def own() -> float:
        return await b.ours_once(queries)

    return body, ([service, floor, own] if ours else [service, floor])


async def service_vs_floor(
    b: Bench, t: Target, r: Report, runs: int, *, ours: bool = True
) -> bytes:
    """Cold service runs interleaved with the cheapest read (and our own queries)."""
    body, steps = await steps_of(b, t, r, ours=ours)
    stats = await repeat(runs, *steps)
    r.service, r.floor = stats[0], stats[1]
    r.ours = stats[2] if ours else None
    return body


async def measure_naive(b: Bench, account_id: str, r: Report, body: bytes, runs: int) -> None:
    """The no-view baseline, and whether its call counts equal the service's answer."""
    naive_ms, sums = await b.naive_once(account_id, r.params)
    theirs = {q: {k: v[0] for k, v in per.items()} for q, per in sums.items()}
    r.naive_agrees = call_counts(body) == theirs
    if not r.naive_agrees:
        r.notes.append("naive call_count DIFFERS from the service's")

    async def naive() -> float:
        return (await b.naive_once(account_id, r.params))[0]

    (more,) = await repeat(runs - 1, naive)  # the first run counts too
    r.naive_stats = Stats((naive_ms, *more.runs))


async def measure_reports(
    b: Bench, t: Target, items: list[Report], args: argparse.Namespace, *, naive: bool
) -> None:
    """service vs cheapest read vs our own queries (vs naive) for every report."""
    for r in items:
        log(f"report: {r.name} ({t.ds.source})")
        body = await service_vs_floor(b, t, r, args.repeat)
        if naive and r.naive:
            await measure_naive(b, t.ds.account_id, r, body, args.naive_repeat)


async def put_minimal(url: str, account_id: str, timeout: float) -> None:
    """``_design/bench_minimal`` in the account's MoDBs (comparison only), before any index
    is built: writing a design doc moves a MoDB's update_seq, and the stand-in takes an
    index one change behind for one being built (its service answers 503 then)."""
    couch = Couch(url, timeout=timeout, max_concurrency=4)
    doc = design_doc()
    try:
        for db in sorted(await month_dbs(couch, account_id)):
            current = await couch.get_doc(db, doc["_id"])
            if current is None or current.get("views") != doc["views"]:
                new = dict(doc)
                if current is not None:
                    new["_rev"] = current["_rev"]
                await couch.put_doc(db, new)
    finally:
        await couch.close()


async def warm_minimal(url: str, account_id: str, views: set[str], timeout: float) -> float:
    """Build the indexes of ``views`` of bench_minimal (CouchDB builds all of a design doc's
    views at once; the stand-in only those queried); the seconds it took."""
    couch = Couch(url, timeout=timeout, max_concurrency=4)
    started = time.perf_counter()
    try:
        for db in sorted(await month_dbs(couch, account_id)):
            for view in sorted(views):
                await query_until_built(couch, db, MINIMAL_DDOC, view, started)
    finally:
        await couch.close()
    return time.perf_counter() - started


async def measure_warm(
    b: Bench, t: Target, items: list[Report], args: argparse.Namespace
) -> list[dict[str, Any]]:
    """The same past-month reports without ``no-cache``: what a repeated dashboard costs."""
    out = []
    for r in items:
        if r.params.get("format") == "csv" or r.service is None:
            continue
        log(f"warm: {r.name}")
        await b.service_once(t, r.params, cold=False)  # fills the cache

        async def warm(params: dict[str, Any] = r.params) -> float:
            return (await b.service_once(t, params, cold=False))[0]

        (w,) = await repeat(args.repeat, warm)
        out.append({"report": r.name, "cold": r.service, "warm": w})
    return out


def every_kpi(params: dict[str, Any]) -> dict[str, Any]:
    """The same report asking every metric of its kind, with totals."""
    return {**params, "metrics": list(REPORTS[params["report"]].metrics), "totals": True}


async def measure_kpis(b: Bench, t: Target, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Issue 9: every KPI with totals vs only the published metrics, same range, cold,
    interleaved; the published metrics with totals (totals alone read nothing more); each
    against its cheapest read, and the KPI report's own queries straight to CouchDB (what
    our KPI views cost without the service)."""
    out = []
    n = min(t.ds.months, TABLE_MONTHS)
    for period in ("daily", "hourly"):
        published = {"report": "queues", "period": period, **span(t.ds)}
        kpis = every_kpi(published)
        variants = {
            "published": published,
            "published_totals": {**published, "totals": True},
            "kpis": kpis,
            # max_wait lives in a view of its own (_stats): what the rest costs without it
            "kpis_no_max": {**kpis, "metrics": [m for m in kpis["metrics"] if m != "max_wait"]},
        }
        log(f"kpis: queues {period} {n} months")
        for params in variants.values():
            await b.service_once(t, params)
        p_reads = cheapest_queries(t.ds.account_id, published)
        k_reads = cheapest_queries(t.ds.account_id, variants["kpis"])
        k_ours = queries_of(t.ds.account_id, variants["kpis"])
        await b.cheapest_once(k_reads)
        await b.ours_once(k_ours)

        async def srv(params: dict[str, Any]) -> float:
            return (await b.service_once(t, params))[0]

        async def low(reads: list[Read]) -> float:
            return (await b.cheapest_once(reads))[0]

        stats = await repeat(
            args.repeat,
            *(partial(srv, p) for p in variants.values()),
            partial(low, p_reads),
            partial(low, k_reads),
            partial(b.ours_once, k_ours),
        )
        row: dict[str, Any] = dict(zip(variants, stats, strict=False))
        row.update(
            period=period,
            published_floor=stats[4],
            kpis_floor=stats[5],
            kpis_ours=stats[6],
            kpi_views=sorted({r.view for r in k_reads}),
        )
        out.append(row)
    return out


def acdc_reports(ds: Dataset) -> list[Report]:
    """Issue 8: UTC daily and hourly reports, the same over either document shape."""
    return [
        shape(ds, "queues", "daily", flags=CHECKED),
        shape(ds, "queues", "hourly"),
        shape(ds, "recipients", "daily", flags=CHECKED),
    ]


async def measure_acdc(
    b: Bench, qubicle: Target, acdc: Target, args: argparse.Namespace
) -> list[dict[str, Any]]:
    """service/cheapest over call_stat data against the same over qubicle_session data of
    the same size, all four steps interleaved round by round."""
    out = []
    for q, a in zip(acdc_reports(qubicle.ds), acdc_reports(acdc.ds), strict=True):
        log(f"acdc: {q.name}")
        _, q_steps = await steps_of(b, qubicle, q, ours=False)
        _, a_steps = await steps_of(b, acdc, a, ours=False)
        q.service, q.floor, a.service, a.floor = await repeat(args.repeat, *q_steps, *a_steps)
        out.append({"report": q.name, "qubicle": q, "acdc": a})
    return out


def before_reports(ds: Dataset) -> list[Report]:
    """Published metrics only (what the earlier service answers)."""
    return [r for r in reports(ds) if "Kolkata" not in r.name]


async def measure_before(
    b: Bench, now: Target, before: Target, args: argparse.Namespace
) -> list[dict[str, Any]]:
    """This service against the earlier one, each on its own identical copy of the data
    with its own design doc; each against the cheapest read of its copy. Interleaved."""
    out = []
    for r_now, r_before in zip(before_reports(now.ds), before_reports(before.ds), strict=True):
        log(f"before: {r_now.name}")
        reads_now = cheapest_queries(now.ds.account_id, r_now.params)
        reads_before = cheapest_queries(before.ds.account_id, r_before.params)
        for t, r, reads in ((now, r_now, reads_now), (before, r_before, reads_before)):
            await b.service_once(t, r.params)
            await b.cheapest_once(reads)

        async def srv(t: Target, params: dict[str, Any]) -> float:
            return (await b.service_once(t, params))[0]

        async def low(reads: list[Read]) -> float:
            return (await b.cheapest_once(reads))[0]

        sn, fn, sb, fb = await repeat(
            args.repeat,
            partial(srv, now, r_now.params),
            partial(low, reads_now),
            partial(srv, before, r_before.params),
            partial(low, reads_before),
        )
        out.append(
            {"report": r_now.name, "now": sn, "now_floor": fn, "before": sb, "before_floor": fb}
        )
    return out


def queues_daily(first: date, last: date) -> dict[str, Any]:
    return {
        "report": "queues",
        "period": "daily",
        "start_date": first.isoformat(),
        "end_date": last.isoformat(),
    }


async def measure_growth_months(
    b: Bench, t: Target, args: argparse.Namespace
) -> list[dict[str, Any]]:
    """Queues daily over the last 1, 3, 12 months (capped at the data): linear is the goal."""
    out = []
    for n in sorted({min(m, t.ds.months) for m in (1, 3, 12)}):
        log(f"growth: {n} months")
        r = Report(f"{n} months", queues_daily(*t.ds.window(n)))
        await service_vs_floor(b, t, r, args.repeat, ours=False)
        modbs = len(modbs_for_range(t.ds.account_id, *t.ds.window(n)))
        out.append({"months": n, "modbs": modbs, "service": r.service, "floor": r.floor})
    return out


async def measure_growth_entities(
    b: Bench, targets: list[tuple[Target, int]], args: argparse.Namespace
) -> list[dict[str, Any]]:
    """Queues daily over one month with 10, 100, 1000 queues at the same data per queue."""
    out = []
    for t, docs in targets:
        log(f"growth: {t.ds.queues} queues")
        r = Report(f"{t.ds.queues} queues", queues_daily(*t.ds.window(1)))
        await service_vs_floor(b, t, r, args.repeat, ours=False)
        out.append({"entities": t.ds.queues, "docs": docs, "service": r.service, "floor": r.floor})
    return out
