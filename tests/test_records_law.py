"""The law (CONTRACT.md 8d), property-style: for generated documents of every shape, every
period, DST and half-hour zones, month edges and the 12-hour cap, each figure of the
reference oracle's aggregate reports (``reference.expected_report``,
``reference.expected_agent_report``: never the service's own aggregate code) is reproduced
from the rows the service lists behind it: the record report with the same range, zone,
``queue_ids``, ``identifiers: [E]``, ``period`` and ``bucket: B``, filtered as the metric
says. Counts are row counts, sums sums of the rows' fields, an agent's seconds in a state
the sum of its intervals' seconds.

Every cell (entity x bucket) of every report is asked for unfiltered and its metrics worked
out from the rows as the law's table says; one cell per example is also asked once per
metric filter (``results``, ``states``, ``wait_max``), which must list exactly the rows the
table picks.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import reference as ref
from conftest import build_indexes, make_client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from record_docs import AGENTS, QUEUES, calls, create_account, events, store

from app.config import Settings
from app.couch.client import Couch

TOKEN = "token-law"
# (zone, a day whose edges are hard there): DST both ways, half and quarter hours, a month,
# leap day and year edge
EDGES = [
    ("America/New_York", date(2024, 3, 10)),
    ("America/New_York", date(2024, 11, 3)),
    ("Asia/Kolkata", date(2024, 1, 31)),
    ("Australia/Lord_Howe", date(2024, 4, 7)),
    ("Asia/Kathmandu", date(2024, 2, 29)),
    ("America/St_Johns", date(2024, 3, 10)),
    ("UTC", date(2024, 12, 31)),
    ("Europe/London", date(2024, 3, 31)),
]
PERIODS = ["hourly", "daily", "weekly", "monthly"]


def g(day: date) -> int:
    return (
        int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) + ref.GREGORIAN_OFFSET
    )


def _avg(total: float, n: int) -> float:
    return round(total / n, 2) if n else 0


def _rate(part: int, whole: int) -> float:
    return round(100 * part / whole, 2) if whole else 0


def queue_figures(rows: list[dict], threshold: int) -> dict[str, float]:
    """8d's table, queues: from the visits behind one cell."""
    of = {r: [v for v in rows if v["result"] == r] for r in ("answered", "abandoned", "timeout")}
    n = len(rows)
    within = [v for v in of["answered"] if v["wait_time"] <= threshold]
    return {
        "call_count": n,
        "timeout_count": len(of["timeout"]),
        "abandon_count": len(of["abandoned"]),
        "answered_count": len(of["answered"]),
        "avg_wait": _avg(sum(v["wait_time"] for v in rows), n),
        "avg_answer_speed": _avg(sum(v["wait_time"] for v in of["answered"]), len(of["answered"])),
        "avg_abandon_time": _avg(
            sum(v["wait_time"] for v in of["abandoned"]), len(of["abandoned"])
        ),
        "service_level": _rate(len(within), n),
        "answer_rate": _rate(len(of["answered"]), n),
        "abandon_rate": _rate(len(of["abandoned"]), n),
        "max_wait": max((v["wait_time"] for v in rows), default=0),
    }


def recipient_figures(rows: list[dict]) -> dict[str, float]:
    """8d's table, recipients: from the offers behind one cell."""
    answered = [o for o in rows if o["result"] == "answered"]
    rung = [o for o in answered if "ring_time" in o]
    talk = sum(o["call_duration"] for o in answered)
    return {
        "call_count": len(answered),
        "missed_call_count": sum(o["result"] == "missed" for o in rows),
        "rejected_call_count": sum(o["result"] == "rejected" for o in rows),
        "offered_count": len(rows),
        "avg_call_duration": _avg(talk, len(answered)),
        "total_call_duration": talk,
        "avg_ring_duration": _avg(sum(o["ring_time"] for o in rung), len(rung)),
        "answer_rate": _rate(len(answered), len(rows)),
    }


STATE_TIME = {
    "ready": "ready_time",
    "ringing": "ringing_time",
    "talking": "talk_time",
    "wrapup": "wrapup_time",
    "paused": "paused_time",
    "outbound": "outbound_time",
}


def agent_figures(rows: list[dict], low: int, high: int) -> dict[str, float]:
    """8d's table, agent_states: from the intervals behind one cell (``[low, high)``: the
    bucket, for the events counted in it)."""
    out: dict[str, float] = {m: 0 for m in STATE_TIME.values()}
    for r in rows:
        if r["state"] in STATE_TIME:
            out[STATE_TIME[r["state"]]] += r["seconds"]
    out["logged_in_time"] = sum(r["seconds"] for r in rows)
    for state, metric in (("logged_in", "login_count"), ("paused", "pause_count")):
        out[metric] = sum(r["state"] == state and low <= r["event_timestamp"] < high for r in rows)
    busy = out["talk_time"] + out["wrapup_time"]
    out["occupancy"] = _rate(busy, busy + out["ready_time"] + out["ringing_time"])
    return out


class Service:
    def __init__(self, client: Any, account_id: str) -> None:
        self.client, self.account_id = client, account_id
        self.requests = 0

    async def rows(self, params: dict[str, Any]) -> list[dict]:
        path = f"/v2/accounts/{self.account_id}/qubicle_reports"
        self.requests += 1
        resp = await self.client.post(
            path, json={"data": {**params, "page_size": 1000}}, headers={"X-Auth-Token": TOKEN}
        )
        body = await resp.json()
        assert resp.status == 200, body
        assert "next_start_key" not in body  # a cell of this data fits one page
        return list(body["data"])


def close(got: float, want: float) -> bool:
    return abs(got - want) < 1e-9


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    edge=st.sampled_from(EDGES),
    period=st.sampled_from(PERIODS),
    before=st.integers(0, 1),
    after=st.integers(0, 1),
    threshold=st.sampled_from(ref.THRESHOLDS),
    by_queue=st.booleans(),
    rng=st.randoms(use_true_random=False),
)
async def test_every_figure_opens_into_its_rows(
    couch: Couch,
    couch_url: str,
    session_accounts: Any,
    edge: tuple[str, date],
    period: str,
    before: int,
    after: int,
    threshold: int,
    by_queue: bool,
    rng: random.Random,
) -> None:
    zone, day = edge
    if period == "hourly":
        before = after = 0  # one day of hours: at most 25 cells per entity
    first, last = day - timedelta(days=before), day + timedelta(days=after)
    account_id = session_accounts.new()
    start, seconds = g(first) - 86400, (last - first).days * 86400 + 3 * 86400
    docs = calls(account_id, random.Random(rng.random()), start, seconds, 25 * (seconds // 86400))
    docs += events(account_id, random.Random(rng.random()), start, seconds, 30)
    await create_account(couch, account_id)
    await store(couch, account_id, docs)
    await build_indexes(couch, account_id)
    base = {"start_date": first.isoformat(), "end_date": last.isoformat(), "timezone": zone}
    queue_ids = [rng.choice(QUEUES)] if by_queue else None
    now = ref.GREGORIAN_OFFSET + int(datetime.now(UTC).timestamp())
    expected = {
        "queues": ref.expected_report(
            docs,
            {
                **base,
                "report": "queues",
                "period": period,
                "metrics": ref.QUEUE_ALL_METRICS,
                "service_level_threshold": threshold,
            },
        ),
        "recipients": ref.expected_report(
            docs,
            {
                **base,
                "report": "recipients",
                "period": period,
                "metrics": ref.RECIPIENT_ALL_METRICS,
                "queue_ids": queue_ids,
            },
        ),
        "agent_states": ref.expected_agent_report(docs, {**base, "period": period}, now=now),
    }
    records = {"queues": "visits", "recipients": "offers", "agent_states": "agent_intervals"}
    ids = {"queues": QUEUES, "recipients": AGENTS, "agent_states": AGENTS}
    checked = 0
    async with make_client(Settings(couchdb_url=couch_url, tokens={TOKEN: account_id})) as client:
        service = Service(client, account_id)
        for report, items in expected.items():
            by_id = {item["id"]: item["data"] for item in items}
            for entity in ids[report]:
                if entity not in by_id:
                    continue  # no figure of it in range: nothing to open (but see below)
                series = by_id[entity]
                for bucket in next(iter(series.values())):
                    cell = {
                        **base,
                        "report": records[report],
                        "identifiers": [entity],
                        "period": period,
                        "bucket": bucket,
                    }
                    if report == "recipients" and queue_ids:
                        cell["queue_ids"] = queue_ids
                    rows = await service.rows(cell)
                    if report == "queues":
                        figures = queue_figures(rows, threshold)
                    elif report == "recipients":
                        figures = recipient_figures(rows)
                    else:
                        figures = agent_figures(rows, *ref.record_window(cell))
                    for metric, want in figures.items():
                        got = series[metric][bucket]
                        assert close(want, got), (report, entity, bucket, metric, got, want)
                        checked += 1
        # entities without a figure in range list no rows either
        for report in expected:
            listed = {item["id"] for item in expected[report]}
            rows = await service.rows({**base, "report": records[report]})
            key = {"queues": "queue_id", "recipients": "recipient_id", "agent_states": "agent_id"}
            assert {r[key[report]] for r in rows} <= listed
        # one cell with every metric's own filter: the rows the table picks, exactly
        cell = {**base, "report": "visits", "identifiers": [QUEUES[0]]}
        every = await service.rows(cell)
        for results, extra in (
            (["answered"], {"wait_max": threshold}),
            (["answered"], {}),
            (["abandoned"], {}),
            (["timeout"], {}),
        ):
            want = [
                v
                for v in every
                if v["result"] in results and v["wait_time"] <= extra.get("wait_max", float("inf"))
            ]
            assert await service.rows({**cell, "results": results, **extra}) == want
        cell = {**base, "report": "offers", "identifiers": [AGENTS[0]]}
        every = await service.rows(cell)
        for result in ("answered", "missed", "rejected"):
            want = [o for o in every if o["result"] == result]
            assert await service.rows({**cell, "results": [result]}) == want
        cell = {**base, "report": "agent_intervals", "identifiers": [AGENTS[0]]}
        every = await service.rows(cell)
        for state in ("ready", "paused", "logged_in"):
            want = [r for r in every if r["state"] == state]
            assert await service.rows({**cell, "states": [state]}) == want
    assert checked > 0
