"""``install-views``: which MoDBs it covers (CONTRACT.md section 1), and ``--warm`` following a
build longer than a view query may wait, to the end.

The long build: our design doc with its version marker but a first view whose map function
spends a few ms per document (tests/test_index_build.py's technique), and a per-query timeout
(``QUBICLE_REPORTS_WARM_QUERY_TIMEOUT``) far below the build's length, as CouchDB's 60 s view
timeout is below a big MoDB's build.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from conftest import Accounts, seed_account
from test_index_build import copies, slowed

from app.commands.install_views import install_views_command
from app.config import Settings
from app.couch import design_docs, modb
from app.couch.client import Couch

DDOC_ID = design_docs.load()["_id"]


async def test_warm_follows_a_build_longer_than_the_query_timeout_and_exits_0(
    couch: Couch, couch_url: str, accounts: Accounts, capsys: pytest.CaptureFixture[str]
) -> None:
    account_id = accounts.new()
    await seed_account(
        couch,
        account_id,
        seed=31,
        build=False,
        start=date(2024, 3, 1),
        days=3,
        calls_per_day=80,
    )
    db = modb.modb(account_id, 2024, 3)
    await copies(couch, db, 1)  # ~500 documents: a few s in the slowed view
    first_view = next(iter(design_docs.load()["views"]))
    slow = slowed({first_view})  # a release whose index takes long to build
    await couch.put_doc(db, slow)
    settings = Settings(couchdb_url=couch_url, warm_query_timeout=1.0, warm_poll=0.5)

    code = await install_views_command(settings, account_id, True, design_doc=slow)

    out = capsys.readouterr().out
    assert code == 0, out
    # it watched the build while queries gave up: percentages, then done
    progress = [line for line in out.splitlines() if re.match(rf"{re.escape(db)}: \d+%", line)]
    assert progress, out
    assert f"{db}: built" in out
    assert "1 current" in out and "(indexes built)" in out
    state = await couch.index_state(db, design_docs.name_of(slow))
    assert state is not None and not state.building


async def test_without_all_only_accounts_that_report_get_the_design_doc(
    couch: Couch, couch_url: str, accounts: Accounts, capsys: pytest.CaptureFixture[str]
) -> None:
    reporting, silent, older = accounts.new(), accounts.new(), accounts.new()
    for account_id in (reporting, silent, older):
        for month in (2, 3, 4):
            await couch.create_db(modb.modb(account_id, 2024, month))
    # the reporting account got it in March (a report read it), not in February
    await couch.put_doc(modb.modb(reporting, 2024, 3), dict(design_docs.load()))
    # another reports through a release up to 0.1.0: its design doc, under the old name
    legacy = {**design_docs.load(), "_id": design_docs.LEGACY}
    await couch.put_doc(modb.modb(older, 2024, 3), legacy)
    settings = Settings(couchdb_url=couch_url)

    assert await install_views_command(settings, None, False) == 0

    async def has(account_id: str, month: int) -> bool:
        return await couch.get_doc(modb.modb(account_id, 2024, month), DDOC_ID) is not None

    assert [await has(reporting, m) for m in (2, 3, 4)] == [False, True, True]
    assert [await has(older, m) for m in (2, 3, 4)] == [False, True, True]
    assert [await has(silent, m) for m in (2, 3, 4)] == [False, False, False]
    capsys.readouterr()

    # --account names one: all its months; --all: every account
    assert await install_views_command(settings, silent, False) == 0
    assert [await has(silent, m) for m in (2, 3, 4)] == [True, True, True]
    assert "3 installed" in capsys.readouterr().out
    assert await install_views_command(settings, None, False, every=True) == 0
    assert await has(reporting, 2)
