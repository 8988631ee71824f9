"""Fold view rows into report buckets: exact sums (and maxima), zero-filled, in a fixed order.

Pure: :class:`Merge` takes view answers one at a time, as :mod:`app.load` reads them, and
folds each into one flat ``array('d')`` per entity (bucket-major, one slot per raw field), so
a report holds its cells compactly and never all the rows it read. :class:`Result` then
computes every metric of :mod:`app.metrics` from those sums, per bucket and, when asked, over
the whole range (``"total"``) and over every entity (the ``"total"`` item): the one result
structure every renderer reads.
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.report.buckets import BucketPlan
from app.report.metrics import MAX_FIELDS, View
from app.report.request import ReportRequest
from app.report.result import Result, Sums
from app.report.rows import ViewRow, row_batches


class TooManyCells(Exception):
    """The report would hold more entity x bucket cells than allowed."""

    def __init__(self, cells: int) -> None:
        super().__init__(cells)
        self.cells = cells


@dataclass(frozen=True, eq=False)  # hashed by identity: View holds dicts
class Source:
    """What one query's rows carry into the report: from which view, which fields."""

    view: View
    fields: tuple[str, ...]


class Merge:
    """The running sums of one report; :meth:`add` folds one view answer into them."""

    def __init__(
        self, req: ReportRequest, plan: BucketPlan, sources: list[Source], max_cells: int
    ) -> None:
        self.req = req
        self.plan = plan
        self.fields = fields = tuple(f for s in sources for f in s.fields)
        self.max_cells = max_cells
        self.sums: dict[str, Sums] = {}
        self._zero = array("d", bytes(8 * len(fields) * len(plan.buckets)))
        self._wanted = set(req.identifiers) if req.identifiers is not None else None
        self._queues = set(req.queue_ids) if req.queue_ids is not None else None
        self._beyond: set[str] = set()  # entities past the cell limit
        at = {f: i for i, f in enumerate(fields)}
        # per source: (value position, sums slot, sign) of every part of its summed fields
        # (a derived field has several), and (value position, sums slot) of its maxima
        self._layouts: dict[Source, tuple[list[tuple[Any, int, float]], list[tuple[Any, int]]]]
        self._layouts = {}
        for source in sources:
            view = source.view
            self._layouts[source] = (
                [
                    (pos, at[f], sign)
                    for f in source.fields
                    if f not in MAX_FIELDS
                    for pos, sign in view.terms(f)
                ],
                [(view.terms(f)[0][0], at[f]) for f in source.fields if f in MAX_FIELDS],
            )
        self.fold_seconds = 0.0  # spent folding rows into sums (execution_times' "filter")

    def _counts(self, entity: Any, queue: Any) -> bool:
        """Whether the report counts a row of this entity (and queue, for [queue, recipient])."""
        if not isinstance(entity, str) or (self._wanted is not None and entity not in self._wanted):
            return False
        return queue is None or self._queues is None or queue in self._queues

    def _sums(self, entity: str) -> Sums | None:
        """The entity's sums, made on its first row inside the range (an entity is listed
        only when it has data there); None past the cell limit."""
        sums = self.sums.get(entity)
        if sums is None:
            cells = (len(self.sums) + 1) * len(self.plan.buckets)
            if self._wanted is None and cells > self.max_cells:
                self._beyond.add(entity)  # counted for the error, never given room
                return None
            sums = self.sums[entity] = array("d", self._zero)
        return sums

    def add(self, source: Source, rows: Iterable[dict[str, Any]]) -> None:
        """Fold the rows of one view answer, parsed (``{"key", "value"}`` dicts)."""
        self._fold(source, [ViewRow(r["key"], r["value"]) for r in rows])

    def add_answer(self, source: Source, raw: bytes) -> None:
        """Fold one view answer as CouchDB sent it, a batch of rows at a time
        (:mod:`app.rows`): the report never holds more of its rows than one batch."""
        for batch in row_batches(raw):
            self._fold(source, batch)

    def _fold(self, source: Source, rows: Iterable[ViewRow]) -> None:
        """Rows come sorted by key, so the entity checks run once per run of rows of one
        entity, not once per row."""
        started = time.perf_counter()
        width = len(self.fields)
        summed, maxed = self._layouts[source]
        ew = source.view.entity_width  # key: [entity, day, ...] or [queue, recipient, day, ...]
        short = source.view.stats is None
        level = self.plan.group_level
        # int (group level 2) or a list of ints by hour / quarter: known from ``level``,
        # which the loop tests instead of each value's type
        index: dict[str, Any] = self.plan.index
        last_entity: Any = _NONE
        last_queue: Any = _NONE
        counted = False
        sums: Sums | None = None
        for row in rows:
            key = row.key
            if ew == 1:
                if key[0] != last_entity:
                    last_entity, sums = key[0], None
                    counted = self._counts(last_entity, None)
            elif key[1] != last_entity or key[0] != last_queue:
                last_queue, last_entity, sums = key[0], key[1], None
                counted = self._counts(last_entity, last_queue)
            if not counted:
                continue
            slots = index.get(key[ew])
            if slots is None:
                continue
            if level == 2:
                b = slots
            elif level == 3:
                b = slots[key[ew + 1]]
            else:
                b = slots[key[ew + 1] * 4 + key[ew + 2]]
            if b < 0:
                continue
            if sums is None:
                sums = self._sums(last_entity)
                if sums is None:
                    continue
            base = b * width
            value: Any = row.value  # a tuple, or a _stats dict: the layout's positions say
            if short:  # a _sum array, its trailing zeros dropped
                n = len(value)
                for src, dst, sign in summed:
                    if src < n:
                        sums[base + dst] += sign * value[src]
            else:
                for src, dst, _ in summed:
                    sums[base + dst] += value[src]
            for src, dst in maxed:
                if value[src] > sums[base + dst]:
                    sums[base + dst] = value[src]
        self.fold_seconds += time.perf_counter() - started

    def result(self) -> Result:
        """The merged report; :class:`TooManyCells` (with the whole count) when over the limit."""
        if self._beyond:
            raise TooManyCells((len(self.sums) + len(self._beyond)) * len(self.plan.buckets))
        req = self.req
        entities = list(req.identifiers) if req.identifiers is not None else sorted(self.sums)
        return Result(req, self.plan.buckets, entities, self.fields, self.sums)


_NONE = object()
