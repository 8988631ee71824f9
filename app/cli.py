"""The front door: ``qubicle-reports <command>``.

Each command is a :class:`Command`: a name, its arguments and what it runs. The service's own
commands are listed here; more come from the ``qubicle_reports.commands`` entry point group,
which is how the development tooling (``qubicle_dev``: seed, demo, devcouch) adds its
commands where it is installed, and only there: the wheel carries none of it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points

from app.commands.failures import (
    CANNOT_LISTEN,
    CONFIGURATION,
    COUCHDB,
    EXIT_STATUSES,
    INTERRUPTED,
    CommandFailed,
)
from app.config import Settings

ENTRY_POINTS = "qubicle_reports.commands"


@dataclass(frozen=True)
class Command:
    """One ``qubicle-reports`` command: ``run`` gets the settings and the parsed arguments
    and returns the exit status."""

    name: str
    help: str
    description: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[Settings, argparse.Namespace], int]


def _serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the HTTP API: the one way to the app's assembly (app.web.server), for the
    ``serve`` command and the development tooling's ``demo``."""
    from app.web.auth import auth_problem
    from app.web.server import serve as run

    problem = auth_problem(settings)
    if problem:  # a service that answers 401 to everything is no service
        raise CommandFailed(CONFIGURATION, problem)
    try:
        run(settings, host=host, port=port)
    except OSError as e:  # raised while binding, before anything is served
        raise CommandFailed(
            CANNOT_LISTEN,
            f"cannot listen ({e.strerror or e}): choose another --port or --host (or "
            "QUBICLE_REPORTS_METRICS_ADDRESS), or stop the process that holds it",
        ) from None


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    serve(settings, host=args.host, port=args.port)
    return 0


def _install_args(p: argparse.ArgumentParser) -> None:
    which = p.add_mutually_exclusive_group()
    which.add_argument("--account", metavar="ID", help="this account's MoDBs (every month)")
    which.add_argument("--all", action="store_true", help="every account's MoDBs, reporting or not")
    p.add_argument(
        "--warm",
        action="store_true",
        help="also wait until CouchDB has built the indexes, showing progress (any length); "
        "run it with a new release before moving traffic to it",
    )
    p.add_argument(
        "--prune",
        action="store_true",
        help="also delete every other release's design doc (qubicle_reports and "
        "qubicle_reports-<version>, never KAZOO's) and have CouchDB delete their index "
        "files; only once no other release runs",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="with --prune: list what would be removed, change nothing",
    )


def _install(settings: Settings, args: argparse.Namespace) -> int:
    from app.commands.install_views import install_views_command

    if args.dry_run and (not args.prune or args.warm):
        print("--dry-run goes with --prune alone (it lists what --prune would remove)")
        return 2
    try:
        return asyncio.run(
            install_views_command(
                settings, args.account, args.warm, args.all, args.prune, args.dry_run
            )
        )
    except KeyboardInterrupt:
        print("\ninterrupted: CouchDB builds on; run the same command again to follow it")
        return 130


def _status_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--account", metavar="ID", help="only this account's MoDBs")


def _status(settings: Settings, args: argparse.Namespace) -> int:
    from app.commands.status import status_command

    return asyncio.run(status_command(settings, args.account))


def _metrics(settings: Settings, args: argparse.Namespace) -> int:
    from app.report.metrics import markdown_table

    print(markdown_table(), end="")
    return 0


BUILT_IN: tuple[Command, ...] = (
    Command("serve", "run the HTTP API", "Run the HTTP API.", _serve_args, _serve),
    Command(
        "install-views",
        "install this release's design document into the MoDBs of reporting accounts",
        "Install this release's design document (qubicle_reports-<version>, named by its "
        "views, so releases side by side never share one) in the month databases of "
        "accounts that already hold some release's design document in an earlier month, of "
        "one account (--account) or of every account (--all). Needs CouchDB admin "
        "credentials; the service itself can then run with a read-only user. With --warm, "
        "waits until CouchDB has built every index (exit status 0 only then): an upgrade "
        "runs it with the new release while the old one still answers. With --prune, once "
        "the old release is stopped, removes every other release's design doc.",
        _install_args,
        _install,
    ),
    Command(
        "status",
        "show per MoDB which releases' design docs it holds and whether each is built",
        "For every month database on the server (or of one account): which releases' "
        "design documents it holds (this release's, older ones) and whether CouchDB has built "
        "each one's index (with progress while it builds). Exit status 0 when every one holds "
        "this release's, built.",
        _status_args,
        _status,
    ),
    Command(
        "metrics",
        "print every report metric and its definition (Markdown)",
        "Print every metric of both reports, its exact definition and whether it is in the "
        "default (published) list, as the Markdown table the documentation shows.",
        lambda p: None,
        _metrics,
    ),
)


def commands() -> list[Command]:
    """The built-in commands, then those installed packages add (development tooling)."""
    found = [ep.load() for ep in entry_points(group=ENTRY_POINTS)]
    return [*BUILT_IN, *sorted((c for c in found if isinstance(c, Command)), key=lambda c: c.name)]


def version_line() -> str:
    """``qubicle-reports 0.2.0 (design doc qubicle_reports-<version>)``."""
    from app import __version__
    from app.couch.design_docs import current_name

    return f"qubicle-reports {__version__} (design doc {current_name()})"


def build_parser(available: Sequence[Command] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qubicle-reports",
        description="KAZOO Qubicle Crossbar Reporting API served from CouchDB map/reduce views. "
        "CouchDB is taken from COUCHDB_URL (e.g. http://admin:pass@127.0.0.1:5984).",
    )
    parser.add_argument("--version", action="version", version=version_line())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in commands() if available is None else available:
        p = sub.add_parser(command.name, help=command.help, description=command.description)
        command.arguments(p)
        p.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; a failure is one line and an exit status of its own (EXIT_STATUSES)."""
    from app.couch.client import CouchError, CouchUnavailable

    parser = build_parser()
    # --help ends with the exit statuses, one to a line (so the description is wrapped here)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = textwrap.fill(parser.description or "", 79)
    parser.epilog = "exit statuses:\n" + "\n".join(
        textwrap.fill(f"{code:>5}  {meaning.replace('`', '')}", 79, subsequent_indent=" " * 7)
        for code, meaning in EXIT_STATUSES
    )
    args = parser.parse_args(argv)
    try:
        try:
            settings = Settings.from_env()
        except ValueError as e:
            raise CommandFailed(CONFIGURATION, str(e)) from None
        return int(args.run(settings, args))
    except CommandFailed as e:
        return e.report(args.command)
    except KeyboardInterrupt:
        message = "interrupted; nothing is left half done (CouchDB finishes what it was asked)"
        return CommandFailed(INTERRUPTED, message).report(args.command)
    except (CouchError, CouchUnavailable) as e:
        where = ", ".join(n.split("@")[-1] for n in settings.couchdb_url.split(","))
        fix = "check COUCHDB_URL and that CouchDB runs there"
        return CommandFailed(COUCHDB, f"{e} (CouchDB at {where}); {fix}").report(args.command)


if __name__ == "__main__":
    # run as app.cli, not __main__: the entry points' commands are app.cli.Command objects
    from app.cli import main as main_of_app_cli

    sys.exit(main_of_app_cli())
