"""One report, one pipeline: plan buckets -> plan queries (MoDB range) -> load -> merge."""

from __future__ import annotations

import time
from dataclasses import dataclass

from app.buckets import plan
from app.couch import Couch
from app.installer import Installer
from app.load import load, plan_queries
from app.merge import Result, merge
from app.request import ReportRequest


@dataclass
class Reader:
    """What a report needs to read CouchDB: the client, the installer, a concurrency bound."""

    couch: Couch
    installer: Installer
    month_concurrency: int = 8


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 3)


async def run_report(reader: Reader, account_id: str, req: ReportRequest) -> Result:
    started = time.perf_counter()
    buckets = plan(req.start, req.end, req.period, req.timezone)
    queries = plan_queries(account_id, req, buckets)
    row_sets = await load(reader.couch, reader.installer, queries, reader.month_concurrency)
    load_ms = _ms(started)
    started = time.perf_counter()
    result = merge(req, buckets, row_sets)
    result.timings = {"load": load_ms, "filter": _ms(started)}
    return result
