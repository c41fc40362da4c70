"""Checking imported values row by row with the rules of a lead typed by hand, fast.

- `CachingTx` remembers the catalog reads (sources, users, statuses...) `fields.prepare` makes
  for every row: they do not change during an import.
- `FieldMemo` checks the fields that need the database (after `import_rows` checked the others),
  one field at a time (to say which field is wrong), remembering the verdict for values that
  repeat across rows; and the status a row names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from leaddesk.settings import Settings
from leaddesk.store import fields, leads
from leaddesk.store.context import Ctx
from leaddesk.store.db import Tx
from leaddesk.store.errors import RuleError

if TYPE_CHECKING:
    from leaddesk.store.import_rows import CheckedRow
from leaddesk.store.mapping import CUSTOM

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

    def many(self, sql: str, rows: Any) -> None:
        """One statement per row of parameters: forgets what was remembered."""
        self._memo.clear()
        self.inner.many(sql, rows)


class FieldError(RuleError):
    """A field value refused by the field rules; knows which field."""

    def __init__(self, target: str, message: str) -> None:
        super().__init__(message)
        self.target = target


# The fields that need the database whose values repeat across rows: each distinct value is checked once.
REPEATING = {"source", "owner", "partner", "type", "item", "contact_method"}
MEMO_LIMIT = 50_000


class FieldMemo:
    """The importing process's side of the field rules: the fields that need the database, each distinct
    value checked once, after the helper's checks (`import_rows.CheckedRow`)."""

    def __init__(self) -> None:
        self.memo: dict[tuple[str, Any], dict[str, Any] | FieldError] = {}
        self.statuses: dict[tuple[str | None, Any], int | RuleError] = {}
        self.targets: dict[str, Any] = {}  # status text -> StatusInfo | None | FieldError

    def finish(self, tx: Tx, settings: Settings, row: CheckedRow) -> dict[str, Any]:
        """The row's column values, like `fields.prepare` of its values: the checked columns plus the fields
        that need the database. FieldError names the first refused field in the row's order, as a lead
        typed by hand would report it."""
        columns = row.columns
        error = row.error
        for position, name, value in row.later:
            if error is not None and error[0] < position:
                break
            columns.update(self.prepare_one(tx, settings, name, value))
        if error is not None:
            raise FieldError(error[1], error[2])
        return columns

    def prepare_one(self, tx: Tx, settings: Settings, name: str, value: Any) -> dict[str, Any]:
        """`fields.prepare` of one field, remembered for the repeating ones; FieldError names the field."""
        key = (name, value)
        hit = self.memo.get(key)
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
        return hit

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

    def target_status(self, ctx: Ctx, status: str | None) -> Any:
        """`import_status.target_status`, once per distinct status text (FieldError names the column)."""
        if not status:
            return None
        hit = self.targets.get(status)
        if hit is None and status not in self.targets:
            from leaddesk.store.import_status import target_status

            try:
                hit = target_status(ctx, status)
            except RuleError as exc:
                hit = FieldError("status", str(exc))
            self.targets[status] = hit
        if isinstance(hit, FieldError):
            raise FieldError(hit.target, str(hit))
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
