"""``GET /v2/accounts/{id}/qubicle_names``: KAZOO's queue and user names for report ids.

Against the real CouchDB-protocol server: the seeded account database holds ``queue`` and
``user`` documents as KAZOO writes them; the names expected are the ones the seed wrote.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from conftest import TOKEN, error_body, seed_account

from app.config import Settings
from app.couch.client import Couch
from app.couch.modb import account_db
from app.web.names import NameCache, name_of
from qubicle_dev.seed import SeededAccount

SEEDED = {"seed": 31, "queues": 3, "recipients": 4}
OTHER_TOKEN = "names-other-token"
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
async def other(couch: Couch, session_accounts: Any) -> SeededAccount:
    return await seed_account(couch, session_accounts.new(), seed=32, queues=1, recipients=1)


@pytest.fixture(scope="module")
async def extra_docs(couch: Couch, seeded: SeededAccount) -> dict[str, str]:
    """Documents that test the edges: a hostile name, no name, another type, a deleted user."""
    db = account_db(seeded.account_id)
    docs = [
        {"_id": "q-hostile", "pvt_type": "queue", "name": HOSTILE},
        {"_id": "q-unnamed", "pvt_type": "queue"},
        {"_id": "u-first-only", "pvt_type": "user", "first_name": " Ada ", "last_name": ""},
        {"_id": "u-gone", "pvt_type": "user", "first_name": "Old", "last_name": "Agent",
         "pvt_deleted": True},
        {"_id": "d-device", "pvt_type": "device", "name": "Desk phone"},
        {"_id": "q-long", "pvt_type": "queue", "name": "x" * 500},
    ]  # fmt: skip
    await couch.bulk_docs(db, docs)
    return {d["_id"]: d.get("name", "") for d in docs}


@pytest.fixture(scope="module")
def service_settings(couch_url: str, seeded: SeededAccount, other: SeededAccount) -> Settings:
    tokens = {TOKEN: seeded.account_id, OTHER_TOKEN: other.account_id}
    return Settings(couchdb_url=couch_url, tokens=tokens)


def path(account_id: str) -> str:
    return f"/v2/accounts/{account_id}/qubicle_names"


async def test_names_of_queues_and_agents(
    client: TestClient, seeded: SeededAccount, extra_docs: dict[str, str]
) -> None:
    assert seeded.queue_names and seeded.recipient_names
    ids = [*seeded.queue_ids, *seeded.recipient_ids, "q-hostile", "q-unnamed", "u-first-only",
           "u-gone", "d-device", "no-such-doc", "q-long"]  # fmt: skip
    async with client.get(
        path(seeded.account_id), params={"ids": ",".join(ids)}, headers={"X-Auth-Token": TOKEN}
    ) as r:
        assert r.status == 200
        body = await r.json()
    assert body["status"] == "success"
    assert body["auth_token"] == TOKEN
    assert body["request_id"] == r.headers["X-Request-ID"]
    assert body["data"] == {
        "queues": {**seeded.queue_names, "q-hostile": HOSTILE, "q-long": "x" * 200},
        "recipients": {**seeded.recipient_names, "u-first-only": "Ada", "u-gone": "Old Agent"},
    }


async def test_authorized_like_the_reports(
    client: TestClient, seeded: SeededAccount, other: SeededAccount
) -> None:
    bad = {"message": "invalid credentials"}
    cases = [
        ({}, path(seeded.account_id), 401, "invalid_credentials", bad),
        ({"X-Auth-Token": "wrong"}, path(seeded.account_id), 401, "invalid_credentials", bad),
        ({"X-Auth-Token": OTHER_TOKEN}, path(seeded.account_id), 403, "forbidden",
         {"message": "forbidden"}),
        ({"X-Auth-Token": TOKEN}, path("0" * 32), 403, "forbidden", {"message": "forbidden"}),
        ({"X-Auth-Token": TOKEN}, path("NOT-HEX"), 404, "bad_identifier",
         {"message": "bad identifier", "cause": "NOT-HEX"}),
    ]  # fmt: skip
    for headers, url, status, message, data in cases:
        async with client.get(url, params={"ids": "a"}, headers=headers) as r:
            assert r.status == status
            token = headers.get("X-Auth-Token", "")
            assert await r.json() == error_body(
                status, message, data, r.headers["X-Request-ID"], token
            )
    # the other account reads its own names, and a Bearer token works as for reports
    async with client.get(
        path(other.account_id),
        params={"ids": other.queue_ids[0]},
        headers={"Authorization": f"Bearer {OTHER_TOKEN}"},
    ) as r:
        assert r.status == 200
        assert (await r.json())["data"]["queues"] == other.queue_names


async def test_an_id_no_report_can_hold_costs_its_batch_nothing(
    client: TestClient, seeded: SeededAccount
) -> None:
    """A 129-character id, one with other characters, ``total``: no name, and the rest of
    the batch is named (CONTRACT.md 2c: no report holds such an id)."""
    queue = seeded.queue_ids[0]
    for bad in ("x" * 129, "<b>", "total", "_design"):
        async with client.get(
            path(seeded.account_id),
            params={"ids": f"{queue},{bad}"},
            headers={"X-Auth-Token": TOKEN},
        ) as r:
            assert r.status == 200, bad
            body = await r.json()
        assert body["data"] == {"queues": {queue: seeded.queue_names[queue]}, "recipients": {}}
    async with client.get(
        path(seeded.account_id), params={"ids": "x" * 129}, headers={"X-Auth-Token": TOKEN}
    ) as r:
        assert r.status == 200
        assert (await r.json())["data"] == {"queues": {}, "recipients": {}}


@pytest.mark.parametrize(("ids", "keyword"), [("", "required"), (",,", "required")])
async def test_bad_ids_are_crossbar_400s(
    client: TestClient, seeded: SeededAccount, ids: str, keyword: str
) -> None:
    async with client.get(
        path(seeded.account_id), params={"ids": ids}, headers={"X-Auth-Token": TOKEN}
    ) as r:
        assert r.status == 400
        body = await r.json()
    assert body["message"] == "validation error"
    assert list(body["data"]["ids"]) == [keyword]


async def test_too_many_ids(client: TestClient, seeded: SeededAccount) -> None:
    ids = ",".join(f"id{i}" for i in range(1101))  # max_identifiers + max_queue_ids + 1
    async with client.get(
        path(seeded.account_id), params={"ids": ids}, headers={"X-Auth-Token": TOKEN}
    ) as r:
        assert r.status == 400
        assert list((await r.json())["data"]["ids"]) == ["maxItems"]


async def test_names_are_cached_briefly(couch: Couch, seeded: SeededAccount) -> None:
    now = [0.0]
    cache = NameCache(couch, ttl=60, clock=lambda: now[0])
    queue_id = seeded.queue_ids[0]
    db = account_db(seeded.account_id)
    before = (await cache.names(seeded.account_id, [queue_id]))["queues"][queue_id]
    doc = await couch.get_doc(db, queue_id)
    assert doc is not None
    await couch.put_doc(db, {**doc, "name": "Renamed queue"})
    try:
        now[0] = 59.0
        assert (await cache.names(seeded.account_id, [queue_id]))["queues"][queue_id] == before
        now[0] = 61.0
        renamed = await cache.names(seeded.account_id, [queue_id])
        assert renamed["queues"][queue_id] == "Renamed queue"
    finally:
        current = await couch.get_doc(db, queue_id)
        assert current is not None
        await couch.put_doc(db, {**current, "name": doc["name"]})


async def test_cache_is_bounded(couch: Couch, seeded: SeededAccount) -> None:
    cache = NameCache(couch, max_entries=3)
    await cache.names(seeded.account_id, [*seeded.queue_ids, *seeded.recipient_ids])
    assert len(cache._cache) == 3


def test_name_of_document_shapes() -> None:
    assert name_of({"pvt_type": "queue", "name": "Sales"}) == ("queues", "Sales")
    assert name_of({"pvt_type": "user", "first_name": "Ann", "last_name": "Lee"}) == (
        "recipients",
        "Ann Lee",
    )
    assert name_of({"pvt_type": "user", "last_name": "Lee"}) == ("recipients", "Lee")
    assert name_of({"pvt_type": "queue", "name": 7}) is None
    assert name_of({"pvt_type": "user"}) is None
    assert name_of({"pvt_type": "callflow", "name": "x"}) is None
    assert name_of(None) is None
