"""The pure fold of app.report.agent_states: bucket spans from the plan, and events folded
into seconds and counts (CONTRACT.md 7b), checked against hand-counted figures."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.report.agent_states import (
    CAP,
    FIELDS,
    GREGORIAN_OFFSET,
    STATUSES,
    AgentSums,
    TooManyAgents,
    timeline,
)
from app.report.buckets import plan
from app.report.rows import EventRow

CODE = {s: i for i, s in enumerate(STATUSES)}


def g(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp()) + GREGORIAN_OFFSET


def fold(events: list[tuple[str, int, str]], day: date, period: str = "daily", tz: str = "UTC",
         now: int = g(2100, 1, 1), wanted: set[str] | None = None, max_cells: int = 10**6
         ) -> AgentSums:  # fmt: skip
    sums = AgentSums(timeline(plan(day, day, period, tz)), now, wanted, max_cells)
    f = sums.fold()
    keys = sorted((a, t, CODE[s]) for a, t, s in events)
    f.add([EventRow(k) for k in keys[:2]])  # batches may end anywhere
    f.add([EventRow(k) for k in keys[2:]])
    f.close()
    return sums


def field(sums: AgentSums, agent: str, name: str, bucket: int = 0) -> float:
    return sums.sums[agent][bucket * len(FIELDS) + FIELDS.index(name)]


def test_spans_follow_the_local_calendar_across_dst() -> None:
    line = timeline(plan(date(2024, 3, 10), date(2024, 3, 10), "hourly", "America/New_York"))
    lengths = {b - a for a, b in zip(line.edges, line.edges[1:], strict=False)}
    assert lengths == {3600} and len(line.bucket_of) == 23
    fall = timeline(plan(date(2024, 11, 3), date(2024, 11, 3), "daily", "America/New_York"))
    assert fall.end - fall.start == 25 * 3600 and fall.bucket_of == (0,)


def test_states_split_at_bucket_edges_and_capped() -> None:
    t = g(2024, 5, 1, 23, 30)
    sums = fold([("a", t, "ready")], date(2024, 5, 1), "hourly")
    assert field(sums, "a", "ready", 23) == 1800  # the other 11.5 h fall on May 2
    day = fold([("a", g(2024, 5, 1, 6), "ready")], date(2024, 5, 1))
    assert field(day, "a", "ready") == CAP and field(day, "a", "logged_in") == CAP


def test_ties_the_later_name_holds_and_both_count() -> None:
    t = g(2024, 5, 1, 9)
    sums = fold([("a", t, "ready"), ("a", t, "paused"), ("a", t + 60, "logged_out")],
                date(2024, 5, 1))  # fmt: skip
    assert field(sums, "a", "ready") == 60 and field(sums, "a", "paused") == 0
    assert field(sums, "a", "pauses") == 1


def test_state_at_start_and_never_past_now() -> None:
    start = g(2024, 5, 1)
    sums = fold([("a", start - 3600, "connected"), ("b", start - CAP - 1, "ready")],
                date(2024, 5, 1), now=start + 600)  # fmt: skip
    assert field(sums, "a", "talk") == 600 and "b" not in sums.sums


def test_only_wanted_agents_and_the_cell_limit() -> None:
    t = g(2024, 5, 1, 9)
    events = [("a", t, "ready"), ("b", t, "ready"), ("c", t, "logged_out")]
    assert set(fold(events, date(2024, 5, 1), wanted={"b"}).sums) == {"b"}
    assert set(fold(events, date(2024, 5, 1)).sums) == {"a", "b"}  # c counted nothing
    with pytest.raises(TooManyAgents):
        fold(events, date(2024, 5, 1), "hourly", max_cells=30).check()


def test_each_agent_from_its_own_span_whatever_the_last_agent_reached() -> None:
    """The fold keeps the span of the last state as a hint: a next agent whose events begin
    earlier, or states crossing several buckets, must land where they happened."""
    day = date(2024, 5, 1)
    events = [
        ("a", g(2024, 5, 1, 22, 30), "ready"),  # to 23:59:59 and beyond: 90 min in two hours
        ("a", g(2024, 5, 2, 0, 0), "logged_out"),
        ("b", g(2024, 5, 1, 1, 15), "connected"),  # earlier than a's last span
        ("b", g(2024, 5, 1, 3, 45), "wrapup"),  # talk over 01:15-03:45, three buckets
        ("b", g(2024, 5, 1, 3, 50), "logged_out"),
    ]
    sums = fold(events, day, "hourly")
    assert [field(sums, "a", "ready", h) for h in (22, 23)] == [1800, 3600]
    assert [field(sums, "b", "talk", h) for h in (1, 2, 3)] == [2700, 3600, 2700]
    assert field(sums, "b", "wrapup", 3) == 300 and field(sums, "b", "logged_in", 3) == 3000
    assert sum(field(sums, "b", "talk", h) for h in range(24)) == 9000
