"""Two releases side by side on one CouchDB, as an operator upgrades: each reads and writes only
its own design doc (named by its views), both answer exactly the whole time, the new one's
``install-views --warm`` builds its indexes beside the running one's so its first reports wait
for no build, and ``install-views --prune`` then retires every other release's design doc
(never KAZOO's) and has CouchDB clean up their index files.

The second release is made here the way a real one is: its views differ (one view's value
vector is longer, padded and with a trailing count no code reads), so its design doc has a
name of its own; the service's code reads both layouts right.
"""

from __future__ import annotations

import asyncio
import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import reference as ref
from conftest import Accounts, account_docs, make_client, post, seed_account
from faultproxy import FaultProxy

from app.commands.install_views import install_views_command
from app.commands.status import status_command
from app.config import Settings
from app.couch import design_docs
from app.couch.client import Couch, few_changes_left
from app.couch.installer import Installer

TOKEN = "tok-releases-8c1e"
START, END = "2024-01-30", "2024-02-02"
REPORTS: list[dict[str, Any]] = [
    {"report": "queues", "period": "daily", "metrics": ["call_count", "service_level", "max_wait",
                                                         "avg_answer_speed", "abandon_count"]},
    {"report": "recipients", "period": "hourly", "totals": True},
    {"report": "queues", "period": "monthly", "timezone": "Asia/Kolkata", "totals": True},
]  # fmt: skip
PADDED = (
    "var padded = visitValue(v); while (padded.length < 40) padded.push(0); padded.push(1);\n"
    "  emit([v.queue, t.day, t.hour, t.quarter], padded);"
)


def second_release(tmp_path: Path) -> dict[str, Any]:
    """The design doc of another release: queue_visits_by_quarter's values padded to 40 and a
    trailing 1 (positions no code reads), so the rows differ and so does the name."""
    folder = tmp_path / design_docs.DDOC
    shutil.copytree(design_docs.design_docs_dir() / design_docs.DDOC, folder)
    map_js = folder / "views" / "queue_visits_by_quarter" / "map.js"
    source = map_js.read_text()
    emit = "emit([v.queue, t.day, t.hour, t.quarter], visitValue(v));"
    assert emit in source
    map_js.write_text(source.replace(emit, PADDED))
    doc = design_docs.assemble(folder)
    assert doc["_id"] != design_docs.load()["_id"]
    return doc


def legacy_release() -> dict[str, Any]:
    """What a release up to 0.1.0 left: its own views under ``_design/qubicle_reports``, here
    with every value vector zero, so reading it would answer all zeros."""
    doc = copy.deepcopy(design_docs.load())
    zeros = "function (doc) { if (doc.queue_id) emit([doc.queue_id, '20240130', 0, 0], [0]); }"
    for view in doc["views"].values():
        view["map"], view["reduce"] = zeros, "_sum"
    return {"_id": design_docs.LEGACY, "language": "javascript", "views": doc["views"]}


async def ask(client: Any, account_id: str, data: dict[str, Any]) -> Any:
    """The report, read from CouchDB (no cache), waiting out an index still being built."""
    for _ in range(60):
        status, body = await post(
            client, account_id, data, token=TOKEN, **{"Cache-Control": "no-cache"}
        )
        if status != 503 or body.get("message") != "index being built":
            break
        await asyncio.sleep(0.5)
    assert status == 200, body
    return body["data"][0]["report"]


def said(out: str, db: str, verb: str) -> list[str]:
    """The design docs ``install-views --prune`` says it removed (or would) from ``db``."""
    line = next(x for x in out.splitlines() if x.startswith(f"{db}: {verb} "))
    names = [part.split(" (")[0] for part in line.removeprefix(f"{db}: {verb} ").split(", ")]
    return sorted(f"_design/{name}" for name in names)


async def ddoc_revs(couch: Couch, db: str) -> dict[str, str]:
    rows = await couch.all_docs(db, startkey="_design/", endkey="_design0")
    return {r["id"]: r["value"]["rev"] for r in rows}


@pytest.fixture
async def account(couch: Couch, accounts: Accounts) -> tuple[str, list[str], list[dict[str, Any]]]:
    """A seeded account over two MoDBs (nothing installed yet), its MoDBs and documents."""
    account_id = accounts.new()
    seeded = await seed_account(
        couch, account_id, seed=31, build=False, queues=3, recipients=4, days=4,
        calls_per_day=25,
    )  # fmt: skip
    return account_id, sorted(seeded.docs_per_modb), await account_docs(couch, account_id)


def settings(url: str, account_id: str) -> Settings:
    return Settings(couchdb_url=url, tokens={TOKEN: account_id}, follow_db_updates=False)


async def test_two_releases_side_by_side_answer_exactly_and_never_write_each_others_design_doc(
    couch: Couch, couch_url: str, account: Any, tmp_path: Path
) -> None:
    account_id, dbs, docs = account
    other = second_release(tmp_path)
    # an older release's design doc with another layout is there too, and is never read
    for db in dbs:
        await couch.put_doc(db, legacy_release())
    async with (
        make_client(settings(couch_url, account_id)) as this,
        make_client(settings(couch_url, account_id), design_doc=other) as that,
    ):
        for _ in range(3):  # interleaved, as a rolling deploy sends them
            for params in REPORTS:
                data = {"start_date": START, "end_date": END, **params}
                expected = ref.expected_report(docs, data)
                assert any(
                    v for item in expected for series in item["data"].values()
                    for v in series.values()
                ), params  # fmt: skip
                assert await ask(this, account_id, data) == expected, ("this", params)
                assert await ask(that, account_id, data) == expected, ("that", params)
        names = (design_docs.current_name(), design_docs.name_of(other))
        for client, name in zip((this, that), names, strict=True):
            health = await (await client.get("/health")).json()
            assert health["design_doc"] == name
    for db in dbs:
        revs = await ddoc_revs(couch, db)
        assert sorted(revs) == sorted([design_docs.LEGACY, design_docs.load()["_id"], other["_id"]])
        assert all(rev.startswith("1-") for rev in revs.values()), revs  # each written once


async def test_warm_builds_the_new_release_beside_the_running_one_with_no_gap(
    couch: Couch, couch_url: str, account: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    account_id, dbs, docs = account
    new = second_release(tmp_path)
    running = Installer(couch)
    for db in dbs:
        await running.install(db)
    before = {db: await ddoc_revs(couch, db) for db in dbs}
    data = {"start_date": START, "end_date": END, **REPORTS[0]}
    expected = ref.expected_report(docs, data)

    async with make_client(settings(couch_url, account_id)) as old:
        # the running release answers exactly while the new release's indexes are built
        warm = asyncio.ensure_future(
            install_views_command(
                Settings(couchdb_url=couch_url), account_id, build=True, design_doc=new
            )
        )
        answered = 0
        while not warm.done() or answered == 0:
            assert await ask(old, account_id, data) == expected
            answered += 1
        assert await warm == 0
    out = capsys.readouterr().out
    assert design_docs.name_of(new) in out
    for db in dbs:
        state = await couch.index_state(db, design_docs.name_of(new))
        # built (on a cluster, a copy no query read may still take in its last few changes:
        # a query then waits for it, never answers 503)
        assert state is not None, db
        assert not state.building or (not state.running and few_changes_left(state)), state
        revs = await ddoc_revs(couch, db)
        assert revs[design_docs.load()["_id"]] == before[db][design_docs.load()["_id"]]

    async with make_client(settings(couch_url, account_id), design_doc=new) as first:
        status, body = await post(first, account_id, data, token=TOKEN)
        assert status == 200, body  # its first report: no "index being built"
        assert body["data"][0]["report"] == expected
        text = await (await first.get("/metrics")).text()
        assert "qubicle_reports_index_build_waits_total 0.0" in text
        assert f'design_doc="{design_docs.name_of(new)}"' in text


async def test_prune_retires_every_other_release_and_never_kazoos_design_docs(
    couch: Couch, couch_url: str, proxy: FaultProxy, account: Any, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    account_id, dbs, docs = account
    other = second_release(tmp_path)
    kazoo = {
        "_id": "_design/cdrs",
        "language": "javascript",
        "views": {"crossbar_listing": {"map": "function (doc) { emit(doc._id, null); }"}},
    }
    lookalike = {**kazoo, "_id": "_design/qubicle_reports_extra"}  # not ours either
    for db in dbs:
        for doc in (legacy_release(), other, kazoo, lookalike):
            await couch.put_doc(db, copy.deepcopy(doc))
    this_id = design_docs.load()["_id"]
    kept = sorted([this_id, "_design/cdrs", "_design/qubicle_reports_extra"])
    retired = sorted([design_docs.LEGACY, other["_id"]])

    # --dry-run lists and changes nothing (it does not even install)
    before = {db: await ddoc_revs(couch, db) for db in dbs}
    code = await install_views_command(
        Settings(couchdb_url=couch_url), account_id, build=False, prune=True, dry_run=True
    )
    out = capsys.readouterr().out
    assert code == 0
    for db in dbs:
        assert said(out, db, "would remove") == retired
        # untouched (this release's own may appear meanwhile: on a shared CouchDB another
        # service's _db_updates follower installs it into a reporting account's new MoDB)
        after = await ddoc_revs(couch, db)
        assert {k: v for k, v in after.items() if k != this_id} == {
            k: v for k, v in before[db].items() if k != this_id
        }
        assert set(before[db]) >= {*retired, "_design/cdrs", "_design/qubicle_reports_extra"}
    assert "would remove 4, " in out

    await proxy.reset()
    code = await install_views_command(
        Settings(couchdb_url=proxy.url), account_id, build=True, prune=True
    )
    out = capsys.readouterr().out
    assert code == 0, out
    for db in dbs:
        assert said(out, db, "removed") == retired
        assert sorted(await ddoc_revs(couch, db)) == kept
    assert "other releases' design docs: removed 4, " in out and "_view_cleanup" in out
    cleanups = [r for r in proxy.requests if r.target.endswith("/_view_cleanup")]
    assert len(cleanups) == len(dbs) and all(r.method == "POST" for r in cleanups)

    # the current release answers exactly, and `status` names what is left
    async with make_client(settings(couch_url, account_id)) as client:
        data = {"start_date": START, "end_date": END, **REPORTS[1]}
        assert await ask(client, account_id, data) == ref.expected_report(docs, data)
    # on a cluster the copies a query did not read may go on building a little longer:
    # `status` says built once every copy is
    async with asyncio.timeout(120):
        while await status_command(Settings(couchdb_url=couch_url), account_id) != 0:
            capsys.readouterr()
            await asyncio.sleep(1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"qubicle-reports {design_docs_version()}, design doc ")
    for db in dbs:
        assert f"{db}  {design_docs.current_name()} (this release): index built" in lines


async def test_status_names_each_releases_design_doc_per_modb(
    couch: Couch, couch_url: str, account: Any, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    account_id, dbs, _ = account
    other = second_release(tmp_path)
    altered = {**copy.deepcopy(other), "_id": "_design/qubicle_reports-" + "0" * 16}
    db = dbs[0]
    for doc in (legacy_release(), other, altered):
        await couch.put_doc(db, doc)
    assert await Installer(couch).install(db) == "installed"
    assert await status_command(Settings(couchdb_url=couch_url), account_id) == 1
    lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith(db + " ")]
    said = {line.split("  ", 1)[1].rsplit(": index ", 1)[0] for line in lines}
    assert said == {
        f"{design_docs.current_name()} (this release)",
        f"{design_docs.name_of(other)} (another release)",
        "qubicle_reports (0.1.0 and before)",
        "qubicle_reports-0000000000000000 (altered: never read)",
    }


def design_docs_version() -> str:
    from app import __version__

    return __version__
