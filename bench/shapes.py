"""The report shapes bench/bench.py measures, and the service's own queries for each."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cheapest import request_of
from common import (
    Dataset,
    Stats,
)

from app.report.load import Query, plan_queries

TOKEN = "bench"
TABLE_MONTHS = 3  # issue 11's table: 3 months of data


@dataclass
class Report:
    """One benchmarked report: its parameters and which comparisons apply to it."""

    name: str
    params: dict[str, Any]
    naive: bool = False  # also time the no-view baseline (slow: a few reports only)
    check_floor: bool = False  # UTC daily queues: the floor's call counts must equal ours
    service: Stats | None = None
    floor: Stats | None = None  # the cheapest read
    ours: Stats | None = None  # the service's own queries straight to CouchDB
    naive_stats: Stats | None = None
    response_bytes: int = 0
    naive_agrees: bool | None = None  # naive call_count == the service's, bucket by bucket
    floor_agrees: bool | None = None  # cheapest read's call_count == the service's
    notes: list[str] = field(default_factory=list)


def span(ds: Dataset, months: int = TABLE_MONTHS) -> dict[str, str]:
    first, last = ds.window(months)
    return {"start_date": first.isoformat(), "end_date": last.isoformat()}


def shape(
    ds: Dataset,
    report: str,
    period: str,
    suffix: str = "",
    *,
    flags: dict[str, bool] | None = None,
    **params: Any,
) -> Report:
    """A report over the table's months: "<report> <period> <n> months<suffix>"."""
    n = min(ds.months, TABLE_MONTHS)
    return Report(
        f"{report} {period} {n} months{suffix}",
        {"report": report, "period": period, **params, **span(ds)},
        **(flags or {}),
    )


CHECKED = {"check_floor": True}


def reports(ds: Dataset) -> list[Report]:
    """Issue 11's table: every report shape over the last 3 months (capped at the data)."""
    return [
        shape(ds, "queues", "daily", flags={"naive": True, **CHECKED}),
        shape(ds, "queues", "monthly", flags={"naive": True}),
        shape(ds, "queues", "hourly"),
        shape(ds, "queues", "daily", " Asia/Kolkata", timezone="Asia/Kolkata"),
        shape(ds, "recipients", "daily"),
        shape(
            ds, "recipients", "daily", ", 2 queue_ids", flags=CHECKED, queue_ids=ds.queue_ids[:2]
        ),
    ]


def memory_reports(ds: Dataset) -> list[Report]:
    """Issue 11's memory row: a recipients hourly report over the table's months, its CSV."""
    json, csv = shape(ds, "recipients", "hourly"), shape(ds, "recipients", "hourly", format="csv")
    csv.name = f"CSV of: {json.name}"
    return [json, csv]


def queries_of(account_id: str, params: dict[str, Any]) -> list[Query]:
    """Exactly the view queries the service sends for these parameters."""
    req, buckets = request_of(params)
    return plan_queries(account_id, req, buckets)
