"""The two reports: every metric (CONTRACT.md sections 3 and 3b) and the views that feed them.

One table says it all: a metric names the raw *fields* it is computed from (exact sums, or a
maximum) and how; a view names the fields its reduced value carries. A report reads the
cheapest set of views that carries the fields its metrics need. The KPIs' sums ride at the
end of the published metrics' value (one wait band per threshold, trailing zeros dropped),
so one read answers both; only the maximum lives in a view of its own, read only by reports
that ask for it. Averages and rates are always sum over sum across the whole bucket, never an
average of averages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from app.couch.design_docs import THRESHOLDS as THRESHOLDS  # re-exported: the reports offer them

# service_level_threshold: the allowed values (seconds: what the views count) and the default
DEFAULT_THRESHOLD = 20
WITHIN = "within_{T}"  # the field "answered with wait_time ≤ T" of a threshold T
MAX_FIELDS = frozenset({"max_wait"})  # combined by max, every other field by sum
TOTAL = "total"  # with totals: the whole-range key of a series, and the all-entities item's id

Number = int | float


def within(threshold: int) -> str:
    return WITHIN.format(T=threshold)


Column = list[float]  # one raw field's value in every bucket (and the whole range)


@dataclass(frozen=True)
class Metric:
    fields: tuple[str, ...]  # raw fields read, WITHIN standing for the request's threshold
    compute: Callable[..., list[Number]]  # those fields' columns -> the metric's column
    description: str
    integer: bool = False  # always an integer (the OpenAPI document says so)

    def fields_for(self, threshold: int) -> tuple[str, ...]:
        return tuple(within(threshold) if f == WITHIN else f for f in self.fields)


def _integer(x: float) -> Number:
    return int(x) if x == int(x) else x


def count(field: str, description: str) -> Metric:
    return Metric((field,), lambda c: list(map(int, c)), description, integer=True)


def seconds(field: str, description: str) -> Metric:
    """Whole seconds of an agent's time (its events and bucket edges are whole seconds)."""
    return Metric((field,), lambda c: list(map(int, c)), description, integer=True)


def amount(field: str, description: str) -> Metric:
    """A sum or a maximum as it is: an integer where the data is."""
    return Metric((field,), lambda c: list(map(_integer, c)), description)


def _ratio(parts: Column, wholes: Column, scale: int) -> list[Number]:
    """``scale`` x part / whole per bucket, rounded to 2 decimals, 0 where whole is 0."""
    return [round(scale * p / w, 2) if w else 0.0 for p, w in zip(parts, wholes, strict=True)]


def average(part: str, whole: str, description: str) -> Metric:
    return Metric((part, whole), lambda p, w: _ratio(p, w, 1), description)


def rate(part: str, whole: str, description: str) -> Metric:
    return Metric((part, whole), lambda p, w: _ratio(p, w, 100), description)


def rate_of_sum(part: str, others: Sequence[str], description: str) -> Metric:
    """100 × ``part`` / (``part`` + ``others``)."""

    def compute(p: Column, *rest: Column) -> list[Number]:
        return _ratio(p, [sum(v) for v in zip(p, *rest, strict=True)], 100)

    return Metric((part, *others), compute, description)


def count_of_sum(fields: Sequence[str], description: str) -> Metric:
    def compute(*columns: Column) -> list[Number]:
        return [int(sum(v)) for v in zip(*columns, strict=True)]

    return Metric(tuple(fields), compute, description, integer=True)


Term = tuple[int | str, float]  # (where in the view's value, sign): one part of a field


@dataclass(frozen=True)
class View:
    """A reduced view: its name per resolution, and the fields its value carries.

    A ``_sum`` view's value stores ``fields`` (positions, trailing zeros dropped); a field
    ``derived`` from them is a signed sum of stored fields, worked out per row by the
    service (sums of sums: exact, and the same whether derived before or after summing)."""

    names: dict[str, str]  # "day" | "quarter" -> view name
    fields: tuple[str, ...]  # _sum: the value array's layout; _stats: see ``stats``
    cost: float  # relative cost of one read, to pick the cheapest cover
    stats: dict[str, str] | None = None  # _stats views: field -> key of the stats object
    entity_width: int = 1  # key elements before the day: 1, or 2 for [queue, recipient]
    derived: dict[str, tuple[tuple[str, float], ...]] = field(default_factory=dict)

    def carries(self, name: str) -> bool:
        return name in self.fields or name in self.derived

    def terms(self, name: str) -> tuple[Term, ...]:
        """Where a carried field is in the reduced value, each part with its sign."""
        if self.stats is not None:
            return ((self.stats[name], 1.0),)
        if name in self.derived:
            return tuple((self.fields.index(f), sign) for f, sign in self.derived[name])
        return ((self.fields.index(name), 1.0),)


@dataclass(frozen=True)
class ReportKind:
    name: str
    metrics: dict[str, Metric]  # every metric, published first
    published: tuple[str, ...]  # the default list: the published API's metrics
    views: tuple[View, ...]  # views keyed [entity, day, ...]
    queue_views: tuple[View, ...] = ()  # views keyed [queue, recipient, day, ...] (queue_ids)
    # "views": summed from reduced views; "events": status events folded into time
    # (app.report.agent_states), which reads no reduced view and no threshold
    reads: str = "views"

    @property
    def takes_threshold(self) -> bool:
        return self.reads == "views"

    def fields(self, metrics: Sequence[str], threshold: int) -> tuple[str, ...]:
        """The raw fields the metrics need, each once, in a fixed order."""
        out: dict[str, None] = {}
        for m in metrics:
            out.update(dict.fromkeys(self.metrics[m].fields_for(threshold)))
        return tuple(out)

    def cover(self, fields: Sequence[str], by_queue: bool = False) -> list[tuple[View, list[str]]]:
        """The cheapest views that carry ``fields``, each with the fields taken from it."""
        views = self.queue_views if by_queue else self.views
        best: tuple[float, list[tuple[View, list[str]]]] | None = None
        for n in range(1, len(views) + 1):
            for chosen in combinations(views, n):
                if not all(any(v.carries(f) for v in chosen) for f in fields):
                    continue
                cost = sum(v.cost for v in chosen)
                if best is None or cost < best[0]:
                    taken = [(v, [f for f in fields if v.carries(f)]) for v in chosen]
                    # a field carried by two chosen views is taken from the first only
                    seen: set[str] = set()
                    plan = []
                    for v, fs in taken:
                        mine = [f for f in fs if f not in seen]
                        seen.update(mine)
                        if mine:
                            plan.append((v, mine))
                    best = (cost, plan)
        if best is None:
            raise ValueError(f"no view carries {fields}")
        return best[1]


def _views(stem: str) -> dict[str, str]:
    """Every resolution reads the quarter-hour view: at group_level 2 it costs what a
    [entity, day] view costs (README, "Index size and build time"), so no day view is kept
    beside it."""
    return {"day": f"{stem}_by_quarter", "quarter": f"{stem}_by_quarter"}


def band(threshold: int) -> str:
    """The stored field of one wait band: answered visits that waited at most ``threshold``
    seconds and more than the threshold before it (``within(T)`` adds the bands up to T)."""
    return f"band_{threshold}"


VISIT_FIELDS = ("visits", "wait", "timeouts", "abandons")  # the published metrics' fields
KPI_FIELDS = (  # every summed field a queue report may need
    *VISIT_FIELDS,
    "answered",
    "answered_wait",
    "abandoned_wait",
    *(within(t) for t in THRESHOLDS),
)
OFFER_FIELDS = ("answered", "talk", "ring", "rung", "missed", "rejected")
QUEUE_VALUE = (*VISIT_FIELDS, "answered_wait", "abandoned_wait", *map(band, THRESHOLDS))
QUEUE_DERIVED: dict[str, tuple[tuple[str, float], ...]] = {
    # results are answered, abandoned or timeout (CONTRACT.md 2, 2b)
    "answered": (("visits", 1.0), ("timeouts", -1.0), ("abandons", -1.0)),
    **{
        within(t): tuple((band(b), 1.0) for b in THRESHOLDS if b <= t)
        for t in THRESHOLDS
    },
}

QUEUES = ReportKind(
    name="queues",
    metrics={
        "avg_wait": average("wait", "visits", "sum of wait_time / call_count (all results)"),
        "call_count": count("visits", "visits that entered the queue"),
        "timeout_count": count("timeouts", "visits with result timeout"),
        "abandon_count": count("abandons", "visits with result abandoned"),
        "answered_count": count("answered", "visits with result answered"),
        "service_level": rate(
            WITHIN, "visits", "100 × visits answered with wait_time ≤ T / call_count"
        ),
        "answer_rate": rate("answered", "visits", "100 × answered_count / call_count"),
        "abandon_rate": rate("abandons", "visits", "100 × abandon_count / call_count"),
        "avg_answer_speed": average(
            "answered_wait", "answered", "sum of wait_time of answered visits / answered_count"
        ),
        "avg_abandon_time": average(
            "abandoned_wait", "abandons", "sum of wait_time of abandoned visits / abandon_count"
        ),
        "max_wait": amount("max_wait", "the longest wait_time of any visit in the bucket"),
    },
    published=("avg_wait", "call_count", "timeout_count", "abandon_count"),
    views=(
        View(_views("queue_visits"), QUEUE_VALUE, cost=1.0, derived=QUEUE_DERIVED),
        View(
            _views("queue_waits"),
            ("visits", "wait", "max_wait"),
            cost=1.2,
            stats={"visits": "count", "wait": "sum", "max_wait": "max"},
        ),
    ),
)

RECIPIENTS = ReportKind(
    name="recipients",
    metrics={
        "call_count": count("answered", "offers with result answered"),
        "missed_call_count": count("missed", "offers with result missed"),
        "rejected_call_count": count("rejected", "offers with result rejected"),
        "avg_call_duration": average("talk", "answered", "sum of call_duration / answered offers"),
        "avg_ring_duration": average(
            "ring",
            "rung",
            "sum of ring_time of answered offers / answered offers that have a ring time",
        ),
        "offered_count": count_of_sum(("answered", "missed", "rejected"), "offers of any result"),
        "answer_rate": rate_of_sum(
            "answered", ("missed", "rejected"), "100 × call_count / offered_count"
        ),
        "total_call_duration": amount("talk", "sum of call_duration of answered offers"),
    },
    published=(
        "call_count",
        "missed_call_count",
        "rejected_call_count",
        "avg_call_duration",
        "avg_ring_duration",
    ),
    views=(View(_views("offers_by_recipient"), OFFER_FIELDS, cost=1.0),),
    queue_views=(
        View(_views("offers_by_queue_recipient"), OFFER_FIELDS, cost=1.0, entity_width=2),
    ),
)


def occupancy(description: str) -> Metric:
    """100 × (talk + wrap-up) / (ready + ringing + talk + wrap-up)."""

    def compute(talk: Column, wrapup: Column, ready: Column, ringing: Column) -> list[Number]:
        busy = [t + w for t, w in zip(talk, wrapup, strict=True)]
        return _ratio(busy, [b + r + g for b, r, g in zip(busy, ready, ringing, strict=True)], 100)

    return Metric(("talk", "wrapup", "ready", "ringing"), compute, description)


# CONTRACT.md 7c: seconds per state (field -> what it counts), and events counted
# (app.report.agent_states folds them)
AGENT_SECONDS = {
    "logged_in": "seconds in any state but logged out",
    "ready": "seconds ready",
    "ringing": "seconds ringing",
    "talk": "seconds talking",
    "wrapup": "seconds in wrap-up",
    "paused": "seconds paused",
    "outbound": "seconds on outbound calls",
}
AGENT_FIELDS = tuple(AGENT_SECONDS)
AGENT_COUNTS = ("logins", "pauses")

AGENT_STATES = ReportKind(
    name="agent_states",
    metrics={
        **{f"{field}_time": seconds(field, text) for field, text in AGENT_SECONDS.items()},
        "occupancy": occupancy(
            "100 × (talk_time + wrapup_time) / (ready_time + ringing_time + talk_time + "
            "wrapup_time)"
        ),
        "login_count": count("logins", "logged_in events in the bucket"),
        "pause_count": count("pauses", "paused events in the bucket"),
    },
    published=(
        "logged_in_time",
        "ready_time",
        "ringing_time",
        "talk_time",
        "wrapup_time",
        "paused_time",
        "outbound_time",
        "occupancy",
        "login_count",
        "pause_count",
    ),
    views=(),
    reads="events",
)

REPORTS: dict[str, ReportKind] = {k.name: k for k in (QUEUES, RECIPIENTS, AGENT_STATES)}


def markdown_table() -> str:
    """Every metric and its definition as a Markdown table (``qubicle-reports metrics``; the
    docs' report metrics page is generated from it)."""
    lines = ["| report | metric | definition | default |", "|---|---|---|---|"]
    for kind in REPORTS.values():
        for name, metric in kind.metrics.items():
            default = "yes" if name in kind.published else ""
            lines.append(f"| `{kind.name}` | `{name}` | {metric.description} | {default} |")
    thresholds = ", ".join(map(str, THRESHOLDS))
    lines.append("")
    lines.append(
        f"T is `service_level_threshold`: one of {thresholds} seconds (default "
        f"{DEFAULT_THRESHOLD}). Rates are percentages and averages seconds, both rounded to 2 "
        "decimals and 0 where the divisor is 0; counts are integers; `max_wait` is a maximum. "
        "Agent times are integer seconds: each status event starts a state that lasts until "
        "the agent's next event, at most 12 hours; the state at the range's start comes from "
        "the last event of the 12 hours before it; nothing is counted past now."
    )
    return "\n".join(lines) + "\n"
