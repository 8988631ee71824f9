"""``qubicle-reports status``: per MoDB, is the design doc current and its index built?"""

from __future__ import annotations

from typing import Any

from app.commands.common import bad_account, command_couch
from app.commands.failures import no_modbs
from app.couch import design_docs
from app.couch.client import Couch
from app.couch.installer import month_dbs

BAR = 20


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
    if bad_account(account_id):
        return 2
    couch = command_couch(settings)
    try:
        version = design_docs.version_of(design_docs.load()) or ""
        dbs = sorted(await month_dbs(couch, account_id))
        if account_id is not None and not dbs:
            raise no_modbs(account_id)
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
