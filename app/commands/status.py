"""``qubicle-reports status``: per MoDB, which releases' design docs are there and whether
their indexes are built."""

from __future__ import annotations

from typing import Any

from app import __version__
from app.commands.common import CREDENTIALS_REFUSED, bad_account, command_couch, refused
from app.commands.failures import no_modbs
from app.couch import design_docs
from app.couch.client import Couch, CredentialsRefused
from app.couch.installer import month_dbs, our_design_docs

BAR = 20


def bar(progress: int | None) -> str:
    if progress is None:
        return "[" + "?" * BAR + "]    ?"
    filled = progress * BAR // 100
    return "[" + "#" * filled + "." * (BAR - filled) + f"] {progress:3d}%"


def release_of(ddoc_id: str, doc: dict[str, Any] | None, current: dict[str, Any]) -> str:
    """Whose design doc this is, as ``status`` names it."""
    name = ddoc_id.removeprefix("_design/")
    if ddoc_id == current["_id"]:
        mine = design_docs.matches(doc, current)
        return f"{name} (this release)" if mine else f"{name} (altered: never read)"
    if ddoc_id == design_docs.LEGACY:
        return f"{name} (0.1.0 and before)"
    if design_docs.named_version(ddoc_id) != design_docs.version_of(doc):
        return f"{name} (altered: never read)"
    return f"{name} (another release)"


async def index_of(couch: Couch, db: str, ddoc_id: str) -> str:
    state = await couch.index_state(db, ddoc_id.removeprefix("_design/"))
    if state is None:
        return "unknown (CouchDB did not say)"
    if state.running:
        return f"building {bar(state.progress)}"
    if state.building:
        return f"not built {bar(state.progress)} (built by the next query or --warm)"
    return "built"


async def db_status(couch: Couch, db: str, current: dict[str, Any]) -> tuple[bool, list[str]]:
    """(this release's design doc there and built, one line per release's design doc)."""
    lines, ready = [], False
    for ddoc_id in sorted(await our_design_docs(couch, db)):
        doc = await couch.get_doc(db, ddoc_id)
        index = await index_of(couch, db, ddoc_id)
        lines.append(f"{release_of(ddoc_id, doc, current)}: index {index}")
        if ddoc_id == current["_id"] and design_docs.matches(doc, current):
            ready = index == "built"
    return ready, lines or ["no design doc of ours"]


async def status_command(
    settings: Any, account_id: str | None, design_doc: dict[str, Any] | None = None
) -> int:
    """``qubicle-reports status``: 0 when every MoDB has this release's design doc (or
    ``design_doc``'s), built."""
    if bad_account(account_id):
        return 2
    couch = command_couch(settings)
    try:
        current = design_doc or design_docs.load()
        dbs = sorted(await month_dbs(couch, account_id))
        if account_id is not None and not dbs:
            raise no_modbs(account_id)
        print(
            f"qubicle-reports {__version__}, design doc {design_docs.name_of(current)}: "
            f"{len(dbs)} MoDBs"
        )
        ready = True
        width = max((len(db) for db in dbs), default=0)
        for db in dbs:
            built, lines = await db_status(couch, db, current)
            ready = ready and built
            for line in lines:  # one per release's design doc, each naming its MoDB
                print(f"{db:<{width}}  {line}")
        return 0 if ready else 1
    except CredentialsRefused as e:
        print(refused(settings, e.locked))
        return CREDENTIALS_REFUSED
    finally:
        await couch.close()
