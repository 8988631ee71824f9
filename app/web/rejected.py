"""Requests aiohttp's HTTP parser rejects, answered in Crossbar's shape and logged in one line.

Before a request reaches the app (and its middleware), aiohttp's parser may reject it: a
header over the size limit (a 10 KB ``X-Auth-Token``), an over-long request line, a
malformed start line or header. aiohttp then answers a plain-text 400 and logs at error level
with a traceback whose message quotes the start of the offending bytes: a token fragment in
the logs, and an easy way to flood them. Here the server's protocol logger is replaced (via
``handler_args={"logger": REJECTED_LOG}``) by one that writes a single line naming only the
kind of error, and the error answer of servers using it becomes Crossbar's error envelope.
Nothing of the request's bytes is ever logged or echoed.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import orjson
from aiohttp import http_exceptions, web, web_protocol

from app import errors

log = logging.getLogger("qubicle_reports.access")

# what the client is told, by the parser's exception class (never the exception's text)
REASONS: dict[type[BaseException], str] = {
    http_exceptions.LineTooLong: "the request line or a header is too long",
    http_exceptions.InvalidURLError: "the request target is not a valid URL",
    http_exceptions.BadStatusLine: "the request line is malformed",
    http_exceptions.InvalidHeader: "a request header is malformed",
    http_exceptions.ContentLengthError: "the request body does not match its framing",
    http_exceptions.TransferEncodingError: "the request body does not match its framing",
}


def reason_of(exc: BaseException | None) -> str:
    for kind, reason in REASONS.items():
        if isinstance(exc, kind):
            return reason
    return "the request is malformed"


class RejectedLog:
    """Stands in for aiohttp's server logger: one line per event, no request bytes, no
    traceback (aiohttp passes the exception as ``exc_info``; only its class is written)."""

    def _line(self, level: int, msg: Any, exc: Any) -> None:
        error = type(exc).__name__ if isinstance(exc, BaseException) else None
        event = "request rejected by the HTTP parser" if error else str(msg).split("%", 1)[0]
        log.log(level, "%s", orjson.dumps({"event": event.strip(), "error": error}).decode())

    def debug(self, msg: Any, *args: Any, exc_info: Any = None, **kw: Any) -> None:
        self._line(logging.DEBUG, msg, exc_info)

    def info(self, msg: Any, *args: Any, exc_info: Any = None, **kw: Any) -> None:
        self._line(logging.INFO, msg, exc_info)

    def warning(self, msg: Any, *args: Any, exc_info: Any = None, **kw: Any) -> None:
        self._line(logging.WARNING, msg, exc_info)

    def error(self, msg: Any, *args: Any, exc_info: Any = None, **kw: Any) -> None:
        self._line(logging.ERROR, msg, exc_info)

    def exception(self, msg: Any, *args: Any, exc_info: Any = True, **kw: Any) -> None:
        self._line(logging.WARNING, msg, exc_info)

    def isEnabledFor(self, level: int) -> bool:
        return log.isEnabledFor(level)


REJECTED_LOG = RejectedLog()
# on every API response, errors, streams and the parser's rejections included: no content
# sniffing of JSON that may echo input, and no cache keeping an answer carrying a token
API_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
_aiohttp_handle_error = web_protocol.RequestHandler.handle_error


def _handle_error(
    self: web_protocol.RequestHandler,
    request: Any,
    status: int = 500,
    exc: BaseException | None = None,
    message: str | None = None,
) -> web.StreamResponse:
    """Crossbar's error envelope instead of aiohttp's plain text, for servers of ours."""
    if not isinstance(self.logger, RejectedLog):
        return _aiohttp_handle_error(self, request, status, exc, message)
    REJECTED_LOG.warning("rejected", exc_info=exc)
    if request.writer.output_size > 0:
        raise ConnectionError("the answer had begun: no error envelope can follow")
    client_error = 400 <= status < 500
    err = errors.malformed(status, reason_of(exc)) if client_error else errors.internal()
    body = orjson.dumps(err.body(uuid.uuid4().hex, ""))
    resp = web.Response(
        status=status, body=body, content_type="application/json", headers=API_HEADERS
    )
    resp.force_close()
    return resp


# aiohttp has no hook for the parser's error answer: the method is replaced, which mypy
# reports as assigning to a method
web_protocol.RequestHandler.handle_error = _handle_error  # type: ignore[method-assign]
