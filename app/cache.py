"""Reduced rows of closed months, kept in memory while their MoDB is unchanged.

A month's MoDB stops changing once the month is over, so the rows of a query over it are
reusable for as long as the database's ``update_seq`` stays the same: a repeated report
over past months then costs one small ``GET /{db}`` per month instead of a view query. The
bound is on rows held in total; the least recently used entries go first.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import orjson

Rows = list[dict[str, Any]]


class RowCache:
    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows
        self._entries: OrderedDict[bytes, tuple[Any, Rows]] = OrderedDict()
        self._rows = 0
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(db: str, view: str, params: dict[str, Any]) -> bytes:
        return orjson.dumps([db, view, params], option=orjson.OPT_SORT_KEYS)

    def get(self, key: bytes, seq: Any) -> Rows | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] != seq:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry[1]

    def put(self, key: bytes, seq: Any, rows: Rows) -> None:
        if len(rows) > self.max_rows:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self._rows -= len(old[1])
        self._entries[key] = (seq, rows)
        self._rows += len(rows)
        while self._rows > self.max_rows:
            _, (_, evicted) = self._entries.popitem(last=False)
            self._rows -= len(evicted)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def rows(self) -> int:
        return self._rows
