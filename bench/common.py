"""Pieces shared by ``bench.py`` and ``loadtest.py``: CouchDB, datasets, the service, stats.

Both scripts measure the real thing: a CouchDB-protocol server (``COUCHDB_URL``, else Docker,
else the in-memory stand-in), a dataset seeded with :func:`app.seed.seed` under a fixed
account id derived from its size (so reruns on a persistent CouchDB reuse it), and the
service started as its own process exactly as an operator would (``qubicle-reports serve``).
Everything is loopback only and every wait has a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
import ipaddress
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp
import orjson
from yarl import URL

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as `python bench/x.py` from anywhere
    sys.path.insert(0, str(REPO))

from app.couch.client import Couch, CouchUnavailable  # noqa: E402
from app.couch.design_docs import current_name  # noqa: E402

DDOC = current_name()
from app.couch.installer import Installer, month_dbs  # noqa: E402
from app.couch.modb import account_db, encode  # noqa: E402
from app.couch.nodes import split_url  # noqa: E402
from app.couch.wire import query_params  # noqa: E402
from qubicle_dev.couch_server import couchdb  # noqa: E402
from qubicle_dev.devcouch import terminate  # noqa: E402
from qubicle_dev.seed import AccountPlan, plan_account, seed  # noqa: E402

SEED = 20261  # the random seed of every bench dataset: same size -> same documents
MARKER_ID = "bench_dataset"  # written into the account db once a dataset is complete
ACCOUNT_PREFIX = "bec4"  # "bench": every bench account id starts with it
BEFORE = "8bc20cc"  # the last commit before the views read ACDC call_stats and KPIs
DEFAULT_LAST_MONTH = "2025-12"  # fixed, closed month: reruns find the same data


# -- statistics ---------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 100]."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass(frozen=True)
class Stats:
    """Milliseconds of a series of timed runs."""

    runs: tuple[float, ...]

    @property
    def p50(self) -> float:
        return percentile(self.runs, 50)

    @property
    def p95(self) -> float:
        return percentile(self.runs, 95)

    @property
    def p99(self) -> float:
        return percentile(self.runs, 99)

    def as_json(self) -> dict[str, Any]:
        return {"p50_ms": self.p50, "p95_ms": self.p95, "runs_ms": list(self.runs)}


def ms(value: float) -> str:
    """Milliseconds, short and aligned: 0.84, 12.3, 1,234."""
    if math.isnan(value):
        return "-"
    if value < 10:
        return f"{value:.2f}"
    if value < 100:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def ratio(a: float, b: float) -> str:
    if math.isnan(a) or math.isnan(b) or b <= 0:
        return "-"
    return f"{a / b:.2f}x"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        out = [
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def log(message: str) -> None:
    """Progress goes to stderr so stdout holds only the results."""
    print(message, file=sys.stderr, flush=True)


# -- loopback only ------------------------------------------------------------------------


def is_loopback(url: str) -> bool:
    host = URL(url).host or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def require_loopback(url: str, what: str) -> None:
    """These scripts put load on a server: never on anything but this machine."""
    if not is_loopback(url):
        base, _, _ = split_url(url)
        raise SystemExit(f"{what} must be on this machine (loopback), not {URL(base).host}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- CouchDB ------------------------------------------------------------------------------


@contextmanager
def couch_server(loopback_only: bool = False) -> Iterator[tuple[str, str]]:
    """(url, origin) of a CouchDB: COUCHDB_URL, else Docker, else the stand-in.

    The benchmark may measure a real CouchDB cluster elsewhere; the load test stays on this
    machine (``loopback_only``)."""
    with couchdb() as (url, origin):
        if loopback_only:
            require_loopback(url, "CouchDB")
        yield url, origin


async def is_stand_in(couch: Couch) -> bool:
    """devcouch says so in its welcome document; a real CouchDB does not."""
    _, welcome = await couch.request("GET", "", timeout=10)
    text = str(welcome.get("version", "")) + str(welcome.get("vendor", ""))
    return "devcouch" in text


# -- datasets -----------------------------------------------------------------------------


def month_arg(value: str) -> tuple[int, int]:
    try:
        d = datetime.strptime(value, "%Y-%m")
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a month (YYYY-MM): {value!r}") from None
    return d.year, d.month


def add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


SOURCE_DIGIT = {"qubicle": 0, "acdc": 1, "both": 2}  # app.seed sources, in the account id


@dataclass(frozen=True)
class Dataset:
    """A seeded account of a given size over whole UTC months ending with ``last_month``.

    ``source``: which document shape app.seed writes (``qubicle`` sessions, ACDC
    ``call_stat``s, or both). ``copy``: 1-9 for an identical copy under another account id
    (the same documents: a service of another version runs on it with its own design doc)."""

    calls: int  # visits per day (weekdays busier, weekends quieter: app.seed)
    months: int
    queues: int
    recipients: int
    last_month: tuple[int, int] = month_arg(DEFAULT_LAST_MONTH)
    source: str = "qubicle"
    copy: int = 0

    def __post_init__(self) -> None:
        limits = {"calls": 10**7, "months": 1000, "queues": 10**5, "recipients": 10**5}
        for name, limit in limits.items():
            if not 1 <= getattr(self, name) < limit:
                raise ValueError(f"{name} must be between 1 and {limit - 1}")
        if self.source not in SOURCE_DIGIT or not 0 <= self.copy <= 9:
            raise ValueError(f"source one of {sorted(SOURCE_DIGIT)}, copy 0-9")

    @property
    def account_id(self) -> str:
        """Recognisable and fixed per size: bec4 CCCCCCC MMM QQQQQ RRRRR YYYYMM <copy><source>
        (a Qubicle dataset ends 00, as before sources existed, so old datasets are reused)."""
        y, m = self.last_month
        return (
            f"{ACCOUNT_PREFIX}{self.calls:07d}{self.months:03d}{self.queues:05d}"
            f"{self.recipients:05d}{y:04d}{m:02d}{self.copy}{SOURCE_DIGIT[self.source]}"
        )

    def variant(self, *, source: str | None = None, copy: int | None = None) -> Dataset:
        """The same size with another source or copy number."""
        return replace(
            self,
            source=self.source if source is None else source,
            copy=self.copy if copy is None else copy,
        )

    def window(self, months: int | None = None) -> tuple[date, date]:
        """First and last day of the last ``months`` months of data (all by default)."""
        n = min(months or self.months, self.months)
        y, m = add_months(*self.last_month, -(n - 1))
        last_y, last_m = self.last_month
        return date(y, m, 1), date(last_y, last_m, calendar.monthrange(last_y, last_m)[1])

    @property
    def days(self) -> int:
        first, last = self.window()
        return (last - first).days + 1

    @property
    def queue_ids(self) -> list[str]:
        return self._plan().queue_ids

    @property
    def recipient_ids(self) -> list[str]:
        return self._plan().recipient_ids

    def _plan(self) -> AccountPlan:
        return plan_account(
            SEED,
            0,
            queues=self.queues,
            recipients=self.recipients,
            account_id=self.account_id,
            source=self.source,
        )

    def describe(self) -> dict[str, Any]:
        first, last = self.window()
        return {
            "account_id": self.account_id,
            "calls_per_day": self.calls,
            "months": self.months,
            "queues": self.queues,
            "recipients": self.recipients,
            "source": self.source,
            "copy": self.copy,
            "first_day": first.isoformat(),
            "last_day": last.isoformat(),
        }


# The stand-in builds each view of each MoDB on its own (~0.5-1 ms per doc per view on 2
# cores): 60 visits/day x 3 months (~4.4k docs a dataset) keeps bench.py's three datasets
# and their ~20 views each within a few minutes.
STAND_IN_SIZES = {"calls": 60, "months": 3, "queues": 20, "recipients": 40}
COUCHDB_SIZES = {"calls": 150, "months": 12, "queues": 20, "recipients": 40}
REAL_SIZES = {"calls": 2000, "months": 12, "queues": 20, "recipients": 40}


def add_dataset_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "dataset (seeded once per size under a fixed account id, then reused)"
    )
    group.add_argument(
        "--calls", type=int, help="visits per day (default 60 on the stand-in, else 150)"
    )
    group.add_argument(
        "--months", type=int, help="months of data (default 3 on the stand-in, else 12)"
    )
    group.add_argument("--queues", type=int, help="queues (default 20)")
    group.add_argument("--recipients", type=int, help="recipients (default 40)")
    group.add_argument(
        "--last-month",
        type=month_arg,
        default=month_arg(DEFAULT_LAST_MONTH),
        metavar="YYYY-MM",
        help=f"the data ends with this (closed) month (default {DEFAULT_LAST_MONTH})",
    )


def resolve_dataset(args: argparse.Namespace, *, stand_in: bool, real_sizes: bool) -> Dataset:
    """The dataset the arguments ask for; unset sizes from the preset that fits the server."""
    preset = REAL_SIZES if real_sizes else STAND_IN_SIZES if stand_in else COUCHDB_SIZES
    return Dataset(
        calls=args.calls or preset["calls"],
        months=args.months or preset["months"],
        queues=args.queues or preset["queues"],
        recipients=args.recipients or preset["recipients"],
        last_month=args.last_month,
    )


async def ensure_dataset(url: str, ds: Dataset, *, timeout: float) -> dict[str, Any]:
    """Seed ``ds`` unless a completed run left its marker; return what the marker says.

    Seeding is idempotent (app.seed counts conflicts as already present), so a run cut
    short is simply completed by the next one; the marker is written only at the end.
    """
    couch = Couch(url, timeout=timeout)
    try:
        adb = account_db(ds.account_id)
        marker = await couch.get_doc(adb, MARKER_ID)
        if marker is not None and marker.get("dataset") == ds.describe():
            return {**marker["dataset"], "docs": marker["docs"], "seeded_now": False}
        first, _ = ds.window()
        log(f"seeding {ds.account_id} ({ds.source}): {ds.days} days x ~{ds.calls} visits/day")
        started = time.perf_counter()
        seeded = await seed(
            couch,
            seed=SEED,
            accounts=1,
            queues=ds.queues,
            recipients=ds.recipients,
            days=ds.days,
            calls_per_day=ds.calls,
            start=first,
            progress=sys.stderr.isatty(),
            account_ids=[ds.account_id],
            source=ds.source,
        )
        docs = seeded[0].total_docs
        log(f"  {docs} docs in {time.perf_counter() - started:.1f} s")
        doc: dict[str, Any] = {"_id": MARKER_ID, "dataset": ds.describe(), "docs": docs}
        if marker is not None:
            doc["_rev"] = marker["_rev"]
        await couch.put_doc(adb, doc)
        return {**ds.describe(), "docs": docs, "seeded_now": True}
    finally:
        await couch.close()


async def query_until_built(couch: Couch, db: str, ddoc: str, view: str, started: float) -> None:
    """Query ``view`` once, again while CouchDB answers 500: it gives up waiting for an
    index after 60 s (a loaded machine builds a month longer than that), the build goes on."""
    while True:
        try:
            await couch.view(db, ddoc, view, limit=1, reduce=False)
            return
        except CouchUnavailable:
            log(f"  {db}: still building after {time.perf_counter() - started:.0f} s")


async def build_indexes(
    url: str, account_id: str, *, timeout: float, views: list[str] | None = None
) -> float:
    """Install our design doc in every MoDB of the account and build its indexes (seconds).

    Measuring a first query would time an index build, not a report. On CouchDB querying
    one view builds its whole design doc; the stand-in builds only the views queried.
    """
    couch = Couch(url, timeout=timeout, max_concurrency=4)
    started = time.perf_counter()
    try:
        installer = Installer(couch)
        wanted = views or list(installer.ddoc["views"])
        for db in sorted(await month_dbs(couch, account_id)):
            if await installer.install(db) != "missing":
                for view in wanted:
                    await query_until_built(couch, db, DDOC, view, started)
    finally:
        await couch.close()
    return time.perf_counter() - started


async def drop_dataset(url: str, account_id: str) -> int:
    """Delete the account db and the MoDBs of one bench account (nothing else)."""
    if not account_id.startswith(ACCOUNT_PREFIX):
        raise ValueError(f"not a bench account: {account_id}")
    couch = Couch(url, timeout=120)
    try:
        names = [*await month_dbs(couch, account_id), account_db(account_id)]
        return sum([await couch.delete_db(name) for name in names])
    finally:
        await couch.close()


# -- raw CouchDB reads (no parsing, as the floor must be) ---------------------------------


class RawCouch:
    """One pooled aiohttp session straight to CouchDB, for the floor and the naive baseline."""

    def __init__(self, url: str, *, timeout: float, pool: int = 16) -> None:
        self.base, user, password = split_url(url)
        self.headers = {"Accept": "application/json"}
        if user:
            self.headers["Authorization"] = aiohttp.BasicAuth(user, password or "").encode()
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=pool, keepalive_timeout=30),
            timeout=aiohttp.ClientTimeout(total=timeout),
        )

    async def close(self) -> None:
        await self.session.close()

    async def get(self, db: str, path: str, params: dict[str, Any]) -> bytes:
        """The body of ``GET /{db}/{path}``; a 404 (MoDB that does not exist) is an answer."""
        async with self.session.get(
            f"{self.base}/{encode(db)}/{path}", params=query_params(params), headers=self.headers
        ) as resp:
            body = await resp.read()
            if resp.status >= 300 and resp.status != 404:
                raise RuntimeError(f"CouchDB answered {resp.status} for {path}: {body[:200]!r}")
            return body

    async def view(self, db: str, view: str, params: dict[str, Any], ddoc: str = DDOC) -> bytes:
        return await self.get(db, f"_design/{ddoc}/_view/{view}", params)

    async def bulk_get(self, db: str, ids: list[str]) -> bytes:
        """The body of ``POST /{db}/_bulk_get`` for the documents ``ids``."""
        body = orjson.dumps({"docs": [{"id": i} for i in ids]})
        headers = {**self.headers, "Content-Type": "application/json"}
        async with self.session.post(
            f"{self.base}/{encode(db)}/_bulk_get", data=body, headers=headers
        ) as resp:
            got = await resp.read()
            if resp.status >= 300:
                raise RuntimeError(f"CouchDB answered {resp.status} for _bulk_get: {got[:200]!r}")
            return got


# -- the service --------------------------------------------------------------------------


def vm_hwm_kib(pid: int) -> int | None:
    """Peak resident set size of a process (``VmHWM``), in KiB; None where unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (clock ticks of ``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mib(kib: int | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.1f} MiB"


def _serve_command(port: int, tree: Path | None = None) -> list[str]:
    script = Path(sys.executable).parent / "qubicle-reports"
    args = ["serve", "--host", "127.0.0.1", "--port", str(port)]
    if script.exists() and tree is None:
        return [str(script), *args]
    return [sys.executable, "-m", "app.cli", *args]  # cwd first on sys.path: the tree's app


def tree_env(tree: Path | None) -> dict[str, str]:
    """Environment that makes ``python -m app.cli`` import ``tree``'s app and design docs."""
    if tree is None:
        return {}
    return {
        "PYTHONPATH": str(tree),
        "QUBICLE_REPORTS_DESIGN_DOCS": str(tree / "couch_design_docs"),
    }


def install_views_of(tree: Path, couch_url: str, account_id: str, timeout: float) -> float:
    """``install-views --warm`` of another checkout (another version of the design doc) for
    one account, as an operator upgrading would run it; the seconds it took."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "app.cli", "install-views", "--account", account_id, "--warm"],
        cwd=tree,
        env={**os.environ, "COUCHDB_URL": couch_url, **tree_env(tree)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        check=True,
        timeout=timeout,
    )
    return time.perf_counter() - started


class Service:
    """``qubicle-reports serve`` as a child process on a free loopback port.

    Its output goes to a temporary file (nobody has to drain a pipe); the tail is shown if
    it fails to come up. Stopped with SIGTERM, then SIGKILL after ``stop_grace`` seconds.
    """

    def __init__(
        self,
        couch_url: str,
        tokens: dict[str, str],
        *,
        env: dict[str, str] | None = None,
        start_timeout: float = 30.0,
        stop_grace: float = 10.0,
        tree: Path | None = None,
        program: Path | None = None,
    ) -> None:
        """``tree``: another checkout of the repository (e.g. a ``git worktree`` of an older
        commit) to run instead of this one, with this virtualenv. ``program``: another
        release's ``qubicle-reports`` (its own virtualenv's) to run instead."""
        self.tree = tree
        self.program = program
        self.couch_url = couch_url
        self.tokens = tokens
        self.extra_env = env or {}
        self.start_timeout = start_timeout
        self.stop_grace = stop_grace
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self._logdir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> Service:
        self._logdir = tempfile.TemporaryDirectory(prefix="qubicle-bench-")
        env = {
            **os.environ,
            "COUCHDB_URL": self.couch_url,
            "QUBICLE_REPORTS_AUTH": "static",
            "QUBICLE_REPORTS_TOKENS": ",".join(f"{t}={a}" for t, a in self.tokens.items()),
            **tree_env(self.tree),
            **self.extra_env,
        }
        with open(Path(self._logdir.name) / "service.log", "wb") as out:
            self.proc = subprocess.Popen(
                (
                    [str(self.program), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
                    if self.program
                    else _serve_command(self.port, self.tree)
                ),
                cwd=self.tree or REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        import urllib.error
        import urllib.request

        deadline = time.monotonic() + self.start_timeout
        while True:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"the service exited ({self.proc.returncode}):\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the service was not healthy within {self.start_timeout:.0f} s:\n"
                    + self.log_tail()
                )
            time.sleep(0.1)

    def log_tail(self, lines: int = 20) -> str:
        if self._logdir is None:
            return ""
        path = Path(self._logdir.name) / "service.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def peak_memory_kib(self) -> int | None:
        return None if self.proc is None else vm_hwm_kib(self.proc.pid)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            terminate(proc, self.stop_grace)
        if self._logdir is not None:
            self._logdir.cleanup()
            self._logdir = None

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def report_path(account_id: str) -> str:
    return f"/v2/accounts/{account_id}/qubicle_reports"


async def gather_bounded(limit: int, coros: Sequence[Any]) -> list[Any]:
    """Run coroutines with at most ``limit`` in flight (what the service does per report)."""
    slots = asyncio.Semaphore(limit)

    async def one(coro: Any) -> Any:
        async with slots:
            return await coro

    return list(await asyncio.gather(*(one(c) for c in coros)))
