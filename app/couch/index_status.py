"""What an operator is told about index builds: when to come back (the ``Retry-After`` of the
503 "index being built", :data:`app.errors.INDEX_BUILDING`), and ``qubicle-reports status``
(per MoDB: design doc current? index built?).
"""

from __future__ import annotations

from typing import Any

from app.couch import design_docs
from app.couch.client import Couch, IndexState
from app.couch.installer import month_dbs
from app.couch.modb import is_account_id, parse_db_name

# Changes per second CouchDB indexes on 2 cores (COUCH_FACTS.md: ~60 s per 62k documents):
# only to suggest when to come back; the build itself is never waited for.
INDEX_RATE = 1000
RETRY_MIN, RETRY_MAX = 2, 300
BAR = 20


def month_of(db: str) -> str:
    """``YYYY-MM`` of a MoDB name (the client knows its account; the name is not shown)."""
    parsed = parse_db_name(db)
    if parsed is None or parsed[1] is None:
        return "unknown month"
    return f"{parsed[1]:04d}-{parsed[2]:02d}"


def retry_after(state: IndexState) -> int:
    """Seconds until the build is likely done, from the changes it still has to index."""
    if state.db_seq is not None and state.indexed_seq is not None:
        remaining = max(0, state.db_seq - state.indexed_seq)
    elif state.progress is not None and state.db_seq:
        remaining = state.db_seq * (100 - state.progress) // 100
    else:
        remaining = INDEX_RATE * 10
    return max(RETRY_MIN, min(RETRY_MAX, -(-remaining // INDEX_RATE)))


def bar(progress: int | None) -> str:
    if progress is None:
        return "[" + "?" * BAR + "]    ?"
    filled = progress * BAR // 100
    return "[" + "#" * filled + "." * (BAR - filled) + f"] {progress:3d}%"


async def db_status(couch: Couch, db: str, version: str) -> tuple[str, str]:
    """(design doc state, index state) of one MoDB, as ``status`` prints them."""
    ddoc = await couch.get_doc(db, f"_design/{design_docs.DDOC}")
    if ddoc is None:
        return "missing", "-"
    found = design_docs.version_of(ddoc)
    doc_state = "current" if found == version else f"outdated ({found or 'unversioned'})"
    state = await couch.index_state(db, design_docs.DDOC)
    if state is None:
        return doc_state, "unknown (CouchDB did not say)"
    if state.running:
        return doc_state, f"building {bar(state.progress)}"
    if state.building:
        return doc_state, f"not built {bar(state.progress)} (built by the next query or --warm)"
    return doc_state, "built"


async def status_command(settings: Any, account_id: str | None) -> int:
    """``qubicle-reports status``: 0 when every MoDB has the current design doc, built."""
    if account_id is not None and not is_account_id(account_id):
        print(f"not an account id (32 lowercase hex): {account_id!r}")
        return 2
    couch = Couch(
        settings.couchdb_url,
        timeout=settings.couch_timeout,
        max_concurrency=4,
        probe_timeout=settings.couch_timeout,
    )
    try:
        version = design_docs.version_of(design_docs.load()) or ""
        dbs = sorted(await month_dbs(couch, account_id))
        print(f"design doc {design_docs.DDOC} {version}: {len(dbs)} MoDBs")
        ready = True
        width = max((len(db) for db in dbs), default=0)
        for db in dbs:
            doc_state, index = await db_status(couch, db, version)
            ready = ready and doc_state == "current" and index == "built"
            print(f"{db:<{width}}  design doc {doc_state:<10}  index {index}")
        return 0 if ready else 1
    finally:
        await couch.close()
