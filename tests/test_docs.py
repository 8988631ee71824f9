"""What the documentation says about the metrics is what the service computes: its report
metrics page holds the very text ``qubicle-reports metrics`` prints from
``app/report/metrics.py``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import reference as ref

from app.report.metrics import REPORTS, markdown_table

PAGE = Path(__file__).resolve().parent.parent / "docs" / "reference" / "report-metrics.md"


def test_the_docs_hold_the_metric_table_the_cli_prints() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "app.cli", "metrics"], capture_output=True, text=True, check=True
    ).stdout
    assert printed == markdown_table()
    assert printed in PAGE.read_text()


def test_the_table_names_every_metric_of_the_contract_once_per_report() -> None:
    table = markdown_table()
    for report, names in (
        ("queues", ref.QUEUE_ALL_METRICS),
        ("recipients", ref.RECIPIENT_ALL_METRICS),
        ("agent_states", ref.AGENT_METRICS),
    ):
        assert list(REPORTS[report].metrics) == names
        for name in names:
            assert table.count(f"| `{report}` | `{name}` |") == 1, (report, name)
