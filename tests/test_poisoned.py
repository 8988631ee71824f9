"""A malformed document harms nobody (CONTRACT.md 2c): an account holding the poisoned
documents of ``reference.poisoned_docs`` (a wait of 1e200 or 1.7e308, a 5,000-character
agent id, a queue called ``total``, 129-character ids, timestamps past 2^37, in all three
document shapes) answers every report exactly as it answered before they were written.

One account seeded with all three shapes over a month end; its reports are asked once
before the poison is written and once after (its indexes rebuilt), on the same service.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import reference as ref
from aiohttp.test_utils import TestClient
from conftest import build_indexes, make_client, seed_account

from app.config import Settings
from app.couch import modb
from app.couch.client import Couch, CouchError, CouchUnavailable
from app.couch.modb import MonthDb
from app.report.load import MonthUnreadable, month_failures

TOKEN = "tok-poisoned-8d1f"
RANGE = {"start_date": "2024-01-30", "end_date": "2024-02-01"}
ALL_QUEUE = [*ref.QUEUE_ALL_METRICS]
ALL_RECIPIENT = [*ref.RECIPIENT_ALL_METRICS]


def requests(queue: str, agent: str) -> dict[str, dict[str, Any]]:
    """Every report, whole and for the poisoned entities, with and without totals."""
    out: dict[str, dict[str, Any]] = {}
    for totals in (False, True):
        for report, metrics in (("queues", ALL_QUEUE), ("recipients", ALL_RECIPIENT)):
            base = {"report": report, "metrics": metrics, "totals": totals, **RANGE}
            out[f"{report} totals={totals}"] = base
            out[f"{report} hourly totals={totals}"] = {**base, "period": "hourly"}
            entity = queue if report == "queues" else agent
            # "total" may be named without totals (a 400 with them): all zeros
            named = [entity, "total"] if report == "queues" and not totals else [entity]
            out[f"{report} {named} totals={totals}"] = {**base, "identifiers": named}
        states = {"report": "agent_states", "totals": totals, **RANGE}
        out[f"agent_states totals={totals}"] = states
        out[f"agent_states [{agent[:6]}] totals={totals}"] = {**states, "identifiers": [agent]}
    out["recipients by queue"] = {"report": "recipients", "queue_ids": [queue], **RANGE}
    return out


async def ask(client: TestClient, account_id: str, data: dict[str, Any]) -> tuple[int, Any]:
    resp = await client.post(
        f"/v2/accounts/{account_id}/qubicle_reports",
        json={"data": data},
        headers={"X-Auth-Token": TOKEN, "Cache-Control": "no-cache"},
    )
    return resp.status, await resp.json()


def items(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's items: what must not differ between two asks (the request id and the
    execution times may)."""
    report: list[dict[str, Any]] = body["data"][0]["report"]
    return report


@dataclass
class Poisoned:
    account_id: str
    poisoned: list[dict[str, Any]]
    before: dict[str, Any]
    after: dict[str, Any]


@pytest.fixture(scope="module")
async def poisoned(couch: Couch, couch_url: str, session_accounts: Any) -> Poisoned:
    account_id = session_accounts.new()
    seeded = await seed_account(couch, account_id, seed=23, source="both")
    queue, agent = seeded.queue_ids[0], seeded.recipient_ids[0]
    asked = requests(queue, agent)
    settings = Settings(couchdb_url=couch_url, tokens={TOKEN: account_id}, cache_mb=0)
    async with make_client(settings) as client:
        before = {name: await ask(client, account_id, data) for name, data in asked.items()}
    at = int(datetime(2024, 1, 31, 12, tzinfo=UTC).timestamp()) + ref.GREGORIAN_OFFSET
    docs = ref.poisoned_docs(account_id, queue, agent, at)
    rows = await couch.bulk_docs(modb.modb(account_id, 2024, 1), docs)
    assert all(r.get("ok") for r in rows), rows
    await build_indexes(couch, account_id)
    async with make_client(settings) as client:
        after = {name: await ask(client, account_id, data) for name, data in asked.items()}
    return Poisoned(account_id, docs, before, after)


async def test_the_poison_is_stored_and_every_shape_is_poisoned(poisoned: Poisoned) -> None:
    shapes = {d["pvt_type"] for d in poisoned.poisoned}
    assert shapes == {"qubicle_session", "call_stat", "status_stat"}
    assert any(d.get("wait_time") == 1e200 for d in poisoned.poisoned)
    assert any(len(str(d.get("agent_id", ""))) == 5000 for d in poisoned.poisoned)


async def test_every_report_answers_exactly_what_it_answered_without_the_poison(
    poisoned: Poisoned,
) -> None:
    assert len(poisoned.before) == len(poisoned.after) >= 14
    for name, (status, body) in poisoned.before.items():
        assert status == 200, (name, body)
        after_status, after_body = poisoned.after[name]
        assert after_status == 200, (name, after_body)
        assert items(after_body) == items(body), name


async def test_the_reports_are_not_empty(poisoned: Poisoned) -> None:
    """Equal answers prove nothing if both are empty."""
    for name, (_, body) in poisoned.after.items():
        assert items(body), name
    whole = items(poisoned.after["queues totals=False"][1])
    assert sum(sum(e["data"]["call_count"].values()) for e in whole) > 0
    states = items(poisoned.after["agent_states totals=False"][1])
    assert sum(sum(e["data"]["logged_in_time"].values()) for e in states) > 0


async def test_a_queue_called_total_never_makes_a_second_totals_item(
    poisoned: Poisoned,
) -> None:
    """``total`` is the totals item's id alone (a request may still name it: all zeros)."""
    for name, (_, body) in poisoned.after.items():
        ids = [item["id"] for item in items(body)]
        expected = int("totals=True" in name) + int("'total'" in name)
        assert ids.count("total") == expected, (name, ids)
        if "totals=True" in name:
            assert ids[-1] == "total", name


@pytest.fixture
async def service(couch_url: str, poisoned: Poisoned) -> AsyncIterator[TestClient]:
    settings = Settings(couchdb_url=couch_url, tokens={TOKEN: poisoned.account_id})
    async with make_client(settings) as client:
        yield client


async def test_the_poisoned_ids_are_counted_nowhere(
    service: TestClient, poisoned: Poisoned
) -> None:
    """Asked by name, a poisoned id that a request may name (``total`` here) is all zeros."""
    for report in ("queues", "recipients", "agent_states"):
        status, body = await ask(
            service, poisoned.account_id, {"report": report, "identifiers": ["total"], **RANGE}
        )
        assert status == 200, body
        [item] = items(body)
        assert item["id"] == "total"
        assert all(v == 0 for series in item["data"].values() for v in series.values())


@pytest.mark.parametrize(
    ("failure", "why"),
    [
        (
            CouchUnavailable.answered(
                500, b'{"error":"badarith","reason":"[{erlang,\'+\',[1.7e308,1.7e308],[]}]"}'
            ),
            "CouchDB answered 500 (badarith)",
        ),
        (
            CouchError(400, "bad_request", "url too long: /db/..."),
            "CouchDB answered 400 (bad_request)",
        ),
        (CouchUnavailable.answered(502, b"<html>proxy error</html>"), "CouchDB answered 502"),
        (CouchError(500, "x" * 65, "..."), "CouchDB answered 500"),
        (CouchError(500, "a b", "..."), "CouchDB answered 500"),
    ],
)
def test_a_failing_month_is_named_with_couchdbs_error_name_never_its_reason(
    failure: Exception, why: str
) -> None:
    """What a report's 503 says when CouchDB still fails one MoDB (a view whose sum
    overflowed answered exactly the first case on CouchDB 3.4.3 before 2c)."""
    month = MonthDb(2024, 3, modb.modb("a" * 32, 2024, 3))
    with pytest.raises(MonthUnreadable) as caught, month_failures(month.name):
        raise failure
    assert str(caught.value) == f"the report could not read 2024-03: {why}"
