"""View answers of closed months, kept in memory while their MoDB is unchanged.

A month's MoDB stops changing once the month is over, so the answer to a view query over it
is reusable for as long as the database's ``update_seq`` stays the same: a repeated report
over past months then costs one small ``GET /{db}`` per month instead of a view query. The
answers are kept as CouchDB sent them (compact JSON bytes, parsed again on use) and bounded
in bytes; the least recently used go first.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import orjson


class ViewCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[bytes, tuple[Any, bytes]] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(db: str, view: str, params: dict[str, Any]) -> bytes:
        return orjson.dumps([db, view, params], option=orjson.OPT_SORT_KEYS)

    def get(self, key: bytes, seq: Any) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] != seq:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry[1]

    def put(self, key: bytes, seq: Any, answer: bytes) -> None:
        if len(answer) > self.max_bytes:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= len(old[1])
        self._entries[key] = (seq, answer)
        self._bytes += len(answer)
        while self._bytes > self.max_bytes:
            _, (_, evicted) = self._entries.popitem(last=False)
            self._bytes -= len(evicted)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        """Bytes held."""
        return self._bytes
