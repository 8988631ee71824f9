"""What a report computed: :class:`Result`, the one structure every renderer reads. A leaf
below the merge and the renderers, so neither imports the other."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from operator import add
from typing import Any, TypeAlias

from app.report.metrics import MAX_FIELDS, REPORTS, TOTAL
from app.report.request import ReportRequest

Sums: TypeAlias = "array[float]"  # one entity: len(buckets) * len(fields) doubles, bucket-major


@dataclass
class Result:
    request: ReportRequest
    buckets: tuple[str, ...]
    entities: list[str]
    fields: tuple[str, ...]
    sums: dict[str, Sums]  # entity -> flat bucket-major sums (only entities with data)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def keys(self) -> tuple[str, ...]:
        """Every series' keys: the buckets, and ``"total"`` when totals are asked."""
        return (*self.buckets, TOTAL) if self.request.totals else self.buckets

    def _columns(self, sums: Sums) -> list[list[float]]:
        """One column per field: its value in every bucket, then its whole-range value."""
        width = len(self.fields)
        cols = [sums[i::width].tolist() for i in range(width)]
        if self.request.totals:
            for name, col in zip(self.fields, cols, strict=True):
                col.append(max(col, default=0.0) if name in MAX_FIELDS else sum(col))
        return cols

    @cached_property
    def _plan(self) -> list[tuple[str, Callable[..., list[Any]], list[int]]]:
        """(metric, compute, the columns it reads) for every asked metric: worked out once."""
        kind = REPORTS[self.request.report]
        at = {f: i for i, f in enumerate(self.fields)}
        return [
            (name, m.compute, [at[f] for f in m.fields_for(self.request.threshold)])
            for name, m in ((name, kind.metrics[name]) for name in self.request.metrics)
        ]

    def _metrics(self, cols: list[list[float]]) -> dict[str, list[float | int]]:
        return {name: compute(*(cols[i] for i in at)) for name, compute, at in self._plan}

    def series(self) -> Iterator[tuple[str, dict[str, list[float | int]]]]:
        """(id, {metric: [value per key of :attr:`keys`]}) for every entity, then the
        ``"total"`` item over them all when totals are asked."""
        zero = array("d", bytes(8 * len(self.fields) * len(self.buckets)))
        for entity in self.entities:
            yield entity, self._metrics(self._columns(self.sums.get(entity, zero)))
        if self.request.totals:
            yield TOTAL, self._metrics(self._columns(self._all_entities(zero)))

    def _all_entities(self, zero: Sums) -> Sums:
        """Every entity of the report folded into one: sums summed, maxima maxed."""
        width = len(self.fields)
        out = array("d", zero)
        for entity in self.entities:
            sums = self.sums.get(entity)
            if sums is None:
                continue
            for i, name in enumerate(self.fields):
                combine = max if name in MAX_FIELDS else add
                out[i::width] = array("d", map(combine, out[i::width], sums[i::width]))
        return out
