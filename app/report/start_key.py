"""``start_key`` / ``next_start_key`` (CONTRACT.md 8c): a row's place in the report's order,
as an opaque string the service makes and checks strictly.

A place is ``(entity, timestamp, tie, id, n)``: visits ``(queue, entered, "", doc id, 0)``,
offers ``(recipient, offered, "", doc id, offer's place)``, intervals ``(agent, event
timestamp, status, doc id, 0)`` (7b orders an agent's events of one second by status name).
Rows compare as these tuples do, so a page goes on strictly after the last row shown, by
value, not by count: rows written between two pages are neither repeated nor skipped past.
The text is base64url of the JSON ``[1, report, *place]``; anything else, or a key of
another report, is not ours: :class:`NotOurs`.
"""

from __future__ import annotations

import base64
import binascii

import msgspec

VERSION = 1
MAX_TIMESTAMP = 2**37  # CONTRACT.md 2c
MAX_TEXT = 512  # a key we made is far shorter

Place = tuple[str, int, str, str, int]


class NotOurs(ValueError):
    """A start_key this service did not make."""


_DECODE = msgspec.json.Decoder(tuple[int, str, str, int, str, str, int])


def encode(report: str, place: Place) -> str:
    raw = msgspec.json.encode([VERSION, report, *place])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode(report: str, text: object) -> Place:
    """The place ``text`` stands for in ``report``, or :class:`NotOurs`."""
    if not isinstance(text, str) or not 0 < len(text) <= MAX_TEXT:
        raise NotOurs(text)
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        version, name, entity, at, tie, doc_id, n = _DECODE.decode(raw)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise NotOurs(text) from None
    place = (entity, at, tie, doc_id, n)
    if version != VERSION or name != report or not entity or not 0 <= at <= MAX_TIMESTAMP:
        raise NotOurs(text)
    if n < 0 or encode(report, place) != text:  # one text per place: no aliases
        raise NotOurs(text)
    return place
