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

from .call_stats import generate_call_stats
from .clock import random_hex_id
from .names import person_names, queue_name
from .queues import AcdcQueue, QubicleQueue, plan_acdc_queues, plan_qubicle_queues
from .sessions import generate_sessions
from .status_stats import StatusStats, plan_wrapups

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

    def sessions(self, start: date, days: int, calls_per_day: int) -> Iterator[dict[str, Any]]:
        rng = random.Random(self.sessions_seed)
        return generate_sessions(
            rng, self.account_id, self.queue_ids, self.recipient_ids, start, days, calls_per_day
        )

    def call_stats(self, start: date, days: int, calls_per_day: int) -> Iterator[dict[str, Any]]:
        rng = random.Random(self.call_stats_seed)
        return generate_call_stats(
            rng, self.account_id, self.queue_ids, self.recipient_ids, start, days, calls_per_day
        )

    def _status_stats(self) -> StatusStats:
        queues = plan_acdc_queues(
            random.Random(self.call_stats_seed), self.queue_ids, self.recipient_ids
        )
        return StatusStats(random.Random(self.status_stats_seed), self.account_id, queues)

    def status_stats(self, start: date, days: int, calls_per_day: int) -> list[dict[str, Any]]:
        """The agents' status_stats around the account's call_stats (generated again)."""
        status = self._status_stats()
        for stat in self.call_stats(start, days, calls_per_day):
            status.observe(stat)
        return list(status.docs())

    def month_docs(self, start: date, days: int, calls_per_day: int) -> Iterator[dict[str, Any]]:
        """Every MoDB document of the account, each generated once: its sessions, or its
        call_stats then its agents' status_stats, or all three."""
        if self.source in ("qubicle", "both"):
            yield from self.sessions(start, days, calls_per_day)
        if self.source in ("acdc", "both"):
            status = self._status_stats()
            for stat in self.call_stats(start, days, calls_per_day):
                status.observe(stat)
                yield stat
            yield from status.docs()

    def queue_names(self) -> dict[str, str]:
        return {q: queue_name(i) for i, q in enumerate(self.queue_ids)}

    def recipient_names(self) -> dict[str, tuple[str, str]]:
        rng = random.Random(self.names_seed or f"{self.sessions_seed}:names")
        return dict(
            zip(self.recipient_ids, person_names(rng, len(self.recipient_ids)), strict=True)
        )

    def _memberships(self) -> tuple[dict[str, QubicleQueue | AcdcQueue], dict[str, list[str]]]:
        """Each queue's settings and each ACDC agent's queues, as the generators plan them."""
        settings: dict[str, QubicleQueue | AcdcQueue] = {}
        agent_queues: dict[str, list[str]] = {}
        if self.source in ("qubicle", "both"):
            rng = random.Random(self.sessions_seed)
            for q in plan_qubicle_queues(rng, self.queue_ids, self.recipient_ids):
                settings[q.queue_id] = q
        if self.source in ("acdc", "both"):
            for a in plan_acdc_queues(
                random.Random(self.call_stats_seed), self.queue_ids, self.recipient_ids
            ):
                settings[a.queue_id] = a
                for agent in a.agents:
                    agent_queues.setdefault(agent, []).append(a.queue_id)
        return settings, agent_queues

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
        settings, agent_queues = self._memberships()
        wrapups = plan_wrapups(random.Random(self.status_stats_seed), self.queue_ids)
        docs: list[dict[str, Any]] = [self.account_doc()]
        for queue_id, name in self.queue_names().items():
            q = settings[queue_id]
            if isinstance(q, AcdcQueue):
                timeout, ring, at_once = (
                    q.connection_timeout,
                    q.agent_ring_timeout,
                    q.ring_simultaneously,
                )
                wrapup = wrapups[queue_id]
            else:
                timeout, ring, at_once, wrapup = q.timeout, 15, 1, 0
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
