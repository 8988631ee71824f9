"""KAZOO time and ids: Gregorian seconds, the MoDB a document lands in, 32-hex ids."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from app.couch import modb

GREGORIAN_OFFSET = 62167219200  # KAZOO Gregorian seconds - Unix seconds
DAY = 86400


def random_hex_id(rng: random.Random) -> str:
    """A KAZOO-style id: 32 lowercase hex digits drawn from ``rng``."""
    return f"{rng.getrandbits(128):032x}"


def to_gregorian(moment: datetime) -> int:
    return int(moment.timestamp()) + GREGORIAN_OFFSET


def from_gregorian(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds - GREGORIAN_OFFSET, tz=UTC)


def modb_month(doc: dict[str, Any]) -> tuple[int, int]:
    """(year, month) of the MoDB a document belongs to: the UTC month it was written
    (``pvt_created``: when a session exited, when a call_stat or status_stat was archived)."""
    moment = from_gregorian(doc["pvt_created"])
    return moment.year, moment.month


def archived_as(pvt_type: str, account_id: str, archived: int) -> dict[str, Any]:
    """The private fields KAZOO's archiver stamps on a document archived at ``archived``
    (Gregorian seconds), into the MoDB of that month."""
    month = from_gregorian(archived)
    return {
        "pvt_type": pvt_type,
        "pvt_account_id": account_id,
        "pvt_account_db": modb.encode(modb.modb(account_id, month.year, month.month)),
        "pvt_created": archived,
        "pvt_modified": archived,
    }
