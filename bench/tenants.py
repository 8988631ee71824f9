"""One tenant never slows another: account B's report latency and ``/health/live`` while
account A saturates its share of the service, loopback only.

Two identical datasets under two account ids (A and B, seeded once per size, then reused),
one ``qubicle-reports serve`` as its own process with its default fair shares (or the
``--env`` given). First, idle: B's 3-day report ``--runs`` times one after the other, and
A's heavy report (hourly over the whole dataset, every KPI, totals, no cache) once: "one
report's duration". Then ``--greedy`` clients of A ask that heavy report over and over for
``--seconds`` while B asks its 3-day report one after the other and a prober asks
``/health/live`` every 50 ms. Prints B's p50/p95 idle and busy, the liveness latency, A's
outcomes (200, 503 ``too busy``) and whether the goals hold: B's busy p95 within 2x its
idle p95 plus one heavy report's duration, liveness under 100 ms.

The floor for liveness: the prober asks, right after each probe of the service, a control
server in a process of its own that answers ``200 ok`` and does nothing else (the cheapest
answer any process on this machine could give); its latencies are printed beside the
service's, so a stall of the machine (CouchDB and the clients taking both cores) is told
apart from a stall of the service.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    Dataset,
    Service,
    Stats,
    add_dataset_args,
    build_indexes,
    couch_server,
    ensure_dataset,
    is_stand_in,
    log,
    ms,
    report_path,
    resolve_dataset,
    table,
)

from app.couch.client import Couch
from app.report.metrics import REPORTS

TOKEN_A, TOKEN_B = "greedy-a", "polite-b"
LIVE_EVERY = 0.05  # seconds between two liveness probes
# the liveness prober: a plain blocking client on one keep-alive connection, milliseconds out
PROBER = """
import http.client, json, sys, time, urllib.parse
urls = [urllib.parse.urlsplit(u) for u in sys.argv[1].split(",")]
seconds, every = float(sys.argv[2]), float(sys.argv[3])
conns = [http.client.HTTPConnection(u.netloc, timeout=30) for u in urls]
out, stop = [[] for _ in urls], time.monotonic() + seconds
while time.monotonic() < stop:
    for url, conn, times in zip(urls, conns, out):
        started = time.perf_counter()
        conn.request("GET", url.path)
        conn.getresponse().read()
        times.append((time.perf_counter() - started) * 1000)
    time.sleep(every)
print(json.dumps(out))
"""
# the control: the cheapest HTTP answer a process of its own can give, for the prober's floor
CONTROL = """
import asyncio
async def answer(reader, writer):
    while await reader.readline():
        while (await reader.readline()) not in (b"\\r\\n", b""):
            pass
        writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok")
        await writer.drain()
async def main():
    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()
asyncio.run(main())
"""


async def probe_live(live_url: str, seconds: float) -> tuple[list[float], list[float]]:
    """``live_url`` every ``LIVE_EVERY`` seconds for ``seconds``, each probe followed by one
    of the control (the floor), from a prober process of its own. Milliseconds, the
    service's and the control's."""
    control = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CONTROL, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert control.stdout is not None
        port = int(await control.stdout.readline())
        urls = f"{live_url},http://127.0.0.1:{port}/"
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", PROBER, urls, str(seconds), str(LIVE_EVERY),
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await proc.communicate()
    finally:
        control.kill()
        await control.wait()
    live, floor = ([float(ms) for ms in times] for times in orjson.loads(out))
    return live, floor


def b_report(ds: Dataset) -> dict[str, Any]:
    """What a dashboard of B asks: the last 3 days, daily, every queue KPI, totals."""
    _, last = ds.window()
    first = last.fromordinal(last.toordinal() - 2)
    return {
        "report": "queues",
        "start_date": first.isoformat(),
        "end_date": last.isoformat(),
        "metrics": list(REPORTS["queues"].metrics),
        "totals": True,
    }


def a_report(ds: Dataset) -> dict[str, Any]:
    """What hurt B before: hourly over the whole dataset (a year on CouchDB), every KPI."""
    first, last = ds.window()
    return {
        "report": "queues",
        "period": "hourly",
        "start_date": first.isoformat(),
        "end_date": last.isoformat(),
        "metrics": list(REPORTS["queues"].metrics),
        "totals": True,
    }


async def timed(
    session: aiohttp.ClientSession,
    url: str,
    token: str,
    data: dict[str, Any] | None,
    no_cache: bool = False,
) -> tuple[int, float]:
    headers = {"X-Auth-Token": token}
    if no_cache:
        headers["Cache-Control"] = "no-cache"
    started = time.perf_counter()
    if data is None:
        async with session.get(url) as resp:
            await resp.read()
    else:
        async with session.post(url, data=orjson.dumps({"data": data}), headers=headers) as resp:
            await resp.read()
    return resp.status, (time.perf_counter() - started) * 1000


async def measure(base: str, a: Dataset, b: Dataset, args: argparse.Namespace) -> dict[str, Any]:
    timeout = aiohttp.ClientTimeout(total=300)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        a_url, b_url = base + report_path(a.account_id), base + report_path(b.account_id)
        live_url = base + "/health/live"
        for _ in range(2):  # warm: names, account docs, caches
            await timed(session, b_url, TOKEN_B, b_report(b))
        idle_b = [(await timed(session, b_url, TOKEN_B, b_report(b)))[1] for _ in range(args.runs)]
        idle_live = [(await timed(session, live_url, "", None))[1] for _ in range(args.runs)]
        status, heavy = await timed(session, a_url, TOKEN_A, a_report(a), no_cache=True)
        if status != 200:
            raise RuntimeError(f"A's heavy report alone answered {status}")

        stop = time.monotonic() + args.seconds
        outcomes: dict[int, int] = {}

        async def greedy() -> None:
            while time.monotonic() < stop:
                status, _ = await timed(session, a_url, TOKEN_A, a_report(a), no_cache=True)
                outcomes[status] = outcomes.get(status, 0) + 1
                if status == 503:
                    await asyncio.sleep(0.05)  # a client that does not honour Retry-After

        async def polite() -> list[tuple[int, float]]:
            out = []
            await asyncio.sleep(2)  # A's clients have filled their share by now
            while time.monotonic() < stop:
                out.append(await timed(session, b_url, TOKEN_B, b_report(b)))
            return out

        async def prober() -> list[list[float]]:
            """In a process of its own: this one's loop is busy reading A's answers (MBs
            each), which would delay the probes' own timing and charge it to the service."""
            return list(await probe_live(live_url, stop - time.monotonic()))

        log(f"A: {args.greedy} clients for {args.seconds:.0f} s; B and the prober meanwhile")
        results = await asyncio.gather(*(greedy() for _ in range(args.greedy)), polite(), prober())
        busy_b, (live, control) = results[-2], results[-1]
    return {
        "idle_b": Stats(tuple(idle_b)),
        "idle_live": Stats(tuple(idle_live)),
        "heavy": heavy,
        "busy_b": Stats(tuple(t for s, t in busy_b if s == 200)),
        "busy_b_failed": [s for s, _ in busy_b if s != 200],
        "live": Stats(tuple(live)),
        "control": Stats(tuple(control)),
        "a_outcomes": outcomes,
    }


def report(r: dict[str, Any], args: argparse.Namespace, where: str, ds: Dataset) -> int:
    first, last = ds.window()
    idle_b, busy_b, live = r["idle_b"], r["busy_b"], r["live"]
    bound = 2 * idle_b.p95 + r["heavy"]
    print(
        f"qubicle-reports tenants bench on {where}\n"
        f"datasets: {ds.calls} visits/day, {first}..{last}, {ds.queues} queues (A and B alike)\n"
        f"A: {args.greedy} clients asking hourly {first}..{last}, every KPI, totals, no cache, "
        f"for {args.seconds:.0f} s; B: its 3-day daily report, one after the other\n"
    )
    rows = [
        ["B 3-day report, idle", str(len(idle_b.runs)), ms(idle_b.p50), ms(idle_b.p95), "-"],
        ["B 3-day report, A saturating", str(len(busy_b.runs)), ms(busy_b.p50), ms(busy_b.p95),
         ms(max(busy_b.runs, default=float("nan")))],
        ["/health/live, idle", str(len(r["idle_live"].runs)), ms(r["idle_live"].p50),
         ms(r["idle_live"].p95), ms(max(r["idle_live"].runs))],
        ["/health/live, A saturating", str(len(live.runs)), ms(live.p50), ms(live.p95),
         ms(max(live.runs, default=float("nan")))],
        ["control server (floor), A saturating", str(len(r["control"].runs)),
         ms(r["control"].p50), ms(r["control"].p95),
         ms(max(r["control"].runs, default=float("nan")))],
        ["A's heavy report alone", "1", ms(r["heavy"]), "-", "-"],
    ]  # fmt: skip
    print(table(["ms", "runs", "p50", "p95", "max"], rows))
    slow = [t for t in live.runs if t >= 100]
    print(f"\n/health/live probes at 100 ms or more while A saturated: {len(slow)} of "
          f"{len(live.runs)} ({', '.join(ms(t) for t in sorted(slow)) or 'none'})")
    floor = [t for t in r["control"].runs if t >= 100]
    print(f"control server (floor) probes at 100 ms or more meanwhile: {len(floor)} of "
          f"{len(r['control'].runs)} ({', '.join(ms(t) for t in sorted(floor)) or 'none'})")
    slow_b = [t for t in busy_b.runs if t >= 100]
    print(f"B's reports at 100 ms or more meanwhile: {len(slow_b)} of {len(busy_b.runs)}")
    outcomes = ", ".join(f"{n} x {s}" for s, n in sorted(r["a_outcomes"].items()))
    print(f"\nA's answers: {outcomes}; B's failures: {r['busy_b_failed'] or 'none'}")
    b_ok = not r["busy_b_failed"] and busy_b.p95 <= bound
    live_ok = max(live.runs, default=0.0) < 100
    print(
        f"goal B p95 <= 2 x idle p95 + one heavy report = {ms(bound)} ms: "
        f"{'met' if b_ok else 'NOT met'} ({ms(busy_b.p95)} ms)\n"
        f"goal /health/live < 100 ms (every probe): {'met' if live_ok else 'NOT met'} "
        f"(max {ms(max(live.runs, default=float('nan')))} ms)"
    )
    return 0 if b_ok and live_ok else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--greedy", type=int, default=50, help="A's concurrent clients (50)")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long A saturates (30)")
    parser.add_argument("--runs", type=int, default=30, help="idle runs of B's report (30)")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the service (repeatable), e.g. QUBICLE_REPORTS_ACCOUNT_REPORTS=8",
    )
    add_dataset_args(parser)
    return parser.parse_args(argv)


async def prepare(url: str, args: argparse.Namespace) -> tuple[Dataset, Dataset]:
    couch = Couch(url, timeout=30)
    try:
        stand_in = await is_stand_in(couch)
    finally:
        await couch.close()
    a = resolve_dataset(args, stand_in=stand_in, real_sizes=False)
    b = a.variant(copy=1)
    for ds in (a, b):
        await ensure_dataset(url, ds, timeout=3600)
        await build_indexes(url, ds.account_id, timeout=3600)
    return a, b


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env = dict(item.split("=", 1) for item in args.env)
    with couch_server(loopback_only=True) as (url, origin):
        log(f"CouchDB: {origin}")
        a, b = asyncio.run(prepare(url, args))
        tokens = {TOKEN_A: a.account_id, TOKEN_B: b.account_id}
        with Service(url, tokens, env=env) as service:
            results = asyncio.run(measure(service.url, a, b, args))
    settings = ", ".join(args.env) or "default fair shares"
    return report(results, args, f"{origin} ({settings})", a)


if __name__ == "__main__":
    sys.exit(main())
