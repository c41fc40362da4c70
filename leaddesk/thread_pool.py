"""The pool that runs the desk's thread workers: each job in a context of its own.

Textual (8.2.8, pinned) runs a thread worker by setting its `active_worker` context variable in a pool thread and
never unsetting it, so the pool thread's own context kept the last Worker it ran and, through it, the screen that
started it: a closed lead card (~140 widgets) stayed alive until that thread happened to run another job (found by
tests/tui/test_no_leaks.py: up to three closed cards alive at once). Here every job runs in a fresh, empty context
(what a pool thread starts with anyway: `run_in_executor` does not carry the caller's), dropped when it ends.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class FreshContextPool(ThreadPoolExecutor):
    """A thread pool whose jobs each run in a new context, so no job's context variables outlive it."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Schedule `fn(*args, **kwargs)` to run in a fresh context on a pool thread."""
        return super().submit(contextvars.Context().run, fn, *args, **kwargs)


def use_fresh_context_pool(loop: asyncio.AbstractEventLoop) -> None:
    """Make `loop`'s default executor (where Textual's thread workers run) a `FreshContextPool`."""
    loop.set_default_executor(FreshContextPool(thread_name_prefix="leaddesk-worker"))
