"""Who answers which queue: each queue's traits and its overlapping subset of the people,
for both shapes (a Qubicle queue's recipients, an ACDC queue's agents)."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class QubicleQueue:
    queue_id: str
    weight: float
    timeout: int  # seconds until a visit times out
    first_offer_mean: float  # mean seconds before the first recipient rings
    abandon_mean: float  # mean patience of callers who hang up
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class AcdcQueue:
    """An ACDC queue's settings (crossbar ``queues`` schema) and the agents logged into it."""

    queue_id: str
    weight: float
    connection_timeout: int  # seconds before a waiting caller is dropped (member_timeout)
    agent_ring_timeout: int  # seconds an agent rings before the next is tried
    ring_simultaneously: int  # agents rung at once; the losers of the race get LOSE_RACE
    first_ring_mean: float  # mean seconds before an agent is free to ring
    abandon_mean: float  # mean patience of callers who hang up
    agents: tuple[str, ...]


def _members(rng: random.Random, queue_ids: list[str], people: list[str]) -> list[list[str]]:
    """Each queue's members: 40-80 % of the people, and nobody left without a queue."""
    if not queue_ids or not people:
        raise ValueError("need at least one queue and one recipient")
    n = len(people)
    subsets: list[list[str]] = []
    for _ in queue_ids:
        size = max(1, min(n, round(n * rng.uniform(0.4, 0.8))))
        subsets.append(rng.sample(people, size))
    for p in people:
        if not any(p in s for s in subsets):
            subsets[rng.randrange(len(subsets))].append(p)
    return subsets


def plan_qubicle_queues(
    rng: random.Random, queue_ids: list[str], recipient_ids: list[str]
) -> list[QubicleQueue]:
    """Per-queue traits of a Qubicle account."""
    subsets = _members(rng, queue_ids, recipient_ids)
    return [
        QubicleQueue(
            queue_id=q,
            weight=rng.uniform(0.5, 2.0),
            timeout=rng.choice((120, 180, 300, 600)),
            first_offer_mean=rng.uniform(10.0, 60.0),
            abandon_mean=rng.uniform(30.0, 120.0),
            recipients=tuple(subsets[i]),
        )
        for i, q in enumerate(queue_ids)
    ]


def plan_acdc_queues(
    rng: random.Random, queue_ids: list[str], agent_ids: list[str]
) -> list[AcdcQueue]:
    """Per-queue settings of an ACDC account. The first queue with two agents or more rings
    two at once, so LOSE_RACE misses always occur."""
    subsets = _members(rng, queue_ids, agent_ids)
    simultaneous = next((i for i, s in enumerate(subsets) if len(s) >= 2), None)
    queues = []
    for i, q in enumerate(queue_ids):
        ring_at_once = 2 if i == simultaneous else rng.choice((1, 1, 1, 2))
        queues.append(
            AcdcQueue(
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
