"""Backups of a SQLite desk and restoring one, with the checks that keep a restore from losing work.

A backup is a copy made with SQLite's online backup API (safe while others write). Restoring writes the backup
over the desk with the same API (one transaction, safe for readers in WAL mode) after checking that:
- the backup is a leaddesk database that passes `PRAGMA quick_check` and whose schema this code can open (an older
  revision is fine: the desk is upgraded when it is next opened; a newer one is refused);
- the desk has no changes newer than the backup's last one (the latest `history.at`, then the number of history
  rows for changes within the same second), unless `force`: restoring would drop them.
Before a restore over a desk with data, the desk itself is backed up beside it.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from leaddesk.store.db import sqlite_revision
from leaddesk.store.errors import RuleError
from leaddesk.store.migrate import backup_sqlite, restore_sqlite
from leaddesk.store.schema import SCHEMA_HEAD


@dataclass(frozen=True)
class DeskFile:
    """What a SQLite file holds, as far as a restore cares: its schema revision, last change and counts."""

    path: Path
    revision: str | None
    last_change: str | None
    changes: int
    leads: int

    @property
    def progress(self) -> tuple[str, int]:
        """How far its history goes: a later last change first, then more changes."""
        return (self.last_change or "", self.changes)


def inspect_file(path: Path, *, check: bool = False) -> DeskFile:
    """Read a desk file without changing it (read-only URI); with `check`, refuse one that fails quick_check."""
    if not path.is_file():
        raise RuleError(f"{path} is not a file")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise RuleError(f"cannot read {path}: {exc}") from None
    try:
        if check:
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise RuleError(f"{path} is damaged (quick_check: {' '.join(str(verdict).split())})")
        revision = sqlite_revision(conn)
        if revision is None:
            return DeskFile(path, None, None, 0, 0)
        last, changes = conn.execute("SELECT max(at), count(*) FROM history").fetchone()
        leads = int(conn.execute("SELECT count(*) FROM lead").fetchone()[0])
        return DeskFile(path, revision, last, int(changes), leads)
    except sqlite3.DatabaseError as exc:
        raise RuleError(f"{path} is not a leaddesk database ({exc})") from None
    finally:
        conn.close()


def restore(backup: Path, desk: Path, *, force: bool = False, stamp: str) -> Path | None:
    """Write `backup` over the desk at `desk`; returns where the replaced desk was saved (None: nothing to save).

    `stamp` names that safety copy (e.g. the current time as YYYYmmdd-HHMMSS)."""
    source = inspect_file(backup, check=True)
    if source.revision is None:
        raise RuleError(f"{backup} is not a leaddesk backup (it has no leaddesk schema)")
    if source.revision > SCHEMA_HEAD:
        raise RuleError(f"{backup} was made by a newer leaddesk (schema {source.revision}; this one knows"
                        f" {SCHEMA_HEAD}): upgrade leaddesk first")
    if backup.resolve() == desk.resolve():
        raise RuleError("the backup and the desk are the same file")
    current = inspect_file(desk) if desk.exists() else None
    has_data = current is not None and current.revision is not None and bool(current.leads or current.changes)
    if current is not None and not force:
        if current.revision is not None and current.revision > source.revision:
            raise RuleError(f"{desk} has a newer schema ({current.revision}) than the backup"
                            f" ({source.revision}): add --force to restore it anyway")
        if current.progress > source.progress:
            raise RuleError(f"{desk} has changes after the backup's last one (desk: {current.last_change},"
                            f" backup: {source.last_change or 'none'}): add --force to drop them")
    saved = None
    if current is None:
        desk.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(desk, os.O_CREAT | os.O_WRONLY, 0o600))  # private, as the desk creates its files
    if has_data:
        saved = backup_sqlite(desk, desk.with_name(f"{desk.name}.before-restore-{stamp}.bak"))
    try:
        restore_sqlite(backup, desk)
    except sqlite3.Error as exc:
        raise RuleError(f"restoring {desk} failed, nothing changed: {exc}") from None
    return saved
