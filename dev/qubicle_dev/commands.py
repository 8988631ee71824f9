"""The development tooling's commands, offered by ``qubicle-reports`` where this package is
installed (``make install``) through the ``qubicle_reports.commands`` entry points."""

from __future__ import annotations

import argparse
import asyncio
from datetime import date

from app.cli import Command
from app.config import Settings


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {value!r}") from None


def _positive(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def _seed_args(seed: argparse.ArgumentParser) -> None:
    seed.add_argument(
        "--source",
        choices=("qubicle", "acdc", "both"),
        default="qubicle",
        help="which documents: qubicle_session, ACDC call_stat, or both (default qubicle)",
    )
    seed.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    seed.add_argument("--accounts", type=_positive, default=1, help="accounts (default 1)")
    seed.add_argument("--queues", type=_positive, default=5, help="queues per account (default 5)")
    seed.add_argument(
        "--recipients", type=_positive, default=10, help="recipients per account (default 10)"
    )
    seed.add_argument("--days", type=_positive, default=60, help="days of calls (default 60)")
    seed.add_argument(
        "--calls-per-day", type=_positive, default=200, help="visits per day (default 200)"
    )
    seed.add_argument(
        "--start", type=_date, default=None, help="first day, YYYY-MM-DD (default: --days ago)"
    )
    seed.add_argument("--quiet", action="store_true", help="no progress bar")


def _seed(settings: Settings, args: argparse.Namespace) -> int:
    from qubicle_dev.seed import seed_command

    return asyncio.run(seed_command(settings, args))


def _devcouch_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", type=int, default=5984, help="port (default 5984)")


def _devcouch(settings: Settings, args: argparse.Namespace) -> int:
    from qubicle_dev.devcouch import main_run

    main_run(args.port)
    return 0


def _demo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from qubicle_dev.demo import run_demo

    return run_demo(settings, host=args.host, port=args.port)


SEED = Command(
    "seed",
    "create demo accounts filled with qubicle_session and/or ACDC call_stat documents",
    "Create account databases and MoDBs filled with realistic, deterministic call-center "
    "data - Qubicle qubicle_session documents, KAZOO ACDC call_stat documents (as KAZOO's "
    "archiver writes them), or both in one account - plus the queue and user documents they "
    "name, then print the account ids and a ready-to-paste curl.",
    _seed_args,
    _seed,
)
DEVCOUCH = Command(
    "devcouch",
    "run the in-memory CouchDB stand-in (development only)",
    "Run the CouchDB-protocol stand-in (express-pouchdb, in memory) used by the tests and the "
    "demo when no real CouchDB is at hand. Development tool only: data is lost when it stops.",
    _devcouch_args,
    _devcouch,
)
DEMO = Command(
    "demo",
    "seed demo data and serve it (uses the stand-in without COUCHDB_URL)",
    "Start a CouchDB (COUCHDB_URL, else Docker, else the in-memory stand-in), seed a Qubicle "
    "demo account and an ACDC demo account, and serve the API and the dashboard on "
    "--host/--port, printing a working curl and token for each.",
    _demo_args,
    _demo,
)
