"""Every command failure an operator meets first is one line on stderr naming the cause and
the fix, never a traceback, with the exit status the command reference documents."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid

import pytest

# the exit statuses docs/reference/cli.md lists
CONFIGURATION, COUCHDB, NO_MODBS, CANNOT_LISTEN = 4, 5, 6, 7


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("QUBICLE_REPORTS_")}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean, **env},
        check=False,
    )


def one_line(out: subprocess.CompletedProcess[str], command: str, *words: str) -> str:
    assert "Traceback" not in out.stderr + out.stdout
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith(f"qubicle-reports {command}: ")
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def test_serve_refuses_to_start_without_tokens_in_static_mode() -> None:
    out = run_cli("serve", "--port", "1")
    assert out.returncode == CONFIGURATION
    one_line(out, "serve", "QUBICLE_REPORTS_TOKENS", "token=ACCOUNT_ID", "QUBICLE_REPORTS_AUTH=jwt")


@pytest.mark.parametrize("key", ["", "/nonexistent/kazoo.pem"])
def test_serve_refuses_jwt_mode_without_a_readable_key(key: str) -> None:
    env = {"QUBICLE_REPORTS_AUTH": "jwt"} | ({"QUBICLE_REPORTS_JWT_PUBLIC_KEY": key} if key else {})
    out = run_cli("serve", "--port", "1", **env)
    assert out.returncode == CONFIGURATION
    one_line(out, "serve", "QUBICLE_REPORTS_JWT_PUBLIC_KEY", "PEM")


def test_a_number_with_a_unit_names_the_variable() -> None:
    out = run_cli("status", QUBICLE_REPORTS_COUCH_TIMEOUT="30s")
    assert out.returncode == CONFIGURATION
    one_line(out, "status", "QUBICLE_REPORTS_COUCH_TIMEOUT", "'30s'", "like 30")


def test_a_couchdb_url_without_a_scheme_says_how_to_write_it() -> None:
    out = run_cli("status", COUCHDB_URL="admin:secret-pw@couch.example:5984")
    assert out.returncode == CONFIGURATION
    line = one_line(out, "status", "COUCHDB_URL", "http://")
    assert "secret-pw" not in line


@pytest.mark.parametrize("command", [["status"], ["install-views"]])
def test_an_unreachable_couchdb_is_one_line(command: list[str]) -> None:
    out = run_cli(*command, COUCHDB_URL="http://127.0.0.1:1", QUBICLE_REPORTS_COUCH_TIMEOUT="5")
    assert out.returncode == COUCHDB
    one_line(out, command[0], "CouchDB", "COUCHDB_URL")


@pytest.mark.parametrize("command", ["status", "install-views"])
def test_an_account_with_no_modbs_is_an_error(couch_url: str, command: str) -> None:
    account = uuid.uuid4().hex
    out = run_cli(command, "--account", account, COUCHDB_URL=couch_url)
    assert out.returncode == NO_MODBS
    one_line(out, command, account, "no month databases")
    assert "no MoDBs found" not in out.stdout


def test_a_metrics_address_without_a_port_says_how_to_write_it() -> None:
    out = run_cli("serve", QUBICLE_REPORTS_TOKENS="t=x", QUBICLE_REPORTS_METRICS_ADDRESS="9100")
    assert out.returncode == CONFIGURATION
    one_line(out, "serve", "QUBICLE_REPORTS_METRICS_ADDRESS", "host:port")


def test_serve_on_a_port_in_use_is_one_line(couch_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        out = run_cli(
            "serve",
            "--port",
            port,
            COUCHDB_URL=couch_url,
            QUBICLE_REPORTS_TOKENS="t=x",
            QUBICLE_REPORTS_FOLLOW_DB_UPDATES="off",
        )
    assert out.returncode == CANNOT_LISTEN
    assert "Traceback" not in out.stderr
    [line] = [x for x in out.stderr.splitlines() if x.startswith("qubicle-reports serve: ")]
    assert "address already in use" in line and "--port" in line
