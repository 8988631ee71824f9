"""Validation errors through HTTP: the exact Crossbar body, for POST and GET alike."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from conftest import TOKEN, error_body
from reference import QUEUE_ALL_METRICS

from qubicle_dev.seed import SeededAccount

REQUEST_ID = "errors-req-1"
ENUM_MSG = "Value not found in enumerated list of values"


def envelope(data: dict[str, Any], status: int = 400, message: str = "validation error") -> dict:
    return error_body(status, message, data, REQUEST_ID, TOKEN)


CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "report missing",
        {"start_date": "2017-01-01", "end_date": "2017-01-31"},
        {"report": {"required": {"message": "Field is required but missing"}}},
    ),
    (
        "report unknown",
        {"report": "agents", "start_date": "2017-01-01", "end_date": "2017-01-31"},
        {
            "report": {
                "enum": {
                    "message": ENUM_MSG,
                    "value": "agents",
                    "target": [
                        "queues",
                        "recipients",
                        "agent_states",
                        "visits",
                        "offers",
                        "agent_intervals",
                    ],
                }
            }
        },
    ),
    (
        "start_date missing",
        {"report": "queues"},
        {"start_date": {"required": {"message": "Field is required but missing"}}},
    ),
    (
        "start after end",
        {"report": "queues", "start_date": "2017-01-10", "end_date": "2017-01-01"},
        {
            "start_date": {
                "date_range": {
                    "message": "start_date is after end_date",
                    "value": "2017-01-10",
                    "target": "2017-01-01",
                }
            }
        },
    ),
    (
        "range too long",
        {"report": "queues", "start_date": "2017-01-01", "end_date": "2018-01-02"},
        {
            "end_date": {
                "date_range": {
                    "message": "The range may span at most 366 days",
                    "value": 367,
                    "target": 366,
                }
            }
        },
    ),
    (
        "bad dates and period, several at once",
        {"report": "queues", "start_date": "2017-02-30", "end_date": "soon", "period": "yearly"},
        {
            "start_date": {
                "format": {
                    "message": "Must be an ISO 8601 date (YYYY-MM-DD) or date-time",
                    "value": "2017-02-30",
                }
            },
            "end_date": {
                "format": {
                    "message": "Must be an ISO 8601 date (YYYY-MM-DD) or date-time",
                    "value": "soon",
                }
            },
            "period": {
                "enum": {
                    "message": ENUM_MSG,
                    "value": "yearly",
                    "target": ["daily", "weekly", "monthly", "hourly"],
                }
            },
        },
    ),
    (
        "unknown metric names the allowed ones",
        {
            "report": "queues",
            "start_date": "2017-01-01",
            "end_date": "2017-01-31",
            "metrics": ["call_count", "talk_time"],
        },
        {
            "metrics": {
                "enum": {"message": ENUM_MSG, "value": "talk_time", "target": QUEUE_ALL_METRICS}
            }
        },
    ),
    (
        "queue_ids on the queue report",
        {
            "report": "queues",
            "start_date": "2017-01-01",
            "end_date": "2017-01-31",
            "queue_ids": ["q1"],
        },
        {
            "queue_ids": {
                "forbidden": {
                    "message": "queue_ids applies only to the recipients and offers reports",
                    "value": ["q1"],
                }
            }
        },
    ),
    (
        "identifiers not a list",
        {
            "report": "queues",
            "start_date": "2017-01-01",
            "end_date": "2017-01-31",
            "identifiers": "q1",
        },
        {"identifiers": {"type": {"message": "Value did not match type(s): array", "value": "q1"}}},
    ),
    (
        "format unknown",
        {"report": "queues", "start_date": "2017-01-01", "end_date": "2017-01-31", "format": "xml"},
        {"format": {"enum": {"message": ENUM_MSG, "value": "xml", "target": ["json", "csv"]}}},
    ),
    (
        "timezone unknown",
        {
            "report": "queues",
            "start_date": "2017-01-01",
            "end_date": "2017-01-31",
            "timezone": "Mars/Olympus",
        },
        {
            "timezone": {
                "format": {
                    "message": "Must be an IANA time zone name such as America/New_York",
                    "value": "Mars/Olympus",
                }
            }
        },
    ),
]


@pytest.mark.parametrize(("params", "data"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_post_validation_error_body_is_exact(
    client: TestClient, seeded: SeededAccount, params: dict[str, Any], data: dict[str, Any]
) -> None:
    resp = await client.post(
        f"/v2/accounts/{seeded.account_id}/qubicle_reports",
        json={"data": params},
        headers={"X-Auth-Token": TOKEN, "X-Request-ID": REQUEST_ID},
    )
    assert resp.status == 400
    assert resp.content_type == "application/json"
    assert await resp.json() == envelope(data)


async def test_get_lists_are_comma_separated_in_errors_too(
    client: TestClient, seeded: SeededAccount
) -> None:
    resp = await client.get(
        f"/v2/accounts/{seeded.account_id}/qubicle_reports/queues",
        params={
            "start_date": "2017-01-01",
            "end_date": "2017-01-31",
            "metrics": "call_count,nope,avg_wait",
        },
        headers={"X-Auth-Token": TOKEN, "X-Request-ID": REQUEST_ID},
    )
    assert resp.status == 400
    assert await resp.json() == envelope(
        {"metrics": {"enum": {"message": ENUM_MSG, "value": "nope", "target": QUEUE_ALL_METRICS}}}
    )


async def test_body_report_different_from_path_report(
    client: TestClient, seeded: SeededAccount
) -> None:
    resp = await client.post(
        f"/v2/accounts/{seeded.account_id}/qubicle_reports/queues",
        json={
            "data": {"report": "recipients", "start_date": "2017-01-01", "end_date": "2017-01-31"}
        },
        headers={"X-Auth-Token": TOKEN, "X-Request-ID": REQUEST_ID},
    )
    assert resp.status == 400
    assert await resp.json() == envelope(
        {
            "report": {
                "enum": {
                    "message": "Must match the report in the URL",
                    "value": "recipients",
                    "target": ["queues"],
                }
            }
        }
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "invalid request"),
        (b'{"data": [1]}', "validation error"),
        (b"[]", "validation error"),
    ],
)
async def test_body_that_is_not_a_crossbar_envelope(
    client: TestClient, seeded: SeededAccount, body: bytes, message: str
) -> None:
    resp = await client.post(
        f"/v2/accounts/{seeded.account_id}/qubicle_reports",
        data=body,
        headers={
            "X-Auth-Token": TOKEN,
            "X-Request-ID": REQUEST_ID,
            "Content-Type": "application/json",
        },
    )
    assert resp.status == 400
    assert await resp.json() == envelope(
        {"json": {"invalid": {"message": "All JSON must be valid", "target": "body"}}},
        message=message,
    )
