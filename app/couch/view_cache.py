"""View answers of closed months, kept in memory while their MoDB is unchanged.

A month's MoDB stops changing once the month is over, so the answer to a view query over it
is reusable for as long as the database's data stays the same: a repeated report over past
months then costs one small ``GET /{db}`` per month instead of a view query. "The same" is the
*number* of ``update_seq`` (:func:`app.couch.seq_number`): on one node that is the whole
value; on a cluster the string ``"<number>-<opaque>"`` changes between calls with no writes
(the opaque part names which copies answered) while the number changes only with data.

Staleness is bounded on a cluster: a write reaches the copies of a shard range one after the
other, so for a moment a read may see a number that does not count it yet. Every entry is
therefore also dropped ``ttl`` seconds after it was stored (``QUBICLE_REPORTS_CACHE_TTL``):
a late write to a closed month shows within ``ttl`` seconds even if every seq read so far
missed it. The answers are kept as CouchDB sent them (compact JSON bytes, parsed again on use)
and bounded in bytes; the least recently used go first.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

import orjson

from app.couch.index_state import seq_number


class ViewCache:
    def __init__(self, max_bytes: int, ttl: float = 600.0) -> None:
        self.max_bytes = max_bytes
        self.ttl = ttl
        # key -> (seq number, expires at (monotonic), answer)
        self._entries: OrderedDict[bytes, tuple[int | None, float, bytes]] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    @staticmethod
    def key(db: str, view: str, params: dict[str, Any]) -> bytes:
        return orjson.dumps([db, view, params], option=orjson.OPT_SORT_KEYS)

    def get(self, key: bytes, seq: Any) -> bytes | None:
        entry = self._entries.get(key)
        number = seq_number(seq)
        if entry is None or number is None or entry[0] != number:
            self.misses += 1
            return None
        if entry[1] <= time.monotonic():
            self._drop(key)
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry[2]

    def put(self, key: bytes, seq: Any, answer: bytes) -> None:
        number = seq_number(seq)
        if len(answer) > self.max_bytes or number is None:
            return
        self._drop(key)
        self._entries[key] = (number, time.monotonic() + self.ttl, answer)
        self._bytes += len(answer)
        while self._bytes > self.max_bytes:
            _, (_, _, evicted) = self._entries.popitem(last=False)
            self._bytes -= len(evicted)
            self.evictions += 1

    def _drop(self, key: bytes) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= len(old[2])

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        """Bytes held."""
        return self._bytes

    def stats(self) -> dict[str, int]:
        """What ``/metrics`` exports (app.telemetry)."""
        return {
            "hits": self.hits,
            "misses": self.misses,
            "evictions": self.evictions,
            "bytes": self._bytes,
            "entries": len(self._entries),
        }
