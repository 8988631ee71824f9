"""service_level_threshold and totals through HTTP (CONTRACT.md 3b, 3c, 5): the exact Crossbar
400 body for POST (JSON types) and GET (query-string text), and GET text that parses."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from conftest import TOKEN, error_body, report_url
from reference import QUEUE_ALL_METRICS, RECIPIENT_ALL_METRICS, THRESHOLDS

from qubicle_dev.seed import SeededAccount

REQUEST_ID = "parameters-req-1"
ENUM_MSG = "Value not found in enumerated list of values"
BOOLEAN_MSG = "Value did not match type(s): boolean"
HEADERS = {"X-Auth-Token": TOKEN, "X-Request-ID": REQUEST_ID}
RANGE = {"start_date": "2024-01-30", "end_date": "2024-02-01"}  # the seeded days
SEEDED = {"seed": 9}


def threshold_error(value: Any) -> dict[str, Any]:
    return {
        "service_level_threshold": {
            "enum": {"message": ENUM_MSG, "value": value, "target": THRESHOLDS}
        }
    }


def totals_error(value: Any) -> dict[str, Any]:
    return {"totals": {"type": {"message": BOOLEAN_MSG, "value": value}}}


POST_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("threshold not allowed", {"service_level_threshold": 7}, threshold_error(7)),
    ("threshold above the list", {"service_level_threshold": 601}, threshold_error(601)),
    ("threshold as a string", {"service_level_threshold": "20"}, threshold_error("20")),
    ("threshold as a boolean", {"service_level_threshold": True}, threshold_error(True)),
    ("totals as a string", {"totals": "true"}, totals_error("true")),
    ("totals as a number", {"totals": 1}, totals_error(1)),
    ("totals as a list", {"totals": [True]}, totals_error([True])),
    (
        "both at once, with a KPI of the other report",
        {"service_level_threshold": 0, "totals": "false", "metrics": ["offered_count"]},
        {
            **threshold_error(0),
            **totals_error("false"),
            "metrics": {
                "enum": {"message": ENUM_MSG, "value": "offered_count", "target": QUEUE_ALL_METRICS}
            },
        },
    ),
]


@pytest.mark.parametrize(
    ("fields", "data"), [c[1:] for c in POST_CASES], ids=[c[0] for c in POST_CASES]
)
async def test_post_new_parameter_errors_are_exact(
    client: TestClient, seeded: SeededAccount, fields: dict[str, Any], data: dict[str, Any]
) -> None:
    resp = await client.post(
        report_url(seeded.account_id),
        json={"data": {"report": "queues", **RANGE, **fields}},
        headers=HEADERS,
    )
    assert resp.status == 400
    assert await resp.json() == error_body(400, "validation error", data, REQUEST_ID, TOKEN)


async def test_post_kpi_of_the_queue_report_on_the_recipients_report(
    client: TestClient, seeded: SeededAccount
) -> None:
    resp = await client.post(
        report_url(seeded.account_id, "recipients"),
        json={"data": {**RANGE, "metrics": ["call_count", "service_level"]}},
        headers=HEADERS,
    )
    assert resp.status == 400
    assert await resp.json() == error_body(
        400,
        "validation error",
        {
            "metrics": {
                "enum": {
                    "message": ENUM_MSG,
                    "value": "service_level",
                    "target": RECIPIENT_ALL_METRICS,
                }
            }
        },
        REQUEST_ID,
        TOKEN,
    )


GET_CASES: list[tuple[str, dict[str, str], dict[str, Any]]] = [
    ("threshold digits not allowed", {"service_level_threshold": "7"}, threshold_error(7)),
    ("threshold not digits", {"service_level_threshold": "20s"}, threshold_error("20s")),
    ("threshold empty", {"service_level_threshold": ""}, threshold_error("")),
    ("totals neither true nor false", {"totals": "yes"}, totals_error("yes")),
    ("totals capitalised", {"totals": "True"}, totals_error("True")),
    ("totals as a digit", {"totals": "1"}, totals_error("1")),
]


@pytest.mark.parametrize(
    ("query", "data"), [c[1:] for c in GET_CASES], ids=[c[0] for c in GET_CASES]
)
async def test_get_new_parameter_errors_are_exact(
    client: TestClient, seeded: SeededAccount, query: dict[str, str], data: dict[str, Any]
) -> None:
    resp = await client.get(
        report_url(seeded.account_id, "queues"), params={**RANGE, **query}, headers=HEADERS
    )
    assert resp.status == 400
    assert await resp.json() == error_body(400, "validation error", data, REQUEST_ID, TOKEN)


@pytest.mark.parametrize("totals", ["true", "false"])
@pytest.mark.parametrize("threshold", ["5", "600"])
async def test_get_text_that_parses_is_accepted(
    client: TestClient, seeded: SeededAccount, totals: str, threshold: str
) -> None:
    """Only the bad period is named: the threshold and totals text parsed and validated."""
    resp = await client.get(
        report_url(seeded.account_id, "recipients"),
        params={
            **RANGE,
            "period": "yearly",
            "totals": totals,
            "service_level_threshold": threshold,
        },
        headers=HEADERS,
    )
    assert resp.status == 400
    assert list((await resp.json())["data"]) == ["period"]
    resp = await client.get(
        report_url(seeded.account_id, "recipients"),
        params={**RANGE, "totals": totals, "service_level_threshold": threshold},
        headers=HEADERS,
    )
    assert resp.status == 200, await resp.text()
    report = (await resp.json())["data"][0]["report"]
    assert report, "the seeded account has recipients"
    assert (report[-1]["id"] == "total") == (totals == "true")  # CONTRACT.md 3c
