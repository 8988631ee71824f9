"""Fold view rows into report buckets: exact sums, zero-filled, in a fixed entity order.

Pure: takes the rows :mod:`app.load` read and the :class:`BucketPlan`, returns a
:class:`Result` that every renderer reads. Metrics are computed from sums at render time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from app.buckets import BucketPlan
from app.metrics import REPORTS
from app.request import ReportRequest

Sums = list[float]


@dataclass
class Result:
    request: ReportRequest
    buckets: tuple[str, ...]
    entities: list[str]
    sums: dict[str, dict[str, Sums]]  # entity -> bucket -> sums (only buckets with data)
    timings: dict[str, float] = field(default_factory=dict)

    def series(self) -> Iterator[tuple[str, dict[str, dict[str, float | int]]]]:
        """(entity, {metric: {bucket: value}}) for every entity, every bucket."""
        kind = REPORTS[self.request.report]
        zero = [0] * kind.width
        for entity in self.entities:
            per_bucket = self.sums.get(entity, {})
            sums = [per_bucket.get(b, zero) for b in self.buckets]
            yield (
                entity,
                {
                    m: dict(zip(self.buckets, map(kind.metrics[m], sums), strict=True))
                    for m in self.request.metrics
                },
            )

    def rows(self) -> Iterator[tuple[str, str, list[float | int]]]:
        """(entity, bucket, [metric values in request order]) for tabular renderers."""
        kind = REPORTS[self.request.report]
        zero = [0] * kind.width
        fns = [kind.metrics[m] for m in self.request.metrics]
        for entity in self.entities:
            per_bucket = self.sums.get(entity, {})
            for b in self.buckets:
                sums = per_bucket.get(b, zero)
                yield entity, b, [f(sums) for f in fns]


def merge(req: ReportRequest, plan: BucketPlan, row_sets: Iterable[list[dict[str, Any]]]) -> Result:
    by_queue = req.queue_ids is not None
    wanted = set(req.identifiers) if req.identifiers is not None else None
    queues = set(req.queue_ids) if req.queue_ids is not None else None
    slots = plan.slots
    sums: dict[str, dict[str, Sums]] = {}
    for rows in row_sets:
        for row in rows:
            key = row["key"]
            entity = key[0]
            if by_queue:
                if not isinstance(entity, list) or len(entity) != 2 or entity[1] not in queues:
                    continue
                entity = entity[0]
            if not isinstance(entity, str) or (wanted is not None and entity not in wanted):
                continue
            bucket = slots.get(tuple(key[1:]))
            if bucket is None:
                continue
            per_bucket = sums.setdefault(entity, {})
            acc = per_bucket.get(bucket)
            value = row["value"]
            if acc is None:
                per_bucket[bucket] = list(value)
            else:
                for i, v in enumerate(value):
                    acc[i] += v
    entities = list(req.identifiers) if req.identifiers is not None else sorted(sums)
    return Result(req, plan.buckets, entities, sums)
