"""`leaddesk db copy --to TARGET`: every row of a desk into another database (SQLite <-> PostgreSQL).

The target is opened like any desk (a new SQLite file is created; a PostgreSQL database must exist and is
migrated to the schema head) and must be empty: a copy never merges two desks nor overwrites one. Then, in ONE
transaction on the target:

- every table is copied in dependency order (parents first), read from one consistent snapshot of the source
  a page at a time and written in batches (executemany), with the rows' own ids, so that every reference
  (history's entity ids, merges' snapshots) stays true;
- the id counters are carried over: a PostgreSQL sequence, or SQLite's AUTOINCREMENT counter, is set past
  the highest id the source ever gave out (not only the highest left), so ids of deleted rows, which history
  still names, are never given out again;
- every table's row count is compared with the source's; any difference rolls the whole copy back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from leaddesk.settings import Settings
from leaddesk.store import permissions
from leaddesk.store.db import Database, Tx, shown_target, sqlite_path_of
from leaddesk.store.errors import RuleError

BATCH = 2000


@dataclass(frozen=True)
class Table:
    """What the copy needs to know about one table."""

    name: str
    columns: tuple[str, ...]
    booleans: frozenset[str]
    key: tuple[str, ...]  # the primary key, to read in a stable order
    serial: bool  # an integer `id` the database numbers itself (a sequence / rowid)


def tables() -> list[Table]:
    """Every table of the schema (models.py, which the migrations follow), parents before children."""
    from sqlalchemy import Boolean
    from sqlmodel import SQLModel

    import leaddesk.store.models  # noqa: F401  (registers the tables)

    found = []
    for table in SQLModel.metadata.sorted_tables:
        key = tuple(c.name for c in table.primary_key.columns)
        found.append(Table(
            name=table.name, columns=tuple(c.name for c in table.columns),
            booleans=frozenset(c.name for c in table.columns if isinstance(c.type, Boolean)), key=key,
            serial=key == ("id",)))
    return found


def _q(name: str) -> str:
    return f'"{name}"'


def _rows(tx: Tx, table: Table, batch: int) -> Iterator[list[dict[str, Any]]]:
    """A table's rows in key order, a page at a time (by id where there is one: no OFFSET to re-read)."""
    columns = ", ".join(_q(c) for c in table.columns)
    if table.serial:
        after = None
        while True:
            where = "" if after is None else " WHERE id > :after"
            page = [dict(r) for r in tx.all(f"SELECT {columns} FROM {_q(table.name)}{where} ORDER BY id LIMIT :n",
                                             {"after": after, "n": batch})]
            if not page:
                return
            yield page
            after = page[-1]["id"]
    else:  # small tables (settings, a type's statuses): in one go
        order = ", ".join(_q(c) for c in table.key)
        rows = [dict(r) for r in tx.all(f"SELECT {columns} FROM {_q(table.name)} ORDER BY {order}")]
        for start in range(0, len(rows), batch):
            yield rows[start:start + batch]


def _count(tx: Tx, table: Table) -> int:
    return int(tx.scalar(f"SELECT count(*) FROM {_q(table.name)}"))


def _pg_sequence(tx: Tx, table: Table) -> str | None:
    return tx.scalar("SELECT pg_get_serial_sequence(:t, 'id')", {"t": _q(table.name)})


def high_water(tx: Tx, table: Table) -> int:
    """The highest id this table ever gave out (deleted rows included, where the database remembers them)."""
    highest = int(tx.scalar(f"SELECT coalesce(max(id), 0) FROM {_q(table.name)}"))
    if tx.dialect == "sqlite":
        if tx.scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"):
            seq = tx.scalar("SELECT seq FROM sqlite_sequence WHERE name = :t", {"t": table.name})
            highest = max(highest, int(seq or 0))
    elif tx.dialect == "postgresql":
        sequence = _pg_sequence(tx, table)
        if sequence:
            row = tx.one(f"SELECT last_value, is_called FROM {sequence}")
            if row is not None and row["is_called"]:
                highest = max(highest, int(row["last_value"]))
    return highest


def _set_high_water(tx: Tx, table: Table, value: int) -> None:
    """Make the target give out ids above `value` from now on."""
    if tx.dialect == "sqlite":
        autoincrement = tx.scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :t"
                                  " AND upper(sql) LIKE '%AUTOINCREMENT%'", {"t": table.name})
        # (a plain rowid table numbers from its highest id: nothing to keep there)
        params = {"v": value, "t": table.name}
        if autoincrement and value and not tx.execute("UPDATE sqlite_sequence SET seq = :v WHERE name = :t", params):
            tx.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :v)", params)
    elif tx.dialect == "postgresql":
        sequence = _pg_sequence(tx, table)
        if sequence:  # setval(s, n, true): the next id is n + 1; (s, 1, false): the next id is 1
            tx.scalar("SELECT setval(:s, :v, :called)", {"s": sequence, "v": max(value, 1), "called": value > 0})


def _same_database(source: Database, target: str) -> bool:
    path = sqlite_path_of(target)
    if source.path is not None and path is not None:
        return path.resolve() == source.path.resolve()
    return target == source.target


def _insert_sql(table: Table) -> str:
    return (f"INSERT INTO {_q(table.name)} ({', '.join(_q(c) for c in table.columns)})"
            f" VALUES ({', '.join(f':{c}' for c in table.columns)})")


def copy_database(source: Database, target: str, login: str, settings: Settings, *,
                  batch: int = BATCH, progress: Callable[[str, int], None] | None = None) -> dict[str, Any]:
    """Copy every row of `source` into the empty database `target` (see the module's docstring); managers and
    admins only. Returns {"source", "target", "tables": [{"table", "rows"}], "rows", "seconds"}."""
    if _same_database(source, target):
        raise RuleError("the target is this desk's own database: copy to another file or server database")
    started = time.monotonic()
    schema = tables()
    path = sqlite_path_of(target)
    made_file = path is not None and not path.exists()
    with source.read() as src:
        if src.dialect == "postgresql":  # one snapshot for every table, as SQLite's read transaction is
            src.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        actor = permissions.reader(src, login, settings)
        permissions.check_manager(actor.role, "copy the desk to another database")
        counts = {t.name: _count(src, t) for t in schema}
        marks = {t.name: high_water(src, t) for t in schema if t.serial}
        dest: Database | None = None
        try:
            dest = Database.open(target, files=settings.files)
            with dest.write() as out:
                filled = [t.name for t in schema if out.scalar(f"SELECT 1 FROM {_q(t.name)} LIMIT 1")]
                if filled:
                    raise RuleError(f"{shown_target(target)} is not empty (it has rows in {', '.join(filled[:5])}"
                                    f"{', ...' if len(filled) > 5 else ''}): copy to a new SQLite file or an"
                                    " empty server database")
                for table in schema:
                    sql = _insert_sql(table)
                    done = 0
                    for rows in _rows(src, table, batch):
                        if table.booleans and out.dialect != "sqlite":
                            for row in rows:
                                for name in table.booleans:
                                    if row[name] is not None:
                                        row[name] = bool(row[name])
                        out.many(sql, rows)
                        done += len(rows)
                        if progress:
                            progress(table.name, done)
                    if table.serial:
                        _set_high_water(out, table, marks[table.name])
                from leaddesk.store import search

                search.sync(out)  # the target's search index, from the leads its triggers queued (SQLite)
                copied = {t.name: _count(out, t) for t in schema}
                wrong = [f"{name} {copied[name]} of {counts[name]}" for name in counts
                         if copied[name] != counts[name]]
                if wrong:
                    raise RuleError(f"the copy does not match the source ({'; '.join(wrong)}): nothing was written")
        except BaseException:
            if dest is not None:
                dest.close()
            if made_file and path is not None:
                for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                    leftover.unlink(missing_ok=True)
            raise
        dest.close()
    return {"source": shown_target(source.target), "target": shown_target(target), "rows": sum(counts.values()),
            "tables": [{"table": t.name, "rows": copied[t.name]} for t in schema],
            "seconds": round(time.monotonic() - started, 2)}
