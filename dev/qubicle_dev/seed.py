"""Demo data: realistic, deterministic KAZOO call-center documents.

Two shapes, the two the reports read (CONTRACT.md sections 2 and 2b):

- ``qubicle_session``: one per queue visit, in the MoDB of the month the caller left;
- ACDC ``call_stat``: one per call per queue, written exactly as KAZOO's archiver
  (``acdc_stats.erl`` ``call_stat_to_doc/1``) writes it: only processed and abandoned calls,
  ``_id`` ``<call_id>::<queue_id>``, absent values omitted (never null), misses newest first,
  in the MoDB of the month it was ARCHIVED (``archive_window_s``, an hour after it entered,
  at the next 60 s archiver tick), so calls entered in a month's last hour sit in the next.

``--source both`` puts both shapes in one account, over the same queue and agent ids (an
operator who moved from Qubicle to ACDC, or the reverse, keeps the queue and user documents).
The account database gets the account document and, as KAZOO has them, a ``queue`` document
(``name``, ACDC's queue settings) per queue and a ``user`` document (``first_name``,
``last_name``; ACDC agents list their ``queues``) per recipient.

Generation is pure (everything comes from a ``random.Random`` seeded from the seed number and
account index) so tests can regenerate exactly what was written. It never installs design
documents: reports install the views they need themselves.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from tqdm import tqdm

from app.config import Settings
from app.couch import modb
from app.couch.client import Couch, CouchError, CouchUnavailable

GREGORIAN_OFFSET = 62167219200  # KAZOO Gregorian seconds - Unix seconds
DAY = 86400

# Relative arrivals per UTC hour: a business day (9-17) with a tail into the evening and a
# trickle of night calls, so some visits straddle midnight naturally.
HOURLY_WEIGHTS = (
    0.4, 0.3, 0.2, 0.2, 0.2, 0.3, 0.8, 2.0, 5.0, 9.0, 10.0, 10.0,
    9.0, 9.5, 10.0, 9.5, 8.5, 6.0, 3.5, 2.5, 2.0, 1.5, 1.0, 0.7,
)  # fmt: skip
# Volume by weekday (Monday first), relative to ``calls_per_day``.
HOURS = tuple(range(24))
Q = TypeVar("Q")  # a queue plan of either document shape
WEEKDAY_FACTORS = (1.0, 1.05, 1.0, 0.95, 0.85, 0.35, 0.2)
RESULT_WEIGHTS = (("answered", 0.82), ("abandoned", 0.13), ("timeout", 0.05))
MAX_OFFERS = 10
MAX_IN_FLIGHT = 4  # concurrent _bulk_docs requests while seeding

SOURCES = ("qubicle", "acdc", "both")
SESSION_TYPE = "qubicle_session"
CALL_STAT_TYPE = "call_stat"

# ACDC (applications/acdc in 2600hz/kazoo)
ARCHIVE_WINDOW = 3600  # acdc archive_window_s default: archive calls entered an hour ago
ARCHIVE_PERIOD = 60  # archive_period_ms default 60000: the archiver runs every minute
PROCESSED_SHARE = 0.80
# acdc.hrl ABANDON_*: callers hang up, the queue times out, or the caller presses the exit key
ABANDON_REASONS = (("member_hangup", 0.75), ("member_timeout", 0.18), ("member_exit", 0.07))
# a ring no agent took, after acdc_agent_fsm:missed_reason/1: ALLOTTED_TIMEOUT -> timeout,
# NO_USER_RESPONSE | CALL_REJECTED | USER_BUSY -> rejected, other hangup causes verbatim
MISS_REASONS = (
    ("timeout", 0.70),
    ("rejected", 0.20),
    ("NO_ANSWER", 0.04),
    ("USER_NOT_REGISTERED", 0.03),
    ("NORMAL_TEMPORARY_FAILURE", 0.03),
)
LOSE_RACE = "LOSE_RACE"  # ringing at once, another agent answered first

QUEUE_NAMES = (
    "Sales", "Support", "Billing", "Technical Support", "Returns", "VIP Line", "Renewals",
    "Onboarding", "Partners", "After Hours", "Escalations", "Collections",
)  # fmt: skip
FIRST_NAMES = (
    "Ada", "Bruno", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Imani", "Jonas",
    "Keiko", "Liam", "Maya", "Nikolai", "Olivia", "Pedro", "Quinn", "Rosa", "Sven", "Tara",
    "Umar", "Vera", "Wen", "Yusuf",
)  # fmt: skip
LAST_NAMES = (
    "Alvarez", "Becker", "Chen", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad",
    "Ivanova", "Jensen", "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov",
    "Quintero", "Rossi", "Silva", "Tanaka", "Usman", "Varga", "Weber", "Zhang",
)  # fmt: skip


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
    """(year, month) of the MoDB a document belongs to: the UTC month it was written
    (``pvt_created``: when a session exited, when a call_stat was archived)."""
    moment = from_gregorian(doc["pvt_created"])
    return moment.year, moment.month


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


def _day_arrivals(
    rng: random.Random,
    day: date,
    calls_per_day: int,
    queues: Sequence[Q],
    weights: list[float],
    special: int,
) -> tuple[int, Iterator[tuple[int, Q]]]:
    """One UTC day of either document shape: its midnight (Gregorian seconds) and its
    ordinary arrivals, ``(entered, queue)``, all but the day's ``special`` hard cases. Weekdays
    are busier than weekends, hours follow :data:`HOURLY_WEIGHTS`; each arrival is drawn from
    ``rng`` as it is taken, so a caller drawing the call itself in between keeps one stream."""
    midnight = to_gregorian(datetime(day.year, day.month, day.day, tzinfo=UTC))
    volume = calls_per_day * WEEKDAY_FACTORS[day.weekday()] * rng.uniform(0.85, 1.15)
    count = max(special, round(volume))

    def arrivals() -> Iterator[tuple[int, Q]]:
        for _ in range(count - special):
            hour = rng.choices(HOURS, HOURLY_WEIGHTS)[0]
            entered = midnight + hour * 3600 + rng.randrange(3600)
            yield entered, rng.choices(queues, weights)[0]

    return midnight, arrivals()


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
    for offset in range(days):
        midnight, arrivals = _day_arrivals(
            rng, start + timedelta(days=offset), calls_per_day, queues, queue_weights, special=1
        )
        visits = [_visit(rng, account_id, queue, entered) for entered, queue in arrivals]
        # the guaranteed straddler: enters 23:45-23:59:30, talks well past midnight
        entered = midnight + DAY - rng.randint(30, 900)
        queue = rng.choices(queues, queue_weights)[0]
        visits.append(_visit(rng, account_id, queue, entered, force_answered=True, min_talk=960))
        visits.sort(key=lambda d: (d["entered_timestamp"], d["_id"]))
        yield from visits


# -- ACDC call_stats ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _AcdcQueue:
    """An ACDC queue's settings (crossbar ``queues`` schema) and the agents logged into it."""

    queue_id: str
    weight: float
    connection_timeout: int  # seconds before a waiting caller is dropped (member_timeout)
    agent_ring_timeout: int  # seconds an agent rings before the next is tried
    ring_simultaneously: int  # agents rung at once; the losers of the race get LOSE_RACE
    first_ring_mean: float  # mean seconds before an agent is free to ring
    abandon_mean: float  # mean patience of callers who hang up
    agents: tuple[str, ...]


def _plan_acdc_queues(
    rng: random.Random, queue_ids: list[str], agent_ids: list[str]
) -> list[_AcdcQueue]:
    """Per-queue settings; each queue gets an overlapping subset of the agents. The first
    queue with two agents or more rings two at once, so LOSE_RACE misses always occur."""
    if not queue_ids or not agent_ids:
        raise ValueError("need at least one queue and one recipient")
    n = len(agent_ids)
    subsets: list[list[str]] = []
    for _ in queue_ids:
        size = max(1, min(n, round(n * rng.uniform(0.4, 0.8))))
        subsets.append(rng.sample(agent_ids, size))
    for a in agent_ids:
        if not any(a in s for s in subsets):
            subsets[rng.randrange(len(subsets))].append(a)
    simultaneous = next((i for i, s in enumerate(subsets) if len(s) >= 2), None)
    queues = []
    for i, q in enumerate(queue_ids):
        ring_at_once = 2 if i == simultaneous else rng.choice((1, 1, 1, 2))
        queues.append(
            _AcdcQueue(
                queue_id=q,
                weight=rng.uniform(0.5, 2.0),
                connection_timeout=rng.choice((300, 600, 900)),
                agent_ring_timeout=rng.choice((15, 20, 30)),
                ring_simultaneously=min(ring_at_once, len(subsets[i])),
                first_ring_mean=rng.uniform(3.0, 25.0),
                abandon_mean=rng.uniform(30.0, 120.0),
                agents=tuple(subsets[i]),
            )
        )
    return queues


def _caller(rng: random.Random) -> dict[str, Any]:
    number = f"+1{rng.randint(201, 989)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
    caller: dict[str, Any] = {
        "caller_id_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
        "caller_id_number": number,
    }
    if rng.random() < 0.1:  # Caller-Priority is set by some callflows only
        caller["caller_priority"] = rng.randint(1, 5)
    return caller


def _failed_ring(rng: random.Random, agent: str, rang_at: int, ring_timeout: int) -> dict:
    """A miss, as ``acdc_stats:call_missed`` records it when the agent FSM gives up."""
    reason = rng.choices([r for r, _ in MISS_REASONS], [w for _, w in MISS_REASONS])[0]
    if reason == "timeout":
        at = rang_at + ring_timeout
    elif reason == "rejected":
        at = rang_at + rng.randint(1, 8)
    else:  # the agent's leg failed to set up
        at = rang_at + rng.randint(0, 3)
    return {"agent_id": agent, "reason": reason, "timestamp": at}


def _call_stat(
    rng: random.Random,
    account_id: str,
    queue: _AcdcQueue,
    entered: int,
    *,
    handled_after: int | None = None,
    race_only: bool = False,
) -> dict[str, Any]:
    """One archived call_stat entering ``queue`` at ``entered`` (Gregorian seconds).

    ``handled_after``: answered, and not before that moment (a call waiting past midnight).
    ``race_only``: answered at the first ring of several agents, so the only misses are the
    LOSE_RACE of the agents who lost.
    """
    forced = handled_after is not None or race_only
    processed = forced or rng.random() < PROCESSED_SHARE
    call_id = random_hex_id(rng)
    caller = _caller(rng)
    order = list(queue.agents)
    rng.shuffle(order)
    if processed:
        failed_rounds = 0
        while not forced and failed_rounds < 6 and rng.random() < 0.25:
            failed_rounds += 1
        leave = None
        ring_delay = queue.first_ring_mean
    else:
        reason = rng.choices([r for r, _ in ABANDON_REASONS], [w for _, w in ABANDON_REASONS])[0]
        if reason == "member_timeout":
            leave = entered + queue.connection_timeout
        elif reason == "member_exit":
            leave = entered + max(5, round(rng.expovariate(1 / 40)))
        else:
            leave = entered + max(1, round(rng.expovariate(1.0 / queue.abandon_mean)))
        leave = min(leave, entered + queue.connection_timeout)
        failed_rounds = 0  # rings while the caller waited, if the caller stayed that long
        while failed_rounds < 4 and rng.random() < 0.45:
            failed_rounds += 1
        ring_delay = 2.5 * queue.first_ring_mean  # callers give up mostly while agents are busy
    t = entered + max(1, round(rng.expovariate(1.0 / ring_delay)))
    if handled_after is not None:
        t = max(t, handled_after)
    misses: list[dict[str, Any]] = []  # oldest first here; stored newest first, as KAZOO does
    k = queue.ring_simultaneously
    if race_only:
        k = max(2, k) if len(order) >= 2 else 1
    nxt = 0
    for _ in range(failed_rounds):
        rung = [order[(nxt + j) % len(order)] for j in range(k)]
        nxt += k
        round_misses = [_failed_ring(rng, a, t, queue.agent_ring_timeout) for a in rung]
        if leave is not None and max(m["timestamp"] for m in round_misses) >= leave:
            break  # the caller was gone before this round ended
        misses.extend(sorted(round_misses, key=lambda m: m["timestamp"]))
        t = max(m["timestamp"] for m in round_misses) + rng.randint(1, 10)
        if leave is not None and t >= leave:
            break
    doc: dict[str, Any] = {"_id": f"{call_id}::{queue.queue_id}", "call_id": call_id}
    doc["queue_id"] = queue.queue_id
    if processed:
        rung = [order[(nxt + j) % len(order)] for j in range(min(k, len(order)))]
        agent = rng.choice(rung)
        handled = t + rng.randint(2, 14)
        talk = max(5, round(rng.lognormvariate(math.log(150), 0.7)))
        done = handled + talk
        for other in rung:
            if other != agent:  # the losers hang up as the winner answers
                misses.append({"agent_id": other, "reason": LOSE_RACE, "timestamp": handled})
        doc["agent_id"] = agent
        doc["entered_timestamp"] = entered
        doc["handled_timestamp"] = handled
        doc["processed_timestamp"] = done
        doc["hung_up_by"] = "member" if rng.random() < 0.6 else "agent"
    else:
        done = leave
        doc["entered_timestamp"] = entered
        doc["abandoned_timestamp"] = leave
        doc["abandoned_reason"] = reason
    doc["misses"] = list(reversed(misses))
    doc["status"] = "processed" if processed else "abandoned"
    doc.update(caller)
    doc["wait_time"] = (handled if processed else leave) - entered
    if processed:
        doc["talk_time"] = talk
    archived = max(entered + ARCHIVE_WINDOW, done) + rng.randrange(ARCHIVE_PERIOD)
    month = from_gregorian(archived)
    doc["pvt_type"] = CALL_STAT_TYPE
    doc["pvt_account_id"] = account_id
    doc["pvt_account_db"] = modb.encode(modb.modb(account_id, month.year, month.month))
    doc["pvt_created"] = archived
    doc["pvt_modified"] = archived
    return doc


def generate_call_stats(
    rng: random.Random,
    account_id: str,
    queue_ids: list[str],
    agent_ids: list[str],
    start: date,
    days: int,
    calls_per_day: int,
) -> Iterator[dict[str, Any]]:
    """Yield ACDC ``call_stat`` docs for ``days`` UTC days from ``start``, in entry order.

    Same day and hour shapes as :func:`generate_sessions`. Every day also has a call entering
    in its last quarter hour that is answered after midnight (its handled_timestamp is the
    next day; on a month's last day it is archived into the next month's MoDB), and a call
    answered at the first ring of two agents, whose only miss is a LOSE_RACE.
    """
    queues = _plan_acdc_queues(rng, queue_ids, agent_ids)
    queue_weights = [q.weight for q in queues]
    racing = [q for q in queues if len(q.agents) >= 2] or queues
    for offset in range(days):
        midnight, arrivals = _day_arrivals(
            rng, start + timedelta(days=offset), calls_per_day, queues, queue_weights, special=2
        )
        calls = [_call_stat(rng, account_id, queue, entered) for entered, queue in arrivals]
        hour = rng.choice(range(9, 17))
        entered = midnight + hour * 3600 + rng.randrange(3600)
        calls.append(_call_stat(rng, account_id, rng.choice(racing), entered, race_only=True))
        entered = midnight + DAY - rng.randint(30, 900)
        queue = rng.choices(queues, queue_weights)[0]
        after = midnight + DAY + rng.randint(1, 120)
        calls.append(_call_stat(rng, account_id, queue, entered, handled_after=after))
        calls.sort(key=lambda d: (d["entered_timestamp"], d["_id"]))
        yield from calls


# -- the account database: queue and user documents ------------------------------------------


def _names(rng: random.Random, n: int) -> list[tuple[str, str]]:
    """``n`` distinct (first, last) names."""
    pairs = [(f, last) for f in FIRST_NAMES for last in LAST_NAMES]
    if n <= len(pairs):
        return rng.sample(pairs, n)
    return [(*pairs[i % len(pairs)][:1], f"{pairs[i % len(pairs)][1]} {i}") for i in range(n)]


def _queue_name(i: int) -> str:
    base = QUEUE_NAMES[i % len(QUEUE_NAMES)]
    return base if i < len(QUEUE_NAMES) else f"{base} {i // len(QUEUE_NAMES) + 1}"


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

    def month_docs(self, start: date, days: int, calls_per_day: int) -> Iterator[dict[str, Any]]:
        """Every MoDB document of the account: its sessions, its call_stats, or both."""
        if self.source in ("qubicle", "both"):
            yield from self.sessions(start, days, calls_per_day)
        if self.source in ("acdc", "both"):
            yield from self.call_stats(start, days, calls_per_day)

    def queue_names(self) -> dict[str, str]:
        return {q: _queue_name(i) for i, q in enumerate(self.queue_ids)}

    def recipient_names(self) -> dict[str, tuple[str, str]]:
        rng = random.Random(self.names_seed or f"{self.sessions_seed}:names")
        return dict(zip(self.recipient_ids, _names(rng, len(self.recipient_ids)), strict=True))

    def _memberships(self) -> tuple[dict[str, _Queue | _AcdcQueue], dict[str, list[str]]]:
        """Each queue's settings and each ACDC agent's queues, as the generators plan them."""
        settings: dict[str, _Queue | _AcdcQueue] = {}
        agent_queues: dict[str, list[str]] = {}
        if self.source in ("qubicle", "both"):
            rng = random.Random(self.sessions_seed)
            for q in _plan_queues(rng, self.queue_ids, self.recipient_ids):
                settings[q.queue_id] = q
        if self.source in ("acdc", "both"):
            for a in _plan_acdc_queues(
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
        docs: list[dict[str, Any]] = [self.account_doc()]
        for queue_id, name in self.queue_names().items():
            q = settings[queue_id]
            if isinstance(q, _AcdcQueue):
                timeout, ring, at_once = (
                    q.connection_timeout,
                    q.agent_ring_timeout,
                    q.ring_simultaneously,
                )
            else:
                timeout, ring, at_once = q.timeout, 15, 1
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
                    "agent_wrapup_time": 0,
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
        bar = None
        if progress:
            total = sum(1 for _ in plan.month_docs(start, days, calls_per_day))
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
            source=getattr(args, "source", "qubicle"),
        )
    except (CouchUnavailable, CouchError, SeedError) as e:
        print(f"seed failed: {e}", file=sys.stderr)
        return 1
    finally:
        await couch.close()

    per_type: dict[str, int] = {}
    for a in seeded:
        for kind, n in a.docs_per_type.items():
            per_type[kind] = per_type.get(kind, 0) + n
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(per_type.items()))
    print(
        f"Seeded {len(seeded)} account(s), {kinds} docs, "
        f"{start.isoformat()}..{end.isoformat()} (seed {args.seed}) on {couch.base}"
    )
    for a in seeded:
        months = ", ".join(
            f"{name.rsplit('-', 1)[1]}: {n}" for name, n in sorted(a.docs_per_modb.items())
        )
        note = f" ({a.already_present} already there)" if a.already_present else ""
        print(f"\naccount {a.account_id}  {a.name!r}  {a.total_docs} docs{note}")
        print(f"  MoDBs:      {months}")
        queues = ", ".join(f"{q[:8]} {a.queue_names.get(q, '')}".strip() for q in a.queue_ids)
        print(f"  queues:     {queues}")
        people = ", ".join(
            f"{r[:8]} {a.recipient_names.get(r, '')}".strip() for r in a.recipient_ids
        )
        print(f"  recipients: {people}")

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
