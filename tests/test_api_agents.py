"""The ``agent_states`` report (CONTRACT.md 7) equals the brute-force oracle of
``reference.expected_agent_report`` over the status_stat documents read back from CouchDB.

One account holds: a few days of realistic shifts across the January/February MoDB boundary
(events of January's last hour archived into February's MoDB), and one agent per hard case
of 7b: a state left open for days (the 12-hour cap), the state at the range's start from an
event 10 h before it and none from one 13 h before, two events at one second, a
``pending_logged_out`` in a shift, malformed documents around a good shift, both DST
changes of America/New_York, and a shift running until now.
"""

from __future__ import annotations

import csv
import io
import random
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import reference as ref
from aiohttp.test_utils import TestClient
from conftest import account_docs, build_indexes, make_client

from app.config import Settings
from app.couch import modb
from app.couch.client import Couch

TOKEN = "token-agents"
WHOLE = {"start_date": "2024-01-29", "end_date": "2024-02-02"}
SHIFT_AGENTS = [f"{i:x}" * 32 for i in range(1, 5)]
CAPPED = "c" * 31 + "a"  # ready on Jan 30 08:00, then nothing until Feb 1 10:00
NEAR = "d" * 31 + "1"  # ready 10 h before the range: ready at its start
FAR = "d" * 31 + "2"  # ready 13 h before the range: logged out at its start
TIES = "e" * 31 + "1"  # two events at one second, twice
PENDING = "e" * 31 + "2"  # a pending_logged_out in the middle of a ready state
MALFORMED = "e" * 31 + "3"  # a good shift among malformed documents naming it
BAD = "b" * 32  # malformed documents only
GHOST = "0" * 32  # no events at all
DST = "f" * 31 + "1"  # night shifts over both DST changes in New York
NOW = "f" * 31 + "2"  # a shift still going on now
LATER = 63_000_000_000 + 2_000_000_000  # "now" for ranges in 2024: long after them


def gregorian(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp()) + ref.GREGORIAN_OFFSET


def shifts(account_id: str, agent: str, first: date, days: int, rng: random.Random) -> list[dict]:
    """~8 h a day: log in, ready, then calls (ring, talk, wrap up), missed offers, pauses and
    outbound calls until logging out. One shift ends near midnight on January 31."""
    docs = []
    for n in range(days):
        day = first + timedelta(days=n)
        start = gregorian(day.year, day.month, day.day, 8 if day.day != 31 else 16)
        start += rng.randrange(0, 3600)
        t = start
        events = [("logged_in", t), ("ready", t + rng.randrange(5, 60))]
        t = events[-1][1]
        while t < start + 8 * 3600 - 600:
            t += rng.randrange(20, 600)
            kind = rng.random()
            if kind < 0.6:
                events.append(("connecting", t))
                t += rng.randrange(2, 25)
                events.append(("connected", t))
                t += rng.randrange(30, 900)
                events.append(("wrapup", t))
                t += rng.randrange(5, 120)
            elif kind < 0.75:
                events.append(("connecting", t))
                t += rng.randrange(10, 30)
            elif kind < 0.9:
                events.append(("paused", t))
                t += rng.randrange(60, 1800)
            else:
                events.append(("outbound", t))
                t += rng.randrange(30, 600)
            events.append(("ready", t))
        events.append(("logged_out", t + rng.randrange(1, 60)))
        docs += [ref.status_doc(account_id, agent, ts, status) for status, ts in events]
    return docs


def edge_docs(account_id: str) -> list[dict[str, Any]]:
    a = account_id
    s = ref.status_doc
    docs = [
        s(a, CAPPED, gregorian(2024, 1, 30, 8), "logged_in"),
        s(a, CAPPED, gregorian(2024, 1, 30, 8, 0, 5), "ready"),
        s(a, CAPPED, gregorian(2024, 2, 1, 10), "logged_out"),
        s(a, NEAR, gregorian(2024, 1, 28, 14), "ready"),
        s(a, NEAR, gregorian(2024, 1, 29, 2), "logged_out"),
        s(a, FAR, gregorian(2024, 1, 28, 11), "ready"),
        s(a, FAR, gregorian(2024, 1, 29, 5), "paused"),
        s(a, FAR, gregorian(2024, 1, 29, 5, 30), "logged_out"),
        # at one second: paused and ready (ready holds), connected and wrapup (wrapup
        # holds), and one logged_in twice (two logins)
        s(a, TIES, gregorian(2024, 1, 30, 9), "logged_in"),
        s(a, TIES, gregorian(2024, 1, 30, 9), "logged_in", suffix="-2"),
        s(a, TIES, gregorian(2024, 1, 30, 9, 10), "ready"),
        s(a, TIES, gregorian(2024, 1, 30, 9, 10), "paused", suffix="-2"),
        s(a, TIES, gregorian(2024, 1, 30, 9, 20), "connected"),
        s(a, TIES, gregorian(2024, 1, 30, 9, 20), "wrapup", suffix="-2"),
        s(a, TIES, gregorian(2024, 1, 30, 9, 25), "logged_out"),
        s(a, PENDING, gregorian(2024, 1, 31, 10), "ready"),
        s(a, PENDING, gregorian(2024, 1, 31, 11), "pending_logged_out"),
        s(a, PENDING, gregorian(2024, 1, 31, 12), "logged_out"),
        # January's last hour: archived into February's MoDB
        s(a, PENDING, gregorian(2024, 1, 31, 23, 30), "logged_in"),
        s(a, PENDING, gregorian(2024, 1, 31, 23, 31), "connected"),
        s(a, PENDING, gregorian(2024, 2, 1, 0, 20), "logged_out"),
        s(a, MALFORMED, gregorian(2024, 1, 30, 8), "logged_in"),
        s(a, MALFORMED, gregorian(2024, 1, 30, 8, 1), "ready"),
        s(a, MALFORMED, gregorian(2024, 1, 30, 15), "logged_out"),
        # a call_stat of the same agent: never read by this report
        ref.good_call_stat(a, "q" * 32, "call-1", gregorian(2024, 1, 30, 9), agent_id=MALFORMED),
    ]
    # night shifts over DST: New York springs forward 2024-03-10 07:00 UTC and falls back
    # 2024-11-03 06:00 UTC
    for day in (date(2024, 3, 10), date(2024, 11, 3)):
        t = gregorian(day.year, day.month, day.day, 4, 50)
        docs += [
            s(a, DST, t, "logged_in"),
            s(a, DST, t + 60, "ready"),
            s(a, DST, t + 3600, "connected"),
            s(a, DST, t + 3 * 3600, "paused"),
            s(a, DST, t + 4 * 3600 + 7, "ready"),
            s(a, DST, t + 6 * 3600, "logged_out"),
        ]
    return docs + malformed_status_stats(a)


def malformed_status_stats(account_id: str) -> list[dict[str, Any]]:
    """Each flaw inside MALFORMED's shift (a ``logged_out`` counted would cut it short) and
    for BAD (an agent with no good document)."""
    at = gregorian(2024, 1, 30, 10)
    return [
        *ref.malformed_status_stats(account_id, MALFORMED, at),
        *ref.malformed_status_stats(account_id, BAD, at),
    ]


def now_docs(account_id: str, now: int) -> list[dict[str, Any]]:
    s = ref.status_doc
    return [
        s(account_id, NOW, now - 3 * 3600, "logged_in"),
        s(account_id, NOW, now - 3 * 3600 + 30, "ready"),
        s(account_id, NOW, now - 2 * 3600, "connected"),
        s(account_id, NOW, now - 5400, "ready"),  # still ready now
    ]


async def store(couch: Couch, account_id: str, docs: list[dict[str, Any]]) -> None:
    """Each document into the MoDB of the month it was archived (``pvt_created``)."""
    per_db: dict[str, list[dict[str, Any]]] = {}
    for d in docs:
        month = ref.archive_month(d)
        per_db.setdefault(modb.modb(account_id, int(month[:4]), int(month[4:])), []).append(d)
    for db, batch in per_db.items():
        await couch.create_db(db)
        rows = await couch.bulk_docs(db, batch)
        assert all(r.get("ok") for r in rows), rows


class Data:
    def __init__(self, account_id: str, docs: list[dict[str, Any]]) -> None:
        self.account_id = account_id
        self.docs = docs


@pytest.fixture(scope="module")
async def data(couch: Couch, session_accounts: Any) -> Data:
    account_id = session_accounts.new()
    rng = random.Random(17)
    docs = edge_docs(account_id) + now_docs(account_id, ref.GREGORIAN_OFFSET + int(time.time()))
    for agent in SHIFT_AGENTS:
        docs += shifts(account_id, agent, date(2024, 1, 28), 6, rng)
    account_db = modb.account_db(account_id)
    await couch.create_db(account_db)
    await couch.put_doc(account_db, {"_id": account_id, "pvt_type": "account", "pvt_tree": []})
    await store(couch, account_id, docs)
    await build_indexes(couch, account_id)
    return Data(account_id, await account_docs(couch, account_id))


@pytest.fixture(scope="module")
async def client(couch_url: str, data: Data) -> AsyncIterator[TestClient]:
    async with make_client(Settings(couchdb_url=couch_url, tokens={TOKEN: data.account_id})) as c:
        yield c


async def answer(client: TestClient, data: Data, params: dict[str, Any], **kw: Any) -> Any:
    path = f"/v2/accounts/{data.account_id}/qubicle_reports"
    headers = {"X-Auth-Token": TOKEN}
    if kw.get("get"):
        query = {k: ",".join(v) if isinstance(v, list) else str(v) for k, v in params.items()}
        resp = await client.get(f"{path}/agent_states", params=query, headers=headers)
    else:
        resp = await client.post(path, json={"data": {"report": "agent_states", **params}},
                                 headers=headers)  # fmt: skip
    assert resp.status == 200, await resp.text()
    if params.get("format") == "csv":
        return list(csv.reader(io.StringIO(await resp.text())))
    return (await resp.json())["data"][0]["report"]


async def check(client: TestClient, data: Data, params: dict[str, Any], **kw: Any) -> list[dict]:
    """The report must equal the oracle's, bucket by bucket and in total."""
    got = await answer(client, data, params, **kw)
    expected = ref.expected_agent_report(data.docs, params, now=LATER)
    diffs = ref.report_differences(got, expected)
    assert not diffs, f"{len(diffs)} differences, e.g.:\n" + "\n".join(diffs[:25])
    return expected


def item(expected: list[dict], agent: str) -> dict[str, dict[str, Any]]:
    [found] = [i["data"] for i in expected if i["id"] == agent]
    return found


# -- the matrix -----------------------------------------------------------------------------


@pytest.mark.parametrize("period", ["hourly", "daily", "weekly", "monthly"])
async def test_every_period_matches_the_oracle(client: TestClient, data: Data, period: str) -> None:
    span = {"start_date": "2024-01-31", "end_date": "2024-02-01"} if period == "hourly" else WHOLE
    expected = await check(client, data, {"period": period, "totals": True, **span})
    total = item(expected, "total")
    assert total["talk_time"]["total"] > 0 and total["login_count"]["total"] > 0
    assert 0 < total["occupancy"]["total"] < 100
    if period == "hourly":
        assert len(total["ready_time"]) == 49  # 48 hours and the total


async def test_asia_kolkata_hourly_buckets_by_local_hours(client: TestClient, data: Data) -> None:
    params = {"period": "hourly", "timezone": "Asia/Kolkata", "start_date": "2024-01-31",
              "end_date": "2024-02-01", "totals": True}  # fmt: skip
    expected = await check(client, data, params)
    utc = ref.expected_agent_report(data.docs, {**params, "timezone": "UTC"}, now=LATER)
    assert expected != utc


@pytest.mark.parametrize("day", ["2024-03-10", "2024-11-03"])
@pytest.mark.parametrize("period", ["hourly", "daily"])
async def test_dst_days_of_new_york(client: TestClient, data: Data, day: str, period: str) -> None:
    first = date.fromisoformat(day) - timedelta(days=1)
    params = {"period": period, "timezone": "America/New_York", "identifiers": [DST],
              "start_date": first.isoformat(), "end_date": day, "totals": True}  # fmt: skip
    expected = await check(client, data, params)
    logged = item(expected, DST)["logged_in_time"]
    assert logged["total"] == 6 * 3600
    if period == "hourly":  # 23 hours on the spring day, 25 (in 24 keys) in autumn
        assert len(logged) - 1 == 24 + (23 if day.startswith("2024-03") else 24)


async def test_metric_subsets_in_the_requested_order(client: TestClient, data: Data) -> None:
    metrics = ["occupancy", "pause_count", "talk_time"]
    expected = await check(client, data, {"metrics": metrics, "period": "monthly", **WHOLE})
    assert all(list(i["data"]) == metrics for i in expected)


async def test_csv_and_get_match_the_oracle(client: TestClient, data: Data) -> None:
    params = {"period": "daily", "format": "csv", "totals": True, **WHOLE}
    rows = await answer(client, data, params)
    expected = ref.expected_agent_report(data.docs, params, now=LATER)
    diffs = ref.csv_differences(rows, expected, ref.AGENT_METRICS)
    assert not diffs, "\n".join(diffs[:25])
    get = {"identifiers": [TIES, GHOST], "metrics": ["ready_time", "login_count"],
           "totals": "true", **WHOLE}  # fmt: skip
    got = await answer(client, data, get, get=True)
    expected = ref.expected_agent_report(data.docs, {**get, "totals": True}, now=LATER)
    assert not ref.report_differences(got, expected)


# -- CONTRACT.md 7b, rule by rule ------------------------------------------------------------


async def test_a_state_lasts_at_most_twelve_hours(client: TestClient, data: Data) -> None:
    expected = await check(client, data, {"identifiers": [CAPPED], "totals": True, **WHOLE})
    ready = item(expected, CAPPED)["ready_time"]
    assert ready["total"] == 12 * 3600 and ready["20240130"] == 12 * 3600


async def test_the_state_at_the_start_comes_from_the_last_12_hours(
    client: TestClient, data: Data
) -> None:
    expected = await check(client, data, {"identifiers": [NEAR, FAR], **WHOLE})
    assert item(expected, NEAR)["ready_time"]["20240129"] == 2 * 3600  # 10 h before: counts
    far = item(expected, FAR)
    assert far["ready_time"]["20240129"] == 0  # 13 h before: capped away
    assert far["paused_time"]["20240129"] == 1800 and far["pause_count"]["20240129"] == 1


async def test_two_events_at_one_second_the_later_name_holds(
    client: TestClient, data: Data
) -> None:
    expected = await check(client, data, {"identifiers": [TIES], **WHOLE})
    ties = item(expected, TIES)
    assert ties["login_count"]["20240130"] == 2 and ties["pause_count"]["20240130"] == 1
    assert ties["ready_time"]["20240130"] == 600 and ties["paused_time"]["20240130"] == 0
    assert ties["wrapup_time"]["20240130"] == 300 and ties["talk_time"]["20240130"] == 0


async def test_pending_logged_out_is_set_aside_and_month_end_events_are_found(
    client: TestClient, data: Data
) -> None:
    expected = await check(client, data, {"identifiers": [PENDING], "period": "hourly",
                                          "start_date": "2024-01-31", "end_date": "2024-01-31",
                                          "totals": True})  # fmt: skip
    pending = item(expected, PENDING)
    assert pending["ready_time"]["total"] == 2 * 3600
    assert pending["talk_time"]["2024013123"] == 29 * 60  # from February's MoDB
    stored = [d for d in data.docs if d.get("agent_id") == PENDING and d["timestamp"] >
              gregorian(2024, 1, 31, 23)]  # fmt: skip
    assert {d["pvt_account_db"][-6:] for d in stored} == {"202402"}


async def test_malformed_documents_are_skipped_whole(client: TestClient, data: Data) -> None:
    assert sum(d["_id"].startswith("bad-") for d in data.docs) >= 34
    expected = await check(client, data, {"identifiers": [MALFORMED], "totals": True, **WHOLE})
    assert item(expected, MALFORMED)["ready_time"]["total"] == 7 * 3600 - 60
    listed = [i["id"] for i in await answer(client, data, WHOLE)]
    assert BAD not in listed and MALFORMED in listed and listed == sorted(listed)


async def test_an_agent_with_no_events_is_listed_with_zeros(client: TestClient, data: Data) -> None:
    expected = await check(client, data, {"identifiers": [GHOST, SHIFT_AGENTS[0]], **WHOLE})
    assert [i["id"] for i in expected] == [GHOST, SHIFT_AGENTS[0]]
    assert {v for s in item(expected, GHOST).values() for v in s.values()} == {0}


async def test_many_identifiers_read_one_spanning_range(client: TestClient, data: Data) -> None:
    ids = [*SHIFT_AGENTS, CAPPED, NEAR, FAR, TIES, PENDING, GHOST]  # > 8: one range
    await check(client, data, {"identifiers": ids, "period": "weekly", **WHOLE})


async def test_pages_split_inside_runs_of_equal_keys(
    client: TestClient, data: Data, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.report import events

    for page in (2, 3, 7):
        monkeypatch.setattr(events, "PAGE", page)
        await check(client, data, {"identifiers": [TIES, PENDING], **WHOLE})
    monkeypatch.setattr(events, "PAGE", 50)
    await check(client, data, {"period": "daily", "totals": True, **WHOLE})


async def test_a_range_ending_now_counts_up_to_now(client: TestClient, data: Data) -> None:
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    params = {"identifiers": [NOW], "period": "hourly", "start_date": yesterday, "totals": True}
    before = ref.GREGORIAN_OFFSET + int(time.time())
    got = await answer(client, data, params)
    after = ref.GREGORIAN_OFFSET + int(time.time()) + 1
    low = ref.expected_agent_report(data.docs, params, now=before)
    high = ref.expected_agent_report(data.docs, params, now=after)
    assert [i["id"] for i in got] == [NOW, "total"]
    for metric, series in got[0]["data"].items():
        for bucket, value in series.items():
            lo, hi = low[0]["data"][metric][bucket], high[0]["data"][metric][bucket]
            assert min(lo, hi) <= value <= max(lo, hi), (metric, bucket, lo, value, hi)
    ready = got[0]["data"]["ready_time"]["total"]
    assert ready >= 3600 - 30 + 5400  # ready 1 h, then 1.5 h and on until now


# -- the 400s ---------------------------------------------------------------------------------


async def test_queue_ids_and_threshold_are_forbidden(client: TestClient, data: Data) -> None:
    resp = await client.post(
        f"/v2/accounts/{data.account_id}/qubicle_reports/agent_states",
        json={"data": {"queue_ids": ["q1"], "service_level_threshold": 30,
                       "metrics": ["talk_time", "call_count"], **WHOLE}},
        headers={"X-Auth-Token": TOKEN},
    )  # fmt: skip
    assert resp.status == 400
    body = (await resp.json())["data"]
    assert set(body) == {"queue_ids", "service_level_threshold", "metrics"}
    assert body["queue_ids"]["forbidden"]["value"] == ["q1"]
    assert body["service_level_threshold"]["forbidden"]["value"] == 30
    assert body["metrics"]["enum"]["target"] == ref.AGENT_METRICS


async def test_the_cell_limit_applies(couch_url: str, data: Data) -> None:
    settings = Settings(couchdb_url=couch_url, tokens={TOKEN: data.account_id}, max_cells=40)
    async with make_client(settings) as c:
        resp = await c.post(
            f"/v2/accounts/{data.account_id}/qubicle_reports",
            json={"data": {"report": "agent_states", "period": "hourly", **WHOLE}},
            headers={"X-Auth-Token": TOKEN},
        )
        assert resp.status == 400
        assert "maxCells" in (await resp.json())["data"]["identifiers"]


# -- the oracle against the contract by hand (no server) -------------------------------------


def test_the_oracle_counts_as_the_contract_says() -> None:
    a, agent = "a" * 32, "ag"
    t = gregorian(2024, 5, 1, 10)
    docs = [
        ref.status_doc(a, agent, t, "logged_in"),
        ref.status_doc(a, agent, t + 10, "ready"),
        ref.status_doc(a, agent, t + 10, "connecting", suffix="b"),  # ready holds
        ref.status_doc(a, agent, t + 70, "connected"),
        ref.status_doc(a, agent, t + 170, "pending_logged_out"),
        ref.status_doc(a, agent, t + 370, "wrapup"),
        ref.status_doc(a, agent, t + 400, "ready"),  # then nothing: 12 h cap
    ]
    params = {"start_date": "2024-05-01", "end_date": "2024-05-02", "totals": True}
    got, _ = ref.expected_agent_report(docs, params, now=LATER)
    total = {m: s["total"] for m, s in got["data"].items()}
    assert total == {
        "logged_in_time": 400 + 43200, "ready_time": 60 + 43200, "ringing_time": 0,
        "talk_time": 300, "wrapup_time": 30, "paused_time": 0, "outbound_time": 0,
        "occupancy": round(100 * 330 / (330 + 60 + 43200), 2), "login_count": 1,
        "pause_count": 0,
    }  # fmt: skip
    cut, _ = ref.expected_agent_report(docs, params, now=t + 100)
    assert cut["data"]["logged_in_time"]["total"] == 100
