"""Who one demo account is (its ids, its source of data, its random streams) and the
documents of its account database: the account, a ``queue`` document per queue and a
``user`` document per recipient, shaped as KAZOO's crossbar ``queues`` and ``users``."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.couch import modb

from .call_stats import render_call_stats
from .clock import random_hex_id
from .floor import Floor, simulate
from .names import person_names, queue_name
from .queues import ACDC, QueuePlan, plan_queues
from .sessions import render_sessions
from .status_stats import render_status_stats

SOURCES = ("qubicle", "acdc", "both")
ACCOUNT_DOCS_CREATED = 63745056000  # 2020-01-01T00:00:00Z: queues and users predate the data
ACCOUNT_NAMES = {"qubicle": "Qubicle Demo", "acdc": "ACDC Demo", "both": "Mixed Demo"}


@dataclass(frozen=True)
class AccountPlan:
    """Who one demo account is: its ids, its source of data, and the seeds it is generated
    from."""

    index: int
    account_id: str
    name: str
    queue_ids: list[str]
    recipient_ids: list[str]
    sessions_seed: str
    source: str = "qubicle"
    call_stats_seed: str = ""
    names_seed: str = ""
    status_stats_seed: str = ""

    def account_doc(self) -> dict[str, Any]:
        """The KAZOO account document (``pvt_tree``: ancestor account ids, none here)."""
        return {"_id": self.account_id, "pvt_type": "account", "name": self.name, "pvt_tree": []}

    @property
    def floor_seed(self) -> str:
        """The stream the account's floor (queues, staffing, callers) is drawn from."""
        return self.sessions_seed if self.source == "qubicle" else self.call_stats_seed

    def queues(self) -> list[QueuePlan]:
        """The queues as the floor plans them (its stream's first draws)."""
        rng = random.Random(self.floor_seed)
        return plan_queues(rng, self.queue_ids, self.recipient_ids, self.source)

    def floor(self, start: date, days: int, calls_per_day: int) -> Floor:
        """The account's contact center played out over ``days`` UTC days from ``start``."""
        rng = random.Random(self.floor_seed)
        return simulate(
            rng, self.queue_ids, self.recipient_ids, self.source, start, days, calls_per_day
        )

    def sessions(self, start: date, days: int, calls_per_day: int) -> Iterator[dict[str, Any]]:
        """The visits to its Qubicle queues (none on an ACDC account)."""
        return render_sessions(self.account_id, self.floor(start, days, calls_per_day))

    def call_stats(self, start: date, days: int, calls_per_day: int) -> Iterator[dict[str, Any]]:
        """The calls to its ACDC queues (none on a Qubicle account)."""
        return render_call_stats(self.account_id, self.floor(start, days, calls_per_day))

    def status_stats(self, start: date, days: int, calls_per_day: int) -> list[dict[str, Any]]:
        """Its agents' status changes (none without an ACDC queue)."""
        floor = self.floor(start, days, calls_per_day)
        rng = random.Random(self.status_stats_seed)
        return list(render_status_stats(rng, self.account_id, floor))

    def month_docs(self, start: date, days: int, calls_per_day: int) -> Iterator[dict[str, Any]]:
        """Every MoDB document of the account, from one floor: its sessions, its call_stats,
        then its agents' status_stats."""
        floor = self.floor(start, days, calls_per_day)
        yield from render_sessions(self.account_id, floor)
        yield from render_call_stats(self.account_id, floor)
        yield from render_status_stats(
            random.Random(self.status_stats_seed), self.account_id, floor
        )

    def queue_names(self) -> dict[str, str]:
        return {q: queue_name(i) for i, q in enumerate(self.queue_ids)}

    def recipient_names(self) -> dict[str, tuple[str, str]]:
        rng = random.Random(self.names_seed or f"{self.sessions_seed}:names")
        return dict(
            zip(self.recipient_ids, person_names(rng, len(self.recipient_ids)), strict=True)
        )

    def account_db_docs(self) -> list[dict[str, Any]]:
        """The account document, then a ``queue`` document per queue and a ``user`` document
        per recipient, shaped as KAZOO's crossbar ``queues`` and ``users`` documents."""
        db = modb.encode(modb.account_db(self.account_id))
        pvt = {
            "pvt_account_id": self.account_id,
            "pvt_account_db": db,
            "pvt_created": ACCOUNT_DOCS_CREATED,
            "pvt_modified": ACCOUNT_DOCS_CREATED,
            "pvt_vsn": "1",
        }
        settings = {q.queue_id: q for q in self.queues()}
        agent_queues: dict[str, list[str]] = {}
        for q in settings.values():
            if q.shape == ACDC:
                for agent in q.members:
                    agent_queues.setdefault(agent, []).append(q.queue_id)
        docs: list[dict[str, Any]] = [self.account_doc()]
        for queue_id, name in self.queue_names().items():
            q = settings[queue_id]
            timeout, ring, at_once, wrapup = q.timeout, q.ring_timeout, q.ring_at_once, q.wrapup
            docs.append(
                {
                    "_id": queue_id,
                    "name": name,
                    "strategy": "round_robin" if at_once == 1 else "most_idle",
                    "connection_timeout": timeout,
                    "agent_ring_timeout": ring,
                    "ring_simultaneously": at_once,
                    "max_queue_size": 0,
                    "enter_when_empty": True,
                    "agent_wrapup_time": wrapup,
                    "caller_exit_key": "#",
                    "record_caller": False,
                    "pvt_type": "queue",
                    **pvt,
                }
            )
        for user_id, (first, last) in self.recipient_names().items():
            login = f"{first}.{last}".lower().replace(" ", "")
            user: dict[str, Any] = {
                "_id": user_id,
                "first_name": first,
                "last_name": last,
                "username": login,
                "email": f"{login}@example.com",
                "priv_level": "user",
                "enabled": True,
            }
            if user_id in agent_queues:  # ACDC agents list their queues (queues/agents_listing)
                user["queues"] = agent_queues[user_id]
            docs.append({**user, "pvt_type": "user", **pvt})
        return docs


def plan_account(
    seed: int,
    index: int,
    *,
    queues: int,
    recipients: int,
    account_id: str | None = None,
    source: str = "qubicle",
) -> AccountPlan:
    """The ``index``-th account of a seed and source; each account has its own random
    streams, so it is the same whatever the number of accounts seeded alongside it, and
    each source has its own ids, so accounts of several sources seeded with the same seed
    number live side by side."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    stream = f"qubicle-reports-seed:{seed}:{index}"
    if source != "qubicle":  # the qubicle streams are the historical ones
        stream += f":{source}"
    ids = random.Random(f"{stream}:ids")
    generated_account = random_hex_id(ids)
    queue_ids = [random_hex_id(ids) for _ in range(queues)]
    recipient_ids = [random_hex_id(ids) for _ in range(recipients)]
    chosen = generated_account if account_id is None else account_id
    if not modb.is_account_id(chosen):
        raise ValueError(f"not an account id: {chosen!r}")
    return AccountPlan(
        index=index,
        account_id=chosen,
        name=f"{ACCOUNT_NAMES[source]} {index + 1}",
        queue_ids=queue_ids,
        recipient_ids=recipient_ids,
        sessions_seed=f"{stream}:sessions",
        source=source,
        call_stats_seed=f"{stream}:call_stats",
        names_seed=f"{stream}:names",
        status_stats_seed=f"{stream}:status_stats",
    )
