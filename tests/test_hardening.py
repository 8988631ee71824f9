"""Hostile input: nothing reaches another account's database, a system database or a file.

The service runs against the real CouchDB-protocol server through a pass-through
:class:`faultproxy.FaultProxy` that records every request it relays, so "CouchDB was never
asked" is checked on the wire. Account paths are sent byte for byte over a raw socket (an
HTTP client would normalise ``%2E%2E`` away). Every error body seen here is checked for a
stack trace, the CouchDB URL, its host:port and its credentials.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any
from urllib.parse import unquote

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer
from conftest import QUERY, TOKEN, error_body
from faultproxy import FaultProxy
from yarl import URL

from app.config import Settings
from qubicle_dev.seed import SeededAccount

SEEDED = {"seed": 12}
ERROR_KEYS = {"data", "error", "message", "status", "request_id", "auth_token"}
GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")
PATTERN_MESSAGE = "An id may hold only letters, digits and _ . @ : + -"
INVALID_JSON = {"json": {"invalid": {"message": "All JSON must be valid", "target": "body"}}}


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def service_settings(proxy: FaultProxy, seeded: SeededAccount) -> Settings:
    # no _db_updates follower: the proxy then sees only what the requests under test send
    return Settings(
        couchdb_url=proxy.url, tokens={TOKEN: seeded.account_id}, follow_db_updates=False
    )


@pytest.fixture(scope="module", autouse=True)
async def _warm(client: TestClient, seeded: SeededAccount) -> None:
    resp = await client.post(url(seeded.account_id), json={"data": QUERY}, headers=auth())
    assert resp.status == 200, await resp.text()  # views built, account known


@pytest.fixture(autouse=True)
async def _fresh_records(proxy: FaultProxy) -> None:
    await proxy.reset()


@pytest.fixture
def secrets(couch_url: str, proxy: FaultProxy) -> list[str]:
    """What no error body may contain: URLs, host:port, credentials."""
    out = [couch_url, proxy.url, proxy.base_url, "Traceback", 'File "']
    for raw in (*couch_url.split(","), proxy.url):  # COUCHDB_URL may list several nodes
        u = URL(raw)
        out += [str(u.with_user(None)), f"{u.host}:{u.port}", u.user or "", u.password or ""]
    return [s for s in out if s]


# -- helpers ----------------------------------------------------------------------------------


def url(account_id: str, suffix: str = "") -> str:
    return f"/v2/accounts/{account_id}/qubicle_reports{suffix}"


def auth(request_id: str | None = None) -> dict[str, str]:
    headers = {"X-Auth-Token": TOKEN}
    if request_id is not None:
        headers["X-Request-ID"] = request_id
    return headers


def check_error(
    status: int, body: dict[str, Any], expected_status: int, secrets: list[str]
) -> dict[str, Any]:
    """The Crossbar error envelope, leaking nothing; returns the body."""
    assert status == expected_status, body
    assert set(body) == ERROR_KEYS, body
    assert body["error"] == str(expected_status)
    assert body["status"] == "error"
    assert isinstance(body["request_id"], str) and body["request_id"]
    visible = orjson.dumps({k: v for k, v in body.items() if k != "request_id"}).decode()
    for secret in secrets:
        assert secret not in visible, (secret, body)
    return body


async def raw_request(
    server: TestServer, method: str, target: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, dict[str, str], dict[str, Any]]:
    """One HTTP/1.1 exchange with the request target sent exactly as given."""
    assert server.host is not None and server.port is not None
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        lines = [f"{method} {target} HTTP/1.1", "Host: qubicle.test", "Connection: close"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        async with asyncio.timeout(10):
            raw = await reader.read()
    finally:
        writer.close()
    head, _, payload = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    response_headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        response_headers[name.strip().lower()] = value.strip()
    return int(status_line.split(" ")[1]), response_headers, orjson.loads(payload)


def never_asked_for(proxy: FaultProxy, *values: str) -> None:
    """No request CouchDB received named any of ``values`` (raw or percent-decoded)."""
    for seen in proxy.requests:
        for text in (seen.target, unquote(seen.target)):
            for value in values:
                assert value not in text, (value, seen)


# -- account ids --------------------------------------------------------------------------------


def _not_accounts(account_id: str) -> list[str]:
    """Path segments, as sent on the wire, that must never name a database."""
    rest = account_id[4:]
    return [
        "_users",
        "_replicator",
        "_global_changes",
        "%5Fusers",
        "_users%2F_all_docs",
        "..",
        "%2E%2E",
        "..%2F..",
        "..%2F..%2F_users",
        "..%252F..",
        "account%2F..",
        f"account%2F{account_id[:2]}%2F{account_id[2:4]}%2F{rest}",
        f"account%2F{account_id[:2]}%2F{account_id[2:4]}%2F{rest}-202401",
        f"{account_id}-202401",
        f"{account_id}%2F..",
        account_id.upper(),
        account_id[:31],
        account_id + "0",
        account_id[:31] + "g",
        f"{account_id[:16]}%00{account_id[16:]}",
        "%20" + account_id,
    ]


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_account_ids_that_are_not_account_ids_are_404_before_any_couchdb_request(
    client: TestClient,
    proxy: FaultProxy,
    seeded: SeededAccount,
    secrets: list[str],
    method: str,
) -> None:
    assert client.server is not None
    query = "?report=queues&start_date=2024-01-30&end_date=2024-02-01" if method == "GET" else ""
    body = orjson.dumps({"data": QUERY}) if method == "POST" else b""
    for segment in _not_accounts(seeded.account_id):
        status, headers, answer = await raw_request(
            client.server,
            method,
            f"/v2/accounts/{segment}/qubicle_reports{query}",
            {**auth("bad-account"), "Content-Type": "application/json"},
            body,
        )
        check_error(status, answer, 404, secrets)
        assert answer == error_body(
            404,
            "bad_identifier",
            {"message": "bad identifier", "cause": unquote(segment)},
            "bad-account",
            TOKEN,
        ), segment
        assert headers["content-type"].startswith("application/json")
    assert proxy.requests == []  # CouchDB was not asked anything at all
    never_asked_for(proxy, "_users", "_replicator", "_global_changes", "..")


# -- identifiers and queue_ids ----------------------------------------------------------------

BAD_IDS = [
    'q"1',
    "q]1",
    "q[1",
    "q\u00001",
    "q%2F1",
    "q/1",
    "q\\1",
    "q 1",
    "q\n1",
    "_design/qubicle_reports",
    "_all_docs",
    "../_users",
    ".hidden",
    "q\u00e91",
]


def _expected_id_error(field: str, value: str, max_length: int = 128) -> dict[str, Any]:
    if len(value) > max_length:
        return {
            field: {
                "maxLength": {
                    "message": f"An id is longer than {max_length} characters",
                    "value": value[:64],
                    "target": max_length,
                }
            }
        }
    return {field: {"pattern": {"message": PATTERN_MESSAGE, "value": value}}}


@pytest.mark.parametrize(
    ("report", "field"), [("queues", "identifiers"), ("recipients", "queue_ids")]
)
@pytest.mark.parametrize("bad", [*BAD_IDS, "q" * 129, "a" * 5000])
async def test_ids_with_bad_characters_or_too_long_are_400_and_never_sent_to_couchdb(
    client: TestClient,
    proxy: FaultProxy,
    seeded: SeededAccount,
    secrets: list[str],
    report: str,
    field: str,
    bad: str,
) -> None:
    good = seeded.queue_ids[0]
    data = {**QUERY, "report": report, field: [good, bad]}
    resp = await client.post(url(seeded.account_id), json={"data": data}, headers=auth("ids"))
    body = check_error(resp.status, await resp.json(), 400, secrets)
    assert body == error_body(400, "validation error", _expected_id_error(field, bad), "ids", TOKEN)
    assert not [r for r in proxy.requests if "/_view/" in r.target]  # nothing was loaded
    never_asked_for(proxy, bad, bad[:64], good)


@pytest.mark.parametrize("bad", ['q"1', "q]1", "q%2F1", "q/1", "_design/qubicle_reports"])
async def test_ids_in_the_query_string_are_checked_the_same_way(
    client: TestClient, proxy: FaultProxy, seeded: SeededAccount, secrets: list[str], bad: str
) -> None:
    params = {**QUERY, "identifiers": f"{seeded.queue_ids[0]},{bad}"}
    resp = await client.get(url(seeded.account_id), params=params, headers=auth("ids-get"))
    body = check_error(resp.status, await resp.json(), 400, secrets)
    assert body["data"] == _expected_id_error("identifiers", bad)
    assert not [r for r in proxy.requests if "/_view/" in r.target]
    never_asked_for(proxy, bad)


@pytest.mark.parametrize(
    ("field", "value", "keyword"),
    [
        ("timezone", "../../../../etc/passwd", "format"),
        ("timezone", "/etc/localtime", "format"),
        ("timezone", "UTC/../../../etc/passwd", "format"),
        ("report", "../_users", "enum"),
        ("period", "_design", "enum"),
        ("format", "../../x", "enum"),
        ("metrics", ["call_count", "_users"], "enum"),
    ],
)
async def test_other_parameters_cannot_name_files_or_databases(
    client: TestClient,
    proxy: FaultProxy,
    seeded: SeededAccount,
    secrets: list[str],
    field: str,
    value: Any,
    keyword: str,
) -> None:
    data = {**QUERY, field: value}
    resp = await client.post(url(seeded.account_id), json={"data": data}, headers=auth())
    # the body echoes the value sent: a secret within it ("pass" in "passwd") is not leaked
    unsent = [secret for secret in secrets if secret not in str(value)]
    body = check_error(resp.status, await resp.json(), 400, unsent)
    assert body["message"] == "validation error"
    assert list(body["data"]) == [field]
    assert list(body["data"][field]) == [keyword]
    assert not [r for r in proxy.requests if "/_view/" in r.target]
    never_asked_for(proxy, "_users", "etc/passwd", "localtime")


# -- bodies -----------------------------------------------------------------------------------

NOT_JSON = [
    b"not json",
    b"{",
    b"{'data': {}}",
    b'{"data": {"report": "queues",}}',
    b'{"data": {"start_date": NaN}}',
    b"\xff\xfe\x00garbage",
    b'{"data": {}} trailing',
]
NOT_A_DATA_OBJECT = [
    b'{"data": []}',
    b'{"data": "x"}',
    b'{"data": null}',
    b'{"data": 1}',
    b"[]",
    b'"x"',
    b"1",
    b"null",
    b"true",
]


@pytest.mark.parametrize(
    ("raw", "message"),
    [(b, "invalid request") for b in NOT_JSON]
    + [(b, "validation error") for b in NOT_A_DATA_OBJECT],
)
async def test_bodies_that_are_not_a_json_data_object_are_400(
    client: TestClient,
    proxy: FaultProxy,
    seeded: SeededAccount,
    secrets: list[str],
    raw: bytes,
    message: str,
) -> None:
    resp = await client.post(
        url(seeded.account_id),
        data=raw,
        headers={"Content-Type": "application/json", "X-Request-ID": "bad-body"},
    )
    body = check_error(resp.status, await resp.json(), 400, secrets)
    assert body == error_body(400, message, INVALID_JSON, "bad-body")
    # with a token in the header: the same error, the token echoed
    resp = await client.post(
        url(seeded.account_id),
        data=raw,
        headers={**auth("bad-body-2"), "Content-Type": "application/json"},
    )
    body = check_error(resp.status, await resp.json(), 400, secrets)
    assert body == error_body(400, message, INVALID_JSON, "bad-body-2", TOKEN)
    assert proxy.requests == []


# -- routes and methods ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/x",  # "/" itself redirects to the dashboard
        "/v2",
        "/v2/accounts",
        "/v2/accounts/{acc}",
        "/v2/accounts/{acc}/cdrs",
        "/v2/accounts/{acc}/qubicle_reports/queues/extra",
        "/v1/accounts/{acc}/qubicle_reports",
        "/v2/accounts/{acc}/qubicle_reportsX",
        "/health/x",
        "/_utils",
    ],
)
async def test_unknown_routes_are_a_crossbar_404(
    client: TestClient, proxy: FaultProxy, seeded: SeededAccount, secrets: list[str], path: str
) -> None:
    for method in ("GET", "POST"):
        resp = await client.request(
            method, path.format(acc=seeded.account_id), headers={"X-Request-ID": "nowhere"}
        )
        assert resp.content_type == "application/json"
        body = check_error(resp.status, await resp.json(), 404, secrets)
        assert body == error_body(404, "not_found", {"message": "not found"}, "nowhere")
    assert proxy.requests == []


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("suffix", ["", "/", "/queues", "/recipients/"])
async def test_wrong_methods_are_a_crossbar_405(
    client: TestClient,
    proxy: FaultProxy,
    seeded: SeededAccount,
    secrets: list[str],
    method: str,
    suffix: str,
) -> None:
    resp = await client.request(
        method,
        url(seeded.account_id, suffix),
        json={"data": QUERY},
        headers={"X-Request-ID": "wrong-verb"},
    )
    assert resp.content_type == "application/json"
    body = check_error(resp.status, await resp.json(), 405, secrets)
    assert body == error_body(405, "method not allowed", {"message": "not allowed"}, "wrong-verb")
    assert set(resp.headers["Allow"].split(",")) >= {"GET", "POST"}
    assert proxy.requests == []


async def test_health_allows_only_get(client: TestClient, secrets: list[str]) -> None:
    for method in ("PUT", "POST", "DELETE"):
        resp = await client.request(method, "/health")
        body = check_error(resp.status, await resp.json(), 405, secrets)
        assert body["message"] == "method not allowed"


# -- request ids and the access log -----------------------------------------------------------


@pytest.mark.parametrize(
    "sent",
    ["bad id", "a;b", "<script>", "a/b", "a\tb", "x" * 129, "'quoted'", "a,b", "{req}"],
)
async def test_request_id_with_bad_characters_is_replaced_by_a_generated_one(
    client: TestClient, seeded: SeededAccount, secrets: list[str], sent: str
) -> None:
    resp = await client.post(url(seeded.account_id), json={"data": QUERY}, headers=auth(sent))
    body = await resp.json()
    assert resp.status == 200, body
    assert GENERATED_ID.fullmatch(body["request_id"])
    assert resp.headers["X-Request-ID"] == body["request_id"]
    # on an error too
    resp = await client.post(url("_users"), json={"data": QUERY}, headers=auth(sent))
    body = check_error(resp.status, await resp.json(), 404, secrets)
    assert GENERATED_ID.fullmatch(body["request_id"])
    assert resp.headers["X-Request-ID"] == body["request_id"]


async def test_a_well_formed_request_id_is_kept(client: TestClient, seeded: SeededAccount) -> None:
    sent = "req-2024.01:30_x" + "y" * 112  # 128 characters, every allowed kind
    resp = await client.post(url(seeded.account_id), json={"data": QUERY}, headers=auth(sent))
    assert resp.status == 200
    assert (await resp.json())["request_id"] == sent
    assert resp.headers["X-Request-ID"] == sent


async def test_a_token_in_the_query_string_is_not_written_to_the_access_log(
    client: TestClient,
    seeded: SeededAccount,
    secrets: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "tok-WRONG-5ecret-never-logged"
    params = {**QUERY, "auth_token": TOKEN}
    resp = await client.get(
        url(seeded.account_id), params=params, headers={"X-Request-ID": "qs-get"}
    )
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["auth_token"] == TOKEN
    resp = await client.post(
        url(seeded.account_id),
        params={"auth_token": TOKEN},
        json={"data": QUERY},
        headers={"X-Request-ID": "qs-post"},
    )
    assert resp.status == 200, await resp.text()
    resp = await client.get(
        url(seeded.account_id),
        params={**QUERY, "auth_token": wrong},
        headers={"X-Request-ID": "qs-wrong"},
    )
    check_error(resp.status, await resp.json(), 401, secrets)
    resp = await client.post(
        url(seeded.account_id),
        json={"data": {**QUERY, "auth_token": wrong}},
        headers={"X-Request-ID": "body-wrong"},
    )
    check_error(resp.status, await resp.json(), 401, secrets)

    access = {}
    for record in caplog.records:
        text = record.getMessage()
        assert TOKEN not in text and wrong not in text, (record.name, text)
        assert "auth_token" not in text
        if record.name == "qubicle_reports.access":
            line = orjson.loads(text)
            access[line["request_id"]] = line
    assert {k: access[k]["status"] for k in ("qs-get", "qs-post", "qs-wrong", "body-wrong")} == {
        "qs-get": 200,
        "qs-post": 200,
        "qs-wrong": 401,
        "body-wrong": 401,
    }
    assert access["qs-get"]["path"] == url(seeded.account_id)
