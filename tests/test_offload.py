"""The report worker (app.report.offload) yields the CPU to the event loop: its thread runs
at a lower priority than the thread that started it, so a machine short of CPU runs the loop
(liveness probes, small reports) first."""

from __future__ import annotations

import asyncio
import os
import sys
import threading

import pytest

from app.report import offload


def _priority() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="thread priorities: Linux")
async def test_the_worker_runs_at_a_lower_priority_than_the_loop() -> None:
    loop_priority = _priority()
    worker_priority = await offload.off_loop(_priority)
    assert worker_priority == min(19, loop_priority + offload.NICENESS)
    assert _priority() == loop_priority  # the loop's own thread is untouched


async def test_small_jobs_run_on_the_loop_and_large_ones_in_the_worker() -> None:
    here = threading.get_ident()
    assert await offload.run(True, threading.get_ident) == here
    assert await offload.run(False, threading.get_ident) != here
    squares = await asyncio.gather(*(offload.run(False, lambda n=n: n * n) for n in range(5)))
    assert squares == [0, 1, 4, 9, 16]
