"""The front door: every command explains itself, and seed + install-views work end to end."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app.couch import Couch
from app.design_docs import DDOC, VERSION_FIELD, load
from app.installer import month_dbs
from app.seed import plan_account

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
        assert await couch.get_doc(db, f"_design/{DDOC}") is None

    installed = run_cli("install-views", "--account", account_id, "--warm", env=env)
    assert installed.returncode == 0, installed.stderr
    assert "2 installed" in installed.stdout
    for db in dbs:
        ddoc = await couch.get_doc(db, f"_design/{DDOC}")
        assert ddoc is not None and ddoc[VERSION_FIELD] == load()[VERSION_FIELD]

    again = run_cli("install-views", "--account", account_id, env=env)
    assert again.returncode == 0
    assert "2 current" in again.stdout


def test_seed_start_must_be_a_date() -> None:
    out = run_cli("seed", "--start", "yesterday")
    assert out.returncode == 2
    assert "not an ISO date" in out.stderr
