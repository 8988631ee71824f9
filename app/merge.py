"""Fold view rows into report buckets: exact sums, zero-filled, in a fixed entity order.

Pure: takes the rows :mod:`app.load` read and the :class:`BucketPlan`, returns a
:class:`Result` that every renderer reads. Metrics are computed from sums at render time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from operator import add
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
    """Sum every row into (entity, bucket). Rows come sorted by key, so the entity checks run
    once per run of rows of one entity, not once per row."""
    by_queue = req.queue_ids is not None
    wanted = set(req.identifiers) if req.identifiers is not None else None
    queues = set(req.queue_ids) if req.queue_ids is not None else set()
    slot_of = plan.slots.get
    sums: dict[str, dict[str, Sums]] = {}
    for rows in row_sets:
        last: Any = _NONE
        per_bucket: dict[str, Sums] | None = None
        for row in rows:
            key = row["key"]
            if key[0] != last:
                last = key[0]
                per_bucket = _entity_sums(last, by_queue, queues, wanted, sums)
            if per_bucket is None:
                continue
            bucket = slot_of(tuple(key[1:]))
            if bucket is None:
                continue
            acc = per_bucket.get(bucket)
            if acc is None:
                per_bucket[bucket] = list(row["value"])
            else:
                acc[:] = map(add, acc, row["value"])
    entities = list(req.identifiers) if req.identifiers is not None else sorted(sums)
    return Result(req, plan.buckets, entities, sums)


_NONE = object()


def _entity_sums(
    entity: Any,
    by_queue: bool,
    queues: set[str],
    wanted: set[str] | None,
    sums: dict[str, dict[str, Sums]],
) -> dict[str, Sums] | None:
    """The sums of the report entity a view key's entity part stands for, or None to skip."""
    if by_queue:  # [recipient, queue]
        if not isinstance(entity, list) or len(entity) != 2 or entity[1] not in queues:
            return None
        entity = entity[0]
    if not isinstance(entity, str) or (wanted is not None and entity not in wanted):
        return None
    return sums.setdefault(entity, {})
