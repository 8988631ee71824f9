"""Parse a view answer a batch of rows at a time, into small typed rows.

A report folds each answer into its sums as it arrives (:mod:`app.merge`), so it never needs
all of an answer's rows at once: parsed whole, an answer of 160k hourly rows is ~65 MB of
dicts and lists next to its 13 MB of text (issue 11, flat memory). CouchDB 3 writes a
reduced view's rows one per line (``{"rows":[\\r\\n`` row ``,\\r\\n`` row ... ``\\r\\n]}``);
JSON strings cannot hold a raw CR or LF, so cutting the text at ``,\\r\\n`` never cuts a
string, and a cut anywhere else inside a row would leave a batch that does not parse. Each
batch of about :data:`BATCH_BYTES` is decoded by msgspec straight into :class:`ViewRow`
structs (no dict per row, no cyclic-GC tracking: decoding stays cheap however many objects
the process holds) and dropped once folded. An answer framed any other way (another server,
an error) is parsed whole, and one that is not a view answer fails as a failing CouchDB
would, never as an empty report.

A map-only answer (``reduce=false``: the agent_states report's status events) is framed the
same way after its ``{"total_rows":N,"offset":M,`` head; its rows carry the document id too,
which :class:`EventRow` leaves undecoded.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec

from app.couch.client import CouchUnavailable

BATCH_BYTES = 256 * 1024  # ~3,000 rows: what a report holds parsed at a time, per answer
HEAD = b'{"rows":[\r\n'
ROWS = b'"rows":[\r\n'  # where the rows begin, after a map-only answer's counts
HEAD_MAX = 96  # '{"total_rows":<n>,"offset":<n>,' is never longer
SEP = b",\r\n"
TAIL = b"\r\n]}"


class ViewRow(msgspec.Struct, gc=False):
    """One reduced row: its group key, and its value (a ``_sum`` array, a ``_stats`` object
    or a number). Elements keep their JSON types (ids and days str, hours int)."""

    key: tuple[Any, ...]
    value: tuple[Any, ...] | dict[str, Any] | float


class _Answer(msgspec.Struct, gc=False):
    rows: list[ViewRow]


class EventRow(msgspec.Struct, gc=False):
    """One row of the map-only ``agent_events`` view: ``[agent_id, timestamp, code]``."""

    key: tuple[str, int, int]


class _Events(msgspec.Struct, gc=False):
    rows: list[EventRow]


_BATCH = msgspec.json.Decoder(list[ViewRow])
_WHOLE = msgspec.json.Decoder(_Answer)
_EVENT_BATCH = msgspec.json.Decoder(list[EventRow])
_EVENT_WHOLE = msgspec.json.Decoder(_Events)


def row_batches(raw: bytes, batch_bytes: int = BATCH_BYTES) -> Iterator[list[ViewRow]]:
    """The answer's rows in order, in batches; :class:`CouchUnavailable` if it has none."""
    return _batches(raw, batch_bytes, _BATCH, _WHOLE)


def event_batches(raw: bytes, batch_bytes: int = BATCH_BYTES) -> Iterator[list[EventRow]]:
    """The rows of a map-only ``agent_events`` answer in order, in batches."""
    return _batches(raw, batch_bytes, _EVENT_BATCH, _EVENT_WHOLE)


def _batches(
    raw: bytes, batch_bytes: int, batch: msgspec.json.Decoder[Any], whole: msgspec.json.Decoder[Any]
) -> Iterator[Any]:
    end = raw.rfind(TAIL)
    head = raw.find(ROWS, 0, HEAD_MAX)
    if not raw.startswith(b"{") or head < 0 or end < 0 or raw[end + len(TAIL) :].strip():
        yield _whole(raw, whole)
        return
    start = head + len(ROWS)
    cuts = []
    while start < end:
        cut = raw.find(SEP, min(start + batch_bytes, end), end)
        cut = end if cut < 0 else cut
        cuts.append((start, cut))
        start = cut + len(SEP)
    try:
        for a, b in cuts:
            yield batch.decode(b"[" + raw[a:b] + b"]")
    except msgspec.DecodeError:
        raise CouchUnavailable("CouchDB answered a view query that does not parse") from None


def _whole(raw: bytes, whole: msgspec.json.Decoder[Any]) -> Any:
    try:
        return whole.decode(raw).rows
    except msgspec.DecodeError:
        raise CouchUnavailable("CouchDB answered a view query without rows") from None
