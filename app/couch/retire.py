"""Retire the design docs of other releases from a MoDB (``install-views --prune``).

Run once the releases they belong to are stopped: until then their indexes are what those
releases answer from, and a rollback needs them. Only our own design docs are ever touched
(:func:`app.couch.design_docs.is_ours`: the legacy ``qubicle_reports`` and
``qubicle_reports-<version>``), never KAZOO's. CouchDB keeps an index file after its design
doc is gone until asked to clean up (``POST /{db}/_view_cleanup``), so that is asked too; what
it frees is the size of each removed design doc's index file, unless the index is shared with
the design doc kept (same views: CouchDB keeps one index for both).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from app.couch.client import Couch
from app.couch.installer import our_design_docs
from app.couch.modb import encode
from app.couch.wire import couch_error


@dataclass(frozen=True)
class Retired:
    ddoc_id: str
    index_bytes: int  # the index file CouchDB deletes on _view_cleanup (0 when shared or unknown)


async def _index_info(couch: Couch, db: str, ddoc_id: str) -> tuple[Any, int]:
    """(signature, file bytes) of a design doc's index; (None, 0) when CouchDB does not say."""
    status, info = await couch.request("GET", f"{encode(db)}/{ddoc_id}/_info")
    index = info.get("view_index") if status == 200 and isinstance(info, dict) else None
    if not isinstance(index, dict):
        return None, 0
    sizes = index.get("sizes")
    size = sizes.get("file") if isinstance(sizes, dict) else None
    return index.get("signature"), int(size) if isinstance(size, int | float) else 0


async def retire(couch: Couch, db: str, keep: str, *, dry_run: bool = False) -> list[Retired]:
    """Delete every release's design doc in ``db`` but ``keep`` (an id) and ask CouchDB to
    delete their index files; with ``dry_run`` only say what would go."""
    found = await our_design_docs(couch, db)
    others = {ddoc_id: rev for ddoc_id, rev in sorted(found.items()) if ddoc_id != keep}
    if not others:
        return []
    kept_signature = (await _index_info(couch, db, keep))[0] if keep in found else None
    infos = await asyncio.gather(*(_index_info(couch, db, ddoc_id) for ddoc_id in others))
    retired = [
        Retired(ddoc_id, 0 if signature is not None and signature == kept_signature else size)
        for ddoc_id, (signature, size) in zip(others, infos, strict=True)
    ]
    if dry_run:
        return retired
    for ddoc_id, rev in others.items():
        await couch.delete_doc(db, ddoc_id, rev)  # False: deleted meanwhile, as asked
    status, body = await couch.request("POST", f"{encode(db)}/_view_cleanup", body={})
    if status >= 300:
        raise couch_error(status, body)
    return retired
