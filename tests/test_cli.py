"""The front door: every command explains itself, and seed + install-views work end to end."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date

import pytest

from app.couch.client import Couch
from app.couch.design_docs import VERSION_FIELD, load
from app.couch.installer import month_dbs
from app.couch.modb import account_db
from qubicle_dev.seed import plan_account

COMMANDS = ["serve", "install-views", "seed", "devcouch", "demo"]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_top_level_help_lists_every_command() -> None:
    out = run_cli("--help")
    assert out.returncode == 0
    for command in COMMANDS:
        assert command in out.stdout
    assert "COUCHDB_URL" in out.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_its_own_help(command: str) -> None:
    out = run_cli(command, "--help")
    assert out.returncode == 0
    assert f"usage: qubicle-reports {command}" in out.stdout
    assert len(out.stdout.splitlines()) > 3  # a description, not just a usage line


def test_unknown_command_fails_with_usage() -> None:
    out = run_cli("frobnicate")
    assert out.returncode == 2
    assert "usage:" in out.stderr


def test_install_views_rejects_a_malformed_account() -> None:
    out = run_cli("install-views", "--account", "NOT-AN-ID")
    assert out.returncode == 2
    assert "not an account id" in out.stdout


async def test_seed_then_install_views_for_one_account(
    couch_url: str, couch: Couch, accounts: object
) -> None:
    # `seed --seed N` makes a deterministic account id: pick a seed number nobody else uses
    seed_no = int.from_bytes(os.urandom(4), "big")
    account_id = plan_account(seed_no, 0, queues=2, recipients=3).account_id
    accounts.ids.add(account_id)  # type: ignore[attr-defined]  # deleted after the test
    env = {"COUCHDB_URL": couch_url}
    seeded = run_cli(
        "seed",
        "--seed",
        str(seed_no),
        "--queues",
        "2",
        "--recipients",
        "3",
        "--days",
        "3",
        "--calls-per-day",
        "10",
        "--start",
        "2024-02-28",
        "--quiet",
        env=env,
    )
    assert seeded.returncode == 0, seeded.stderr
    assert account_id in seeded.stdout
    assert f"/v2/accounts/{account_id}/qubicle_reports" in seeded.stdout
    assert "curl" in seeded.stdout

    dbs = await month_dbs(couch, account_id)
    assert dbs == sorted(dbs) and [d[-6:] for d in dbs] == ["202402", "202403"]
    for db in dbs:  # seed leaves no design doc behind: reports must not depend on it
        assert await couch.get_doc(db, load()["_id"]) is None

    installed = run_cli("install-views", "--account", account_id, "--warm", env=env)
    assert installed.returncode == 0, installed.stderr
    assert "2 installed" in installed.stdout
    for db in dbs:
        ddoc = await couch.get_doc(db, load()["_id"])
        assert ddoc is not None and ddoc[VERSION_FIELD] == load()[VERSION_FIELD]

    again = run_cli("install-views", "--account", account_id, env=env)
    assert again.returncode == 0
    assert "2 current" in again.stdout


def test_seed_start_must_be_a_date() -> None:
    out = run_cli("seed", "--start", "yesterday")
    assert out.returncode == 2
    assert "not an ISO date" in out.stderr


def test_seed_help_names_the_sources() -> None:
    out = run_cli("seed", "--help")
    assert out.returncode == 0
    assert "--source {qubicle,acdc,both}" in out.stdout
    assert "call_stat" in out.stdout and "qubicle_session" in out.stdout
    bad = run_cli("seed", "--source", "cdr")
    assert bad.returncode == 2
    assert "invalid choice: 'cdr'" in bad.stderr


async def test_seed_acdc_end_to_end(couch_url: str, couch: Couch, accounts: object) -> None:
    """`seed --source acdc` writes call_stats into the MoDBs of their archive month, names
    the queues and agents in the account database, and prints a curl for the account."""
    seed_no = int.from_bytes(os.urandom(4), "big")
    plan = plan_account(seed_no, 0, queues=2, recipients=3, source="acdc")
    accounts.ids.add(plan.account_id)  # type: ignore[attr-defined]  # deleted after the test
    seeded = run_cli(
        "seed",
        "--source",
        "acdc",
        "--seed",
        str(seed_no),
        "--queues",
        "2",
        "--recipients",
        "3",
        "--days",
        "2",
        "--calls-per-day",
        "8",
        "--start",
        "2024-03-30",  # 03-30 and 03-31: the last evening is archived into April
        "--quiet",
        env={"COUCHDB_URL": couch_url},
    )
    assert seeded.returncode == 0, seeded.stderr
    assert plan.account_id in seeded.stdout and "'ACDC Demo 1'" in seeded.stdout
    assert f"/v2/accounts/{plan.account_id}/qubicle_reports" in seeded.stdout
    assert " call_stat, " in seeded.stdout and " status_stat docs" in seeded.stdout
    assert "qubicle_session" not in seeded.stdout and '"report":"agent_states"' in seeded.stdout
    for queue_id, name in plan.queue_names().items():
        assert f"{queue_id[:8]} {name}" in seeded.stdout

    dbs = await month_dbs(couch, plan.account_id)
    assert [d[-6:] for d in dbs] == ["202403", "202404"]
    stored = []
    for db in dbs:
        for row in await couch.all_docs(db, include_docs=True):
            doc = {k: v for k, v in row["doc"].items() if k != "_rev"}
            assert doc["pvt_account_db"] == db.replace("/", "%2F")
            stored.append(doc)
    want = list(plan.month_docs(date(2024, 3, 30), 2, 8))
    assert sorted(stored, key=lambda d: d["_id"]) == sorted(want, key=lambda d: d["_id"])
    assert {d["pvt_type"] for d in stored} == {"call_stat", "status_stat"}
    account = await couch.all_docs(account_db(plan.account_id), include_docs=True)
    kinds = sorted(r["doc"]["pvt_type"] for r in account)
    assert kinds == ["account", "queue", "queue", "user", "user", "user"]


def test_demo_prints_a_curl_and_token_per_account_and_the_dashboard() -> None:
    from qubicle_dev.demo import DEMO_ACCOUNTS, DemoAccount, demo_text

    accounts = [
        DemoAccount(source, token, f"{i:x}" * 32, f"Demo {i}", [f"{i + 5:x}" * 32])
        for i, (source, token) in enumerate(DEMO_ACCOUNTS, start=1)
    ]
    assert [a.source for a in accounts] == ["qubicle", "acdc"]
    text = demo_text(accounts, "2024-01-01", "2024-02-14", "127.0.0.1", 8000)
    for a in accounts:
        assert (
            f"curl -s -H 'X-Auth-Token: {a.token}' -H 'Content-Type: application/json' "
            f"http://127.0.0.1:8000/v2/accounts/{a.account_id}/qubicle_reports -d '"
        ) in text
    acdc = accounts[1]
    states = '{"data":{"report":"agent_states","start_date":"2024-01-01","end_date":"2024-02-14"'
    assert f"{acdc.account_id}/qubicle_reports -d '{states}," in text
    assert text.count('"agent_states"') == 1  # the Qubicle account has no agent states
    assert "Dashboard: http://127.0.0.1:8000/ (paste the token and account id)" in text
    first = accounts[0]
    assert (
        f"export TOKEN=demo-token ACCOUNT={first.account_id} START=2024-01-01 END=2024-02-14"
        in text
    )
    assert accounts[1].token == "demo-token-acdc"


def test_version_names_the_release_and_its_design_doc() -> None:
    from app import __version__
    from app.couch.design_docs import current_name

    out = run_cli("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"qubicle-reports {__version__} (design doc {current_name()})"
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__) and __version__ != "0.1.0"


def test_the_start_up_line_says_release_auth_nodes_design_doc_and_follower() -> None:
    from app import __version__
    from app.config import Settings
    from app.couch.design_docs import current_name
    from app.web.server import startup_line

    settings = Settings(
        couchdb_url="http://admin:s3cret-pw@10.0.0.1:5984, http://admin:s3cret-pw@10.0.0.2:5984",
        tokens={"t1": "a" * 32, "t2": "b" * 32},
        follow_db_updates=False,
    )
    line = startup_line(settings, "0.0.0.0", 8000)
    assert line == (
        f"qubicle-reports {__version__} on http://0.0.0.0:8000: auth static tokens (2); "
        "CouchDB http://10.0.0.1:5984, http://10.0.0.2:5984 as admin; "
        f"design doc {current_name()}; _db_updates follower off"
    )
    assert "s3cret" not in line
