"""Make sure this release's design document is in a MoDB before it is queried.

Installed lazily on first use and remembered per process. The design doc is named by its
content (:mod:`app.couch.design_docs`), so another release's design doc is never written here,
nor read: a document under our name whose content is not ours (edited by hand) is written
over before anything reads it. Two instances of the same release may race: a 409 means someone
else wrote first, so we re-read and decide again. On a cluster both racing creates can succeed
(w=2 of n=3) and leave a conflicted design doc: it is read with ``conflicts=true`` and every
losing revision is deleted, keeping the revision CouchDB serves as the winner (the same on
every node and for every instance: highest revision number, then highest revision hash), so
racing instances converge on one document; if the winner is not our content it is then
written over as usual. A database that does not exist is never created here: a month without
a MoDB simply has no data.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

from app.couch import design_docs
from app.couch.client import Couch, CouchError
from app.couch.modb import account_db, encode, parse_db_name
from app.couch.wire import couch_error
from app.telemetry import Telemetry

Outcome = Literal["missing", "current", "installed", "repaired"]
MISSING_TTL = 30.0  # seconds a missing MoDB is believed missing (KAZOO creates the new month's)
MISSING_MAX = 100_000
# seconds a design doc found with our views is trusted before it is looked at again: a hand
# edit under our name is read for at most this long (then written over)
READY_TTL = 300.0


class ViewsNotInstallable(Exception):
    """The design doc is missing or stale and our CouchDB user may not write it."""


class Installer:
    def __init__(
        self, couch: Couch, ddoc: dict[str, Any] | None = None, telemetry: Telemetry | None = None
    ) -> None:
        self.couch = couch
        self.telemetry = telemetry or couch.telemetry
        self.ddoc = ddoc if ddoc is not None else design_docs.load()
        self.version = design_docs.version_of(self.ddoc)
        self.name = design_docs.name_of(self.ddoc)  # what view paths name
        self._ready: dict[str, float] = {}  # MoDB -> until when its design doc is trusted
        # MoDBs found missing (archived months, months before the account): asked again only
        # after MISSING_TTL, so a 12-month report over 6 kept MoDBs costs no extra requests
        self._missing: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.wrote: Callable[[str], None] | None = None  # told each MoDB written into

    async def ensure(self, db: str) -> bool:
        """True when ``db`` exists and holds this release's design doc; False when db is
        missing."""
        if self._ready.get(db, 0.0) > time.monotonic():
            return True
        if self._missing.get(db, 0.0) > time.monotonic():
            return False
        return await self.settle(db) != "missing"

    async def settle(self, db: str) -> Outcome:
        """Install the design doc into ``db`` unless it is there (one asker at a time per
        MoDB) and remember what was found: what :meth:`ensure` does past its memo."""
        lock = self._locks.setdefault(db, asyncio.Lock())
        async with lock:
            if self._ready.get(db, 0.0) > time.monotonic():
                return "current"
            outcome = await self.install(db)
        self._locks.pop(db, None)
        if outcome == "missing":
            if len(self._missing) >= MISSING_MAX:
                self._missing.clear()
            self._missing[db] = time.monotonic() + MISSING_TTL
            return outcome
        self._missing.pop(db, None)
        if len(self._ready) >= MISSING_MAX:
            self._ready.clear()
        self._ready[db] = time.monotonic() + READY_TTL
        return outcome

    def forget(self, db: str) -> None:
        """Drop the memo, e.g. after a query found the design doc gone."""
        self._ready.pop(db, None)
        self._missing.pop(db, None)

    async def install(self, db: str, attempts: int = 5) -> Outcome:
        """Write the design doc into an existing database unless it is already there with
        our content."""
        path = f"{encode(db)}/{self.ddoc['_id']}"
        wrote: Outcome | None = None
        for _ in range(attempts):
            current = await self.couch.get_doc(db, self.ddoc["_id"], conflicts=True)
            if current is None and await self.couch.db_info(db) is None:
                return "missing"
            if current is not None and current.get("_conflicts"):
                await self.resolve(db, current)
            if design_docs.matches(current, self.ddoc):
                return wrote or "current"
            doc = dict(self.ddoc)
            if current is not None:
                doc["_rev"] = current["_rev"]
            status, body = await self.couch.request("PUT", path, body=doc)
            if status in (201, 202):
                wrote = "installed" if current is None else "repaired"
                self.telemetry.design_doc_writes.labels(wrote).inc()
                if self.wrote is not None:
                    self.wrote(db)
                continue  # read it back: a racing create elsewhere may have made a conflict
            if status == 409:  # another instance wrote first: look again
                continue
            if status in (401, 403):
                raise ViewsNotInstallable(
                    f"the design document {self.name} is missing and the configured CouchDB "
                    "user may not write it: run `qubicle-reports install-views` with admin "
                    "credentials"
                )
            if status == 404:
                return "missing"
            raise couch_error(status, body)
        raise CouchError(409, "conflict", f"design doc kept changing under us in {db}")

    async def resolve(self, db: str, winner: dict[str, Any]) -> int:
        """Delete the losing revisions of a conflicted design doc (CouchDB's winner stays);
        returns how many were deleted. Deleting one another instance deleted first is fine."""
        deleted = 0
        for rev in sorted(winner.get("_conflicts", [])):
            status, body = await self.couch.request(
                "DELETE", f"{encode(db)}/{self.ddoc['_id']}", params={"rev": rev}
            )
            if status in (200, 202):
                deleted += 1
            elif status not in (404, 409):  # already gone, or already deleted elsewhere
                raise couch_error(status, body)
        if deleted:
            self.telemetry.design_doc_writes.labels("conflict_resolved").inc(deleted)
        return deleted


ALL_ACCOUNTS = ("account/", "account/zz")  # every account and MoDB name sorts in here


def account_range(account_id: str) -> tuple[str, str]:
    """The ``_all_dbs`` range holding exactly one account's MoDBs."""
    db = account_db(account_id)
    return f"{db}-000000", f"{db}-999999"


async def month_dbs(couch: Couch, account_id: str | None = None) -> list[str]:
    """Every MoDB on the server (or of one account), from ``_all_dbs`` read in pages."""
    start, end = ALL_ACCOUNTS if account_id is None else account_range(account_id)
    return [db async for page in couch.db_names(start, end) for db in page if is_modb(db)]


def is_modb(name: str) -> bool:
    parsed = parse_db_name(name)
    return parsed is not None and parsed[1] is not None


async def our_design_docs(couch: Couch, db: str) -> dict[str, str]:
    """Every release's design doc in ``db`` (the legacy name included): id -> rev. One
    ``_all_docs`` range read; never a design doc that is not ours (KAZOO keeps its own)."""
    rows = await couch.all_docs(
        db, startkey=design_docs.LEGACY, endkey=design_docs.LEGACY + "-z"
    )
    return {
        str(r["id"]): str(r.get("value", {}).get("rev", ""))
        for r in rows
        if design_docs.is_ours(str(r.get("id", "")))
    }


async def has_design_doc(couch: Couch, db: str) -> bool:
    """``db`` holds some release's design doc: its account reports (CONTRACT.md section 1)."""
    return bool(await our_design_docs(couch, db))


async def reporting_from(couch: Couch, dbs: list[str]) -> list[str]:
    """Of one account's MoDBs (in month order), those from the first that holds any release's
    design doc on (a reporting account gets it in its later months); [] when none holds it
    (an account that never reported gets nothing)."""
    for i, db in enumerate(dbs):
        if await has_design_doc(couch, db):
            return dbs[i:]
    return []


async def covered_dbs(couch: Couch, account_id: str | None, every: bool) -> AsyncIterator[str]:
    """The MoDBs ``install-views`` covers: one account's (named by the operator), every
    account's (``--all``: asked for exactly that), else only those of accounts that already
    hold the design doc in an earlier MoDB (CONTRACT.md section 1), page by page."""
    if account_id is not None or every:
        start, end = ALL_ACCOUNTS if account_id is None else account_range(account_id)
        async for page in couch.db_names(start, end):
            for db in page:
                if is_modb(db):
                    yield db
        return
    held: list[str] = []  # MoDBs of the account being read, which may go on in the next page
    async for page in couch.db_names(*ALL_ACCOUNTS):
        groups: dict[str, list[str]] = {}
        for db in (*held, *page):
            parsed = parse_db_name(db)
            if parsed is not None and parsed[1] is not None:
                groups.setdefault(parsed[0], []).append(db)
        last = next(reversed(groups), None)
        held = groups.pop(last, []) if last is not None else []
        found = await asyncio.gather(*(reporting_from(couch, dbs) for dbs in groups.values()))
        for dbs in found:
            for db in dbs:
                yield db
    for db in await reporting_from(couch, held):
        yield db


async def warm(couch: Couch, db: str, views: list[str], ddoc: str | None = None) -> None:
    """Build the indexes now: query each view once (CouchDB builds a ddoc's views together).
    For small databases (tests, demo); ``install-views --warm`` follows long builds."""
    for view in views:
        await couch.view(db, ddoc or design_docs.current_name(), view, limit=1, reduce=False)
