"""Fixtures for the service-layer tests: a frozen clock and a fresh desk per test, on each backend.

Every test runs on SQLite, and on PostgreSQL too when LEADDESK_TEST_PG_URL is set (ids `sqlite` and `pg`; see
tests/conftest.py and tests/pgsupport.py); `@pytest.mark.sqlite_only` keeps a test about SQLite files on SQLite.
On SQLite every test gets its own database file `tmp_path / "t.db"`. Running the Alembic
migration for each of them would dominate the run time, so the migration runs
once per session into a template file that each test copies before opening it
with `Desk.open` (an unmigrated file would give the same result, only slower).
On PostgreSQL the session's migrated database is emptied before each test.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from leaddesk import clock
from leaddesk.settings import Settings
from leaddesk.store.desk import Desk

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[datetime]:
    """Fix "now" to 2026-11-26 12:00 UTC for every test; unfreeze afterwards."""
    clock.freeze(NOW)
    yield NOW
    clock.freeze(None)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database at the schema head, migrated once for the whole session."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    Desk.open(str(path), login="template", settings=Settings()).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()
    with sqlite3.connect(path) as check:  # no user rows, no catalog: a brand-new desk
        assert check.execute("SELECT count(*) FROM status").fetchone()[0] == 0
    return path


@pytest.fixture
def db_file(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """This test's own database: a SQLite file path, or a PostgreSQL URL (see `backend`)."""
    if backend == "pg":
        return str(request.getfixturevalue("fresh_db"))
    target = tmp_path / "t.db"
    shutil.copyfile(request.getfixturevalue("migrated_template"), target)
    return str(target)


DeskFactory = Callable[..., Desk]


@pytest.fixture
def open_desk(db_file: str) -> Iterator[DeskFactory]:
    """Open (more) desks on this test's database: `open_desk(login="bob", settings=..., preset=...)`."""
    opened: list[Desk] = []

    def _open(login: str = "ann", settings: Settings | None = None, preset: str | None = None,
              origin: str = "cli", auto_create: bool = True) -> Desk:
        # Most tests act as several logins on one desk without adding them first: they run with
        # `auto_create_users` on (new logins become reps); `auto_create=False` keeps the settings' own value.
        chosen = settings or Settings()
        if auto_create:
            chosen = replace(chosen, auto_create_users=True)
        desk = Desk.open(db_file, login=login, settings=chosen, origin=origin)
        opened.append(desk)
        if preset:
            desk.init(preset)
        return desk

    yield _open
    for desk in opened:
        desk.close()


@pytest.fixture
def desk(open_desk: DeskFactory) -> Desk:
    """Ann's desk on a new database initialised with the sales preset."""
    return open_desk(preset="sales")


@pytest.fixture
def services_desk(open_desk: DeskFactory) -> Desk:
    """Ann's desk on a new database initialised with the services preset."""
    return open_desk(preset="services")


@pytest.fixture
def bob(desk: Desk, open_desk: DeskFactory) -> Desk:
    """Bob's desk on the same (sales) database as `desk`."""
    return open_desk(login="bob")


@pytest.fixture
def query() -> Callable[..., list[dict[str, Any]]]:
    """Run a read-only SQL query on a desk's database: `query(desk, sql, params)` -> rows as dicts."""

    def _query(desk: Desk, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        with desk.db.read() as tx:
            return [dict(r) for r in tx.all(sql, params or {})]

    return _query


@pytest.fixture
def count(query: Callable[..., list[dict[str, Any]]]) -> Callable[..., int]:
    """How many rows a table holds: `count(desk, "lead")`, optionally with a WHERE clause."""

    def _count(desk: Desk, table: str, where: str = "", params: dict[str, Any] | None = None) -> int:
        sql = f'SELECT count(*) AS n FROM "{table}"' + (f" WHERE {where}" if where else "")
        return int(query(desk, sql, params)[0]["n"])

    return _count


@pytest.fixture
def snapshot(count: Callable[..., int], query: Callable[..., list[dict[str, Any]]]) -> Callable[..., Any]:
    """What a refused change must leave untouched: counts of every table and each lead's version."""

    def _snapshot(desk: Desk) -> dict[str, Any]:
        tables = ("lead", "history", "customer", "contact", "deal", "activity", "status", "source",
                  "lost_reason", "lead_type", "lead_type_status", "user")
        state: dict[str, Any] = {table: count(desk, table) for table in tables}
        state["leads"] = query(desk, "SELECT * FROM lead ORDER BY id")
        return state

    return _snapshot
