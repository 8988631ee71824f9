"""Where each agent's time went (CONTRACT.md 7): status events folded into seconds per state.

Pure. The ``agent_events`` view gives one row per event, keyed ``[agent_id, timestamp,
code]`` (code: the status's place in :data:`STATUSES`, name order), so rows arrive sorted
as 7b orders events: by agent, by time, and at one second by status name, the later name
holding. :class:`Fold` takes those rows batch by batch and keeps per agent only its previous
event: each event ends the previous state (at most :data:`CAP` seconds after it began;
logged out after that) and starts its own. A state's seconds are split exactly at the bucket
edges (:class:`Timeline`, UTC instants of the local calendar's edges) and counted only in
``[start, min(end, now))``; the state at the range's start comes from the events of the
12 hours before it, which the reader reads too. Sums per agent are one flat ``array('d')``
(bucket-major, one slot per field of :data:`FIELDS`), the layout :class:`~app.report.merge.Result`
computes metrics from.
"""

from __future__ import annotations

import time
from array import array
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.report.buckets import BucketPlan
from app.report.metrics import AGENT_COUNTS, AGENT_FIELDS
from app.report.rows import EventRow

GREGORIAN_OFFSET = 62167219200  # KAZOO Gregorian seconds - Unix seconds
CAP = 43_200  # a state lasts at most 12 h; the agent counts as logged out after that
# the view's status codes: every status but pending_logged_out (set aside), in name order
STATUSES = (
    "connected",
    "connecting",
    "logged_in",
    "logged_out",
    "outbound",
    "paused",
    "ready",
    "wrapup",
)
FIELDS = (*AGENT_FIELDS, *AGENT_COUNTS)
# the time fields a state counts in (7b/7c): every state but logged out is logged-in time
STATE_FIELDS = {
    "logged_in": ("logged_in",),
    "ready": ("logged_in", "ready"),
    "connecting": ("logged_in", "ringing"),
    "connected": ("logged_in", "talk"),
    "wrapup": ("logged_in", "wrapup"),
    "paused": ("logged_in", "paused"),
    "outbound": ("logged_in", "outbound"),
    "logged_out": (),
}
EVENT_FIELDS = {"logged_in": "logins", "paused": "pauses"}  # events counted in their bucket
_AT = {f: i for i, f in enumerate(FIELDS)}
_STATE_SLOTS = tuple(tuple(_AT[f] for f in STATE_FIELDS[s]) for s in STATUSES)
_EVENT_SLOT = tuple(_AT[EVENT_FIELDS[s]] if s in EVENT_FIELDS else -1 for s in STATUSES)
_STEP = {2: 86_400, 3: 3_600, 4: 900}  # seconds of one plan slot, by its group level
_EPOCH = date(1970, 1, 1).toordinal()
_UNSET: Any = object()  # an agent's sums not looked up yet


def gregorian_now() -> int:
    """Now in whole Gregorian seconds (a state is never counted past it)."""
    return int(time.time()) + GREGORIAN_OFFSET


@dataclass(frozen=True)
class Timeline:
    """The report's buckets as spans of Gregorian seconds: span ``i`` is
    ``[edges[i], edges[i + 1])`` and fills bucket ``bucket_of[i]``."""

    edges: tuple[int, ...]
    bucket_of: tuple[int, ...]
    buckets: int

    @property
    def start(self) -> int:
        return self.edges[0]

    @property
    def end(self) -> int:
        return self.edges[-1]


def timeline(plan: BucketPlan) -> Timeline:
    """The spans of a :class:`BucketPlan` (its slots are UTC days, hours or quarter hours,
    each mapped to the local bucket it falls in), neighbours of one bucket joined."""
    step = _STEP[plan.group_level]
    number = {b: i for i, b in enumerate(plan.buckets)}
    slots = []
    for tail, bucket in plan.slots.items():
        d = str(tail[0])
        days = date(int(d[:4]), int(d[4:6]), int(d[6:])).toordinal() - _EPOCH
        at = days * 86_400 + (int(tail[1]) * 3_600 if len(tail) > 1 else 0)
        at += int(tail[2]) * 900 if len(tail) > 2 else 0
        slots.append((at + GREGORIAN_OFFSET, number[bucket]))
    slots.sort()
    spans: list[list[int]] = []  # [start, end, bucket]
    for at, b in slots:
        if spans and spans[-1][1] != at:
            raise ValueError("bucket plan slots are not contiguous")
        if spans and spans[-1][2] == b:
            spans[-1][1] = at + step
        else:
            spans.append([at, at + step, b])
    edges = (*(s[0] for s in spans), spans[-1][1])
    return Timeline(edges, tuple(s[2] for s in spans), len(plan.buckets))


class TooManyAgents(Exception):
    """More agents x buckets than the cell limit allows."""

    def __init__(self, cells: int) -> None:
        super().__init__(cells)
        self.cells = cells


class AgentSums:
    """Every agent's sums; an agent gets its array on the first second or event it counts
    (so, without ``identifiers``, only agents with something to show are listed)."""

    def __init__(self, line: Timeline, now: int, wanted: set[str] | None, max_cells: int) -> None:
        self.line = line
        self.low = line.start
        self.high = min(line.end, now)  # never past now
        self.wanted = wanted
        self.max_cells = max_cells
        self.sums: dict[str, array[float]] = {}
        self._zero = array("d", bytes(8 * len(FIELDS) * line.buckets))
        self._beyond: set[str] = set()
        self.fold_seconds = 0.0

    def of(self, agent: str) -> array[float] | None:
        sums = self.sums.get(agent)
        if sums is None:
            cells = (len(self.sums) + 1) * self.line.buckets
            if self.wanted is None and cells > self.max_cells:
                self._beyond.add(agent)  # counted for the error, never given room
                return None
            sums = self.sums[agent] = array("d", self._zero)
        return sums

    def check(self) -> None:
        if self._beyond:
            raise TooManyAgents((len(self.sums) + len(self._beyond)) * self.line.buckets)

    def fold(self) -> Fold:
        """A fold of one sorted stream of events (one key range read across MoDBs)."""
        return Fold(self)


class Fold:
    """One sorted stream of ``[agent, timestamp, code]`` keys folded into :class:`AgentSums`,
    holding only the current agent's previous event between batches.

    The per-event work is inlined (about 600k events for 60 agents over 3 months): the
    current agent's sums array is looked up once, and the span its last state began in is
    kept as a hint (its events come in time order), so a state within one span costs no
    call and no search."""

    def __init__(self, target: AgentSums) -> None:
        self.t = target
        self.agent: str | None = None
        self.counted = False
        self.prev_at = 0
        self.prev_code = -1  # none yet: logged out
        self.sums: array[float] | None = _UNSET  # the agent's sums (None: beyond the cell limit)
        self.span = 0  # where the last state began: a hint, checked before use

    def add(self, rows: Iterable[EventRow]) -> None:
        started = time.perf_counter()
        t = self.t
        low, high, wanted = t.low, t.high, t.wanted
        edges, owner, width = t.line.edges, t.line.bucket_of, len(FIELDS)
        agent, counted, prev_at, prev_code = self.agent, self.counted, self.prev_at, self.prev_code
        sums, i = self.sums, self.span
        for row in rows:
            a, at, code = row.key
            if a != agent:
                if counted and prev_code >= 0:
                    assert agent is not None  # counted: an agent's events came before
                    self._last(agent, sums, prev_code, prev_at)
                agent, prev_code, sums = a, -1, _UNSET
                counted = wanted is None or a in wanted
            if not counted:
                continue
            if prev_code >= 0:
                slots = _STATE_SLOTS[prev_code]
                begin = prev_at if prev_at > low else low
                end = prev_at + CAP
                if at < end:
                    end = at
                if high < end:
                    end = high
                if slots and begin < end:
                    if sums is _UNSET:
                        sums = t.of(a)
                    if sums is not None:
                        if not edges[i] <= begin < edges[i + 1]:
                            i = bisect_right(edges, begin) - 1
                        if end <= edges[i + 1]:
                            base, length = owner[i] * width, end - begin
                            for f in slots:
                                sums[base + f] += length
                        else:
                            i = _spread(sums, t.line, slots, begin, end, i)
            slot = _EVENT_SLOT[code]
            if slot >= 0 and low <= at < high:
                if sums is _UNSET:
                    sums = t.of(a)
                if sums is not None:
                    sums[owner[bisect_right(edges, at) - 1] * width + slot] += 1
            prev_at, prev_code = at, code
        self.agent, self.counted, self.prev_at, self.prev_code = agent, counted, prev_at, prev_code
        self.sums, self.span = sums, i
        t.fold_seconds += time.perf_counter() - started

    def close(self) -> None:
        """The stream is over: the last agent's last state runs on (capped, clipped)."""
        if self.agent is not None and self.counted and self.prev_code >= 0:
            self._last(self.agent, self.sums, self.prev_code, self.prev_at)
        self.agent, self.sums = None, _UNSET

    def _last(self, agent: str, sums: array[float] | None, code: int, at: int) -> None:
        """An agent's last state: no next event ends it, the cap does."""
        t = self.t
        slots = _STATE_SLOTS[code]
        begin, end = max(at, t.low), min(at + CAP, t.high)
        if begin >= end or not slots:
            return
        if sums is _UNSET:
            sums = t.of(agent)
        if sums is not None:
            _spread(sums, t.line, slots, begin, end, bisect_right(t.line.edges, begin) - 1)


def _spread(
    sums: array[float], line: Timeline, slots: tuple[int, ...], begin: int, end: int, i: int
) -> int:
    """Add ``[begin, end)`` to ``slots`` of every span it overlaps from span ``i`` (the one
    holding ``begin``); the span holding its last second."""
    edges, owner, width = line.edges, line.bucket_of, len(FIELDS)
    while True:
        stop = min(end, edges[i + 1])
        base = owner[i] * width
        for f in slots:
            sums[base + f] += stop - begin
        if stop >= end:
            return i
        begin = stop
        i += 1
