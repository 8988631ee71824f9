"""The demo data generator: deterministic, well-formed, and shaped so that the hard cases
(midnight and month-end straddlers, offers before the answer) really occur. The generator is
pure and needs no server; the batch writer runs against the CouchDB-protocol server of
``conftest.py``."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import date

import pytest
from conftest import Accounts
from reference import GREGORIAN_OFFSET, is_well_formed, utc

from app import modb
from app.couch import Couch
from app.seed import _write_batch, generate_sessions, modb_month, plan_account

START = date(2023, 12, 10)  # spans the end of December and of the year
DAYS = 40
CALLS = 30
HEX32 = re.compile(r"^[0-9a-f]{32}$")


def _generate(seed: int) -> list[dict]:
    plan = plan_account(seed, 0, queues=3, recipients=5)
    return list(plan.sessions(START, DAYS, CALLS))


@pytest.fixture(scope="module")
def docs() -> list[dict]:
    return _generate(7)


def test_same_seed_same_docs(docs: list[dict]) -> None:
    assert _generate(7) == docs


def test_other_seed_other_docs(docs: list[dict]) -> None:
    other = _generate(8)
    assert {d["_id"] for d in other}.isdisjoint({d["_id"] for d in docs})


def test_generate_sessions_is_pure_in_its_rng() -> None:
    args = ("a" * 32, ["b" * 32, "c" * 32], ["d" * 32, "e" * 32, "f" * 32], START, 5, 20)
    first = list(generate_sessions(random.Random(3), *args))
    assert first == list(generate_sessions(random.Random(3), *args))
    assert first != list(generate_sessions(random.Random(4), *args))


def test_plan_ids_are_hex_and_stable() -> None:
    plan = plan_account(7, 0, queues=3, recipients=5)
    assert plan == plan_account(7, 0, queues=3, recipients=5)
    ids = [plan.account_id, *plan.queue_ids, *plan.recipient_ids]
    assert all(HEX32.fullmatch(i) for i in ids)
    assert len(set(ids)) == len(ids)
    assert plan_account(7, 1, queues=3, recipients=5).account_id != plan.account_id
    forced = plan_account(7, 0, queues=3, recipients=5, account_id="0" * 32)
    assert forced.account_id == "0" * 32
    assert forced.queue_ids == plan.queue_ids  # only the account id is overridden


def test_every_doc_is_well_formed(docs: list[dict]) -> None:
    assert len(docs) > DAYS  # more than the one straddler per day
    assert all(is_well_formed(d) for d in docs)


def test_doc_shape_and_ids(docs: list[dict]) -> None:
    plan = plan_account(7, 0, queues=3, recipients=5)
    for d in docs:
        assert HEX32.fullmatch(d["call_id"])
        assert d["_id"] == f"{utc(d['exited_timestamp']):%Y%m}-{d['call_id']}-{d['queue_id']}"
        assert d["pvt_type"] == "qubicle_session"
        assert d["pvt_account_id"] == plan.account_id
        assert d["pvt_created"] == d["exited_timestamp"]
        assert d["queue_id"] in plan.queue_ids
        for o in d["offers"]:
            assert o["recipient_id"] in plan.recipient_ids
    assert len({d["_id"] for d in docs}) == len(docs)


def test_timing_is_consistent(docs: list[dict]) -> None:
    for d in docs:
        entered, exited = d["entered_timestamp"], d["exited_timestamp"]
        assert exited >= entered
        talk = sum(o["call_duration"] for o in d["offers"])
        assert exited == entered + d["wait_time"] + talk
        for o in d["offers"]:
            assert entered < o["offered_timestamp"] < exited
            assert o["offered_timestamp"] + o["ring_time"] <= entered + d["wait_time"]
        times = [o["offered_timestamp"] for o in d["offers"]]
        assert times == sorted(times)


def test_results_and_offers(docs: list[dict]) -> None:
    for d in docs:
        answered = [o for o in d["offers"] if o["result"] == "answered"]
        if d["result"] == "answered":
            assert len(answered) == 1 and d["offers"][-1] is answered[0]
            assert d["recipient_id"] == answered[0]["recipient_id"]
            assert answered[0]["call_duration"] > 0
            assert d["wait_time"] == (
                answered[0]["offered_timestamp"] + answered[0]["ring_time"] - d["entered_timestamp"]
            )
        else:
            assert not answered and "recipient_id" not in d
            assert all(o["call_duration"] == 0 for o in d["offers"])
    share = Counter(d["result"] for d in docs)
    n = len(docs)
    assert 0.70 < share["answered"] / n < 0.92
    assert 0.07 < share["abandoned"] / n < 0.20
    assert 0.01 < share["timeout"] / n < 0.10
    offers = Counter(o["result"] for d in docs for o in d["offers"])
    assert offers["missed"] > 0 and offers["rejected"] > 0
    assert any(len(d["offers"]) == 0 for d in docs)
    assert any(len(d["offers"]) >= 3 for d in docs)


def test_queues_share_recipients(docs: list[dict]) -> None:
    per_queue: dict[str, set[str]] = {}
    for d in docs:
        per_queue.setdefault(d["queue_id"], set()).update(o["recipient_id"] for o in d["offers"])
    assert len(per_queue) == 3
    assert all(len(r) >= 2 for r in per_queue.values())
    sets = list(per_queue.values())
    assert any(a & b for i, a in enumerate(sets) for b in sets[i + 1 :])


def test_straddles_midnight_and_month_ends(docs: list[dict]) -> None:
    def day(ts: int) -> date:
        return utc(ts).date()

    straddlers = [d for d in docs if day(d["entered_timestamp"]) != day(d["exited_timestamp"])]
    assert len(straddlers) >= DAYS  # one guaranteed per day

    def entered_month(d: dict) -> tuple[int, int]:
        t = utc(d["entered_timestamp"])
        return t.year, t.month

    month_end = [d for d in straddlers if modb_month(d) != entered_month(d)]
    # the range ends 2024-01-18: the one month end it holds is also the year end
    assert {day(d["entered_timestamp"]) for d in month_end} == {date(2023, 12, 31)}
    dec31 = [d for d in month_end if day(d["entered_timestamp"]) == date(2023, 12, 31)]
    assert all(d["_id"].startswith("202401-") for d in dec31)
    # some offers ring after midnight of the day the caller entered
    assert any(
        day(o["offered_timestamp"]) != day(d["entered_timestamp"])
        for d in straddlers
        for o in d["offers"]
    )


def test_weekdays_busier_than_weekends_and_nights_not_empty(docs: list[dict]) -> None:
    per_day = Counter(utc(d["entered_timestamp"]).date() for d in docs)
    weekday = [n for d, n in per_day.items() if d.weekday() < 5]
    weekend = [n for d, n in per_day.items() if d.weekday() >= 5]
    assert sum(weekday) / len(weekday) > 2 * sum(weekend) / len(weekend)
    hours = Counter(utc(d["entered_timestamp"]).hour for d in docs)
    assert sum(hours[h] for h in range(9, 17)) > 0.6 * len(docs)
    assert sum(hours[h] for h in range(0, 6)) > 0


def test_gregorian_seconds() -> None:
    first = _generate(7)[0]
    assert utc(first["entered_timestamp"]).date() == START
    assert first["entered_timestamp"] - GREGORIAN_OFFSET > 0


async def test_write_batch_counts_conflicts_as_already_there(
    couch: Couch, accounts: Accounts
) -> None:
    """A rerun of the same seed meets its own docs: the server answers each of them with a
    per-row conflict, which counts as already there, while the new docs of the batch are
    written."""
    account_id = accounts.new()
    plan = plan_account(7, 0, queues=2, recipients=3, account_id=account_id)
    docs = [d for d in plan.sessions(START, 2, 5) if modb_month(d) == (2023, 12)]
    assert len(docs) >= 4
    db = modb.modb(account_id, 2023, 12)
    await couch.create_db(db)
    earlier = docs[::2]
    assert await _write_batch(couch, db, earlier) == 0
    assert await _write_batch(couch, db, earlier) == len(earlier)  # the same batch again
    assert await _write_batch(couch, db, docs) == len(earlier)  # old and new interleaved
    rows = await couch.all_docs(db, include_docs=True)
    stored = {r["id"]: {k: v for k, v in r["doc"].items() if k != "_rev"} for r in rows}
    assert stored == {d["_id"]: d for d in docs}  # every doc once, as generated
