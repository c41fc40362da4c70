"""Schema migrations with Alembic, and the backup taken before each one."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from leaddesk.settings import Files
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


def backup_sqlite(source: Path, dest: Path, files: Files | None = None) -> Path:
    """Copy a live SQLite database with the online backup API (safe while others write).

    The copy is written to DEST.part, private (0600; 0660 for the group of `files`) from its first byte, and renamed
    to `dest` once whole: a process killed half way leaves no empty or partial file under the backup's name."""
    from leaddesk.store import filemodes

    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    for leftover in (part, part.with_name(part.name + "-journal")):  # from a backup killed before
        leftover.unlink(missing_ok=True)
    filemodes.create(part, files or Files())
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


def upgrade_sqlite(path: Path, current: str | None, files: Files | None = None) -> Path | None:
    """Migrate a SQLite file to the head revision; back it up first and restore it if the migration fails.

    Returns the backup's path (None for a brand-new, empty database).
    """
    from alembic import command

    from leaddesk import clock

    backup: Path | None = None
    if _has_tables(path):
        stamp = clock.now().strftime("%Y%m%d-%H%M%S")
        backup = backup_sqlite(path, path.with_name(f"{path.name}.{current or 'none'}-{stamp}.bak"), files)
    try:
        command.upgrade(alembic_config(f"sqlite:///{path}"), "head")
    except Exception as exc:
        raise _restored_after(exc, path, current, backup) from exc
    return backup


def failure_reason(exc: BaseException) -> str:
    """Why a database call failed, on one line: the driver's own message (SQLAlchemy adds the statement and a link
    on further lines), or the first line of any other error's."""
    reason = " ".join(str(getattr(exc, "orig", None) or exc).split("\n")[0].split())
    return reason or type(exc).__name__


def _restored_after(exc: Exception, path: Path, current: str | None, backup: Path | None) -> LeadDeskError:
    """Put a desk whose upgrade failed back as it was, from the backup taken before it; the one-line error to show.

    Each migration is a transaction of its own: the failed one left nothing, but the ones before it committed, so
    the desk is written back from the backup (with the backup API, as `db restore` does: WAL-safe, one
    transaction). A new desk had nothing to lose: the revisions that committed are whole, the next open goes on."""
    failed = f"upgrading {path} from schema {current or 'none'} to {SCHEMA_HEAD} failed ({failure_reason(exc)})"
    if backup is None:
        return LeadDeskError(f"setting up the new desk {path} failed ({failure_reason(exc)})")
    try:
        restore_sqlite(backup, path)
    except sqlite3.Error as again:
        return LeadDeskError(f"{failed}, and writing its backup back failed too ({failure_reason(again)}): the desk"
                             f" as it was is {backup}; `leaddesk db restore {backup} --force` puts it back")
    return LeadDeskError(f"{failed}; it was restored, unchanged, from the backup {backup}")


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
        raise LeadDeskError(f"cannot open database {shown_target(url)}: {failure_reason(exc)}") from None
    if current != SCHEMA_HEAD:
        if not migrate:
            raise LeadDeskError(f"database {shown_target(url)} needs an upgrade: run `leaddesk db upgrade`")
        from alembic import command

        try:
            command.upgrade(alembic_config(url), "head")
        except Exception as exc:  # on PostgreSQL the whole upgrade is one transaction (migrations/env.py)
            kept = "; it was rolled back: the database is as it was" if engine.dialect.name == "postgresql" else ""
            engine.dispose()
            raise LeadDeskError(f"upgrading {shown_target(url)} from schema {current or 'none'} to {SCHEMA_HEAD}"
                                f" failed ({failure_reason(exc)}){kept}") from exc
    return engine
