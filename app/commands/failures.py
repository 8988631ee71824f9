"""How a command fails: one line naming the cause and the fix, and an exit status of its
own (the docs' command reference prints :data:`EXIT_STATUSES`)."""

from __future__ import annotations

import sys

OK, NOT_READY, USAGE, CREDENTIALS_REFUSED = 0, 1, 2, 3
CONFIGURATION, COUCHDB, NO_MODBS, CANNOT_LISTEN, INTERRUPTED = 4, 5, 6, 7, 130

EXIT_STATUSES: tuple[tuple[int, str], ...] = (
    (OK, "done"),
    (
        NOT_READY,
        "done, but not everything is ready: a design doc not current or an index not built "
        "(`status`, `install-views --warm`, which name them)",
    ),
    (USAGE, "a command line that does not parse, or an `--account` that is no account id"),
    (
        CREDENTIALS_REFUSED,
        "CouchDB refused the credentials in `COUCHDB_URL` (nothing more was sent: CouchDB "
        "locks a user out after a few failed logins)",
    ),
    (
        CONFIGURATION,
        "a setting that cannot work: an environment variable that does not parse, a "
        "`COUCHDB_URL` without `http://` or `https://`, or `serve` with no way to authenticate",
    ),
    (COUCHDB, "CouchDB could not be reached, or failed"),
    (NO_MODBS, "`--account` names an account that has no month databases on this CouchDB"),
    (
        CANNOT_LISTEN,
        "`serve` cannot listen on its address (`--host`/`--port`, or "
        "`QUBICLE_REPORTS_METRICS_ADDRESS`): in use by another process, or not this host's",
    ),
    (INTERRUPTED, "interrupted (Ctrl-C); CouchDB builds on"),
)


class CommandFailed(Exception):
    """A command cannot go on: ``message`` says why and what to do."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status

    def report(self, command: str) -> int:
        print(f"qubicle-reports {command}: {self}", file=sys.stderr, flush=True)
        return self.status


def no_modbs(account_id: str) -> CommandFailed:
    return CommandFailed(
        NO_MODBS,
        f"account {account_id} has no month databases (account/…-YYYYMM) on this CouchDB: "
        "check the account id and COUCHDB_URL",
    )
