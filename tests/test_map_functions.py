"""The assembled map functions, run in node with a stub ``emit``: they must emit exactly the
keys and values CONTRACT.md asks for, skip every malformed document without throwing, and
agree with the independent Python rule in ``reference.py`` document by document."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, date, datetime
from typing import Any

import pytest
import reference as ref
from reference import good_doc, offer

from app import design_docs
from app.seed import plan_account

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
VIEWS = (
    "queue_visits_by_day",
    "queue_visits_by_quarter",
    "offers_by_recipient_by_day",
    "offers_by_recipient_by_quarter",
    "offers_by_recipient_queue_by_day",
    "offers_by_recipient_queue_by_quarter",
)


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

JUNK: list[Any] = [None, 42, "qubicle_session", [], {}, {"pvt_type": "qubicle_session"}]
MALFORMED = ref.malformed_docs(ACCOUNT, QUEUE, R1, greg(2024, 3, 15, 12, 0, 0))
SEEDED = list(
    plan_account(11, 0, queues=3, recipients=4).sessions(
        date(2024, 2, 27), days=4, calls_per_day=40
    )
)
GOOD = [PLAIN, STRADDLER, TWO_RECIPIENTS, NO_OFFERS, FLOAT_WAIT]
ALL_DOCS = [*GOOD, *JUNK, *MALFORMED, *SEEDED]


@pytest.fixture(scope="module")
def results() -> dict[str, list[dict[str, Any]]]:
    out = run_maps(ALL_DOCS)
    assert set(out) == set(VIEWS)
    return {view: out[view] for view in VIEWS}


def row(results: dict[str, list[dict[str, Any]]], view: str, doc: Any) -> dict[str, Any]:
    """What ``view`` did with ``doc`` (found by identity in ALL_DOCS)."""
    return results[view][next(i for i, d in enumerate(ALL_DOCS) if d is doc)]


def emits(results: dict[str, list[dict[str, Any]]], view: str, doc: Any) -> list[list[Any]]:
    r = row(results, view, doc)
    assert r["error"] is None and not r["mutated"]
    return r["emits"]


def test_plain_doc(results: dict) -> None:
    assert emits(results, "queue_visits_by_day", PLAIN) == [[[QUEUE, "20240315"], [1, 100, 0, 0]]]
    assert emits(results, "queue_visits_by_quarter", PLAIN) == [
        [[QUEUE, "20240315", 10, 0], [1, 100, 0, 0]]
    ]
    assert emits(results, "offers_by_recipient_by_day", PLAIN) == [
        [[R1, "20240315"], [0, 1, 0, 0, 0]],
        [[R1, "20240315"], [1, 0, 0, 240, 10]],
    ]
    assert emits(results, "offers_by_recipient_queue_by_quarter", PLAIN) == [
        [[[R1, QUEUE], "20240315", 10, 0], [0, 1, 0, 0, 0]],
        [[[R1, QUEUE], "20240315", 10, 0], [1, 0, 0, 240, 10]],
    ]


def test_midnight_straddler_counts_where_it_entered_and_rang(results: dict) -> None:
    assert emits(results, "queue_visits_by_day", STRADDLER) == [
        [[QUEUE, "20240331"], [1, 146, 0, 0]]
    ]
    assert emits(results, "queue_visits_by_quarter", STRADDLER) == [
        [[QUEUE, "20240331", 23, 3], [1, 146, 0, 0]]
    ]
    assert emits(results, "offers_by_recipient_by_quarter", STRADDLER) == [
        [[R1, "20240331", 23, 3], [0, 1, 0, 0, 0]],
        [[R2, "20240401", 0, 0], [1, 0, 0, 900, 6]],
    ]
    assert emits(results, "offers_by_recipient_queue_by_day", STRADDLER) == [
        [[[R1, QUEUE], "20240331"], [0, 1, 0, 0, 0]],
        [[[R2, QUEUE], "20240401"], [1, 0, 0, 900, 6]],
    ]


def test_offers_from_two_recipients(results: dict) -> None:
    assert emits(results, "queue_visits_by_quarter", TWO_RECIPIENTS) == [
        [[QUEUE, "20240315", 14, 2], [1, 300, 1, 0]]
    ]
    assert emits(results, "offers_by_recipient_by_quarter", TWO_RECIPIENTS) == [
        [[R1, "20240315", 14, 2], [0, 0, 1, 0, 0]],
        [[R2, "20240315", 14, 3], [0, 1, 0, 0, 0]],
        [[R1, "20240315", 14, 3], [0, 1, 0, 0, 0]],
    ]
    assert emits(results, "offers_by_recipient_by_day", TWO_RECIPIENTS) == [
        [[R1, "20240315"], [0, 0, 1, 0, 0]],
        [[R2, "20240315"], [0, 1, 0, 0, 0]],
        [[R1, "20240315"], [0, 1, 0, 0, 0]],
    ]


def test_visit_without_offers_field(results: dict) -> None:
    assert emits(results, "queue_visits_by_day", NO_OFFERS) == [[[QUEUE, "20240315"], [1, 7, 0, 1]]]
    for view in VIEWS[2:]:
        assert emits(results, view, NO_OFFERS) == []


def test_fractional_wait_is_kept(results: dict) -> None:
    assert emits(results, "queue_visits_by_quarter", FLOAT_WAIT) == [
        [[QUEUE, "20240315", 9, 2], [1, 12.5, 0, 1]]
    ]


@pytest.mark.parametrize("view", VIEWS)
def test_malformed_docs_emit_nothing_and_never_throw(results: dict, view: str) -> None:
    assert len(MALFORMED) >= 30
    for doc in [*JUNK, *MALFORMED]:
        assert not ref.is_well_formed(doc), doc
        assert row(results, view, doc) == {"emits": [], "error": None, "mutated": False}, doc


def _expected_emits(view: str, doc: dict) -> list[list[Any]]:
    """What ``view`` must emit for one well-formed doc, from the Python reference."""
    if view.startswith("queue_visits"):
        slot = ref.quarter_slot(doc["entered_timestamp"])
        rest = [ref.utc_day(slot)] + ([slot.hour, slot.minute // 15] if "quarter" in view else [])
        return [[[doc["queue_id"], *rest], ref.visit_values(doc)]]
    out = []
    for o in ref.offers_of(doc):
        slot = ref.quarter_slot(o["offered_timestamp"])
        rest = [ref.utc_day(slot)] + ([slot.hour, slot.minute // 15] if "quarter" in view else [])
        entity: Any = [o["recipient_id"], doc["queue_id"]] if "queue" in view else o["recipient_id"]
        out.append([[entity, *rest], ref.offer_values(o)])
    return out


@pytest.mark.parametrize("view", VIEWS)
def test_seeded_docs_agree_with_reference(results: dict, view: str) -> None:
    assert len(SEEDED) > 100
    for doc in [*GOOD, *SEEDED]:
        assert ref.is_well_formed(doc)
        assert emits(results, view, doc) == _expected_emits(view, doc), doc["_id"]
