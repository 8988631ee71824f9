"""The two reports: their metrics (CONTRACT.md section 3) and the views that feed them.

A view row's value is an array of exact sums; a metric is read off those sums, so averages
are always sum over sum across the whole bucket, never an average of averages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Sums = list[float]


def _avg(total_index: int, count_index: int = 0) -> Callable[[Sums], float]:
    def metric(v: Sums) -> float:
        n = v[count_index]
        return round(v[total_index] / n, 2) if n else 0.0

    return metric


def _count(index: int) -> Callable[[Sums], int]:
    return lambda v: int(v[index])


@dataclass(frozen=True)
class ReportKind:
    name: str
    width: int  # length of the view's value array
    metrics: dict[str, Callable[[Sums], float | int]]
    views: dict[str, str]  # resolution ("day" | "quarter") -> view name
    queue_views: dict[str, str] | None = None  # views keyed by [[recipient, queue], ...]


QUEUES = ReportKind(
    name="queues",
    width=4,  # [visits, wait seconds, timeouts, abandons]
    metrics={
        "avg_wait": _avg(1),
        "call_count": _count(0),
        "timeout_count": _count(2),
        "abandon_count": _count(3),
    },
    views={"day": "queue_visits_by_day", "quarter": "queue_visits_by_quarter"},
)

RECIPIENTS = ReportKind(
    name="recipients",
    width=5,  # [answered, missed, rejected, talk seconds, ring seconds of answered]
    metrics={
        "call_count": _count(0),
        "missed_call_count": _count(1),
        "rejected_call_count": _count(2),
        "avg_call_duration": _avg(3),
        "avg_ring_duration": _avg(4),
    },
    views={"day": "offers_by_recipient_by_day", "quarter": "offers_by_recipient_by_quarter"},
    queue_views={
        "day": "offers_by_recipient_queue_by_day",
        "quarter": "offers_by_recipient_queue_by_quarter",
    },
)

REPORTS: dict[str, ReportKind] = {k.name: k for k in (QUEUES, RECIPIENTS)}
