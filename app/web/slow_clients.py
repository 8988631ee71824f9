"""Clients that send too slowly, or go away mid-request: closed and counted, never errors.

aiohttp times out neither a request's head nor its body: a client trickling a byte every few
seconds holds a connection (and, mid-body, a handler) for as long as it likes. Here:

- the head: once a request's first byte has come, the whole head must come within
  ``header_timeout`` seconds, or the connection is closed (idle keep-alive connections are
  aiohttp's ``keepalive_timeout``'s business). aiohttp has no hook for it, so the protocol's
  ``data_received`` is wrapped, for servers whose logger is a :class:`SlowClientLog` only;
- the body: :func:`read_body` reads it within ``body_timeout`` seconds, else a 408 and the
  connection is closed; a body the client cut off (it closed the connection) is
  :class:`ClientGone`, which the access log and ``/metrics`` count as status 499, as nginx
  does, and which nobody answers.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from aiohttp import web, web_protocol
from aiohttp.client_exceptions import ClientConnectionResetError
from aiohttp.http_exceptions import HttpProcessingError

from app import errors
from app.telemetry import Telemetry
from app.web.rejected import RejectedLog

log = logging.getLogger("qubicle_reports.access")
CLIENT_GONE = 499  # nginx's "client closed request": counted and logged, never sent


class ClientGone(Exception):
    """The client closed the connection before its request was read whole."""


class SlowClientLog(RejectedLog):
    """The protocol logger of a server whose slow clients are timed out."""

    def __init__(self, header_timeout: float, telemetry: Telemetry) -> None:
        self.header_timeout = header_timeout
        self.telemetry = telemetry

    def closed(self, phase: str) -> None:
        self.telemetry.slow_clients.labels(phase).inc()
        event = f"slow client closed: its request {phase} did not arrive in time"
        log.info("%s", orjson.dumps({"event": event}).decode())


async def read_body(request: web.Request, timeout: float) -> bytes:
    """The whole body within ``timeout`` seconds: else a 408 (the connection is closed);
    :class:`ClientGone` when the client cut it off."""
    try:
        async with asyncio.timeout(timeout):
            return await request.read()
    except TimeoutError:
        guard = getattr(request.protocol, "logger", None)
        if isinstance(guard, SlowClientLog):
            guard.closed("body")
        raise errors.request_timeout() from None
    except (ConnectionError, ClientConnectionResetError, HttpProcessingError) as e:
        if isinstance(e, HttpProcessingError) and e.code != 400:
            raise
        raise ClientGone() from None


# -- the head: a timer per connection, from a head's first byte to its last ------------------

_timers: dict[web_protocol.RequestHandler, tuple[asyncio.TimerHandle, int]] = {}
_data_received = web_protocol.RequestHandler.data_received
_connection_lost = web_protocol.RequestHandler.connection_lost


def _stop(handler: web_protocol.RequestHandler) -> None:
    timer = _timers.pop(handler, None)
    if timer is not None:
        timer[0].cancel()


def _too_slow(handler: web_protocol.RequestHandler, guard: SlowClientLog, count: int) -> None:
    _timers.pop(handler, None)
    if handler._request_count != count or handler.transport is None:
        return  # a head came meanwhile
    guard.closed("headers")
    handler.force_close()  # closes the transport


def data_received(self: web_protocol.RequestHandler, data: bytes) -> None:
    guard = self.logger
    if not isinstance(guard, SlowClientLog) or guard.header_timeout <= 0:
        _data_received(self, data)
        return
    count = self._request_count
    _data_received(self, data)
    if self._request_count != count:
        _stop(self)  # a head came whole
    elif self._current_request is None and not self._messages and self not in _timers:
        # bytes of a head that is not whole yet: it has header_timeout to come
        timer = asyncio.get_running_loop().call_later(
            guard.header_timeout, _too_slow, self, guard, count
        )
        _timers[self] = (timer, count)


def connection_lost(self: web_protocol.RequestHandler, exc: Any) -> None:
    _stop(self)
    _connection_lost(self, exc)


# aiohttp has no hook for either: the methods are replaced (mypy calls that assigning to a
# method); servers with another logger keep aiohttp's behaviour
web_protocol.RequestHandler.data_received = data_received  # type: ignore[method-assign]
web_protocol.RequestHandler.connection_lost = connection_lost  # type: ignore[method-assign]
