"""Names people and queues are known by: callers' caller id, users, queue documents."""

from __future__ import annotations

import random

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


def person_names(rng: random.Random, n: int) -> list[tuple[str, str]]:
    """``n`` distinct (first, last) names."""
    pairs = [(f, last) for f in FIRST_NAMES for last in LAST_NAMES]
    if n <= len(pairs):
        return rng.sample(pairs, n)
    return [(*pairs[i % len(pairs)][:1], f"{pairs[i % len(pairs)][1]} {i}") for i in range(n)]


def queue_name(i: int) -> str:
    base = QUEUE_NAMES[i % len(QUEUE_NAMES)]
    return base if i < len(QUEUE_NAMES) else f"{base} {i // len(QUEUE_NAMES) + 1}"
