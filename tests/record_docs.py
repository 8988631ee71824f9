"""Documents for the record reports' tests: every shape (qubicle_session, call_stat,
status_stat) with the hard cases of CONTRACT.md 2b, 7b and 8, and how to store them (each
in the MoDB of the month it was written or archived)."""

from __future__ import annotations

import random
from typing import Any

import reference as ref

from app.couch import modb
from app.couch.client import Couch

QUEUES = ["q" + "1" * 31, "q" + "2" * 31]
AGENTS = ["a" + "1" * 31, "a" + "2" * 31, "a" + "3" * 31]
STATUSES = [
    "logged_in",
    "ready",
    "connecting",
    "connected",
    "wrapup",
    "paused",
    "outbound",
    "logged_out",
    "pending_logged_out",
]


def month_of(doc: dict[str, Any]) -> str:
    """YYYYMM of the MoDB holding a document: a session's ``_id`` prefix (the month it left
    the queue), else the month it was archived."""
    if doc["pvt_type"] == "qubicle_session":
        return str(doc["_id"][:6])
    return ref.archive_month(doc)


async def store(couch: Couch, account_id: str, docs: list[dict[str, Any]]) -> None:
    per_db: dict[str, list[dict[str, Any]]] = {}
    for d in docs:
        month = month_of(d)
        per_db.setdefault(modb.modb(account_id, int(month[:4]), int(month[4:])), []).append(d)
    for db, batch in per_db.items():
        await couch.create_db(db)
        rows = await couch.bulk_docs(db, batch)
        assert all(r.get("ok") for r in rows), rows


def calls(account_id: str, rng: random.Random, start: int, seconds: int, n: int) -> list[dict]:
    """``n`` calls entering in ``[start, start + seconds)``: sessions and call_stats, every
    result, offers missed, rejected and answered, ACDC misses of every reason."""
    docs = []
    for i in range(n):
        entered = start + rng.randrange(seconds)
        queue = rng.choice(QUEUES)
        wait = rng.choice([0, 5, 19, 20, 21, 45, 300, 12.5])
        call_id = f"call-{i}-{rng.randrange(10**6)}"
        if rng.random() < 0.5:
            result = rng.choice(["answered", "answered", "abandoned", "timeout"])
            offers = []
            t = entered + 1
            for _ in range(rng.randrange(3)):
                offers.append(ref.offer(rng.choice(AGENTS), t, rng.choice(["missed", "rejected"])))
                t += rng.randrange(0, 30)
            who = None
            if result == "answered":
                who = rng.choice(AGENTS)
                offers.append(
                    ref.offer(
                        who, t, "answered", ring=rng.randrange(20), talk=rng.randrange(1, 600)
                    )
                )
            doc = ref.good_doc(
                account_id,
                queue,
                call_id,
                entered,
                result=result,
                wait=wait,
                offers=offers,
                recipient_id=who,
            )
            if rng.random() < 0.3:
                doc["caller_id_name"] = rng.choice(["=cmd()", "Ann, Lee", 'Say "hi"', "Bob"])
        else:
            status = rng.choice(["processed", "processed", "abandoned"])
            misses = [
                ref.miss(
                    rng.choice(AGENTS),
                    entered + k,
                    rng.choice(["timeout", "rejected", "LOSE_RACE", "NO_ANSWER"]),
                )
                for k in range(rng.randrange(3))
            ]
            doc = ref.good_call_stat(
                account_id,
                queue,
                call_id,
                entered,
                status=status,
                wait=int(wait),
                agent_id=rng.choice(AGENTS) if status == "processed" else None,
                misses=misses,
                abandoned_reason=rng.choice(["member_timeout", "member_hangup", None]),
            )
        docs.append(doc)
    return docs


def events(account_id: str, rng: random.Random, start: int, seconds: int, n: int) -> list[dict]:
    """``n`` status events per agent in ``[start - 13 h, start + seconds)``: ties at one
    second, gaps past the 12-hour cap, pending_logged_out among them."""
    docs = []
    for agent in AGENTS:
        t = start - 13 * 3600 + rng.randrange(3600)
        for k in range(n):
            status = rng.choice(STATUSES)
            docs.append(ref.status_doc(account_id, agent, t, status, suffix=f"-{k}"))
            t += rng.choice([0, 1, 60, 900, 3600, 5 * 3600, 13 * 3600]) if k % 5 else 0
            if t >= start + seconds:
                break
    return docs


async def create_account(couch: Couch, account_id: str) -> None:
    """The account's own database and document, which authorization reads."""
    account_db = modb.account_db(account_id)
    await couch.create_db(account_db)
    await couch.put_doc(account_db, {"_id": account_id, "pvt_type": "account", "pvt_tree": []})
