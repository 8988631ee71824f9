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
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cheapest import DDOC as MINIMAL_DDOC
from cheapest import cheapest_queries
from common import (
    BEFORE,
    REPO,
    Dataset,
    RawCouch,
    Service,
    add_dataset_args,
    build_indexes,
    couch_server,
    drop_dataset,
    ensure_dataset,
    install_views_of,
    is_stand_in,
    log,
    resolve_dataset,
)
from printing import print_results, to_json
from sections import (
    acdc_reports,
    before_reports,
    every_kpi,
    measure_acdc,
    measure_before,
    measure_growth_entities,
    measure_growth_months,
    measure_kpis,
    measure_reports,
    measure_warm,
    put_minimal,
    queues_daily,
    warm_minimal,
)
from shapes import TABLE_MONTHS, TOKEN, memory_reports, reports, span
from targets import Bench, Target

from app.couch import design_docs
from app.couch.client import Couch

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
