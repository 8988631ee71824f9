"""``/health/ready``'s one look at CouchDB, shared: however many probes arrive (every pod of
a load balancer, every kubelet), CouchDB is asked at most once per ``ready_interval``, inside
the process's CouchDB concurrency cap, and every probe meanwhile gets that answer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from aiohttp import web

from app.web.context import LOADER, SETTINGS

T = TypeVar("T")


class SharedLook(Generic[T]):
    """An answer of ``look`` reused for ``interval`` seconds from when it was asked, and one
    look in flight shared by every caller (0: only looks in flight are shared)."""

    def __init__(
        self,
        look: Callable[[], Awaitable[T]],
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._look = look
        self._interval = interval
        self._clock = clock
        self._answer: tuple[float, T] | None = None
        self._flight: asyncio.Future[T] | None = None
        self.looks = 0  # how many times CouchDB was asked

    async def __call__(self) -> T:
        if self._answer is not None and self._clock() - self._answer[0] < self._interval:
            return self._answer[1]
        if self._flight is None:
            self._flight = asyncio.ensure_future(self._ask())
        return await asyncio.shield(self._flight)  # a probe that gives up leaves it running

    async def _ask(self) -> T:
        asked = self._clock()
        self.looks += 1
        try:
            up = await self._look()
        finally:
            self._flight = None
        self._answer = (asked, up)
        return up


SHARED_READY = web.AppKey("shared_ready", SharedLook[str])


def setup(app: web.Application) -> None:
    """The app's shared look (its CouchDB client exists once the app has started)."""
    settings = app[SETTINGS]
    app[SHARED_READY] = SharedLook(
        lambda: app[LOADER].couch.ready(settings.ready_timeout, bounded=True),
        settings.ready_interval,
    )


async def ready(app: web.Application) -> str:
    """What CouchDB said (``up``, ``down``, ``refused``, ``locked``: the client's
    :meth:`~app.couch.client.Couch.ready`), as the latest shared look saw it."""
    return await app[SHARED_READY]()
