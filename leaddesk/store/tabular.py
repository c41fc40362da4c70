"""Reading tabular files for the import: CSV and Excel, streamed, never read whole.

- CSV in any common delimiter (`,` `;` tab `|`, taken from the header line) and encoding
  (UTF-8 with or without BOM, UTF-16 with BOM, else Windows-1252, else Latin-1, with a warning),
  quoted newlines kept;
- `.xlsx` through openpyxl in read-only mode (first sheet or a named one), imported lazily.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from leaddesk.store.errors import NotFound, RuleError

DELIMITERS = (",", ";", "\t", "|")
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")


@dataclass
class Table:
    """A file's header and a way to stream its data rows as (line number, cells)."""

    path: Path
    kind: str  # csv or xlsx
    headers: list[str]
    rows: Callable[[], Iterator[tuple[int, list[str]]]]
    total: int  # an estimate of the data rows (for progress)
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    warnings: list[str] = field(default_factory=list)


def open_table(path: Path, sheet: str | None = None) -> Table:
    """Read a CSV or XLSX file's header; RuleError when it cannot be read."""
    if not path.exists():
        raise NotFound(f"there is no file {path}")
    if path.is_dir():
        raise RuleError(f"{path} is a folder, not a file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _open_xlsx(path, sheet)
    if suffix in (".xls", ".ods", ".numbers"):
        raise RuleError(f"{path.name}: save it as .xlsx or .csv first (this format is not read)")
    if sheet:
        raise RuleError("--sheet is for .xlsx files")
    return _open_csv(path)


def sniff_encoding(path: Path) -> tuple[str, int, str | None]:
    """(encoding, number of line breaks, warning or None), reading the file in blocks (never whole)."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", _count_lines(path, b"\n\x00" if head.startswith(codecs.BOM_UTF16_LE) else b"\x00\n"), None
    lines = 0
    utf8_ok = True
    cp1252_ok = True
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            lines += block.count(b"\n")
            if utf8_ok:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    utf8_ok = False
            if not utf8_ok and cp1252_ok:
                cp1252_ok = not any(byte in block for byte in (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d"))
    if utf8_ok:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
    if utf8_ok:
        return "utf-8-sig", lines, None
    if cp1252_ok:
        return "cp1252", lines, f"{path.name} is not UTF-8: read as Windows-1252 (cp1252); check accented names"
    return "latin-1", lines, f"{path.name} is not UTF-8: read as Latin-1; check accented names"


def _count_lines(path: Path, newline: bytes) -> int:
    count = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            count += block.count(newline)
    return count


def sniff_delimiter(header_line: str) -> str:
    """The delimiter of a CSV: the candidate found most often (outside quotes) in its header line."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties: the first in DELIMITERS
    return best if counts[best] else ","


def _open_csv(path: Path) -> Table:
    encoding, lines, warning = sniff_encoding(path)
    csv.field_size_limit(16 * 1024 * 1024)  # long cells are refused by the field rules, with their line
    with path.open(encoding=encoding, newline="") as handle:
        first = handle.readline()
        delimiter = sniff_delimiter(first)
        handle.seek(0)
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            headers = next(reader, None)
        except csv.Error as exc:
            raise RuleError(f"{path.name} line 1: {exc}") from None
    if not headers or not any(h.strip() for h in headers):
        raise RuleError(f"{path.name} is empty: the first line must name the columns")

    def rows() -> Iterator[tuple[int, list[str]]]:
        with path.open(encoding=encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            last = 0
            try:
                for number, cells in enumerate(reader):
                    start, last = last + 1, reader.line_num
                    if number:
                        yield start, cells
            except csv.Error as exc:
                raise RuleError(f"{path.name} line {last + 1}: {exc}") from None

    warnings = [warning] if warning else []
    return Table(path, "csv", [h.strip() for h in headers], rows, max(lines - 1, 0), encoding, delimiter,
                 warnings=warnings)


def cell_text(value: Any) -> str:
    """A spreadsheet cell as import text: dates as ISO, whole floats without '.0', booleans as yes/no."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def sheet_names(path: Path) -> list[str]:
    """The sheets of an .xlsx file, in workbook order; [] for a CSV. RuleError when it cannot be read."""
    if not path.exists():
        raise NotFound(f"there is no file {path}")
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return []
    book = _load_book(path)
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def _load_book(path: Path) -> Any:
    """An .xlsx workbook opened read-only (values, not formulas); RuleError when it is not one."""
    import zipfile

    from openpyxl import load_workbook

    try:
        return load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise RuleError(f"{path.name} is not a readable .xlsx file: {exc}") from None


def _sheet_rows(path: Path, ws: Any, min_row: int | None = None) -> Iterator[tuple[Any, ...]]:
    """A read-only sheet's rows of values; RuleError when its XML cannot be read (a read-only sheet is parsed
    while iterated: a character XML forbids, such as U+FFFF, which openpyxl itself writes, is found only then)."""
    import zipfile

    try:
        yield from ws.iter_rows(min_row=min_row, values_only=True)
    except (SyntaxError, zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:  # SyntaxError: XML ParseError
        raise RuleError(f"{path.name} is not a readable .xlsx file: {exc}") from None


def _open_xlsx(path: Path, sheet: str | None) -> Table:
    def open_sheet() -> Any:
        book = _load_book(path)
        if sheet is None:
            return book, book.worksheets[0]
        names = {name.casefold(): name for name in book.sheetnames}
        if sheet.casefold() not in names:
            book.close()
            raise RuleError(f"{path.name} has no sheet '{sheet}' (sheets: {', '.join(book.sheetnames)})")
        return book, book[names[sheet.casefold()]]

    book, ws = open_sheet()
    try:
        header_row = 0
        headers: list[str] = []
        for number, values in enumerate(_sheet_rows(path, ws), start=1):
            cells = [cell_text(v).strip() for v in values]
            if any(cells):
                header_row, headers = number, cells
                break
        while headers and not headers[-1]:
            headers.pop()
        total = max((ws.max_row or 0) - header_row, 0)
        title = ws.title
    finally:
        book.close()
    if not headers:
        raise RuleError(f"{path.name}: sheet '{title}' is empty: its first row must name the columns")

    def rows() -> Iterator[tuple[int, list[str]]]:
        book, ws = open_sheet()
        try:
            for number, values in enumerate(_sheet_rows(path, ws, header_row + 1), start=header_row + 1):
                yield number, [cell_text(v) for v in values]
        finally:
            book.close()

    return Table(path, "xlsx", headers, rows, total, sheet=title)
