"""Who may read the files leaddesk creates: a SQLite desk, its -wal and -shm files, and its backups.

Without a group (the default) they are private to their owner, 0600, whatever the umask. With `[files] group` in the
settings (`Files`) they are 0660 and belong to that group, so a team sharing one desk on a server can all open it.
SQLite gives the -wal and -shm files it makes the database file's mode (and, run as root, its owner); a process
that is not root gives them the group itself (`share`).
"""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path

from leaddesk.settings import Files
from leaddesk.store.errors import LeadDeskError

PRIVATE = 0o600
SHARED = 0o660


def mode_of(files: Files) -> int:
    """The permission bits of a file leaddesk creates: 0660 with a group, else 0600."""
    return PRIVATE if files.gid is None else SHARED


def create(path: Path, files: Files) -> None:
    """Create an empty file at `path` with the mode and group of `files` (the umask narrows nothing and widens
    nothing). A file that exists already (another process made it first) is left as it is."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, mode_of(files))
    except FileExistsError:
        return
    try:
        if hasattr(os, "fchmod"):  # POSIX: open() applied the umask
            os.fchmod(fd, mode_of(files))
        if files.gid is not None:
            os.fchown(fd, -1, files.gid)
    except OSError as exc:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise LeadDeskError(f"cannot give {path} to group '{files.group}' (the [files] setting):"
                            f" {exc.strerror or exc}") from None
    os.close(fd)


def share(path: Path, files: Files) -> None:
    """Give a file SQLite made beside the desk (-wal, -shm) the group of `files`, when there is one and the file is
    this user's (best effort: SQLite already gave it the desk's mode; run as root it gave it the desk's group)."""
    if files.gid is None:
        return
    with suppress(OSError):
        found = os.stat(path)
        if found.st_uid == os.geteuid() and found.st_gid != files.gid:
            os.chown(path, -1, files.gid)
