"""The desk's thread-worker pool runs each job in a context of its own (see leaddesk/thread_pool.py)."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor

from leaddesk.thread_pool import FreshContextPool, use_fresh_context_pool

marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")


def _set_marker() -> str:
    marker.set("left behind")
    return marker.get()


def _read_marker() -> str:
    return marker.get()


def test_a_plain_pool_thread_keeps_what_a_job_set() -> None:
    """The flaw the pool works around: a pool thread's context outlives the job that set a variable in it."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(_set_marker).result()
        assert pool.submit(_read_marker).result() == "left behind"


def test_a_job_sees_its_own_variables_and_the_next_job_does_not() -> None:
    with FreshContextPool(max_workers=1) as pool:
        assert pool.submit(_set_marker).result() == "left behind"
        assert pool.submit(_read_marker).result() == "unset"


def test_the_loop_runs_executor_jobs_on_the_fresh_context_pool() -> None:
    async def main() -> tuple[str, str]:
        loop = asyncio.get_running_loop()
        use_fresh_context_pool(loop)
        await loop.run_in_executor(None, _set_marker)
        # Every pool thread has run a setting job before any is asked to read.
        await asyncio.gather(*(loop.run_in_executor(None, _set_marker) for _ in range(16)))
        seen = await loop.run_in_executor(None, _read_marker)
        names = await loop.run_in_executor(None, lambda: threading.current_thread().name)
        return seen, names

    seen, thread_name = asyncio.run(main())
    assert seen == "unset"
    assert thread_name.startswith("leaddesk-worker")
