"""The design document on a real CouchDB-protocol server: how it is installed into MoDBs, and
that every view, reduced at every group level a report uses, equals the independent
brute-force aggregation of ``reference.py`` over the same documents.

Only databases of accounts handed out by the ``accounts``/``session_accounts`` fixtures are
touched, so this also runs against a CouchDB that holds other data.
"""

from __future__ import annotations

import asyncio
import copy
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import reference as ref
from conftest import Accounts, account_docs, make_client, seed_account

from app.couch import design_docs, modb
from app.couch.client import Couch, CouchError
from app.couch.installer import Installer
from qubicle_dev.seed import SeededAccount, SeedError, _write_batch, plan_account

DDOC = design_docs.current_name()
DDOC_ID = design_docs.load()["_id"]
SEED = 5
START = date(2023, 12, 10)  # 40 days: over the end of December, which is also a year end
DAYS = 40
CALLS_PER_DAY = 30
SIZES: dict[str, Any] = {
    "queues": 3,
    "recipients": 5,
    "days": DAYS,
    "calls_per_day": CALLS_PER_DAY,
    "start": START,
}
QUEUE_VIEWS = ("queue_visits_by_quarter", "queue_waits_by_quarter")
OFFER_VIEWS = ("offers_by_recipient_by_quarter", "offers_by_queue_recipient_by_quarter")
ALL_VIEWS = (*QUEUE_VIEWS, *OFFER_VIEWS)
DDOC_VIEWS = (*ALL_VIEWS, "agent_events")  # and the agent_states report's events


def greg(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp()) + ref.GREGORIAN_OFFSET


def freeze(value: Any) -> Any:
    """A view key (JSON arrays, maybe nested) as a hashable tuple."""
    return tuple(freeze(v) for v in value) if isinstance(value, list) else value


def entity_width(view: str) -> int:
    return 2 if "queue_recipient" in view else 1


def group_levels(view: str) -> tuple[int, ...]:
    """The levels reports ask (and the whole-entity level below them)."""
    levels = (0, 1, 2, 3)
    return tuple(entity_width(view) + n for n in levels)


def emitted(view: str, docs: list[Any]) -> list[tuple[tuple, int, Any]]:
    """(entity key part, timestamp, value) of every row ``view`` must emit, from the
    reference's records of both document shapes."""
    if view.startswith("queue_"):
        value = {
            "queue_visits": ref.record_queue_view_values,
            "queue_waits": lambda v: v["wait"],
        }[view.rsplit("_by_", 1)[0]]
        return [((v["queue_id"],), v["entered"], value(v)) for v in ref.visits(docs)]
    return [
        (
            (o["queue_id"], o["recipient_id"]) if entity_width(view) == 2 else (o["recipient_id"],),
            o["at"],
            ref.record_offer_view_values(o),
        )
        for o in ref.offers(docs)
    ]


def _stats(waits: list[Any]) -> dict[str, Any]:
    return {
        "sum": sum(waits),
        "count": len(waits),
        "min": min(waits),
        "max": max(waits),
        "sumsqr": sum(w * w for w in waits),
    }


def expected_rows(view: str, docs: list[Any], group_level: int) -> dict[tuple, Any]:
    """The reduced rows of ``view`` at ``group_level``, computed by brute force."""
    grouped: dict[tuple, list[Any]] = {}
    for entity, at, value in emitted(view, docs):
        slot = ref.quarter_slot(at)
        tail = (ref.utc_day(slot), slot.hour, slot.minute // 15)
        grouped.setdefault((*entity, *tail)[:group_level], []).append(value)
    if "_waits_" in view:
        return {key: _stats(values) for key, values in grouped.items()}
    return {
        key: ref.trimmed([sum(col) for col in zip(*values, strict=True)])
        for key, values in grouped.items()
    }


async def reduced(couch: Couch, db: str, view: str, group_level: int) -> dict[tuple, list]:
    rows = await couch.view(db, DDOC, view, group_level=group_level)
    out = {freeze(r["key"]): r["value"] for r in rows}
    assert len(out) == len(rows), "duplicate keys in a grouped answer"
    return out


async def stored_docs(couch: Couch, db: str) -> list[dict[str, Any]]:
    """Every non-design document of ``db``, without ``_rev``."""
    rows = await couch.all_docs(db, include_docs=True)
    docs = [r["doc"] for r in rows if not r["id"].startswith("_design/")]
    for d in docs:
        d.pop("_rev", None)
    return docs


async def design_doc_ids(couch: Couch, db: str) -> list[str]:
    rows = await couch.all_docs(db, startkey="_design/", endkey="_design0")
    return [r["id"] for r in rows]


# -- installing the design document ----------------------------------------------------------


async def test_installs_into_existing_modbs_only(couch: Couch, accounts: Accounts) -> None:
    account = accounts.new()
    jan, feb, mar = (modb.modb(account, 2024, m) for m in (1, 2, 3))
    assert await couch.create_db(jan) and await couch.create_db(mar)
    installer = Installer(couch)

    assert [await installer.install(db) for db in (jan, feb, mar)] == [
        "installed",
        "missing",
        "installed",
    ]
    assert await installer.ensure(feb) is False
    assert await couch.db_info(feb) is None  # never created by an install

    revs = {}
    for db in (jan, mar):
        doc = await couch.get_doc(db, DDOC_ID)
        assert doc is not None and design_docs.version_of(doc) == installer.version
        assert set(doc["views"]) == set(DDOC_VIEWS)
        revs[db] = doc["_rev"]

    again = Installer(couch)  # a fresh process: no memo
    assert [await again.install(db) for db in (jan, mar)] == ["current", "current"]
    for db in (jan, mar):
        assert (await couch.get_doc(db, DDOC_ID))["_rev"] == revs[db]  # type: ignore[index]
        assert await again.ensure(db) is True
        assert await couch.view(db, DDOC, "queue_visits_by_quarter") == []  # usable, and empty


async def test_a_changed_view_is_a_new_design_doc_beside_the_current_one(
    couch: Couch, accounts: Accounts, tmp_path: Path
) -> None:
    """A design doc is named by its views: a release with other views installs its own design
    doc beside the running release's, which stays as it was (the running release still reads
    it; CouchDB keeps its index)."""
    account = accounts.new()
    dbs = [modb.modb(account, y, m) for y, m in ((2023, 11), (2023, 12), (2024, 1))]
    for db in dbs:
        await couch.create_db(db)
    current = Installer(couch)
    assert [await current.install(db) for db in dbs] == ["installed"] * 3
    before = {db: (await couch.get_doc(db, DDOC_ID))["_rev"] for db in dbs}  # type: ignore[index]

    copy = tmp_path / design_docs.DDOC
    shutil.copytree(design_docs.design_docs_dir() / design_docs.DDOC, copy)
    map_js = copy / "views" / "queue_visits_by_quarter" / "map.js"
    map_js.write_text(
        map_js.read_text().replace("function (doc) {", "function (doc) {\n  // v2", 1)
    )
    changed = design_docs.assemble(copy)
    view = "queue_visits_by_quarter"
    assert changed["views"][view] != current.ddoc["views"][view]
    assert design_docs.version_of(changed) != current.version
    assert changed["_id"] == f"_design/qubicle_reports-{design_docs.version_of(changed)}"
    assert changed["_id"] != DDOC_ID

    other = Installer(couch, ddoc=changed)
    assert [await other.install(db) for db in dbs] == ["installed"] * 3
    for db in dbs:
        assert (await couch.get_doc(db, DDOC_ID))["_rev"] == before[db]  # type: ignore[index]
        doc = await couch.get_doc(db, changed["_id"])
        assert doc is not None and "// v2" in doc["views"][view]["map"]
        assert await design_doc_ids(couch, db) == sorted([DDOC_ID, changed["_id"]])
    assert [await other.install(db) for db in dbs] == ["current"] * 3
    assert [await current.install(db) for db in dbs] == ["current"] * 3


async def test_a_design_doc_under_our_name_with_other_views_is_written_over_not_read(
    couch: Couch, accounts: Accounts
) -> None:
    """The name promises the content: a document under this release's name whose views are
    not this release's (edited by hand) is never read, it is written over first."""
    db = modb.modb(accounts.new(), 2024, 1)
    await couch.create_db(db)
    forged = copy.deepcopy(design_docs.load())
    forged["views"]["queue_visits_by_quarter"]["reduce"] = "_count"
    await couch.put_doc(db, forged)
    installer = Installer(couch)
    assert await installer.install(db) == "repaired"
    doc = await couch.get_doc(db, DDOC_ID)
    assert design_docs.matches(doc, design_docs.load())
    assert await installer.install(db) == "current"


async def test_concurrent_installs_write_one_current_design_doc(
    couch: Couch, couch_url: str, accounts: Accounts
) -> None:
    account = accounts.new()
    dbs = [modb.modb(account, 2024, m) for m in range(1, 7)]
    for db in dbs:
        await couch.create_db(db)
    one, two = Couch(couch_url), Couch(couch_url)
    try:
        first, second = Installer(one), Installer(two)
        outcomes = await asyncio.gather(
            *(installer.install(db) for db in dbs for installer in (first, second))
        )
        # and the same installer racing itself through ensure()
        assert all(await asyncio.gather(*(first.ensure(db) for db in dbs for _ in range(3))))
    finally:
        await one.close()
        await two.close()
    for i, _db in enumerate(dbs):
        pair = sorted(outcomes[2 * i : 2 * i + 2])
        assert pair in (["current", "installed"], ["installed", "installed"]), pair  # cluster: both
    for db in dbs:
        assert await design_doc_ids(couch, db) == [DDOC_ID]
        doc = await couch.get_doc(db, DDOC_ID)
        assert (
            doc is not None
            and design_docs.version_of(doc) == design_docs.load()[design_docs.VERSION_FIELD]
        )
        assert doc["_rev"].startswith("1-")  # written once: the loser did not overwrite


# -- malformed documents ---------------------------------------------------------------------


async def test_malformed_docs_are_counted_nowhere(couch: Couch, accounts: Accounts) -> None:
    account = accounts.new()
    queue, r1, r2 = "1" * 32, "b" * 32, "c" * 32
    db = modb.modb(account, 2024, 3)
    await couch.create_db(db)
    t = greg(2024, 3, 15, 12, 0, 0)
    good = [
        ref.good_doc(
            account,
            queue,
            "g1",
            t - 3600,
            wait=40,
            talk=60,
            offers=[ref.offer(r1, t - 3590, "missed", 20), ref.offer(r2, t - 3565, talk=60)],
            recipient_id=r2,
        ),
        ref.good_doc(account, queue, "g2", t + 5, result="timeout", wait=120),
        ref.good_doc(account, "2" * 32, "g3", t + 900, result="abandoned", wait=9),
    ]
    del good[2]["offers"]  # an absent offers list is an empty one
    bad = ref.malformed_docs(account, queue, r1, t)
    assert len(bad) >= 30 and not any(ref.is_well_formed(d) for d in bad)
    good_acdc = [
        ref.good_call_stat(
            account,
            queue,
            "acdc1",
            t + 60,
            wait=25,
            talk=200,
            agent_id=r1,
            misses=[
                {"agent_id": r2, "reason": "rejected", "timestamp": t + 70},
                {"agent_id": r2, "reason": "LOSE_RACE", "timestamp": t + 80},
            ],
        ),
        ref.good_call_stat(
            account, queue, "acdc2", t + 120, status="abandoned", wait=600,
            abandoned_reason="member_timeout",
        ),
    ]  # fmt: skip
    good += good_acdc
    bad += ref.malformed_call_stats(account, queue, r1, t)
    assert not any(ref.is_counted(d) for d in bad)
    cdr = {"_id": "202403-cdr", "pvt_type": "cdr", "call_id": "x", "duration_seconds": 10}
    rows = await couch.bulk_docs(db, [*good, *bad, cdr])
    assert all("error" not in r for r in rows)
    assert await Installer(couch).install(db) == "installed"

    for view in ALL_VIEWS:
        totals = await couch.view(db, DDOC, view)
        assert [r["value"] for r in totals] == list(expected_rows(view, good, 0).values()), view
        for level in group_levels(view):
            assert await reduced(couch, db, view, level) == expected_rows(view, good, level)
        emitted = await couch.view(db, DDOC, view, reduce=False)
        assert {r["id"] for r in emitted} <= {d["_id"] for d in good}, view
    # visits, wait, timeouts, abandons, answered wait, abandoned wait, then the wait bands:
    # answered after 25 s (5th threshold) and 40 s (7th); trailing zeros dropped
    assert expected_rows("queue_visits_by_quarter", good, 2) == {
        (queue, "20240315"): [4, 785, 2, 0, 65, 0, 0, 0, 0, 0, 1, 0, 1],
        ("2" * 32, "20240315"): [1, 9, 0, 1, 0, 9],
    }


async def test_agent_events_lists_each_agent_and_its_events(
    couch: Couch, accounts: Accounts
) -> None:
    """``_count`` at ``group_level=1`` (how the report finds an account's agents) counts each
    agent's events; ``reduce=false`` gives the events themselves, in key order."""
    account = accounts.new()
    db = modb.modb(account, 2024, 3)
    await couch.create_db(db)
    a1, a2, a3 = "a" * 32, "b" * 32, "c" * 32
    t = greg(2024, 3, 15, 12, 0, 0)
    docs = [
        ref.status_doc(account, a1, t, "logged_in"),
        ref.status_doc(account, a1, t + 60, "ready"),
        ref.status_doc(account, a1, t + 60, "paused", suffix="-b"),
        ref.status_doc(account, a2, t + 30, "ready"),
        ref.status_doc(account, a2, t + 90, "pending_logged_out"),  # set aside: not an event
        ref.status_doc(account, a3, t + 120, "pending_logged_out"),  # a3 has no event
        *ref.malformed_status_stats(account, a3, t),
    ]
    rows = await couch.bulk_docs(db, docs)
    assert all("error" not in r for r in rows)
    assert await Installer(couch).install(db) == "installed"
    events = ref.agent_events(docs)
    assert {a: len(e) for a, e in events.items()} == {a1: 3, a2: 1}
    counted = await couch.view(db, DDOC, "agent_events", group_level=1)
    assert [(r["key"], r["value"]) for r in counted] == [([a1], 3), ([a2], 1)]
    codes = {s: i for i, s in enumerate(sorted(ref.AGENT_STATUSES - {"pending_logged_out"}))}
    emitted = await couch.view(db, DDOC, "agent_events", reduce=False)
    assert [r["key"] for r in emitted] == [
        [a, at, codes[status]] for a in sorted(events) for at, status in events[a]
    ]


# -- seeded data, view by view and MoDB by MoDB ----------------------------------------------


@dataclass
class Seeded:
    account: SeededAccount
    generated: list[dict[str, Any]]  # what the generator produced for the account
    stored: dict[str, list[dict[str, Any]]]  # MoDB -> documents read back (no _rev)
    design_docs_after_seed: dict[str, list[str]]
    malformed: list[dict[str, Any]]


@pytest.fixture(scope="module")
async def seeded(couch: Couch, session_accounts: Accounts) -> Seeded:
    """One account seeded with ``seed()`` (about 950 visits over 2 MoDBs), plus the
    malformed documents in each MoDB, and the design doc installed afterwards."""
    account_id = session_accounts.new()
    account = await seed_account(couch, account_id, seed=SEED, build=False, batch_size=200, **SIZES)
    after_seed = {db: await design_doc_ids(couch, db) for db in account.docs_per_modb}
    malformed = []
    for db in account.docs_per_modb:
        year, month = modb.parse_db_name(db)[1:]  # type: ignore[index,misc]
        bad = ref.malformed_docs(
            account_id, account.queue_ids[0], account.recipient_ids[0], greg(year, month, 15)
        )
        rows = await couch.bulk_docs(db, bad)
        assert all("error" not in r for r in rows)
        malformed += bad
    for db in account.docs_per_modb:
        assert await Installer(couch).install(db) == "installed"
    plan = plan_account(SEED, 0, queues=3, recipients=5, account_id=account_id)
    return Seeded(
        account=account,
        generated=list(plan.sessions(START, DAYS, CALLS_PER_DAY)),
        stored={db: await stored_docs(couch, db) for db in account.docs_per_modb},
        design_docs_after_seed=after_seed,
        malformed=malformed,
    )


async def test_seed_writes_every_doc_into_its_exit_month(couch: Couch, seeded: Seeded) -> None:
    account = seeded.account
    assert sorted(account.docs_per_modb) == [
        modb.modb(account.account_id, 2023, 12),
        modb.modb(account.account_id, 2024, 1),
    ]
    assert account.total_docs == len(seeded.generated) <= 2000
    assert account.already_present == 0
    stored_sessions = [
        d for docs in seeded.stored.values() for d in docs if not d["_id"][7:].startswith("bad-")
    ]
    by_id = {d["_id"]: d for d in stored_sessions}
    assert by_id == {d["_id"]: d for d in seeded.generated}  # nothing lost, nothing changed
    for db, docs in seeded.stored.items():
        sessions = [d for d in docs if not d["_id"][7:].startswith("bad-")]
        assert len(sessions) == account.docs_per_modb[db]
        assert all(d["_id"][:6] == db[-6:] for d in sessions)
    account_doc = await couch.get_doc(modb.account_db(account.account_id), account.account_id)
    assert account_doc is not None
    assert account_doc["pvt_type"] == "account" and account_doc["pvt_tree"] == []
    # seed() installs no design document: reports install what they query
    assert seeded.design_docs_after_seed == {db: [] for db in account.docs_per_modb}


async def test_seed_again_is_harmless(couch: Couch, seeded: Seeded) -> None:
    account = seeded.account
    again = await seed_account(couch, account.account_id, seed=SEED, build=False, **SIZES)
    assert again.docs_per_modb == account.docs_per_modb
    assert again.already_present == account.total_docs
    for db, docs in seeded.stored.items():
        info = await couch.db_info(db)
        assert info is not None and info["doc_count"] == len(docs) + 1  # + the design doc


async def test_seed_raises_when_the_server_refuses_a_batch(
    couch: Couch, accounts: Accounts
) -> None:
    """A batch CouchDB refuses outright is an error, never a silent skip."""
    db = modb.modb(accounts.new(), 2024, 1)
    await couch.create_db(db)
    ok = ref.good_doc("a" * 32, "1" * 32, "ok", greg(2024, 1, 2))
    with pytest.raises((SeedError, CouchError)):
        await _write_batch(couch, db, [ok, {"_id": "_not_allowed", "x": 1}])


@pytest.mark.parametrize("view", ALL_VIEWS)
async def test_view_equals_reference_per_modb(couch: Couch, seeded: Seeded, view: str) -> None:
    checked = 0
    for db, docs in seeded.stored.items():
        assert any(not ref.is_counted(d) for d in docs)  # the malformed ones are in there
        for level in group_levels(view):
            expected = expected_rows(view, docs, level)
            assert expected, (db, level)
            actual = await reduced(couch, db, view, level)
            assert actual.keys() == expected.keys(), (db, level)
            for key, values in expected.items():
                assert actual[key] == values, (db, level, key)
            checked += len(expected)
    assert checked > 100


async def test_month_end_straddlers_count_for_the_day_they_entered(
    couch: Couch, seeded: Seeded
) -> None:
    """A call entering on 31 December and leaving in January is in the January MoDB and its
    day-view row is keyed 20231231: reports must read the next month's MoDB too."""
    jan = modb.modb(seeded.account.account_id, 2024, 1)
    rows = await couch.view(jan, DDOC, "queue_visits_by_quarter", group_level=2)
    days = {r["key"][1] for r in rows}
    assert "20231231" in days
    straddlers = [
        d
        for d in seeded.stored[jan]
        if ref.is_well_formed(d) and ref.utc(d["entered_timestamp"]).month == 12
    ]
    assert straddlers
    dec31 = [r for r in rows if r["key"][1] == "20231231"]
    assert sum(r["value"][0] for r in dec31) == len(straddlers)


# -- upgrading from the previous design document ---------------------------------------------

OLD_RECIPIENT_QUEUE_MAP = """function (doc) {
  if (doc.pvt_type !== 'qubicle_session' || !Array.isArray(doc.offers)) return;
  doc.offers.forEach(function (o) {
    var d = new Date((o.offered_timestamp - 62167219200) * 1000).toISOString();
    emit([[o.recipient_id, doc.queue_id], d.slice(0, 4) + d.slice(5, 7) + d.slice(8, 10)],
         [1, 0, 0, 0, 0]);
  });
}"""


def previous_design_doc() -> dict[str, Any]:
    """What a MoDB installed by the previous release holds: no KPI, wait or queue-first views,
    the old [[recipient, queue], day] view, 5-wide offer values, another version."""
    doc = copy.deepcopy(design_docs.load())
    views = doc["views"]
    for name in [n for n in views if "kpis" in n or "waits" in n or "queue_recipient" in n]:
        del views[name]
    views["offers_by_recipient_queue_by_day"] = {"map": OLD_RECIPIENT_QUEUE_MAP, "reduce": "_sum"}
    doc[design_docs.VERSION_FIELD] = "previous-release"
    doc["_id"] = design_docs.LEGACY  # where every release up to 0.1.0 wrote its views
    return doc


async def test_reports_stay_exact_while_modbs_upgrade_from_the_previous_design_doc(
    couch: Couch, couch_url: str, accounts: Accounts
) -> None:
    """A rolling upgrade: the first MoDB still holds the design doc of a release up to 0.1.0
    (another layout under `_design/qubicle_reports`) and its built index, the second the
    current one. Each report reads every MoDB through this release's design doc only
    (installed beside the old one on first use, which is never written or read), so nothing
    counts twice, goes missing or reads another layout's rows."""

    from app.config import Settings

    account = accounts.new()
    seeded = await seed_account(
        couch, account, seed=9, build=False, queues=3, recipients=4, days=4, calls_per_day=30,
        start=date(2024, 1, 30),
    )  # fmt: skip
    old_db, new_db = sorted(seeded.docs_per_modb)
    assert await Installer(couch, ddoc=previous_design_doc()).install(old_db) == "installed"
    legacy = design_docs.DDOC
    assert await couch.view(old_db, legacy, "offers_by_recipient_queue_by_day", limit=1)  # built
    legacy_rev = (await couch.get_doc(old_db, design_docs.LEGACY))["_rev"]  # type: ignore[index]
    assert await Installer(couch).install(new_db) == "installed"
    docs = await account_docs(couch, account)

    token = "upgrade-token"
    async with make_client(Settings(couchdb_url=couch_url, tokens={token: account})) as client:
        for params in (
            {"report": "recipients", "queue_ids": seeded.queue_ids[:2], "period": "daily"},
            {"report": "queues", "metrics": ["call_count", "service_level", "max_wait"]},
            {"report": "queues", "period": "hourly", "totals": True},
        ):
            data = {"start_date": "2024-01-30", "end_date": "2024-02-02", **params}
            for _ in range(20):  # the upgraded MoDB's new index may still be building
                resp = await client.post(
                    f"/v2/accounts/{account}/qubicle_reports",
                    json={"data": data},
                    headers={"X-Auth-Token": token},
                )
                body = await resp.json()
                if resp.status != 503:
                    break
                await asyncio.sleep(0.5)
            assert resp.status == 200, body
            expected = ref.expected_report(docs, data)
            assert any(sum(item["data"]["call_count"].values()) for item in expected), params
            assert body["data"][0]["report"] == expected, params
    for db in (old_db, new_db):
        doc = await couch.get_doc(db, DDOC_ID)
        assert design_docs.version_of(doc) == design_docs.load()[design_docs.VERSION_FIELD]
        assert "offers_by_recipient_queue_by_day" not in doc["views"]  # type: ignore[index]
    # the older release's design doc is left as it was, for as long as that release runs
    assert (await couch.get_doc(old_db, design_docs.LEGACY))["_rev"] == legacy_rev  # type: ignore[index]
    assert await design_doc_ids(couch, new_db) == [DDOC_ID]
