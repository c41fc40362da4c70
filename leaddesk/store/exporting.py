"""Exporting leads to CSV, JSON or Excel, in the columns the import reads back.

Rows are read a page at a time (keyset on the lead number, inside one read transaction, so
the file is one consistent snapshot) and written as they come: memory does not grow with
the number of leads. The file is written beside its target and renamed into place at the
end, so a failed export never leaves half a file.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from leaddesk.settings import Settings
from leaddesk.store.db import Tx
from leaddesk.store.errors import RuleError
from leaddesk.store.fields import load_custom
from leaddesk.store.queries import LeadFilter, _where

PAGE = 1000
FORMATS = ("csv", "json", "xlsx")

# (header, column of the query below); every header maps back to its field on import (see mapping.py):
# the status with what a closed status needs (job value, lost reason and note, customer by name; see
# import_status.py) and `created`, so that a round trip loses no lead.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("number", "number"), ("contact_name", "contact_name"), ("first_name", "first_name"),
    ("last_name", "last_name"), ("lead_title", "title"), ("company", "company"), ("job_title", "job_title"),
    ("email", "email"), ("phone", "phone"), ("street", "street"), ("city", "city"), ("state", "state"),
    ("zip", "zip"), ("country", "country"), ("website", "website"), ("zone", "zone"), ("source", "source"),
    ("source_detail", "source_detail"), ("campaign", "campaign"), ("medium", "medium"),
    ("contact_method", "contact_method"), ("type", "type"), ("item", "item"), ("status", "status"),
    ("job_value", "job_value_cents"), ("lost_reason", "lost_reason"), ("lost_note", "lost_note"),
    ("customer", "customer"),
    ("priority", "priority"), ("tags", "tags"), ("description", "description"), ("owner", "owner"),
    ("partner", "partner"), ("expected_revenue", "expected_revenue_cents"), ("probability", "probability"),
    ("expected_close", "expected_close"), ("followup", "followup_on"), ("score", "score"),
    ("bant_budget", "bant_budget"), ("bant_budget_note", "bant_budget_note"),
    ("bant_authority", "bant_authority"), ("bant_authority_note", "bant_authority_note"),
    ("bant_need", "bant_need"), ("bant_need_note", "bant_need_note"),
    ("bant_timeline", "bant_timeline"), ("bant_timeline_note", "bant_timeline_note"), ("created", "created_at"),
)

SELECT = (
    "SELECT l.*, s.name AS status, src.name AS source, u.login AS owner, t.name AS type, p.name AS partner,"
    " i.name AS item, cm.name AS contact_method, lr.name AS lost_reason, c.name AS customer"
    " FROM lead l JOIN status s ON s.id = l.status_id LEFT JOIN source src ON src.id = l.source_id"
    " LEFT JOIN \"user\" u ON u.id = l.owner_id LEFT JOIN lead_type t ON t.id = l.type_id"
    " LEFT JOIN partner p ON p.id = l.partner_id LEFT JOIN item i ON i.id = l.item_id"
    " LEFT JOIN contact_method cm ON cm.id = l.contact_method_id"
    " LEFT JOIN lost_reason lr ON lr.id = l.lost_reason_id LEFT JOIN customer c ON c.id = l.customer_id"
)


def format_for(path: str, explicit: str | None = None) -> str:
    """The export format: given, or by the file's extension."""
    fmt = (explicit or Path(path).suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise RuleError(f"cannot tell the format of '{path}': name it .csv, .json or .xlsx (or give --format)")
    return fmt


def headers(settings: Settings) -> list[str]:
    """The exported columns: the lead fields, then the custom fields of the settings."""
    return [h for h, _ in COLUMNS] + list(settings.custom_fields)


def _value(column: str, value: Any) -> Any:
    if value is None:
        return None
    if column.endswith("_cents"):
        return str((Decimal(value) / 100).quantize(Decimal("0.01")))
    return value


def _custom_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def lead_rows(tx: Tx, settings: Settings, flt: LeadFilter, login: str) -> Iterator[list[Any]]:
    """The matching leads as export rows, in number order, read a page at a time."""
    page_filter = LeadFilter(**{**flt.__dict__, "limit": None, "offset": 0})
    where, params = _where(tx, settings, page_filter, login)
    conj = " AND " if where else " WHERE "
    custom_names = list(settings.custom_fields)
    after = -1
    while True:
        rows = tx.all(f"{SELECT}{where}{conj}l.number > :_after ORDER BY l.number LIMIT {PAGE}",
                      {**params, "_after": after})
        for row in rows:
            custom = load_custom(row["custom"])
            yield ([_value(col, row[col]) for _, col in COLUMNS]
                   + [_custom_value(custom.get(name)) for name in custom_names])
        if len(rows) < PAGE:
            return
        after = rows[-1]["number"]


def write_export(rows: Iterator[list[Any]], columns: list[str], fmt: str, target: str | IO[str]) -> int:
    """Write rows to a path (atomically) or an open text stream; return how many were written."""
    if not isinstance(target, str):
        if fmt == "xlsx":
            raise RuleError("an .xlsx export needs a file (-o FILE.xlsx)")
        return _write_text(rows, columns, fmt, target)
    path = Path(target).expanduser()
    if path.is_dir():
        raise RuleError(f"{path} is a folder: give a file name")
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.exists():
        raise RuleError(f"folder {directory} does not exist")
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    os.close(handle)
    try:
        if fmt == "xlsx":
            count = _write_xlsx(rows, columns, Path(temp))
        else:
            with open(temp, "w", encoding="utf-8", newline="") as out:
                count = _write_text(rows, columns, fmt, out)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return count


def _write_text(rows: Iterator[list[Any]], columns: list[str], fmt: str, out: IO[str]) -> int:
    count = 0
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
            count += 1
        return count
    out.write("[")
    for row in rows:
        out.write(",\n" if count else "\n")
        out.write(json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def _write_xlsx(rows: Iterator[list[Any]], columns: list[str], path: Path) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Leads")
    sheet.append(columns)
    count = 0
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, str):
                cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("\ufffd", value))
                cell.data_type = "s"  # text stays text: "=1+1" is not a formula, "+1 212" not a number
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
        count += 1
    book.save(path)
    return count
