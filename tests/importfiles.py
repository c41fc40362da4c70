"""Files for the import tests of the store, the CLI and the TUI: the fixture files copied where a test may
write (an import writes its error file next to its input), and CSV files written and read back.

Importable as `importfiles` from any test (tests/conftest.py puts this folder on sys.path, as for pgsupport).
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "import"


def copy_fixtures(tmp_path: Path) -> Path:
    """A copy of tests/fixtures/import in the test's folder; returns the copy's folder."""
    target = tmp_path / "files"
    shutil.copytree(FIXTURES, target)
    return target


def write_csv(path: Path, rows: Iterable[Sequence[object]]) -> Path:
    """Write rows (the header first) as a UTF-8 CSV; returns the path."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def read_csv(path: Path) -> list[list[str]]:
    """A UTF-8 CSV's rows, the header first."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))
