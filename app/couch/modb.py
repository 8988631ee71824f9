"""KAZOO database naming and the month databases a report touches (CONTRACT.md section 1).

Kept in one place, as KAZOO keeps it in ``kz_util``/``kazoo_modb``: every other module asks
here for a database name, so no input can reach a database that is not an account's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

ACCOUNT_ID_RE = re.compile(r"^[0-9a-f]{32}$")
# unencoded account or month database, as `_all_dbs` lists it
ACCOUNT_DB_RE = re.compile(
    r"^account/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{28})(?:-(\d{4})(\d{2}))?$"
)


def is_account_id(value: object) -> bool:
    return isinstance(value, str) and ACCOUNT_ID_RE.fullmatch(value) is not None


def _checked(account_id: str) -> str:
    if not is_account_id(account_id):
        raise ValueError(f"not an account id: {account_id!r}")
    return account_id


def account_db(account_id: str) -> str:
    """Unencoded account database name: ``account/ab/cd/<rest>``."""
    a = _checked(account_id)
    return f"account/{a[:2]}/{a[2:4]}/{a[4:]}"


def modb(account_id: str, year: int, month: int) -> str:
    """Unencoded month database name: ``account/ab/cd/<rest>-YYYYMM``."""
    if not (1 <= month <= 12 and 1 <= year <= 9999):
        raise ValueError(f"bad month {year}-{month}")
    return f"{account_db(account_id)}-{year:04d}{month:02d}"


def raw_modb(account_id: str, year: int, month: int) -> str:
    """Raw form ``<account_id>-YYYYMM`` used in logs and by KAZOO internally."""
    return f"{_checked(account_id)}-{year:04d}{month:02d}"


def encode(db_name: str) -> str:
    """Encoded form for a URL path: slashes as ``%2F``."""
    return db_name.replace("/", "%2F")


@dataclass(frozen=True, order=True)
class MonthDb:
    year: int
    month: int
    name: str  # unencoded


def parse_db_name(name: str) -> tuple[str, int | None, int | None] | None:
    """Split an unencoded account/month database name into (account id, year, month)."""
    m = ACCOUNT_DB_RE.fullmatch(name)
    if m is None:
        return None
    account_id = m.group(1) + m.group(2) + m.group(3)
    if m.group(4) is None:
        return account_id, None, None
    return account_id, int(m.group(4)), int(m.group(5))


def months_between(first: date, last: date) -> Iterator[tuple[int, int]]:
    """(year, month) from the month of ``first`` to the month of ``last``, inclusive."""
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        yield y, m
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def modbs_for_range(account_id: str, first_utc_day: date, last_utc_day: date) -> list[MonthDb]:
    """Month databases holding the visits that entered between two UTC days, inclusive.

    A visit is stored in the MoDB of the month it *left* the queue, so the month after the
    last one is included: a call entering on the last evening of the range may sit there.
    """
    if first_utc_day > last_utc_day:
        return []
    months = list(months_between(first_utc_day, last_utc_day))
    months.append(next_month(*months[-1]))
    return [MonthDb(y, m, modb(account_id, y, m)) for y, m in months]
