"""The demo data generator: deterministic, well-formed, and shaped so that the hard cases
(midnight and month-end straddlers, offers before the answer; for ACDC: calls archived into
the next month, answers after midnight, LOSE_RACE-only misses) really occur. ACDC documents
are checked against KAZOO's archiver (``acdc_stats.erl``) as CONTRACT.md 2b records it.
The generator is pure and needs no server; the batch writer runs against the
CouchDB-protocol server of ``conftest.py``."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import date
from itertools import pairwise

import pytest
import reference as ref
from conftest import Accounts
from reference import GREGORIAN_OFFSET, is_well_formed, utc

from app.couch import modb
from app.couch.client import Couch
from qubicle_dev.seed import _write_batch, generate_sessions, modb_month, plan_account, seed

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
    # a floor of five agents cannot staff every night: its night callers time out
    assert 0.65 < share["answered"] / n < 0.95
    assert 0.03 < share["abandoned"] / n < 0.25
    assert 0.01 < share["timeout"] / n < 0.15
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


# -- ACDC call_stats (CONTRACT.md 2b) and the account database -----------------------------------

ACDC_START = date(2024, 1, 25)  # spans the end of January
ACDC_DAYS = 10


def _acdc(seed: int = 7, source: str = "acdc") -> list[dict]:
    plan = plan_account(seed, 0, queues=3, recipients=5, source=source)
    return list(plan.month_docs(ACDC_START, ACDC_DAYS, CALLS))


@pytest.fixture(scope="module")
def acdc_docs() -> list[dict]:
    return _acdc()


@pytest.fixture(scope="module")
def stats(acdc_docs: list[dict]) -> list[dict]:
    return [d for d in acdc_docs if d["pvt_type"] == "call_stat"]


def _nulls(value: object, path: str = "") -> list[str]:
    if value is None:
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _nulls(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _nulls(v, f"{path}[{i}]")]
    return []


def test_acdc_is_deterministic_and_apart_from_qubicle(acdc_docs: list[dict]) -> None:
    stats = [d for d in acdc_docs if d["pvt_type"] == "call_stat"]
    assert _acdc() == acdc_docs
    assert {d["_id"] for d in _acdc(8)}.isdisjoint({d["_id"] for d in stats})
    qubicle = plan_account(7, 0, queues=3, recipients=5)
    acdc = plan_account(7, 0, queues=3, recipients=5, source="acdc")
    assert qubicle.account_id != acdc.account_id  # both seeded with seed 7 live side by side
    assert set(qubicle.queue_ids).isdisjoint(acdc.queue_ids)
    with pytest.raises(ValueError, match="source"):
        plan_account(7, 0, queues=3, recipients=5, source="cdr")


def test_call_stats_are_archived_as_kazoo_writes_them(stats: list[dict]) -> None:
    plan = plan_account(7, 0, queues=3, recipients=5, source="acdc")
    assert len(stats) > 2 * ACDC_DAYS
    for d in stats:
        assert ref.call_stat(d) is d, d["_id"]
        assert not _nulls(d), d["_id"]  # absent values are omitted, never null
        assert d["_id"] == f"{d['call_id']}::{d['queue_id']}"
        assert HEX32.fullmatch(d["call_id"]) and d["queue_id"] in plan.queue_ids
        assert d["pvt_type"] == "call_stat" and d["pvt_account_id"] == plan.account_id
        entered, misses = d["entered_timestamp"], d["misses"]
        if d["status"] == "processed":
            assert d["agent_id"] in plan.recipient_ids
            assert d["wait_time"] == d["handled_timestamp"] - entered >= 0
            assert d["talk_time"] == d["processed_timestamp"] - d["handled_timestamp"] > 0
            assert d["hung_up_by"] in ("member", "agent")
            assert not {"abandoned_timestamp", "abandoned_reason"} & set(d)
            ended = d["processed_timestamp"]
            left = d["handled_timestamp"]
        else:
            assert d["status"] == "abandoned"
            assert d["wait_time"] == d["abandoned_timestamp"] - entered > 0
            assert d["abandoned_reason"] in ("member_hangup", "member_timeout", "member_exit")
            assert not {"agent_id", "handled_timestamp", "processed_timestamp"} & set(d)
            assert not {"talk_time", "hung_up_by"} & set(d)
            ended = left = d["abandoned_timestamp"]
        times = [m["timestamp"] for m in misses]
        assert times == sorted(times, reverse=True)  # KAZOO prepends each miss
        assert all(entered < t <= left for t in times)
        assert all(m["agent_id"] in plan.recipient_ids for m in misses)
        # archived by the first archiver tick an hour after entering, once the call ended
        archived = d["pvt_created"]
        assert archived == d["pvt_modified"]
        assert 0 <= archived - max(entered + 3600, ended) < 60
        month = utc(archived).strftime("%Y%m")
        assert d["pvt_account_db"] == modb.encode(modb.modb(plan.account_id, *modb_month(d)))
        assert d["pvt_account_db"].endswith(f"-{month}")
    assert len({d["_id"] for d in stats}) == len(stats)


def test_call_stat_outcomes_and_misses_in_realistic_shares(stats: list[dict]) -> None:
    status = Counter(d["status"] for d in stats)
    assert 0.7 < status["processed"] / len(stats) < 0.95
    reasons = Counter(d["abandoned_reason"] for d in stats if d["status"] == "abandoned")
    assert reasons["member_hangup"] > reasons["member_timeout"]
    assert set(reasons) <= {"member_hangup", "member_timeout", "member_exit"}
    assert sum(reasons.values()) == status["abandoned"]
    misses = Counter(m["reason"] for d in stats for m in d["misses"])
    assert misses["timeout"] > misses["rejected"] > 0 and misses["LOSE_RACE"] > 0
    assert any(not d["misses"] for d in stats)
    everything = _acdc(7) + _acdc(8) + _acdc(9)
    assert {"member_hangup", "member_timeout", "member_exit"} <= {
        d.get("abandoned_reason") for d in everything
    }
    assert any(len(d.get("misses", ())) >= 2 for d in everything)
    every_miss = {m["reason"] for d in everything for m in d.get("misses", ())}
    assert every_miss - {"timeout", "rejected", "LOSE_RACE"}  # raw hangup causes too


def test_call_stats_cover_the_hard_cases_every_day(stats: list[dict]) -> None:
    def day(ts: int) -> date:
        return utc(ts).date()

    processed = [d for d in stats if d["status"] == "processed"]
    next_day = {
        day(d["entered_timestamp"])
        for d in processed
        if day(d["handled_timestamp"]) != day(d["entered_timestamp"])
    }
    assert len(next_day) == ACDC_DAYS  # answered after midnight, every day
    race_only = {
        day(d["entered_timestamp"])
        for d in processed
        if d["misses"] and all(m["reason"] == "LOSE_RACE" for m in d["misses"])
    }
    # on the days two of the queue's agents are free at once (not every day of 5 agents)
    assert len(race_only) >= 0.7 * ACDC_DAYS
    # entered in January, archived into February's MoDB
    late = [
        d for d in stats if utc(d["entered_timestamp"]).month == 1 and modb_month(d) == (2024, 2)
    ]
    assert late and all(day(d["entered_timestamp"]) == date(2024, 1, 31) for d in late)


def test_both_is_sessions_and_call_stats_over_the_same_ids() -> None:
    docs = _acdc(source="both")
    plan = plan_account(7, 0, queues=3, recipients=5, source="both")
    kinds = Counter(d["pvt_type"] for d in docs)
    assert kinds["qubicle_session"] > ACDC_DAYS and kinds["call_stat"] > ACDC_DAYS
    assert set(kinds) == {"qubicle_session", "call_stat", "status_stat"}
    assert {d["pvt_account_id"] for d in docs} == {plan.account_id}
    calls = [d for d in docs if d["pvt_type"] != "status_stat"]
    assert {d["queue_id"] for d in calls} == set(plan.queue_ids)
    assert all(ref.is_counted(d) for d in calls)
    sessions = list(plan.sessions(ACDC_START, ACDC_DAYS, CALLS))
    assert [d for d in docs if d["pvt_type"] == "qubicle_session"] == sessions


@pytest.mark.parametrize("source", ["qubicle", "acdc", "both"])
def test_account_database_names_every_queue_and_recipient(source: str) -> None:
    plan = plan_account(7, 0, queues=3, recipients=5, source=source)
    account, *rest = plan.account_db_docs()
    assert account == plan.account_doc()
    queues = {d["_id"]: d for d in rest if d["pvt_type"] == "queue"}
    users = {d["_id"]: d for d in rest if d["pvt_type"] == "user"}
    assert list(queues) == plan.queue_ids and list(users) == plan.recipient_ids
    assert len({q["name"] for q in queues.values()}) == len(queues)
    full = {f"{u['first_name']} {u['last_name']}" for u in users.values()}
    assert len(full) == len(users) and all(
        u["first_name"] and u["last_name"] for u in users.values()
    )
    for d in rest:
        assert d["pvt_account_id"] == plan.account_id
        assert d["pvt_account_db"] == modb.encode(modb.account_db(plan.account_id))
        assert not _nulls(d)
    if source == "qubicle":
        assert all("queues" not in u for u in users.values())
        return
    # an ACDC agent lists the queues it takes calls from
    docs = [d for d in plan.month_docs(ACDC_START, 3, CALLS) if d["pvt_type"] == "call_stat"]
    for d in docs:
        agents = [m["agent_id"] for m in d["misses"]] + [d.get("agent_id")]
        for agent in filter(None, agents):
            assert d["queue_id"] in users[agent]["queues"], (agent, d["_id"])


async def test_seed_writes_exactly_what_the_plan_says(couch: Couch, accounts: Accounts) -> None:
    account_id = accounts.new()
    kwargs = {
        "seed": 5,
        "accounts": 1,
        "queues": 2,
        "recipients": 3,
        "days": 3,
        "calls_per_day": 6,
        "start": date(2024, 2, 28),  # 2024-02-28 .. 03-01: archived into March too
        "progress": False,
        "account_ids": [account_id],
        "source": "both",
    }
    [seeded] = await seed(couch, **kwargs)
    plan = plan_account(5, 0, queues=2, recipients=3, account_id=account_id, source="both")
    want: dict[str, dict[str, dict]] = {}
    for d in plan.month_docs(date(2024, 2, 28), 3, 6):
        want.setdefault(modb.modb(account_id, *modb_month(d)), {})[d["_id"]] = d
    assert seeded.docs_per_modb == {db: len(docs) for db, docs in want.items()}
    assert sum(seeded.docs_per_type.values()) == seeded.total_docs
    assert set(seeded.docs_per_type) == {"qubicle_session", "call_stat", "status_stat"}
    for db, docs in want.items():
        rows = await couch.all_docs(db, include_docs=True)
        stored = {r["id"]: {k: v for k, v in r["doc"].items() if k != "_rev"} for r in rows}
        assert stored == docs
    rows = await couch.all_docs(modb.account_db(account_id), include_docs=True)
    stored = {r["id"]: {k: v for k, v in r["doc"].items() if k != "_rev"} for r in rows}
    assert stored == {d["_id"]: d for d in plan.account_db_docs()}
    assert seeded.queue_names == plan.queue_names()
    again = await seed(couch, **kwargs)
    assert again[0].already_present == seeded.total_docs  # a rerun writes nothing new


# -- ACDC status_stats (CONTRACT.md 7a), consistent with the call_stats --------------------------

STATUSES = {
    "logged_in", "logged_out", "pending_logged_out", "ready", "connecting", "connected",
    "wrapup", "paused", "outbound",
}  # fmt: skip
# the optional fields each status carries (acdc_agent_stats.erl, acdc_stats_util.erl)
STATUS_FIELDS = {
    "connecting": {"call_id", "queue_id", "caller_id_name", "caller_id_number"},
    "connected": {"call_id", "queue_id", "caller_id_name", "caller_id_number"},
    "outbound": {"call_id"},
    "wrapup": {"wait_time"},
    "paused": {"pause_time", "pause_alias"},
}
BASE_FIELDS = {"_id", "agent_id", "timestamp", "status", "pvt_type", "pvt_account_id"}
BASE_FIELDS |= {"pvt_account_db", "pvt_created", "pvt_modified"}
# what may follow each status of one agent (pending_logged_out set aside)
NEXT = {
    "logged_in": {"ready"},
    "ready": {"connecting", "paused", "outbound", "logged_out", "logged_in"},
    "connecting": {"connected", "ready"},
    "connected": {"wrapup"},
    "wrapup": {"ready", "logged_out"},
    "paused": {"ready"},
    "outbound": {"ready"},
    "logged_out": {"logged_in"},
}


@pytest.fixture(scope="module")
def statuses(acdc_docs: list[dict]) -> list[dict]:
    return [d for d in acdc_docs if d["pvt_type"] == "status_stat"]


def _per_agent(statuses: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for d in sorted(statuses, key=lambda d: d["timestamp"]):
        out.setdefault(d["agent_id"], []).append(d)
    return out


def test_status_stats_leave_the_call_stats_as_they_were(stats: list[dict]) -> None:
    """The status events come from a stream of their own: the call_stats of an account are
    the same documents, in the same order, with or without them."""
    plan = plan_account(7, 0, queues=3, recipients=5, source="acdc")
    assert stats == list(plan.call_stats(ACDC_START, ACDC_DAYS, CALLS))
    assert plan.status_stats(ACDC_START, ACDC_DAYS, CALLS) == [
        d for d in _acdc() if d["pvt_type"] == "status_stat"
    ]


def test_status_stats_are_archived_as_kazoo_writes_them(statuses: list[dict]) -> None:
    plan = plan_account(7, 0, queues=3, recipients=5, source="acdc")
    assert len(statuses) > 10 * ACDC_DAYS
    for d in statuses:
        assert d["status"] in STATUSES and d["agent_id"] in plan.recipient_ids
        assert d["_id"] == f"{d['agent_id']}::{d['timestamp']}"
        assert set(d) == BASE_FIELDS | STATUS_FIELDS.get(d["status"], set()), d
        assert not _nulls(d)
        assert isinstance(d["timestamp"], int) and d["pvt_account_id"] == plan.account_id
        archived = d["pvt_created"]
        assert archived == d["pvt_modified"] and 0 <= archived - (d["timestamp"] + 3600) < 60
        assert d["pvt_account_db"] == modb.encode(modb.modb(plan.account_id, *modb_month(d)))
    assert len({d["_id"] for d in statuses}) == len(statuses)
    ticks = {d["pvt_created"] % 60 for d in statuses}
    assert len(ticks) == 1  # one archiver, ticking every minute
    # the last evening of January is archived into February's MoDB
    assert any(utc(d["timestamp"]).month == 1 and modb_month(d) == (2024, 2) for d in statuses)


def test_status_sequences_are_the_agent_fsm_s(statuses: list[dict]) -> None:
    shifts = lost = pending = 0
    for agent, events in _per_agent(statuses).items():
        times = [d["timestamp"] for d in events]
        assert times == sorted(set(times)), agent  # one event per agent and second
        assert events[0]["status"] == "logged_in"
        kept = [d for d in events if d["status"] != "pending_logged_out"]
        pending += len(events) - len(kept)
        for a, b in pairwise(kept):
            assert b["status"] in NEXT[a["status"]], (a, b)
            lost += a["status"] == "ready" and b["status"] == "logged_in"
            if a["status"] == "connecting" and b["status"] == "connected":
                assert (a["call_id"], a["queue_id"]) == (b["call_id"], b["queue_id"])
        shifts += sum(d["status"] == "logged_in" for d in events)
    assert shifts >= ACDC_DAYS and 0 < lost < shifts / 5 and pending > 0


def test_rings_match_the_call_stats(stats: list[dict], statuses: list[dict]) -> None:
    """Each connected/wrapup pair is an answered call_stat of that agent (call, queue,
    handled and processed times); each miss rang the agent and left it ready at the miss's
    timestamp. The floor rings only ready agents, so every ring is a state."""
    calls = {d["call_id"]: d for d in stats}
    answered = missed = 0
    for events in _per_agent(statuses).values():
        for i, d in enumerate(events):
            if d["status"] != "connecting":
                continue
            call = calls[d["call_id"]]
            assert d["queue_id"] == call["queue_id"]
            assert d["caller_id_number"] == call["caller_id_number"]
            assert call["entered_timestamp"] <= d["timestamp"]
            after = events[i + 1]
            if after["status"] == "connected":
                assert call["agent_id"] == d["agent_id"]
                assert after["timestamp"] == call["handled_timestamp"]
                wrapup = next(e for e in events[i + 2 :] if e["status"] == "wrapup")
                assert wrapup["timestamp"] == call["processed_timestamp"]
                answered += 1
            else:
                assert after["status"] == "ready"
                rung = {(m["agent_id"], m["timestamp"]) for m in call["misses"]}
                assert (d["agent_id"], after["timestamp"]) in rung
                missed += 1
    processed = sum(d["status"] == "processed" for d in stats)
    misses = sum(len(d["misses"]) for d in stats)
    assert answered == processed
    assert missed == misses


def test_pauses_wrapups_and_outbound_calls(statuses: list[dict]) -> None:
    plan = plan_account(7, 0, queues=3, recipients=5, source="acdc")
    queue_docs = {d["_id"]: d for d in plan.account_db_docs() if d["pvt_type"] == "queue"}
    paused = [d for d in statuses if d["status"] == "paused"]
    assert {d["pause_alias"] for d in paused} == {"lunch", "break", "training"}
    planned = {"lunch": {1800, 2700}, "break": {600, 900}, "training": {1800, 3600}}
    assert all(d["pause_time"] in planned[d["pause_alias"]] for d in paused)
    assert any(d["status"] == "outbound" for d in statuses)
    # a wrap-up's planned wait_time is its queue's agent_wrapup_time
    for events in _per_agent(statuses).values():
        queue = None
        for d in events:
            if d["status"] == "connected":
                queue = d["queue_id"]
            elif d["status"] == "wrapup":
                assert queue and d["wait_time"] == queue_docs[queue]["agent_wrapup_time"] > 0
