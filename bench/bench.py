"""Performance benchmark of qubicle-reports: is the service close to what CouchDB allows?

For each report it times, on the same machine in the same run:

  service  the full HTTP request to ``qubicle-reports serve`` (a child process), cold
           (``Cache-Control: no-cache``: the closed-month cache is bypassed)
  floor    the very view queries the service sends (``app.load.plan_queries``), straight
           to CouchDB with the same concurrency over one pooled session, bodies read but
           not parsed: what any view-based service must pay
  naive    what a service without views does (KAZOO's load/filter/render):
           ``_all_docs?include_docs=true`` per MoDB, then filter, bucket and sum in Python

then our ``queue_visits_by_day`` against a minimal ``[queue, day]`` view, warm (cached)
against cold runs, how service time grows with months and with entities, and the
service's peak memory (``VmHWM``). Progress goes to stderr, results to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
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
    is_stand_in,
    log,
    mib,
    ms,
    ratio,
    report_path,
    resolve_dataset,
    table,
)

from app.buckets import BucketPlan, plan
from app.couch import Couch
from app.installer import month_dbs
from app.load import Query, plan_queries
from app.modb import modbs_for_range
from app.request import ReportRequest, validate
from app.seed import GREGORIAN_OFFSET

TOKEN = "bench"
MINIMAL_DDOC = "bench_minimal"
# The cheapest view that can answer a UTC daily queue report: no validation beyond the type,
# the same key and the same value array as our queue_visits_by_day.
MINIMAL_MAP = """function (doc) {
  if (doc.pvt_type !== 'qubicle_session') return;
  var d = new Date((doc.entered_timestamp - 62167219200) * 1000);
  var m = d.getUTCMonth() + 1, day = d.getUTCDate();
  emit([doc.queue_id, d.getUTCFullYear() + (m < 10 ? '0' : '') + m + (day < 10 ? '0' : '') + day],
       [1, doc.wait_time, doc.result === 'timeout' ? 1 : 0, doc.result === 'abandoned' ? 1 : 0]);
}"""
MINIMAL_VIEW = "queue_visits_by_day"


@dataclass
class Report:
    """One benchmarked report: its parameters and which comparisons apply to it."""

    name: str
    params: dict[str, Any]
    naive: bool = False  # also time the no-view baseline (slow: a few reports only)
    minimal: bool = False  # UTC daily/monthly queue report: compare with the minimal view
    service: Stats | None = None
    floor: Stats | None = None
    naive_stats: Stats | None = None
    response_bytes: int = 0
    naive_agrees: bool | None = None  # naive call_count == the service's, bucket by bucket
    notes: list[str] = field(default_factory=list)


def reports(ds: Dataset) -> list[Report]:
    """The reports of the brief, with ranges capped at the data (and at 12 months)."""
    last_first, last = ds.window(1)
    all_months = min(ds.months, 12)
    first_all, _ = ds.window(all_months)
    first_six, _ = ds.window(min(ds.months, 6))

    def span(first: date) -> dict[str, str]:
        return {"start_date": first.isoformat(), "end_date": last.isoformat()}

    return [
        Report(
            f"queues daily {last_first:%Y-%m} (1 month)",
            {"report": "queues", "period": "daily", **span(last_first)},
            minimal=True,
        ),
        Report(
            f"queues daily {all_months} months",
            {"report": "queues", "period": "daily", **span(first_all)},
            naive=True,
            minimal=True,
        ),
        Report(
            f"recipients weekly {min(ds.months, 6)} months, 2 queue_ids",
            {
                "report": "recipients",
                "period": "weekly",
                "queue_ids": ds.queue_ids[:2],
                **span(first_six),
            },
        ),
        Report(
            f"queues monthly {all_months} months",
            {"report": "queues", "period": "monthly", **span(first_all)},
            naive=True,
            minimal=True,
        ),
        Report(
            f"recipients monthly {all_months} months",
            {"report": "recipients", "period": "monthly", **span(first_all)},
        ),
    ]


def request_of(params: dict[str, Any]) -> tuple[ReportRequest, BucketPlan]:
    req = validate(params)
    return req, plan(req.start, req.end, req.period, req.timezone)


def queries_of(account_id: str, params: dict[str, Any]) -> list[Query]:
    """Exactly the view queries the service sends for these parameters."""
    req, buckets = request_of(params)
    return plan_queries(account_id, req, buckets)


# -- the three ways to answer a report ----------------------------------------------------


class Bench:
    """What every measurement needs: the service, CouchDB (raw), the concurrency."""

    def __init__(
        self, service: Service, raw: RawCouch, http: aiohttp.ClientSession, concurrency: int
    ) -> None:
        self.service = service
        self.raw = raw
        self.http = http
        self.concurrency = concurrency

    async def service_once(
        self, account_id: str, token: str, params: dict[str, Any], *, cold: bool
    ) -> tuple[float, bytes]:
        """Milliseconds of one full HTTP request (body read), and the body."""
        headers = {"X-Auth-Token": token, "Content-Type": "application/json"}
        if cold:
            headers["Cache-Control"] = "no-cache"
        body = orjson.dumps({"data": params})
        started = time.perf_counter()
        async with self.http.post(
            self.service.url + report_path(account_id), data=body, headers=headers
        ) as resp:
            content = await resp.read()
        elapsed = (time.perf_counter() - started) * 1000
        if resp.status != 200:
            raise RuntimeError(f"service answered {resp.status}: {content[:300]!r}")
        return elapsed, content

    async def floor_once(self, queries: list[Query], ddoc: str | None = None) -> float:
        """The same queries sent straight to CouchDB; ``ddoc`` swaps in another design doc."""
        started = time.perf_counter()
        await gather_bounded(
            self.concurrency,
            [
                self.raw.view(q.db, MINIMAL_VIEW, q.params, ddoc)
                if ddoc
                else self.raw.view(q.db, q.view, q.params)
                for q in queries
            ],
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
    """{entity: {bucket: call_count}} of a service JSON answer."""
    report = orjson.loads(body)["data"][0]["report"]
    return {e["id"]: {b: v for b, v in e["data"]["call_count"].items() if v} for e in report}


# -- sections -----------------------------------------------------------------------------


async def service_vs_floor(
    b: Bench, account_id: str, token: str, params: dict[str, Any], runs: int
) -> tuple[Stats, Stats, bytes]:
    """Cold service runs interleaved with the same queries sent straight to CouchDB.

    One untimed round first: a process's first request to a MoDB also checks its design
    doc, and the first floor request opens the connections.
    """
    queries = queries_of(account_id, params)
    _, body = await b.service_once(account_id, token, params, cold=True)
    await b.floor_once(queries)

    async def service() -> float:
        return (await b.service_once(account_id, token, params, cold=True))[0]

    async def floor() -> float:
        return await b.floor_once(queries)

    s, f = await repeat(runs, service, floor)
    return s, f, body


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
    b: Bench, ds: Dataset, items: list[Report], args: argparse.Namespace
) -> None:
    """service vs floor (vs naive) for every report, then CSV of the largest answer."""
    for r in items:
        log(f"report: {r.name}")
        r.service, r.floor, body = await service_vs_floor(
            b, ds.account_id, TOKEN, r.params, args.repeat
        )
        r.response_bytes = len(body)
        if r.naive and "naive" not in args.skip:
            await measure_naive(b, ds.account_id, r, body, args.naive_repeat)
    largest = max(items, key=lambda r: r.response_bytes)
    csv = Report(f"CSV of: {largest.name}", {**largest.params, "format": "csv"})
    log(f"report: {csv.name}")
    csv.service, csv.floor, body = await service_vs_floor(
        b, ds.account_id, TOKEN, csv.params, args.repeat
    )
    csv.response_bytes = len(body)
    items.append(csv)


async def install_minimal(url: str, ds: Dataset, timeout: float) -> None:
    """``_design/bench_minimal`` in the dataset's MoDBs (for comparison only), index built."""
    couch = Couch(url, timeout=timeout, max_concurrency=4)
    doc_id = f"_design/{MINIMAL_DDOC}"
    views = {MINIMAL_VIEW: {"map": MINIMAL_MAP, "reduce": "_sum"}}
    try:
        for db in sorted(await month_dbs(couch, ds.account_id)):
            current = await couch.get_doc(db, doc_id)
            if current is None or current.get("views") != views:
                doc = {"_id": doc_id, "language": "javascript", "views": views}
                if current is not None:
                    doc["_rev"] = current["_rev"]
                await couch.put_doc(db, doc)
            await couch.view(db, MINIMAL_DDOC, MINIMAL_VIEW, limit=1, reduce=False)
    finally:
        await couch.close()


async def measure_minimal(
    b: Bench, ds: Dataset, items: list[Report], args: argparse.Namespace
) -> list[dict[str, Any]]:
    """Our day view against the minimal one: same group_level=2 queries, same MoDBs."""
    out = []
    for r in (r for r in items if r.minimal):
        log(f"minimal view: {r.name}")
        queries = queries_of(ds.account_id, r.params)
        await b.floor_once(queries)
        await b.floor_once(queries, MINIMAL_DDOC)

        async def ours(queries: list[Query] = queries) -> float:
            return await b.floor_once(queries)

        async def minimal(queries: list[Query] = queries) -> float:
            return await b.floor_once(queries, MINIMAL_DDOC)

        o, m = await repeat(args.repeat, ours, minimal)
        out.append({"report": r.name, "ours": o, "minimal": m})
    return out


async def measure_warm(
    b: Bench, ds: Dataset, items: list[Report], args: argparse.Namespace
) -> list[dict[str, Any]]:
    """The same past-month reports without ``no-cache``: what a repeated dashboard costs."""
    out = []
    for r in items:
        if r.params.get("format") == "csv":
            continue
        log(f"warm: {r.name}")
        await b.service_once(ds.account_id, TOKEN, r.params, cold=False)  # fills the cache

        async def warm(params: dict[str, Any] = r.params) -> float:
            return (await b.service_once(ds.account_id, TOKEN, params, cold=False))[0]

        (w,) = await repeat(args.repeat, warm)
        out.append({"report": r.name, "cold": r.service, "warm": w})
    return out


def queues_daily(first: date, last: date) -> dict[str, Any]:
    return {
        "report": "queues",
        "period": "daily",
        "start_date": first.isoformat(),
        "end_date": last.isoformat(),
    }


async def measure_growth_months(
    b: Bench, ds: Dataset, args: argparse.Namespace
) -> list[dict[str, Any]]:
    """Queues daily over the last 1, 3, 12 months (capped at the data): linear is the goal."""
    out = []
    for n in sorted({min(m, ds.months) for m in (1, 3, 12)}):
        log(f"growth: {n} months")
        params = queues_daily(*ds.window(n))
        s, f, _ = await service_vs_floor(b, ds.account_id, TOKEN, params, args.repeat)
        modbs = len(queries_of(ds.account_id, params))
        out.append({"months": n, "modbs": modbs, "service": s, "floor": f})
    return out


async def measure_growth_entities(
    b: Bench, datasets: list[tuple[Dataset, str, int]], args: argparse.Namespace
) -> list[dict[str, Any]]:
    """Queues daily over one month with 10, 100, 1000 queues at the same data per queue."""
    out = []
    for ds, token, docs in datasets:
        log(f"growth: {ds.queues} queues")
        params = queues_daily(*ds.window(1))
        s, f, _ = await service_vs_floor(b, ds.account_id, token, params, args.repeat)
        out.append({"entities": ds.queues, "docs": docs, "service": s, "floor": f})
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
            "floor p50 ms",
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


def print_results(results: dict[str, Any]) -> None:
    items: list[Report] = results["reports"]
    print()
    print(
        table(
            [
                "report",
                "service p50/p95 ms",
                "floor p50/p95 ms",
                "service/floor",
                "naive p50 ms",
                "naive/service",
            ],
            [
                [
                    r.name + ("  [" + "; ".join(r.notes) + "]" if r.notes else ""),
                    f"{ms(r.service.p50)} / {ms(r.service.p95)}",
                    f"{ms(r.floor.p50)} / {ms(r.floor.p95)}",
                    ratio(r.service.p50, r.floor.p50),
                    ms(r.naive_stats.p50) if r.naive_stats else "-",
                    ratio(r.naive_stats.p50, r.service.p50) if r.naive_stats else "-",
                ]
                for r in items
                if r.service and r.floor
            ],
        )
    )
    checked = [r for r in items if r.naive_agrees is not None]
    if checked:
        agree = all(r.naive_agrees for r in checked)
        print(
            f"naive sums {'agree' if agree else 'DO NOT agree'} with the service's call_count "
            f"in every bucket ({len(checked)} reports checked)"
        )
    if results.get("minimal"):
        print(
            "\nour queue_visits_by_day vs a minimal [queue, day] view"
            " (same queries, straight to CouchDB)"
        )
        print(
            table(
                ["report", "ours p50 ms", "minimal p50 ms", "ours/minimal"],
                [
                    [
                        m["report"],
                        ms(m["ours"].p50),
                        ms(m["minimal"].p50),
                        ratio(m["ours"].p50, m["minimal"].p50),
                    ]
                    for m in results["minimal"]
                ],
            )
        )
    if results.get("warm"):
        print("\nwarm (no Cache-Control) vs cold (Cache-Control: no-cache), service")
        print(
            table(
                ["report", "cold p50 ms", "warm p50/p95 ms", "warm/cold"],
                [
                    [
                        w["report"],
                        ms(w["cold"].p50),
                        f"{ms(w['warm'].p50)} / {ms(w['warm'].p95)}",
                        ratio(w["warm"].p50, w["cold"].p50),
                    ]
                    for w in results["warm"]
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
    print(
        f"\nservice peak memory (VmHWM): {mib(results['peak_kib'])}"
        f" (after start-up: {mib(results['startup_kib'])})"
    )


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
            "floor": to_json(value.floor),
            "naive": to_json(value.naive_stats),
            "naive_agrees": value.naive_agrees,
            "notes": value.notes,
        }
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    return value


# -- main ---------------------------------------------------------------------------------


EPILOG = """\
CouchDB: COUCHDB_URL (a real CouchDB 3.x anywhere), else a couchdb:3 container, else
the in-memory stand-in (devcouch: slow beyond ~10k docs, so the defaults are small; its figures say
little about CouchDB). For numbers that mean something, run against a real CouchDB 3.4
with --sizes-for-real (~2,000 visits/day, 12 months, 20 queues, 40 recipients: ~560k
documents; the first run seeds and builds indexes for a long while, later runs reuse the
dataset, which stays unless --drop):

  COUCHDB_URL=http://admin:pass@127.0.0.1:5984 .venv/bin/python bench/bench.py \\
      --sizes-for-real --json bench.json

Small run on the stand-in (a few minutes):

  .venv/bin/python bench/bench.py --calls 60 --months 3 --queues 10 --recipients 20 \\
      --repeat 3 --growth-entities 10,30,100
"""
SECTIONS = {"naive", "minimal", "warm", "growth"}


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
        "--repeat", type=int, default=7, help="timed runs per measurement (default 7)"
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
        metavar="naive,minimal,warm,growth",
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
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if not entity_counts and "growth" not in args.skip:
        results["growth_note"] = "skipped on the stand-in (try --growth-entities 10,30,100)"

    started = time.perf_counter()
    results["dataset"] = await ensure_dataset(url, ds, timeout=args.index_timeout)
    results["index_build_s"] = round(
        await build_indexes(url, ds.account_id, timeout=args.index_timeout), 2
    )
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
        await build_indexes(
            url, g.account_id, timeout=args.index_timeout, views=["queue_visits_by_day"]
        )
        growth_sets.append((g, f"{TOKEN}-q{n}", info["docs"]))
    if "minimal" not in args.skip:
        await install_minimal(url, ds, args.index_timeout)
    results["prepare_s"] = round(time.perf_counter() - started, 2)

    tokens = {TOKEN: ds.account_id, **{t: g.account_id for g, t, _ in growth_sets}}
    env = {"QUBICLE_REPORTS_MONTH_CONCURRENCY": str(args.month_concurrency)}
    with Service(url, tokens, env=env) as service:
        results["startup_kib"] = service.peak_memory_kib()
        raw = RawCouch(url, timeout=args.timeout)
        http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=args.timeout))
        try:
            b = Bench(service, raw, http, args.month_concurrency)
            items = reports(ds)
            await measure_reports(b, ds, items, args)
            results["reports"] = items
            if "minimal" not in args.skip:
                results["minimal"] = await measure_minimal(b, ds, items, args)
            if "warm" not in args.skip:
                results["warm"] = await measure_warm(b, ds, items, args)
            if "growth" not in args.skip:
                results["growth_months"] = await measure_growth_months(b, ds, args)
                results["growth_entities"] = await measure_growth_entities(b, growth_sets, args)
        finally:
            await http.close()
            await raw.close()
        results["peak_kib"] = service.peak_memory_kib()

    if args.drop:
        for account in [ds.account_id, *(g.account_id for g, _, _ in growth_sets)]:
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
    print(
        f"qubicle-reports benchmark - CouchDB: {results['couchdb']}\n"
        f"dataset {d['account_id']}: {d['docs']} docs, {d['calls_per_day']} visits/day, "
        f"{d['months']} months {d['first_day']}..{d['last_day']}, {d['queues']} queues, "
        f"{d['recipients']} recipients ({'seeded now' if d['seeded_now'] else 'reused'}); "
        f"indexes ready in {results['index_build_s']} s\n"
        f"{results['repeat']} runs each, month concurrency {results['month_concurrency']}, "
        "service cold = Cache-Control: no-cache"
    )
    print_results(results)
    print(f"\nwall time {results['wall_s']} s (preparation {results['prepare_s']} s)")
    if args.json:
        args.json.write_text(orjson.dumps(to_json(results), option=orjson.OPT_INDENT_2).decode())
        log(f"figures saved to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
