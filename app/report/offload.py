"""Where a report's CPU work runs: parsing and folding CouchDB's answers, finishing the sums
and rendering, off the event loop, so the loop always answers other requests (a liveness
probe, another account's report) within milliseconds.

One worker thread: Python runs one thread's bytecode at a time, so more workers would add no
throughput, only more threads for the event loop to wait behind for the interpreter lock.
Jobs are taken in order, so every report in progress moves on one step at a time. Small jobs
(a small answer, a small report) run on the loop at once: they take less time than a trip
through the worker's queue, and a small report never waits behind a large one's steps.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

NICENESS = 10  # how much lower the worker's CPU priority is than the event loop's


def _yield_cpu() -> None:
    """Lower the worker thread's own CPU priority (Linux: per thread). On a machine short of
    CPU (CouchDB on the same cores, other services) the operating system then runs the event
    loop first whenever both want a core, and report work takes what is left; measured with
    bench/tenants.py. Where the platform refuses, the worker runs at the loop's priority."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + NICENESS)
    except (OSError, AttributeError):
        pass


WORKER = ThreadPoolExecutor(
    max_workers=1, thread_name_prefix="qubicle-report", initializer=_yield_cpu
)
# work the next CouchDB request waits for (a record read's view keys): on a worker of its
# own, so it never queues behind a report's long steps while CouchDB idles
FIRST = ThreadPoolExecutor(
    max_workers=1, thread_name_prefix="qubicle-first", initializer=_yield_cpu
)
SMALL_ANSWER = 64 * 1024  # bytes of a CouchDB answer folded on the loop (~1 ms)
SMALL_REPORT = 5_000  # entity x bucket cells finished and rendered on the loop (~1 ms)


async def off_loop(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)`` in the report worker, awaited."""
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(WORKER, call)


async def run_first(small: bool, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """As :func:`run`, off the loop on the worker of work a CouchDB request waits for."""
    if small:
        return fn(*args, **kwargs)
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(FIRST, call)


async def run(small: bool, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)`` now when ``small``, else in the report worker."""
    if small:
        return fn(*args, **kwargs)
    return await off_loop(fn, *args, **kwargs)
