"""What the operator's commands share: the account check and a CouchDB client sized for a
terminal command (a few requests at a time, probes as patient as any request)."""

from __future__ import annotations

from typing import Any

from app.couch.client import Couch
from app.couch.modb import is_account_id


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
    )
