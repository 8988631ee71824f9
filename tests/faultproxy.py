"""A fault-injecting HTTP/1.1 proxy in front of a real CouchDB, for the fault tests.

It listens on a free loopback port and relays whole HTTP/1.1 exchanges (so it can tell one
request from the next on a keep-alive connection and fault exactly the ones it should). The
mode is switched at run time and applies to each request as it arrives:

``pass``     relay the request, relay the answer
``refuse``   the listener is closed and every open connection is dropped (ECONNREFUSED,
             as when CouchDB is down); switching to another mode listens again, same port
``reset``    read the request, then reset the connection (RST)
``stall``    read the request and never answer (until the client gives up)
``hold``     read the request and wait for :meth:`FaultProxy.release`, then relay it
``cut``      relay the request, send the answer's head and part of its body, then drop the
             connection mid-response
``http500``  answer ``500`` with a CouchDB-like JSON body instead of relaying

``match`` restricts the fault to requests whose method and raw target it accepts; the others
pass. ``cluster_seqs = True`` makes it answer like a node of a CouchDB cluster where the stand-in
answers like one node: every database's ``update_seq`` (``GET /{db}``) becomes the string
``"<number>-<opaque>"``, with a different opaque part on every call (COUCH_FACTS.md,
"Clusters"). Several proxies in front of one stand-in act as several nodes of one cluster.
Every request is recorded (method, raw target, the mode applied) in ``requests``, and
``max_inflight`` is the most requests relayed to CouchDB at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass

from yarl import URL

MODES = ("pass", "refuse", "reset", "stall", "hold", "cut", "http500")
FAULTED = ("reset", "stall", "hold", "cut", "http500")
HEAD_LIMIT = 1 << 20
DB_INFO = re.compile(r"^/[a-z][^/?]*(\?.*)?$")  # GET /{db}: one path segment, not /_...
Match = Callable[[str, str], bool]

COUCH_500_BODY = b'{"error":"unknown_error","reason":"function_clause","ref":3151541932}\n'
COUCH_500 = (
    b"HTTP/1.1 500 Internal Server Error\r\n"
    b"Server: CouchDB/3.3.3 (Erlang OTP/24)\r\n"
    b"Cache-Control: must-revalidate\r\n"
    b"Content-Type: application/json\r\n"
    b"Content-Length: " + str(len(COUCH_500_BODY)).encode() + b"\r\n\r\n" + COUCH_500_BODY
)


@dataclass(frozen=True)
class Seen:
    method: str
    target: str  # raw request target, still percent-encoded
    mode: str  # the mode applied to it ("pass" when ``match`` let it through)


@dataclass
class _Message:
    head: bytes  # start line + headers + blank line, as received
    body: bytes  # raw body, chunk framing included
    start_line: str
    close: bool  # the connection ends after this message


def _headers(head: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in head.split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep:
            out[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    return out


async def _read_head(reader: asyncio.StreamReader) -> bytes | None:
    """One message head, or None when the peer closed cleanly between messages."""
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        if not e.partial:
            return None
        raise


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    raw = bytearray()
    while True:
        line = await reader.readuntil(b"\r\n")
        raw += line
        size = int(line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while True:  # trailers, up to the blank line
                trailer = await reader.readuntil(b"\r\n")
                raw += trailer
                if trailer == b"\r\n":
                    return bytes(raw)
        raw += await reader.readexactly(size + 2)


async def _read_message(
    reader: asyncio.StreamReader, *, response_to: str | None = None
) -> _Message | None:
    """A whole request (``response_to=None``) or the response to a ``response_to`` request."""
    head = await _read_head(reader)
    if head is None:
        return None
    start_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    headers = _headers(head)
    close = headers.get("connection", "").lower() == "close"
    no_body = False
    if response_to is not None:
        status = int(start_line.split(" ", 2)[1])
        no_body = response_to == "HEAD" or status in (204, 304) or 100 <= status < 200
    if no_body:
        body = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif response_to is not None:  # delimited by the end of the connection
        body = await reader.read()
        close = True
    else:
        body = b""
    return _Message(head, body, start_line, close)


def _clustered_seq(response: _Message) -> _Message:
    """A db info answer with ``update_seq`` as a cluster shows it: same number, new opaque."""
    if response.start_line.split(" ")[1:2] != ["200"] or b"chunked" in response.head.lower():
        return response
    try:
        info = json.loads(response.body)
    except ValueError:
        return response
    seq = info.get("update_seq") if isinstance(info, dict) else None
    if not isinstance(seq, int):
        return response
    info["update_seq"] = f"{seq}-g1AAAA{secrets.token_urlsafe(24)}"
    body = json.dumps(info).encode() + b"\n"
    head = re.sub(
        rb"(?im)^content-length:[^\r\n]*",
        b"Content-Length: " + str(len(body)).encode(),
        response.head,
    )
    return _Message(head, body, response.start_line, response.close)


class FaultProxy:
    """See the module docstring. ``await start()`` / ``await stop()``, or ``async with``."""

    def __init__(self, upstream_url: str) -> None:
        # COUCHDB_URL may list several nodes: a proxy stands in front of the first
        self._upstream = URL(upstream_url.split(",")[0].strip())
        if self._upstream.host is None or self._upstream.port is None:
            raise ValueError("the upstream URL needs a host and a port")
        self.port = 0
        self.mode = "pass"
        self.match: Match | None = None
        self.cluster_seqs = False
        self.times: int | None = None
        self.requests: list[Seen] = []
        self.faulted = 0  # requests stalled, held, cut, reset or answered 500 so far
        self.inflight = 0
        self.max_inflight = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._released = asyncio.Event()
        self._changed = asyncio.Condition()

    # -- addresses ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The upstream URL (credentials included) with the proxy's host and port."""
        return str(self._upstream.with_host("127.0.0.1").with_port(self.port))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> FaultProxy:
        await self._listen()
        return self

    async def stop(self) -> None:
        await self._close_listener()
        self._drop_connections()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def __aenter__(self) -> FaultProxy:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _listen(self) -> None:
        if self._server is not None:
            return
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.port, reuse_address=True, limit=HEAD_LIMIT
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close_listener(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()

    def _drop_connections(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()

    # -- control -----------------------------------------------------------------------

    async def set_mode(
        self, mode: str, match: Match | None = None, times: int | None = None
    ) -> None:
        """Switch mode; ``match`` limits the fault to the requests it accepts, ``times`` to
        the first so many of them (then they pass)."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.match = match
        self.times = times
        self.mode = mode
        if mode == "refuse":
            await self._close_listener()
            self._drop_connections()
        else:
            await self._listen()
        if mode == "hold":
            self._released.clear()
        else:
            self._released.set()

    def release(self) -> None:
        """Let held requests (and every later one) through."""
        self.mode = "pass"
        self.match = None
        self.times = None
        self._released.set()

    async def reset(self) -> None:
        """Back to pass-through, counters and records cleared."""
        await self.set_mode("pass")
        self.cluster_seqs = False
        self.requests.clear()
        self.faulted = 0
        self.max_inflight = 0

    async def wait_faulted(self, count: int = 1) -> None:
        """Until ``count`` requests have been faulted (wrap in ``asyncio.timeout``)."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.faulted >= count)

    async def _note_faulted(self) -> None:
        async with self._changed:
            self.faulted += 1
            self._changed.notify_all()

    # -- the exchange ------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            while await self._exchange(reader, writer):
                pass
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass  # a peer went away or spoke garbage: this connection is over
        finally:
            self._writers.discard(writer)
            self._tasks.discard(task)
            writer.close()  # what is written still goes out, then FIN (no-op after abort)

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request; False when the connection is over."""
        request = await _read_message(reader)
        if request is None:
            return False
        method, target, *_ = [*request.start_line.split(" "), "", ""]
        mode = self.mode
        if self.match is not None and not self.match(method, target):
            mode = "pass"
        if mode in FAULTED and self.times is not None:
            if self.times <= 0:
                mode = "pass"
            self.times -= 1
        self.requests.append(Seen(method, target, mode))
        if mode in FAULTED:
            await self._note_faulted()
        if mode == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        if mode == "stall":
            await reader.read()  # until the client gives up and closes
            return False
        if mode == "http500":
            writer.write(COUCH_500)
            await writer.drain()
            return not request.close
        if mode == "hold":
            await self._released.wait()
        response = await self._forward(request)
        if self.cluster_seqs and method == "GET" and DB_INFO.match(target):
            response = _clustered_seq(response)
        if mode == "cut":
            if len(response.body) >= 2:
                partial = response.head + response.body[: len(response.body) // 2]
            else:
                partial = response.head[: len(response.head) // 2]
            writer.write(partial)
            writer.close()  # FIN after the partial answer: the rest never comes
            await writer.wait_closed()
            return False
        writer.write(response.head + response.body)
        await writer.drain()
        return not (request.close or response.close)

    async def _forward(self, request: _Message) -> _Message:
        """Relay one request to CouchDB on a fresh connection; the whole response."""
        self.inflight += 1
        self.max_inflight = max(self.max_inflight, self.inflight)
        try:
            host, port = self._upstream.host, self._upstream.port
            reader, writer = await asyncio.open_connection(host, port, limit=HEAD_LIMIT)
            try:
                writer.write(request.head + request.body)
                await writer.drain()
                method = request.start_line.split(" ", 1)[0]
                response = await _read_message(reader, response_to=method)
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
            if response is None:
                raise ConnectionResetError("CouchDB closed the connection without answering")
            return response
        finally:
            self.inflight -= 1  # before the answer is written: the client cannot be ahead
