"""Clients that misbehave, and headers and formats done right (issue "One tenant never hurts
another", rows 6-9 of its table): a value nested hundreds of levels deep, a body cut off by
the client, sockets trickling a byte at a time, ``Accept`` with weights, and the headers every
API response carries. Against the service over the real CouchDB-protocol server; slow
clients over raw sockets (an HTTP client would not trickle).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from conftest import QUERY, TOKEN

from app.config import Settings
from app.web.server import create_app
from qubicle_dev.seed import SeededAccount

SEEDED = {"seed": 41}
HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 1.0
ERROR_KEYS = {"data", "error", "message", "status", "request_id", "auth_token"}


@pytest.fixture(scope="module")
def service_settings(couch_url: str, seeded: SeededAccount) -> Settings:
    return Settings(
        couchdb_url=couch_url,
        tokens={TOKEN: seeded.account_id},
        header_timeout=HEADER_TIMEOUT,
        body_timeout=BODY_TIMEOUT,
    )


class ServedAsInProduction(TestServer):
    """aiohttp's test server cancels a handler whose client went away; ``serve`` (aiohttp's
    ``run_app``) does not, so the handler sees the cut body: served here as there."""

    async def _make_runner(self, **kwargs: Any) -> web.AppRunner:
        return web.AppRunner(self.app, **{**kwargs, "handler_cancellation": False})


@pytest.fixture
async def service(service_settings: Settings) -> AsyncIterator[TestClient]:
    """A fresh service per test, so its /metrics count that test's requests only."""
    async with TestClient(ServedAsInProduction(create_app(service_settings))) as c:
        yield c


def path(seeded: SeededAccount) -> str:
    return f"/v2/accounts/{seeded.account_id}/qubicle_reports"


async def metric(client: TestClient, name: str, **labels: str) -> float:
    text = await (await client.get("/metrics")).text()
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(f"qubicle_reports_{name}"):
            continue
        head, _, value = line.rpartition(" ")
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(value)
    return total


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [
        orjson.loads(r.getMessage())
        for r in caplog.records
        if r.name == "qubicle_reports.access"
        and r.getMessage().startswith('{"request_id"')
        and '"path":"/metrics"' not in r.getMessage()
    ]


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def raw(client: TestClient) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    server = client.server
    return await asyncio.open_connection(server.host, server.port)


def head(target: str, length: int, **headers: str) -> bytes:
    lines = [f"POST {target} HTTP/1.1", "Host: test", "Content-Type: application/json",
             f"Content-Length: {length}", f"X-Auth-Token: {TOKEN}"]  # fmt: skip
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def nested(depth: int) -> Any:
    value: Any = "q1"
    for _ in range(depth):
        value = [value]
    return value


# -- a value nested deep ----------------------------------------------------------------------


@pytest.mark.parametrize("depth", [9, 260, 400, 1000])
async def test_a_value_nested_deep_is_a_clear_400_with_the_envelope(
    service: TestClient,
    seeded: SeededAccount,
    caplog: pytest.LogCaptureFixture,
    depth: int,
) -> None:
    caplog.set_level(logging.INFO, logger="qubicle_reports")
    body = b'{"data":{"report":"queues","start_date":"2024-01-30","identifiers":'
    body += b"[" * depth + b'"q1"' + b"]" * depth + b"}}"
    resp = await service.post(
        path(seeded), data=body, headers={"X-Auth-Token": TOKEN, "X-Request-ID": f"deep-{depth}"}
    )
    assert resp.status == 400
    assert resp.headers["X-Request-ID"] == f"deep-{depth}"
    answer = await resp.json()
    assert set(answer) == ERROR_KEYS and answer["request_id"] == f"deep-{depth}"
    assert answer["message"] == "validation error"
    assert answer["data"] == {
        "identifiers": {
            "type": {
                "message": "Value nested more than 8 levels deep",
                "target": "at most 8 levels of lists and objects",
            }
        }
    }
    assert [(a["request_id"], a["status"]) for a in access_lines(caplog)] == [
        (f"deep-{depth}", 400)
    ]
    assert await metric(service, "http_requests_total", status="400") == 1
    assert not errors_logged(caplog)


async def test_a_deep_value_outside_data_is_invalid_json(
    service: TestClient, seeded: SeededAccount
) -> None:
    body = b'{"data":{"report":"queues"},"x":' + b"[" * 300 + b"]" * 300 + b"}"
    resp = await service.post(path(seeded), data=body, headers={"X-Auth-Token": TOKEN})
    assert resp.status == 400
    answer = await resp.json()
    assert answer["data"] == {
        "json": {"invalid": {"message": "All JSON must be valid", "target": "body"}}
    }


async def test_eight_levels_is_still_an_ordinary_validation_error(
    service: TestClient, seeded: SeededAccount
) -> None:
    """Below the depth limit the field's own rule answers (a list of lists is a type error)."""
    resp = await service.post(
        path(seeded),
        json={"data": {**QUERY, "identifiers": nested(8)}},
        headers={"X-Auth-Token": TOKEN},
    )
    assert resp.status == 400
    assert "identifiers" in (await resp.json())["data"]


# -- a body cut off, slow heads and bodies -----------------------------------------------------


async def test_a_body_cut_off_by_the_client_is_a_client_event_not_a_500(
    service: TestClient, seeded: SeededAccount, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="qubicle_reports")
    _reader, writer = await raw(service)
    writer.write(head(path(seeded), 1000, X_Request_ID="cut-body") + b'{"data": {"rep')
    await writer.drain()
    await asyncio.sleep(0.2)
    writer.close()
    await writer.wait_closed()
    for _ in range(50):
        if access_lines(caplog):
            break
        await asyncio.sleep(0.05)
    assert [(a["request_id"], a["status"]) for a in access_lines(caplog)] == [("cut-body", 499)]
    assert not errors_logged(caplog)
    assert await metric(service, "http_requests_total", status="500") == 0
    assert await metric(service, "http_requests_total", status="499") == 1


async def test_a_head_trickling_in_is_closed_after_the_header_timeout(
    service: TestClient, seeded: SeededAccount, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="qubicle_reports")
    reader, writer = await raw(service)
    started = time.monotonic()
    closed_after = None
    for byte in head(path(seeded), 2):
        try:
            writer.write(bytes([byte]))
            await writer.drain()
        except ConnectionError:
            break
        try:
            if await asyncio.wait_for(reader.read(1), 0.2) == b"":
                closed_after = time.monotonic() - started
                break
        except TimeoutError:
            pass
        if time.monotonic() - started > 5 * HEADER_TIMEOUT:
            break
    writer.close()
    assert closed_after is not None, "the trickling connection was never closed"
    assert HEADER_TIMEOUT * 0.9 <= closed_after < HEADER_TIMEOUT + 1.0
    assert await metric(service, "slow_clients_total", phase="headers") == 1
    assert not errors_logged(caplog)


async def test_a_body_trickling_in_is_a_408_and_the_connection_is_closed(
    service: TestClient, seeded: SeededAccount, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="qubicle_reports")
    reader, writer = await raw(service)
    started = time.monotonic()
    writer.write(head(path(seeded), 500, X_Request_ID="slow-body") + b'{"data": {')
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 5 * BODY_TIMEOUT)  # read to EOF: closed
    elapsed = time.monotonic() - started
    writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 408 Request Timeout"
    assert b"X-Request-ID: slow-body" in rest
    assert orjson.loads(rest.partition(b"\r\n\r\n")[2])["message"] == "request timeout"
    assert BODY_TIMEOUT * 0.9 <= elapsed < BODY_TIMEOUT + 1.0
    assert await metric(service, "slow_clients_total", phase="body") == 1
    assert [(a["request_id"], a["status"]) for a in access_lines(caplog)] == [("slow-body", 408)]
    assert not errors_logged(caplog)


async def test_an_idle_keep_alive_connection_is_not_a_slow_client(
    service: TestClient, seeded: SeededAccount
) -> None:
    """The header timeout starts at a head's first byte, not when the connection opens."""
    reader, writer = await raw(service)
    await asyncio.sleep(HEADER_TIMEOUT * 1.5)
    body = orjson.dumps({"data": QUERY})
    writer.write(head(path(seeded), len(body)) + body)
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    assert status_line.startswith(b"HTTP/1.1 200")
    assert await metric(service, "slow_clients_total") == 0


# -- headers and formats --------------------------------------------------------------------


async def test_every_api_response_says_nosniff_and_no_store(
    service: TestClient, seeded: SeededAccount
) -> None:
    auth = {"X-Auth-Token": TOKEN}
    csv_query = {**QUERY, "format": "csv", "period": "hourly"}
    asks = [
        ("POST", path(seeded), {"json": {"data": QUERY}, "headers": auth}, 200),
        ("POST", path(seeded), {"json": {"data": csv_query}, "headers": auth}, 200),
        ("POST", path(seeded), {"json": {"data": {"report": "x"}}, "headers": auth}, 400),
        ("POST", path(seeded), {"data": b"{not json", "headers": auth}, 400),
        ("POST", path(seeded), {"json": {"data": QUERY}}, 401),
        ("GET", "/v2/nothing-here", {}, 404),
        ("PUT", path(seeded), {"headers": auth}, 405),
        ("GET", "/health/live", {}, 200),
        ("GET", "/health/ready", {}, 200),
        ("GET", path(seeded), {"headers": {"X-Auth-Token": "x" * 70_000}}, 400),  # parser
    ]
    for method, url, kwargs, status in asks:
        resp = await service.request(method, url, **kwargs)
        await resp.read()
        assert resp.status == status, (method, url)
        assert resp.headers.get("X-Content-Type-Options") == "nosniff", (method, url, status)
        assert resp.headers.get("Cache-Control") == "no-store", (method, url, status)


@pytest.mark.parametrize(
    ("accept", "csv"),
    [
        ("text/csv", True),
        ("text/csv; charset=utf-8", True),
        ("application/json;q=0.5, text/csv", True),
        ("text/csv;q=0", False),
        ("text/csvx", False),
        ("text/csv-x, application/json", False),
        ("text/*", False),
        ("*/*", False),
        ("text/csv;q=0.5, application/json", False),
        ("text/csv;q=nonsense", False),
        ("application/json", False),
    ],
)
async def test_accept_is_read_with_weights_and_exact_types(
    service: TestClient, seeded: SeededAccount, accept: str, csv: bool
) -> None:
    resp = await service.post(
        path(seeded), json={"data": QUERY}, headers={"X-Auth-Token": TOKEN, "Accept": accept}
    )
    assert resp.status == 200
    text = await resp.text()
    assert resp.content_type == ("text/csv" if csv else "application/json"), accept
    assert text.startswith("id,period,") if csv else re.match(r'^\{"data":', text)
