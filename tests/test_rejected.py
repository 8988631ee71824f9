"""Requests the HTTP parser rejects: Crossbar's error envelope, one log line, no token in it.

Sent over a raw socket to the real server, because a well-behaved client would refuse to send
them: a 10 KB ``X-Auth-Token`` (over aiohttp's 8,190-byte header limit), a request line over
the configured limit carrying a token in its query string, and a malformed header. The
captured log (every logger, every level) must hold exactly one line about each, and no part
of the token, and no traceback.
"""

from __future__ import annotations

import asyncio
import logging
import secrets

import orjson
import pytest
from aiohttp.test_utils import TestServer

from app.config import Settings
from app.web.server import create_app


def token() -> str:
    return "SeCrEt" + secrets.token_hex(5_000)  # 10,006 characters


def fragments(secret: str) -> list[str]:
    """Pieces a log could leak: the start, middle and end of the token, 12 characters each."""
    middle = len(secret) // 2
    return [secret[:12], secret[6:18], secret[middle : middle + 12], secret[-12:]]


async def exchange(port: int, raw: bytes) -> tuple[int, bytes, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    async with asyncio.timeout(10):
        answer = await reader.read()  # the server closes after an error answer
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), head, body


def oversized_header(secret: str) -> bytes:
    return (
        b"GET /v2/accounts/" + b"a" * 32 + b"/qubicle_reports HTTP/1.1\r\nHost: x\r\n"
        b"X-Auth-Token: " + secret.encode() + b"\r\n\r\n"
    )


def oversized_line(secret: str) -> bytes:
    padding = b"&pad=" + b"p" * 70_000  # over max(8190, QUBICLE_REPORTS_MAX_BODY_BYTES)
    return (
        b"GET /v2/accounts/"
        + b"a" * 32
        + b"/qubicle_reports?auth_token="
        + secret.encode()
        + padding
        + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    )


def malformed_header(secret: str) -> bytes:
    return b"GET /health HTTP/1.1\r\nHost: x\r\nX-Auth-Token " + secret.encode() + b"\r\n\r\n"


@pytest.mark.parametrize("build", [oversized_header, oversized_line, malformed_header])
async def test_a_parser_rejection_is_a_crossbar_400_and_one_log_line_without_the_token(
    couch_url: str, caplog: pytest.LogCaptureFixture, build: object
) -> None:
    secret = token()
    settings = Settings(couchdb_url=couch_url, tokens={"other": "b" * 32})
    caplog.set_level(logging.DEBUG)
    async with TestServer(create_app(settings)) as server:
        assert server.port is not None
        caplog.clear()
        status, head, body = await exchange(server.port, build(secret))  # type: ignore[operator]
        records = list(caplog.records)
        logged = caplog.text + "".join(
            str(r.exc_info) + str(r.exc_text) + str(r.stack_info) for r in records
        )

    assert status == 400
    assert b"content-type: application/json" in head.lower()
    doc = orjson.loads(body)
    assert set(doc) == {"data", "error", "message", "status", "request_id", "auth_token"}
    assert (doc["error"], doc["message"], doc["status"], doc["auth_token"]) == (
        "400",
        "invalid request",
        "error",
        "",
    )
    assert set(doc["data"]) == {"message"} and doc["data"]["message"]
    for piece in fragments(secret):
        assert piece not in body.decode()
        assert piece not in logged
    assert "Traceback" not in logged
    assert all(r.exc_info is None for r in records)
    ours = [r for r in records if "rejected by the HTTP parser" in r.getMessage()]
    assert len(ours) == 1, [r.getMessage() for r in records]
    assert "\n" not in ours[0].getMessage()
