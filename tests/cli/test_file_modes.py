"""Who may read the files leaddesk creates (issue 9): a new SQLite desk, its -wal and -shm files, and its backups
(`db backup`, the one taken before a schema upgrade, a restore's new desk and the copy of the desk it replaces, a
`db copy` target) give nothing to other users: 0600, whatever the umask (000 widens nothing). With `[files] group`
in the settings they are 0660 and belong to that group (077 narrows nothing); a group the system does not know is a
one-line error. Most of it runs through the real entry point; the -wal and -shm files exist only while the desk
is open, so they are checked on an open `Database`.
"""

from __future__ import annotations

import grp
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from clisupport import Cli, assert_one_line_refusal

from leaddesk.settings import Files, load_settings
from leaddesk.store.db import Database


def other_group() -> grp.struct_group:
    """A real group that is not this process's own, that it may give files to (root: any; else one of its
    supplementary groups)."""
    if os.geteuid() == 0:
        candidates = [grp.getgrnam(name) for name in ("users", "nogroup", "staff") if _known(name)]
        candidates += list(grp.getgrall())
    else:
        candidates = [grp.getgrgid(gid) for gid in os.getgroups()]
    for group in candidates:
        if group.gr_gid != os.getegid():
            return group
    pytest.skip("no group other than the process's own to give files to")


def _known(name: str) -> bool:
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def access(path: Path) -> tuple[str, int]:
    """A file's permission bits (as octal text) and group id."""
    found = path.stat()
    return oct(stat.S_IMODE(found.st_mode)), found.st_gid


@pytest.fixture
def umask() -> Iterator[None]:
    """Put the process's umask back after the test (it is process-wide)."""
    before = os.umask(0o022)
    os.umask(before)
    yield
    os.umask(before)


@pytest.fixture
def group(tmp_path: Path) -> grp.struct_group:
    """A group named by `[files] group` in this test's settings file."""
    chosen = other_group()
    settings = Path(os.environ["LEADDESK_CONFIG"])
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(f'[files]\ngroup = "{chosen.gr_name}"\n', encoding="utf-8")
    return chosen


def old_desk(path: Path) -> Path:
    """A SQLite file with a table and no leaddesk schema yet: opening it upgrades it, after a backup."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE keepme (x)")
    conn.commit()
    conn.close()
    return path


def desk_files(db: Path, files: Files) -> dict[str, tuple[str, int]]:
    """The access of a new desk and of the -wal and -shm files SQLite makes beside it, while it is open."""
    database = Database.open(str(db), files=files)
    try:
        with database.write() as tx:
            tx.execute("INSERT INTO setting (key, value) VALUES ('k', 'v')")
        return {name: access(db.with_name(db.name + name)) for name in ("", "-wal", "-shm")}
    finally:
        database.close()


def made_by_commands(fresh: Cli, tmp_path: Path) -> dict[str, tuple[str, int]]:
    """Every file the commands create: a new desk, a backup, the backup before an upgrade, a restore's new desk
    and the copy of the desk it replaces, a `db copy` target."""
    fresh.ok("init")
    fresh.ok("add", "--name", "Ann")
    fresh.ok("db", "backup", str(tmp_path / "b.bak"))
    fresh.ok("add", "--name", "Bob")
    restored = fresh.ok("db", "restore", str(tmp_path / "b.bak"), "--force").out
    replaced = Path(restored.strip().rsplit(" ", 1)[1])
    fresh.ok("--db", str(tmp_path / "new.db"), "db", "restore", str(tmp_path / "b.bak"))
    fresh.ok("--db", str(old_desk(tmp_path / "old.db")), "db", "upgrade")
    (upgrade_backup,) = tmp_path.glob("old.db.none-*.bak")
    fresh.ok("db", "copy", "--to", str(tmp_path / "copy.db"))
    made = {"desk": fresh.db, "backup": tmp_path / "b.bak", "replaced desk": replaced,
            "restored to a new path": tmp_path / "new.db", "before an upgrade": upgrade_backup,
            "db copy target": tmp_path / "copy.db"}
    return {what: access(path) for what, path in made.items()}


def test_without_a_group_a_new_desk_and_its_wal_files_are_private_even_with_umask_000(
        tmp_path: Path, umask: None) -> None:
    os.umask(0)
    assert desk_files(tmp_path / "d.db", Files()) == {name: ("0o600", os.getegid()) for name in ("", "-wal", "-shm")}


def test_without_a_group_every_file_the_commands_make_is_private_even_with_umask_000(
        fresh: Cli, tmp_path: Path, umask: None) -> None:
    os.umask(0)
    made = made_by_commands(fresh, tmp_path)
    assert made == dict.fromkeys(made, ("0o600", os.getegid()))
    assert len(made) == 6


def test_with_a_group_a_new_desk_and_its_wal_files_are_0660_of_that_group_even_with_umask_077(
        tmp_path: Path, umask: None, group: grp.struct_group) -> None:
    os.umask(0o077)
    files = load_settings().files
    assert files == Files(group=group.gr_name, gid=group.gr_gid)
    assert desk_files(tmp_path / "d.db", files) == {name: ("0o660", group.gr_gid) for name in ("", "-wal", "-shm")}


def test_with_a_group_every_file_the_commands_make_is_0660_of_that_group_even_with_umask_077(
        fresh: Cli, tmp_path: Path, umask: None, group: grp.struct_group) -> None:
    os.umask(0o077)
    made = made_by_commands(fresh, tmp_path)
    assert made == dict.fromkeys(made, ("0o660", group.gr_gid))


def test_an_existing_desk_keeps_its_own_mode(fresh: Cli, group: grp.struct_group) -> None:
    fresh.db.touch()
    os.chmod(fresh.db, 0o640)
    fresh.ok("init")
    assert access(fresh.db) == ("0o640", os.getegid())


@pytest.mark.parametrize(("files", "message"), [
    ('group = "no-such-group-here"', "[files] group 'no-such-group-here' is not a group on this system"),
    ("group = 100", "[files] group must be the name of a group, e.g. \"sales\""),
    ('owner = "ann"', "[files] has unknown key 'owner'; use group"),
])
def test_a_bad_files_setting_is_a_one_line_error_and_creates_nothing(fresh: Cli, files: str, message: str) -> None:
    settings = Path(os.environ["LEADDESK_CONFIG"])
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(f"[files]\n{files}\n", encoding="utf-8")
    line = assert_one_line_refusal(fresh("init"))
    assert line == f"leaddesk: {settings}: {message}"
    assert not fresh.db.exists()
