"""A small bounded cache whose entries expire: what the account tree and the names endpoint
keep of CouchDB documents for a few seconds."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from enum import Enum
from typing import Final, Generic, Literal, TypeVar


class _Miss(Enum):
    MISS = "miss"


MISS: Final = _Miss.MISS  # what :meth:`TtlCache.get` answers for no live entry (None is a value)
V = TypeVar("V")


class TtlCache(Generic[V]):
    """Values kept ``ttl`` seconds, at most ``max_entries`` (the oldest written go first:
    they are the first to expire anyway). ``ttl <= 0`` keeps nothing."""

    def __init__(
        self, ttl: float, max_entries: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()

    def get(self, key: Hashable, now: float) -> V | Literal[_Miss.MISS]:
        hit = self._entries.get(key)
        return hit[1] if hit is not None and hit[0] > now else MISS

    def put(self, key: Hashable, value: V, now: float) -> None:
        """Remember ``value`` until ``now + ttl`` (``now``: when it was asked for)."""
        if self.ttl <= 0:
            return
        self._entries.pop(key, None)
        self._entries[key] = (now + self.ttl, value)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
