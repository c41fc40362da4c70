"""A helper process that reads and checks a large file's rows while the import writes them.

On a large file the part of an import that needs no database (`import_rows`: reading the file,
mapping its columns, the rules of names, emails, phones, dates...) runs in a second process, which
streams its checked chunks through a pipe; the importing process meanwhile checks the fields that
need the database, looks for duplicates and writes. On SQLite the helper also checks the fields that
need the catalog (`importing.candidate`, on a connection of its own): the importing process then only
looks for duplicates and writes. Same functions, other CPU. The pipe holds a
few chunks (`PIPE_BYTES`): the helper waits when it is further ahead, so memory does not grow with the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from leaddesk.store.errors import RuleError
from leaddesk.store.import_rows import CHUNK, CheckedRow, RowChecker

WORKER_FROM = 5000  # estimated rows; smaller files are read and checked in the importing process


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


def _worker(conn: Any, parent_end: Any, checker: RowChecker, path: Path, sheet: str | None, size: int,
            finish: Callable[[], Callable[[CheckedRow], Any] | None] | None) -> None:
    from leaddesk.store.tabular import open_table

    parent_end.close()  # so that the parent's death reads as end of file here
    _speed_up_email_domains()
    checker.pack = True
    try:
        try:
            finishing = finish() if finish is not None else None
            for chunk in checker.chunks(open_table(path, sheet), size):
                conn.send(("rows", chunk if finishing is None else [finishing(row) for row in chunk]))
        except RuleError as exc:  # a malformed file: the importing process reports it
            conn.send(("error", str(exc)))
            return
        conn.send(("done", None))
    except (BrokenPipeError, OSError):
        return  # the importing process has gone (or stopped reading): nothing to do


PIPE_BYTES = 1 << 20
"""The pipe's buffer (Linux: 64 KB by default, 1 MB at most without privileges): about four chunks of 500 rows
(~270 KB pickled each). With 64 KB the helper waited in `send` for every chunk until the importing process had
written the previous one: each waited for the other whenever a chunk was slower to check than to write, or the
other way round. With room for a few chunks the faster side runs ahead and the slower one never waits. Memory
stays bounded (the buffer, not the file)."""


def _widen(conn: Any) -> None:
    """Give the pipe room for a few chunks, where the system allows it (Linux); else leave it as it is."""
    import contextlib
    import fcntl

    setting = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setting is None:
        return
    # Above /proc/sys/fs/pipe-max-size, or over the user's pipe quota: the default buffer still works.
    with contextlib.suppress(OSError):
        fcntl.fcntl(conn.fileno(), setting, PIPE_BYTES)


class RowWorker:
    """The helper process: `chunks()` gives what `RowChecker.chunks()` would, computed over there; with `finish`
    (called over there, it returns what to do with each checked row, or None), what that gives for each row."""

    def __init__(self, checker: RowChecker, path: Path, sheet: str | None, size: int = CHUNK,
                 finish: Callable[[], Callable[[CheckedRow], Any] | None] | None = None) -> None:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self.conn, child = context.Pipe(duplex=False)
        _widen(self.conn)
        self.process = context.Process(target=_worker, args=(child, self.conn, checker, path, sheet, size, finish),
                                       daemon=True)
        self.process.start()
        child.close()

    def chunks(self) -> Iterator[list[Any]]:
        """The checked (or finished) chunks, in the file's order."""
        while True:
            try:
                kind, payload = self.conn.recv()
            except EOFError:
                raise RuleError("the import's helper process stopped unexpectedly; nothing was imported") from None
            if kind == "done":
                return
            if kind == "error":
                raise RuleError(payload)
            yield payload

    def close(self) -> None:
        """Stop the helper process (at the end, or when the import stops early)."""
        self.conn.close()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=5)


def use_worker(total: int) -> bool:
    """A helper process pays off on large files, on Linux, with more than one CPU. It is forked, so only
    from a single-threaded process (the command line): forking beside other threads (the TUI runs imports
    in a worker thread) could copy a lock another thread holds; there the import runs in one process."""
    import os
    import sys
    import threading

    return (total >= WORKER_FROM and sys.platform.startswith("linux") and (os.cpu_count() or 1) > 1
            and threading.active_count() == 1)
