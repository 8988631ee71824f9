"""Writing demo accounts into CouchDB: the account database, then every MoDB document in
``_bulk_docs`` batches, a few in flight; safe to run twice (a rerun meets its own documents
as conflicts and counts them as already there)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tqdm import tqdm

from app.couch import modb
from app.couch.client import Couch

from .accounts import SOURCES, AccountPlan, plan_account
from .clock import modb_month

MAX_IN_FLIGHT = 4  # concurrent _bulk_docs requests while seeding


class SeedError(Exception):
    """CouchDB refused some of the demo documents: nothing may be silently lost."""


@dataclass
class SeededAccount:
    """What :func:`seed` wrote for one account."""

    account_id: str
    name: str
    queue_ids: list[str]
    recipient_ids: list[str]
    docs_per_modb: dict[str, int] = field(default_factory=dict)  # unencoded MoDB -> docs
    already_present: int = 0  # docs found from an earlier run with the same seed
    source: str = "qubicle"
    docs_per_type: dict[str, int] = field(default_factory=dict)  # pvt_type -> MoDB docs
    queue_names: dict[str, str] = field(default_factory=dict)
    recipient_names: dict[str, str] = field(default_factory=dict)  # id -> "First Last"

    @property
    def total_docs(self) -> int:
        return sum(self.docs_per_modb.values())


async def _write_batch(couch: Couch, db: str, batch: list[dict[str, Any]]) -> int:
    """Bulk-write one batch; return how many were already there. Raise on any other failure."""
    rows = await couch.bulk_docs(db, batch)
    if len(rows) != len(batch):
        raise SeedError(f"{db}: _bulk_docs answered {len(rows)} rows for {len(batch)} docs")
    existing = 0
    failures: list[str] = []
    for doc, row in zip(batch, rows, strict=True):
        if row.get("id") != doc["_id"]:
            failures.append(f"{doc['_id']}: answered for {row.get('id')!r}")
        elif row.get("error") == "conflict":
            existing += 1  # written by an earlier run of the same seed
        elif "error" in row or not row.get("rev"):
            failures.append(f"{doc['_id']}: {row.get('error')} {row.get('reason')}")
    if failures:
        raise SeedError(f"{db}: {len(failures)} docs not written, e.g. {failures[:3]}")
    return existing


async def _seed_account(
    couch: Couch,
    plan: AccountPlan,
    *,
    start: date,
    days: int,
    calls_per_day: int,
    batch_size: int,
    bar: tqdm | None,
) -> SeededAccount:
    account_db = modb.account_db(plan.account_id)
    await couch.create_db(account_db)
    if await couch.get_doc(account_db, plan.account_id) is None:
        await couch.put_doc(account_db, plan.account_doc())
    # queues and users: a rerun meets them as conflicts, which _write_batch accepts
    await _write_batch(couch, account_db, plan.account_db_docs()[1:])

    out = SeededAccount(
        plan.account_id,
        plan.name,
        plan.queue_ids,
        plan.recipient_ids,
        source=plan.source,
        queue_names=plan.queue_names(),
        recipient_names={r: f"{f} {last}" for r, (f, last) in plan.recipient_names().items()},
    )
    buffers: dict[str, list[dict[str, Any]]] = {}
    pending: set[asyncio.Task[int]] = set()

    async def settle(until: int) -> None:
        nonlocal pending
        while len(pending) > until:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            errors = [e for e in (t.exception() for t in done) if e is not None]
            if errors:
                raise errors[0]
            out.already_present += sum(t.result() for t in done)

    async def flush(db: str) -> None:
        batch = buffers.pop(db)
        await settle(MAX_IN_FLIGHT - 1)
        pending.add(asyncio.create_task(_write_batch(couch, db, batch)))
        if bar is not None:
            bar.update(len(batch))

    try:
        for doc in plan.month_docs(start, days, calls_per_day):
            db = modb.modb(plan.account_id, *modb_month(doc))
            out.docs_per_type[doc["pvt_type"]] = out.docs_per_type.get(doc["pvt_type"], 0) + 1
            if db not in out.docs_per_modb:
                await couch.create_db(db)
                out.docs_per_modb[db] = 0
            out.docs_per_modb[db] += 1
            buffers.setdefault(db, []).append(doc)
            if len(buffers[db]) >= batch_size:
                await flush(db)
        for db in list(buffers):
            await flush(db)
        await settle(0)
    except BaseException:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        raise
    return out


async def seed(
    couch: Couch,
    *,
    seed: int,
    accounts: int,
    queues: int,
    recipients: int,
    days: int,
    calls_per_day: int,
    start: date,
    batch_size: int = 500,
    progress: bool = True,
    account_ids: list[str] | None = None,
    source: str = "qubicle",
) -> list[SeededAccount]:
    """Create ``accounts`` demo accounts and fill their MoDBs; safe to run twice.

    ``source``: ``qubicle`` (``qubicle_session`` docs), ``acdc`` (ACDC ``call_stat`` docs)
    or ``both`` in each account. ``account_ids`` overrides the generated account ids (tests
    use fresh ones); the data is otherwise the same for the same ``seed`` and ``source``.
    Raises :class:`SeedError` if any document could not be written (a conflict with an
    identical earlier run is not a failure).
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    if account_ids is not None and len(account_ids) != accounts:
        raise ValueError(f"{accounts} accounts but {len(account_ids)} account_ids")
    if batch_size < 1 or days < 1 or calls_per_day < 1:
        raise ValueError("batch_size, days and calls_per_day must be at least 1")
    seeded: list[SeededAccount] = []
    for index in range(accounts):
        plan = plan_account(
            seed,
            index,
            queues=queues,
            recipients=recipients,
            account_id=None if account_ids is None else account_ids[index],
            source=source,
        )
        # a count and a rate, no total: knowing it would mean generating everything twice
        bar = tqdm(unit="doc", desc=f"account {index + 1}/{accounts}") if progress else None
        try:
            seeded.append(
                await _seed_account(
                    couch,
                    plan,
                    start=start,
                    days=days,
                    calls_per_day=calls_per_day,
                    batch_size=batch_size,
                    bar=bar,
                )
            )
        finally:
            if bar is not None:
                bar.close()
    return seeded
