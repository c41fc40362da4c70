"""A lead's timeline (notes, calls, emails and meetings, newest first, each body wrapped under its header) and
its history table (who changed what, when, from where)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from leaddesk import clock
from leaddesk.dates import format_relative
from leaddesk.textsafe import safe, safe_line, truncate

KIND_STYLE = {"note": "bold yellow", "call": "bold green", "email": "bold cyan", "meeting": "bold magenta"}
MAX_BODY = 4000  # characters of one entry shown on screen
HISTORY_VALUE_WIDTH = 40  # characters of an old or new value in the history table


@contextmanager
def cursor_kept(table: DataTable[Any]) -> Iterator[None]:
    """Rebuild a table's rows inside: the cursor stays on the row with the same key if it is still there
    (a change by someone else does not send a reader back to the top)."""
    key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key if table.row_count else None
    yield
    if key is not None and key in table.rows:
        table.move_cursor(row=table.get_row_index(key), animate=False)


def when_text(stamp: str | None) -> tuple[str, str]:
    """An activity's time as ("2026-10-18 20:30", "39 days ago")."""
    if not stamp:
        return "", ""
    short = safe_line(stamp[:16].replace("T", " "))
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return short, ""
    return short, format_relative(moment.date(), clock.today(), overdue=False)


class Timeline(VerticalScroll, can_focus=True):
    """Scrollable list of activities; `show(activities)` replaces what it shows."""

    DEFAULT_CSS = """
    Timeline { height: 1fr; padding: 0 1; }
    Timeline > Static { width: 100%; }
    """

    def __init__(self, empty: str = "No activity yet.", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.empty = empty

    def compose(self) -> ComposeResult:
        yield Static(Text(self.empty, style="dim"), id="timeline-body")

    def show(self, activities: list[dict[str, Any]]) -> None:
        """Show activities (already newest first): time and age, kind and who, then the text wrapped."""
        body = self.query_one("#timeline-body", Static)
        if not activities:
            body.update(Text(self.empty, style="dim"))
            return
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column("when", no_wrap=True, width=16)
        table.add_column("kind", no_wrap=True, width=7)
        table.add_column("text", ratio=1, overflow="fold")
        for i, a in enumerate(activities):
            stamp, ago = when_text(a.get("at"))
            kind = str(a.get("kind") or "")
            when = Text(stamp)
            if ago:
                when.append("\n" + ago, style="dim")
            who = Text(safe_line(kind), style=KIND_STYLE.get(kind, "bold"))
            if a.get("user"):
                who.append("\n" + safe_line(a["user"]), style="dim")
            text = str(a.get("body") or "")
            if len(text) > MAX_BODY:
                text = text[:MAX_BODY] + "…"
            if i:
                table.add_row("", "", "")
            table.add_row(when, who, Text(safe(text)))
        body.update(table)


class HistoryTable(DataTable[Text]):
    """A record's history, newest first: when, who, from where, what, old → new (undone changes struck out)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.add_columns("When", "Who", "Via", "What", "Old → New")

    def show(self, history: list[dict[str, Any]]) -> None:
        """Show history rows as the service returns them (oldest first); the cursor stays on its row."""
        with cursor_kept(self):
            self._fill(history)

    def _fill(self, history: list[dict[str, Any]]) -> None:
        self.clear()
        for row in reversed(history):
            stamp, _ago = when_text(row["at"])
            old, new = (history_value(row[side]) for side in ("old", "new"))
            if not old and (row["action"] in ("create", "copy") or row["field"] == "activity"):
                change = Text(new or "")
            else:
                change = Text(f"{old or '—'} → {new or '—'}")
            plain = ("edit", "create", "note", "log", row["field"])  # actions the field already says
            field = row["field"].replace("_", " ")
            what = field if row["action"] in plain else f"{field} ({row['action']})"
            cells = [Text(stamp), Text(safe_line(row["user"] or "?")), Text(safe_line(row["origin"] or "")),
                     Text(safe_line(what)), change]
            if row["undone"]:
                for cell in cells:
                    cell.stylize("dim strike")
            self.add_row(*cells, key=str(row["id"]))


def history_value(value: Any) -> str | None:
    """An old or new value of a history row: one line, cut to HISTORY_VALUE_WIDTH."""
    if value is None:
        return None
    return truncate(safe_line(str(value)), HISTORY_VALUE_WIDTH)


def describe_undo(history: list[dict[str, Any]]) -> str:
    """What the last undo did, from the history rows it wrote ("status: Contacted → New")."""
    rows: list[dict[str, Any]] = []
    for row in reversed(history):
        if row["action"] != "undo" or (rows and row["change_id"] != rows[0]["change_id"]):
            break
        rows.append(row)
    if not rows:
        return "your last change"
    parts = []
    for row in reversed(rows):
        if row["field"] == "activity":
            parts.append(f"removed {history_value(row['old'])}")
        else:
            parts.append(f"{row['field']}: {history_value(row['old']) or '—'} → {history_value(row['new']) or '—'}")
    return "; ".join(parts)
