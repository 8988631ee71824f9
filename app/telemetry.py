"""Prometheus metrics of one service instance (``/metrics``), on a registry of its own.

Each :class:`Telemetry` owns a ``CollectorRegistry``, so several apps in one process (the
tests) never share or clash over a metric. Labels carry only bounded, non-secret values:
route templates (never paths, so no account id), methods, statuses, report kinds, periods,
CouchDB operation names and outcomes. Never an account id, a token or a database name.

(``app/metrics.py`` is the table of *report* metrics; this module is about the service.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

# no `_created` twin beside every counter and histogram: it doubles a scrape and says nothing
# a counter's reset does not (prometheus_client's switch is process-wide)
disable_created_metrics()  # type: ignore[no-untyped-call]

PREFIX = "qubicle_reports_"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"})
SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class _CacheCollector(Collector):
    """Reads the closed-month cache's own counters at scrape time (no hook in its hot path)."""

    def __init__(self) -> None:
        self.sources: list[Callable[[], dict[str, int]]] = []

    def collect(self) -> Iterator[Any]:
        totals = {"hits": 0, "misses": 0, "evictions": 0, "bytes": 0, "entries": 0}
        for source in self.sources:
            for name, value in source().items():
                totals[name] = totals.get(name, 0) + value
        for name in ("hits", "misses", "evictions"):
            yield CounterMetricFamily(
                f"{PREFIX}cache_{name}", f"Closed-month view cache {name}", value=totals[name]
            )
        yield GaugeMetricFamily(
            f"{PREFIX}cache_bytes", "Bytes of view answers held in the cache", value=totals["bytes"]
        )
        yield GaugeMetricFamily(
            f"{PREFIX}cache_entries", "View answers held in the cache", value=totals["entries"]
        )


class Telemetry:
    """Every metric family the service exports (README, "Metrics")."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()

        def _counter(name: str, doc: str, labels: tuple[str, ...] | list[str] = ()) -> Counter:
            return Counter(PREFIX + name, doc, labels, registry=r)

        def _gauge(name: str, doc: str, labels: tuple[str, ...] | list[str] = ()) -> Gauge:
            return Gauge(PREFIX + name, doc, labels, registry=r)

        self.http_requests = _counter(
            "http_requests", "HTTP requests answered", ["route", "method", "status"]
        )
        self.http_duration = Histogram(
            PREFIX + "http_request_duration_seconds",
            "HTTP request latency",
            ["route", "method"],
            buckets=SECONDS,
            registry=r,
        )
        self.report_phase = Histogram(
            PREFIX + "report_phase_duration_seconds",
            "Time a report spent in each phase (load, filter, render)",
            ["report", "period", "phase"],
            buckets=SECONDS,
            registry=r,
        )
        self.reports_running = _gauge("reports_running", "Reports holding a report slot")
        self.reports_waiting = _gauge("reports_waiting", "Reports waiting for a report slot")
        self.reports_rejected = _counter(
            "reports_rejected_busy", "Reports answered 503 for want of a slot"
        )
        self.slow_clients = _counter(
            "slow_clients",
            "Connections closed because a request's head or body came too slowly",
            ["phase"],
        )
        self.couch_requests = _counter(
            "couchdb_requests",
            "CouchDB requests by operation and outcome (ok, not_found, client_error, "
            "server_error, timeout, unreachable, broken, index_building)",
            ["operation", "outcome"],
        )
        self.couch_duration = Histogram(
            PREFIX + "couchdb_request_duration_seconds",
            "CouchDB request latency",
            ["operation"],
            buckets=SECONDS,
            registry=r,
        )
        self.couch_retries = _counter(
            "couchdb_retries", "Idempotent CouchDB reads sent again after a failure", ["operation"]
        )
        self.couch_failovers = _counter(
            "couchdb_failovers", "Requests moved to another CouchDB node"
        )
        self.couch_nodes_up = _gauge("couchdb_nodes_up", "Listed CouchDB nodes not marked down")
        self.couch_credentials = _gauge(
            "couchdb_credentials",
            "1 for the state of the CouchDB credentials: unverified, accepted, refused (a 401: "
            "nothing sent for a pause) or locked (CouchDB's lockout)",
            ["state"],
        )
        self.coalesced = _counter(
            "view_queries_coalesced",
            "View queries answered by an identical query already in flight",
        )
        self.design_doc_writes = _counter(
            "design_doc_writes",
            "Design documents written (installed, upgraded) or conflicts resolved",
            ["outcome"],
        )
        self.index_build_waits = _counter(
            "index_build_waits", "Reports answered 503 because CouchDB is still building an index"
        )
        self.build_info = _gauge(
            "build_info",
            "1, labelled with the release answering and the design doc it reads",
            ["version", "design_doc"],
        )
        self.db_updates_enabled = _gauge(
            "db_updates_enabled",
            "1 while the _db_updates follower runs (whatever its state); 0 when off",
        )
        self.db_updates_state = _gauge(
            "db_updates_state",
            "1 for the follower's state: following, reconnecting (CouchDB away or failing), "
            "no_feed (no _global_changes, or not a server admin: asked again now and then), "
            "credentials_refused, off",
            ["state"],
        )
        self.db_updates_connected = _gauge(
            "db_updates_connected", "1 while CouchDB's _db_updates feed answers"
        )
        self.db_updates_last_answer_age = _gauge(
            "db_updates_last_answer_age_seconds", "Seconds since the _db_updates feed last answered"
        )
        self.db_updates_errors = _counter(
            "db_updates_errors", "_db_updates feed failures (reconnected) and failed installs ahead"
        )
        self.design_docs_installed_ahead = _counter(
            "design_docs_installed_ahead",
            "New MoDBs of reporting accounts given the design doc as KAZOO created them",
        )
        self.index_states = _gauge(
            "index_states",
            "MoDBs this process has seen, by index state (built, building, missing)",
            ["state"],
        )
        self._cache = _CacheCollector()
        r.register(self._cache)
        # the process's CPU, memory and open files (process_*) and python_info
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)

    def watch_cache(self, stats: Callable[[], dict[str, int]]) -> None:
        """Export a cache's counters (``hits``, ``misses``, ``evictions``, ``bytes``...)."""
        self._cache.sources.append(stats)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


# -- the HTTP side -------------------------------------------------------------------------

TELEMETRY = web.AppKey("telemetry", Telemetry)


def route_of(request: web.BaseRequest) -> str:
    """The route template (``/v2/accounts/{account_id}/...``), never the path: no ids."""
    match_info = getattr(request, "match_info", None)
    route = getattr(match_info, "route", None)
    resource = getattr(route, "resource", None)
    return resource.canonical if resource is not None else "unmatched"


def observe_request(
    telemetry: Telemetry, request: web.BaseRequest, status: int, seconds: float
) -> None:
    route, method = route_of(request), request.method
    if method not in KNOWN_METHODS:
        method = "other"
    telemetry.http_requests.labels(route, method, str(status)).inc()
    telemetry.http_duration.labels(route, method).observe(seconds)


def observe_report(
    telemetry: Telemetry, report: str, period: str, timings_ms: dict[str, float]
) -> None:
    """Phase durations of one report (``load``, ``filter``, ``render``; milliseconds in)."""
    for phase in ("load", "filter", "render"):
        if phase in timings_ms:
            telemetry.report_phase.labels(report, period, phase).observe(timings_ms[phase] / 1000)


async def metrics_handler(request: web.Request) -> web.Response:
    body = request.app[TELEMETRY].exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def serve_metrics_apart(address: str, telemetry: Telemetry) -> web.AppRunner:
    """``/metrics`` on a listener of its own (``QUBICLE_REPORTS_METRICS_ADDRESS=host:port``)."""
    host, _, port = address.rpartition(":")
    app = web.Application()
    app[TELEMETRY] = telemetry
    app.router.add_get("/metrics", metrics_handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host or "127.0.0.1", int(port)).start()
    return runner
