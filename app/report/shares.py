"""Fair shares: at most ``per_key`` holders at once per key (an account), so one account
cannot take every report slot or every CouchDB connection of the process.

A key's semaphore exists while someone holds or waits for it, so a cluster's thousands of
accounts cost nothing while idle.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass
class _Share:
    slots: asyncio.Semaphore
    users: int = 0


@dataclass
class Shares:
    per_key: int
    _shares: dict[str, _Share] = field(default_factory=dict)

    async def acquire(self, key: str) -> Callable[[], None]:
        """Wait for one of ``key``'s slots; returns what releases it (call it once)."""
        share = self._shares.get(key)
        if share is None:
            share = self._shares[key] = _Share(asyncio.Semaphore(self.per_key))
        share.users += 1
        try:
            await share.slots.acquire()
        except BaseException:
            self._leave(key, share)
            raise

        def release() -> None:
            share.slots.release()
            self._leave(key, share)

        return release

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        release = await self.acquire(key)
        try:
            yield
        finally:
            release()

    def holding(self, key: str) -> int:
        """How many hold or wait for ``key``'s slots (0 when none: the key is forgotten)."""
        share = self._shares.get(key)
        return 0 if share is None else share.users

    def _leave(self, key: str, share: _Share) -> None:
        share.users -= 1
        if share.users == 0 and self._shares.get(key) is share:
            del self._shares[key]
