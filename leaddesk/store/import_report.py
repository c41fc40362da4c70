"""What an import reports: its problems (rejected, duplicate, warning) and the error CSV of the
rows not imported, written next to the input so that it can be fixed and imported again."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leaddesk.store.errors import RuleError

ERROR_COLUMN = "error"


@dataclass
class Problem:
    """A row not imported (rejected or duplicate) or imported with a warning."""

    line: int
    kind: str  # rejected, duplicate, warning
    column: str
    reason: str

    def text(self) -> str:
        """One line for the report."""
        where = f", column '{self.column}'" if self.column else ""
        return f"line {self.line}{where}: {self.reason}"



class ErrorFile:
    """The CSV of rows not imported: the file's columns plus `error`; opened on first use."""

    def __init__(self, path: Path, headers: list[str]) -> None:
        self.path = path
        self.replace_last = bool(headers) and headers[-1] == ERROR_COLUMN
        self.headers = headers if self.replace_last else [*headers, ERROR_COLUMN]
        self.width = len(headers)
        self._handle: Any = None
        self._writer: Any = None
        self.count = 0

    @property
    def part(self) -> Path:
        """Where the file is written until the import is over (a killed import leaves only this)."""
        return self.path.with_name(self.path.name + ".part")

    def write(self, cells: list[str], reason: str) -> None:
        """Add a row with its reason."""
        if self._writer is None:
            try:
                self._handle = self.part.open("w", encoding="utf-8", newline="")
            except OSError as exc:
                raise RuleError(f"cannot write the error file {self.path}: {exc}") from None
            self._writer = csv.writer(self._handle)
            self._writer.writerow(self.headers)
        data = list(cells)
        if self.replace_last:
            data = data[: self.width - 1]
            data += [""] * (self.width - 1 - len(data))
        elif len(data) < self.width:
            data += [""] * (self.width - len(data))
        self._writer.writerow([*data, reason])
        self.count += 1

    def close(self, complete: bool) -> None:
        """Close; put the file in place when the import went through, remove it otherwise."""
        if self._handle is None:
            return
        self._handle.close()
        self._handle = None
        if complete:
            self.part.replace(self.path)
        else:
            self.part.unlink(missing_ok=True)
            self.count = 0


    def remove_stale(self) -> bool:
        """After a run that wrote no row: remove an error file an earlier import of the same input left
        (its header is this input's columns plus `error`); a file that is not ours is left alone."""
        if self.count or not self.path.is_file():
            return False
        try:
            with self.path.open(encoding="utf-8", newline="") as handle:
                header = next(csv.reader(handle), None)
        except (OSError, UnicodeDecodeError, csv.Error):
            return False
        if header != self.headers:
            return False
        try:
            self.path.unlink()
        except OSError:
            return False
        return True


def error_path_for(path: Path) -> Path:
    """Where the error CSV of an import goes: FILE.errors.csv next to the input."""
    return path.with_name(f"{path.stem}.errors.csv")
