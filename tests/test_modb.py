"""KAZOO database naming (CONTRACT.md section 1) and the month databases a report reads."""

from __future__ import annotations

from datetime import date

import pytest

from app.couch.modb import (
    MonthDb,
    account_db,
    encode,
    is_account_id,
    modb,
    modbs_for_range,
    parse_db_name,
    raw_modb,
)

# 32 lowercase hex digits, written out by hand so the expected names below can be too
ACCOUNT = "4fe2a1c0b7d94e3f8a6c5d2e1f0a98d0"
REST = "a1c0b7d94e3f8a6c5d2e1f0a98d0"  # ACCOUNT without its first four characters


def test_account_fixture_is_32_lowercase_hex() -> None:
    assert len(ACCOUNT) == 32 and ACCOUNT.lower() == ACCOUNT
    assert ACCOUNT[4:] == REST


# --- account id validation ---------------------------------------------------------------


def test_is_account_id_accepts_32_lowercase_hex() -> None:
    assert is_account_id(ACCOUNT)
    assert is_account_id("0" * 32)
    assert is_account_id("f" * 32)


@pytest.mark.parametrize(
    "value",
    [
        ACCOUNT.upper(),  # uppercase
        ACCOUNT[:-1] + "D",  # one uppercase hex digit
        ACCOUNT[:31],  # 31 characters
        ACCOUNT + "0",  # 33 characters
        ACCOUNT[:31] + "g",  # non-hex letter
        ACCOUNT[:31] + "-",  # punctuation
        ACCOUNT[:30] + "/x",  # a path separator
        ACCOUNT + "\n",  # trailing newline must not sneak past an anchored regex
        " " + ACCOUNT[1:],  # leading space
        "",
    ],
    ids=[
        "uppercase",
        "one-uppercase-digit",
        "31-chars",
        "33-chars",
        "non-hex-letter",
        "punctuation",
        "slash",
        "trailing-newline",
        "leading-space",
        "empty",
    ],
)
def test_is_account_id_rejects_malformed_strings(value: str) -> None:
    assert not is_account_id(value)


@pytest.mark.parametrize(
    "value",
    [None, 123, 0x4FE2A1C0, ACCOUNT.encode(), [ACCOUNT], {"id": ACCOUNT}],
    ids=["none", "int", "hex-int", "bytes", "list", "dict"],
)
def test_is_account_id_rejects_non_strings(value: object) -> None:
    assert not is_account_id(value)


@pytest.mark.parametrize("bad", [ACCOUNT.upper(), ACCOUNT[:31], ACCOUNT + "0", "../" * 11, None])
def test_every_name_builder_refuses_a_malformed_account_id(bad: object) -> None:
    with pytest.raises(ValueError):
        account_db(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        modb(bad, 2024, 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        raw_modb(bad, 2024, 3)  # type: ignore[arg-type]


@pytest.mark.parametrize("year,month", [(2024, 0), (2024, 13), (0, 1), (10000, 1), (2024, -1)])
def test_modb_refuses_an_impossible_month(year: int, month: int) -> None:
    with pytest.raises(ValueError):
        modb(ACCOUNT, year, month)


# --- the three name forms (CONTRACT.md section 1 table) ----------------------------------


def test_raw_modb_is_account_id_dash_yyyymm() -> None:
    assert raw_modb(ACCOUNT, 2024, 3) == "4fe2a1c0b7d94e3f8a6c5d2e1f0a98d0-202403"


def test_unencoded_modb_splits_the_id_as_account_slash_2_slash_2_slash_rest() -> None:
    assert modb(ACCOUNT, 2024, 3) == "account/4f/e2/a1c0b7d94e3f8a6c5d2e1f0a98d0-202403"


def test_encoded_modb_writes_each_slash_as_percent_2f() -> None:
    assert (
        encode(modb(ACCOUNT, 2024, 3)) == "account%2F4f%2Fe2%2Fa1c0b7d94e3f8a6c5d2e1f0a98d0-202403"
    )


def test_account_db_is_the_modb_name_without_the_month_suffix() -> None:
    assert account_db(ACCOUNT) == "account/4f/e2/a1c0b7d94e3f8a6c5d2e1f0a98d0"
    assert modb(ACCOUNT, 2024, 3) == account_db(ACCOUNT) + "-202403"
    assert encode(account_db(ACCOUNT)) == "account%2F4f%2Fe2%2Fa1c0b7d94e3f8a6c5d2e1f0a98d0"


def test_month_and_year_are_zero_padded() -> None:
    assert raw_modb(ACCOUNT, 987, 1) == ACCOUNT + "-098701"
    assert modb(ACCOUNT, 2025, 12).endswith("/" + REST + "-202512")


def test_encode_leaves_no_slash_behind() -> None:
    encoded = encode(modb(ACCOUNT, 2024, 3))
    assert "/" not in encoded
    assert encoded.count("%2F") == 3


# --- parse_db_name -----------------------------------------------------------------------


@pytest.mark.parametrize("year,month", [(2024, 3), (2023, 12), (2025, 1), (1, 1), (9999, 12)])
def test_parse_db_name_round_trips_a_month_database(year: int, month: int) -> None:
    assert parse_db_name(modb(ACCOUNT, year, month)) == (ACCOUNT, year, month)


def test_parse_db_name_round_trips_the_account_database_without_a_month() -> None:
    assert parse_db_name(account_db(ACCOUNT)) == (ACCOUNT, None, None)


def test_parse_db_name_reads_a_hand_written_all_dbs_entry() -> None:
    assert parse_db_name("account/4f/e2/a1c0b7d94e3f8a6c5d2e1f0a98d0-202403") == (
        ACCOUNT,
        2024,
        3,
    )


@pytest.mark.parametrize(
    "name",
    [
        "_users",
        "_replicator",
        "_global_changes",
        "account/../../_users",
        "account/4f/e2/../a1c0b7d94e3f8a6c5d2e1f0a98d0",
        "account/4f/e2/a1c0b7d94e3f8a6c5d2e1f0a98d0/../../x",
        "account/../e2/a1c0b7d94e3f8a6c5d2e1f0a98d0-202403",
        "account/4f/e2/a1c0b7d94e3f8a6c5d2e1f0a98d0-202403/..",
        "account%2F4f%2Fe2%2Fa1c0b7d94e3f8a6c5d2e1f0a98d0-202403",  # encoded, not _all_dbs form
        "4fe2a1c0b7d94e3f8a6c5d2e1f0a98d0-202403",  # raw form
        "account/4F/E2/A1C0B7D94E3F8A6C5D2E1F0A98D0-202403",  # uppercase
        "account/4f/e2/a1c0b7d94e3f8a6c5d2e1f0a98d-202403",  # one hex digit short
        "account/4f/e2/a1c0b7d94e3f8a6c5d2e1f0a98d0-20243",  # 5-digit month suffix
        "account/4f/e2/a1c0b7d94e3f8a6c5d2e1f0a98d0-202403\n",
        "xaccount/4f/e2/a1c0b7d94e3f8a6c5d2e1f0a98d0-202403",
        "account/4f/e2/a1c0b7d94e3f8a6c5d2e1f0a98d0-202403-202404",
        "",
    ],
)
def test_parse_db_name_rejects_system_traversal_and_foreign_names(name: str) -> None:
    assert parse_db_name(name) is None


# --- modbs_for_range ---------------------------------------------------------------------


def _months(dbs: list[MonthDb]) -> list[tuple[int, int]]:
    return [(d.year, d.month) for d in dbs]


def test_modbs_for_range_across_a_year_boundary_adds_the_month_after() -> None:
    dbs = modbs_for_range(ACCOUNT, date(2023, 12, 15), date(2024, 1, 10))
    assert _months(dbs) == [(2023, 12), (2024, 1), (2024, 2)]
    assert [d.name for d in dbs] == [
        "account/4f/e2/a1c0b7d94e3f8a6c5d2e1f0a98d0-202312",
        "account/4f/e2/a1c0b7d94e3f8a6c5d2e1f0a98d0-202401",
        "account/4f/e2/a1c0b7d94e3f8a6c5d2e1f0a98d0-202402",
    ]


def test_modbs_for_a_single_day_at_month_end_is_that_month_and_the_next() -> None:
    assert _months(modbs_for_range(ACCOUNT, date(2024, 2, 29), date(2024, 2, 29))) == [
        (2024, 2),
        (2024, 3),
    ]


def test_modbs_for_the_last_day_of_december_roll_into_next_years_january() -> None:
    assert _months(modbs_for_range(ACCOUNT, date(2024, 12, 31), date(2024, 12, 31))) == [
        (2024, 12),
        (2025, 1),
    ]


def test_modbs_for_a_single_day_mid_month_still_include_the_next_month() -> None:
    assert _months(modbs_for_range(ACCOUNT, date(2024, 6, 10), date(2024, 6, 10))) == [
        (2024, 6),
        (2024, 7),
    ]


def test_modbs_for_an_empty_range_is_empty() -> None:
    assert modbs_for_range(ACCOUNT, date(2024, 3, 2), date(2024, 3, 1)) == []


def test_modbs_for_range_refuses_a_malformed_account_id() -> None:
    with pytest.raises(ValueError):
        modbs_for_range(ACCOUNT.upper(), date(2024, 1, 1), date(2024, 1, 2))


@pytest.mark.parametrize(
    "first,last",
    [
        (date(2024, 1, 1), date(2024, 1, 31)),
        (date(2023, 11, 30), date(2024, 2, 1)),
        (date(2022, 12, 31), date(2024, 1, 1)),
        (date(2024, 2, 1), date(2024, 12, 31)),
        (date(2024, 12, 1), date(2024, 12, 1)),
    ],
)
def test_modbs_for_range_is_every_month_of_the_range_plus_the_month_after_the_last(
    first: date, last: date
) -> None:
    # independent month arithmetic: count months as year * 12 + (month - 1)
    lo = first.year * 12 + first.month - 1
    hi = last.year * 12 + last.month - 1 + 1  # the month after the last one
    expected = [(n // 12, n % 12 + 1) for n in range(lo, hi + 1)]
    dbs = modbs_for_range(ACCOUNT, first, last)
    assert _months(dbs) == expected
    assert [d.name for d in dbs] == [modb(ACCOUNT, y, m) for y, m in expected]
    assert all(parse_db_name(d.name) == (ACCOUNT, d.year, d.month) for d in dbs)
