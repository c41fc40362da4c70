"""A helper process for the field rules that need no database (used by large imports).

On a large file the rules that need no database (email and phone above all, names, free text)
run in a second process one chunk ahead of the main loop, which meanwhile checks the rest,
looks for duplicates and writes. Same functions (`fields.prepare`), other CPU.
"""

from __future__ import annotations

from typing import Any

from leaddesk.settings import Settings
from leaddesk.store import fields
from leaddesk.store.errors import RuleError
from leaddesk.store.import_checks import REPEATING, FieldError

WORKER_FROM = 5000  # estimated rows; smaller files are checked in the main process only
PURE_KINDS = {"name", "text", "longtext", "email", "phone", "priority", "probability", "money", "date", "int",
              "bant", "tags"}


def worker_fields() -> set[str]:
    """The fields the helper process checks: those needing no database that rarely repeat."""
    return {f.name for f in fields.FIELDS.values() if f.kind in PURE_KINDS and f.name not in REPEATING}


class _NoTx:
    """Stands for a transaction where none may be used (the helper process has no database)."""

    dialect = "none"
    lock_suffix = ""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError("the import helper process has no database")


def _speed_up_email_domains() -> None:
    """In the helper process only: remember email_validator's domain check per domain (a pure function
    of the domain; most addresses share a few domains). Nothing changes if the library differs."""
    import functools
    import sys

    import email_validator  # noqa: F401 - loads the submodule patched below

    module = sys.modules.get("email_validator.validate_email")
    check = getattr(module, "validate_email_domain_name", None)
    if module is not None and callable(check):
        module.validate_email_domain_name = functools.lru_cache(maxsize=4096)(check)  # type: ignore[attr-defined]


def _worker(conn: Any, parent_end: Any, settings: Settings) -> None:
    parent_end.close()  # so that the parent's death reads as end of file here
    _speed_up_email_domains()
    notx: Any = _NoTx()
    while True:
        try:
            items = conn.recv()
        except (EOFError, OSError):
            return
        if items is None:
            return
        out: list[tuple[bool, Any]] = []
        for name, value in items:
            try:
                out.append((True, fields.prepare(notx, settings, {name: value})))
            except RuleError as exc:
                out.append((False, str(exc)))
        try:
            conn.send(out)
        except OSError:
            return


class FieldWorker:
    """The helper process and a thread that feeds it, so that sending never waits on receiving."""

    def __init__(self, settings: Settings) -> None:
        import multiprocessing
        import queue
        import threading

        context = multiprocessing.get_context("fork")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker, args=(child, self.conn, settings), daemon=True)
        self.process.start()
        child.close()
        self.outbox: queue.Queue[Any] = queue.Queue()
        self.sender = threading.Thread(target=self._send, daemon=True)
        self.sender.start()

    def _send(self) -> None:
        while True:
            items = self.outbox.get()
            try:
                self.conn.send(items)
            except OSError:
                return
            if items is None:
                return

    def submit(self, items: list[tuple[str, str]]) -> None:
        """Queue a chunk's (field, value) pairs; results come back in order from `results()`."""
        self.outbox.put(items)

    def results(self, items: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any] | FieldError]:
        """The checked values of the oldest submitted chunk."""
        answers = self.conn.recv()
        return {key: (value if ok else FieldError(key[0], value))
                for key, (ok, value) in zip(items, answers, strict=True)}

    def close(self) -> None:
        """Stop the helper process."""
        self.outbox.put(None)
        self.sender.join(timeout=5)
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.terminate()
        self.conn.close()


def use_worker(total: int) -> bool:
    """A helper process pays off on large files, on Linux, with more than one CPU. It is forked, so only
    from a single-threaded process (the command line): forking beside other threads (the TUI runs imports
    in a worker thread) could copy a lock another thread holds; there the import runs in one process."""
    import os
    import sys
    import threading

    return (total >= WORKER_FROM and sys.platform.startswith("linux") and (os.cpu_count() or 1) > 1
            and threading.active_count() == 1)
