"""Demo data: realistic, deterministic ``qubicle_session`` documents (CONTRACT.md section 2).

Generation is pure (everything comes from a ``random.Random``) so tests can regenerate exactly
what was written. :func:`seed` writes it the way KAZOO would have: an account database with
the account document, and one MoDB per month holding the visits that *left* in that month.
It never installs design documents: reports install the views they need themselves.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tqdm import tqdm

from app import modb
from app.config import Settings
from app.couch import Couch, CouchError, CouchUnavailable

GREGORIAN_OFFSET = 62167219200  # KAZOO Gregorian seconds - Unix seconds
DAY = 86400

# Relative arrivals per UTC hour: a business day (9-17) with a tail into the evening and a
# trickle of night calls, so some visits straddle midnight naturally.
HOURLY_WEIGHTS = (
    0.4, 0.3, 0.2, 0.2, 0.2, 0.3, 0.8, 2.0, 5.0, 9.0, 10.0, 10.0,
    9.0, 9.5, 10.0, 9.5, 8.5, 6.0, 3.5, 2.5, 2.0, 1.5, 1.0, 0.7,
)  # fmt: skip
# Volume by weekday (Monday first), relative to ``calls_per_day``.
WEEKDAY_FACTORS = (1.0, 1.05, 1.0, 0.95, 0.85, 0.35, 0.2)
RESULT_WEIGHTS = (("answered", 0.82), ("abandoned", 0.13), ("timeout", 0.05))
MAX_OFFERS = 10
MAX_IN_FLIGHT = 4  # concurrent _bulk_docs requests while seeding


class SeedError(Exception):
    """CouchDB refused some of the demo documents: nothing may be silently lost."""


@dataclass(frozen=True)
class _Queue:
    queue_id: str
    weight: float
    timeout: int  # seconds until a visit times out
    first_offer_mean: float  # mean seconds before the first recipient rings
    abandon_mean: float  # mean patience of callers who hang up
    recipients: tuple[str, ...]


def random_hex_id(rng: random.Random) -> str:
    """A KAZOO-style id: 32 lowercase hex digits drawn from ``rng``."""
    return f"{rng.getrandbits(128):032x}"


def to_gregorian(moment: datetime) -> int:
    return int(moment.timestamp()) + GREGORIAN_OFFSET


def from_gregorian(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds - GREGORIAN_OFFSET, tz=UTC)


def modb_month(doc: dict[str, Any]) -> tuple[int, int]:
    """(year, month) of the MoDB a session belongs to: the UTC month it exited."""
    exited = from_gregorian(doc["exited_timestamp"])
    return exited.year, exited.month


def _plan_queues(
    rng: random.Random, queue_ids: list[str], recipient_ids: list[str]
) -> list[_Queue]:
    """Per-queue traits; each queue gets an overlapping subset of the recipients."""
    if not queue_ids or not recipient_ids:
        raise ValueError("need at least one queue and one recipient")
    n = len(recipient_ids)
    subsets: list[list[str]] = []
    for _ in queue_ids:
        size = max(1, min(n, round(n * rng.uniform(0.4, 0.8))))
        subsets.append(rng.sample(recipient_ids, size))
    for r in recipient_ids:  # nobody is left without a queue
        if not any(r in s for s in subsets):
            subsets[rng.randrange(len(subsets))].append(r)
    return [
        _Queue(
            queue_id=q,
            weight=rng.uniform(0.5, 2.0),
            timeout=rng.choice((120, 180, 300, 600)),
            first_offer_mean=rng.uniform(10.0, 60.0),
            abandon_mean=rng.uniform(30.0, 120.0),
            recipients=tuple(subsets[i]),
        )
        for i, q in enumerate(queue_ids)
    ]


def _failed_offer(rng: random.Random, recipient: str, at: int) -> dict[str, Any]:
    """A ring nobody took: missed (rang out) or rejected (declined quickly)."""
    if rng.random() < 0.75:
        result, ring = "missed", rng.randint(15, 25)
    else:
        result, ring = "rejected", rng.randint(1, 8)
    return {
        "recipient_id": recipient,
        "offered_timestamp": at,
        "result": result,
        "ring_time": ring,
        "call_duration": 0,
    }


def _visit(
    rng: random.Random,
    account_id: str,
    queue: _Queue,
    entered: int,
    *,
    force_answered: bool = False,
    min_talk: int = 0,
) -> dict[str, Any]:
    """One queue visit entering at ``entered`` (Gregorian seconds), with its offers."""
    if force_answered:
        result = "answered"
    else:
        result = rng.choices([r for r, _ in RESULT_WEIGHTS], [w for _, w in RESULT_WEIGHTS])[0]
    order = list(queue.recipients)
    rng.shuffle(order)
    t = entered + max(1, round(rng.expovariate(1.0 / queue.first_offer_mean)))
    offers: list[dict[str, Any]] = []
    answered_by: str | None = None
    talk = 0
    if result == "answered":
        failures = 0
        while failures < MAX_OFFERS - 1 and rng.random() < 0.35:
            failures += 1
        for i in range(failures):
            offer = _failed_offer(rng, order[i % len(order)], t)
            offers.append(offer)
            t += offer["ring_time"] + rng.randint(1, 10)
        answered_by = order[failures % len(order)]
        ring = rng.randint(2, 14)
        talk = max(min_talk, 5, round(rng.lognormvariate(math.log(150), 0.7)))
        offers.append(
            {
                "recipient_id": answered_by,
                "offered_timestamp": t,
                "result": "answered",
                "ring_time": ring,
                "call_duration": talk,
            }
        )
        left_queue = t + ring
    else:
        if result == "timeout":
            left_queue = entered + queue.timeout
        else:
            left_queue = entered + max(1, round(rng.expovariate(1.0 / queue.abandon_mean)))
        i = 0
        while len(offers) < MAX_OFFERS:
            offer = _failed_offer(rng, order[i % len(order)], t)
            if t + offer["ring_time"] > left_queue:
                break  # the caller was gone before this ring would have ended
            offers.append(offer)
            t += offer["ring_time"] + rng.randint(1, 10)
            i += 1
    exited = left_queue + talk
    call_id = random_hex_id(rng)
    month = from_gregorian(exited)
    doc: dict[str, Any] = {
        "_id": f"{month.year:04d}{month.month:02d}-{call_id}-{queue.queue_id}",
        "pvt_type": "qubicle_session",
        "pvt_account_id": account_id,
        "pvt_created": exited,
        "queue_id": queue.queue_id,
        "call_id": call_id,
        "entered_timestamp": entered,
        "exited_timestamp": exited,
        "result": result,
        "wait_time": left_queue - entered,
    }
    if answered_by is not None:
        doc["recipient_id"] = answered_by
    doc["offers"] = offers
    return doc


def generate_sessions(
    rng: random.Random,
    account_id: str,
    queue_ids: list[str],
    recipient_ids: list[str],
    start: date,
    days: int,
    calls_per_day: int,
) -> Iterator[dict[str, Any]]:
    """Yield ``qubicle_session`` docs for ``days`` UTC days from ``start``, in entry order.

    Weekdays are busier than weekends and arrivals follow :data:`HOURLY_WEIGHTS`. Every day
    also has one long call entering in its last quarter hour that ends after midnight, so
    data always has visits straddling midnight (and month ends, when the range has one).
    """
    queues = _plan_queues(rng, queue_ids, recipient_ids)
    queue_weights = [q.weight for q in queues]
    hours = list(range(24))
    for offset in range(days):
        day = start + timedelta(days=offset)
        midnight = to_gregorian(datetime(day.year, day.month, day.day, tzinfo=UTC))
        volume = calls_per_day * WEEKDAY_FACTORS[day.weekday()] * rng.uniform(0.85, 1.15)
        count = max(1, round(volume))
        visits: list[dict[str, Any]] = []
        for _ in range(count - 1):
            hour = rng.choices(hours, HOURLY_WEIGHTS)[0]
            entered = midnight + hour * 3600 + rng.randrange(3600)
            queue = rng.choices(queues, queue_weights)[0]
            visits.append(_visit(rng, account_id, queue, entered))
        # the guaranteed straddler: enters 23:45-23:59:30, talks well past midnight
        entered = midnight + DAY - rng.randint(30, 900)
        queue = rng.choices(queues, queue_weights)[0]
        visits.append(_visit(rng, account_id, queue, entered, force_answered=True, min_talk=960))
        visits.sort(key=lambda d: (d["entered_timestamp"], d["_id"]))
        yield from visits


@dataclass(frozen=True)
class AccountPlan:
    """Who one demo account is: its ids, and the seed its sessions are generated from."""

    index: int
    account_id: str
    name: str
    queue_ids: list[str]
    recipient_ids: list[str]
    sessions_seed: str

    def account_doc(self) -> dict[str, Any]:
        """The KAZOO account document (``pvt_tree``: ancestor account ids, none here)."""
        return {"_id": self.account_id, "pvt_type": "account", "name": self.name, "pvt_tree": []}

    def sessions(self, start: date, days: int, calls_per_day: int) -> Iterator[dict[str, Any]]:
        rng = random.Random(self.sessions_seed)
        return generate_sessions(
            rng, self.account_id, self.queue_ids, self.recipient_ids, start, days, calls_per_day
        )


def plan_account(
    seed: int, index: int, *, queues: int, recipients: int, account_id: str | None = None
) -> AccountPlan:
    """The ``index``-th account of a seed; each account has its own random streams, so it is
    the same whatever the number of accounts seeded alongside it."""
    ids = random.Random(f"qubicle-reports-seed:{seed}:{index}:ids")
    generated_account = random_hex_id(ids)
    queue_ids = [random_hex_id(ids) for _ in range(queues)]
    recipient_ids = [random_hex_id(ids) for _ in range(recipients)]
    chosen = generated_account if account_id is None else account_id
    if not modb.is_account_id(chosen):
        raise ValueError(f"not an account id: {chosen!r}")
    return AccountPlan(
        index=index,
        account_id=chosen,
        name=f"Qubicle Demo {index + 1}",
        queue_ids=queue_ids,
        recipient_ids=recipient_ids,
        sessions_seed=f"qubicle-reports-seed:{seed}:{index}:sessions",
    )


@dataclass
class SeededAccount:
    """What :func:`seed` wrote for one account."""

    account_id: str
    name: str
    queue_ids: list[str]
    recipient_ids: list[str]
    docs_per_modb: dict[str, int] = field(default_factory=dict)  # unencoded MoDB -> docs
    already_present: int = 0  # docs found from an earlier run with the same seed

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

    out = SeededAccount(plan.account_id, plan.name, plan.queue_ids, plan.recipient_ids)
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
        for doc in plan.sessions(start, days, calls_per_day):
            db = modb.modb(plan.account_id, *modb_month(doc))
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
) -> list[SeededAccount]:
    """Create ``accounts`` demo accounts and fill their MoDBs; safe to run twice.

    ``account_ids`` overrides the generated account ids (tests use fresh ones); the data is
    otherwise the same for the same ``seed``. Raises :class:`SeedError` if any document
    could not be written (a conflict with an identical earlier run is not a failure).
    """
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
        )
        bar = None
        if progress:
            total = sum(1 for _ in plan.sessions(start, days, calls_per_day))
            bar = tqdm(total=total, unit="doc", desc=f"account {index + 1}/{accounts}")
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


def _short(ids: list[str]) -> str:
    return " ".join(i[:8] for i in ids)


async def seed_command(settings: Settings, args: argparse.Namespace) -> int:
    """``qubicle-reports seed``: seed, then print ids and a curl that works against them."""
    start: date = args.start or (datetime.now(UTC).date() - timedelta(days=args.days))
    end = start + timedelta(days=args.days - 1)
    couch = Couch(settings.couchdb_url, timeout=max(settings.couch_timeout, 120.0))
    try:
        seeded = await seed(
            couch,
            seed=args.seed,
            accounts=args.accounts,
            queues=args.queues,
            recipients=args.recipients,
            days=args.days,
            calls_per_day=args.calls_per_day,
            start=start,
            progress=not args.quiet,
        )
    except (CouchUnavailable, CouchError, SeedError) as e:
        print(f"seed failed: {e}", file=sys.stderr)
        return 1
    finally:
        await couch.close()

    total = sum(a.total_docs for a in seeded)
    print(
        f"Seeded {len(seeded)} account(s), {total} qubicle_session docs, "
        f"{start.isoformat()}..{end.isoformat()} (seed {args.seed}) on {couch.base}"
    )
    for a in seeded:
        months = ", ".join(
            f"{name.rsplit('-', 1)[1]}: {n}" for name, n in sorted(a.docs_per_modb.items())
        )
        note = f" ({a.already_present} already there)" if a.already_present else ""
        print(f"\naccount {a.account_id}  {a.name!r}  {a.total_docs} docs{note}")
        print(f"  MoDBs:      {months}")
        print(f"  queues:     {_short(a.queue_ids)}")
        print(f"  recipients: {_short(a.recipient_ids)}")

    first = seeded[0]
    url = f"http://127.0.0.1:8000/v2/accounts/{first.account_id}/qubicle_reports"
    headers = '-H "X-Auth-Token: $TOKEN" -H "Content-Type: application/json"'
    span = f'"start_date":"{start.isoformat()}","end_date":"{end.isoformat()}"'
    tokens = ",".join(f"demo-token-{i + 1}={a.account_id}" for i, a in enumerate(seeded))
    print("\nServe it (tokens map to the accounts above):")
    print(f'  export QUBICLE_REPORTS_TOKENS="{tokens}"')
    print("  qubicle-reports serve")
    print("\nThen ask:")
    print("  TOKEN=demo-token-1")
    print(
        f'  curl -s {headers} {url} -d \'{{"data":{{"report":"queues",{span},"period":"daily"}}}}\''
    )
    print(
        f"  curl -s {headers} {url} "
        f'-d \'{{"data":{{"report":"recipients",{span},"period":"weekly",'
        f'"queue_ids":["{first.queue_ids[0]}"]}}}}\''
    )
    return 0
