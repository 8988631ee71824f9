"""The ways bench/bench.py answers a report (service, cheapest read, our queries, naive),
each timed the same way.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))


from cheapest import DDOC as MINIMAL_DDOC
from cheapest import Read, request_of
from common import (
    Dataset,
    RawCouch,
    Service,
    Stats,
    gather_bounded,
    report_path,
)

from app.couch.modb import modbs_for_range
from app.report.load import Query
from qubicle_dev.seed import GREGORIAN_OFFSET


@dataclass
class Target:
    """A service and the dataset it answers for (its token)."""

    service: Service
    ds: Dataset
    token: str


class Bench:
    """What every measurement needs: CouchDB (raw), an HTTP client, the concurrency."""

    def __init__(self, raw: RawCouch, http: aiohttp.ClientSession, concurrency: int) -> None:
        self.raw = raw
        self.http = http
        self.concurrency = concurrency

    async def service_once(
        self, t: Target, params: dict[str, Any], *, cold: bool = True
    ) -> tuple[float, bytes]:
        """Milliseconds of one full HTTP request (body read), and the body."""
        headers = {"X-Auth-Token": t.token, "Content-Type": "application/json"}
        if cold:
            headers["Cache-Control"] = "no-cache"
        body = orjson.dumps({"data": params})
        started = time.perf_counter()
        async with self.http.post(
            t.service.url + report_path(t.ds.account_id), data=body, headers=headers
        ) as resp:
            content = await resp.read()
        elapsed = (time.perf_counter() - started) * 1000
        if resp.status != 200:
            raise RuntimeError(f"service answered {resp.status}: {content[:300]!r}")
        return elapsed, content

    async def cheapest_once(self, reads: Sequence[Read]) -> tuple[float, list[bytes]]:
        """The cheapest read: minimal views, straight to CouchDB; the answers as sent."""
        started = time.perf_counter()
        bodies = await gather_bounded(
            self.concurrency, [self.raw.view(r.db, r.view, r.params, MINIMAL_DDOC) for r in reads]
        )
        return (time.perf_counter() - started) * 1000, bodies

    async def ours_once(self, queries: Sequence[Query]) -> float:
        """The service's own queries (our design doc), straight to CouchDB."""
        started = time.perf_counter()
        await gather_bounded(
            self.concurrency, [self.raw.view(q.db, q.view, q.params) for q in queries]
        )
        return (time.perf_counter() - started) * 1000

    async def naive_once(
        self, account_id: str, params: dict[str, Any]
    ) -> tuple[float, dict[str, dict[str, list[int]]]]:
        """Load every document of every MoDB of the range, keep qubicle_sessions, sum by bucket.

        Each MoDB is parsed and folded as soon as it arrives, with the same concurrency as
        the service, so the baseline is not slower than it has to be.
        """
        _, buckets = request_of(params)
        sums: dict[str, dict[str, list[int]]] = {}
        day_keys: dict[int, str] = {}

        async def one(db: str) -> None:
            body = await self.raw.get(db, "_all_docs", {"include_docs": True})
            for row in orjson.loads(body).get("rows", ()):
                doc = row.get("doc") or {}
                if doc.get("pvt_type") != "qubicle_session":
                    continue
                entered, queue = doc.get("entered_timestamp"), doc.get("queue_id")
                if not isinstance(entered, int) or not isinstance(queue, str):
                    continue
                unix_day = (entered - GREGORIAN_OFFSET) // 86400
                key = day_keys.get(unix_day)
                if key is None:
                    key = day_keys[unix_day] = datetime.fromtimestamp(
                        unix_day * 86400, UTC
                    ).strftime("%Y%m%d")
                bucket = buckets.slots.get((key,))
                if bucket is None:
                    continue
                acc = sums.setdefault(queue, {}).setdefault(bucket, [0, 0, 0, 0])
                result = doc.get("result")
                acc[0] += 1
                acc[1] += doc.get("wait_time", 0)
                acc[2] += result == "timeout"
                acc[3] += result == "abandoned"

        started = time.perf_counter()
        dbs = [m.name for m in modbs_for_range(account_id, buckets.first_day, buckets.last_day)]
        await gather_bounded(self.concurrency, [one(db) for db in dbs])
        return (time.perf_counter() - started) * 1000, sums


async def repeat(n: int, *steps: Callable[[], Awaitable[float]]) -> list[Stats]:
    """Run the steps in turn, ``n`` rounds (interleaved, so drift hits every step alike)."""
    runs: list[list[float]] = [[] for _ in steps]
    for _ in range(n):
        for i, step in enumerate(steps):
            runs[i].append(await step())
    return [Stats(tuple(r)) for r in runs]


def call_counts(body: bytes) -> dict[str, dict[str, int]]:
    """{entity: {bucket: call_count}} of a service JSON answer (the totals item left out)."""
    report = orjson.loads(body)["data"][0]["report"]
    return {
        e["id"]: {b: v for b, v in e["data"]["call_count"].items() if v and b != "total"}
        for e in report
        if e["id"] != "total"
    }


def floor_call_counts(bodies: list[bytes], params: dict[str, Any]) -> dict[str, dict[str, int]]:
    """{entity: {bucket: call_count}} of the cheapest read of a UTC daily report: keys
    [entity, day] or [queue, recipient, day]; the value's first number is call_count (visits
    of a queue, answered offers of a recipient)."""
    _, buckets = request_of(params)
    out: dict[str, dict[str, int]] = {}
    for body in bodies:
        for row in orjson.loads(body).get("rows", ()):
            *_, entity, day = row["key"]
            bucket = buckets.slots.get((day,))
            if bucket is not None and row["value"][0]:
                per = out.setdefault(entity, {})
                per[bucket] = per.get(bucket, 0) + row["value"][0]
    return out
