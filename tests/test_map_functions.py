"""The assembled map functions, run in node with a stub ``emit``: they must emit exactly the
keys and values CONTRACT.md asks for, for both document shapes (``qubicle_session`` and ACDC
``call_stat``), skip every malformed document without throwing, and agree with the
independent Python rules in ``reference.py`` document by document."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, date, datetime
from typing import Any

import pytest
import reference as ref
from reference import good_doc, offer

from app.couch import design_docs
from qubicle_dev.seed import plan_account

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs node")

# Compiles each map source the way a view server does (a function expression) with `emit`
# in scope, runs it on every doc, and reports emits, a thrown error, or a mutated doc.
HARNESS = r"""
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = {};
for (const [name, src] of Object.entries(input.maps)) {
  let emitted = [];
  const emit = (key, value) => { emitted.push([key, value]); };
  const fn = new Function('emit', 'return (' + src + ');')(emit);
  if (typeof fn !== 'function') throw new Error(name + ' is not a function expression');
  out[name] = input.docs.map((doc) => {
    emitted = [];
    const before = JSON.stringify(doc);
    try {
      fn(doc);
      return {emits: emitted, error: null, mutated: JSON.stringify(doc) !== before};
    } catch (e) {
      return {emits: emitted, error: String(e), mutated: false};
    }
  });
}
process.stdout.write(JSON.stringify(out));
"""

ACCOUNT = "a" * 32
QUEUE = "1" * 32
R1 = "b" * 32
R2 = "c" * 32
R3 = "d" * 32
VIEWS = (
    "queue_visits_by_quarter",
    "queue_waits_by_quarter",
    "offers_by_recipient_by_quarter",
    "offers_by_queue_recipient_by_quarter",
)
OFFER_VIEWS = VIEWS[2:]


def band(wait: float) -> list[int]:
    """The wait bands of an answered visit: 1 at the lowest threshold it waited at most."""
    first = next(i for i, t in enumerate(ref.THRESHOLDS) if wait <= t)
    return [0] * first + [1]


def greg(*args: int) -> int:
    """Gregorian seconds of a UTC date-time."""
    return int(datetime(*args, tzinfo=UTC).timestamp()) + ref.GREGORIAN_OFFSET


def run_maps(docs: list[Any]) -> dict[str, list[dict[str, Any]]]:
    maps = {name: view["map"] for name, view in design_docs.load()["views"].items()}
    proc = subprocess.run(
        ["node", "-e", HARNESS],
        input=json.dumps({"maps": maps, "docs": docs}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# A plain answered visit: one missed ring, then answered by the same recipient.
PLAIN = good_doc(
    ACCOUNT,
    QUEUE,
    "c1",
    greg(2024, 3, 15, 10, 7, 30),
    wait=100,
    talk=240,
    offers=[
        offer(R1, greg(2024, 3, 15, 10, 7, 40), "missed", ring=20),
        offer(R1, greg(2024, 3, 15, 10, 9, 0), "answered", ring=10, talk=240),
    ],
    recipient_id=R1,
)
# Enters 23:58 on the last day of March, missed by R1 before midnight, answered by R2 after.
STRADDLER = good_doc(
    ACCOUNT,
    QUEUE,
    "c2",
    greg(2024, 3, 31, 23, 58, 0),
    wait=146,
    talk=900,
    offers=[
        offer(R1, greg(2024, 3, 31, 23, 59, 50), "missed", ring=20),
        offer(R2, greg(2024, 4, 1, 0, 0, 20), "answered", ring=6, talk=900),
    ],
    recipient_id=R2,
)
# Timed out after ringing two recipients three times (two offers from R1 in one quarter).
TWO_RECIPIENTS = good_doc(
    ACCOUNT,
    QUEUE,
    "c3",
    greg(2024, 3, 15, 14, 44, 0),
    result="timeout",
    wait=300,
    offers=[
        offer(R1, greg(2024, 3, 15, 14, 44, 50), "rejected", ring=3),
        offer(R2, greg(2024, 3, 15, 14, 45, 10), "missed", ring=20),
        offer(R1, greg(2024, 3, 15, 14, 46, 0), "missed", ring=20),
    ],
)
# No `offers` field at all: a visit that never rang anyone (counts for the queue only).
NO_OFFERS = good_doc(ACCOUNT, QUEUE, "c4", greg(2024, 3, 15, 9, 0, 1), result="abandoned", wait=7)
del NO_OFFERS["offers"]
# Fractional seconds are fine for durations (only timestamps must be whole seconds).
FLOAT_WAIT = good_doc(
    ACCOUNT,
    QUEUE,
    "c5",
    greg(2024, 3, 15, 9, 30, 0),
    result="abandoned",
    wait=12.5,
)

# ACDC: processed after one timeout miss, one rejected and one LOSE_RACE (nobody's miss),
# handled just after midnight of the day it entered.
ACDC_PROCESSED = ref.good_call_stat(
    ACCOUNT,
    QUEUE,
    "a1",
    greg(2024, 3, 15, 23, 59, 0),
    wait=90,
    talk=300,
    agent_id=R2,
    misses=[
        {"agent_id": R1, "reason": "timeout", "timestamp": greg(2024, 3, 15, 23, 59, 20)},
        {"agent_id": R1, "reason": "rejected", "timestamp": greg(2024, 3, 15, 23, 59, 50)},
        {"agent_id": R3, "reason": "LOSE_RACE", "timestamp": greg(2024, 3, 16, 0, 0, 30)},
    ],
)
ACDC_TIMEOUT = ref.good_call_stat(
    ACCOUNT, QUEUE, "a2", greg(2024, 3, 15, 8, 0, 0), status="abandoned", wait=600,
    abandoned_reason="member_timeout",
)  # fmt: skip
ACDC_HANGUP = ref.good_call_stat(
    ACCOUNT, QUEUE, "a3", greg(2024, 3, 15, 8, 20, 0), status="abandoned", wait=15,
    misses=[{"agent_id": R1, "reason": "NO_ANSWER", "timestamp": greg(2024, 3, 15, 8, 20, 5)}],
)  # fmt: skip
ACDC_ONLY_LOSE_RACE = ref.good_call_stat(
    ACCOUNT, QUEUE, "a4", greg(2024, 3, 15, 8, 40, 0), status="abandoned", wait=20,
    misses=[{"agent_id": R1, "reason": "LOSE_RACE", "timestamp": greg(2024, 3, 15, 8, 40, 5)}],
)  # fmt: skip

JUNK: list[Any] = [None, 42, "qubicle_session", [], {}, {"pvt_type": "qubicle_session"},
                   {"pvt_type": "call_stat"}]  # fmt: skip
MALFORMED = ref.malformed_docs(ACCOUNT, QUEUE, R1, greg(2024, 3, 15, 12, 0, 0))
MALFORMED_ACDC = ref.malformed_call_stats(ACCOUNT, QUEUE, R1, greg(2024, 3, 15, 12, 0, 0))
SEEDED = list(
    plan_account(11, 0, queues=3, recipients=4).sessions(
        date(2024, 2, 27), days=4, calls_per_day=40
    )
)
GOOD = [PLAIN, STRADDLER, TWO_RECIPIENTS, NO_OFFERS, FLOAT_WAIT]
GOOD_ACDC = [ACDC_PROCESSED, ACDC_TIMEOUT, ACDC_HANGUP, ACDC_ONLY_LOSE_RACE]
ALL_DOCS = [*GOOD, *GOOD_ACDC, *JUNK, *MALFORMED, *MALFORMED_ACDC, *SEEDED]


@pytest.fixture(scope="module")
def results() -> dict[str, list[dict[str, Any]]]:
    out = run_maps(ALL_DOCS)
    assert set(out) == {*VIEWS, "agent_events"}
    assert not [r for r in out["agent_events"] if r["emits"] or r["error"] or r["mutated"]]
    return {view: out[view] for view in VIEWS}


def row(results: dict[str, list[dict[str, Any]]], view: str, doc: Any) -> dict[str, Any]:
    """What ``view`` did with ``doc`` (found by identity in ALL_DOCS)."""
    return results[view][next(i for i, d in enumerate(ALL_DOCS) if d is doc)]


def emits(results: dict[str, list[dict[str, Any]]], view: str, doc: Any) -> list[list[Any]]:
    r = row(results, view, doc)
    assert r["error"] is None and not r["mutated"]
    return r["emits"]


def daily(rows: list[list[Any]]) -> list[list[Any]]:
    """Emitted rows with their keys cut after the day (the hour and quarter dropped)."""
    return [[key[:-2], value] for key, value in rows]


# values, trailing zeros dropped: queue [visits, wait, timeouts, abandons, answered wait,
# abandoned wait, wait bands...]; offers [answered, talk, ring, rung, missed, rejected]
MISSED = [0, 0, 0, 0, 1]
REJECTED = [0, 0, 0, 0, 0, 1]


def test_plain_doc(results: dict) -> None:
    # answered after 100 s: the 120 s band (within 120 s and longer, not within 90 s)
    assert emits(results, "queue_visits_by_quarter", PLAIN) == [
        [[QUEUE, "20240315", 10, 0], [1, 100, 0, 0, 100, 0, *band(100)]]
    ]
    assert band(100)[-1] == 1 and len(band(100)) == ref.THRESHOLDS.index(120) + 1
    assert emits(results, "queue_waits_by_quarter", PLAIN) == [[[QUEUE, "20240315", 10, 0], 100]]
    assert daily(emits(results, "offers_by_recipient_by_quarter", PLAIN)) == [
        [[R1, "20240315"], MISSED],
        [[R1, "20240315"], [1, 240, 10, 1]],
    ]
    assert emits(results, "offers_by_queue_recipient_by_quarter", PLAIN) == [
        [[QUEUE, R1, "20240315", 10, 0], MISSED],
        [[QUEUE, R1, "20240315", 10, 0], [1, 240, 10, 1]],
    ]


def test_midnight_straddler_counts_where_it_entered_and_rang(results: dict) -> None:
    assert emits(results, "queue_visits_by_quarter", STRADDLER) == [
        [[QUEUE, "20240331", 23, 3], [1, 146, 0, 0, 146, 0, *band(146)]]
    ]
    assert emits(results, "offers_by_recipient_by_quarter", STRADDLER) == [
        [[R1, "20240331", 23, 3], MISSED],
        [[R2, "20240401", 0, 0], [1, 900, 6, 1]],
    ]
    assert daily(emits(results, "offers_by_queue_recipient_by_quarter", STRADDLER)) == [
        [[QUEUE, R1, "20240331"], MISSED],
        [[QUEUE, R2, "20240401"], [1, 900, 6, 1]],
    ]


def test_offers_from_two_recipients(results: dict) -> None:
    # a timeout: nothing after the timeouts count
    assert emits(results, "queue_visits_by_quarter", TWO_RECIPIENTS) == [
        [[QUEUE, "20240315", 14, 2], [1, 300, 1]]
    ]
    assert emits(results, "offers_by_recipient_by_quarter", TWO_RECIPIENTS) == [
        [[R1, "20240315", 14, 2], REJECTED],
        [[R2, "20240315", 14, 3], MISSED],
        [[R1, "20240315", 14, 3], MISSED],
    ]


def test_visit_without_offers_field(results: dict) -> None:
    # abandoned: its wait counts as abandon time, never as a service-level answer
    assert daily(emits(results, "queue_visits_by_quarter", NO_OFFERS)) == [
        [[QUEUE, "20240315"], [1, 7, 0, 1, 0, 7]]
    ]
    for view in OFFER_VIEWS:
        assert emits(results, view, NO_OFFERS) == []


def test_fractional_wait_is_kept(results: dict) -> None:
    assert emits(results, "queue_visits_by_quarter", FLOAT_WAIT) == [
        [[QUEUE, "20240315", 9, 2], [1, 12.5, 0, 1, 0, 12.5]]
    ]
    assert daily(emits(results, "queue_waits_by_quarter", FLOAT_WAIT)) == [
        [[QUEUE, "20240315"], 12.5]
    ]


def test_acdc_processed_call_is_an_answered_visit_with_misses_and_no_ring_time(
    results: dict,
) -> None:
    assert emits(results, "queue_visits_by_quarter", ACDC_PROCESSED) == [
        [[QUEUE, "20240315", 23, 3], [1, 90, 0, 0, 90, 0, *band(90)]]
    ]
    # the timeout miss is missed, `rejected` rejected, LOSE_RACE nothing; the answered offer
    # is at handled_timestamp (next UTC day) with talk_time and no ring time (rung 0)
    offers = daily(emits(results, "offers_by_queue_recipient_by_quarter", ACDC_PROCESSED))
    assert sorted(offers) == sorted(
        [
            [[QUEUE, R1, "20240315"], MISSED],
            [[QUEUE, R1, "20240315"], REJECTED],
            [[QUEUE, R2, "20240316"], [1, 300]],
        ]
    )


def test_acdc_abandons_map_to_timeout_or_abandoned_by_reason(results: dict) -> None:
    assert daily(emits(results, "queue_visits_by_quarter", ACDC_TIMEOUT)) == [
        [[QUEUE, "20240315"], [1, 600, 1]]
    ]
    assert daily(emits(results, "queue_visits_by_quarter", ACDC_HANGUP)) == [
        [[QUEUE, "20240315"], [1, 15, 0, 1, 0, 15]]
    ]
    assert daily(emits(results, "offers_by_recipient_by_quarter", ACDC_HANGUP)) == [
        [[R1, "20240315"], MISSED]
    ]
    # only a LOSE_RACE miss: the visit counts, nobody was offered anything
    assert daily(emits(results, "queue_visits_by_quarter", ACDC_ONLY_LOSE_RACE)) == [
        [[QUEUE, "20240315"], [1, 20, 0, 1, 0, 20]]
    ]
    for view in OFFER_VIEWS:
        assert emits(results, view, ACDC_ONLY_LOSE_RACE) == []


@pytest.mark.parametrize("view", VIEWS)
def test_malformed_docs_emit_nothing_and_never_throw(results: dict, view: str) -> None:
    assert len(MALFORMED) >= 30 and len(MALFORMED_ACDC) >= 30
    for doc in [*JUNK, *MALFORMED, *MALFORMED_ACDC]:
        assert not ref.is_counted(doc), doc
        assert row(results, view, doc) == {"emits": [], "error": None, "mutated": False}, doc


def _tail(view: str, at: int) -> list[Any]:
    slot = ref.quarter_slot(at)
    return [ref.utc_day(slot)] + ([slot.hour, slot.minute // 15] if "quarter" in view else [])


def _expected_emits(view: str, doc: dict) -> list[list[Any]]:
    """What ``view`` must emit for one counted doc, from the Python reference."""
    if view.startswith("queue_"):
        [v] = ref.visits([doc])
        value: Any = {
            "queue_visits": ref.trimmed(ref.record_queue_view_values(v)),
            "queue_waits": v["wait"],
        }[view.rsplit("_by_", 1)[0]]
        return [[[v["queue_id"], *_tail(view, v["entered"])], value]]
    out = []
    for o in ref.offers([doc]):
        entity = [o["queue_id"], o["recipient_id"]] if "queue" in view else [o["recipient_id"]]
        out.append([[*entity, *_tail(view, o["at"])], ref.trimmed(ref.record_offer_view_values(o))])
    return out


@pytest.mark.parametrize("view", VIEWS)
def test_seeded_docs_agree_with_reference(results: dict, view: str) -> None:
    assert len(SEEDED) > 100
    for doc in [*GOOD, *GOOD_ACDC, *SEEDED]:
        assert ref.is_counted(doc)
        assert sorted(emits(results, view, doc)) == sorted(_expected_emits(view, doc)), doc["_id"]


def test_agent_events_emits_one_row_per_well_formed_status_stat() -> None:
    """Key [agent, timestamp, the status's place in name order], no value; nothing for
    pending_logged_out or a malformed status_stat, and never a throw."""
    from app.report.agent_states import STATUSES

    at = greg(2024, 3, 15, 10)
    good = [ref.status_doc(ACCOUNT, R1, at + i, s) for i, s in enumerate(STATUSES)]
    aside = ref.status_doc(ACCOUNT, R1, at + 99, "pending_logged_out")
    bad = ref.malformed_status_stats(ACCOUNT, R2, at)
    out = run_maps([*good, aside, *bad])["agent_events"]
    assert [r["emits"] for r in out[: len(good)]] == [
        [[[R1, at + i, i], None]] for i in range(len(STATUSES))
    ]
    assert all(not r["emits"] and not r["error"] for r in out[len(good) :])
    assert sorted(STATUSES) == list(STATUSES)


# -- CONTRACT.md 2c: values a document may hold ------------------------------------------------

POISONED = ref.poisoned_docs(ACCOUNT, QUEUE, R1, greg(2024, 3, 15, 12, 0, 0))
# the same good documents holding values at the bounds: counted
AT_BOUNDS = [
    good_doc(ACCOUNT, ref.EDGE_ID, "e1", greg(2024, 3, 15, 12), wait=ref.EDGE_AMOUNT),
    good_doc(
        ACCOUNT, QUEUE, "e2", greg(2024, 3, 15, 12), wait=1,
        offers=[offer(ref.EDGE_ID, ref.MAX_TIMESTAMP, "answered", ring=ref.EDGE_AMOUNT)],
    ),
    ref.good_call_stat(
        ACCOUNT, "Total", "e3", greg(2024, 3, 15, 12), agent_id="totals", talk=ref.EDGE_AMOUNT,
    ),
]  # fmt: skip


def test_every_poisoned_document_is_counted_nowhere() -> None:
    shapes = {doc["pvt_type"] for doc in POISONED}
    assert shapes == {"qubicle_session", "call_stat", "status_stat"} and len(POISONED) > 60
    out = run_maps(POISONED)
    for view, rows in out.items():
        for doc, r in zip(POISONED, rows, strict=True):
            assert r == {"emits": [], "error": None, "mutated": False}, (view, doc["_id"])
    for doc in POISONED:
        assert not ref.is_counted(doc) and ref.status_stat(doc) is None, doc["_id"]


def test_each_poisoned_document_is_counted_without_its_flaw() -> None:
    """The bound, not something else, skips each: the same document unspoilt is counted."""
    unspoilt = ref.poisoned_docs(ACCOUNT, QUEUE, R1, greg(2024, 3, 15, 12, 0, 0), spoil=False)
    assert [d["_id"] for d in unspoilt] == [d["_id"] for d in POISONED]
    out = run_maps(unspoilt)
    for i, doc in enumerate(unspoilt):
        view = "agent_events" if doc["pvt_type"] == "status_stat" else "queue_visits_by_quarter"
        assert out[view][i]["emits"] and not out[view][i]["error"], doc["_id"]
        assert ref.is_counted(doc) or ref.status_stat(doc) is not None


def test_values_at_the_bounds_are_counted() -> None:
    out = run_maps(AT_BOUNDS)
    assert [r["emits"] for r in out["queue_waits_by_quarter"]] == [
        [[[ref.EDGE_ID, "20240315", 12, 0], ref.EDGE_AMOUNT]],
        [[[QUEUE, "20240315", 12, 0], 1]],
        [[["Total", "20240315", 12, 0], 30]],
    ]
    [[key, value]] = out["offers_by_recipient_by_quarter"][1]["emits"]
    assert key[0] == ref.EDGE_ID and value == [1, 0, ref.EDGE_AMOUNT, 1]
    assert key[1:] == [ref.utc_day(ref.quarter_slot(ref.MAX_TIMESTAMP)), *key[2:]]
    assert [e[0][0] for e in out["offers_by_recipient_by_quarter"][2]["emits"]] == ["totals"]
    assert all(ref.is_counted(d) for d in AT_BOUNDS)
