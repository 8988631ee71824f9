"""When callers arrive: a business day with an evening tail and a trickle of night calls,
weekdays busier than weekends. Shared by both call document shapes."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from typing import TypeVar

from .clock import to_gregorian

# Relative arrivals per UTC hour: a business day (9-17) with a tail into the evening and a
# trickle of night calls, so some visits straddle midnight naturally.
HOURLY_WEIGHTS = (
    0.4, 0.3, 0.2, 0.2, 0.2, 0.3, 0.8, 2.0, 5.0, 9.0, 10.0, 10.0,
    9.0, 9.5, 10.0, 9.5, 8.5, 6.0, 3.5, 2.5, 2.0, 1.5, 1.0, 0.7,
)  # fmt: skip
HOURS = tuple(range(24))
# Volume by weekday (Monday first), relative to ``calls_per_day``.
WEEKDAY_FACTORS = (1.0, 1.05, 1.0, 0.95, 0.85, 0.35, 0.2)
Q = TypeVar("Q")  # a queue plan of either document shape


def expected_calls(calls_per_day: int, day: date, hour: int) -> float:
    """The forecast: callers expected in one UTC hour of ``day`` (what staffing plans for)."""
    share = HOURLY_WEIGHTS[hour] / sum(HOURLY_WEIGHTS)
    return calls_per_day * WEEKDAY_FACTORS[day.weekday()] * share


def day_arrivals(
    rng: random.Random,
    day: date,
    calls_per_day: int,
    queues: Sequence[Q],
    weights: list[float],
    special: int,
) -> tuple[int, Iterator[tuple[int, Q]]]:
    """One UTC day of either document shape: its midnight (Gregorian seconds) and its
    ordinary arrivals, ``(entered, queue)``, all but the day's ``special`` hard cases. Weekdays
    are busier than weekends, hours follow :data:`HOURLY_WEIGHTS`; each arrival is drawn from
    ``rng`` as it is taken, so a caller drawing the call itself in between keeps one stream."""
    midnight = to_gregorian(datetime(day.year, day.month, day.day, tzinfo=UTC))
    volume = calls_per_day * WEEKDAY_FACTORS[day.weekday()] * rng.uniform(0.85, 1.15)
    count = max(special, round(volume))

    def arrivals() -> Iterator[tuple[int, Q]]:
        for _ in range(count - special):
            hour = rng.choices(HOURS, HOURLY_WEIGHTS)[0]
            entered = midnight + hour * 3600 + rng.randrange(3600)
            yield entered, rng.choices(queues, weights)[0]

    return midnight, arrivals()
