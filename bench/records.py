"""The record reports (issue 21) on a real CouchDB: a page against the cheapest read that
returns its rows, and CSV of every row of a range: rows a second and peak memory.

Seeds (once per size: bench/common.py's marker) one account of both document shapes
(``--calls`` visits a day over ``--months`` months ending 2025-12, ``qubicle_session`` and
ACDC ``call_stat``) and builds its design doc; then, against a ``qubicle-reports serve``
child process on loopback, prints:

- **a page of 50 rows, cold** (medians of ``--repeats`` interleaved runs): ``visits`` of one
  queue and ``offers`` to one agent over one day, first page and a middle page (its
  ``start_key``), against the cheapest read that returns those rows, the faster of two (both
  printed): the same key range of the same view in the MoDB that holds them,
  ``reduce=false``, ``limit`` = 50, with ``include_docs=true`` in one request; or without
  documents, then the 50 documents in one ``_bulk_get``; parsed with orjson. Those read
  one MoDB only, which answers right only while no document was archived late; so also
  against the **complete read**, the least a correct page must read: the same, in the MoDB
  and the month after's side by side (and, for an agent, the state open at the window's
  start: the last event of the 12 hours before), then the first 50 rows' documents. The
  service reads that, the page size plus a few rows, and its answer goes through HTTP once
  more (``--pages-only``: only these);
- **CSV of every row of the range** (``visits`` and ``offers`` of the whole dataset, no
  ``identifiers``): rows, seconds, rows a second and the peak memory (``VmHWM``) of a fresh
  service process, against the cheapest read of the same rows, the faster of two (both
  printed): each entity's key range of the view with its documents (``include_docs``) in
  one unpaged request per MoDB; or every entity's keys without documents first, then the
  documents by ``_bulk_get`` of 5,000, two requests in flight; parsed with orjson;
- **the documents read from CouchDB**, four queues' visits of the last month, by the way
  they are asked (a view's ``include_docs``, ``_bulk_get`` of 1,000 to 5,000 ids, one to
  four in flight): documents a second, and with ``COUCHDB_PID`` (a CouchDB on this
  machine) CouchDB's CPU per document;
- **liveness while a CSV streams**: ``/health/live`` every 50 ms during the offers CSV's
  first 15 s, beside a control process that answers and does nothing else (the machine's
  floor), as bench/tenants.py probes;
- **index growth**: none; the record reports read the views the aggregates build, and the
  design doc is unchanged (its views' source is compared with ``git show main``).

Progress goes to stderr, results to stdout. Needs ``COUCHDB_URL`` (a real CouchDB 3.4).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    REPO,
    Dataset,
    RawCouch,
    Service,
    build_indexes,
    ensure_dataset,
    log,
    mib,
    month_arg,
    report_path,
    table,
    vm_hwm_kib,
)
from tenants import probe_live

from app.couch.modb import modb
from app.report.agent_states import GREGORIAN_OFFSET
from app.report.load import HIGH
from app.report.records.read import VIEWS as RECORD_VIEWS

TOKEN = "bench-records"


async def timed_get(
    session: aiohttp.ClientSession, url: str, params: dict[str, Any]
) -> tuple[float, bytes]:
    started = time.perf_counter()
    async with session.get(
        url, params=params, headers={"X-Auth-Token": TOKEN, "Cache-Control": "no-cache"}
    ) as resp:
        body = await resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{resp.status}: {body[:300]!r}")
    return time.perf_counter() - started, body


async def pages(
    args: argparse.Namespace, svc: Service, ds: Dataset, raw: RawCouch
) -> list[list[str]]:
    """Cold pages of 50 against the reads that return their rows."""
    _, last = ds.window()
    day = last.replace(day=15)
    key = day.strftime("%Y%m%d")
    db = modb(ds.account_id, day.year, day.month)
    after = modb(ds.account_id, day.year + day.month // 12, day.month % 12 + 1)
    start = gregorian(day)
    cases = [
        ("visits", ds.queue_ids[0], "queue_visits_by_quarter", [key], [key, HIGH]),
        ("offers", ds.recipient_ids[0], "offers_by_recipient_by_quarter", [key], [key, HIGH]),
        # 50 intervals are the states of 50 events (the first may be open at the day's start)
        ("agent_intervals", ds.recipient_ids[0], "agent_events", [start], [start + 86399, HIGH]),
    ]
    out = []
    async with aiohttp.ClientSession() as session:
        for report, entity, view, low, high in cases:
            url = svc.url + report_path(ds.account_id) + "/" + report
            params = {
                "start_date": day.isoformat(),
                "end_date": day.isoformat(),
                "identifiers": entity,
                "page_size": "50",
            }
            _, body = await timed_get(session, url, params)
            middle = orjson.loads(body)["next_start_key"]
            floor_params = {
                "reduce": False,
                "include_docs": True,
                "limit": 50,
                "startkey": [entity, *low],
                "endkey": [entity, *high],
            }
            service, service_mid, with_docs, bulk, whole = [], [], [], [], []
            for _ in range(args.repeats):
                t, _ = await timed_get(session, url, params)
                service.append(t)
                t, _ = await timed_get(session, url, {**params, "start_key": middle})
                service_mid.append(t)
                started = time.perf_counter()
                rows = orjson.loads(await raw.view(db, view, floor_params))["rows"]
                with_docs.append(time.perf_counter() - started)
                assert len(rows) == 50
                started = time.perf_counter()
                keys = {**floor_params, "include_docs": False}
                ids = [r["id"] for r in orjson.loads(await raw.view(db, view, keys))["rows"]]
                docs = orjson.loads(await raw.bulk_get(db, ids))["results"]
                bulk.append(time.perf_counter() - started)
                assert len(docs) == 50
                started = time.perf_counter()
                assert await complete_read(raw, (db, after), view, keys, entity, start) == 50
                whole.append(time.perf_counter() - started)
            s, m, d, b, c = (
                statistics.median(x) * 1000
                for x in (service, service_mid, with_docs, bulk, whole)
            )
            f = min(d, b)
            who = {"visits": "queue", "offers": "agent", "agent_intervals": "agent"}[report]
            out.append(
                [
                    f"{report}, 1 {who}, 1 day",
                    f"{s:.1f}",
                    f"{m:.1f}",
                    f"{d:.1f}",
                    f"{b:.1f}",
                    f"{c:.1f}",
                    f"{s / f:.2f}x / {s / c:.2f}x",
                    f"{m / f:.2f}x / {m / c:.2f}x",
                ]
            )
    return out


async def complete_read(
    raw: RawCouch,
    dbs: tuple[str, str],
    view: str,
    keys: dict[str, Any],
    entity: str,
    start: int,
) -> int:
    """The least a correct page must read (CONTRACT 1, 2, 2b, 7): the key range in the MoDB
    and in the month after's (documents archived late sit there), side by side, for an
    agent's intervals also the state open at the window's start (the last event of the 12
    hours before, in both); then the 50 first rows' documents, one ``_bulk_get`` per MoDB
    holding some. Returns the documents read."""
    reads = [raw.view(db, view, keys) for db in dbs]
    if view == "agent_events":
        back = {
            "reduce": False,
            "include_docs": True,
            "descending": True,
            "limit": 1,
            "startkey": [entity, start - 1, HIGH],
            "endkey": [entity, start - 43_200],
        }
        reads += [raw.view(db, view, back) for db in dbs]
    answers = await asyncio.gather(*reads)
    rows = sorted(
        ((r["key"], r["id"], db) for db, a in zip(dbs, answers, strict=False)
         for r in orjson.loads(a).get("rows", [])),
    )[:50]  # fmt: skip
    ids: dict[str, list[str]] = {}
    for _, doc_id, db in rows:
        ids.setdefault(db, []).append(doc_id)
    got = await asyncio.gather(*(raw.bulk_get(db, i) for db, i in ids.items()))
    return sum(len(orjson.loads(g)["results"]) for g in got)


async def csv_run(
    svc: Service, ds: Dataset, report: str, days: int | None = None
) -> tuple[int, float]:
    first, last = ds.window()
    if days is not None:
        first = last - timedelta(days=days - 1)
    url = svc.url + report_path(ds.account_id) + "/" + report
    params = {"start_date": first.isoformat(), "end_date": last.isoformat(), "format": "csv"}
    rows = 0
    started = time.perf_counter()
    timeout = aiohttp.ClientTimeout(total=3600)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.get(url, params=params, headers={"X-Auth-Token": TOKEN}) as resp,
    ):
        assert resp.status == 200, await resp.text()
        async for chunk in resp.content.iter_chunked(1 << 16):
            rows += chunk.count(b"\n")  # a CRLF may be cut between two chunks
    return rows - 1, time.perf_counter() - started


async def live_during(svc: Service, seconds: float) -> tuple[list[float], list[float]]:
    """``/health/live`` every 50 ms for ``seconds``, each probe followed by one of a control
    process that answers and does nothing else (the machine's floor), as bench/tenants.py
    probes. Milliseconds, service and control."""
    return await probe_live(f"{svc.url}/health/live", seconds)


def live_figures(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[int(len(ordered) * 0.95)]
    return f"p50 {statistics.median(ordered):.1f} / p95 {p95:.1f} / max {ordered[-1]:.1f} ms"


async def csv_floor(
    raw: RawCouch, ds: Dataset, view: str, entities: list[str], bulk: bool = False
) -> tuple[int, float]:
    """Every entity's rows of the range with their documents, parsed with orjson: one
    unpaged request per entity and MoDB (the range's months and the one after) with
    ``include_docs``; or (``bulk``) the same without documents, all entities' at once, then
    the documents by ``_bulk_get`` of 5,000, two in flight (the fastest way CouchDB 3.4
    reads them here: :func:`doc_reads`)."""
    first, last = ds.window()
    months = [(first.year, first.month)]
    while months[-1] <= (last.year, last.month):  # every month of the range, the one after
        y, m = months[-1]
        months.append((y + m // 12, m % 12 + 1))
    low: Any = first.strftime("%Y%m%d")
    high: Any = last.strftime("%Y%m%d")
    if view == "agent_events":  # keyed by Gregorian seconds, from 12 h before (7b)
        low = gregorian(first) - 43_200
        high = gregorian(last) + 86_399
    rows = 0
    started = time.perf_counter()
    slots = asyncio.Semaphore(2)

    async def docs(db: str, ids: list[str]) -> int:
        async with slots:
            return len(orjson.loads(await raw.bulk_get(db, ids))["results"])

    async def keys(entity: str, db: str) -> list[dict[str, Any]]:
        params = {
            "reduce": False,
            "include_docs": not bulk,
            "startkey": [entity, low],
            "endkey": [entity, high, HIGH],
        }
        got: list[dict[str, Any]] = orjson.loads(await raw.view(db, view, params)).get(
            "rows", []
        )
        return got

    dbs = [modb(ds.account_id, year, month) for year, month in months]
    if not bulk:
        for entity in entities:
            for db in dbs:
                rows += len(await keys(entity, db))
        return rows, time.perf_counter() - started
    ids: dict[str, dict[str, None]] = {db: {} for db in dbs}
    for entity in entities:
        answers = await asyncio.gather(*(keys(entity, db) for db in dbs))
        for db, got in zip(dbs, answers, strict=True):
            rows += len(got)
            ids[db].update(dict.fromkeys(r["id"] for r in got))
    chunks = [
        (db, i[n : n + 5000]) for db, found in ids.items() for i in [list(found)]
        for n in range(0, len(i), 5000)
    ]  # fmt: skip
    read = await asyncio.gather(*(docs(db, c) for db, c in chunks))
    assert sum(read) == sum(map(len, ids.values()))
    return rows, time.perf_counter() - started


def couch_cpu_seconds() -> float | None:
    """CPU seconds used so far by the CouchDB process ``COUCHDB_PID`` names (a CouchDB on
    this machine), else None."""
    pid = os.environ.get("COUCHDB_PID")
    if not pid:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def doc_reads(raw: RawCouch, ds: Dataset) -> list[list[str]]:
    """How fast CouchDB returns the visit documents of four queues' month, by the way it is
    asked; with ``COUCHDB_PID`` also CouchDB's CPU per document."""
    _, last = ds.window()
    db = modb(ds.account_id, last.year, last.month)
    view = "queue_visits_by_quarter"
    ids: list[str] = []
    for queue in ds.queue_ids[:4]:
        keys = {"reduce": False, "startkey": [queue], "endkey": [queue, HIGH]}
        rows = orjson.loads(await raw.view(db, view, keys))["rows"]
        ids += dict.fromkeys(r["id"] for r in rows)

    async def timed(read: Any) -> list[str]:
        cpu, started = couch_cpu_seconds(), time.perf_counter()
        n = await read()
        seconds, after = time.perf_counter() - started, couch_cpu_seconds()
        per_doc = "" if cpu is None or after is None else f"{(after - cpu) / n * 1e6:.0f} µs"
        return [f"{n / seconds:,.0f}", per_doc]

    async def bulk(size: int, inflight: int) -> int:
        slots = asyncio.Semaphore(inflight)

        async def one(chunk: list[str]) -> int:
            async with slots:
                return len(orjson.loads(await raw.bulk_get(db, chunk))["results"])

        chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
        return sum(await asyncio.gather(*(one(c) for c in chunks)))

    async def with_docs() -> int:
        n = 0
        for queue in ds.queue_ids[:4]:
            keys = {"reduce": False, "startkey": [queue], "endkey": [queue, HIGH]}
            keys["include_docs"] = True
            n += len(orjson.loads(await raw.view(db, view, keys))["rows"])
        return n

    out = [["a view's include_docs", *await timed(with_docs)]]
    for size, inflight in ((1000, 1), (1000, 4), (2500, 2), (5000, 2)):
        got = await timed(lambda s=size, i=inflight: bulk(s, i))
        out.append([f"_bulk_get of {size:,}, {inflight} in flight", *got])
    return out


def gregorian(day: Any) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) + GREGORIAN_OFFSET


def design_doc_unchanged() -> str:
    here = subprocess.run(
        ["git", "diff", "--stat", "main", "--", "couch_design_docs"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    views = sorted(set(RECORD_VIEWS.values()))
    return (
        "unchanged against main (no view added or changed); the record reports read "
        f"{', '.join(views)}, which the aggregate reports read too: index growth "
        "qubicle_session 0 %, call_stat 0 %, status_stat 0 %"
        if not here
        else f"CHANGED against main:\n{here}"
    )


async def run(args: argparse.Namespace) -> None:
    url = os.environ["COUCHDB_URL"]
    ds = Dataset(
        calls=args.calls,
        months=args.months,
        queues=20,
        recipients=40,
        last_month=args.last_month,
        source="both",
    )
    described = await ensure_dataset(url, ds, timeout=600)
    log(f"dataset {ds.account_id}: {described['docs']} docs; building indexes")
    built = await build_indexes(url, ds.account_id, timeout=3600)
    log(f"  built in {built:.0f} s")
    raw = RawCouch(url, timeout=3600)
    try:
        with Service(url, {TOKEN: ds.account_id}) as svc:
            page_rows = await pages(args, svc, ds, raw)
        print(f"\n## A page of 50 rows, cold (median of {args.repeats}), ms\n")
        print(
            table(
                [
                    "page",
                    "service: first",
                    "service: middle",
                    "include_docs",
                    "keys + _bulk_get",
                    "complete read",
                    "first / cheapest, / complete",
                    "middle / cheapest, / complete",
                ],
                page_rows,
            )
        )
        if args.pages_only:
            return
        print("\n## The visit documents of four queues' last month, read from CouchDB\n")
        print(table(["read", "documents/s", "CouchDB CPU a document"], await doc_reads(raw, ds)))
        csv_rows = []
        for report, view, entities in (
            ("visits", "queue_visits_by_quarter", ds.queue_ids),
            ("offers", "offers_by_recipient_by_quarter", ds.recipient_ids),
            ("agent_intervals", "agent_events", ds.recipient_ids),
        ):
            with Service(url, {TOKEN: ds.account_id}) as svc:
                n, seconds = await csv_run(svc, ds, report)
                peak = vm_hwm_kib(svc.pid)
            fn, fseconds = await csv_floor(raw, ds, view, entities)
            bn, bseconds = await csv_floor(raw, ds, view, entities, bulk=True)
            csv_rows.append(
                [
                    report,
                    f"{n:,}",
                    f"{seconds:.1f}",
                    f"{n / seconds:,.0f}",
                    mib(peak),
                    f"{fn:,}",
                    f"{fn / fseconds:,.0f}",
                    f"{bn / bseconds:,.0f}",
                    f"{(n / seconds) / max(fn / fseconds, bn / bseconds):.2f}x",
                ]
            )
        with Service(url, {TOKEN: ds.account_id}) as svc:  # liveness meanwhile, apart
            probed = asyncio.ensure_future(live_during(svc, 15))
            await csv_run(svc, ds, "offers")
            live, floor = await probed
        with Service(url, {TOKEN: ds.account_id}) as svc:  # flat memory: the same, one day
            n, seconds = await csv_run(svc, ds, "offers", days=1)
            peak = vm_hwm_kib(svc.pid)
        csv_rows.append(
            [
                "offers, last day only",
                f"{n:,}",
                f"{seconds:.1f}",
                f"{n / seconds:,.0f}",
                mib(peak),
                "",
                "",
                "",
                "",
            ]
        )
        print("\n## CSV of every row of the range (one fresh service process each)\n")
        print(
            table(
                [
                    "report",
                    "rows",
                    "s",
                    "rows/s",
                    "peak memory",
                    "cheapest: view rows",
                    "include_docs rows/s",
                    "keys + _bulk_get rows/s",
                    "service / cheapest",
                ],
                csv_rows,
            )
        )
        print(
            "\n## /health/live during an offers CSV (its first 15 s; a run of its own), every "
            "50 ms\n\n"
            f"service: {live_figures(live)}; a control process beside it: "
            f"{live_figures(floor)}"
        )
        print(f"\n## Index\n\ndesign doc {design_doc_unchanged()}")
    finally:
        await raw.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=3000, help="visits per day (default 3000)")
    parser.add_argument("--months", type=int, default=1, help="months of data (default 1)")
    parser.add_argument(
        "--last-month",
        type=month_arg,
        default=month_arg("2025-12"),
        metavar="YYYY-MM",
        help="the data ends with this month (default 2025-12)",
    )
    parser.add_argument("--repeats", type=int, default=15, help="page timings (default 15)")
    parser.add_argument("--pages-only", action="store_true", help="the pages, not the CSV runs")
    args = parser.parse_args(argv)
    if "COUCHDB_URL" not in os.environ:
        parser.error("set COUCHDB_URL to a real CouchDB 3.4")
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
