"""The operator's deployment files: the Prometheus alert rules pass ``promtool check rules``
and their unit tests (``promtool test rules``), each alert's runbook is a paragraph of the
docs, and every metric the rules and the Grafana board query is one a running service
exports (scraped from its ``/metrics``)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from conftest import make_client

from app.config import Settings

ROOT = Path(__file__).resolve().parent.parent
PROMETHEUS = ROOT / "deploy" / "prometheus"
ALERTS = PROMETHEUS / "alerts.yml"
BOARD = ROOT / "deploy" / "grafana" / "qubicle-reports.json"
RUNBOOK_PAGE = ROOT / "docs" / "metrics-and-alerts.md"
RUNBOOK_URL = "https://docs.example.com/qubicle-reports/metrics-and-alerts/#"
# Grafana's own variables, as Grafana substitutes them before Prometheus sees a query
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$instance": ".*"}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("promtool")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("promtool missing: .ci/run installs Debian's prometheus package")
        pytest.skip("promtool missing (apt-get install prometheus)")
    return subprocess.run(
        [exe, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120, check=False
    )


def rules() -> list[dict[str, Any]]:
    return [r for g in yaml.safe_load(ALERTS.read_text())["groups"] for r in g["rules"]]


def board_queries() -> list[tuple[str, str]]:
    board = json.loads(BOARD.read_text())
    out = []
    for panel in board["panels"]:
        assert panel["targets"], panel["title"]
        out += [(panel["title"], t["expr"]) for t in panel["targets"]]
    return out


def metric_names(expr: str) -> set[str]:
    """Every metric name a PromQL expression selects (it must parse)."""
    names: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                visit(item)
            return
        if isinstance(node, promql_parser.VectorSelector):
            names.add(node.name)
            return
        for attr in ("lhs", "rhs", "args", "expr", "param", "vector_selector"):
            child = getattr(node, attr, None)
            if child is not None:
                visit(child)

    visit(promql_parser.parse(expr))
    return names


def test_promtool_checks_the_rules() -> None:
    out = promtool("check", "rules", "alerts.yml")
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"SUCCESS: {len(rules())} rules found" in out.stdout


def test_promtool_unit_tests_pass_and_cover_every_alert() -> None:
    out = promtool("test", "rules", "alerts.test.yml")
    assert out.returncode == 0, out.stdout + out.stderr
    tested = set(re.findall(r"alertname: (\w+)", (PROMETHEUS / "alerts.test.yml").read_text()))
    assert tested == {r["alert"] for r in rules()}


def test_each_alert_has_a_summary_and_a_runbook_paragraph_in_the_docs() -> None:
    headings = {
        re.sub(r"[^\w-]", "", h.strip().lower().replace(" ", "-"))
        for h in re.findall(r"^### (.+)$", RUNBOOK_PAGE.read_text(), re.M)
    }
    for rule in rules():
        annotations = rule["annotations"]
        assert annotations["summary"], rule["alert"]
        assert annotations["runbook_url"] == RUNBOOK_URL + rule["alert"].lower()
        assert rule["alert"].lower() in headings, f"no '### {rule['alert']}' in the docs"


def test_the_board_covers_what_an_operator_watches() -> None:
    used = set().union(*(metric_names(sub(e)) for _, e in board_queries()))
    for family in (
        "qubicle_reports_http_requests_total",
        "qubicle_reports_http_request_duration_seconds_bucket",
        "qubicle_reports_report_phase_duration_seconds_bucket",
        "qubicle_reports_couchdb_requests_total",
        "qubicle_reports_cache_hits_total",
        "qubicle_reports_index_states",
        "qubicle_reports_db_updates_state",
    ):
        assert family in used, family


def sub(expr: str) -> str:
    for name, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(name, value)
    return expr


def exported(exposition: str) -> set[str]:
    """Every series name a scrape can hold: the samples, and each declared family's series
    (a labelled family shows no sample before its first observation)."""
    names = {line.split("{")[0].split(" ")[0] for line in exposition.splitlines()}
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", exposition, re.M):
        if kind == "histogram":
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
        elif kind == "counter":
            names.add(name if name.endswith("_total") else f"{name}_total")
        else:
            names.add(name)
    return {n for n in names if n and not n.startswith("#")}


async def test_every_metric_the_rules_and_the_board_query_is_exported(couch_url: str) -> None:
    async with make_client(Settings(couchdb_url=couch_url)) as client:
        assert (await client.get("/health/live")).status == 200
        resp = await client.get("/metrics")
        assert resp.status == 200
        names = exported(await resp.text())
    assert "qubicle_reports_http_requests_total" in names  # the scrape is what we think
    queries = [(r["alert"], r["expr"]) for r in rules()] + board_queries()
    for where, expr in queries:
        unknown = metric_names(sub(expr)) - names
        assert not unknown, f"{where} queries {sorted(unknown)}, which /metrics does not export"


# -- the compose file and the Dockerfile -------------------------------------------------------

COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERFILELINT = ROOT / "deploy" / "lint" / "node_modules" / ".bin" / "dockerfilelint"


def tool(path: Path | str | None, what: str) -> str:
    found = shutil.which(str(path)) if path else None
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{what} missing: .ci/run and make install provide it")
        pytest.skip(f"{what} missing")
    return found


def test_promtool_checks_the_prometheus_config_of_the_monitoring_profile() -> None:
    out = promtool("check", "config", "prometheus.yml")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS: 1 rule files found" in out.stdout


def test_the_compose_file_validates_with_the_monitoring_profile() -> None:
    compose = tool("docker-compose", "docker-compose (Debian's package)")
    for profile in ([], ["--profile", "monitoring"]):
        out = subprocess.run(
            [compose, "-f", str(COMPOSE), *profile, "config", "--services"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        services = set(out.stdout.split())
        assert services >= {"couchdb", "seed", "reports", "prometheus"}
    prometheus = yaml.safe_load(COMPOSE.read_text())["services"]["prometheus"]
    assert prometheus["profiles"] == ["monitoring"]  # `docker compose up` alone runs without
    assert "./deploy/prometheus:/etc/prometheus:ro" in prometheus["volumes"]  # with the rules


def stages() -> dict[str, str]:
    """Each Dockerfile stage's name and its instructions."""
    parts = re.split(r"^FROM \S+ AS (\w+)\n", DOCKERFILE.read_text(), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_each_compose_command_is_one_its_image_has() -> None:
    """The seed step runs a development command, so its image must install dev/; the
    service's image must not (the wheel alone)."""
    from app.cli import BUILT_IN, commands

    service_commands = {c.name for c in BUILT_IN}
    dev_commands = {c.name for c in commands()} - service_commands
    assert "seed" in dev_commands
    found = stages()
    assert list(found)[-1] == "service"  # `docker build .` builds the service
    assert "/src/dev" not in found["service"] and "/src/dev" in found["devtools"]
    compose = yaml.safe_load(COMPOSE.read_text())["services"]
    for name, service in compose.items():
        if "build" not in service:
            continue
        target = service["build"]["target"]
        has = service_commands | (dev_commands if "/src/dev" in found[target] else set())
        argv = service.get("command") or re.findall(r'"([^"]+)"', found[target].split("CMD")[-1])
        assert argv[0] == "qubicle-reports" and argv[1] in has, (name, target, argv)


def test_the_dockerfile_lints_clean_and_the_linter_does_flag_mistakes(tmp_path: Path) -> None:
    lint = tool(DOCKERFILELINT, "dockerfilelint (make install: deploy/lint)")
    out = subprocess.run([lint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:3.11-slim\nRUN apt-get update && apt-get install curl\n")
    out = subprocess.run([lint, str(bad)], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "apt-get" in out.stdout
