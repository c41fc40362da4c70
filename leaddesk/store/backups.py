"""Backups of a SQLite desk and restoring one, with the checks that keep a restore from losing work.

A backup is a copy made with SQLite's online backup API (safe while others write). Restoring writes the backup
over the desk with the same API (one transaction, safe for readers in WAL mode) after checking that:
- the backup is a leaddesk database that passes `PRAGMA quick_check` and whose schema this code can open (an older
  revision is fine: the desk is upgraded when it is next opened; a newer one is refused);
- the desk has no changes newer than the backup's last one (the latest `history.at`, then the number of history
  rows for changes within the same second), unless `force`: restoring would drop them;
- over a desk with data, the acting user is one of its active managers or admins (`check_restorer`).
Before a restore over a desk with data, the desk itself is backed up beside it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from leaddesk.settings import Settings
from leaddesk.store import filemodes, permissions
from leaddesk.store.db import SqliteTx, sqlite_revision
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


def check_restorer(desk: Path, login: str, settings: Settings) -> None:
    """Writing a backup over a desk that holds data is for its managers and admins: a partner, a deactivated or
    unknown user, or a rep is refused (Forbidden) in the words of any other command."""
    conn = sqlite3.connect(f"{desk.resolve().as_uri()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("BEGIN")
        actor = permissions.reader(SqliteTx(conn), login, settings)
        permissions.check_manager(actor.role, "restore a backup over the desk")
    finally:
        conn.close()


def restore(backup: Path, desk: Path, *, force: bool = False, stamp: str, login: str,
            settings: Settings | None = None) -> Path | None:
    """Write `backup` over the desk at `desk` as the user `login`; returns where the replaced desk was saved (None:
    nothing to save). A new desk file and the safety copy get the access of the settings' [files] group.

    `stamp` names that safety copy (e.g. the current time as YYYYmmdd-HHMMSS)."""
    settings = settings or Settings()
    current = inspect_file(desk) if desk.exists() else None
    has_data = current is not None and current.revision is not None and bool(current.leads or current.changes)
    if has_data:
        check_restorer(desk, login, settings)
    source = inspect_file(backup, check=True)
    if source.revision is None:
        raise RuleError(f"{backup} is not a leaddesk backup (it has no leaddesk schema)")
    if source.revision > SCHEMA_HEAD:
        raise RuleError(f"{backup} was made by a newer leaddesk (schema {source.revision}; this one knows"
                        f" {SCHEMA_HEAD}): upgrade leaddesk first")
    if backup.resolve() == desk.resolve():
        raise RuleError("the backup and the desk are the same file")
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
        filemodes.create(desk, settings.files)  # private (or the [files] group's), as the desk creates its files
    if has_data:
        saved = backup_sqlite(desk, desk.with_name(f"{desk.name}.before-restore-{stamp}.bak"), settings.files)
    try:
        restore_sqlite(backup, desk)
    except sqlite3.Error as exc:
        raise RuleError(f"restoring {desk} failed, nothing changed: {exc}") from None
    return saved
