"""Bounded load test of qubicle-reports, loopback only.

Keeps ``--clients`` concurrent clients busy for ``--seconds`` on a mix of reports (queues
and recipients; daily, weekly, monthly, hourly; some CSV, some in a local time zone, some
asking every KPI with totals; some with ``Cache-Control: no-cache`` so CouchDB is hit too;
over Qubicle sessions, ACDC call_stats or both: ``--source``), then prints requests, errors
(anything not 2xx, timeouts included: there must be none), p50/p99 latency, throughput and
the service's peak memory (``VmHWM``). Exit code 1 if any request failed.

Without ``--url`` it starts everything itself, like bench.py: CouchDB (COUCHDB_URL, else
Docker, else the in-memory stand-in), the dataset (seeded once per size, then reused), its
indexes, and ``qubicle-reports serve`` as a child process. With ``--url`` it loads a
service already running on this machine (give ``--token``, the dataset options it was
seeded with, and ``--pid`` to read its memory).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    SOURCE_DIGIT,
    Dataset,
    Service,
    Stats,
    add_dataset_args,
    build_indexes,
    couch_server,
    ensure_dataset,
    is_stand_in,
    log,
    mib,
    ms,
    report_path,
    require_loopback,
    resolve_dataset,
    table,
    vm_hwm_kib,
)

from app.couch.client import Couch
from app.report.metrics import REPORTS, THRESHOLDS

TOKEN = "loadtest"


@dataclass(frozen=True)
class Call:
    """One HTTP request of the mix, ready to send."""

    method: str
    path: str  # after /v2/accounts/{id}/qubicle_reports
    query: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Kind:
    """A kind of request in the mix, and how often it comes."""

    name: str
    weight: int
    build: Callable[[random.Random], Call]


def mix(ds: Dataset) -> list[Kind]:
    """What dashboards ask: short daily ranges most, long monthly ones, a few hourly days.

    Ranges are random inside the seeded months, so queries and cache entries vary.
    """
    data_first, data_last = ds.window()
    queues, recipients = ds.queue_ids, ds.recipient_ids

    def span(rng: random.Random, min_days: int, max_days: int) -> dict[str, str]:
        total = (data_last - data_first).days + 1
        length = rng.randint(min(min_days, total), min(max_days, total))
        latest_start = data_last - timedelta(days=length - 1)
        start = data_first + timedelta(days=rng.randint(0, (latest_start - data_first).days))
        end: date = start + timedelta(days=length - 1)
        return {"start_date": start.isoformat(), "end_date": end.isoformat()}

    def post(report: str, **data: Any) -> Call:
        return Call("POST", f"/{report}", body={"data": data})

    def get(report: str, **query: str) -> Call:
        return Call("GET", f"/{report}", query=query)

    return [
        Kind("queues daily", 4, lambda r: post("queues", period="daily", **span(r, 1, 31))),
        Kind(
            "queues daily KPIs+totals",
            1,
            lambda r: post(
                "queues",
                period="daily",
                metrics=list(REPORTS["queues"].metrics),
                totals=True,
                service_level_threshold=r.choice(THRESHOLDS),
                **span(r, 7, 31),
            ),
        ),
        Kind(
            "queues weekly New_York",
            2,
            lambda r: post(
                "queues", period="weekly", timezone="America/New_York", **span(r, 28, 92)
            ),
        ),
        Kind(
            "queues monthly GET", 2, lambda r: get("queues", period="monthly", **span(r, 365, 365))
        ),
        Kind("queues hourly", 1, lambda r: post("queues", period="hourly", **span(r, 1, 2))),
        Kind(
            "recipients daily 3 ids",
            2,
            lambda r: post(
                "recipients",
                period="daily",
                identifiers=r.sample(recipients, min(3, len(recipients))),
                **span(r, 1, 31),
            ),
        ),
        Kind(
            "recipients weekly queue_ids",
            2,
            lambda r: post(
                "recipients",
                period="weekly",
                queue_ids=r.sample(queues, min(r.randint(1, 2), len(queues))),
                **span(r, 28, 92),
            ),
        ),
        Kind(
            "recipients monthly Berlin",
            1,
            lambda r: post(
                "recipients", period="monthly", timezone="Europe/Berlin", **span(r, 365, 365)
            ),
        ),
        Kind(
            "recipients hourly Kolkata",
            1,
            lambda r: post("recipients", period="hourly", timezone="Asia/Kolkata", **span(r, 1, 1)),
        ),
        Kind(
            "queues daily CSV Sydney",
            1,
            lambda r: post(
                "queues",
                period="daily",
                format="csv",
                timezone="Australia/Sydney",
                **span(r, 7, 31),
            ),
        ),
        Kind(
            "recipients weekly CSV (Accept)",
            1,
            lambda r: Call(
                "GET",
                "/recipients",
                query={"period": "weekly", **span(r, 28, 92)},
                headers={"Accept": "text/csv"},
            ),
        ),
    ]


@dataclass
class Outcome:
    kind: str
    ms: float
    status: int | None  # None: no HTTP answer (timeout, connection error)
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


async def client(
    http: aiohttp.ClientSession,
    base: str,
    token: str,
    kinds: list[Kind],
    rng: random.Random,
    deadline: float,
    cold_share: float,
    out: list[Outcome],
) -> None:
    """One client: request after request, no think time, until the deadline."""
    weights = [k.weight for k in kinds]
    while time.monotonic() < deadline:
        kind = rng.choices(kinds, weights)[0]
        call = kind.build(rng)
        headers = {"X-Auth-Token": token, **call.headers}
        if rng.random() < cold_share:
            headers["Cache-Control"] = "no-cache"
        data = None
        if call.body is not None:
            data = orjson.dumps(call.body)
            headers["Content-Type"] = "application/json"
        url = base + call.path + ("?" + urlencode(call.query) if call.query else "")
        started = time.perf_counter()
        try:
            async with http.request(call.method, url, data=data, headers=headers) as resp:
                body = await resp.read()
                status: int | None = resp.status
                detail = "" if resp.status < 300 else body[:200].decode(errors="replace")
        except (aiohttp.ClientError, TimeoutError) as e:
            status, detail = None, f"{type(e).__name__}: {e}"
        out.append(Outcome(kind.name, (time.perf_counter() - started) * 1000, status, detail))


async def load(
    url: str, token: str, ds: Dataset, args: argparse.Namespace
) -> tuple[list[Outcome], float]:
    """All clients at once for ``--seconds``; returns the outcomes and the elapsed seconds."""
    kinds = mix(ds)
    base = url.rstrip("/") + report_path(ds.account_id)
    connector = aiohttp.TCPConnector(limit=args.clients)
    timeout = aiohttp.ClientTimeout(total=args.timeout)
    out: list[Outcome] = []
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        started = time.monotonic()
        deadline = started + args.seconds
        await asyncio.gather(
            *(
                client(
                    http,
                    base,
                    token,
                    kinds,
                    random.Random(args.seed * 1000 + i),
                    deadline,
                    args.cold_share,
                    out,
                )
                for i in range(args.clients)
            )
        )
        elapsed = time.monotonic() - started
    return out, elapsed


def print_results(
    outcomes: list[Outcome], elapsed: float, peak_kib: int | None, header: str
) -> int:
    """The summary, a per-kind table, the first distinct errors; the exit code."""
    errors = [o for o in outcomes if not o.ok]
    all_ms = Stats(tuple(o.ms for o in outcomes))
    print(header)
    print(
        f"\nrequests {len(outcomes)}, errors {len(errors)}, "
        f"p50 {ms(all_ms.p50)} ms, p99 {ms(all_ms.p99)} ms, "
        f"throughput {len(outcomes) / elapsed:.1f} req/s over {elapsed:.1f} s"
    )
    rows = []
    for name in sorted({o.kind for o in outcomes}):
        mine = [o for o in outcomes if o.kind == name]
        s = Stats(tuple(o.ms for o in mine))
        failed = sum(not o.ok for o in mine)
        rows.append([name, str(len(mine)), str(failed), ms(s.p50), ms(s.p99)])
    print()
    print(table(["request kind", "requests", "errors", "p50 ms", "p99 ms"], rows))
    if errors:
        seen: dict[tuple[str, int | None], str] = {}
        for o in errors:
            seen.setdefault((o.kind, o.status), o.detail)
        print("\nerrors (first of each kind and status):")
        for (kind, status), detail in list(seen.items())[:10]:
            print(f"  {kind}: {status or 'no answer'} {detail}")
    print(f"\nservice peak memory (VmHWM): {mib(peak_kib)}")
    return 1 if errors or not outcomes else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/loadtest.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__,
    )
    add_dataset_args(parser)
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (default 50)")
    parser.add_argument("--seconds", type=float, default=60, help="duration (default 60)")
    parser.add_argument(
        "--cold-share",
        type=float,
        default=0.25,
        help="share of requests sent with Cache-Control: no-cache (default 0.25)",
    )
    parser.add_argument(
        "--timeout", type=float, default=60, help="seconds per request (default 60)"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed of the mix (default 1)")
    parser.add_argument(
        "--source",
        choices=sorted(SOURCE_DIGIT),
        default="qubicle",
        help="document shape of the dataset: qubicle sessions, ACDC call_stats, or both "
        "(default qubicle)",
    )
    target = parser.add_argument_group("an already running service (loopback only)")
    target.add_argument("--url", help="e.g. http://127.0.0.1:8000 (default: start one)")
    target.add_argument("--token", help="its token for the dataset's account (with --url)")
    target.add_argument("--pid", type=int, help="its process id, to read VmHWM (with --url)")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0 or not 0 <= args.cold_share <= 1:
        parser.error("--clients >= 1, --seconds > 0 and 0 <= --cold-share <= 1")
    if args.url and not args.token:
        parser.error("--url needs --token")
    return args


async def prepare(url: str, args: argparse.Namespace) -> tuple[Dataset, dict[str, Any]]:
    """The dataset, seeded if absent, with its indexes built."""
    couch = Couch(url, timeout=30)
    try:
        stand_in = await is_stand_in(couch)
    finally:
        await couch.close()
    ds = resolve_dataset(args, stand_in=stand_in, real_sizes=False).variant(source=args.source)
    info = await ensure_dataset(url, ds, timeout=3600)
    await build_indexes(url, ds.account_id, timeout=3600)
    return ds, info


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    if args.url:
        require_loopback(args.url, "--url")
        ds = resolve_dataset(args, stand_in=True, real_sizes=False).variant(source=args.source)
        log(f"loading {args.url} for {args.seconds:.0f} s with {args.clients} clients ...")
        outcomes, elapsed = asyncio.run(load(args.url, args.token, ds, args))
        peak = vm_hwm_kib(args.pid) if args.pid else None
        where = f"{args.url} (already running)"
    else:
        with couch_server(loopback_only=True) as (url, origin):
            log(f"CouchDB: {origin}")
            ds, info = asyncio.run(prepare(url, args))
            with Service(url, {TOKEN: ds.account_id}) as service:
                log(f"loading {service.url} for {args.seconds:.0f} s with {args.clients} clients")
                outcomes, elapsed = asyncio.run(load(service.url, TOKEN, ds, args))
                peak = service.peak_memory_kib()
            where = f"a fresh service on {origin}; {info['docs']} docs"
    first, last = ds.window()
    header = (
        f"qubicle-reports load test: {args.clients} clients x {args.seconds:.0f} s, "
        f"{args.cold_share:.0%} no-cache, on {where}\n"
        f"dataset {ds.account_id} ({ds.source}): {ds.calls} visits/day, {first}..{last}, "
        f"{ds.queues} queues, {ds.recipients} recipients"
    )
    code = print_results(outcomes, elapsed, peak, header)
    print(f"\nwall time {time.perf_counter() - started:.1f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
