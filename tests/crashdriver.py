"""The process tests/test_crashes.py kills: it works a desk through the public API (`Desk`) until SIGKILL.

Run as `python tests/crashdriver.py`: it imports leaddesk (and Alembic, for migrations) once, then reads one job
per line on stdin (JSON) and forks a child for each, so that a round costs a fork rather than a second of
imports. It answers `{"pid": N}` when the child starts and `{"status": S}` (os.waitpid's) when it has ended.

The child (its own process group, so that a kill of the group also takes any helper it forked) opens the job's
desk, does the job's operation over and over, and writes a trace, unbuffered, to the job's trace file:

- `# ready`, `# start N`, `# done N`, `# finished SECONDS`: where the operation is (N numbers the operations);
- `C STATEMENT` for every SQL statement any sqlite3 connection of the child runs (C numbers the connections;
  `BEGIN (implicit)` where sqlite3's legacy transaction control opens one, `BACKUP` for the online backup),
  noted just before it runs, so after a kill the trace tells whether a transaction was open, how many writes
  it had done and whether its COMMIT had begun or returned;
- `# error TEXT` lines (a traceback) if the operation raised.

With `"kill_at": K` the child SIGKILLs itself just before its K-th write statement (INSERT, UPDATE, DELETE,
REPLACE, CREATE, DROP, ALTER) runs: a kill that surely lands inside the operation's writes.

A crash job's child then waits to be killed (it never exits on its own while its parent lives), so the test
always kills a live process it owns; a job with `"wait": false` (building a desk) exits when done.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

TRACE: dict[str, Any] = {"fd": None, "statements": True, "connections": 0, "writes": 0, "kill_at": None}
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")
IMPLICIT_BEGIN = ("INSERT", "UPDATE", "DELETE", "REPLACE")  # before these, sqlite3's legacy mode opens a transaction
_connect = sqlite3.connect


def note(text: str) -> None:
    """One line of the trace (written at once: it must survive a SIGKILL that comes right after)."""
    if TRACE["fd"] is not None:
        os.write(TRACE["fd"], (text.replace("\n", " ") + "\n").encode("utf-8", "replace"))


def _before(conn: TracedConnection, sql: str) -> None:
    """Trace a statement about to run (and kill the child before the job's K-th write)."""
    if TRACE["fd"] is None or not TRACE["statements"]:
        return
    text = " ".join(sql[:300].split())[:120]
    verb = text.split(" ", 1)[0].upper()
    if verb in WRITES:
        TRACE["writes"] += 1
        if TRACE["writes"] == TRACE["kill_at"]:  # killed just before this write runs (not traced)
            os.kill(os.getpid(), signal.SIGKILL)
        if verb in IMPLICIT_BEGIN and conn.isolation_level is not None and not conn.in_transaction:
            note(f"{conn.number} BEGIN (implicit)")
    note(f"{conn.number} {text}")


class TracedCursor(sqlite3.Cursor):
    """A cursor whose statements are traced (SQLAlchemy runs its statements through cursors)."""

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        _before(self.connection, sql)  # type: ignore[arg-type]
        return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> Any:
        _before(self.connection, sql)  # type: ignore[arg-type]
        return super().executemany(sql, parameters)


class TracedConnection(sqlite3.Connection):
    """A connection whose statements, commits, rollbacks and backups are traced as they begin (each call once,
    not each trigger it fires: a Python-level trace, not sqlite3's trace callback)."""

    number = 0

    def cursor(self, factory: Any = TracedCursor) -> Any:  # type: ignore[override]
        return super().cursor(factory)

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        _before(self, sql)
        return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> Any:
        _before(self, sql)
        return super().executemany(sql, parameters)

    def commit(self) -> None:
        if self.in_transaction:
            _before(self, "COMMIT")
        super().commit()

    def rollback(self) -> None:
        if self.in_transaction:
            _before(self, "ROLLBACK")
        super().rollback()

    def backup(self, target: Any, **options: Any) -> None:  # type: ignore[override]
        _before(self, "BACKUP")
        super().backup(target, **options)


def _traced_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
    """sqlite3.connect, making a TracedConnection."""
    kwargs.setdefault("factory", TracedConnection)
    conn = _connect(*args, **kwargs)
    if isinstance(conn, TracedConnection):
        TRACE["connections"] += 1
        conn.number = TRACE["connections"]
    return conn


# Every connection: leaddesk's own (store/db.py, store/migrate.py) and SQLAlchemy's pysqlite one (migrations).
sqlite3.connect = _traced_connect  # type: ignore[assignment]
sqlite3.dbapi2.connect = _traced_connect  # type: ignore[assignment]

from leaddesk.settings import Settings  # noqa: E402  (after the patch, so that nothing keeps the original)
from leaddesk.store.desk import Desk  # noqa: E402


def _open(db: str) -> Desk:
    return Desk.open(db, login="ann", settings=Settings())


# -- the operations (each op is one call of the public API, between `# start N` and `# done N`) --------------
def qualify(job: dict[str, Any]) -> None:
    """Qualify the leads of job["numbers"] (open ones), in that order: a new customer and a deal each (every
    fourth number is converted without a deal, as `qualify --no-deal` does)."""
    desk = _open(job["db"])
    for number in job["numbers"]:
        note(f"# start {number}")
        if number % 4 == 0:
            desk.qualify(str(number), new_customer=True, create_deal=False)
        else:
            desk.qualify(str(number), new_customer=True, title=f"deal {number}", value="1000")
        note(f"# done {number}")


def merge(job: dict[str, Any]) -> None:
    """Merge the second lead of each pair of job["pairs"] ([keep, other] lead numbers) into the first."""
    desk = _open(job["db"])
    for keep, other in job["pairs"]:
        note(f"# start {other}")
        desk.merge(str(keep), [str(other)])
        note(f"# done {other}")


def import_files(job: dict[str, Any]) -> None:
    """Import the files of job["files"] that the desk has no batch of, in order."""
    desk = _open(job["db"])
    imported = {batch["file"] for batch in desk.import_batches(limit=100_000)}
    for index, path in enumerate(job["files"]):
        if path in imported:
            continue
        note(f"# start {index}")
        desk.import_leads(path)
        note(f"# done {index}")


def migrate(job: dict[str, Any]) -> None:
    """Open an old-schema desk: Desk.open backs it up and upgrades it to the head revision."""
    note("# start 0")
    _open(job["db"]).close()
    note("# done 0")


# -- building desks (jobs with "wait": false) ------------------------------------------------------------------
def build(job: dict[str, Any]) -> None:
    """A desk from a CSV file (imported), with notes, qualifies and optionally a downgrade to an old revision."""
    desk = _open(job["db"])
    desk.init("sales")
    if job.get("csv"):
        desk.import_leads(job["csv"], on_duplicate="create")
    for number in job.get("notes", []):
        desk.add_activity(str(number), "note", f"a note on lead {number}")
    for number in job.get("calls", []):
        desk.add_activity(str(number), "call", f"called lead {number}")
    for number in job.get("qualify", []):
        desk.qualify(str(number), new_customer=True, value="500")
    desk.close()
    if job.get("downgrade"):
        from alembic import command

        from leaddesk.store.migrate import alembic_config

        command.downgrade(alembic_config(f"sqlite:///{job['db']}"), job["downgrade"])


def schemas(job: dict[str, Any]) -> None:
    """job["out"]: {revision: [[type, name, sql], ...]} for each revision from the desk's own to the head,
    each made by upgrading a copy of the desk (job["db"], at job["base"]) step by step."""
    import shutil

    from alembic import command
    from alembic.script import ScriptDirectory

    from leaddesk.store.migrate import alembic_config

    work = Path(job["out"]).with_suffix(".db")
    shutil.copyfile(job["db"], work)
    config = alembic_config(f"sqlite:///{work}")
    chain = [r.revision for r in ScriptDirectory.from_config(config).walk_revisions()][::-1]
    chain = chain[chain.index(job["base"]):]
    found = {}
    for revision in chain:
        if revision != job["base"]:
            command.upgrade(config, revision)
        conn = sqlite3.connect(work)
        found[revision] = [list(r) for r in conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")]
        conn.close()
    Path(job["out"]).write_text(json.dumps({"chain": chain, "schemas": found}))


# What the children would otherwise each import (Alembic and SQLModel: a second; the import's checks).
PRELOADED = ("alembic.command", "sqlmodel", "email_validator", "phonenumbers", "leaddesk.store.importing",
             "leaddesk.store.merge", "leaddesk.store.migrate", "leaddesk.store.models")

OPERATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "qualify": qualify, "merge": merge, "import": import_files, "migrate": migrate, "build": build,
    "schemas": schemas}


def _alive(pid: int | None) -> bool:
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _child(job: dict[str, Any], parent: int) -> None:
    os.setpgid(0, 0)
    TRACE["kill_at"] = job.get("kill_at")
    TRACE["statements"] = job.get("wait", True)  # not while building a desk
    if job.get("trace"):
        TRACE["fd"] = os.open(job["trace"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    code = 0
    try:
        note("# ready")
        began = time.perf_counter()
        OPERATIONS[job["op"]](job)
        note(f"# finished {time.perf_counter() - began:.4f}")
    except BaseException:  # reported through the trace (or the exit code): the test shows it
        code = 1
        for line in traceback.format_exc().splitlines():
            note(f"# error {line}")
    if job.get("wait", True):
        while os.getppid() == parent and _alive(job.get("owner")):  # until killed (or the test is gone)
            time.sleep(0.05)
    os._exit(code)


def main() -> None:
    """Fork a child per job read on stdin; answer its pid, then its wait status."""
    import importlib

    for module in PRELOADED:  # once here, not in each child
        importlib.import_module(module)
    print(json.dumps({"ready": os.getpid()}), flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(job, os.getppid())
        with contextlib.suppress(OSError):  # as the child does: its group exists before the test can kill it
            os.setpgid(pid, pid)
        print(json.dumps({"pid": pid}), flush=True)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"status": status}), flush=True)


if __name__ == "__main__":
    main()
