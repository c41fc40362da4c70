"""`leaddesk db backup` and `db restore`: a restore brings back exactly the backed-up desk, refuses to drop newer
changes without --force (and then keeps the replaced desk aside), and refuses what is not a usable backup."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from clisupport import Cli


def _leads(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT number, company FROM lead ORDER BY number").fetchall()
    conn.close()
    return rows


def test_restore_brings_back_the_backup(cli: Cli, tmp_path: Path) -> None:
    cli.add(company="Kept")
    backup = tmp_path / "b.bak"
    cli.ok("db", "backup", str(backup))
    before = _leads(cli.db)
    cli.add(company="Later")
    # the desk now has a change the backup lacks: refused, nothing written
    refusal = cli.refused("db", "restore", str(backup)).err
    assert "has changes after the backup's last one" in refusal and "--force" in refusal
    assert [c for _, c in _leads(cli.db)] == ["Kept", "Later"]
    out = cli.ok("db", "restore", str(backup), "--force").out
    assert out.startswith(f"restored {cli.db} from {backup}; the replaced desk is kept as ")
    kept = Path(out.strip().rsplit(" ", 1)[1])
    assert _leads(cli.db) == before
    assert [c for _, c in _leads(kept)] == ["Kept", "Later"]
    assert kept.stat().st_mode & 0o077 == 0
    # the restored desk opens and works
    assert cli.ok("show", str(before[0][0]), "--json").json()["company"] == "Kept"
    with sqlite3.connect(cli.db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_restore_over_an_unchanged_desk_needs_no_force(cli: Cli, tmp_path: Path) -> None:
    cli.add(company="One")
    backup = tmp_path / "b.bak"
    cli.ok("db", "backup", str(backup))
    assert "restored" in cli.ok("db", "restore", str(backup)).out
    assert [c for _, c in _leads(cli.db)] == ["One"]


def test_restore_to_a_new_path_creates_a_private_desk(cli: Cli, tmp_path: Path, capsys) -> None:
    cli.add(company="Moved")
    backup = tmp_path / "b.bak"
    cli.ok("db", "backup", str(backup))
    target = tmp_path / "elsewhere" / "new.db"
    other = Cli(target, capsys)
    assert other.ok("db", "restore", str(backup)).out == f"restored {target} from {backup}\n"
    assert [c for _, c in _leads(target)] == ["Moved"]
    assert target.stat().st_mode & 0o077 == 0


def test_restore_refuses_what_is_not_a_backup(cli: Cli, tmp_path: Path) -> None:
    cli.add(company="Safe")
    garbage = tmp_path / "garbage.bak"
    garbage.write_bytes(b"not a database at all" * 100)
    assert "is not a leaddesk database" in cli.refused("db", "restore", str(garbage)).err
    empty = tmp_path / "empty.bak"
    sqlite3.connect(empty).close()
    empty.write_bytes(b"")
    assert "is not a leaddesk backup" in cli.refused("db", "restore", str(empty)).err
    missing = tmp_path / "missing.bak"
    assert cli.refused("db", "restore", str(missing)).err == f"leaddesk: {missing} is not a file\n"
    assert "the same file" in cli.refused("db", "restore", str(cli.db), "--force").err
    assert [c for _, c in _leads(cli.db)] == ["Safe"]


def test_restore_refuses_a_backup_from_a_newer_leaddesk(cli: Cli, tmp_path: Path) -> None:
    backup = tmp_path / "b.bak"
    cli.ok("db", "backup", str(backup))
    with sqlite3.connect(backup) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.close()
    assert "made by a newer leaddesk" in cli.refused("db", "restore", str(backup), "--force").err


def test_restore_refuses_a_damaged_backup(cli: Cli, tmp_path: Path) -> None:
    for n in range(30):
        cli.add(company=f"Co {n}")
    backup = tmp_path / "b.bak"
    cli.ok("db", "backup", str(backup))
    data = bytearray(backup.read_bytes())
    page = 4096
    for offset in range(page * 2, len(data), page):  # scribble over every page after the schema's
        data[offset + 8: offset + 64] = b"\xff" * 56
    backup.write_bytes(bytes(data))
    err = cli.refused("db", "restore", str(backup), "--force").err
    assert "damaged" in err or "is not a leaddesk database" in err
    assert len(_leads(cli.db)) == 30
