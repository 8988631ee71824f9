"""The index state of the MoDBs this process has seen, counted for ``/metrics``.

Bounded (the most recent ``limit`` MoDBs) and fed by what the process learns anyway (index
probes, design doc writes), plus :meth:`refresh` of the few still building: a scrape never
asks CouchDB anything, and nothing fans out over a cluster's databases.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Literal

from app.couch.index_state import IndexState
from app.telemetry import Telemetry

State = Literal["built", "building", "missing"]
STATES: tuple[State, ...] = ("built", "building", "missing")
LIMIT = 10_000
REFRESH_AT_MOST = 100  # MoDBs looked at per refresh


class IndexBook:
    def __init__(self, telemetry: Telemetry, limit: int = LIMIT) -> None:
        self.telemetry = telemetry
        self.limit = limit
        self.states: OrderedDict[str, State] = OrderedDict()
        self._export()

    def record(self, db: str, state: State) -> None:
        self.states.pop(db, None)
        self.states[db] = state
        while len(self.states) > self.limit:
            self.states.popitem(last=False)
        self._export()

    def seen(self, state: IndexState) -> None:
        """An index probe's answer (:class:`app.couch.index_state.IndexProbes` ``seen``)."""
        self.record(state.db, "building" if state.building else "built")

    def building(self) -> list[str]:
        return [db for db, state in self.states.items() if state == "building"]

    async def refresh(self, look: Callable[[str], Awaitable[IndexState | None]]) -> None:
        """Look again at the MoDBs still building (a few; ``look`` records through
        :meth:`seen`); one whose design doc is gone is missing."""
        for db in self.building()[:REFRESH_AT_MOST]:
            if await look(db) is None:
                self.record(db, "missing")

    def _export(self) -> None:
        counts = dict.fromkeys(STATES, 0)
        for state in self.states.values():
            counts[state] += 1
        for state, n in counts.items():
            self.telemetry.index_states.labels(state).set(n)
