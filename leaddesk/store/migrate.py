"""Schema migrations with Alembic, and the backup taken before each one."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from leaddesk.store.errors import LeadDeskError
from leaddesk.store.schema import SCHEMA_HEAD

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Any:
    """An Alembic Config for our migrations folder and the given database URL."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def backup_sqlite(source: Path, dest: Path) -> Path:
    """Copy a live SQLite database with the online backup API (safe while others write).

    The copy is written to DEST.part, private (0600) from its first byte, and renamed to `dest` once whole: a
    process killed half way leaves no empty or partial file under the backup's name."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    for leftover in (part, part.with_name(part.name + "-journal")):  # from a backup killed before
        leftover.unlink(missing_ok=True)
    os.close(os.open(part, os.O_CREAT | os.O_WRONLY, 0o600))
    src = sqlite3.connect(source)
    try:
        out = sqlite3.connect(part)
        try:
            src.backup(out)
        finally:
            out.close()
    finally:
        src.close()
    os.replace(part, dest)
    return dest


def restore_sqlite(backup: Path, dest: Path) -> None:
    """Write a backup over a database with the backup API (WAL-safe, one transaction)."""
    src = sqlite3.connect(backup)
    try:
        out = sqlite3.connect(dest, timeout=10)
        try:
            src.backup(out)
        finally:
            out.close()
    finally:
        src.close()


def _has_tables(path: Path) -> bool:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0] > 0
    finally:
        conn.close()


def upgrade_sqlite(path: Path, current: str | None) -> Path | None:
    """Migrate a SQLite file to the head revision; back it up first and restore it if the migration fails.

    Returns the backup's path (None for a brand-new, empty database).
    """
    from alembic import command

    from leaddesk import clock

    backup: Path | None = None
    if _has_tables(path):
        stamp = clock.now().strftime("%Y%m%d-%H%M%S")
        backup = backup_sqlite(path, path.with_name(f"{path.name}.{current or 'none'}-{stamp}.bak"))
    try:
        command.upgrade(alembic_config(f"sqlite:///{path}"), "head")
    except Exception as exc:
        if backup is not None:
            restore_sqlite(backup, path)
        raise LeadDeskError(f"migrating {path} failed and it was restored from {backup}: {exc}") from exc
    return backup


def open_engine(url: str, *, migrate: bool = True) -> Any:
    """An SQLAlchemy engine for a server database, migrated to the head revision.

    The revision is read directly (Alembic, a tenth of a second to import, is loaded only to migrate)."""
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.exc import SQLAlchemyError

    from leaddesk.store.db import shown_target

    try:
        engine = create_engine(url, pool_pre_ping=True)
        with engine.connect() as conn:
            current = None
            if inspect(conn).has_table("alembic_version"):
                current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (SQLAlchemyError, ImportError) as exc:
        # The driver's own reason, on one line (SQLAlchemy adds a second one), and the URL without its password.
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split("\n")[0].split())
        raise LeadDeskError(f"cannot open database {shown_target(url)}: {reason}") from None
    if current != SCHEMA_HEAD:
        if not migrate:
            raise LeadDeskError(f"database {shown_target(url)} needs an upgrade: run `leaddesk db upgrade`")
        from alembic import command

        command.upgrade(alembic_config(url), "head")
    return engine
