"""The service's own cost per view row, without CouchDB: replayed view answers (issue 11).

A loopback server (:mod:`app.replay`) answers every view query with canned bytes, formatted
as CouchDB 3 sends them and generated once with our views' key shapes and realistic values
for 20 queues and 60 agents over three months (Oct-Dec 2025): the row counts of the issue's
real-CouchDB measurements. ``qubicle-reports serve`` runs as a child process against it, one
fresh process per report and format, so its peak memory (``VmHWM``) is that report's. Each
report is asked once to warm up, then ``--runs`` times with ``Cache-Control: no-cache``;
printed per view row read (the best of the runs: the machine may be busy):

- parse: the service's ``load`` time (receiving and parsing the answers; the server does no
  work, so this is the service's cost),
- merge: its ``filter`` time (folding the rows into the report's sums),
- render: the rest of the wall time until the client has the last byte (metrics computed,
  JSON or CSV written and sent),
- wall: the whole request; cpu: the service process's CPU time (user + system, from
  /proc, the mean of the runs: what a busy machine disturbs least),

and the process's peak memory. ``--service-tree DIR`` also runs the service from another
checkout (``git worktree add /tmp/before 8bc20cc``) and prints both side by side.
``--cell-limit`` adds queues-hourly and recipients-hourly reports at
``QUBICLE_REPORTS_MAX_CELLS`` (226 queues or agents x 2,208 hours: 499,008 cells, one row
each). ``--loadtest`` runs ``bench/loadtest.py``
against a fresh service on the replayed answers instead.
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
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Dataset, cpu_seconds, free_port, log, report_path, table, vm_hwm_kib

from app.couch.modb import modb
from qubicle_dev.devcouch import terminate
from qubicle_dev.replay import Loopback, Replay, Synth, make_app

REPO = Path(__file__).resolve().parent.parent
TOKEN = "replay"
LAST_MONTH = (2025, 12)
FIRST, LAST = "2025-10-01", "2025-12-31"
CELL_LIMIT_ENTITIES = 226  # x 2,208 hours of Oct-Dec: 499,008 cells, just under 500k


@dataclass(frozen=True)
class Shape:
    name: str
    report: str
    data: dict[str, Any]
    queues: int = 20
    recipients: int = 60


SHAPES = {
    "daily": Shape("queues daily UTC", "queues", {"period": "daily"}),
    "hourly": Shape("queues hourly UTC", "queues", {"period": "hourly"}),
    "quarter": Shape(
        "queues daily Asia/Kolkata", "queues", {"period": "daily", "timezone": "Asia/Kolkata"}
    ),
    "recipients": Shape("recipients hourly UTC", "recipients", {"period": "hourly"}),
    "cells": Shape(
        "queues hourly, cell limit", "queues", {"period": "hourly"}, queues=CELL_LIMIT_ENTITIES
    ),
    "cells-recipients": Shape(
        "recipients hourly, cell limit",
        "recipients",
        {"period": "hourly"},
        recipients=CELL_LIMIT_ENTITIES,
    ),
}


def dataset(queues: int = 20, recipients: int = 60) -> Dataset:
    """The account replayed: bench/common's ids (so bench/loadtest.py's mix names them)."""
    return Dataset(
        calls=2000, months=3, queues=queues, recipients=recipients, last_month=LAST_MONTH
    )


def synth_for(ds: Dataset) -> Synth:
    first, last = ds.window()
    return Synth(ds.account_id, first, last, ds.queue_ids, ds.recipient_ids)


class Child:
    """``python -m app.cli serve`` of a source tree, as its own process on a free port."""

    def __init__(self, tree: Path, couch_url: str, account_id: str, env: dict[str, str]) -> None:
        self.tree = tree
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = tempfile.NamedTemporaryFile(prefix="replay-service-", suffix=".log")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            cwd=tree,
            env={
                **os.environ,
                "PYTHONPATH": str(tree),
                "COUCHDB_URL": couch_url,
                "QUBICLE_REPORTS_AUTH": "static",
                "QUBICLE_REPORTS_TOKENS": f"{TOKEN}={account_id}",
                # the first ask of a large synthetic answer waits for it to be generated
                "QUBICLE_REPORTS_COUCH_TIMEOUT": "300",
                "QUBICLE_REPORTS_REPORT_TIMEOUT": "600",
                **env,
            },
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    async def wait_healthy(self, session: aiohttp.ClientSession, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"service exited:\n{self.log_text()[-2000:]}")
            try:
                async with session.get(self.url + "/health") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise RuntimeError(f"service not healthy:\n{self.log_text()[-2000:]}")

    def log_text(self) -> str:
        return Path(self._log.name).read_text(errors="replace")

    def timings(self, request_id: str) -> dict[str, Any]:
        """The access-log line of one request (load and filter ms, as execution_times),
        written once the response is done."""
        for _ in range(200):
            for line in reversed(self.log_text().splitlines()):
                if request_id in line and line.startswith("{"):
                    return orjson.loads(line)
            time.sleep(0.05)
        raise RuntimeError(f"no access-log line for {request_id}:\n{self.log_text()[-2000:]}")

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.proc.pid)

    def peak_kib(self) -> int | None:
        return vm_hwm_kib(self.proc.pid)

    def stop(self) -> None:
        terminate(self.proc, 5)
        self._log.close()


@dataclass
class Measured:
    rows: int
    parse: float  # µs per row
    merge: float
    render: float
    total: float
    cpu: float  # µs of the service's CPU time per row (user + system), mean of the runs
    peak_mib: float
    bytes_out: int


async def ask(
    session: aiohttp.ClientSession,
    child: Child,
    replay: Replay,
    ds: Dataset,
    shape: Shape,
    fmt: str,
) -> tuple[int, float, dict[str, Any], int]:
    """(rows read, wall ms, access-log line, body bytes) of one cold report."""
    rid = uuid.uuid4().hex
    headers = {"X-Auth-Token": TOKEN, "Cache-Control": "no-cache", "X-Request-ID": rid}
    if fmt == "csv":
        headers["Accept"] = "text/csv"
    data = {**shape.data, "start_date": FIRST, "end_date": LAST}
    rows_before = replay.rows_served
    cpu = child.cpu_seconds()
    t = time.perf_counter()
    async with session.post(
        child.url + report_path(ds.account_id) + f"/{shape.report}",
        json={"data": data},
        headers=headers,
    ) as resp:
        body = await resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{shape.name} {fmt}: {resp.status} {body[:300]!r}")
    wall = (time.perf_counter() - t) * 1000
    line = {**child.timings(rid), "cpu": (child.cpu_seconds() - cpu) * 1000}
    return replay.rows_served - rows_before, wall, line, len(body)


async def measure(
    tree: Path, replay: Replay, url: str, ds: Dataset, shape: Shape, fmt: str, runs: int
) -> Measured:
    child = Child(tree, url, ds.account_id, {})
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as session:
            await child.wait_healthy(session)
            await ask(session, child, replay, ds, shape, fmt)  # warm up: design docs, imports
            samples = [await ask(session, child, replay, ds, shape, fmt) for _ in range(runs)]
        peak = child.peak_kib()
    finally:
        child.stop()
    rows = samples[0][0]
    per = 1000 / max(rows, 1)  # ms -> µs per row
    parse = min(s[2]["load"] for s in samples) * per
    merge = min(s[2]["filter"] for s in samples) * per
    render = min(s[1] - s[2]["load"] - s[2]["filter"] for s in samples) * per
    total = min(s[1] for s in samples) * per
    cpu = statistics.mean(s[2]["cpu"] for s in samples) * per
    return Measured(rows, parse, merge, render, total, cpu, (peak or 0) / 1024, samples[0][3])


def fmt_row(m: Measured | None) -> list[str]:
    if m is None:
        return ["-"] * 6
    return [
        f"{m.parse:.2f}",
        f"{m.merge:.2f}",
        f"{m.render:.2f}",
        f"{m.total:.2f}",
        f"{m.cpu:.2f}",
        f"{m.peak_mib:.0f}",
    ]


async def bench(args: argparse.Namespace) -> int:
    trees = [("after", REPO)]
    if args.service_tree:
        trees.insert(0, ("before", Path(args.service_tree).resolve()))
    results: dict[tuple[str, str, str], Measured] = {}
    by_size: dict[tuple[int, int], tuple[Replay, Loopback]] = {}
    try:
        for key in args.shapes:
            shape = SHAPES[key]
            ds = dataset(shape.queues, shape.recipients)
            size = (shape.queues, shape.recipients)
            if size not in by_size:
                replay = Replay(synth=synth_for(ds), strict=False)
                server = Loopback(make_app(replay)).__enter__()
                by_size[size] = (replay, server)
            replay, server = by_size[size]
            for fmt in args.formats:
                for label, tree in trees:
                    log(f"{label}: {shape.name} {fmt} ...")
                    m = await measure(tree, replay, server.url, ds, shape, fmt, args.runs)
                    results[(key, fmt, label)] = m
                    log(f"  {m}")
    finally:
        for _, server in by_size.values():
            server.__exit__(None, None, None)
    labels = [label for label, _ in trees]
    headers = ["report", "fmt", "rows"]
    for label in labels:
        headers += [f"{label}: parse", "merge", "render", "wall", "cpu", "MiB"]
    lines = []
    for key in args.shapes:
        for fmt in args.formats:
            got = [results.get((key, fmt, label)) for label in labels]
            rows = next((m.rows for m in got if m is not None), 0)
            cells = [SHAPES[key].name, fmt, f"{rows:,}"]
            for m in got:
                cells += fmt_row(m)
            lines.append(cells)
    print(
        "µs per view row read: parse, merge, render and wall the best of the runs, cpu the "
        "service's CPU time (mean); MiB the service process's peak RSS (VmHWM)"
    )
    print(table(headers, lines))
    if args.json:
        out = {f"{k}/{f}/{label}": vars(m) for (k, f, label), m in results.items()}
        Path(args.json).write_text(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode())
    return 0


def prewarm(synth: Synth) -> None:
    """Generate every (entity, day) series once, before the service is timed or loaded."""
    log("generating the replayed answers ...")
    for year, month in sorted(synth.months()):
        db = modb(synth.account_id, year, month)
        for view in ("queue_visits", "queue_waits", "offers_by_recipient"):
            key = (f"prewarm/{db}/{view}", "")
            synth.answer(key, db, f"{view}_by_quarter", {"group_level": 4})
            synth._answers.pop(key, None)


def loadtest(args: argparse.Namespace) -> int:
    """bench/loadtest.py against a fresh service reading replayed answers."""
    ds = dataset()
    replay = Replay(synth=synth_for(ds), strict=False)
    prewarm(replay.synth)  # type: ignore[arg-type]
    tree = Path(args.service_tree).resolve() if args.service_tree else REPO
    with Loopback(make_app(replay)) as server:
        child = Child(tree, server.url, ds.account_id, {})
        try:

            async def up() -> None:
                async with aiohttp.ClientSession() as session:
                    await child.wait_healthy(session)

            asyncio.run(up())
            command = [
                sys.executable,
                str(REPO / "bench" / "loadtest.py"),
                "--url", child.url, "--token", TOKEN, "--pid", str(child.proc.pid),
                "--calls", str(ds.calls), "--months", "3", "--queues", str(ds.queues),
                "--recipients", str(ds.recipients), "--last-month", "2025-12",
                "--clients", str(args.clients), "--seconds", str(args.seconds),
            ]  # fmt: skip
            code = subprocess.run(command, check=False).returncode
            print(f"view answers replayed: {replay.served}; service tree {tree}")
            return code
        finally:
            child.stop()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/replay.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__,
    )
    parser.add_argument("--service-tree", help="also measure the service of this checkout")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per report (default 5)")
    parser.add_argument(
        "--shapes",
        default="daily,hourly,quarter,recipients",
        help=f"comma-separated, of {','.join(SHAPES)} (default daily,hourly,quarter,recipients)",
    )
    parser.add_argument("--formats", default="json,csv", help="json,csv (default both)")
    parser.add_argument("--cell-limit", action="store_true", help="add the 499,008-cell reports")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--loadtest", action="store_true", help="run bench/loadtest.py instead")
    parser.add_argument("--clients", type=int, default=50, help="with --loadtest (default 50)")
    parser.add_argument("--seconds", type=float, default=60, help="with --loadtest (default 60)")
    args = parser.parse_args(argv)
    args.shapes = [s for s in args.shapes.split(",") if s]
    if args.cell_limit:
        args.shapes += [s for s in ("cells", "cells-recipients") if s not in args.shapes]
    args.formats = [f for f in args.formats.split(",") if f]
    if any(s not in SHAPES for s in args.shapes) or any(
        f not in ("json", "csv") for f in args.formats
    ):
        parser.error("unknown shape or format")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.loadtest:
        return loadtest(args)
    return asyncio.run(bench(args))


if __name__ == "__main__":
    sys.exit(main())
