"""Performance benchmark of qubicle-reports: is the service close to what CouchDB allows?

For each report shape it times, on the same machine in the same run, interleaved:

  service   the full HTTP request to ``qubicle-reports serve`` (a child process), cold
            (``Cache-Control: no-cache``: the closed-month cache is bypassed)
  cheapest  the floor: the cheapest view read that answers the same report (issue 11):
            ``_design/bench_minimal`` (bench/cheapest.py: one minimal view per report shape,
            type check only, same key and value), read with the coarsest group_level and the
            narrowest key ranges, straight to CouchDB with the same concurrency over one
            pooled session, bodies read but not parsed. Derived from the report, not from
            the service's own queries, so a badly keyed view of ours shows up.
  ours      the service's own queries (app.load.plan_queries) straight to CouchDB: what our
            views cost, without the service (ours/cheapest > 1: the view design pays)
  naive     what a service without views does (KAZOO's load/filter/render):
            ``_all_docs?include_docs=true`` per MoDB, then filter, bucket and sum in Python

Then: warm (cached) against cold runs; the service's peak memory (``VmHWM``) after those
reports plus a recipients hourly report and its CSV; every KPI with totals against the
published metrics (issue 9); the same reports over an ACDC ``call_stat`` dataset of the same
size (issue 8); the service of an earlier commit (``--before``, default the commit before the
ACDC/KPI views) on an identical copy of the dataset, with its own design doc; how service
time grows with months and entities. Progress goes to stderr, results to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cheapest import DDOC as MINIMAL_DDOC
from cheapest import Read, cheapest_queries, design_doc, request_of
from common import (
    BEFORE,
    REPO,
    Dataset,
    RawCouch,
    Service,
    Stats,
    add_dataset_args,
    build_indexes,
    couch_server,
    drop_dataset,
    ensure_dataset,
    gather_bounded,
    install_views_of,
    is_stand_in,
    log,
    mib,
    ms,
    ratio,
    report_path,
    resolve_dataset,
    table,
)

from app.couch import design_docs
from app.couch.client import Couch
from app.couch.installer import month_dbs
from app.couch.modb import modbs_for_range
from app.report.load import Query, plan_queries
from app.report.metrics import REPORTS
from qubicle_dev.seed import GREGORIAN_OFFSET

TOKEN = "bench"
TABLE_MONTHS = 3  # issue 11's table: 3 months of data


@dataclass
class Report:
    """One benchmarked report: its parameters and which comparisons apply to it."""

    name: str
    params: dict[str, Any]
    naive: bool = False  # also time the no-view baseline (slow: a few reports only)
    check_floor: bool = False  # UTC daily queues: the floor's call counts must equal ours
    service: Stats | None = None
    floor: Stats | None = None  # the cheapest read
    ours: Stats | None = None  # the service's own queries straight to CouchDB
    naive_stats: Stats | None = None
    response_bytes: int = 0
    naive_agrees: bool | None = None  # naive call_count == the service's, bucket by bucket
    floor_agrees: bool | None = None  # cheapest read's call_count == the service's
    notes: list[str] = field(default_factory=list)


def span(ds: Dataset, months: int = TABLE_MONTHS) -> dict[str, str]:
    first, last = ds.window(months)
    return {"start_date": first.isoformat(), "end_date": last.isoformat()}


def shape(
    ds: Dataset,
    report: str,
    period: str,
    suffix: str = "",
    *,
    flags: dict[str, bool] | None = None,
    **params: Any,
) -> Report:
    """A report over the table's months: "<report> <period> <n> months<suffix>"."""
    n = min(ds.months, TABLE_MONTHS)
    return Report(
        f"{report} {period} {n} months{suffix}",
        {"report": report, "period": period, **params, **span(ds)},
        **(flags or {}),
    )


CHECKED = {"check_floor": True}


def reports(ds: Dataset) -> list[Report]:
    """Issue 11's table: every report shape over the last 3 months (capped at the data)."""
    return [
        shape(ds, "queues", "daily", flags={"naive": True, **CHECKED}),
        shape(ds, "queues", "monthly", flags={"naive": True}),
        shape(ds, "queues", "hourly"),
        shape(ds, "queues", "daily", " Asia/Kolkata", timezone="Asia/Kolkata"),
        shape(
            ds, "recipients", "daily", ", 2 queue_ids", flags=CHECKED, queue_ids=ds.queue_ids[:2]
        ),
    ]


def memory_reports(ds: Dataset) -> list[Report]:
    """Issue 11's memory row: a recipients hourly report over the table's months, its CSV."""
    json, csv = shape(ds, "recipients", "hourly"), shape(ds, "recipients", "hourly", format="csv")
    csv.name = f"CSV of: {json.name}"
    return [json, csv]


def queries_of(account_id: str, params: dict[str, Any]) -> list[Query]:
    """Exactly the view queries the service sends for these parameters."""
    req, buckets = request_of(params)
    return plan_queries(account_id, req, buckets)


# -- the ways to answer a report ---------------------------------------------------------


@dataclass
class Target:
    """A service and the dataset it answers for (its token)."""

    service: Service
    ds: Dataset
    token: str


class Bench:
    """What every measurement needs: CouchDB (raw), an HTTP client, the concurrency."""

    def __init__(self, raw: RawCouch, http: aiohttp.ClientSession, concurrency: int) -> None:
        self.raw = raw
        self.http = http
        self.concurrency = concurrency

    async def service_once(
        self, t: Target, params: dict[str, Any], *, cold: bool = True
    ) -> tuple[float, bytes]:
        """Milliseconds of one full HTTP request (body read), and the body."""
        headers = {"X-Auth-Token": t.token, "Content-Type": "application/json"}
        if cold:
            headers["Cache-Control"] = "no-cache"
        body = orjson.dumps({"data": params})
        started = time.perf_counter()
        async with self.http.post(
            t.service.url + report_path(t.ds.account_id), data=body, headers=headers
        ) as resp:
            content = await resp.read()
        elapsed = (time.perf_counter() - started) * 1000
        if resp.status != 200:
            raise RuntimeError(f"service answered {resp.status}: {content[:300]!r}")
        return elapsed, content

    async def cheapest_once(self, reads: Sequence[Read]) -> tuple[float, list[bytes]]:
        """The cheapest read: minimal views, straight to CouchDB; the answers as sent."""
        started = time.perf_counter()
        bodies = await gather_bounded(
            self.concurrency, [self.raw.view(r.db, r.view, r.params, MINIMAL_DDOC) for r in reads]
        )
        return (time.perf_counter() - started) * 1000, bodies

    async def ours_once(self, queries: Sequence[Query]) -> float:
        """The service's own queries (our design doc), straight to CouchDB."""
        started = time.perf_counter()
        await gather_bounded(
            self.concurrency, [self.raw.view(q.db, q.view, q.params) for q in queries]
        )
        return (time.perf_counter() - started) * 1000

    async def naive_once(
        self, account_id: str, params: dict[str, Any]
    ) -> tuple[float, dict[str, dict[str, list[int]]]]:
        """Load every document of every MoDB of the range, keep qubicle_sessions, sum by bucket.

        Each MoDB is parsed and folded as soon as it arrives, with the same concurrency as
        the service, so the baseline is not slower than it has to be.
        """
        _, buckets = request_of(params)
        sums: dict[str, dict[str, list[int]]] = {}
        day_keys: dict[int, str] = {}

        async def one(db: str) -> None:
            body = await self.raw.get(db, "_all_docs", {"include_docs": True})
            for row in orjson.loads(body).get("rows", ()):
                doc = row.get("doc") or {}
                if doc.get("pvt_type") != "qubicle_session":
                    continue
                entered, queue = doc.get("entered_timestamp"), doc.get("queue_id")
                if not isinstance(entered, int) or not isinstance(queue, str):
                    continue
                unix_day = (entered - GREGORIAN_OFFSET) // 86400
                key = day_keys.get(unix_day)
                if key is None:
                    key = day_keys[unix_day] = datetime.fromtimestamp(
                        unix_day * 86400, UTC
                    ).strftime("%Y%m%d")
                bucket = buckets.slots.get((key,))
                if bucket is None:
                    continue
                acc = sums.setdefault(queue, {}).setdefault(bucket, [0, 0, 0, 0])
                result = doc.get("result")
                acc[0] += 1
                acc[1] += doc.get("wait_time", 0)
                acc[2] += result == "timeout"
                acc[3] += result == "abandoned"

        started = time.perf_counter()
        dbs = [m.name for m in modbs_for_range(account_id, buckets.first_day, buckets.last_day)]
        await gather_bounded(self.concurrency, [one(db) for db in dbs])
        return (time.perf_counter() - started) * 1000, sums


async def repeat(n: int, *steps: Callable[[], Awaitable[float]]) -> list[Stats]:
    """Run the steps in turn, ``n`` rounds (interleaved, so drift hits every step alike)."""
    runs: list[list[float]] = [[] for _ in steps]
    for _ in range(n):
        for i, step in enumerate(steps):
            runs[i].append(await step())
    return [Stats(tuple(r)) for r in runs]


def call_counts(body: bytes) -> dict[str, dict[str, int]]:
    """{entity: {bucket: call_count}} of a service JSON answer (the totals item left out)."""
    report = orjson.loads(body)["data"][0]["report"]
    return {
        e["id"]: {b: v for b, v in e["data"]["call_count"].items() if v and b != "total"}
        for e in report
        if e["id"] != "total"
    }


def floor_call_counts(bodies: list[bytes], params: dict[str, Any]) -> dict[str, dict[str, int]]:
    """{entity: {bucket: call_count}} of the cheapest read of a UTC daily report: keys
    [entity, day] or [queue, recipient, day]; the value's first number is call_count (visits
    of a queue, answered offers of a recipient)."""
    _, buckets = request_of(params)
    out: dict[str, dict[str, int]] = {}
    for body in bodies:
        for row in orjson.loads(body).get("rows", ()):
            *_, entity, day = row["key"]
            bucket = buckets.slots.get((day,))
            if bucket is not None and row["value"][0]:
                per = out.setdefault(entity, {})
                per[bucket] = per.get(bucket, 0) + row["value"][0]
    return out


# -- sections -----------------------------------------------------------------------------


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
                await couch.view(db, MINIMAL_DDOC, view, limit=1, reduce=False)
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


# -- printing -----------------------------------------------------------------------------


def per_unit(row: dict[str, Any], base: dict[str, Any], unit: str) -> str:
    """Service time per unit relative to the first row: 1.00 is linear, above is worse."""
    first = base["service"].p50 / base[unit]
    return f"{(row['service'].p50 / row[unit]) / first:.2f}" if first > 0 else "-"


def growth_table(
    growth: list[dict[str, Any]],
    unit: tuple[str, str],
    size: tuple[str, str],
    per_unit_ms: Callable[[float], str],
) -> str:
    """Service and floor times as ``unit`` grows: ``unit`` and ``size`` are (row key, label),
    ``per_unit_ms`` formats the service's milliseconds per unit."""
    (unit_key, unit_label), (size_key, size_label) = unit, size
    return table(
        [
            f"{unit_label}s",
            size_label,
            "service p50 ms",
            "cheapest p50 ms",
            f"service ms/{unit_label}",
            "per-unit vs first",
        ],
        [
            [
                str(g[unit_key]),
                str(g[size_key]),
                ms(g["service"].p50),
                ms(g["floor"].p50),
                per_unit_ms(g["service"].p50 / g[unit_key]),
                per_unit(g, growth[0], unit_key),
            ]
            for g in growth
        ],
    )


def quotient(a: float, b: float) -> float:
    return a / b if b > 0 else float("nan")


def report_table(items: list[Report]) -> str:
    return table(
        [
            "report",
            "service p50/p95 ms",
            "cheapest p50 ms",
            "service/cheapest",
            "ours p50 ms",
            "ours/cheapest",
            "naive p50 ms",
            "naive/service",
        ],
        [
            [
                r.name + ("  [" + "; ".join(r.notes) + "]" if r.notes else ""),
                f"{ms(r.service.p50)} / {ms(r.service.p95)}",
                ms(r.floor.p50),
                ratio(r.service.p50, r.floor.p50),
                ms(r.ours.p50) if r.ours else "-",
                ratio(r.ours.p50, r.floor.p50) if r.ours else "-",
                ms(r.naive_stats.p50) if r.naive_stats else "-",
                ratio(r.naive_stats.p50, r.service.p50) if r.naive_stats else "-",
            ]
            for r in items
            if r.service and r.floor
        ],
    )


def print_results(results: dict[str, Any]) -> None:
    items: list[Report] = results["reports"]
    print(
        "\nissue 11: every report shape against the cheapest read that answers it"
        " (goal service/cheapest <= 1.25)"
    )
    print(report_table(items + results.get("memory_reports", [])))
    checked = [r for r in items if r.naive_agrees is not None]
    if checked:
        agree = all(r.naive_agrees for r in checked)
        print(
            f"naive sums {'agree' if agree else 'DO NOT agree'} with the service's call_count "
            f"in every bucket ({len(checked)} reports checked)"
        )
    both = [r for a in results.get("acdc", ()) for r in (a["qubicle"], a["acdc"])]
    checked = [r for r in items + both if r.floor_agrees is not None]
    if checked:
        wrong = [r.name for r in checked if not r.floor_agrees]
        print(
            f"the cheapest read's sums {'DO NOT agree' if wrong else 'agree'} with the "
            f"service's call_count in every bucket ({len(checked)} reports checked, both "
            "document shapes" + (f"; differ: {', '.join(wrong)})" if wrong else ")")
        )
    if results.get("warm"):
        print("\nwarm (no Cache-Control) vs cold (Cache-Control: no-cache), service")
        print(
            table(
                ["report", "cold p50 ms", "warm p50/p95 ms", "cold/warm"],
                [
                    [
                        w["report"],
                        ms(w["cold"].p50),
                        f"{ms(w['warm'].p50)} / {ms(w['warm'].p95)}",
                        ratio(w["cold"].p50, w["warm"].p50),
                    ]
                    for w in results["warm"]
                ],
            )
        )
    if results.get("memory_kib") is not None:
        names = ", ".join(r.name for r in results.get("memory_reports", []))
        print(
            f"\nservice peak memory (VmHWM) after the reports above ({names}): "
            f"{mib(results['memory_kib'])} (goal < 150 MiB; after start-up "
            f"{mib(results['startup_kib'])})"
        )
    if results.get("kpis"):
        print(
            "\nissue 9: every KPI with totals vs only the published metrics"
            " (goal kpis+totals/published <= 1.3)"
        )
        print(
            table(
                [
                    "queues report (KPI floor views)",
                    "published p50 ms",
                    "+totals p50 ms",
                    "KPIs+totals p50 ms",
                    "kpis+totals/published",
                    "without max_wait",
                    "published/cheapest",
                    "kpis/cheapest",
                    "kpis ours/cheapest",
                ],
                [
                    [
                        f"{k['period']} ({', '.join(k['kpi_views'])})",
                        ms(k["published"].p50),
                        ms(k["published_totals"].p50),
                        ms(k["kpis"].p50),
                        ratio(k["kpis"].p50, k["published"].p50),
                        ratio(k["kpis_no_max"].p50, k["published"].p50),
                        ratio(k["published"].p50, k["published_floor"].p50),
                        ratio(k["kpis"].p50, k["kpis_floor"].p50),
                        ratio(k["kpis_ours"].p50, k["kpis_floor"].p50),
                    ]
                    for k in results["kpis"]
                ],
            )
        )
        print(
            "(without max_wait: every other KPI with totals, one view read; kpis/cheapest:"
            " the service against the cheapest read of the KPI report, which itself costs"
            " kpis_floor/published_floor = "
            + ", ".join(
                f"{k['period']} {ratio(k['kpis_floor'].p50, k['published_floor'].p50)}"
                for k in results["kpis"]
            )
            + ")"
        )
    if results.get("acdc"):
        print(
            "\nissue 8: ACDC call_stat data vs qubicle_session data of the same size"
            " (goal: service/cheapest within 5 %)"
        )
        rows = []
        for a in results["acdc"]:
            q, c = a["qubicle"], a["acdc"]
            rq = quotient(q.service.p50, q.floor.p50)
            rc = quotient(c.service.p50, c.floor.p50)
            rows.append(
                [
                    a["report"],
                    f"{ms(q.service.p50)} / {ms(q.floor.p50)}",
                    f"{rq:.2f}x",
                    f"{ms(c.service.p50)} / {ms(c.floor.p50)}",
                    f"{rc:.2f}x",
                    f"{100 * (rc / rq - 1):+.1f} %",
                ]
            )
        print(
            table(
                [
                    "report",
                    "qubicle service/cheapest ms",
                    "ratio",
                    "acdc service/cheapest ms",
                    "ratio",
                    "acdc vs qubicle",
                ],
                rows,
            )
        )
    if results.get("before"):
        print(
            f"\nissues 8 and 9: this service vs the one of {results['before_rev']}"
            " (each on an identical copy of the data with its own design doc; published"
            " metrics; goal: no slower within noise)"
        )
        print(
            table(
                [
                    "report",
                    "now p50 ms",
                    "before p50 ms",
                    "now/before",
                    "now/cheapest",
                    "before/cheapest",
                ],
                [
                    [
                        x["report"],
                        ms(x["now"].p50),
                        ms(x["before"].p50),
                        ratio(x["now"].p50, x["before"].p50),
                        ratio(x["now"].p50, x["now_floor"].p50),
                        ratio(x["before"].p50, x["before_floor"].p50),
                    ]
                    for x in results["before"]
                ],
            )
        )
    growth = results.get("growth_months") or []
    if growth:
        print("\ngrowth with months (queues daily, cold); per-unit vs first row: 1.00 = linear")
        print(growth_table(growth, ("months", "month"), ("modbs", "MoDBs"), ms))
    growth = results.get("growth_entities") or []
    if growth:
        print("\ngrowth with entities (queues daily 1 month, same data per queue, cold)")
        print(growth_table(growth, ("entities", "queue"), ("docs", "docs"), "{:.3f}".format))
    elif results.get("growth_note"):
        print(f"\ngrowth with entities: {results['growth_note']}")
    if any(x["fresh"] for x in results.get("builds", ())):
        print(
            "\nindex builds of this run (install + first query of every view, all MoDBs;"
            " bench/index_build.py measures builds per document)"
        )
        print(
            table(
                ["design doc", "dataset", "docs", "views", "seconds", "s per 10k docs"],
                [
                    [
                        x["ddoc"],
                        x["dataset"],
                        str(x["docs"]),
                        str(x["views"]),
                        f"{x['seconds']:.1f}",
                        f"{10_000 * x['seconds'] / x['docs']:.1f}" if x["docs"] else "-",
                    ]
                    for x in results["builds"]
                    if x["fresh"]
                ],
            )
        )
    print(f"\nservice peak memory (VmHWM) at the end: {mib(results['peak_kib'])}")


def to_json(value: Any) -> Any:
    """Stats and Reports as plain JSON."""
    if isinstance(value, Stats):
        return value.as_json()
    if isinstance(value, Report):
        return {
            "name": value.name,
            "params": value.params,
            "response_bytes": value.response_bytes,
            "service": to_json(value.service),
            "cheapest": to_json(value.floor),
            "ours": to_json(value.ours),
            "naive": to_json(value.naive_stats),
            "naive_agrees": value.naive_agrees,
            "cheapest_agrees": value.floor_agrees,
            "notes": value.notes,
        }
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


# -- main ---------------------------------------------------------------------------------


EPILOG = f"""\
CouchDB: COUCHDB_URL (a real CouchDB 3.x anywhere), else a couchdb:3 container, else
the in-memory stand-in (devcouch: slow beyond ~10k docs, so the defaults are small; its
figures say little about CouchDB: the goals are judged on a real CouchDB 3.4). Up to three
datasets of the same density are seeded: Qubicle sessions; ACDC call_stats (section acdc)
and an identical copy of the Qubicle one for the earlier service (section before: it runs
`python -m app.cli serve` from `git archive {BEFORE}` with this virtualenv and installs its
own design doc there), these two over the last {TABLE_MONTHS} months only (what their
reports read). Each is seeded once per size and reused on a persistent CouchDB.

For numbers that mean something, run against a real CouchDB 3.4 with --sizes-for-real
(~2,000 visits/day, 12 months, 20 queues, 40 recipients: ~555k sessions, plus ~140k
call_stats and ~140k sessions for the other two; the first run seeds and builds indexes
for a long while, later runs reuse the datasets, which stay unless --drop):

  COUCHDB_URL=http://admin:pass@127.0.0.1:5984 .venv/bin/python bench/bench.py \\
      --sizes-for-real --json bench.json

Defaults on the stand-in (3 minutes on a quiet 2-core machine; noisy: read the medians):

  .venv/bin/python bench/bench.py

Quicker, fewer sections:

  .venv/bin/python bench/bench.py --repeat 3 --skip naive,before,growth
"""
SECTIONS = {"naive", "warm", "memory", "kpis", "acdc", "before", "growth"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/bench.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__,
        epilog=EPILOG,
    )
    add_dataset_args(parser)
    parser.add_argument(
        "--sizes-for-real",
        action="store_true",
        help="preset for a real CouchDB 3.4: --calls 2000 --months 12 --queues 20 --recipients 40 "
        "(explicit options still win)",
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="timed runs per measurement (default 5)"
    )
    parser.add_argument(
        "--naive-repeat", type=int, default=3, help="runs of the slow no-view baseline (default 3)"
    )
    parser.add_argument(
        "--month-concurrency",
        type=int,
        default=int(os.environ.get("QUBICLE_REPORTS_MONTH_CONCURRENCY") or 8),
        help="view queries in flight per report, for the service and the floor alike "
        "(default QUBICLE_REPORTS_MONTH_CONCURRENCY or 8)",
    )
    parser.add_argument(
        "--before",
        default=BEFORE,
        metavar="REV",
        help=f"the earlier commit to compare with (section before; default {BEFORE}, the last "
        "one before the views read ACDC call_stats and KPIs)",
    )
    parser.add_argument(
        "--growth-entities",
        type=lambda v: [int(x) for x in v.split(",") if x.strip()],
        default=None,
        metavar="N,N,...",
        help="queue counts for the entity-growth table, one extra dataset each (default "
        "10,100,1000 on CouchDB, none on the stand-in; try 10,30,100 there)",
    )
    parser.add_argument(
        "--growth-calls-per-entity",
        type=int,
        default=2,
        help="visits per queue per day in the entity-growth datasets (default 2)",
    )
    parser.add_argument(
        "--skip",
        type=lambda v: set(v.split(",")),
        default=set(),
        metavar=",".join(sorted(SECTIONS)),
        help="sections to leave out",
    )
    parser.add_argument(
        "--timeout", type=float, default=300, help="seconds per request (default 300)"
    )
    parser.add_argument(
        "--index-timeout", type=float, default=3600, help="seconds per index build (default 3600)"
    )
    parser.add_argument("--json", type=Path, metavar="OUT", help="also save the figures as JSON")
    parser.add_argument("--drop", action="store_true", help="delete the bench datasets afterwards")
    args = parser.parse_args(argv)
    if args.skip - SECTIONS:
        parser.error(f"--skip: unknown section(s) {sorted(args.skip - SECTIONS)}")
    if args.repeat < 1 or args.naive_repeat < 1 or args.month_concurrency < 1:
        parser.error("--repeat, --naive-repeat and --month-concurrency must be at least 1")
    return args


def checkout(rev: str, into: Path) -> Path:
    """The files of ``rev`` (``git archive``: the repository itself is left as it is)."""
    done = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", rev], capture_output=True
    )
    if done.returncode != 0:
        raise SystemExit(
            f"--before {rev}: git archive failed ({done.stderr.decode().strip()}); "
            "give another commit or --skip before"
        )
    subprocess.run(["tar", "-x", "-C", str(into)], input=done.stdout, check=True)
    return into


def all_reports(ds: Dataset, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every report's parameters this run reads on ``ds`` (for the minimal views to build)."""
    out = [r.params for r in reports(ds)]
    if "memory" not in args.skip:
        out += [r.params for r in memory_reports(ds)]
    if "kpis" not in args.skip:
        out += [every_kpi(r.params) for r in reports(ds)[:1]]
        out += [{"report": "queues", "period": "hourly", **span(ds)}]
        out += [every_kpi({"report": "queues", "period": "hourly", **span(ds)})]
    if "acdc" not in args.skip:
        out += [r.params for r in acdc_reports(ds)]
    if "growth" not in args.skip:
        out += [queues_daily(*ds.window(n)) for n in (1, 3, 12)]
    return out


def minimal_views(ds: Dataset, params: list[dict[str, Any]]) -> set[str]:
    return {r.view for p in params for r in cheapest_queries(ds.account_id, p)}


async def prepare(
    args: argparse.Namespace, url: str, ds: Dataset, results: dict[str, Any], tmp: Path
) -> dict[str, Dataset]:
    """Seed every dataset, build our indexes (timed), the minimal ones, and the earlier
    service's on its copy; returns the datasets by role."""
    src = checkout(args.before, tmp) if "before" not in args.skip else tmp  # fail early
    sets = {"qubicle": ds}
    # the other datasets hold only the months their reports read: MoDBs of the same size
    table_only = replace(ds, months=min(ds.months, TABLE_MONTHS))
    if "acdc" not in args.skip:
        sets["acdc"] = table_only.variant(source="acdc")
    if "before" not in args.skip:
        sets["before"] = table_only.variant(copy=1)
    docs, fresh = {}, {}
    for role, d in sets.items():
        info = await ensure_dataset(url, d, timeout=args.index_timeout)
        docs[role], fresh[role] = info["docs"], info["seeded_now"]
    results["dataset"] = {**ds.describe(), "docs": docs["qubicle"]}
    results["datasets"] = {role: {**d.describe(), "docs": docs[role]} for role, d in sets.items()}
    builds = results["builds"] = []
    for role, d in sets.items():
        await put_minimal(url, d.account_id, args.index_timeout)
        if role == "before":
            log(f"building the {args.before} design doc's indexes on {d.account_id}")
            seconds = install_views_of(src, url, d.account_id, args.index_timeout)
            views = len(list((src / "couch_design_docs/qubicle_reports/views").iterdir()))
            builds.append(
                {
                    "ddoc": f"qubicle_reports @ {args.before}",
                    "dataset": role,
                    "docs": docs[role],
                    "views": views,
                    "seconds": seconds,
                    "fresh": fresh[role],
                }
            )
        else:
            log(f"building our indexes on {d.account_id}")
            seconds = await build_indexes(url, d.account_id, timeout=args.index_timeout)
            builds.append(
                {
                    "ddoc": "qubicle_reports (this tree)",
                    "dataset": role,
                    "docs": docs[role],
                    "views": len(design_docs.load()["views"]),
                    "seconds": seconds,
                    "fresh": fresh[role],
                }
            )
        wanted = minimal_views(d, all_reports(d, args))
        if role == "before":
            wanted = minimal_views(d, [r.params for r in before_reports(d)])
        log(f"building minimal views {sorted(wanted)} on {d.account_id}")
        seconds = await warm_minimal(url, d.account_id, wanted, args.index_timeout)
        builds.append(
            {
                "ddoc": f"{MINIMAL_DDOC} ({len(wanted)} queried)",
                "dataset": role,
                "docs": docs[role],
                "views": len(wanted),
                "seconds": seconds,
                "fresh": fresh[role],
            }
        )
    return sets


async def run(args: argparse.Namespace, url: str, origin: str) -> dict[str, Any]:
    couch = Couch(url, timeout=30)
    try:
        stand_in = await is_stand_in(couch)
    finally:
        await couch.close()
    ds = resolve_dataset(args, stand_in=stand_in, real_sizes=args.sizes_for_real)
    entity_counts = args.growth_entities
    if entity_counts is None:
        entity_counts = [] if stand_in else [10, 100, 1000]
    if "growth" in args.skip:
        entity_counts = []
    results: dict[str, Any] = {
        "couchdb": origin,
        "stand_in": stand_in,
        "repeat": args.repeat,
        "month_concurrency": args.month_concurrency,
        "before_rev": args.before,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if not entity_counts and "growth" not in args.skip:
        results["growth_note"] = "skipped on the stand-in (try --growth-entities 10,30,100)"

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="qubicle-before-") as tmp:
        sets = await prepare(args, url, ds, results, Path(tmp))
        growth_sets: list[tuple[Dataset, str, int]] = []
        for n in entity_counts:
            g = Dataset(
                calls=n * args.growth_calls_per_entity,
                months=1,
                queues=n,
                recipients=ds.recipients,
                last_month=ds.last_month,
            )
            info = await ensure_dataset(url, g, timeout=args.index_timeout)
            await put_minimal(url, g.account_id, args.index_timeout)
            await build_indexes(
                url, g.account_id, timeout=args.index_timeout, views=["queue_visits_by_quarter"]
            )
            await warm_minimal(url, g.account_id, {"queue_day"}, args.index_timeout)
            growth_sets.append((g, f"{TOKEN}-q{n}", info["docs"]))
        results["prepare_s"] = round(time.perf_counter() - started, 2)
        results["index_build_s"] = round(results["builds"][0]["seconds"], 2)

        tokens = {TOKEN: ds.account_id, **{t: g.account_id for g, t, _ in growth_sets}}
        if "acdc" in sets:
            tokens[f"{TOKEN}-acdc"] = sets["acdc"].account_id
        env = {"QUBICLE_REPORTS_MONTH_CONCURRENCY": str(args.month_concurrency)}
        before_service = None
        if "before" in sets:
            before_service = Service(
                url, {f"{TOKEN}-before": sets["before"].account_id}, env=env, tree=Path(tmp)
            ).start()
        try:
            with Service(url, tokens, env=env) as service:
                results["startup_kib"] = service.peak_memory_kib()
                raw = RawCouch(url, timeout=args.timeout)
                http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=args.timeout))
                try:
                    b = Bench(raw, http, args.month_concurrency)
                    main_t = Target(service, ds, TOKEN)
                    items = reports(ds)
                    await measure_reports(b, main_t, items, args, naive="naive" not in args.skip)
                    results["reports"] = items
                    if "memory" not in args.skip:
                        extra = memory_reports(ds)
                        await measure_reports(b, main_t, extra, args, naive=False)
                        results["memory_reports"] = extra
                        results["memory_kib"] = service.peak_memory_kib()
                    if "warm" not in args.skip:
                        results["warm"] = await measure_warm(b, main_t, items, args)
                    if "kpis" not in args.skip:
                        results["kpis"] = await measure_kpis(b, main_t, args)
                    if "acdc" in sets:
                        acdc_t = Target(service, sets["acdc"], f"{TOKEN}-acdc")
                        results["acdc"] = await measure_acdc(b, main_t, acdc_t, args)
                    if before_service is not None:
                        before_t = Target(before_service, sets["before"], f"{TOKEN}-before")
                        results["before"] = await measure_before(b, main_t, before_t, args)
                    if "growth" not in args.skip:
                        results["growth_months"] = await measure_growth_months(b, main_t, args)
                        results["growth_entities"] = await measure_growth_entities(
                            b,
                            [(Target(service, g, t), docs) for g, t, docs in growth_sets],
                            args,
                        )
                finally:
                    await http.close()
                    await raw.close()
                results["peak_kib"] = service.peak_memory_kib()
        finally:
            if before_service is not None:
                before_service.stop()

    if args.drop:
        accounts = [d.account_id for d in sets.values()]
        for account in [*accounts, *(g.account_id for g, _, _ in growth_sets)]:
            log(f"dropped {await drop_dataset(url, account)} databases of {account}")
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    with couch_server() as (url, origin):
        log(f"CouchDB: {origin}")
        results = asyncio.run(run(args, url, origin))
    results["wall_s"] = round(time.perf_counter() - started, 1)
    d = results["dataset"]
    others = ", ".join(
        f"{role} {x['account_id']} ({x['docs']} docs)"
        for role, x in results["datasets"].items()
        if role != "qubicle"
    )
    print(
        f"qubicle-reports benchmark - CouchDB: {results['couchdb']}"
        + ("  [STAND-IN: its figures are not CouchDB's]" if results["stand_in"] else "")
        + f"\ndataset {d['account_id']}: {d['docs']} docs, {d['calls_per_day']} visits/day, "
        f"{d['months']} months {d['first_day']}..{d['last_day']}, {d['queues']} queues, "
        f"{d['recipients']} recipients" + (f"; same size: {others}" if others else "") + "\n"
        f"{results['repeat']} interleaved runs each, medians (p50); month concurrency "
        f"{results['month_concurrency']}; service cold = Cache-Control: no-cache"
    )
    print_results(results)
    print(f"\nwall time {results['wall_s']} s (preparation {results['prepare_s']} s)")
    if args.json:
        args.json.write_text(orjson.dumps(to_json(results), option=orjson.OPT_INDENT_2).decode())
        log(f"figures saved to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
