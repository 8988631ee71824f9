"""Contact-center KPIs (CONTRACT.md 3b), ``service_level_threshold`` and ``totals`` (3c)
through the API, against ``reference.expected_report``.

The accounts are ``test_api_acdc``'s, seeded once per test session. Its mixed account
(``qubicle_session`` and ACDC ``call_stat`` over the same ids, 2024-01-27..02-03) holds,
beside its seeded data, documents made for these edges (``test_api_acdc.kpi_edge_docs``):
answered waits exactly at, one below and one above every allowed threshold, in both shapes;
a queue with only timeouts and an agent with only misses (every divisor zero); the longest
waits of a queue in the MoDB after the month they entered, and on either side of a UTC
midnight that is one local day in Asia/Kolkata. The ACDC-only and Qubicle-only accounts
check every KPI over one shape. Bad thresholds, non-boolean totals and a metric of the
other report are 400s in Crossbar's shape.
"""

from __future__ import annotations

from typing import Any

import pytest
import reference as ref
from aiohttp.test_utils import TestClient
from test_api_acdc import (
    MAX_QUEUE,
    MONTH_END,
    SL_QUEUE,
    WHOLE,
    ZERO_AGENT,
    ZERO_QUEUE,
    Account,
    check,
    post,
    service_settings,  # noqa: F401  (a fixture: conftest's client gets the accounts' tokens)
    shared_accounts,
)

from app.couch.client import Couch

ENUM_MSG = "Value not found in enumerated list of values"


@pytest.fixture(scope="module")
async def data(couch: Couch, session_accounts: Any) -> dict[str, Account]:
    return await shared_accounts(couch, session_accounts)


def all_metrics(report: str) -> list[str]:
    return ref.QUEUE_ALL_METRICS if report == "queues" else ref.RECIPIENT_ALL_METRICS


# -- every KPI, with and without totals ------------------------------------------------------------


@pytest.mark.parametrize("totals", [False, True])
@pytest.mark.parametrize("period", ["hourly", "daily", "weekly", "monthly"])
@pytest.mark.parametrize("report", ["queues", "recipients"])
async def test_every_kpi_every_period_both_shapes(
    client: TestClient, data: dict[str, Account], report: str, period: str, totals: bool
) -> None:
    span = MONTH_END if period == "hourly" else WHOLE
    params = {"report": report, "period": period, "metrics": all_metrics(report), **span}
    if totals:
        params["totals"] = True
    expected = await check(client, data["mixed"], params)
    assert (expected[-1]["id"] == "total") is totals
    assert all(("total" in s) is totals for i in expected for s in i["data"].values())


@pytest.mark.parametrize("report", ["queues", "recipients"])
@pytest.mark.parametrize("key", ["acdc", "qubicle"])
async def test_every_kpi_over_one_shape(
    client: TestClient, data: dict[str, Account], key: str, report: str
) -> None:
    params = {"report": report, "metrics": all_metrics(report), "totals": True, **WHOLE}
    await check(client, data[key], {**params, "period": "daily"})
    await check(client, data[key], {**params, "period": "weekly", "timezone": "Asia/Kolkata"})


async def test_default_metrics_stay_the_published_ones_without_totals(
    client: TestClient, data: dict[str, Account]
) -> None:
    for report, published in (("queues", ref.QUEUE_METRICS), ("recipients", ref.RECIPIENT_METRICS)):
        body = await post(client, data["mixed"], {"report": report, **WHOLE})
        items = body["data"][0]["report"]
        assert all(list(i["data"]) == published for i in items)
        assert "total" not in [i["id"] for i in items]
        assert all("total" not in s for i in items for s in i["data"].values())


# -- service level at every threshold ----------------------------------------------------------


@pytest.mark.parametrize("threshold", ref.THRESHOLDS)
async def test_service_level_is_exact_at_every_threshold(
    client: TestClient, data: dict[str, Account], threshold: int
) -> None:
    a = data["mixed"]
    waits = [
        v["wait"]
        for v in ref.visits(a.docs)
        if v["queue_id"] == SL_QUEUE and v["result"] == "answered"
    ]
    assert waits.count(threshold) == 2  # exactly at it, once per shape
    params = {
        "report": "queues",
        "identifiers": [SL_QUEUE, a.queue_ids[0]],
        "metrics": ["service_level", "answered_count", "call_count", "max_wait"],
        "service_level_threshold": threshold,
        "totals": True,
        **WHOLE,
    }
    expected = await check(client, a, params)
    at = ref.queue_metric_values(
        [v for v in ref.visits(a.docs) if v["queue_id"] == SL_QUEUE], threshold
    )
    below = sum(1 for w in waits if w < threshold)
    assert at["service_level"] == round(100 * (below + 2) / at["call_count"], 2)
    assert expected[0]["data"]["service_level"]["total"] == at["service_level"]


async def test_default_threshold_is_20(client: TestClient, data: dict[str, Account]) -> None:
    a = data["mixed"]
    params = {"report": "queues", "metrics": ["service_level"], "period": "weekly", **WHOLE}
    default = await post(client, a, params)
    twenty = await post(client, a, {**params, "service_level_threshold": 20})
    thirty = await post(client, a, {**params, "service_level_threshold": 30})
    assert default["data"][0]["report"] == twenty["data"][0]["report"]
    assert default["data"][0]["report"] != thirty["data"][0]["report"]
    await check(client, a, params)


# -- zero divisors, max_wait -----------------------------------------------------------------------


async def test_zero_divisors_give_zero(client: TestClient, data: dict[str, Account]) -> None:
    a = data["mixed"]
    span = {"start_date": "2024-01-30", "end_date": "2024-01-30"}
    [queue, _] = await check(
        client,
        a,
        {
            "report": "queues",
            "identifiers": [ZERO_QUEUE],
            "metrics": ref.QUEUE_ALL_METRICS,
            "totals": True,
            **span,
        },
    )
    day = {m: s["20240130"] for m, s in queue["data"].items()}
    assert day["call_count"] == 2 and day["timeout_count"] == 2 and day["max_wait"] == 300
    for m in (
        "answered_count",
        "abandon_count",
        "service_level",
        "answer_rate",
        "abandon_rate",
        "avg_answer_speed",
        "avg_abandon_time",
    ):
        assert day[m] == 0, m
    [agent, _] = await check(
        client,
        a,
        {
            "report": "recipients",
            "identifiers": [ZERO_AGENT],
            "metrics": ref.RECIPIENT_ALL_METRICS,
            "totals": True,
            **span,
        },
    )
    day = {m: s["20240130"] for m, s in agent["data"].items()}
    assert day["offered_count"] == 3 and day["missed_call_count"] == 2
    assert day["rejected_call_count"] == 1
    for m in (
        "call_count",
        "answer_rate",
        "avg_call_duration",
        "avg_ring_duration",
        "total_call_duration",
    ):
        assert day[m] == 0, m
    empty = await check(
        client,
        a,
        {
            "report": "queues",
            "identifiers": [MAX_QUEUE],
            "totals": True,
            "metrics": ref.QUEUE_ALL_METRICS,
            "start_date": "2024-02-03",
            "end_date": "2024-02-03",
        },
    )
    assert {v for s in empty[0]["data"].values() for v in s.values()} == {0}


async def test_max_wait_across_month_databases(
    client: TestClient, data: dict[str, Account]
) -> None:
    a = data["mixed"]
    base = {
        "report": "queues",
        "identifiers": [MAX_QUEUE],
        "metrics": ["max_wait", "call_count"],
        "totals": True,
    }
    [daily, _] = await check(
        client, a, {**base, "start_date": "2024-01-31", "end_date": "2024-02-01"}
    )
    assert daily["data"]["max_wait"] == {"20240131": 1500, "20240201": 50, "total": 1500}
    [monthly, total] = await check(client, a, {**base, "period": "monthly", **WHOLE})
    assert monthly["data"]["max_wait"] == {"202401": 1500, "202402": 50, "total": 1500}
    assert total["data"]["max_wait"] == monthly["data"]["max_wait"]


@pytest.mark.parametrize("period", ["daily", "hourly"])
async def test_max_wait_in_local_days_that_straddle_utc_days(
    client: TestClient, data: dict[str, Account], period: str
) -> None:
    a = data["mixed"]
    params = {
        "report": "queues",
        "identifiers": [MAX_QUEUE],
        "metrics": ["max_wait"],
        "period": period,
        "totals": True,
        "start_date": "2024-01-29",
        "end_date": "2024-01-30",
    }
    [kolkata, _] = await check(client, a, {**params, "timezone": "Asia/Kolkata"})
    [utc, _] = await check(client, a, params)
    if period == "daily":
        assert kolkata["data"]["max_wait"] == {"20240129": 0, "20240130": 1300, "total": 1300}
        assert utc["data"]["max_wait"] == {"20240129": 1300, "20240130": 700, "total": 1300}
    else:
        assert kolkata["data"]["max_wait"]["2024013000"] == 1300
        assert utc["data"]["max_wait"]["2024012919"] == 1300


# -- totals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("report", ["queues", "recipients"])
async def test_totals_over_identifiers_with_unknown_ids(
    client: TestClient, data: dict[str, Account], report: str
) -> None:
    a = data["mixed"]
    real = a.queue_ids if report == "queues" else a.recipient_ids
    ids = [real[1], "no-such-id", real[0], real[1]]  # listed twice: reported (and totalled) once
    params: dict[str, Any] = {
        "report": report,
        "identifiers": ids,
        "period": "weekly",
        "metrics": all_metrics(report),
        "totals": True,
        **WHOLE,
    }
    if report == "recipients":
        params["queue_ids"] = [a.queue_ids[0], SL_QUEUE]
    expected = await check(client, a, params)
    assert [i["id"] for i in expected] == [real[1], "no-such-id", real[0], "total"]
    total = expected[-1]["data"]
    for m in ("call_count", "offered_count" if report == "recipients" else "abandon_count"):
        assert total[m]["total"] == sum(i["data"][m]["total"] for i in expected[:-1]) > 0


@pytest.mark.parametrize("report", ["queues", "recipients"])
async def test_csv_totals_rows(client: TestClient, data: dict[str, Account], report: str) -> None:
    a = data["mixed"]
    metrics = all_metrics(report)
    params = {
        "report": report,
        "period": "weekly",
        "metrics": metrics,
        "totals": True,
        "format": "csv",
        "timezone": "Asia/Kolkata",
        **WHOLE,
    }
    rows = await post(client, a, params)
    expected = ref.expected_report(a.docs, params)
    diffs = ref.csv_differences(rows, expected, metrics)
    assert not diffs, "\n".join(diffs[:25])
    assert [r[1] for r in rows[1:] if r[0] == "total"][-1] == "total"
    assert sum(1 for r in rows[1:] if r[1] == "total") == len(expected)


async def test_get_totals_and_threshold_equal_post(
    client: TestClient, data: dict[str, Account]
) -> None:
    a = data["mixed"]
    query = {
        "period": "weekly",
        "metrics": "service_level,max_wait,call_count",
        "totals": "true",
        "service_level_threshold": "45",
        **WHOLE,
    }
    resp = await client.get(
        f"/v2/accounts/{a.account_id}/qubicle_reports/queues",
        params=query,
        headers={"X-Auth-Token": a.token},
    )
    assert resp.status == 200, await resp.text()
    got = (await resp.json())["data"][0]["report"]
    params = {
        "report": "queues",
        "period": "weekly",
        "metrics": ["service_level", "max_wait", "call_count"],
        "totals": True,
        "service_level_threshold": 45,
        **WHOLE,
    }
    diffs = ref.report_differences(got, ref.expected_report(a.docs, params))
    assert not diffs, "\n".join(diffs[:25])


# -- bad requests ----------------------------------------------------------------------------------

BAD: list[tuple[str, str, dict[str, Any], str, str, Any]] = [
    # (case, method, params, field, keyword, value)
    ("threshold 7", "POST", {"service_level_threshold": 7}, "service_level_threshold", "enum", 7),
    ("threshold 0", "POST", {"service_level_threshold": 0}, "service_level_threshold", "enum", 0),
    ("threshold GET", "GET", {"service_level_threshold": "35"}, "service_level_threshold",
     "enum", 35),
    ("totals a string", "POST", {"totals": "true"}, "totals", "type", "true"),
    ("totals a number", "POST", {"totals": 1}, "totals", "type", 1),
    ("totals GET", "GET", {"totals": "yes"}, "totals", "type", "yes"),
    ("queue KPI in recipients", "POST", {"report": "recipients", "metrics": ["max_wait"]},
     "metrics", "enum", "max_wait"),
    ("service_level in recipients", "POST",
     {"report": "recipients", "metrics": ["call_count", "service_level"]},
     "metrics", "enum", "service_level"),
    ("recipient KPI in queues", "POST", {"metrics": ["offered_count"]}, "metrics", "enum",
     "offered_count"),
    ("recipient KPI in queues GET", "GET", {"metrics": "call_count,total_call_duration"},
     "metrics", "enum", "total_call_duration"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "method", "params", "field", "keyword", "value"), BAD, ids=[c[0] for c in BAD]
)
async def test_bad_kpi_parameters_are_crossbar_400s(
    client: TestClient,
    data: dict[str, Account],
    case: str,
    method: str,
    params: dict[str, Any],
    field: str,
    keyword: str,
    value: Any,
) -> None:
    a = data["mixed"]
    headers = {"X-Auth-Token": a.token, "X-Request-ID": f"kpi-{field}"}
    report = params.get("report", "queues")
    if method == "POST":
        body = {"data": {"report": "queues", **WHOLE, **params}}
        resp = await client.post(
            f"/v2/accounts/{a.account_id}/qubicle_reports", json=body, headers=headers
        )
    else:
        resp = await client.get(
            f"/v2/accounts/{a.account_id}/qubicle_reports/{report}",
            params={**WHOLE, **params},
            headers=headers,
        )
    got = await resp.json()
    assert resp.status == 400, got
    assert {k: got[k] for k in ("error", "message", "status", "request_id", "auth_token")} == {
        "error": "400",
        "message": "validation error",
        "status": "error",
        "request_id": f"kpi-{field}",
        "auth_token": a.token,
    }
    assert list(got["data"]) == [field], got["data"]
    detail = got["data"][field][keyword]
    assert detail["value"] == value
    if keyword == "enum" and field == "service_level_threshold":
        assert detail == {"message": ENUM_MSG, "value": value, "target": ref.THRESHOLDS}
    elif keyword == "enum":
        assert detail["message"] == ENUM_MSG and value not in detail["target"]
        assert set(detail["target"]) <= set(all_metrics(report))
    else:
        assert "boolean" in detail["message"]
