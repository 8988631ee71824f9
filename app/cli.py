"""The front door: ``qubicle-reports <command>``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import date

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qubicle-reports",
        description="KAZOO Qubicle Crossbar Reporting API served from CouchDB map/reduce views. "
        "CouchDB is taken from COUCHDB_URL (e.g. http://admin:pass@127.0.0.1:5984).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the HTTP API", description="Run the HTTP API.")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")

    install = sub.add_parser(
        "install-views",
        help="install the design document into every MoDB",
        description="Install or upgrade the qubicle_reports design document in every month "
        "database on the server (or of one account). Needs CouchDB admin credentials; the "
        "service itself can then run with a read-only user.",
    )
    install.add_argument("--account", metavar="ID", help="only this account's MoDBs")
    install.add_argument(
        "--warm", action="store_true", help="also build the view indexes (can take minutes)"
    )

    status = sub.add_parser(
        "status",
        help="show per MoDB whether the design doc is current and its index built",
        description="For every month database on the server (or of one account): whether the "
        "qubicle_reports design document is current, and whether CouchDB has built its index "
        "(with progress while it builds). Exit status 0 when all are current and built.",
    )
    status.add_argument("--account", metavar="ID", help="only this account's MoDBs")

    seed = sub.add_parser(
        "seed",
        help="create demo accounts filled with qubicle_session and/or ACDC call_stat documents",
        description="Create account databases and MoDBs filled with realistic, deterministic "
        "call-center data - Qubicle qubicle_session documents, KAZOO ACDC call_stat documents "
        "(as KAZOO's archiver writes them), or both in one account - plus the queue and user "
        "documents they name, then print the account ids and a ready-to-paste curl.",
    )
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

    dev = sub.add_parser(
        "devcouch",
        help="run the in-memory CouchDB stand-in (development only)",
        description="Run the CouchDB-protocol stand-in (express-pouchdb, in memory) used by "
        "the tests and the demo when no real CouchDB is at hand. Development tool only: "
        "data is lost when it stops.",
    )
    dev.add_argument("--port", type=int, default=5984, help="port (default 5984)")

    demo = sub.add_parser(
        "demo",
        help="seed demo data and serve it (uses the stand-in without COUCHDB_URL)",
        description="Start a CouchDB (COUCHDB_URL, else Docker, else the in-memory stand-in), "
        "seed a Qubicle demo account and an ACDC demo account, and serve the API and the "
        "dashboard on --host/--port, printing a working curl and token for each.",
    )
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)

    sub.add_parser(
        "metrics",
        help="print every report metric and its definition (Markdown)",
        description="Print every metric of both reports, its exact definition and whether it "
        "is in the default (published) list, as the Markdown table the README shows.",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    if args.command == "serve":
        from app.http import serve

        serve(settings, host=args.host, port=args.port)
    elif args.command == "install-views":
        from app.installer import install_views_command

        return asyncio.run(install_views_command(settings, args.account, args.warm))
    elif args.command == "status":
        from app.status import status_command

        return asyncio.run(status_command(settings, args.account))
    elif args.command == "seed":
        from app.seed import seed_command

        return asyncio.run(seed_command(settings, args))
    elif args.command == "devcouch":
        from app.devcouch import main_run

        main_run(args.port)
    elif args.command == "demo":
        from app.demo import run_demo

        return run_demo(settings, host=args.host, port=args.port)
    elif args.command == "metrics":
        from app.metrics import markdown_table

        print(markdown_table(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
