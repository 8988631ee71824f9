"""What an upgrade costs on a real CouchDB (issue 20): a release before, then this one beside it.

On one account of ``--sessions`` Qubicle sessions over ``--months`` months (seeded once under
a fixed bench account id, then reused), as an operator upgrades:

  1. the release before:  its design doc ``_design/qubicle_reports`` installed and built,
                          by its own ``install-views --warm`` (``--old-venv``) or, without
                          one, assembled from ``--before``'s couch_design_docs and queried
  2. --warm               this release's ``install-views --warm`` timed: build seconds,
                          documents per second, minutes per 100k documents
  3. disk                 both design docs' index files (``view_index.sizes`` of
                          ``GET /{db}/_design/{ddoc}/_info``, counted once per signature:
                          CouchDB shares one index between design docs of the same views)
                          against the data (``GET /{db}``)
  4. first report         this release's first report after --warm (a fresh process, every
                          answer from CouchDB: ``Cache-Control: no-cache``) against the release
                          before's on its own index, same data: medians of interleaved runs,
                          each a freshly started service (goal: at most 1.25x). With
                          ``--old-venv`` the release before is served by its own
                          ``qubicle-reports serve``; without, the figure is the cheapest read
                          of its index (one grouped reduce of one view per MoDB), not a report
  5. --prune              this release's ``install-views --prune``: what it printed and the
                          index disk freed once CouchDB has cleaned up

CouchDB from COUCHDB_URL (this machine only). Our design docs in the bench account's MoDBs
are deleted at the start, so every run builds both indexes; ``--drop`` deletes the account at
the end. Results to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    REPO,
    Dataset,
    RawCouch,
    Service,
    drop_dataset,
    ensure_dataset,
    is_stand_in,
    log,
    month_arg,
    query_until_built,
    report_path,
    require_loopback,
    table,
)

from app.couch.client import Couch
from app.couch.design_docs import LEGACY, assemble, current_name, is_ours
from app.couch.installer import month_dbs
from app.couch.modb import encode
from qubicle_dev.seed.arrivals import WEEKDAY_FACTORS

BEFORE = "36437f6"  # the last release that wrote _design/qubicle_reports (0.1.0)
TOKEN = "bench-upgrade"
COPY = 7  # the bench account's copy digit: its own account, whatever else bench.py seeded


def new_cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "app.cli", *args]


def run_timed(cmd: list[str], url: str, timeout: float) -> tuple[float, str]:
    """Seconds a command took and its output; a failure stops the benchmark."""
    started = time.perf_counter()
    done = subprocess.run(
        cmd,
        cwd=REPO,
        env={**os.environ, "COUCHDB_URL": url},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(
            f"{' '.join(cmd[-4:])} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
    return seconds, done.stdout


def old_design_doc(before: str) -> dict[str, Any]:
    """The release before's design doc, assembled from its commit, under the legacy name."""
    with tempfile.TemporaryDirectory(prefix="qubicle-upgrade-") as tmp:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", "--format=tar", before, "couch_design_docs"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        doc = assemble(Path(tmp) / "couch_design_docs" / "qubicle_reports")
    return {**doc, "_id": LEGACY}


async def reset(couch: Couch, dbs: list[str]) -> int:
    """Delete every release's design doc in the bench MoDBs (never another's), clean up."""
    removed = 0
    for db in dbs:
        rows = await couch.all_docs(db, startkey="_design/", endkey="_design0")
        for row in rows:
            if is_ours(row["id"]):
                removed += await couch.delete_doc(db, row["id"], row["value"]["rev"])
        await couch.request("POST", f"{encode(db)}/_view_cleanup", body={})
    return removed


async def install_old(couch: Couch, dbs: list[str], ddoc: dict[str, Any]) -> float:
    """Install the release before's design doc and query every view until built (seconds)."""
    started = time.perf_counter()
    for db in dbs:
        await couch.put_doc(db, dict(ddoc))
        for view in ddoc["views"]:
            await query_until_built(couch, db, "qubicle_reports", view, started)
    return time.perf_counter() - started


async def disk(couch: Couch, dbs: list[str], names: list[str]) -> dict[str, Any]:
    """Index bytes per design doc name (file, active), per index ("<db> <signature>": an
    index shared by design docs of the same views counted once) and in all, and the data's
    bytes. An index file's size also changes as CouchDB compacts it on its own."""
    per: dict[str, list[int]] = {n: [0, 0] for n in names}
    signatures: dict[str, tuple[int, int]] = {}
    shared: set[str] = set()
    data = [0, 0]
    for db in dbs:
        info = await couch.db_info(db)
        assert info is not None, db
        data[0] += int(info["sizes"]["file"])
        data[1] += int(info["sizes"]["active"])
        seen: dict[str, str] = {}
        for name in names:
            status, body = await couch.request("GET", f"{encode(db)}/_design/{name}/_info")
            if status != 200:
                continue
            index = body["view_index"]
            size = (int(index["sizes"]["file"]), int(index["sizes"]["active"]))
            per[name][0] += size[0]
            per[name][1] += size[1]
            key = f"{db} {index['signature']}"
            if index["signature"] in seen:
                shared.add(name)
            seen[index["signature"]] = name
            signatures[key] = size
    return {
        "per": per,
        "signatures": signatures,
        "index_file": sum(s[0] for s in signatures.values()),
        "index_active": sum(s[1] for s in signatures.values()),
        "data_file": data[0],
        "data_active": data[1],
        "shared": bool(shared),
    }


def report_bodies(ds: Dataset) -> dict[str, dict[str, Any]]:
    first, last = ds.window()
    span = {"start_date": first.isoformat(), "end_date": last.isoformat(), "period": "daily"}
    return {
        "queues, every KPI": {
            "report": "queues",
            "metrics": [
                "avg_wait",
                "call_count",
                "timeout_count",
                "abandon_count",
                "answered_count",
                "service_level",
                "answer_rate",
                "abandon_rate",
                "avg_answer_speed",
                "avg_abandon_time",
                "max_wait",
            ],
            "totals": True,
            **span,
        },
        "recipients, published": {"report": "recipients", **span},
    }


async def ask(url: str, account: str, body: dict[str, Any]) -> tuple[float, int]:
    async with aiohttp.ClientSession() as http:
        started = time.perf_counter()
        async with http.post(
            url + report_path(account),
            json={"data": body},
            headers={"X-Auth-Token": TOKEN, "Cache-Control": "no-cache"},
            timeout=aiohttp.ClientTimeout(total=600),
        ) as resp:
            await resp.read()
            return (time.perf_counter() - started) * 1000, resp.status


async def cheapest_old_read(url: str, dbs: list[str], ddoc: dict[str, Any]) -> float:
    """ms of one grouped reduce per MoDB of the release before's queue view (or first view)."""
    views = [v for v, d in ddoc["views"].items() if "reduce" in d]
    view = next((v for v in views if "queue" in v), views[0])
    raw = RawCouch(url, timeout=600)
    try:
        started = time.perf_counter()
        await asyncio.gather(
            *(raw.view(db, view, {"group_level": 2}, ddoc="qubicle_reports") for db in dbs)
        )
        return (time.perf_counter() - started) * 1000
    finally:
        await raw.close()


def first_reports(
    url: str,
    ds: Dataset,
    dbs: list[str],
    old_ddoc: dict[str, Any],
    old_venv: Path | None,
    runs: int,
) -> tuple[list[list[str]], float | None, list[str]]:
    """Interleaved runs, each a freshly started service asking each report once."""
    tokens = {TOKEN: ds.account_id}
    bodies = report_bodies(ds)
    times: dict[tuple[str, str], list[float]] = {}
    first_new: float | None = None
    problems: list[str] = []
    program = old_venv / "bin" / "qubicle-reports" if old_venv else None
    for run in range(runs):
        order = ["new", "old"] if run % 2 == 0 else ["old", "new"]
        for who in order:
            if who == "old" and program is None:
                ms = asyncio.run(cheapest_old_read(url, dbs, old_ddoc))
                times.setdefault((who, "cheapest read of its index"), []).append(ms)
                continue
            service = Service(
                url,
                tokens,
                env={"QUBICLE_REPORTS_FOLLOW_DB_UPDATES": "off"},
                start_timeout=60,
                program=program if who == "old" else None,
            )
            with service:
                for name, body in bodies.items():
                    ms, status = asyncio.run(ask(service.url, ds.account_id, body))
                    if status != 200:
                        problems.append(f"{who} run {run + 1} {name}: {status}")
                    if who == "new" and first_new is None:
                        first_new = ms
                    times.setdefault((who, name), []).append(ms)
            log(f"  run {run + 1}: {who} done")
    rows = []
    for name in bodies:
        new = statistics.median(times[("new", name)])
        old_key = ("old", name) if program else ("old", "cheapest read of its index")
        old = statistics.median(times[old_key])
        rows.append(
            [
                name,
                f"{new:,.0f}",
                f"{old:,.0f}" + ("" if program else " (cheapest read)"),
                f"{new / old:.2f}x",
                "yes" if new / old <= 1.25 else "NO",
                " ".join(f"{t:.0f}" for t in times[("new", name)]),
                " ".join(f"{t:.0f}" for t in times[old_key]),
            ]
        )
    return rows, first_new, problems


def dataset(sessions: int, months: int, last_month: tuple[int, int]) -> Dataset:
    """About ``sessions`` sessions over ``months``: app.seed draws ``calls`` per day times its
    weekday factor, so ``calls`` is the sessions over the sum of those factors."""
    ds = Dataset(
        calls=1,
        months=months,
        queues=20,
        recipients=40,
        last_month=last_month,
        source="qubicle",
        copy=COPY,
    )
    first, _ = ds.window()
    weight = sum(WEEKDAY_FACTORS[(first + timedelta(d)).weekday()] for d in range(ds.days))
    return replace(ds, calls=max(1, round(sessions / weight)))


def mb(n: int) -> str:
    return f"{n / 1e6:,.1f}"


async def prepare(url: str, ds: Dataset, args: argparse.Namespace) -> tuple[list[str], int]:
    couch = Couch(url, timeout=args.timeout, max_concurrency=4)
    try:
        if await is_stand_in(couch):
            raise SystemExit("a real CouchDB is needed (COUCHDB_URL): the stand-in shares no index")
        dbs = sorted(await month_dbs(couch, ds.account_id))
        removed = await reset(couch, dbs)
        return dbs, removed
    finally:
        await couch.close()


async def with_couch(url: str, timeout: float, fn: Any, *a: Any) -> Any:
    couch = Couch(url, timeout=timeout, max_concurrency=4)
    try:
        return await fn(couch, *a)
    finally:
        await couch.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/upgrade.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__,
    )
    parser.add_argument(
        "--sessions",
        type=int,
        default=60_000,
        help="Qubicle sessions in the account (default 60000)",
    )
    parser.add_argument("--months", type=int, default=2, help="months they span (default 2)")
    parser.add_argument(
        "--last-month",
        type=month_arg,
        default=month_arg("2025-12"),
        metavar="YYYY-MM",
        help="the data's last month (default 2025-12)",
    )
    parser.add_argument(
        "--before",
        default=BEFORE,
        help=f"the release before, without --old-venv (default {BEFORE})",
    )
    parser.add_argument(
        "--old-venv",
        type=Path,
        help="the release before's virtualenv: its install-views builds its "
        "index and its serve answers its reports",
    )
    parser.add_argument(
        "--runs", type=int, default=5, help="interleaved first-report runs per release (default 5)"
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per CouchDB call")
    parser.add_argument("--drop", action="store_true", help="delete the bench account at the end")
    args = parser.parse_args(argv)
    url = os.environ.get("COUCHDB_URL")
    if not url:
        raise SystemExit("COUCHDB_URL: a real CouchDB on this machine")
    require_loopback(url, "CouchDB")
    load_before = os.getloadavg()
    ds = dataset(args.sessions, args.months, args.last_month)
    seeded = asyncio.run(ensure_dataset(url, ds, timeout=args.timeout))
    docs = int(seeded["docs"])
    dbs, removed = asyncio.run(prepare(url, ds, args))
    log(f"account {ds.account_id}: {docs} docs in {len(dbs)} MoDBs; {removed} design docs reset")
    new_name = current_name()

    # 1. the release before, built
    if args.old_venv:
        old_seconds, _ = run_timed(
            [
                str(args.old_venv / "bin" / "qubicle-reports"),
                "install-views",
                "--account",
                ds.account_id,
                "--warm",
            ],
            url,
            args.timeout,
        )
        old_ddoc = asyncio.run(with_couch(url, args.timeout, lambda c: c.get_doc(dbs[0], LEGACY)))
        old_label = f"{args.old_venv} (its install-views --warm)"
    else:
        old_ddoc = old_design_doc(args.before)
        old_seconds = asyncio.run(with_couch(url, args.timeout, install_old, dbs, old_ddoc))
        old_label = f"{args.before} (assembled from git, views queried)"
    log(f"release before built in {old_seconds:.1f} s")

    # 2. this release's --warm beside it
    warm_seconds, warm_out = run_timed(
        new_cli("install-views", "--account", ds.account_id, "--warm"), url, args.timeout
    )
    log(f"--warm in {warm_seconds:.1f} s")

    # 3. disk while both coexist
    names = ["qubicle_reports", new_name]
    both = asyncio.run(with_couch(url, args.timeout, disk, dbs, names))

    # 4. first cold reports, interleaved
    rows, first_new, problems = first_reports(url, ds, dbs, old_ddoc, args.old_venv, args.runs)

    # 5. --prune and the disk freed
    prune_seconds, prune_out = run_timed(
        new_cli("install-views", "--account", ds.account_id, "--prune"), url, args.timeout
    )
    time.sleep(5)  # CouchDB deletes the index files in the background (_view_cleanup)
    after = asyncio.run(with_couch(url, args.timeout, disk, dbs, names))
    if args.drop:
        asyncio.run(drop_dataset(url, ds.account_id))
    load_after = os.getloadavg()

    left = set(after["signatures"])  # the indexes still there: the others CouchDB deleted
    per100k = warm_seconds / docs * 100_000 / 60
    print(
        f"upgrade on {url.split('@')[-1]}: account {ds.account_id}, {docs:,} documents "
        f"({args.sessions:,} sessions asked) in {len(dbs)} MoDBs"
    )
    print(f"release before: {old_label}; this release: {new_name}")
    print(
        f"load average: {load_before[0]:.2f} at the start, {load_after[0]:.2f} at the end "
        f"({os.cpu_count()} cores)\n"
    )
    print(
        table(
            ["step", "seconds", "docs/s", "min per 100k docs"],
            [
                [
                    "release before: install + build",
                    f"{old_seconds:.1f}",
                    f"{docs / old_seconds:,.0f}",
                    f"{old_seconds / docs * 100_000 / 60:.2f}",
                ],
                [
                    "this release: install-views --warm",
                    f"{warm_seconds:.1f}",
                    f"{docs / warm_seconds:,.0f}",
                    f"{per100k:.2f}",
                ],
                ["this release: install-views --prune", f"{prune_seconds:.1f}", "", ""],
            ],
        )
    )
    if both["shared"]:
        print(
            "\nthe two design docs have the same views: CouchDB keeps ONE index for both "
            "(same signature), so --warm builds nothing and --prune frees nothing"
        )
    print()
    print(
        table(
            ["disk (MB)", "index file", "index active", "data file", "data active", "index/data"],
            [
                *[
                    [f"  _design/{n}", mb(v[0]), mb(v[1]), "", "", ""]
                    for n, v in both["per"].items()
                ],
                [
                    "both coexisting (once per signature)",
                    mb(both["index_file"]),
                    mb(both["index_active"]),
                    mb(both["data_file"]),
                    mb(both["data_active"]),
                    f"{both['index_active'] / both['data_active']:.2f}",
                ],
                [
                    "after --prune + _view_cleanup",
                    mb(after["index_file"]),
                    mb(after["index_active"]),
                    mb(after["data_file"]),
                    mb(after["data_active"]),
                    f"{after['index_active'] / after['data_active']:.2f}",
                ],
                [
                    "freed (indexes no longer there)",
                    mb(sum(v[0] for k, v in both["signatures"].items() if k not in left)),
                    mb(sum(v[1] for k, v in both["signatures"].items() if k not in left)),
                    "",
                    "",
                    "",
                ],
            ],
        )
    )
    print(
        f"\nfirst report after --warm (fresh processes, no-cache), medians of {args.runs} "
        f"interleaved runs; this release's very first: {first_new:,.0f} ms"
    )
    print(
        table(
            [
                "report",
                "this release ms",
                "release before ms",
                "ratio",
                "<= 1.25x",
                "this release runs",
                "release before runs",
            ],
            rows,
        )
    )
    print("\n--warm said:\n  " + "\n  ".join(warm_out.strip().splitlines()[-3:]))
    print("--prune said:\n  " + "\n  ".join(prune_out.strip().splitlines()[-3:]))
    if problems:
        print("\nNOT 200:\n  " + "\n  ".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
