"""Importing leads from CSV and Excel files, in bulk, with the rules of a lead typed by hand.

How it works:
- `open_table()` reads a file's header and streams its rows: CSV in any common delimiter
  (`,` `;` tab `|`, taken from the header line) and encoding (UTF-8 with or without BOM,
  UTF-16 with BOM, else Windows-1252, else Latin-1, with a warning), quoted newlines kept;
  `.xlsx` through openpyxl in read-only mode (first sheet or a named one).
- `mapping.map_columns()` matches the headers to fields.
- `run_import()` validates every row with `leads.new_lead_row()` (the same code `add_lead`
  uses; `fields.prepare` behind it, memoised per distinct value) and writes the good rows in
  chunks with one multi-row insert each (`executemany` on SQLite). Memory stays flat: rows are
  streamed, duplicates are looked up per chunk in the database (where earlier rows of the same
  file already are), and only the first problems are kept for the report; every row that is not
  imported goes to the error CSV with its reason.
- All of one import is one transaction: a killed import leaves nothing (no leads, no batch).
  A dry run is the same transaction rolled back by the caller.
- History: one `create` row per imported lead (field `import_batch_id`, the batch), not one row
  per field as `add_lead` writes: the batch row keeps the file and options, the lead its values.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from leaddesk.settings import Settings
from leaddesk.store import fields, leads
from leaddesk.store.context import Ctx
from leaddesk.store.db import Tx
from leaddesk.store.errors import NotFound, RuleError
from leaddesk.store.mapping import CUSTOM, ColumnMap, lead_values, map_columns, norm, resolve_field

CHUNK = 500
SHOWN = 50  # problems kept for the report (all of them go to the error file)
ERROR_COLUMN = "error"
ON_DUPLICATE = ("skip", "update", "create")
UNKNOWN = ("keep", "ignore")
SEED_001 = ("contact_name", "phone", "source", "company_name", "email", "address", "city", "state", "priority",
            "description")
SEED_001_REQUIRED = ("name", "phone", "source")
DELIMITERS = (",", ";", "\t", "|")
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")


# -- reading files -------------------------------------------------------------------------------
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


def _open_xlsx(path: Path, sheet: str | None) -> Table:
    import zipfile

    from openpyxl import load_workbook

    def open_sheet() -> Any:
        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
            raise RuleError(f"{path.name} is not a readable .xlsx file: {exc}") from None
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
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
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
            for number, values in enumerate(ws.iter_rows(min_row=header_row + 1, values_only=True),
                                            start=header_row + 1):
                yield number, [cell_text(v) for v in values]
        finally:
            book.close()

    return Table(path, "xlsx", headers, rows, total, sheet=title)


# -- validation, memoised ------------------------------------------------------------------------
CATALOG_TABLES = {"source", "item", "lead_type", "contact_method", "partner", '"user"', "user", "status",
                  "lead_type_status", "lost_reason", "customer"}
_TABLES_RE = re.compile(r"\b(?:FROM|JOIN)\s+(\"?\w+\"?)", re.IGNORECASE)


class CachingTx:
    """A transaction that remembers the answers of reads on the catalog (sources, users, statuses...):
    they do not change during an import, and `fields.prepare` asks them for every row."""

    def __init__(self, tx: Tx) -> None:
        self.inner = tx
        self.dialect = tx.dialect
        self.lock_suffix = tx.lock_suffix
        self._memo: dict[tuple[str, str, tuple[Any, ...]], Any] = {}
        self._cacheable: dict[str, bool] = {}

    def _cached(self, kind: str, sql: str, params: Any, run: Callable[[], Any]) -> Any:
        cacheable = self._cacheable.get(sql)
        if cacheable is None:
            tables = _TABLES_RE.findall(sql)
            cacheable = (sql.lstrip().upper().startswith("SELECT") and bool(tables)
                         and all(t.lower() in CATALOG_TABLES for t in tables))
            self._cacheable[sql] = cacheable
        if not cacheable:
            return run()
        key = (kind, sql, tuple(sorted((params or {}).items())))
        if key not in self._memo:
            self._memo[key] = run()
        return self._memo[key]

    def all(self, sql: str, params: Any = None) -> list[Any]:
        """All rows (remembered for catalog reads)."""
        return list(self._cached("all", sql, params, lambda: self.inner.all(sql, params)))

    def one(self, sql: str, params: Any = None) -> Any | None:
        """The first row (remembered for catalog reads)."""
        return self._cached("one", sql, params, lambda: self.inner.one(sql, params))

    def scalar(self, sql: str, params: Any = None) -> Any:
        """The first column of the first row (remembered for catalog reads)."""
        return self._cached("scalar", sql, params, lambda: self.inner.scalar(sql, params))

    def execute(self, sql: str, params: Any = None) -> int:
        """A write: forgets what was remembered."""
        self._memo.clear()
        return self.inner.execute(sql, params)

    def insert(self, sql: str, params: Any = None) -> int:
        """An insert: forgets what was remembered."""
        self._memo.clear()
        return self.inner.insert(sql, params)


class FieldError(RuleError):
    """A field value refused by the field rules; knows which field."""

    def __init__(self, target: str, message: str) -> None:
        super().__init__(message)
        self.target = target


# Fields whose values repeat across rows: each distinct value is validated once.
REPEATING = {"source", "city", "state", "country", "zone", "priority", "tags", "owner", "partner", "type", "item",
             "contact_method", "campaign", "medium", "followup", "expected_close", "probability", "expected_revenue",
             "score", "job_title", "zip", "company", "website", "source_detail", "bant_budget", "bant_authority",
             "bant_need", "bant_timeline"}
MEMO_LIMIT = 50_000


class FieldMemo:
    """`fields.prepare`, one field at a time (to say which one is wrong), remembering repeated values."""

    def __init__(self) -> None:
        self.memo: dict[tuple[str, str], dict[str, Any] | FieldError] = {}
        self.ready: dict[tuple[str, str], dict[str, Any] | FieldError] = {}  # checked by the helper process
        self.statuses: dict[tuple[str | None, Any], int | RuleError] = {}

    def prepare(self, tx: Tx, settings: Settings, given: dict[str, Any]) -> dict[str, Any]:
        """Column values for `given`, like `fields.prepare`; FieldError names the failing field."""
        columns: dict[str, Any] = {}
        for name, value in given.items():
            if name == "custom":
                continue
            key = (name, value)
            hit = self.memo.get(key) if name in REPEATING else self.ready.get(key)
            if hit is None:
                try:
                    hit = fields.prepare(tx, settings, {name: value})
                except RuleError as exc:
                    hit = FieldError(name, str(exc))
                if name in REPEATING:
                    if len(self.memo) >= MEMO_LIMIT:
                        self.memo.clear()
                    self.memo[key] = hit
            if isinstance(hit, FieldError):
                raise FieldError(hit.target, str(hit))
            columns.update(hit)
        return columns

    def initial_status(self, ctx: Ctx, row: dict[str, Any], status: str | None) -> int:
        """`leads._initial_status`, once per distinct (status, lead type)."""
        key = (status, row.get("type_id"))
        hit = self.statuses.get(key)
        if hit is None:
            try:
                hit = leads._initial_status(ctx, row, status)
            except RuleError as exc:
                hit = exc
            self.statuses[key] = hit
        if isinstance(hit, RuleError):
            raise RuleError(str(hit))
        return hit

    def check_custom(self, settings: Settings, custom: dict[str, Any]) -> None:
        """Refuse a bad custom field value with its field named."""
        for name, value in custom.items():
            spec = settings.custom_fields.get(name)
            if spec is None:
                raise FieldError(CUSTOM + name, f"unknown custom field '{name}'")
            try:
                fields.parse_custom_value(spec, value)
            except RuleError as exc:
                raise FieldError(CUSTOM + name, str(exc)) from None


# -- a helper process for the field rules that need no database ----------------------------------
# On a large file the rules that need no database (email and phone above all, names, free text)
# run in a second process one chunk ahead of the main loop, which meanwhile checks the rest,
# looks for duplicates and writes. Same functions (`fields.prepare`), other CPU.
WORKER_FROM = 5000  # estimated rows; smaller files are checked in the main process only
PURE_KINDS = {"name", "text", "longtext", "email", "phone", "priority", "probability", "money", "date", "int",
              "bant", "tags"}


def worker_fields() -> set[str]:
    """The fields the helper process checks: those needing no database that rarely repeat."""
    return {f.name for f in fields.FIELDS.values() if f.kind in PURE_KINDS and f.name not in REPEATING}


class _NoTx:
    """Stands for a transaction where none may be used (the helper process has no database)."""

    dialect = "none"
    lock_suffix = ""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError("the import helper process has no database")


def _speed_up_email_domains() -> None:
    """In the helper process only: remember email_validator's domain check per domain (a pure function
    of the domain; most addresses share a few domains). Nothing changes if the library differs."""
    import functools
    import sys

    import email_validator  # noqa: F401 - loads the submodule patched below

    module = sys.modules.get("email_validator.validate_email")
    check = getattr(module, "validate_email_domain_name", None)
    if module is not None and callable(check):
        module.validate_email_domain_name = functools.lru_cache(maxsize=4096)(check)  # type: ignore[attr-defined]


def _worker(conn: Any, parent_end: Any, settings: Settings) -> None:
    parent_end.close()  # so that the parent's death reads as end of file here
    _speed_up_email_domains()
    notx: Any = _NoTx()
    while True:
        try:
            items = conn.recv()
        except (EOFError, OSError):
            return
        if items is None:
            return
        out: list[tuple[bool, Any]] = []
        for name, value in items:
            try:
                out.append((True, fields.prepare(notx, settings, {name: value})))
            except RuleError as exc:
                out.append((False, str(exc)))
        try:
            conn.send(out)
        except OSError:
            return


class FieldWorker:
    """The helper process and a thread that feeds it, so that sending never waits on receiving."""

    def __init__(self, settings: Settings) -> None:
        import multiprocessing
        import queue
        import threading

        context = multiprocessing.get_context("fork")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker, args=(child, self.conn, settings), daemon=True)
        self.process.start()
        child.close()
        self.outbox: queue.Queue[Any] = queue.Queue()
        self.sender = threading.Thread(target=self._send, daemon=True)
        self.sender.start()

    def _send(self) -> None:
        while True:
            items = self.outbox.get()
            try:
                self.conn.send(items)
            except OSError:
                return
            if items is None:
                return

    def submit(self, items: list[tuple[str, str]]) -> None:
        """Queue a chunk's (field, value) pairs; results come back in order from `results()`."""
        self.outbox.put(items)

    def results(self, items: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any] | FieldError]:
        """The checked values of the oldest submitted chunk."""
        answers = self.conn.recv()
        return {key: (value if ok else FieldError(key[0], value))
                for key, (ok, value) in zip(items, answers, strict=True)}

    def close(self) -> None:
        """Stop the helper process."""
        self.outbox.put(None)
        self.sender.join(timeout=5)
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.terminate()
        self.conn.close()


def use_worker(total: int) -> bool:
    """A helper process pays off on large files, on Linux, with more than one CPU. It is forked, so only
    from a single-threaded process (the command line): forking beside other threads (the TUI runs imports
    in a worker thread) could copy a lock another thread holds; there the import runs in one process."""
    import os
    import sys
    import threading

    return (total >= WORKER_FROM and sys.platform.startswith("linux") and (os.cpu_count() or 1) > 1
            and threading.active_count() == 1)


# -- the import ----------------------------------------------------------------------------------
class DryRunDone(Exception):
    """Raised inside the import transaction of a dry run so that it rolls back."""

    def __init__(self, summary: dict[str, Any]) -> None:
        super().__init__("dry run")
        self.summary = summary


@dataclass
class ImportOptions:
    """What the user chose for an import."""

    overrides: dict[str, str] = field(default_factory=dict)
    on_duplicate: str = "skip"
    unknown: str = "keep"
    sheet: str | None = None
    require: list[str] | None = None  # None: seed 001's required columns when the file is in its format
    errors_path: Path | None = None  # None: FILE.errors.csv next to the input
    dry_run: bool = False

    def check(self) -> None:
        """Refuse unknown choices."""
        if self.on_duplicate not in ON_DUPLICATE:
            raise RuleError(f"--on-duplicate must be {', '.join(ON_DUPLICATE)}, not '{self.on_duplicate}'")
        if self.unknown not in UNKNOWN:
            raise RuleError(f"--unknown must be keep or ignore, not '{self.unknown}'")


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


@dataclass
class Plan:
    """A file opened and mapped, ready to import (or to preview)."""

    table: Table
    cmap: ColumnMap
    require: list[str]
    options: ImportOptions
    notes: list[str] = field(default_factory=list)


def plan_import(path: Path, settings: Settings, options: ImportOptions) -> Plan:
    """Open the file and map its columns; refuse a bad mapping before anything is written."""
    options.check()
    table = open_table(path, options.sheet)
    errors = options.errors_path or error_path_for(path)
    if errors.resolve() == path.resolve():
        raise RuleError(f"the error file cannot be the file being imported ({path})")
    overrides = dict(options.overrides)
    if ERROR_COLUMN in table.headers and not any(norm(k) == ERROR_COLUMN for k in overrides):
        overrides[ERROR_COLUMN] = "-"  # a fixed error file: its error column is ours, not data
    cmap = map_columns(table.headers, overrides, settings)
    notes = list(table.warnings)
    if options.require is None:
        seed = set(SEED_001)
        require = list(SEED_001_REQUIRED) if "contact_name" in table.headers and set(table.headers) <= (
            seed | {ERROR_COLUMN}) else []
    else:
        require = []
        for name in options.require:
            target = resolve_field(name, settings)
            if target is not None and target not in require:
                require.append(target)
    mapped = set(cmap.fields.values())
    for target in require:
        if target not in mapped and not (target == "name" and {"first_name", "last_name"} & mapped):
            raise RuleError(f"{path.name} has no column for the required field '{target}'")
    if not mapped - {"number"}:
        raise RuleError(f"{path.name}: no column matches a lead field (columns: {', '.join(table.headers)});"
                        " name them with --map \"Header=field\"")
    numbered = [table.headers[i] for i, t in cmap.fields.items() if t == "number"]
    if numbered:
        notes.append(f"column '{numbered[0]}' is not imported: this desk gives its own lead numbers")
    if cmap.unknown:
        what = "kept in the description" if options.unknown == "keep" else "ignored (--unknown ignore)"
        notes.append(f"columns not matched to a field, {what}: {', '.join(cmap.unknown)}")
    return Plan(table, cmap, require, options, notes)


def preview(plan: Plan, rows: int = 5) -> dict[str, Any]:
    """The mapping and the first rows as they would be read (no database needed)."""
    sample = []
    for count, (line, cells) in enumerate(plan.table.rows()):
        if count >= rows:
            break
        values, extra = plan.cmap.values(cells)
        sample.append({"line": line, "values": values, "unknown": extra})
    return {"file": str(plan.table.path), "kind": plan.table.kind, "encoding": plan.table.encoding,
            "delimiter": plan.table.delimiter, "sheet": plan.table.sheet, "rows": plan.table.total,
            "mapping": [{"column": h, "field": t} for h, t in plan.cmap.describe()], "required": plan.require,
            "notes": plan.notes, "sample": sample}


@dataclass
class Candidate:
    """A valid row waiting for its duplicate check and insert."""

    line: int
    cells: list[str]
    row: dict[str, Any]
    given: dict[str, Any]  # the row's own values (without the unknown columns)
    status: str | None = None
    kept: str = ""  # the unknown columns as "Header: value" lines, for the description


@dataclass
class Run:
    """The state of one import while it runs."""

    ctx: Ctx
    plan: Plan
    batch_id: int
    memo: FieldMemo = field(default_factory=FieldMemo)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("read", "imported", "updated", "duplicates", "rejected", "warnings"), 0))
    problems: list[Problem] = field(default_factory=list)
    next_number: int | None = None
    errors: ErrorFile | None = None
    pending: list[Candidate] = field(default_factory=list)
    seen: dict[str, tuple[int, int]] = field(default_factory=dict)  # key -> (number, line) in this chunk


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


def error_path_for(path: Path) -> Path:
    """Where the error CSV of an import goes: FILE.errors.csv next to the input."""
    return path.with_name(f"{path.stem}.errors.csv")


def assign_owners(ctx: Ctx, rows: list[dict[str, Any]]) -> None:
    """Hook for the assignment rules of the team-desk issue (issue 5): called on every chunk of new lead
    rows before they are inserted, it may set `owner_id` (rows without an owner column default to the
    importing user, as a lead typed by hand does). It does nothing yet."""
    return None


def run_import(ctx: Ctx, plan: Plan, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Import every row of a planned file inside the caller's transaction; return the summary."""
    options = plan.options
    tx = CachingTx(ctx.tx)
    run_ctx = replace(ctx, tx=tx)
    batch_options = {"mapping": {h: t for h, t in plan.cmap.describe()}, "on_duplicate": options.on_duplicate,
                     "unknown": options.unknown, "sheet": plan.table.sheet, "require": plan.require,
                     "encoding": plan.table.encoding, "delimiter": plan.table.delimiter, "change_id": ctx.change_id}
    batch_id = tx.insert(
        "INSERT INTO import_batch (file, user_id, at, state, options) VALUES (:f, :u, :at, 'running', :o)",
        {"f": str(plan.table.path), "u": ctx.user_id, "at": ctx.at, "o": json.dumps(batch_options)})
    run = Run(run_ctx, plan, batch_id)
    write_errors = options.errors_path is not None or not options.dry_run
    if write_errors:
        run.errors = ErrorFile(options.errors_path or error_path_for(plan.table.path), plan.table.headers)
    worker = FieldWorker(ctx.settings) if use_worker(plan.table.total) else None
    to_worker = worker_fields()
    complete = False
    try:
        ahead: tuple[list[tuple[int, list[str], Any]], list[tuple[str, str]]] | None = None
        for chunk in _mapped_chunks(plan):
            items: list[tuple[str, str]] = []
            if worker is not None:
                items = list({(t, v) for _line, _cells, (values, _extra) in chunk for t, v in values.items()
                              if t in to_worker})
                worker.submit(items)
            if ahead is not None:
                _process(run, ahead, worker, progress)
            ahead = (chunk, items)
        if ahead is not None:
            _process(run, ahead, worker, progress)
        if progress:
            progress(run.counts["read"], run.counts["read"])  # the total was an estimate: now it is known
        complete = True
    finally:
        if worker is not None:
            worker.close()
        if run.errors is not None:
            run.errors.close(complete)
    if run.next_number is not None:
        tx.execute("UPDATE setting SET value = :n WHERE key = 'last_lead_number'", {"n": str(run.next_number - 1)})
    counts = run.counts
    tx.execute(
        "UPDATE import_batch SET state = 'done', rows_read = :r, imported = :i, updated = :up, duplicates = :d,"
        " rejected = :x WHERE id = :b",
        {"r": counts["read"], "i": counts["imported"], "up": counts["updated"], "d": counts["duplicates"],
         "x": counts["rejected"], "b": batch_id})
    ctx.record("import_batch", batch_id, "create", "file", None, str(plan.table.path))
    return {
        "batch": batch_id, "file": str(plan.table.path), "dry_run": options.dry_run, **counts,
        "on_duplicate": options.on_duplicate, "unknown": options.unknown, "required": plan.require,
        "mapping": [{"column": h, "field": t} for h, t in plan.cmap.describe()], "notes": plan.notes,
        "problems": [p.__dict__ for p in sorted(run.problems, key=lambda p: p.line)], "more_problems": max(
            counts["rejected"] + counts["duplicates"] + counts["warnings"] - len(run.problems), 0),
        "error_file": str(run.errors.path) if run.errors is not None and run.errors.count else None,
    }


def _report(run: Run, problem: Problem, cells: list[str] | None = None) -> None:
    if len(run.problems) < SHOWN:
        run.problems.append(problem)
    if cells is not None and run.errors is not None:
        run.errors.write(cells, problem.text() if problem.kind == "rejected" else f"{problem.kind}: {problem.text()}")


def _headers_of(cmap: ColumnMap, target: str) -> str:
    names = [cmap.headers[i] for i, t in cmap.fields.items() if t == target]
    return " / ".join(names) if names else target


def _mapped_chunks(plan: Plan) -> Iterator[list[tuple[int, list[str], Any]]]:
    """The file's non-blank rows with their mapped values, CHUNK rows at a time."""
    chunk: list[tuple[int, list[str], Any]] = []
    values = plan.cmap.values
    for line, cells in plan.table.rows():
        if not any(c.strip() for c in cells if c):
            continue
        chunk.append((line, cells, values(cells)))
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _process(run: Run, ahead: tuple[list[tuple[int, list[str], Any]], list[tuple[str, str]]],
             worker: FieldWorker | None, progress: Callable[[int, int], None] | None) -> None:
    """Check, de-duplicate and write one chunk."""
    chunk, items = ahead
    run.memo.ready = worker.results(items) if worker is not None else {}
    for line, cells, mapped in chunk:
        run.counts["read"] += 1
        _take(run, line, cells, mapped)
    _flush(run)
    if progress:
        progress(run.counts["read"], run.plan.table.total)


def _take(run: Run, line: int, cells: list[str], mapped: tuple[dict[str, str], dict[str, str]]) -> None:
    """Validate one row; a good one waits in `pending`."""
    plan, ctx = run.plan, run.ctx
    values, extra = mapped
    for target in plan.require:
        present = values.get(target) or (target == "name" and (values.get("first_name") or values.get("last_name")))
        if not present:
            run.counts["rejected"] += 1
            _report(run, Problem(line, "rejected", _headers_of(plan.cmap, target), f"{target} is required"), cells)
            return
    given, status = lead_values(values)
    kept = ""
    new = given
    if extra and plan.options.unknown == "keep":
        kept = "\n".join(f"{header}: {value}" for header, value in extra.items())
        new = {**given, "description": _with_kept(given.get("description"), kept)}
    try:
        run.memo.check_custom(ctx.settings, given.get("custom") or {})
        row = leads.new_lead_row(ctx, new, status=status, prepare_values=run.memo.prepare,
                                 initial_status=run.memo.initial_status)
    except FieldError as exc:
        run.counts["rejected"] += 1
        _report(run, Problem(line, "rejected", _headers_of(plan.cmap, exc.target), str(exc)), cells)
        return
    except RuleError as exc:
        message = str(exc)
        if message.startswith("a lead needs"):
            column = _headers_of(plan.cmap, "name") + " / " + _headers_of(plan.cmap, "company")
        elif status is not None:
            column = _headers_of(plan.cmap, "status")
        else:
            column = ""
        run.counts["rejected"] += 1
        _report(run, Problem(line, "rejected", column, message), cells)
        return
    if row.get("phone") and not row.get("phone_e164"):
        run.counts["warnings"] += 1
        _report(run, Problem(line, "warning", _headers_of(plan.cmap, "phone"),
                             f"phone '{row['phone']}' is not a full number: imported as typed, not used to find"
                             " duplicates"))
    run.pending.append(Candidate(line, cells, row, given, status, kept))


def _with_kept(description: str | None, kept: str) -> str:
    """A description with the unknown columns' lines added (once)."""
    if not kept or (description and kept in description):
        return description or ""
    return f"{description}\n\n{kept}" if description else kept


def _keys(row: dict[str, Any]) -> list[tuple[str, str]]:
    keys = []
    if row.get("phone_e164"):
        keys.append(("phone", row["phone_e164"]))
    if row.get("email_lower"):
        keys.append(("email", row["email_lower"]))
    return keys


def _existing(tx: Tx, pending: list[Candidate]) -> dict[tuple[str, str], dict[str, Any]]:
    """Leads already in the database (earlier rows of this file included) with a chunk's phones or emails."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for kind, column in (("phone", "phone_e164"), ("email", "email_lower")):
        wanted = sorted({value for c in pending for k, value in _keys(c.row) if k == kind})
        for start in range(0, len(wanted), 400):
            part = wanted[start:start + 400]
            params = {f"k{i}": v for i, v in enumerate(part)}
            marks = ", ".join(f":k{i}" for i in range(len(part)))
            for r in tx.all(f"SELECT id, number, import_batch_id, {column} AS k FROM lead WHERE {column} IN ({marks})"
                            " ORDER BY number", params):
                found.setdefault((kind, r["k"]), dict(r))
    return found


def _flush(run: Run) -> None:
    """Check a chunk's rows for duplicates, then insert the new ones (or update the matches)."""
    if not run.pending:
        return
    ctx, plan = run.ctx, run.plan
    mode = plan.options.on_duplicate
    existing = _existing(ctx.tx, run.pending)
    run.seen = {}
    inserts: list[Candidate] = []
    for cand in run.pending:
        match = None
        for key in _keys(cand.row):
            if key in existing:
                lead = existing[key]
                same_file = lead["import_batch_id"] == run.batch_id
                match = (key[0], int(lead["number"]), "an earlier row of this file" if same_file else "")
                break
            if f"{key[0]}:{key[1]}" in run.seen:
                number, line = run.seen[f"{key[0]}:{key[1]}"]
                match = (key[0], number, f"line {line} of this file")
                break
        if match is not None and mode != "create":
            kind, number, where = match
            run.counts["duplicates"] += 1
            if mode == "skip":
                what = f"lead {number}" + (f", {where}" if where else "")
                _report(run, Problem(cand.line, "duplicate", _headers_of(plan.cmap, kind),
                                     f"same {kind} as {what}: skipped (--on-duplicate skip)"), cand.cells)
                continue
            if where.startswith("line"):  # the match is a row of this chunk: write it first
                _insert(run, inserts)
                inserts = []
            _update(run, cand, number)
            continue
        if match is not None:
            run.counts["duplicates"] += 1
        if run.next_number is None:
            run.next_number = leads.next_number(ctx)
        cand.row["number"] = run.next_number
        run.next_number += 1
        for kind, value in _keys(cand.row):
            run.seen.setdefault(f"{kind}:{value}", (cand.row["number"], cand.line))
        inserts.append(cand)
    _insert(run, inserts)
    run.pending = []


def _update(run: Run, cand: Candidate, number: int) -> None:
    """--on-duplicate update: the row's non-empty fields go into the existing lead (as an edit would)."""
    ctx = run.ctx
    lead_id = ctx.tx.scalar("SELECT id FROM lead WHERE number = :n", {"n": number})
    from leaddesk.store.refs import load_lead

    lead = load_lead(ctx.tx, int(lead_id))
    given = {k: v for k, v in cand.given.items() if v not in (None, "")}
    if cand.kept:  # the unknown columns are added to the description, never replace it
        given["description"] = _with_kept(given.get("description") or lead["description"], cand.kept)
    ctx.tx.execute("SAVEPOINT import_update")  # an update is all of the row or nothing
    column = ""
    try:
        lead = leads.edit_lead(ctx, lead, given)
        if cand.status:
            column = _headers_of(run.plan.cmap, "status")
            leads.set_status(ctx, lead, cand.status, reopen=False)
    except RuleError as exc:
        ctx.tx.execute("ROLLBACK TO SAVEPOINT import_update")
        run.counts["rejected"] += 1
        run.counts["duplicates"] -= 1
        _report(run, Problem(cand.line, "rejected", column, f"cannot update lead {number}: {exc}"), cand.cells)
        return
    finally:
        ctx.tx.execute("RELEASE SAVEPOINT import_update")
    run.counts["updated"] += 1


def _insert(run: Run, cands: list[Candidate]) -> None:
    if not cands:
        return
    ctx = run.ctx
    rows = [c.row for c in cands]
    assign_owners(ctx, rows)
    for row in rows:
        row["created_at"] = row["updated_at"] = ctx.at
        row["import_batch_id"] = run.batch_id
    insert_many(ctx.tx, "lead", rows)
    ctx.tx.inner.execute(  # type: ignore[attr-defined]
        "INSERT INTO history (change_id, entity, entity_id, action, field, old, new, user_id, at, origin)"
        " SELECT :c, 'lead', id, 'create', 'import_batch_id', NULL, :b, :u, :at, :o FROM lead"
        " WHERE number >= :lo AND number <= :hi",
        {"c": ctx.change_id, "b": str(run.batch_id), "u": ctx.user_id, "at": ctx.at, "o": ctx.origin,
         "lo": rows[0]["number"], "hi": rows[-1]["number"]})
    run.counts["imported"] += len(rows)


def insert_many(tx: Tx, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert rows in as few statements as possible: one `executemany` per set of columns on SQLite,
    one statement per row elsewhere (the portable path)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    inner = tx.inner if isinstance(tx, CachingTx) else tx
    conn = getattr(inner, "conn", None)
    for columns, group in groups.items():
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"
        if inner.dialect == "sqlite" and conn is not None and hasattr(conn, "executemany"):
            conn.executemany(sql, group)
        else:
            for row in group:
                inner.execute(sql, row)


# -- batches -------------------------------------------------------------------------------------
def list_batches(tx: Tx, limit: int = 50) -> list[dict[str, Any]]:
    """The latest imports, newest first, with how many of their leads are still there."""
    rows = tx.all(
        "SELECT b.id, b.file, b.at, b.state, b.rows_read, b.imported, b.updated, b.duplicates, b.rejected,"
        " b.options, u.login AS user, (SELECT count(*) FROM lead l WHERE l.import_batch_id = b.id) AS leads"
        " FROM import_batch b LEFT JOIN \"user\" u ON u.id = b.user_id ORDER BY b.id DESC LIMIT :n", {"n": limit})
    out = []
    for r in rows:
        item = dict(r)
        try:
            item["options"] = json.loads(item["options"] or "{}")
        except ValueError:
            item["options"] = {}
        out.append(item)
    return out


UNTOUCHED = (
    "l.import_batch_id = :b AND l.version = 1 AND l.updated_at = l.created_at"
    " AND NOT EXISTS (SELECT 1 FROM activity a WHERE a.lead_id = l.id)"
    " AND NOT EXISTS (SELECT 1 FROM deal d WHERE d.lead_id = l.id)"
    " AND NOT EXISTS (SELECT 1 FROM lead_merge m WHERE m.keep_id = l.id)"
    " AND NOT EXISTS (SELECT 1 FROM history h WHERE h.entity = 'lead' AND h.entity_id = l.id"
    " AND h.change_id <> :c AND h.change_id <> :cid)"  # :cid, the undo itself (its delete rows come first)
)


def undo_batch(ctx: Ctx, batch_id: int) -> dict[str, Any]:
    """Remove the leads an import created that nobody touched since; report the others."""
    batch = ctx.tx.one("SELECT id, file, state, options, updated FROM import_batch WHERE id = :b", {"b": batch_id})
    if batch is None:
        raise NotFound(f"there is no import batch {batch_id} (see `leaddesk import --list`)")
    try:
        change = json.loads(batch["options"] or "{}").get("change_id", "")
    except ValueError:
        change = ""
    params = {"b": batch_id, "c": change, "cid": ctx.change_id}
    total = int(ctx.tx.scalar("SELECT count(*) FROM lead WHERE import_batch_id = :b", params))
    if batch["state"] == "undone" and total == 0:
        raise RuleError(f"import batch {batch_id} is already undone")
    ctx.tx.execute(
        "INSERT INTO history (change_id, entity, entity_id, action, field, old, new, user_id, at, origin)"
        " SELECT :cid, 'lead', l.id, 'delete', 'number', CAST(l.number AS TEXT), NULL, :u, :at, :o"
        f" FROM lead l WHERE {UNTOUCHED}",
        {**params, "u": ctx.user_id, "at": ctx.at, "o": ctx.origin})
    removed = ctx.tx.execute(f"DELETE FROM lead WHERE id IN (SELECT l.id FROM lead l WHERE {UNTOUCHED})", params)
    kept = [int(r["number"]) for r in ctx.tx.all(
        "SELECT number FROM lead WHERE import_batch_id = :b ORDER BY number LIMIT 20", params)]
    kept_count = total - removed
    ctx.tx.execute("UPDATE import_batch SET state = 'undone' WHERE id = :b", params)
    ctx.record("import_batch", batch_id, "undo", "state", batch["state"], "undone")
    return {"batch": batch_id, "file": batch["file"], "removed": removed, "kept": kept_count, "kept_numbers": kept,
            "updated": int(batch["updated"] or 0)}
