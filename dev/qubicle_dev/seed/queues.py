"""Who answers which queue, and how each queue behaves: one plan per queue for both shapes
(a Qubicle queue's recipients, an ACDC queue's agents), as the account's queue documents
describe it and as the floor (:mod:`.floor`) routes its calls."""

from __future__ import annotations

import random
from dataclasses import dataclass

QUBICLE, ACDC = "qubicle", "acdc"
WRAPUP_CHOICES = (30, 45, 60, 90)  # an ACDC queue's agent_wrapup_time, seconds


@dataclass(frozen=True)
class QueuePlan:
    """A queue's settings (crossbar ``queues`` schema) and the people who take its calls."""

    queue_id: str
    shape: str  # QUBICLE: its visits are qubicle_sessions; ACDC: call_stats and status_stats
    weight: float  # its share of the account's callers
    timeout: int  # seconds before a waiting caller is dropped (Qubicle timeout, ACDC
    # connection_timeout: member_timeout)
    ring_timeout: int  # seconds an agent rings before the call goes to the next
    ring_at_once: int  # agents rung at once (ACDC ring_simultaneously); losers: LOSE_RACE
    wrapup: int  # planned wrap-up (ACDC agent_wrapup_time); Qubicle records none: 0
    abandon_mean: float  # median patience of callers, beyond the first few seconds
    members: tuple[str, ...]


def _members(rng: random.Random, queue_ids: list[str], people: list[str]) -> list[list[str]]:
    """Each queue's members: 60-100 % of the people, and nobody left without a queue."""
    if not queue_ids or not people:
        raise ValueError("need at least one queue and one recipient")
    n = len(people)
    subsets: list[list[str]] = []
    for _ in queue_ids:
        size = max(1, min(n, round(n * rng.uniform(0.6, 1.0))))
        subsets.append(rng.sample(people, size))
    for p in people:
        if not any(p in s for s in subsets):
            subsets[rng.randrange(len(subsets))].append(p)
    return subsets


def queue_shapes(source: str, count: int) -> list[str]:
    """Which system each queue runs on: all Qubicle, all ACDC, or (``both``) every other
    queue on each, the first on Qubicle, so the shapes share the agents and the floor."""
    if source == QUBICLE:
        return [QUBICLE] * count
    if source == ACDC:
        return [ACDC] * count
    return [QUBICLE if i % 2 == 0 else ACDC for i in range(count)]


def plan_queues(
    rng: random.Random, queue_ids: list[str], people: list[str], source: str
) -> list[QueuePlan]:
    """Per-queue settings. Qubicle rings one recipient at a time; the first ACDC queue with
    two agents or more rings two at once, so LOSE_RACE misses occur."""
    subsets = _members(rng, queue_ids, people)
    shapes = queue_shapes(source, len(queue_ids))
    racing = next((i for i, s in enumerate(subsets) if len(s) >= 2 and shapes[i] == ACDC), None)
    out = []
    for i, q in enumerate(queue_ids):
        weight = rng.uniform(0.5, 2.0)
        patience = rng.uniform(90.0, 180.0)
        if shapes[i] == QUBICLE:
            timeout, ring, at_once, wrapup = rng.choice((120, 180, 300)), 20, 1, 0
        else:
            timeout = rng.choice((180, 300, 600))
            ring = rng.choice((15, 20, 30))
            at_once = 2 if i == racing else rng.choice((1, 1, 1, 2))
            wrapup = rng.choice(WRAPUP_CHOICES)
        out.append(
            QueuePlan(
                queue_id=q,
                shape=shapes[i],
                weight=weight,
                timeout=timeout,
                ring_timeout=ring,
                ring_at_once=min(at_once, len(subsets[i])),
                wrapup=wrapup,
                abandon_mean=patience,
                members=tuple(subsets[i]),
            )
        )
    return out
