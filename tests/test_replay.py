"""Replayed view answers give the same reports as live ones (issue 11's replay benchmark).

``bench/replay.py`` measures the service against canned view answers; this proves that what
it measures is the real thing: every GET the service sends to CouchDB (the stand-in here)
is recorded byte for byte by a proxy, then a fresh service reads only those recordings from
:mod:`app.replay`'s loopback server, and every report, JSON and CSV, must come out the same
bytes (less ``execution_times`` and ``request_id``, which differ by nature).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import orjson
from conftest import TOKEN, make_client, seed_account
from yarl import URL

from app.config import Settings
from qubicle_dev.replay import Loopback, Recorder, Replay, make_app, recorder_app

VARIABLE = re.compile(rb'"execution_times":\{[^}]*\}|"request_id":"[^"]*"')


def asks(queue_ids: list[str]) -> list[tuple[str, dict[str, Any], bool]]:
    """(report, request data, CSV?) covering every view shape: day and quarter views at
    group levels 2, 3 and 4, KPI and _stats views, the queue-first recipient view, totals."""
    span = {"start_date": "2024-01-30", "end_date": "2024-02-01"}
    return [
        ("queues", {**span, "period": "daily"}, False),
        ("queues", {**span, "period": "hourly", "totals": True}, False),
        ("queues", {**span, "period": "daily", "timezone": "Asia/Kolkata"}, True),
        (
            "queues",
            {**span, "period": "weekly", "metrics": ["service_level", "max_wait", "avg_wait"]},
            False,
        ),
        ("recipients", {**span, "period": "hourly", "timezone": "America/New_York"}, True),
        ("recipients", {**span, "period": "daily", "queue_ids": queue_ids[:2]}, False),
    ]


def values(body: bytes, csv: bool) -> list[float]:
    """Every metric value of a report, JSON or CSV."""
    if csv:
        lines = body.decode().splitlines()
        assert lines[0].startswith("id,period,")
        return [float(v) for line in lines[1:] for v in line.split(",")[2:]]
    report = orjson.loads(body)["data"][0]["report"]
    return [v for item in report for series in item["data"].values() for v in series.values()]


async def run_all(settings: Settings, account_id: str, queue_ids: list[str]) -> list[bytes]:
    bodies = []
    async with make_client(settings) as client:
        for report, data, csv in asks(queue_ids):
            headers = {"X-Auth-Token": TOKEN, **({"Accept": "text/csv"} if csv else {})}
            resp = await client.post(
                f"/v2/accounts/{account_id}/qubicle_reports/{report}",
                json={"data": data},
                headers=headers,
            )
            body = await resp.read()
            assert resp.status == 200, body[:300]
            bodies.append(body)
    return bodies


async def test_replayed_answers_give_the_same_reports(couch: Any, couch_url: str, accounts: Any):
    account_id = accounts.new()
    seeded = await seed_account(couch, account_id, seed=1111)
    recorder = Recorder(couch_url)
    with Loopback(recorder_app(recorder)) as proxy:
        through = str(URL(couch_url.split(",")[0]).with_host("127.0.0.1").with_port(proxy.port))
        live_settings = Settings(couchdb_url=through, tokens={TOKEN: account_id})
        live = await run_all(live_settings, account_id, seeded.queue_ids)
    views = [k for k in recorder.recorded if "/_view/" in k[0]]
    assert len(views) >= 6  # every shape above was read from CouchDB

    replay = Replay(recorded=dict(recorder.recorded), strict=True)
    with Loopback(make_app(replay)) as server:
        replayed = await run_all(
            replace(live_settings, couchdb_url=server.url), account_id, seeded.queue_ids
        )
    assert replay.missing == []
    assert replay.served >= len(views)
    for body, (_, _, csv) in zip(live, asks(seeded.queue_ids), strict=True):
        assert any(values(body, csv)), "a report with data, not an error or zeros"
    for n, (a, b) in enumerate(zip(live, replayed, strict=True)):
        assert VARIABLE.sub(b"", a) == VARIABLE.sub(b"", b), f"report {n} differs when replayed"
