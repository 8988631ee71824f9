"""Reports over KAZOO ACDC ``call_stat`` data, Qubicle ``qubicle_session`` data, and both in
one account equal the brute-force aggregation of CONTRACT.md sections 2b, 3 and 4.

Three accounts seeded once on the real CouchDB-protocol server over a month end
(2024-01-27..02-03): ACDC only, Qubicle only, and mixed (both shapes over the same queue and
agent ids). Beside the seeded data each holds hand-made edge cases - a call entered before
the month end and archived after it, a call answered after midnight, a call whose only
misses are ``LOSE_RACE`` (one of them by an agent seen nowhere else), abandons with odd or no
reasons - and the malformed documents of ``tests/reference.py``, once over a real queue and
agent and once over ids of their own. Every expected value comes from
``reference.expected_report`` over the documents read back from the MoDBs, never from the
code under test.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
import reference as ref
from aiohttp.test_utils import TestClient
from conftest import account_docs, build_indexes, seed_account

from app.config import Settings
from app.couch import modb
from app.couch.client import Couch
from app.couch.installer import month_dbs

START = date(2024, 1, 27)  # Sat 2024-01-27 .. Sat 2024-02-03: January's end, two MoDBs
DAYS = 8
WHOLE = {"start_date": "2024-01-27", "end_date": "2024-02-03"}
MONTH_END = {"start_date": "2024-01-31", "end_date": "2024-02-01"}
SOURCES = {"acdc": "acdc", "qubicle": "qubicle", "mixed": "both"}
GHOST = "0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a"  # an agent seen only in a LOSE_RACE miss
BAD_QUEUE = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"  # malformed documents only
BAD_AGENT = "cccccccccccccccccccccccccccccccc"


def gregorian(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp()) + ref.GREGORIAN_OFFSET


@dataclass
class Account:
    key: str
    account_id: str
    token: str
    queue_ids: list[str]
    recipient_ids: list[str]
    docs: list[dict[str, Any]]


def edge_call_stats(account_id: str, queues: list[str], agents: list[str]) -> list[dict]:
    """The contract's hard cases, one document each."""
    q0, q1, q2 = queues[:3]
    a0, a1, a2, a3 = agents[:4]
    m = ref.miss
    return [
        # entered before the month end, archived (an hour later) into February's MoDB
        ref.good_call_stat(account_id, q0, "edge-month-end", gregorian(2024, 1, 31, 23, 20),
                           agent_id=a0, wait=75, talk=400,
                           misses=[m(a1, gregorian(2024, 1, 31, 23, 20, 40), "timeout")]),
        # answered (handled_timestamp) the day after it entered
        ref.good_call_stat(account_id, q1, "edge-next-day", gregorian(2024, 1, 29, 23, 57),
                           agent_id=a1, wait=240, talk=95),
        # the only misses are LOSE_RACE: nobody's miss, and GHOST appears nowhere else
        ref.good_call_stat(account_id, q2, "edge-lose-race", gregorian(2024, 1, 30, 10, 5),
                           agent_id=a2, wait=12, talk=180,
                           misses=[m(GHOST, gregorian(2024, 1, 30, 10, 5, 12), "LOSE_RACE"),
                                   m(a3, gregorian(2024, 1, 30, 10, 5, 12), "LOSE_RACE")]),
        # abandoned: no reason at all, other reasons, and a timeout with every kind of miss
        ref.good_call_stat(account_id, q1, "edge-no-reason", gregorian(2024, 1, 28, 9, 0),
                           status="abandoned", wait=33, abandoned_reason=None),
        ref.good_call_stat(account_id, q1, "edge-exit-empty", gregorian(2024, 1, 28, 9, 30),
                           status="abandoned", wait=3, abandoned_reason="member_exit_empty"),
        ref.good_call_stat(account_id, q0, "edge-dtmf", gregorian(2024, 2, 1, 0, 10),
                           status="abandoned", wait=48, abandoned_reason="dtmf_exit"),
        ref.good_call_stat(account_id, q2, "edge-timeout", gregorian(2024, 2, 2, 18, 45),
                           status="abandoned", wait=600, abandoned_reason="member_timeout",
                           misses=[m(a2, gregorian(2024, 2, 2, 18, 50), "rejected"),
                                   m(a1, gregorian(2024, 2, 2, 18, 48), "NO_ANSWER"),
                                   m(a0, gregorian(2024, 2, 2, 18, 46), "timeout")]),
    ]  # fmt: skip


# KPI edges (tests/test_api_kpis.py), in the mixed account
SL_QUEUE = "5151515151515151515151515151515a"  # waits at every threshold
ZERO_QUEUE = "0000000000000000000000000000000a"  # timeouts only: no answer, no abandon
MAX_QUEUE = "7777777777777777777777777777777a"  # the longest waits, placed on the edges
ZERO_AGENT = "0000000000000000000000000000000b"  # misses only
SL_AGENT = "5151515151515151515151515151515b"


def session(account_id: str, queue: str, call: str, entered: int, **kw: Any) -> dict:
    return ref.good_doc(account_id, queue, call, entered, **kw)


def answered_session(account_id: str, queue: str, call: str, entered: int, wait: int) -> dict:
    offer = ref.offer(SL_AGENT, entered + wait - 4, "answered", ring=4, talk=60)
    return session(
        account_id, queue, call, entered, wait=wait, talk=60, offers=[offer], recipient_id=SL_AGENT
    )


def kpi_edge_docs(account_id: str) -> list[dict[str, Any]]:
    a = account_id
    docs: list[dict[str, Any]] = []
    # every threshold T: answered at T-1, T and T+1 seconds, in both shapes; an abandon
    for i, t in enumerate(ref.THRESHOLDS):
        at = gregorian(2024, 1, 29, 8) + 600 * i
        for j, wait in enumerate((t - 1, t, t + 1)):
            docs.append(answered_session(a, SL_QUEUE, f"sl-{t}-{j}", at + 10 * j, wait))
            docs.append(
                ref.good_call_stat(
                    a,
                    SL_QUEUE,
                    f"sl-{t}-{j}",
                    at + 10 * j + 5,
                    wait=wait,
                    talk=60,
                    agent_id=SL_AGENT,
                )
            )
        docs.append(session(a, SL_QUEUE, f"sl-{t}-ab", at + 50, result="abandoned", wait=t))
    # every divisor zero: only timeouts in a queue, only misses for an agent
    noon = gregorian(2024, 1, 30, 12)
    misses = [ref.offer(ZERO_AGENT, noon + 5, "missed", ring=20)]
    docs.append(session(a, ZERO_QUEUE, "zero-1", noon, result="timeout", wait=120, offers=misses))
    docs.append(
        ref.good_call_stat(
            a,
            ZERO_QUEUE,
            "zero-2",
            noon + 300,
            status="abandoned",
            wait=300,
            abandoned_reason="member_timeout",
            misses=[
                ref.miss(ZERO_AGENT, noon + 330, "timeout"),
                ref.miss(ZERO_AGENT, noon + 310, "rejected"),
            ],
        )
    )
    # the longest waits: in February's MoDB for a January day, and around a UTC midnight
    docs += [
        session(a, MAX_QUEUE, "max-1", gregorian(2024, 1, 31, 12), result="abandoned", wait=100),
        ref.good_call_stat(
            a,
            MAX_QUEUE,
            "max-2",
            gregorian(2024, 1, 31, 23, 30),
            wait=1500,
            talk=30,
            agent_id=SL_AGENT,
        ),  # handled and archived in February
        session(
            a, MAX_QUEUE, "max-3", gregorian(2024, 1, 31, 23, 40), result="timeout", wait=1200
        ),  # exits in February
        session(a, MAX_QUEUE, "max-4", gregorian(2024, 2, 1, 0, 5), result="abandoned", wait=50),
        # 19:00 UTC on the 29th is 00:30 on the 30th in Kolkata
        ref.good_call_stat(
            a,
            MAX_QUEUE,
            "max-5",
            gregorian(2024, 1, 29, 19),
            status="abandoned",
            wait=1300,
            abandoned_reason="member_hangup",
        ),
        session(
            a,
            MAX_QUEUE,
            "max-6",
            gregorian(2024, 1, 30, 10),
            wait=700,
            talk=20,
            offers=[ref.offer(SL_AGENT, gregorian(2024, 1, 30, 10) + 690, ring=10, talk=20)],
            recipient_id=SL_AGENT,
        ),
    ]
    return docs


# KAZOO's own design document in every MoDB ACDC writes to (acdc priv/couchdb/views/
# call_stats.json, map lines joined as KAZOO stores them): reports must never touch it
KAZOO_CALL_STATS = {
    "_id": "_design/call_stats",
    "kazoo": {"view_map": [{"classification": "modb"}]},
    "language": "javascript",
    "views": {
        "call_log": {
            "map": "function(doc) {\n  if (doc.pvt_type != 'call_stat') return;\n"
            "  emit([doc.queue_id, doc.entered_timestamp], null);\n}"
        }
    },
}


async def _store(couch: Couch, account_id: str, docs: list[dict[str, Any]]) -> None:
    """Write documents into the MoDB KAZOO would have: a call_stat's archive month, a
    session's ``_id`` month."""
    per_db: dict[str, list[dict[str, Any]]] = {}
    for d in docs:
        month = ref.archive_month(d) if "pvt_created" in d and "::" in d["_id"] else d["_id"][:6]
        db = modb.modb(account_id, int(month[:4]), int(month[4:]))
        per_db.setdefault(db, []).append(d)
    for db, batch in per_db.items():
        await couch.create_db(db)
        rows = await couch.bulk_docs(db, batch)
        assert all(r.get("ok") or r.get("rev") for r in rows), rows


async def _seed(couch: Couch, account_id: str, key: str, seed_no: int) -> Account:
    source = SOURCES[key]
    acc = await seed_account(  # indexes are built once, after the extra documents
        couch,
        account_id,
        seed=seed_no,
        build=False,
        source=source,
        queues=3,
        recipients=5,
        days=DAYS,
        calls_per_day=16,
        start=START,
    )
    q, r = acc.queue_ids, acc.recipient_ids
    extra: list[dict[str, Any]] = []
    noon = gregorian(2024, 1, 28, 12)
    if source in ("acdc", "both"):
        extra += edge_call_stats(account_id, q, r)
        extra += ref.malformed_call_stats(account_id, q[0], r[0], noon)
        extra += ref.malformed_call_stats(account_id, BAD_QUEUE, BAD_AGENT, noon + 3600)
    if source == "both":
        extra += kpi_edge_docs(account_id)
    if source in ("qubicle", "both"):
        extra += ref.malformed_docs(account_id, q[0], r[0], noon)
        bad = ref.malformed_docs(account_id, BAD_QUEUE, BAD_AGENT, noon + 3600)
        extra += [{**d, "_id": d["_id"].replace("-bad-", "-bad2-")} for d in bad]
    await _store(couch, account_id, extra)
    if source in ("acdc", "both"):
        for db in await month_dbs(couch, account_id):
            await couch.put_doc(db, dict(KAZOO_CALL_STATS))
    await build_indexes(couch, account_id)  # the new documents, indexed before any report
    docs = await account_docs(couch, account_id)
    return Account(key, account_id, f"token-{key}", q, r, docs)


_SHARED: dict[str, Account] = {}


async def shared_accounts(couch: Couch, session_accounts: Any) -> dict[str, Account]:
    """The three accounts this module and ``test_api_kpis`` read, seeded once per test
    session: building their indexes is most of what these tests cost."""
    if not _SHARED:
        for i, key in enumerate(SOURCES):
            _SHARED[key] = await _seed(couch, session_accounts.new(), key, 60 + i)
    return _SHARED


@pytest.fixture(scope="module")
async def data(couch: Couch, session_accounts: Any) -> dict[str, Account]:
    return await shared_accounts(couch, session_accounts)


@pytest.fixture(scope="module")
def service_settings(couch_url: str, data: dict[str, Account]) -> Settings:
    """conftest's client, with a token for each shared account (test_api_kpis too)."""
    return Settings(couchdb_url=couch_url, tokens={a.token: a.account_id for a in data.values()})


async def post(client: TestClient, account: Account, params: dict[str, Any]) -> Any:
    resp = await client.post(
        f"/v2/accounts/{account.account_id}/qubicle_reports",
        json={"data": params},
        headers={"X-Auth-Token": account.token},
    )
    assert resp.status == 200, await resp.text()
    if params.get("format") == "csv":
        assert resp.content_type == "text/csv"
        return list(csv.reader(io.StringIO(await resp.text())))
    return await resp.json()


async def check(client: TestClient, account: Account, params: dict[str, Any]) -> list[dict]:
    """POST ``params``; the report must equal the reference, bucket by bucket."""
    body = await post(client, account, params)
    expected = ref.expected_report(account.docs, params)
    diffs = ref.report_differences(body["data"][0]["report"], expected)
    assert not diffs, f"{len(diffs)} differences, e.g.:\n" + "\n".join(diffs[:25])
    return expected


def counted(expected: list[dict], metric: str) -> float:
    return sum(v for item in expected for v in item["data"][metric].values())


# -- the matrix ----------------------------------------------------------------------------------

ACCOUNTS = list(SOURCES)


@pytest.mark.parametrize("period", ["hourly", "daily", "weekly", "monthly"])
@pytest.mark.parametrize("report", ["queues", "recipients"])
@pytest.mark.parametrize("key", ACCOUNTS)
async def test_every_period_matches_reference(
    client: TestClient, data: dict[str, Account], key: str, report: str, period: str
) -> None:
    span = MONTH_END if period == "hourly" else WHOLE
    expected = await check(client, data[key], {"report": report, "period": period, **span})
    assert counted(expected, "call_count") > 0  # the data has answered calls in range
    if period == "hourly":
        assert len(expected[0]["data"]["call_count"]) == 48


@pytest.mark.parametrize("period", ["daily", "hourly"])
@pytest.mark.parametrize("report", ["queues", "recipients"])
@pytest.mark.parametrize("key", ACCOUNTS)
async def test_half_hour_zone_buckets_by_local_time(
    client: TestClient, data: dict[str, Account], key: str, report: str, period: str
) -> None:
    span = MONTH_END if period == "hourly" else WHOLE
    params = {"report": report, "period": period, "timezone": "Asia/Kolkata", **span}
    kolkata = await check(client, data[key], params)
    utc = ref.expected_report(data[key].docs, {**params, "timezone": "UTC"})
    assert kolkata != utc  # the zone matters for this data: it is not silently ignored


@pytest.mark.parametrize("report", ["queues", "recipients"])
@pytest.mark.parametrize("key", ACCOUNTS)
async def test_identifiers_keep_their_order_and_unknown_ids_are_zeros(
    client: TestClient, data: dict[str, Account], key: str, report: str
) -> None:
    a = data[key]
    real = a.queue_ids if report == "queues" else a.recipient_ids
    odd = BAD_QUEUE if report == "queues" else GHOST
    ids = [real[2], "no-such-id", real[0], odd]
    expected = await check(client, a, {"report": report, "identifiers": ids, **WHOLE})
    assert [i["id"] for i in expected] == ids
    assert sum(expected[0]["data"]["call_count"].values()) > 0


@pytest.mark.parametrize("with_ids", [False, True])
@pytest.mark.parametrize("key", ACCOUNTS)
async def test_queue_ids_keep_only_offers_from_those_queues(
    client: TestClient, data: dict[str, Account], key: str, with_ids: bool
) -> None:
    a = data[key]
    params: dict[str, Any] = {
        "report": "recipients",
        "queue_ids": [a.queue_ids[1], a.queue_ids[2]],
        "period": "weekly",
        **WHOLE,
    }
    if with_ids:
        params["identifiers"] = [a.recipient_ids[3], a.recipient_ids[0], "no-such-agent"]
    some = await check(client, a, params)
    every = ref.expected_report(a.docs, {**params, "queue_ids": a.queue_ids})
    assert 0 < counted(some, "call_count") < counted(every, "call_count")


@pytest.mark.parametrize(
    ("report", "metrics"),
    [
        ("queues", ["abandon_count", "max_wait", "call_count"]),
        ("recipients", ["avg_ring_duration", "offered_count", "missed_call_count"]),
    ],
)
@pytest.mark.parametrize("key", ACCOUNTS)
async def test_metric_subsets_in_the_requested_order(
    client: TestClient, data: dict[str, Account], key: str, report: str, metrics: list[str]
) -> None:
    params = {"report": report, "metrics": metrics, "period": "monthly", **WHOLE}
    expected = await check(client, data[key], params)
    assert all(list(i["data"]) == metrics for i in expected)


@pytest.mark.parametrize("report", ["queues", "recipients"])
@pytest.mark.parametrize("key", ACCOUNTS)
async def test_csv_matches_the_reference(
    client: TestClient, data: dict[str, Account], key: str, report: str
) -> None:
    metrics = ref.QUEUE_METRICS if report == "queues" else ref.RECIPIENT_METRICS
    params = {"report": report, "period": "daily", "format": "csv", **WHOLE}
    rows = await post(client, data[key], params)
    expected = ref.expected_report(data[key].docs, params)
    diffs = ref.csv_differences(rows, expected, metrics)
    assert not diffs, "\n".join(diffs[:25])


# -- the contract's table, case by case (acdc and mixed accounts) --------------------------------

ACDC_ACCOUNTS = ["acdc", "mixed"]


@pytest.mark.parametrize("key", ACDC_ACCOUNTS)
async def test_a_call_archived_after_the_month_end_counts_on_the_day_it_entered(
    client: TestClient, data: dict[str, Account], key: str
) -> None:
    a = data[key]
    [doc] = [d for d in a.docs if d["_id"].startswith("edge-month-end::")]
    assert doc["pvt_account_db"].endswith("-202402")  # stored in February's MoDB
    for report in ("queues", "recipients"):  # a January-only range still finds it
        params = {"report": report, "start_date": "2024-01-31", "end_date": "2024-01-31"}
        expected = await check(client, a, params)
        entity = doc["queue_id"] if report == "queues" else doc["agent_id"]
        [item] = [i for i in expected if i["id"] == entity]
        assert item["data"]["call_count"]["20240131"] >= 1


@pytest.mark.parametrize("key", ACDC_ACCOUNTS)
async def test_an_answer_after_midnight_counts_for_the_agent_on_that_day(
    client: TestClient, data: dict[str, Account], key: str
) -> None:
    a = data[key]
    [doc] = [d for d in a.docs if d["_id"].startswith("edge-next-day::")]
    ids = [doc["agent_id"]]
    params = {"report": "recipients", "identifiers": ids, "period": "hourly"}
    expected = await check(
        client, a, {**params, "start_date": "2024-01-30", "end_date": "2024-01-30"}
    )
    assert expected[0]["data"]["call_count"]["2024013000"] >= 1
    queue = await check(client, a, {"report": "queues", "identifiers": [doc["queue_id"]],
                                     "period": "hourly", "start_date": "2024-01-29",
                                     "end_date": "2024-01-29"})  # fmt: skip
    assert queue[0]["data"]["call_count"]["2024012923"] >= 1  # the visit: the day it entered


@pytest.mark.parametrize("key", ACDC_ACCOUNTS)
async def test_lose_race_is_nobodys_miss(
    client: TestClient, data: dict[str, Account], key: str
) -> None:
    a = data[key]
    body = await post(client, a, {"report": "recipients", **WHOLE})
    listed = [i["id"] for i in body["data"][0]["report"]]
    assert GHOST not in listed and listed == sorted(listed)
    body = await post(
        client,
        a,
        {
            "report": "recipients",
            "identifiers": [GHOST],
            "metrics": ref.RECIPIENT_ALL_METRICS,
            **WHOLE,
        },
    )
    [ghost] = body["data"][0]["report"]
    assert {v for series in ghost["data"].values() for v in series.values()} == {0}


@pytest.mark.parametrize("key", ACCOUNTS)
async def test_malformed_documents_are_skipped_whole(
    client: TestClient, data: dict[str, Account], key: str
) -> None:
    a = data[key]
    assert sum(d.get("queue_id") == BAD_QUEUE for d in a.docs) >= 30
    assert not [d["_id"] for d in a.docs if d.get("queue_id") == BAD_QUEUE and ref.is_counted(d)]
    for report, entity in (("queues", BAD_QUEUE), ("recipients", BAD_AGENT)):
        body = await post(client, a, {"report": report, "period": "monthly", **WHOLE})
        assert entity not in [i["id"] for i in body["data"][0]["report"]]
        metrics = ref.QUEUE_ALL_METRICS if report == "queues" else ref.RECIPIENT_ALL_METRICS
        params = {"report": report, "identifiers": [entity], "metrics": metrics, **WHOLE}
        body = await post(client, a, params)
        [item] = body["data"][0]["report"]
        assert {v for series in item["data"].values() for v in series.values()} == {0}


async def test_an_acdc_only_agent_has_answers_but_no_ring_time(
    client: TestClient, data: dict[str, Account]
) -> None:
    expected = await check(
        client, data["acdc"], {"report": "recipients", "period": "monthly", **WHOLE}
    )
    assert counted(expected, "call_count") > 0
    assert counted(expected, "avg_ring_duration") == 0


async def test_mixed_ring_time_divides_by_the_answers_that_rang(
    client: TestClient, data: dict[str, Account]
) -> None:
    """In the mixed account an agent answers both sessions (with ring times) and ACDC calls
    (without): dividing by every answer would be wrong, and the data shows it."""
    a = data["mixed"]
    params = {"report": "recipients", "period": "weekly", **WHOLE}
    expected = await check(client, a, params)
    offers = ref.offers(a.docs)
    naive_differs = False
    for agent in a.recipient_ids:
        answered = [o for o in offers if o["recipient_id"] == agent and o["result"] == "answered"]
        rung = [o for o in answered if o["ring"] is not None]
        if rung and len(rung) < len(answered):
            naive = round(sum(o["ring"] for o in rung) / len(answered), 2)
            exact = round(sum(o["ring"] for o in rung) / len(rung), 2)
            naive_differs |= naive != exact
    assert naive_differs
    assert counted(expected, "avg_ring_duration") > 0


@pytest.mark.parametrize("key", ACDC_ACCOUNTS)
async def test_kazoos_own_call_stats_design_doc_is_never_touched(
    couch: Couch, client: TestClient, data: dict[str, Account], key: str
) -> None:
    a = data[key]
    dbs = await month_dbs(couch, a.account_id)

    async def kazoo_docs() -> dict[str, Any]:
        return {db: await couch.get_doc(db, "_design/call_stats") for db in dbs}

    before = await kazoo_docs()
    assert all(before.values()) and len(before) == 2
    for report in ("queues", "recipients"):
        await check(client, a, {"report": report, "period": "hourly", **MONTH_END})
    assert await kazoo_docs() == before  # same revision, same content
    for db in dbs:  # and KAZOO's view still answers over every call_stat in the MoDB
        rows = await couch.view(db, "call_stats", "call_log", reduce=False)
        stored = await couch.all_docs(db, include_docs=True)
        stats = [r for r in stored if r["doc"].get("pvt_type") == "call_stat"]
        assert len(rows) == len(stats) > 0


# -- the oracle itself, against the contract's table by hand (no server) -------------------------


def test_reference_counts_a_call_stat_as_the_contract_table_says() -> None:
    t = gregorian(2024, 1, 10, 9)
    processed = ref.good_call_stat(
        "a" * 32, "q1", "c1", t, wait=20, talk=100, agent_id="ag1",
        misses=[ref.miss("ag2", t + 19, "LOSE_RACE"), ref.miss("ag3", t + 15, "rejected"),
                ref.miss("ag4", t + 10, "timeout"), ref.miss("ag5", t + 5, "NO_ANSWER")],
    )  # fmt: skip
    timeout = ref.good_call_stat("a" * 32, "q1", "c2", t, status="abandoned", wait=300,
                                 abandoned_reason="member_timeout")  # fmt: skip
    no_reason = ref.good_call_stat("a" * 32, "q1", "c3", t, status="abandoned", wait=7,
                                   abandoned_reason=None)  # fmt: skip
    exit_ = ref.good_call_stat("a" * 32, "q1", "c4", t, status="abandoned", wait=9,
                               abandoned_reason="member_exit")  # fmt: skip
    docs = [processed, timeout, no_reason, exit_]
    assert [(v["result"], v["wait"]) for v in ref.visits(docs)] == [
        ("answered", 20), ("timeout", 300), ("abandoned", 7), ("abandoned", 9)
    ]  # fmt: skip
    assert ref.offers(docs) == [
        {"recipient_id": "ag1", "queue_id": "q1", "at": t + 20, "result": "answered",
         "ring": None, "talk": 100},
        {"recipient_id": "ag3", "queue_id": "q1", "at": t + 15, "result": "rejected",
         "ring": None, "talk": 0},
        {"recipient_id": "ag4", "queue_id": "q1", "at": t + 10, "result": "missed",
         "ring": None, "talk": 0},
        {"recipient_id": "ag5", "queue_id": "q1", "at": t + 5, "result": "missed",
         "ring": None, "talk": 0},
    ]  # fmt: skip
    q = ref.queue_metric_values(ref.visits(docs), 20)
    assert (q["call_count"], q["answered_count"], q["timeout_count"], q["abandon_count"]) == (
        4, 1, 1, 2
    )  # fmt: skip
    assert (q["service_level"], q["max_wait"], q["avg_abandon_time"]) == (25.0, 300, 8.0)
    assert ref.queue_metric_values(ref.visits(docs), 15)["service_level"] == 0
    answer = ref.offer("ag1", t + 24, "answered", ring=6, talk=50)
    session = ref.good_doc("a" * 32, "q1", "s1", t, wait=30, talk=50, recipient_id="ag1",
                           offers=[answer])  # fmt: skip
    agent = ref.recipient_metric_values(
        [o for o in ref.offers([*docs, session]) if o["recipient_id"] == "ag1"]
    )
    # two answers, one with a ring time: ring 6 / 1, talk (100 + 50) / 2
    assert (agent["call_count"], agent["avg_ring_duration"], agent["avg_call_duration"]) == (
        2, 6.0, 75.0
    )  # fmt: skip
    for bad in ref.malformed_call_stats("a" * 32, "q1", "ag1", t):
        assert not ref.is_counted(bad), bad["_id"]
