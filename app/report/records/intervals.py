"""An agent's status events as the rows of the agent_intervals report (CONTRACT.md 8a). Pure.

The same reading of time as :mod:`app.report.agent_states` (7b): each event starts a state
that its agent's next event ends, after at most :data:`CAP` seconds (logged out after that);
logged-out time has no rows. A row is one state cut to the window ``[low, high)`` (the range
or the bucket, never past now); a state that lasts 0 seconds (two events in one second) has
its row too, when its event is inside the window, so every ``logged_in`` and ``paused``
event the report counts has one. Events come in the view's order (agent, timestamp, status
name) and, at one key, by document id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.report.agent_states import CAP
from app.report.records.docs import is_number
from app.report.start_key import Place

# the state an event's status starts, as a row names it (7b); logged_out: none
STATE_OF = {
    "logged_in": "logged_in",
    "ready": "ready",
    "connecting": "ringing",
    "connected": "talking",
    "wrapup": "wrapup",
    "paused": "paused",
    "outbound": "outbound",
}
PLANNED = {"paused": "pause_time", "wrapup": "wait_time"}  # the planned length, where KAZOO has it

Row = dict[str, Any]


@dataclass(frozen=True)
class Event:
    agent: str
    at: int
    status: str
    id: str  # the status_stat document's id
    doc: dict[str, Any] | None

    @property
    def place(self) -> Place:
        return (self.agent, self.at, self.status, self.id, 0)


class Intervals:
    """One agent's events in order -> its rows in ``[low, high)``, each with its place (the
    place of the event that started it). ``after``: only rows past that place; ``states``:
    only rows in those states; ``when(gregorian)``: ISO 8601 in the report's zone."""

    def __init__(
        self,
        low: int,
        high: int,
        when: Callable[[int], str],
        after: Place | None = None,
        states: frozenset[str] | None = None,
    ) -> None:
        self.low, self.high, self.when = low, high, when
        self.after, self.states = after, states
        self.prev: Event | None = None

    def add(self, event: Event) -> tuple[Place, Row] | None:
        """The row of the state the event ends, if it has one."""
        prev, self.prev = self.prev, event
        if prev is None:
            return None
        return self._row(prev, event.at)

    def close(self) -> tuple[Place, Row] | None:
        """No more events: the last state runs until the cap (or the window's end)."""
        prev, self.prev = self.prev, None
        return None if prev is None else self._row(prev, None)

    def _row(self, e: Event, next_at: int | None) -> tuple[Place, Row] | None:
        state = STATE_OF.get(e.status)
        if state is None or (self.states is not None and state not in self.states):
            return None
        place = e.place
        if self.after is not None and place <= self.after:
            return None
        cap = e.at + CAP
        capped = next_at is None or cap < next_at
        ends = cap if capped else next_at
        assert ends is not None
        begin, end = max(e.at, self.low), min(ends, self.high)
        if not (begin < end or (ends == e.at and self.low <= e.at < self.high)):
            return None
        row: Row = {
            "agent_id": e.agent,
            "state": state,
            "from": self.when(begin),
            "to": self.when(end),
            "from_timestamp": begin,
            "to_timestamp": end,
            "seconds": end - begin,
            "event_timestamp": e.at,
            "capped": capped and cap <= self.high,
        }
        doc = e.doc or {}
        for name in ("queue_id", "call_id", "pause_alias"):
            if isinstance(doc.get(name), str):
                row[name] = doc[name]
        planned = doc.get(PLANNED.get(e.status, ""))
        if is_number(planned):
            row["planned"] = planned
        return place, row
