"""The agent_states report on a real CouchDB (issue 17): its cost against the cheapest read.

Seeds (once: a marker in the account db says the dataset is complete, reruns reuse it) one
account of ACDC ``status_stat`` documents (CONTRACT.md 7a): ``--agents`` agents over the
``--months`` months ending with ``--last-month``, shifts of about 8 h on weekdays, 32-42
offers an agent a day (answered: connecting, connected, wrapup, ready; missed: connecting,
ready), pauses and outbound calls, each event archived an hour after it happened into the
MoDB of that month (so late shifts of a month's last day sit in the next month's MoDB).
Then, against a ``qubicle-reports serve`` child process on loopback, prints:

- **service vs cheapest read**, cold (``Cache-Control: no-cache``), medians of interleaved
  repeats: daily over the months (all agents), hourly over 7 days, daily with 5 agents. The
  cheapest read is the ``agent_events`` view's events (``reduce=false``) read with the same
  key ranges over the same MoDBs (12 h before the range, the month after it), one unpaged
  request each, rows parsed with orjson and dropped; without ``identifiers`` one range per
  agent of the dataset, as the service reads (the bench knows the agents: it skips the
  service's listing of them). The hourly week also times the whole view of each MoDB (the
  service's plan before it listed the agents);
- **CPU per event**: the service process's CPU time (``/proc``) per event read, the bench's
  own CPU for the cheapest read, and, in this process on the real answers, the service's
  parse (:func:`app.report.rows.event_batches`) and fold (:class:`~app.report.agent_states.Fold`);
- **peak memory** (``VmHWM``) of a fresh service process per report, up to the cell limit:
  hourly over the months for all agents, and with enough agent ids to reach the limit;
- **index size** of the design doc (only ``agent_events`` has rows in this account: the
  other views skip ``status_stat``) against the data, per MoDB.

Progress goes to stderr, results to stdout. Needs ``COUCHDB_URL`` on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import os
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    ACCOUNT_PREFIX,
    MARKER_ID,
    REPO,
    RawCouch,
    Service,
    Stats,
    add_months,
    build_indexes,
    cpu_seconds,
    gather_bounded,
    log,
    mib,
    month_arg,
    ms,
    ratio,
    report_path,
    require_loopback,
    table,
    vm_hwm_kib,
)

sys.path.insert(0, str(REPO / "tests"))
from reference import status_doc

from app.config import Settings
from app.couch.client import Couch, CouchUnavailable
from app.couch.design_docs import current_name
from app.couch.modb import account_db, encode, modb, modbs_for_range
from app.report.agent_states import CAP, GREGORIAN_OFFSET, AgentSums, timeline
from app.report.buckets import plan
from app.report.load import HIGH, PER_ENTITY_RANGES
from app.report.rows import EventRow, event_batches

SEED = 17  # issue 17: same arguments -> same documents
TOKEN = "bench-agents"
VIEW = "agent_events"
BATCH = 2_000  # documents per _bulk_docs
IN_FLIGHT = 4  # _bulk_docs requests at once


# -- the dataset --------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentDataset:
    """``agents`` agents' status events over ``months`` whole UTC months up to ``last_month``."""

    agents: int
    months: int
    last_month: tuple[int, int]

    @property
    def account_id(self) -> str:
        """Fixed per size: bec4 a9e0 AAAAA MMM YYYYMM, zero-padded to 32 digits."""
        y, m = self.last_month
        return f"{ACCOUNT_PREFIX}a9e0{self.agents:05d}{self.months:03d}{y:04d}{m:02d}".ljust(
            32, "0"
        )

    @property
    def agent_ids(self) -> list[str]:
        rng = random.Random(f"{SEED}-agents")
        return [f"{rng.getrandbits(128):032x}" for _ in range(self.agents)]

    def window(self) -> tuple[date, date]:
        y, m = add_months(*self.last_month, -(self.months - 1))
        ny, nm = add_months(*self.last_month, 1)
        return date(y, m, 1), date(ny, nm, 1) - timedelta(days=1)

    def describe(self) -> dict[str, Any]:
        first, last = self.window()
        return {
            "account_id": self.account_id,
            "agents": self.agents,
            "first_day": first.isoformat(),
            "last_day": last.isoformat(),
            "shape": "status_stat v1",  # bump when the generator changes
        }


def gregorian(d: date, seconds: int = 0) -> int:
    return (
        int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()) + GREGORIAN_OFFSET + seconds
    )


def shift(rng: random.Random, begin: int) -> list[tuple[int, str]]:
    """One agent's ~8 h shift from ``begin``: (timestamp, status), strictly increasing."""
    actions: list[list[tuple[str, int]]] = []  # each: (status, seconds it lasts)
    for _ in range(rng.randint(32, 42)):
        ring = rng.randint(3, 20)
        if rng.random() < 0.85:
            talk = max(20, int(rng.lognormvariate(5.3, 0.6)))
            actions.append(
                [("connecting", ring), ("connected", talk), ("wrapup", rng.randint(15, 60))]
            )
        else:
            actions.append([("connecting", ring)])
    actions += [[("paused", rng.randint(300, 900))] for _ in range(2)]
    actions.append([("paused", rng.randint(1800, 3600))])  # lunch
    actions += [[("outbound", rng.randint(60, 400))] for _ in range(rng.randint(0, 3))]
    rng.shuffle(actions)
    busy = sum(s for a in actions for _, s in a)
    idle = max(len(actions), 8 * 3600 + rng.randint(-1800, 1800) - busy)
    cuts = sorted(rng.sample(range(1, idle), len(actions)))  # ready gaps, each >= 1 s
    gaps = [b - a for a, b in zip([0, *cuts], [*cuts, idle], strict=True)]
    at = begin
    events = [(at, "logged_in")]
    at += rng.randint(2, 30)
    events.append((at, "ready"))
    for gap, action in zip(gaps, actions, strict=False):
        at += max(1, gap)
        for status, seconds in action:
            events.append((at, status))
            at += seconds
        events.append((at, "ready"))
    events.append((at + max(1, gaps[-1]), "logged_out"))
    return events


def status_docs(ds: AgentDataset) -> Iterator[dict[str, Any]]:
    """Every document of the dataset, day by day; agents start between 06:00 and 15:30 UTC."""
    first, last = ds.window()
    rng = random.Random(f"{SEED}-events")
    starts = {a: rng.randint(6 * 4, 15 * 4 + 2) * 900 for a in ds.agent_ids}
    day = first
    while day <= last:
        if day.weekday() < 5:
            for agent, start in starts.items():
                begin = gregorian(day, start + rng.randint(-900, 900))
                for ts, status in shift(rng, begin):
                    yield status_doc(ds.account_id, agent, ts, status)
        day += timedelta(days=1)


def archived_modb(doc: dict[str, Any]) -> str:
    at = datetime.fromtimestamp(doc["pvt_created"] - GREGORIAN_OFFSET, UTC)
    return modb(doc["pvt_account_id"], at.year, at.month)


async def ensure_dataset(url: str, ds: AgentDataset) -> int:
    """Seed ``ds`` unless its marker says a run completed it; its documents' count.
    Conflicts (a run cut short) count as written: the documents are the same."""
    couch = Couch(url, timeout=600)
    try:
        adb = account_db(ds.account_id)
        marker = await couch.get_doc(adb, MARKER_ID)
        if marker is not None and marker.get("dataset") == ds.describe():
            return int(marker["docs"])
        await couch.create_db(adb)
        if await couch.get_doc(adb, ds.account_id) is None:
            doc = {"_id": ds.account_id, "pvt_type": "account", "name": "bench agents"}
            await couch.put_doc(adb, {**doc, "pvt_tree": []})
        log(f"seeding {ds.account_id}: {ds.agents} agents, {ds.window()}")
        started, written = time.perf_counter(), 0
        created: set[str] = set()
        buffers: dict[str, list[dict[str, Any]]] = {}
        pending: set[asyncio.Task[None]] = set()

        async def write(db: str, batch: list[dict[str, Any]]) -> None:
            rows = await couch.bulk_docs(db, batch)
            bad = [r for r in rows if "error" in r and r.get("error") != "conflict"]
            if len(rows) != len(batch) or bad:
                raise RuntimeError(f"{db}: _bulk_docs failed, e.g. {bad[:2]}")

        async def flush(db: str) -> None:
            nonlocal pending, written
            while len(pending) >= IN_FLIGHT:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for t in done:
                    t.result()
            batch = buffers.pop(db)
            written += len(batch)
            pending.add(asyncio.ensure_future(write(db, batch)))

        for doc in status_docs(ds):
            db = archived_modb(doc)
            if db not in created:
                await couch.create_db(db)
                created.add(db)
            buffers.setdefault(db, []).append(doc)
            if len(buffers[db]) >= BATCH:
                await flush(db)
                if written % 50_000 < BATCH:
                    log(f"  {written:,} docs, {time.perf_counter() - started:.0f} s")
        for db in list(buffers):
            await flush(db)
        for t in pending:
            await t
        log(f"  {written:,} docs in {time.perf_counter() - started:.0f} s")
        new = {"_id": MARKER_ID, "dataset": ds.describe(), "docs": written}
        if marker is not None:
            new["_rev"] = marker["_rev"]
        await couch.put_doc(adb, new)
        return written
    finally:
        await couch.close()


# -- reports and their cheapest reads -----------------------------------------------------


@dataclass
class Report:
    name: str
    params: dict[str, Any]
    events: int = 0  # rows the cheapest read returns: the events the report reads
    service: Stats | None = None
    floor: Stats | None = None
    service_cpu_us: float = 0.0  # per event
    floor_cpu_us: float = 0.0
    fold_wall_us: float = 0.0  # the service's own "filter" phase (wall), per event
    whole: bool = False  # also time the whole view of each MoDB (the plan before per agent)
    whole_view: Stats | None = None


def reports(ds: AgentDataset) -> list[Report]:
    first, last = ds.window()
    week = last - timedelta(days=last.weekday() + 7)  # the last whole Monday-Sunday
    span = {"start_date": first.isoformat(), "end_date": last.isoformat()}
    return [
        Report(f"daily, {ds.months} months, all agents", {"period": "daily", **span}),
        Report(
            "hourly, 7 days, all agents",
            {
                "period": "hourly",
                "start_date": week.isoformat(),
                "end_date": (week + timedelta(days=6)).isoformat(),
            },
            whole=True,
        ),
        Report(
            f"daily, {ds.months} months, 5 agents",
            {"period": "daily", "identifiers": ds.agent_ids[:5], **span},
        ),
    ]


def reads_of(
    ds: AgentDataset, params: dict[str, Any], *, whole: bool = False
) -> list[tuple[str, dict[str, Any]]]:
    """(MoDB, view params) of the cheapest read: the events from 12 h before the range to its
    end, in every MoDB of that span and the month after (CONTRACT.md 7a, 7b), one key range
    per agent when few are asked, one spanning all asked when many, and one per agent of the
    dataset when none are (the service lists them first, with one small request per MoDB).
    ``whole``: the whole view of each MoDB instead (what the service read before it listed
    the agents)."""
    first, last = date.fromisoformat(params["start_date"]), date.fromisoformat(params["end_date"])
    low, high = gregorian(first) - CAP, gregorian(last + timedelta(days=1))
    ids = sorted(params.get("identifiers") or ds.agent_ids)
    ranges: list[dict[str, Any]]
    if whole:
        ranges = [{}]
    elif len(ids) > PER_ENTITY_RANGES and "identifiers" in params:
        ranges = [{"startkey": [ids[0], low], "endkey": [ids[-1], high - 1, HIGH]}]
    else:
        ranges = [{"startkey": [a, low], "endkey": [a, high - 1, HIGH]} for a in ids]
    day = datetime.fromtimestamp(low - GREGORIAN_OFFSET, UTC).date()
    dbs = modbs_for_range(ds.account_id, day, last)
    return [(m.name, {"reduce": False, **r}) for r in ranges for m in dbs]


class Bench:
    def __init__(self, raw: RawCouch, http: aiohttp.ClientSession, concurrency: int) -> None:
        self.raw, self.http, self.concurrency = raw, http, concurrency

    async def service_once(self, svc: Service, ds: AgentDataset, params: dict[str, Any]) -> bytes:
        headers = {
            "X-Auth-Token": TOKEN,
            "Content-Type": "application/json",
            "Cache-Control": "no-cache",
        }
        body = orjson.dumps({"data": {"report": "agent_states", **params}})
        async with self.http.post(
            svc.url + report_path(ds.account_id), data=body, headers=headers
        ) as resp:
            content = await resp.read()
        if resp.status != 200:
            raise RuntimeError(f"service answered {resp.status}: {content[:300]!r}")
        return content

    async def floor_once(self, reads: list[tuple[str, dict[str, Any]]]) -> list[bytes]:
        """The cheapest read: every answer received, parsed and dropped; the answers."""

        async def one(db: str, params: dict[str, Any]) -> bytes:
            body = await self.raw.view(db, VIEW, params)
            orjson.loads(body)
            return body

        return await gather_bounded(self.concurrency, [one(db, p) for db, p in reads])

    async def filter_seconds(self, svc: Service) -> float:
        """The service's total "filter" phase of agent_states reports so far (Prometheus)."""
        async with self.http.get(svc.url + "/metrics") as resp:
            text = await resp.text()
        total = 0.0
        for line in text.splitlines():
            name = line.split("{", 1)[0]
            if name.endswith("report_phase_duration_seconds_sum") and (
                'phase="filter"' in line and 'report="agent_states"' in line
            ):
                total += float(line.rsplit(" ", 1)[1])
        return total


def events_of(bodies: list[bytes]) -> int:
    return sum(len(orjson.loads(b).get("rows", ())) for b in bodies)


async def measure(b: Bench, svc: Service, ds: AgentDataset, r: Report, runs: int) -> list[bytes]:
    """An untimed round over one agent (the service's first request to a MoDB checks its
    design doc; connections open), then ``runs`` interleaved cold rounds: service,
    cheapest read (, whole view). The last cheapest read's answers."""
    reads = reads_of(ds, r.params)
    whole = reads_of(ds, r.params, whole=True) if r.whole else []
    one = {**r.params, "identifiers": ds.agent_ids[:1]}
    await b.service_once(svc, ds, one)
    await b.floor_once(reads_of(ds, one))
    service, floor, by_view = [], [], []
    bodies: list[bytes] = []
    svc_cpu = floor_cpu = 0.0
    fold0 = await b.filter_seconds(svc)
    for _ in range(runs):
        c0, t0 = cpu_seconds(svc.pid), time.perf_counter()
        await b.service_once(svc, ds, r.params)
        service.append((time.perf_counter() - t0) * 1000)
        svc_cpu += cpu_seconds(svc.pid) - c0
        p0, t0 = time.process_time(), time.perf_counter()
        bodies = await b.floor_once(reads)
        floor.append((time.perf_counter() - t0) * 1000)
        floor_cpu += time.process_time() - p0
        if whole:
            t0 = time.perf_counter()
            await b.floor_once(whole)
            by_view.append((time.perf_counter() - t0) * 1000)
    fold = await b.filter_seconds(svc) - fold0
    r.events = events_of(bodies)
    r.service, r.floor = Stats(tuple(service)), Stats(tuple(floor))
    r.whole_view = Stats(tuple(by_view)) if by_view else None
    per = 1e6 / max(1, r.events * runs)
    r.service_cpu_us, r.floor_cpu_us, r.fold_wall_us = svc_cpu * per, floor_cpu * per, fold * per
    return bodies


def fold_cpu(
    ds: AgentDataset, r: Report, bodies: list[bytes], rounds: int = 3
) -> tuple[float, float]:
    """µs of CPU per event, in this process, of the service's parse and of its fold, on the
    real answers of ``r`` (the fold over the MoDBs' rows merged in key order, as the
    service merges them): the least of ``rounds``."""
    first, last = (
        date.fromisoformat(r.params["start_date"]),
        date.fromisoformat(r.params["end_date"]),
    )
    buckets = plan(first, last, r.params["period"], "UTC")
    bodies = [b for b in bodies if b"rows" in b[:200]]  # not a MoDB that does not exist
    parse_s, fold_s = [], []
    for _ in range(rounds):
        p0 = time.process_time()
        streams = [[row for batch in event_batches(b) for row in batch] for b in bodies]
        parse_s.append(time.process_time() - p0)
        rows: list[EventRow] = list(heapq.merge(*streams, key=lambda e: e.key))
        sums = AgentSums(timeline(buckets), gregorian(last, 86_400), None, 10**9)
        p0 = time.process_time()
        fold = sums.fold()
        for i in range(0, len(rows), 20_000):
            fold.add(rows[i : i + 20_000])
        fold.close()
        fold_s.append(time.process_time() - p0)
    n = max(1, sum(len(s) for s in streams))
    return min(parse_s) * 1e6 / n, min(fold_s) * 1e6 / n


# -- memory and index size ----------------------------------------------------------------


async def peak_memory(url: str, b: Bench, ds: AgentDataset, max_cells: int) -> list[list[str]]:
    """VmHWM of a fresh service per report: hourly over the months, all agents; the same with
    as many agent ids (the dataset's, then made-up ones) as the cell limit allows."""
    first, last = ds.window()
    params = {"period": "hourly", "start_date": first.isoformat(), "end_date": last.isoformat()}
    hours = len(plan(first, last, "hourly", "UTC").buckets)
    n = max_cells // hours
    rng = random.Random(f"{SEED}-more")
    ids = [*ds.agent_ids, *(f"{rng.getrandbits(128):032x}" for _ in range(n - ds.agents))][:n]
    out = []
    for name, p in [
        (f"hourly, {ds.months} months, all {ds.agents} agents", params),
        (f"hourly, {ds.months} months, {n} identifiers", {**params, "identifiers": ids}),
    ]:
        log(f"memory: {name}")
        with service(url, ds, max_cells) as svc:
            start = vm_hwm_kib(svc.pid)
            t0 = time.perf_counter()
            answer = await b.service_once(svc, ds, p)
            wall = (time.perf_counter() - t0) * 1000
            peak = vm_hwm_kib(svc.pid)
        cells = len(p.get("identifiers") or ds.agent_ids) * hours
        out.append(
            [name, f"{cells:,}", f"{len(answer) / 2**20:.1f} MiB", ms(wall), mib(start), mib(peak)]
        )
    return out


async def index_sizes(url: str, ds: AgentDataset) -> list[list[str]]:
    """Per MoDB: documents, data (active) and our design doc's index (active)."""
    couch = Couch(url, timeout=60)
    rows, total = [], [0, 0, 0]
    try:
        first, last = ds.window()
        for m in modbs_for_range(ds.account_id, first, last):
            info = await couch.db_info(m.name)
            if info is None:
                continue
            ddoc = await couch.ok("GET", f"{encode(m.name)}/_design/{current_name()}/_info")
            docs, data = info["doc_count"], info["sizes"]["active"]
            index = ddoc["view_index"]["sizes"]["active"]
            total = [total[0] + docs, total[1] + data, total[2] + index]
            rows.append(
                [
                    f"{m.year}-{m.month:02d}",
                    f"{docs:,}",
                    mib(data // 1024),
                    mib(index // 1024),
                    ratio(index, data),
                    f"{index / max(docs, 1):.0f}",
                ]
            )
    finally:
        await couch.close()
    docs, data, index = total
    rows.append(
        [
            "all",
            f"{docs:,}",
            mib(data // 1024),
            mib(index // 1024),
            ratio(index, data),
            f"{index / max(docs, 1):.0f}",
        ]
    )
    return rows


async def build_index(url: str, account_id: str, deadline: float = 3600) -> float:
    """Seconds until every MoDB's index is built. A query that waits on a long build fails
    with CouchDB's fabric timeout (a 500 after ~60 s) while the build goes on: ask again."""
    started = time.perf_counter()
    while True:
        try:
            await build_indexes(url, account_id, timeout=deadline, views=[VIEW])
            return time.perf_counter() - started
        except CouchUnavailable as e:
            if time.perf_counter() - started > deadline:
                raise
            log(f"  still building ({e}), {time.perf_counter() - started:.0f} s")


def service(url: str, ds: AgentDataset, max_cells: int) -> Service:
    env = {
        "QUBICLE_REPORTS_MAX_CELLS": str(max_cells),
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "dev")]),  # this tree's app
        # a busy 2-core machine reads 590k rows in minutes: measure, never time out
        "QUBICLE_REPORTS_COUCH_TIMEOUT": "900",
        "QUBICLE_REPORTS_REPORT_TIMEOUT": "1800",
    }
    return Service(url, {TOKEN: ds.account_id}, env=env, start_timeout=60)


# -- main ---------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> None:
    url = os.environ.get("COUCHDB_URL")
    if not url:
        raise SystemExit("COUCHDB_URL: the CouchDB to measure (on this machine)")
    require_loopback(url, "CouchDB")
    ds = AgentDataset(args.agents, args.months, args.last_month)
    docs = await ensure_dataset(url, ds)
    log(f"dataset {ds.account_id}: {docs:,} status_stat documents; building the index")
    built = await build_index(url, ds.account_id)
    print(
        f"dataset: {ds.account_id}, {ds.agents} agents, {ds.window()[0]} .. {ds.window()[1]}, "
        f"{docs:,} status_stat docs (index ready in {built:.1f} s)"
    )
    if args.seed_only:
        return
    concurrency = Settings().month_concurrency
    raw = RawCouch(url, timeout=1800)
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1800))
    b = Bench(raw, http, concurrency)
    try:
        items = [r for r in reports(ds) if args.only in r.name]
        bodies: dict[str, list[bytes]] = {}
        with service(url, ds, args.max_cells) as svc:
            for r in items:
                log(f"report: {r.name}")
                bodies[r.name] = await measure(b, svc, ds, r, args.repeat)
        print(f"\ncold, medians of {args.repeat} interleaved runs (ms); CPU in µs per event read")
        print(
            table(
                [
                    "report",
                    "events",
                    "service",
                    "cheapest",
                    "ratio",
                    "svc CPU",
                    "cheap CPU",
                    "fold (wall)",
                    "whole-view read",
                ],
                [
                    [
                        r.name,
                        f"{r.events:,}",
                        ms(r.service.p50),
                        ms(r.floor.p50),
                        ratio(r.service.p50, r.floor.p50),
                        f"{r.service_cpu_us:.2f}",
                        f"{r.floor_cpu_us:.2f}",
                        f"{r.fold_wall_us:.2f}",
                        ms(r.whole_view.p50) if r.whole_view else "-",
                    ]
                    for r in items
                    if r.service and r.floor
                ],
            )
        )
        print("\nthe service's parse and fold, CPU µs per event, in this process (least of 3)")
        rows = []
        for r in items[:2]:
            parse_us, fold_us = fold_cpu(ds, r, bodies[r.name])
            rows.append([r.name, f"{r.events:,}", f"{parse_us:.2f}", f"{fold_us:.2f}"])
        print(table(["report", "events", "parse", "fold"], rows))
        if not args.skip_memory:
            print(
                "\npeak memory of a fresh service per report"
                f" (QUBICLE_REPORTS_MAX_CELLS={args.max_cells})"
            )
            print(
                table(
                    ["report", "cells", "answer", "ms", "VmHWM start", "VmHWM after"],
                    await peak_memory(url, b, ds, args.max_cells),
                )
            )
        print("\nindex (whole design doc: only agent_events has rows here) vs data, active sizes")
        print(
            table(
                ["MoDB", "docs", "data", "index", "index/data", "index B/doc"],
                await index_sizes(url, ds),
            )
        )
    finally:
        await raw.close()
        await http.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=60)
    parser.add_argument("--months", type=int, default=3)
    parser.add_argument(
        "--last-month", type=month_arg, default=month_arg("2025-12"), metavar="YYYY-MM"
    )
    parser.add_argument("--repeat", type=int, default=5, help="interleaved cold runs (default 5)")
    parser.add_argument("--max-cells", type=int, default=500_000)
    parser.add_argument(
        "--seed-only", action="store_true", help="seed and build the index, no more"
    )
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--only", default="", metavar="TEXT", help="reports whose name has it")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
