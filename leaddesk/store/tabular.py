"""Reading tabular files for the import: CSV and Excel, streamed, never read whole.

- CSV in any common delimiter (`,` `;` tab `|`, taken from the header line) and encoding
  (`sniffing`: UTF-8 with or without BOM, UTF-16, else Windows-1252, else Latin-1, with a warning;
  binary, cut-off and mixed-encoding files refused), quoted newlines kept, every line bounded
  (`MAX_LINE_CHARS`); a file that ends inside quotes, or in the middle of a row, is refused as cut off;
- `.xlsx` through openpyxl in read-only mode (first sheet or a named one), imported lazily, after
  `check_archive` refused what is not a workbook or would inflate too far (a zip bomb).

Every refusal is a RuleError naming the file (and the line where there is one); the import runs in
one transaction, so a refusal met half way through a file leaves nothing imported.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

from leaddesk.store.errors import NotFound, RuleError
from leaddesk.store.sniffing import sniff_encoding

__all__ = ["Table", "cell_text", "check_archive", "open_table", "sheet_names", "sniff_delimiter", "sniff_encoding"]

DELIMITERS = (",", ";", "\t", "|")
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")

MAX_LINE_CHARS = 16 * 1024 * 1024
"""The longest line (and cell: csv's field size limit) of a CSV file: a longer one is refused with its line number
before it is held whole, so that memory stays flat on any file (no field takes more than 100,000 characters)."""

XLSX_MAX_INFLATED = 200 * 1024 * 1024
"""The most an .xlsx may hold once inflated, all its parts together (a sheet of 500,000 leads is about 180 MB).
Checked on the sizes the zip declares, before openpyxl reads anything; a part never inflates past its declared
size (zipfile stops there, and such a part then fails its CRC check), so a zip that lies about them gains nothing."""

XLSX_MAX_RATIO = 100
"""The most one part of an .xlsx larger than `XLSX_RATIO_FROM` may inflate per byte stored: the sheets Excel and
openpyxl write inflate 10 to 25 times, a zip bomb thousands of times."""

XLSX_RATIO_FROM = 1024 * 1024
"""Parts that inflate to less than this are not judged by their ratio (a small part may be very repetitive)."""


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


class _Lines:
    """A CSV file's lines for csv.reader, each read with a bound (`MAX_LINE_CHARS`): `count` lines given, `last`
    the latest, `ended` once the reader asked for a line past the end."""

    def __init__(self, handle: IO[str], path: Path, encoding: str) -> None:
        self.handle = handle
        self.path = path
        self.encoding = encoding
        self.count = 0
        self.last = ""
        self.ended = False

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        try:
            line = self.handle.readline(MAX_LINE_CHARS + 1)
        except UnicodeDecodeError as exc:  # the file changed since it was sniffed, or a broken UTF-16 pair
            raise RuleError(f"{self.path.name} line {self.count + 1} is not {self.encoding} text:"
                            f" {exc.reason}") from None
        if not line:
            self.ended = True
            raise StopIteration
        self.count += 1
        if len(line) > MAX_LINE_CHARS:
            raise RuleError(f"{self.path.name} line {self.count} is longer than {MAX_LINE_CHARS:,} characters:"
                            " not a CSV row this import reads")
        self.last = line
        return line


def _never_closed(path: Path, line: int) -> RuleError:
    return RuleError(f"{path.name} line {line}: a quoted value opened there is never closed (the file ends inside"
                     " the quotes): is the file cut off?")


def _open_csv(path: Path) -> Table:
    encoding, lines, warning = sniff_encoding(path)
    csv.field_size_limit(MAX_LINE_CHARS)  # long cells are refused by the field rules, with their line
    with path.open(encoding=encoding, newline="") as handle:
        first = next(_Lines(handle, path, encoding), "")
        delimiter = sniff_delimiter(first)
        handle.seek(0)
        header_lines = _Lines(handle, path, encoding)
        reader = csv.reader(header_lines, delimiter=delimiter)
        try:
            headers = next(reader, None)
        except csv.Error as exc:
            raise RuleError(f"{path.name} line 1: {exc}") from None
        if headers is not None and header_lines.ended:
            raise _never_closed(path, 1)
    if not headers or not any(h.strip() for h in headers):
        raise RuleError(f"{path.name} is empty: the first line must name the columns")
    width = len(headers)

    def rows() -> Iterator[tuple[int, list[str]]]:
        with path.open(encoding=encoding, newline="") as handle:
            lines = _Lines(handle, path, encoding)
            reader = csv.reader(lines, delimiter=delimiter)
            last = 0
            regular = True  # every row so far has a cell for every column
            try:
                for number, cells in enumerate(reader):
                    start, last = last + 1, reader.line_num
                    if lines.ended:
                        raise _never_closed(path, start)
                    if (number and regular and len(cells) < width and not lines.last.endswith(("\n", "\r"))
                            and any(c.strip() for c in cells)):
                        raise RuleError(f"{path.name} line {start}: the file ends in the middle of a row ({len(cells)}"
                                        f" of {width} columns, and no line end): it looks cut off")
                    regular = regular and len(cells) >= width
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


def check_archive(path: Path) -> None:
    """Refuse an .xlsx that is not a zip archive holding a workbook, or that would inflate past `XLSX_MAX_INFLATED`
    or `XLSX_MAX_RATIO` (a zip bomb), from its directory alone: before openpyxl reads any part of it."""
    import zipfile

    name = path.name
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise RuleError(f"{name} is not a readable .xlsx file: it is not a zip archive, as an .xlsx is"
                        " (cut off, or another format renamed?)") from None
    if not any(m.filename == "[Content_Types].xml" for m in members):
        raise RuleError(f"{name} is not a readable .xlsx file: a zip archive, but not an Excel workbook")
    total = 0
    for member in members:
        if member.flag_bits & 0x1:
            raise RuleError(f"{name} is not a readable .xlsx file: its part {member.filename} is encrypted")
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise RuleError(f"{name} is not a readable .xlsx file: its part {member.filename} is compressed in a way"
                            " Excel never writes")
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > XLSX_RATIO_FROM and ratio > XLSX_MAX_RATIO:
            raise RuleError(f"{name} is refused as a zip bomb: its part {member.filename} would inflate"
                            f" {ratio:,.0f} times (to {member.file_size:,} bytes; the limit is {XLSX_MAX_RATIO})")
        total += member.file_size
    if total > XLSX_MAX_INFLATED:
        raise RuleError(f"{name} would inflate to {total:,} bytes (the limit for an .xlsx is {XLSX_MAX_INFLATED:,}):"
                        " save it as .csv, which has no limit")


def _unreadable(path: Path, exc: Exception) -> RuleError:
    return RuleError(f"{path.name} is not a readable .xlsx file: {exc or type(exc).__name__}")


def _load_book(path: Path) -> Any:
    """An .xlsx workbook opened read-only (values, not formulas), after `check_archive`; RuleError when it is not
    one. openpyxl meets a malformed part with whatever its parsers raise (ParseError, TypeError from a bad
    attribute, IndexError, KeyError...): each is the file's fault, refused in one line."""
    from openpyxl import load_workbook

    check_archive(path)
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # see the docstring
        raise _unreadable(path, exc) from None


def _sheet_rows(path: Path, ws: Any, min_row: int | None = None) -> Iterator[tuple[Any, ...]]:
    """A read-only sheet's rows of values; RuleError when its XML cannot be read (a read-only sheet is parsed
    while iterated: a character XML forbids, such as U+FFFF, which openpyxl itself writes, is found only then;
    so is a part cut off or failing its CRC check)."""
    try:
        yield from ws.iter_rows(min_row=min_row, values_only=True)
    except Exception as exc:  # as in _load_book
        raise _unreadable(path, exc) from None


def _open_xlsx(path: Path, sheet: str | None) -> Table:
    def open_sheet() -> Any:
        book = _load_book(path)
        if not book.worksheets:
            book.close()
            raise RuleError(f"{path.name} is not a readable .xlsx file: it has no sheet")
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
