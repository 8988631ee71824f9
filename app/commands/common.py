"""What the operator's commands share: the account check, a CouchDB client sized for a
terminal command (a few requests at a time, probes as patient as any request) and the one line
a refusal of the credentials prints."""

from __future__ import annotations

from typing import Any

from app.commands.failures import CREDENTIALS_REFUSED
from app.couch.client import Couch
from app.couch.modb import is_account_id
from app.couch.nodes import split_url

__all__ = ["CREDENTIALS_REFUSED", "bad_account", "command_couch", "refused"]


def bad_account(account_id: str | None) -> bool:
    """True (and says so) when ``--account`` is given and is no KAZOO account id."""
    if account_id is not None and not is_account_id(account_id):
        print(f"not an account id (32 lowercase hex): {account_id!r}")
        return True
    return False


def command_couch(settings: Any) -> Couch:
    return Couch(
        settings.couchdb_url,
        timeout=settings.couch_timeout,
        max_concurrency=4,
        probe_timeout=settings.couch_timeout,
        credentials_pause=settings.couch_auth_pause,
    )


def refused(settings: Any, locked: bool = False) -> str:
    """The one line for CouchDB refusing the credentials: stop at once, since CouchDB locks
    a user out (for everyone from this address) after a few failed logins."""
    user = split_url(settings.couchdb_url)[1]
    who = f"user {user!r}" if user else "the user"
    if locked:
        return (
            f"CouchDB has locked {who} after failed logins from this address: wait until "
            "its lockout ends (5 minutes by default), check the password in COUCHDB_URL, "
            "and run again"
        )
    return (
        f"CouchDB refused the credentials in COUCHDB_URL ({who}): set the right user and "
        "password and run again (stopped at the first refusal: CouchDB locks a user out "
        "after a few failed logins)"
    )
