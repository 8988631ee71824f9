"""How far CouchDB has built a design doc's index in one database, and how fast it goes.

Read from ``GET /_active_tasks`` (server admins only: one ``indexer`` task per shard being
built) where allowed, else from the index's ``update_seq`` in ``_design/{ddoc}/_info``
against the database's ``update_seq``. Never raises: a CouchDB that does not say is None.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from app.couch.modb import encode
from app.couch.wire import CouchError, CouchUnavailable

# seconds for each request that looks at an index build, for a report (which must answer
# soon); the commands (status, install-views --warm) wait as long as for any request
PROBE_TIMEOUT = 1.0


@dataclass(frozen=True)
class IndexState:
    """How far CouchDB has built a design doc's index in one database."""

    db: str
    building: bool  # not up to date: a query now waits for (or starts) the build
    progress: int | None  # percent done, when known
    indexed_seq: int | None  # the index's update_seq (number part)
    db_seq: int | None  # the database's update_seq (number part)
    source: str  # "_active_tasks" or "_info"
    running: bool = False  # CouchDB says an indexer is at work on it right now
    changes_done: int | None = None  # indexed so far: the update_seq, else the tasks' sum


class IndexBuilding(Exception):
    """A view query waits for an index CouchDB is still building (the build goes on)."""

    def __init__(self, state: IndexState) -> None:
        super().__init__(f"index being built in {state.db}")
        self.state = state


def seq_number(seq: Any) -> int | None:
    """The number of an ``update_seq``: itself on one node; on a cluster the number before
    the dash of ``"<number>-<opaque>"`` (the opaque part names which copies answered, so it
    changes between calls with no writes at all; the number changes only with data)."""
    if isinstance(seq, bool):
        return None
    if isinstance(seq, int):
        return seq
    if isinstance(seq, str):
        head = seq.split("-", 1)[0]
        return int(head) if head.isdigit() else None
    return None


def seconds_left(first: IndexState, second: IndexState, elapsed: float) -> float:
    """When a build will likely be done, from two looks ``elapsed`` seconds apart (inf when
    it did not visibly move: a long build advances less than 1% in a fraction of a second)."""
    if first.progress is None or second.progress is None or elapsed <= 0:
        return float("inf")
    pace = (second.progress - first.progress) / elapsed  # percent per second
    return (100 - second.progress) / pace if pace > 0 else float("inf")


def task_db(name: str) -> str:
    """The database of an ``_active_tasks`` entry: on a cluster it names a shard file,
    ``shards/00000000-1fffffff/<db>.<timestamp>``; on one node (and the stand-in) the db."""
    if name.startswith("shards/"):
        name = name.split("/", 2)[2] if name.count("/") >= 2 else name
        head, dot, stamp = name.rpartition(".")
        return head if dot and stamp.isdigit() else name
    return name


def from_answers(
    db: str, ddoc: str, tasks: Any, info: dict[str, Any], db_info: dict[str, Any]
) -> IndexState:
    """The state of ``ddoc``'s index in ``db`` from what CouchDB answered (``tasks`` is None
    when ``_active_tasks`` was not allowed)."""
    index = info.get("view_index")
    index = index if isinstance(index, dict) else {}
    indexed = seq_number(index.get("update_seq"))
    current = seq_number(db_info.get("update_seq"))
    ours = [
        task
        for task in (tasks if isinstance(tasks, list) else [])
        if isinstance(task, dict)
        and task.get("type") == "indexer"
        and task.get("design_document") == f"_design/{ddoc}"
        and task_db(str(task.get("database", ""))) == db
    ]
    if ours and indexed is not None and current:
        # the tasks say a build runs, but not how far the whole index is: a shard's task
        # leaves the list when that shard is done, and one shard may show two tasks while
        # CouchDB compacts the view mid-build; the index's update_seq only grows
        progress: int | None = min(99, indexed * 100 // current)
        return IndexState(db, True, progress, indexed, current, "_active_tasks", True, indexed)
    if ours:
        done = sum(int(task.get("changes_done", 0)) for task in ours)
        total = sum(int(task.get("total_changes", 0)) for task in ours)
        progress = (
            min(99, done * 100 // total)
            if total
            else sum(int(task.get("progress", 0)) for task in ours) // len(ours)
        )
        return IndexState(db, True, progress, indexed, current, "_active_tasks", True, done)
    behind = indexed is not None and current is not None and indexed < current
    running = bool(index.get("updater_running"))
    building = running or behind
    progress = None
    if indexed is not None and current:
        progress = min(99 if building else 100, indexed * 100 // current)
    elif indexed is not None:
        progress = 100  # an empty database
    return IndexState(db, building, progress, indexed, current, "_info", running, indexed)


class _Asks(Protocol):
    def request(self, method: str, path: str, **kwargs: Any) -> Awaitable[tuple[int, Any]]: ...


class IndexProbes:
    """Looks at index builds; callers asking at the same time about the same index share one
    probe (a report's slow queries over one MoDB do not each send their own)."""

    def __init__(
        self,
        couch: _Asks,
        seen: Callable[[IndexState], None] | None = None,
        timeout: float = PROBE_TIMEOUT,
    ) -> None:
        self.couch = couch
        self.seen = seen  # told every state found (e.g. for /metrics)
        self.timeout = timeout  # seconds for each request of a probe
        self._probes: dict[tuple[str, str], asyncio.Future[IndexState | None]] = {}

    async def state(self, db: str, ddoc: str) -> IndexState | None:
        key = (db, ddoc)
        probe = self._probes.get(key)
        if probe is None:
            probe = self._probes[key] = asyncio.ensure_future(self._probe(db, ddoc))
            probe.add_done_callback(
                lambda done: self._probes.pop(key) if self._probes.get(key) is done else None
            )
        return await asyncio.shield(probe)

    async def _probe(self, db: str, ddoc: str) -> IndexState | None:
        try:
            state = await self._look(db, ddoc)
        except (CouchUnavailable, CouchError, TimeoutError, KeyError, TypeError, ValueError):
            return None
        if state is not None and self.seen is not None:
            self.seen(state)
        return state

    async def _look(self, db: str, ddoc: str) -> IndexState | None:
        probe: dict[str, Any] = {"timeout": self.timeout, "bounded": False, "retry": False}

        async def active_tasks() -> Any:  # optional: the other answers still tell
            try:
                status, tasks = await self.couch.request("GET", "_active_tasks", **probe)
            except CouchUnavailable:
                return None
            return tasks if status == 200 else None

        tasks, (info_status, info), (db_status, db_info) = await asyncio.gather(
            active_tasks(),
            self.couch.request("GET", f"{encode(db)}/_design/{ddoc}/_info", **probe),
            self.couch.request("GET", encode(db), **probe),
        )
        if info_status != 200 or db_status != 200:
            return None
        if not isinstance(info, dict) or not isinstance(db_info, dict):
            return None
        return from_answers(db, ddoc, tasks, info, db_info)
