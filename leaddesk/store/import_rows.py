"""The part of an import that needs no database: a file's rows, mapped and checked field by field.

`RowChecker.chunks()` reads the file and turns every non-blank row into a `CheckedRow`: its cells
split into the new lead's values, status and closing values (`mapping`, `import_status`), the
unknown columns kept in the description, a missing required column, and every field whose rule
needs no database (names, email, phone, dates, money, text...) checked by `fields.prepare` itself.
The fields that need the database (source, owner, type...) are left to the importing process
(`import_checks.FieldMemo.finish`), which also keeps the order in which a lead typed by hand
would report the first bad field.

The same generator runs in the importing process (small files, the TUI) or in the helper process
of `import_worker` (large files from the command line), which streams its chunks through a pipe:
one code path, two places to run it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from leaddesk.settings import Settings
from leaddesk.store import fields
from leaddesk.store.errors import RuleError
from leaddesk.store.fields import TEXT_LIMIT
from leaddesk.store.import_status import CLOSING, Closing
from leaddesk.store.mapping import CUSTOM, ColumnMap
from leaddesk.store.tabular import Table

CHUNK = 500
CHUNK_CHARS = 2_000_000
"""A chunk also ends once its rows hold this many characters: a file of huge rows (a 1 MB cell each) is
imported with as flat a memory as one of small rows (a chunk crosses the pipe and waits to be written)."""
PURE_KINDS = {"name", "text", "longtext", "email", "phone", "priority", "probability", "money", "date", "int",
              "bant", "tags"}
# Values that repeat across rows (a city, a priority): each distinct one is checked once.
REPEATING_KINDS = {"priority", "probability", "date", "int", "bant", "tags"}
REPEATING_NAMES = {"city", "state", "country", "zone", "zip", "company", "website", "job_title", "campaign",
                   "medium", "source_detail"}
MEMO_LIMIT = 50_000
_CLOSING = frozenset(CLOSING)


class CheckedRow(NamedTuple):
    """One row of the file, with what can be checked without a database."""

    line: int
    cells: list[str] | str  # the row as read (`unpack_cells`), for the error file
    missing: str | None  # a required field the row has no value for
    given: dict[str, Any]  # the row's own values for the lead's fields (`columns` has the kept description);
    # only its custom values unless the checker keeps them all (an import that updates duplicates needs them)
    status: str | None
    closing: Closing | None  # None: the row carries no closing values
    kept: str  # the unknown columns as "Header: value" lines
    columns: dict[str, Any]  # the checked columns of the fields that need no database
    later: list[tuple[int, str, Any]]  # (position in given, field, value) of the fields that need the database
    error: tuple[int, str, str] | None  # (position, field, message): the first field refused here


def pure_fields() -> frozenset[str]:
    """The fields whose rules need no database."""
    return frozenset(f.name for f in fields.FIELDS.values() if f.kind in PURE_KINDS)


class _NoTx:
    """Stands for a transaction where none may be used: the pure fields never ask the database."""

    dialect = "none"
    lock_suffix = ""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError("a field that needs no database asked for it")


class RowChecker:
    """Turns a file's rows into `CheckedRow`s (see the module's docstring)."""

    def __init__(self, cmap: ColumnMap, settings: Settings, require: list[str], keep_unknown: bool,
                 keep_values: bool = True) -> None:
        self.cmap = cmap
        self.keep_values = keep_values
        self.pack = False  # set in the helper process: rows cross a pipe, where one string is cheaper than a list
        self.settings = settings
        self.require = require
        self.keep_unknown = keep_unknown
        self.pure = pure_fields()
        self.repeating = frozenset(f.name for f in fields.FIELDS.values()
                                   if f.name in self.pure and (f.kind in REPEATING_KINDS or f.name in REPEATING_NAMES))
        self.memo: dict[tuple[str, Any], dict[str, Any] | RuleError] = {}
        self.notx: Any = _NoTx()
        # The row loop's one lookup per field: None (left to the importing process), else (spec, repeating,
        # the column of a plain text field: see `check`).
        self._plan: dict[str, tuple[fields.LeadField, bool, str | None] | None] = {
            name: (spec, name in self.repeating, spec.column if spec.kind == "text" else None)
            if name in self.pure else None for name, spec in fields.FIELDS.items()}

    def chunks(self, table: Table, size: int = CHUNK) -> Iterator[list[CheckedRow]]:
        """The file's non-blank rows, checked, `size` at a time (fewer when they are large: `CHUNK_CHARS`)."""
        chunk: list[CheckedRow] = []
        held = 0
        for line, cells in table.rows():
            text = "".join(cells)
            if not text or text.isspace():
                continue
            chunk.append(self.check(line, cells))
            held += len(text)
            if len(chunk) >= size or held >= CHUNK_CHARS:
                yield chunk
                chunk = []
                held = 0
        if chunk:
            yield chunk

    def check(self, line: int, cells: list[str]) -> CheckedRow:
        """One row, mapped and checked."""
        values, extra = self.cmap.cells(cells)
        row_cells = pack_cells(cells) if self.pack else cells
        for target in self.require:
            present = values.get(target) or (target == "name" and (values.get("first_name")
                                                                   or values.get("last_name")))
            if not present:
                return CheckedRow(line, row_cells, target, {}, None, None, "", {}, [], None)
        given, status, closing = split_row(values)
        kept = ""
        new = given
        if extra and self.keep_unknown:
            kept = "\n".join(f"{header}: {value}" for header, value in extra.items())
            new = {**given, "description": with_kept(given.get("description"), kept)}
        columns: dict[str, Any] = {}
        later: list[tuple[int, str, Any]] = []
        error = None
        plan = self._plan
        for position, (name, value) in enumerate(new.items()):
            if name == "custom" or name == "job_value":
                continue  # checked by the importing process (custom fields) and `new_lead_row` (job value)
            how = plan.get(name)
            if how is None:
                later.append((position, name, value))
                continue
            spec, repeating, text_column = how
            if text_column is not None and value and value.__class__ is str and len(value) <= TEXT_LIMIT \
                    and "\x00" not in value:
                columns[text_column] = value  # what `fields.prepare_field` gives a cell (`ColumnMap.cells` strips it)
                continue
            checked = self._check_field(spec, value, repeating)
            if checked.__class__ is not dict:
                error = (position, name, str(checked))
                break
            columns.update(checked)  # type: ignore[arg-type]
        if not self.keep_values:
            given = {"custom": given["custom"]} if "custom" in given else {}
        return CheckedRow(line, row_cells, None, given, status, closing, kept, columns, later, error)

    def _check_field(self, spec: fields.LeadField, value: Any, repeating: bool) -> dict[str, Any] | RuleError:
        """One pure field's columns (or its refusal), remembered for values that repeat across rows."""
        if repeating:
            hit = self.memo.get((spec.name, value))
            if hit is not None:
                return hit
        try:
            checked: dict[str, Any] | RuleError = fields.prepare_field(self.notx, self.settings, spec, value)
        except RuleError as exc:
            checked = exc
        if repeating:
            if len(self.memo) >= MEMO_LIMIT:
                self.memo.clear()
            self.memo[(spec.name, value)] = checked
        return checked


CELL_SEPARATOR = "\x1f"


def pack_cells(cells: list[str]) -> list[str] | str:
    """A row's cells as one string when the separator occurs in none of them (it unpickles ~10x faster
    than a list of strings), else the list itself."""
    try:
        joined = CELL_SEPARATOR.join(cells)
    except TypeError:  # a cell that is not text
        return cells
    return joined if cells and joined.count(CELL_SEPARATOR) == len(cells) - 1 else cells


def unpack_cells(cells: list[str] | str) -> list[str]:
    """The list of cells `pack_cells` packed."""
    return cells.split(CELL_SEPARATOR) if isinstance(cells, str) else cells


_GIVEN, _STATUS, _CLOSING_VALUE, _CUSTOM_VALUE, _SKIPPED = "given", "status", "closing", "custom", "skipped"
_ROLES: dict[str, str] = {}  # target -> its role in `split_row` (a handful of targets: filled as they come)


def _role_of(target: str) -> str:
    if target == "name" or target == "number":
        return _SKIPPED
    if target == "status":
        return _STATUS
    if target in _CLOSING:
        return _CLOSING_VALUE
    return _CUSTOM_VALUE if target.startswith(CUSTOM) else _GIVEN


def split_row(values: dict[str, str]) -> tuple[dict[str, Any], str | None, Closing | None]:
    """A row's mapped cells (`ColumnMap.cells`) as (the new lead's values, status, closing values): what
    `mapping.lead_values` and `import_status.split_closing` give after `ColumnMap.values`, in one pass.
    The name comes first (from First + Last when there is no name) so that explicit first and last
    names, applied after it, win."""
    given: dict[str, Any] = {}
    name = values.get("name")
    if name is None and ("first_name" in values or "last_name" in values):
        name = " ".join(values[k] for k in ("first_name", "last_name") if k in values)
    if name is not None:
        given["name"] = name
    custom: dict[str, str] | None = None
    closing: dict[str, str] = {}
    status = None
    roles = _ROLES
    for target, value in values.items():
        role = roles.get(target)
        if role is None:
            role = roles[target] = _role_of(target)
        if role is _GIVEN:
            given[target] = value
        elif role is _STATUS:
            status = value
        elif role is _CLOSING_VALUE:
            closing[target] = value
        elif role is _CUSTOM_VALUE:
            if custom is None:
                custom = {}
            custom[target[len(CUSTOM):]] = value
    if custom:
        given["custom"] = custom
    return given, status, Closing(**closing) if closing else None


def with_kept(description: str | None, kept: str) -> str:
    """A description with the unknown columns' lines added (once)."""
    if not kept or (description and kept in description):
        return description or ""
    return f"{description}\n\n{kept}" if description else kept
