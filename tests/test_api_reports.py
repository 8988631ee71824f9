"""Every report the API gives equals a brute-force aggregation of the seeded documents.

Two seeded accounts on the real CouchDB-protocol server: one spans a year end and a month
end (2023-12-20..2024-02-03), one a US DST change (2024-03-07..13). The expected values are
computed by ``tests/reference.py`` from the documents read back with ``_all_docs`` — never
from the code under test.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import reference as ref
from aiohttp.test_utils import TestClient
from conftest import account_docs, build_indexes, seed_account
from reference import QUEUE_METRICS, RECIPIENT_METRICS

from app.config import Settings
from app.couch.client import Couch
from app.web.context import LOADER

TOKEN_A = "token-account-a"
TOKEN_B = "token-account-b"


@dataclass
class Seeded:
    account_id: str
    queue_ids: list[str]
    recipient_ids: list[str]
    docs: list[dict[str, Any]]


async def _seed(couch: Couch, account_id: str, start: date, days: int, seed_no: int) -> Seeded:
    acc = await seed_account(  # indexes built once, below, with the malformed docs in
        couch, account_id, seed=seed_no, build=False, recipients=5, days=days, calls_per_day=24,
        start=start,
    )  # fmt: skip
    # malformed documents beside the good ones: every report must ignore them
    noon = datetime.combine(start + timedelta(days=1), time(12), UTC)
    entered = int(noon.timestamp()) + ref.GREGORIAN_OFFSET
    bad = ref.malformed_docs(account_id, acc.queue_ids[0], acc.recipient_ids[0], entered)
    db = f"account/{account_id[:2]}/{account_id[2:4]}/{account_id[4:]}-{start:%Y%m}"
    await couch.bulk_docs(db, bad)
    await build_indexes(couch, account_id)
    docs = await account_docs(couch, account_id)
    return Seeded(account_id, acc.queue_ids, acc.recipient_ids, docs)


@pytest.fixture(scope="module")
async def data(couch: Couch, session_accounts: Any) -> dict[str, Seeded]:
    a = await _seed(couch, session_accounts.new(), date(2023, 12, 20), 46, 7)
    b = await _seed(couch, session_accounts.new(), date(2024, 3, 7), 7, 8)
    return {"a": a, "b": b}


@pytest.fixture(scope="module")
def service_settings(couch_url: str, data: dict[str, Seeded]) -> Settings:
    """conftest's client, with a token for each of the two accounts."""
    tokens = {TOKEN_A: data["a"].account_id, TOKEN_B: data["b"].account_id}
    return Settings(couchdb_url=couch_url, tokens=tokens)


# -- the reference report ----------------------------------------------------------------------


def _bucket_fn(period: str, tz: str) -> Callable[[datetime], str]:
    zone = ZoneInfo(tz)
    if period == "hourly":
        return lambda slot: slot.astimezone(zone).strftime("%Y%m%d%H")
    return lambda slot: ref.period_key(period, slot.astimezone(zone).date())


def expected_report(seeded: Seeded, params: dict[str, Any]) -> dict[str, dict[str, dict]]:
    """{entity: {metric: {bucket: value}}} computed from the raw documents."""
    report = params["report"]
    tz = params.get("timezone", "UTC")
    period = params.get("period", "daily")
    zone = ZoneInfo(tz)
    first = date.fromisoformat(params["start_date"])
    last = date.fromisoformat(params["end_date"])
    queue_ids = params.get("queue_ids")
    if report == "queues":
        slots = ref.queue_buckets(seeded.docs)
        metric_fn, names, width = ref.queue_metrics, QUEUE_METRICS, 4
    else:
        slots = ref.offer_buckets(seeded.docs, by_queue=queue_ids is not None)
        metric_fn, names, width = ref.recipient_metrics, RECIPIENT_METRICS, 5
        if queue_ids is not None:
            slots = _drop_queue(ref.restrict(slots, lambda e, _s: e[1] in queue_ids))
    in_range = ref.restrict(slots, lambda _e, s: first <= s.astimezone(zone).date() <= last)
    rolled = ref.roll_up(in_range, _bucket_fn(period, tz))
    # every bucket of the range: every 15-minute UTC slot of the local window, independently
    start_utc = datetime.combine(first, time(0), zone).astimezone(UTC)
    end_utc = datetime.combine(last + timedelta(days=1), time(0), zone).astimezone(UTC)
    key = _bucket_fn(period, tz)
    buckets: list[str] = []
    t = start_utc
    while t < end_utc:
        k = key(t)
        if k not in buckets:
            buckets.append(k)
        t += timedelta(minutes=15)
    entities = params.get("identifiers") or sorted({e for e, _ in rolled})
    metrics = params.get("metrics") or names
    out: dict[str, dict[str, dict]] = {}
    for entity in entities:
        per_metric: dict[str, dict] = {m: {} for m in metrics}
        for b in buckets:
            values = metric_fn(rolled.get((entity, b), [0] * width))
            for m in metrics:
                per_metric[m][b] = values[m]
        out[entity] = per_metric
    return out


def _drop_queue(slots: dict) -> dict:
    """{((recipient, queue), slot)} -> {(recipient, slot)} summed over the kept queues."""
    out: dict = {}
    for (pair, slot), values in slots.items():
        acc = out.setdefault((pair[0], slot), [0] * len(values))
        for i, v in enumerate(values):
            acc[i] += v
    return out


def report_params(report: str, period: str, start: str, end: str, **more: Any) -> dict[str, Any]:
    """A request's data: ``report`` in ``period`` buckets from ``start`` to ``end``."""
    return {"report": report, "period": period, "start_date": start, "end_date": end, **more}


async def post(client: TestClient, token: str, account: str, data: dict) -> Any:
    resp = await client.post(
        f"/v2/accounts/{account}/qubicle_reports",
        json={"data": data},
        headers={"X-Auth-Token": token},
    )
    body = await resp.json()
    assert resp.status == 200, body
    return body


def as_dict(body: dict) -> dict[str, dict]:
    return {item["id"]: item["data"] for item in body["data"][0]["report"]}


def assert_matches(body: dict, expected: dict[str, dict]) -> None:
    got = as_dict(body)
    assert [i["id"] for i in body["data"][0]["report"]] == list(expected)
    for entity, metrics in expected.items():
        assert list(got[entity]) == list(metrics), entity
        for metric, buckets in metrics.items():
            assert list(got[entity][metric]) == list(buckets), (entity, metric)
            assert got[entity][metric] == pytest.approx(buckets), (entity, metric)


# -- the matrix --------------------------------------------------------------------------------

A_RANGE = {"start_date": "2023-12-20", "end_date": "2024-02-03"}


@pytest.mark.parametrize("report", ["queues", "recipients"])
@pytest.mark.parametrize("period", ["daily", "weekly", "monthly"])
async def test_whole_range_every_period_matches_reference(
    client: TestClient, data: dict[str, Seeded], report: str, period: str
) -> None:
    params = {"report": report, "period": period, **A_RANGE}
    body = await post(client, TOKEN_A, data["a"].account_id, params)
    expected = expected_report(data["a"], params)
    assert expected, "the seeded data must produce entities"
    assert_matches(body, expected)


@pytest.mark.parametrize("report", ["queues", "recipients"])
async def test_hourly_across_the_year_end_matches_reference(
    client: TestClient, data: dict[str, Seeded], report: str
) -> None:
    params = report_params(report, "hourly", "2023-12-31", "2024-01-01")
    body = await post(client, TOKEN_A, data["a"].account_id, params)
    expected = expected_report(data["a"], params)
    first = next(iter(expected.values()))
    assert len(next(iter(first.values()))) == 48  # 2 days x 24 hours, zero-filled
    assert_matches(body, expected)


async def test_hourly_across_a_month_end_matches_reference(
    client: TestClient, data: dict[str, Seeded]
) -> None:
    params = report_params("queues", "hourly", "2024-01-31", "2024-02-01")
    body = await post(client, TOKEN_A, data["a"].account_id, params)
    assert_matches(body, expected_report(data["a"], params))


async def test_weeks_split_by_the_range_ends_hold_only_days_inside(
    client: TestClient, data: dict[str, Seeded]
) -> None:
    # Wed 2023-12-27 .. Tue 2024-01-09: first and last weeks are partial
    params = report_params("queues", "weekly", "2023-12-27", "2024-01-09")
    body = await post(client, TOKEN_A, data["a"].account_id, params)
    expected = expected_report(data["a"], params)
    assert list(next(iter(next(iter(expected.values())).values()))) == [
        "202352",
        "202353",
        "202401",
    ]
    assert_matches(body, expected)
    whole = report_params("queues", "weekly", "2023-12-24", "2024-01-13")
    whole_body = await post(client, TOKEN_A, data["a"].account_id, whole)
    q = data["a"].queue_ids[0]
    partial = as_dict(body)[q]["call_count"]
    full = as_dict(whole_body)[q]["call_count"]
    assert partial["202353"] == full["202353"]  # the middle week is whole in both
    assert partial["202352"] < full["202352"] or full["202352"] == 0


async def test_identifiers_keep_their_order_and_unknown_ones_get_zeros(
    client: TestClient, data: dict[str, Seeded]
) -> None:
    a = data["a"]
    ids = [a.queue_ids[2], "no-such-queue", a.queue_ids[0]]
    params = {"report": "queues", "identifiers": ids, **A_RANGE}
    body = await post(client, TOKEN_A, a.account_id, params)
    assert [i["id"] for i in body["data"][0]["report"]] == ids
    got = as_dict(body)
    assert set(got["no-such-queue"]["call_count"].values()) == {0}
    assert sum(got[a.queue_ids[0]]["call_count"].values()) > 0
    assert_matches(body, expected_report(a, params))


async def test_identifiers_omitted_lists_every_entity_with_data_sorted(
    client: TestClient, data: dict[str, Seeded]
) -> None:
    a = data["a"]
    body = await post(client, TOKEN_A, a.account_id, {"report": "recipients", **A_RANGE})
    ids = [i["id"] for i in body["data"][0]["report"]]
    assert ids == sorted(ids)
    assert set(ids) == set(a.recipient_ids)


@pytest.mark.parametrize("with_ids", [False, True])
async def test_queue_ids_count_only_offers_from_those_queues(
    client: TestClient, data: dict[str, Seeded], with_ids: bool
) -> None:
    a = data["a"]
    params: dict[str, Any] = {
        "report": "recipients",
        "queue_ids": [a.queue_ids[1]],
        "period": "weekly",
        **A_RANGE,
    }
    if with_ids:
        params["identifiers"] = a.recipient_ids[:3]
    body = await post(client, TOKEN_A, a.account_id, params)
    expected = expected_report(a, params)
    assert_matches(body, expected)
    unfiltered = await post(client, TOKEN_A, a.account_id, {**params, "queue_ids": a.queue_ids})
    total_one = sum(sum(m["call_count"].values()) for m in as_dict(body).values())
    total_all = sum(sum(m["call_count"].values()) for m in as_dict(unfiltered).values())
    assert 0 < total_one < total_all


@pytest.mark.parametrize(
    ("report", "metrics"),
    [
        ("queues", ["abandon_count"]),
        ("queues", ["timeout_count", "avg_wait"]),
        ("recipients", ["avg_ring_duration", "call_count", "rejected_call_count"]),
        ("recipients", ["missed_call_count", "avg_call_duration"]),
    ],
)
async def test_metrics_subset_in_the_requested_order(
    client: TestClient, data: dict[str, Seeded], report: str, metrics: list[str]
) -> None:
    params = {"report": report, "metrics": metrics, "period": "monthly", **A_RANGE}
    body = await post(client, TOKEN_A, data["a"].account_id, params)
    for item in body["data"][0]["report"]:
        assert list(item["data"]) == metrics
    assert_matches(body, expected_report(data["a"], params))


@pytest.mark.parametrize(
    ("tz", "period", "start", "end"),
    [
        ("America/Chicago", "daily", "2023-12-30", "2024-01-02"),  # whole-hour zone
        ("Asia/Kolkata", "daily", "2023-12-30", "2024-01-02"),  # half-hour zone
        ("Asia/Kathmandu", "weekly", "2023-12-24", "2024-01-13"),  # quarter-hour zone
        ("Asia/Kolkata", "hourly", "2024-01-31", "2024-02-01"),
        ("Pacific/Auckland", "monthly", "2023-12-20", "2024-02-03"),
    ],
)
@pytest.mark.parametrize("report", ["queues", "recipients"])
async def test_timezones_bucket_by_local_calendar(
    client: TestClient,
    data: dict[str, Seeded],
    tz: str,
    period: str,
    start: str,
    end: str,
    report: str,
) -> None:
    params = report_params(report, period, start, end, timezone=tz)
    body = await post(client, TOKEN_A, data["a"].account_id, params)
    assert_matches(body, expected_report(data["a"], params))


@pytest.mark.parametrize("period", ["hourly", "daily"])
async def test_dst_change_in_new_york(
    client: TestClient, data: dict[str, Seeded], period: str
) -> None:
    params = report_params(
        "queues", period, "2024-03-09", "2024-03-11", timezone="America/New_York"
    )
    body = await post(client, TOKEN_B, data["b"].account_id, params)
    expected = expected_report(data["b"], params)
    if period == "hourly":  # 2024-03-10 has no 02:00 in New York: 71 hours in 3 days
        assert len(next(iter(next(iter(expected.values())).values()))) == 71
    assert_matches(body, expected)


async def test_utc_and_a_zone_disagree_where_they_should(
    client: TestClient, data: dict[str, Seeded]
) -> None:
    """Guards against a zone being silently ignored."""
    base = report_params("queues", "daily", "2024-01-02", "2024-01-04")
    utc = as_dict(await post(client, TOKEN_A, data["a"].account_id, base))
    kol = as_dict(
        await post(client, TOKEN_A, data["a"].account_id, {**base, "timezone": "Asia/Kolkata"})
    )
    assert utc != kol


# -- CSV -----------------------------------------------------------------------------------------


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("selector", ["format", "accept_param", "accept_header"])
async def test_csv_by_each_selector_matches_the_json_report(
    client: TestClient, data: dict[str, Seeded], selector: str
) -> None:
    a = data["a"]
    params = {
        "report": "queues",
        "period": "weekly",
        "metrics": ["call_count", "avg_wait"],
        **A_RANGE,
    }
    headers = {"X-Auth-Token": TOKEN_A}
    query = {k: v if isinstance(v, str) else ",".join(v) for k, v in params.items()}
    if selector == "format":
        resp = await client.post(
            f"/v2/accounts/{a.account_id}/qubicle_reports",
            json={"data": {**params, "format": "csv"}},
            headers=headers,
        )
    elif selector == "accept_param":
        resp = await client.get(
            f"/v2/accounts/{a.account_id}/qubicle_reports",
            params={**query, "accept": "csv"},
            headers=headers,
        )
    else:
        resp = await client.get(
            f"/v2/accounts/{a.account_id}/qubicle_reports",
            params=query,
            headers={**headers, "Accept": "text/csv"},
        )
    assert resp.status == 200
    assert resp.content_type == "text/csv"
    assert resp.headers["Content-Disposition"].startswith("attachment; filename=")
    raw = await resp.read()
    assert b"\r\n" in raw and raw.count(b"\r\n") == raw.count(b"\n")
    rows = _csv_rows(raw.decode())
    assert rows[0] == ["id", "period", "call_count", "avg_wait"]
    expected = expected_report(a, params)
    want = [
        [entity, bucket, str(m["call_count"][bucket]), str(m["avg_wait"][bucket])]
        for entity, m in expected.items()
        for bucket in m["call_count"]
    ]
    got = [[r[0], r[1], r[2], str(float(r[3]) if "." in r[3] else r[3])] for r in rows[1:]]
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g[:3] == w[:3]
        assert float(g[3]) == pytest.approx(float(w[3]))


async def test_get_with_report_in_path_equals_post(
    client: TestClient, data: dict[str, Seeded]
) -> None:
    a = data["a"]
    params = {"period": "monthly", "identifiers": a.queue_ids[:2], **A_RANGE}
    resp = await client.get(
        f"/v2/accounts/{a.account_id}/qubicle_reports/queues",
        params={**params, "identifiers": ",".join(params["identifiers"])},
        headers={"X-Auth-Token": TOKEN_A},
    )
    got = await resp.json()
    assert resp.status == 200
    posted = await post(client, TOKEN_A, a.account_id, {"report": "queues", **params})
    assert got["data"][0]["report"] == posted["data"][0]["report"]
    assert_matches(got, expected_report(a, {"report": "queues", **params}))


# -- envelope ----------------------------------------------------------------------------------


async def test_envelope_request_id_and_execution_times(
    client: TestClient, data: dict[str, Seeded]
) -> None:
    a = data["a"]
    resp = await client.post(
        f"/v2/accounts/{a.account_id}/qubicle_reports",
        json={"data": {"report": "queues", "start_date": "2024-01-01", "end_date": "2024-01-02"}},
        headers={"X-Auth-Token": TOKEN_A, "X-Request-ID": "req-42"},
    )
    body = await resp.json()
    assert resp.headers["X-Request-ID"] == "req-42"
    assert body["request_id"] == "req-42"
    assert body["status"] == "success"
    assert body["auth_token"] == TOKEN_A
    assert len(body["data"]) == 1
    times = body["data"][0]["execution_times"]
    assert set(times) == {"load", "filter", "render"}
    assert all(isinstance(v, int | float) and v >= 0 for v in times.values())
    assert times["load"] > 0
    resp2 = await client.post(
        f"/v2/accounts/{a.account_id}/qubicle_reports",
        json={"data": {"report": "queues", "start_date": "2024-01-01", "end_date": "2024-01-02"}},
        headers={"X-Auth-Token": TOKEN_A},
    )
    generated = (await resp2.json())["request_id"]
    assert generated and generated != "req-42"
    assert resp2.headers["X-Request-ID"] == generated


async def test_health_needs_no_token_and_reports_couchdb(client: TestClient) -> None:
    resp = await client.get("/health")
    assert resp.status == 200
    assert (await resp.json())["couchdb"] == "up"


@pytest.mark.parametrize("report", ["queues", "recipients"])
async def test_many_identifiers_read_as_one_span_still_match_reference(
    client: TestClient, data: dict[str, Seeded], report: str
) -> None:
    a = data["a"]
    real = a.queue_ids if report == "queues" else a.recipient_ids
    ids = [*real, *(f"zz-missing-{i}" for i in range(6)), "0-before-all"]
    assert len(ids) > 8  # more than load.PER_ENTITY_RANGES: one spanning range per MoDB
    params: dict[str, Any] = {"report": report, "identifiers": ids, "period": "weekly", **A_RANGE}
    if report == "recipients":
        params["queue_ids"] = a.queue_ids[:2]
    body = await post(client, TOKEN_A, a.account_id, params)
    assert_matches(body, expected_report(a, params))


async def test_closed_month_cache_sees_a_late_write(
    couch: Couch, client: TestClient, data: dict[str, Seeded]
) -> None:
    """Cached rows of a closed month are dropped once its MoDB's update_seq moves."""
    a = data["a"]
    params = {
        "report": "queues",
        "period": "monthly",
        "identifiers": [a.queue_ids[0]],
        "start_date": "2024-01-01",
        "end_date": "2024-01-31",
    }
    cache = client.server.app[LOADER].cache
    first = as_dict(await post(client, TOKEN_A, a.account_id, params))
    hits = cache.hits
    again = as_dict(await post(client, TOKEN_A, a.account_id, params))
    assert again == first
    assert cache.hits == hits + 2  # 202401 and 202402 are closed months: both from cache
    entered = int(datetime(2024, 1, 15, 10, tzinfo=UTC).timestamp()) + ref.GREGORIAN_OFFSET
    late = ref.good_doc(a.account_id, a.queue_ids[0], "late-write-call", entered, wait=10)
    db = f"account/{a.account_id[:2]}/{a.account_id[2:4]}/{a.account_id[4:]}-202401"
    # written to every copy before CouchDB answers (w=3; a cluster acknowledges two of three
    # otherwise, and a read of update_seq may come from the third a moment before it has it)
    [row] = await couch.ok(
        "POST", f"{db.replace('/', '%2F')}/_bulk_docs", params={"w": 3}, body={"docs": [late]}
    )
    assert row.get("ok"), row
    after = as_dict(await post(client, TOKEN_A, a.account_id, params))
    q = a.queue_ids[0]
    assert after[q]["call_count"]["202401"] == first[q]["call_count"]["202401"] + 1
    await couch.request(
        "DELETE", f"{db.replace('/', '%2F')}/{late['_id']}", params={"rev": row["rev"]}
    )
    data["a"].docs = await account_docs(couch, a.account_id)
