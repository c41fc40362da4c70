"""The database: migrations match the models, backups before migrating, SQLite settings, no import-time files."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from leaddesk.store import migrate
from leaddesk.store.db import Database
from leaddesk.store.errors import LeadDeskError
from leaddesk.store.schema import SCHEMA_HEAD


def test_alembic_head_is_the_revision_the_code_expects() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert script.get_heads() == [SCHEMA_HEAD]


def test_migrated_database_matches_the_models(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine
    from sqlmodel import SQLModel

    import leaddesk.store.models  # noqa: F401
    from leaddesk.store.unmodelled import is_unmodelled

    def include_name(name: str | None, type_: str, parent_names: object) -> bool:  # as migrations/env.py does
        return not (name and is_unmodelled(name))  # the search index (0005), the status times (0006)

    Database.open(str(tmp_path / "m.db")).close()
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"include_name": include_name}),
                                SQLModel.metadata)
    engine.dispose()
    assert diff == []


def test_sqlite_is_opened_in_wal_mode_with_foreign_keys_and_private_permissions(tmp_path: Path) -> None:
    db = Database.open(str(tmp_path / "w.db"))
    with db.read() as tx:
        assert tx.scalar("PRAGMA journal_mode") == "wal"
        assert tx.scalar("PRAGMA foreign_keys") == 1
    db.close()
    mode = stat.S_IMODE(os.stat(tmp_path / "w.db").st_mode)
    assert mode & 0o077 == 0


def test_an_old_database_is_backed_up_before_it_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE keepme (x)")
    conn.execute("INSERT INTO keepme VALUES (42)")
    conn.commit()
    conn.close()
    Database.open(str(path)).close()
    backups = list(tmp_path.glob("old.db.*.bak"))
    assert len(backups) == 1
    assert sqlite3.connect(backups[0]).execute("SELECT x FROM keepme").fetchone() == (42,)


def test_a_failed_migration_restores_the_backup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE keepme (x)")
    conn.commit()
    conn.close()
    import alembic.command

    def broken_upgrade(*_args: object) -> None:
        sqlite3.connect(path).execute("DROP TABLE keepme")
        raise RuntimeError("boom")

    monkeypatch.setattr(alembic.command, "upgrade", broken_upgrade)
    with pytest.raises(LeadDeskError, match="restored"):
        Database.open(str(path))
    tables = {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")}
    assert "keepme" in tables


def test_a_file_that_is_not_a_database_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not sqlite" * 100)
    with pytest.raises(LeadDeskError, match=r"not a leaddesk database|cannot open"):
        Database.open(str(path))


def test_importing_the_package_creates_no_files(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
           "XDG_CONFIG_HOME": str(tmp_path / "xdg-config")}
    for key in ("LEADDESK_DATA_DIR", "LEADDESK_CONFIG_DIR", "LEADDESK_CONFIG"):
        env.pop(key, None)
    code = "import leaddesk.cli.app, leaddesk.store.desk, leaddesk.store.models"
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_every_migration_upgrades_a_database_of_the_previous_revision_keeping_its_rows(tmp_path: Path) -> None:
    """Walk the chain backwards from head: each older revision, with data in it, upgrades to head intact."""
    from alembic import command
    from alembic.script import ScriptDirectory

    from leaddesk.store.desk import Desk

    path = tmp_path / "desk.db"
    desk = Desk.open(str(path), login="ann")
    for name in ("Ann Lee", "Bob Stone", "Cy Young"):
        desk.add_lead({"name": name, "phone": "+1 212 555 0100", "source": "Referral"}, force=True)
    desk.close()
    config = migrate.alembic_config(f"sqlite:///{path}")
    revisions = [r.revision for r in ScriptDirectory.from_config(config).walk_revisions()]  # head first
    assert revisions[0] == SCHEMA_HEAD
    for older in revisions[1:]:
        command.downgrade(config, older)
        assert sqlite3.connect(path).execute("SELECT version_num FROM alembic_version").fetchone() == (older,)
        Database.open(str(path)).close()
        conn = sqlite3.connect(path)
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (SCHEMA_HEAD,)
        assert [r[0] for r in conn.execute("SELECT contact_name FROM lead ORDER BY number")] == [
            "Ann Lee", "Bob Stone", "Cy Young"]
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.close()
    assert len(revisions) >= 2
    assert list(tmp_path.glob("desk.db.0001-*.bak"))


def test_migration_0004_finds_the_first_contact_of_existing_leads(tmp_path: Path) -> None:
    from alembic import command

    from leaddesk import clock
    from leaddesk.store.desk import Desk

    path = tmp_path / "desk.db"
    clock.freeze(datetime(2026, 11, 19, 9, 0, tzinfo=UTC))
    try:
        desk = Desk.open(str(path), login="ann")
        desk.init("sales")
        for name in ("Called Once", "Status Moved", "Never Touched", "Lost Early"):
            desk.add_lead({"name": name}, force=True)
        clock.freeze(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
        desk.add_activity("1", "note", "a note is no contact")
        clock.freeze(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
        desk.add_activity("1", "call", "talked")
        desk.set_status("2", "Contacted")
        desk.mark_lost("4", "Budget")
    finally:
        clock.freeze(None)
    desk.close()
    config = migrate.alembic_config(f"sqlite:///{path}")
    command.downgrade(config, "0003")
    Database.open(str(path)).close()  # upgrades to head
    conn = sqlite3.connect(path)
    found = dict(conn.execute("SELECT contact_name, first_contact_at FROM lead"))
    created = dict(conn.execute("SELECT contact_name, created_at FROM lead"))
    conn.close()
    assert found == {"Called Once": "2026-11-21T09:00:00", "Status Moved": "2026-11-21T09:00:00",
                     "Never Touched": None, "Lost Early": "2026-11-21T09:00:00"}
    assert all(found[n] is None or found[n] >= created[n] for n in found)
