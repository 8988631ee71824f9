"""When a report should come back while CouchDB builds its index: the month and the
``Retry-After`` of the 503 "index being built" (:data:`app.errors.INDEX_BUILDING`)."""

from __future__ import annotations

from app.couch.client import IndexState
from app.couch.modb import parse_db_name

# Changes per second CouchDB indexes on 2 cores (COUCH_FACTS.md: ~60 s per 62k documents):
# only to suggest when to come back; the build itself is never waited for.
INDEX_RATE = 1000
RETRY_MIN, RETRY_MAX = 2, 300
BAR = 20


def month_of(db: str) -> str:
    """``YYYY-MM`` of a MoDB name (the client knows its account; the name is not shown)."""
    parsed = parse_db_name(db)
    if parsed is None or parsed[1] is None:
        return "unknown month"
    return f"{parsed[1]:04d}-{parsed[2]:02d}"


def retry_after(state: IndexState) -> int:
    """Seconds until the build is likely done, from the changes it still has to index."""
    if state.db_seq is not None and state.indexed_seq is not None:
        remaining = max(0, state.db_seq - state.indexed_seq)
    elif state.progress is not None and state.db_seq:
        remaining = state.db_seq * (100 - state.progress) // 100
    else:
        remaining = INDEX_RATE * 10
    return max(RETRY_MIN, min(RETRY_MAX, -(-remaining // INDEX_RATE)))
