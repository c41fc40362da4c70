"""The agenda's line-virtualised table: follow-ups under day headings (Overdue, Today, Tomorrow, ...).

Like `LeadTable`, it is a `PagedTable` (paged_table.py): it draws only the visible lines from pages of rows the
screen loads in SQL (`PageWanted`, `set_page`); it also knows the day groups (`Desk.agenda_groups`: each group's
count and first row), so each heading's line is known before any of its rows is loaded. Line 0 is the column
header; then each group is a heading line followed by its rows. The cursor is on a row, never on a heading.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.strip import Strip

from leaddesk.textsafe import safe_line
from leaddesk.widgets.paged_table import PAGE, Column, PagedTable, Row, fit, layout_columns

__all__ = ["PAGE", "AgendaTable", "Group"]

@dataclass(frozen=True)
class Group:
    """A day group: its key ("overdue", a date, "later"), heading, row count and first row's position."""

    bucket: str
    label: str
    count: int
    offset: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Group:
        return cls(row["bucket"], row["label"], int(row["count"]), int(row["offset"]))


COLUMNS: tuple[Column, ...] = (
    Column("date", "Date", 6),
    Column("time", "Time", 5),
    Column("number", "#", 5, right=True),
    Column("contact", "Lead", 10, weight=3),
    Column("company", "Company", 9, weight=2, drop=2),
    Column("status", "Status", 9, weight=1, most=16),
    Column("owner", "Owner", 5, weight=1, most=10, drop=1),
    Column("note", "Note", 10, weight=4),
)


def _date(row: Row) -> str:
    day = row.get("followup_on") or ""
    if len(day) != 10:
        return safe_line(day)
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return f"{int(day[8:]):>2} {months[int(day[5:7]) - 1]}"


CELL: dict[str, Callable[[Row], str]] = {
    "date": _date,
    "time": lambda r: r.get("followup_time") or "",
    "number": lambda r: str(r["number"]),
    "contact": lambda r: safe_line(r.get("contact_name") or r.get("company") or ""),
    "company": lambda r: safe_line(r.get("company") if r.get("contact_name") else ""),
    "status": lambda r: safe_line(r.get("status")),
    "owner": lambda r: safe_line(r.get("owner")),
    "note": lambda r: safe_line(r.get("followup_note")),
}


class AgendaTable(PagedTable):
    """Follow-ups grouped by day, with a row cursor; enter opens the lead."""

    COLUMNS = COLUMNS
    CELLS = CELL
    PREFIX = "agenda-table"
    MAX_PAGES = 20
    INDENT = 1
    GUTTER = 2  # a margin of one cell each side
    PAGE_KEEP = 2

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="agenda.up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="agenda.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="agenda.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="agenda.page_down"),
        Binding("home,g", "first", "First", show=False, id="agenda.first"),
        Binding("end,G", "last", "Last", show=False, id="agenda.last"),
        Binding("enter", "open", "Open", id="agenda.open", tooltip="Open the lead's card"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "agenda-table--header", "agenda-table--group", "agenda-table--group-overdue", "agenda-table--cursor",
        "agenda-table--overdue", "agenda-table--today", "agenda-table--muted", "agenda-table--placeholder",
    }

    DEFAULT_CSS = """
    AgendaTable {
        & > .agenda-table--header { text-style: bold; background: $panel; color: $foreground; }
        & > .agenda-table--group { text-style: bold; color: $accent; }
        & > .agenda-table--group-overdue { text-style: bold; color: $text-error; }
        & > .agenda-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
        }
        &:focus > .agenda-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .agenda-table--overdue { color: $text-error; text-style: bold; }
        & > .agenda-table--today { color: $text-warning; }
        & > .agenda-table--muted { color: $text-muted; }
        & > .agenda-table--placeholder { color: $text-disabled; }
    }
    """

    class PageWanted(PagedTable.PageWanted):
        """Rows `offset` .. `offset + PAGE` are needed."""

        table: AgendaTable

    class Opened(PagedTable.Opened):
        """Open lead `number`; `siblings` are the loaded numbers in agenda order (for `[` and `]`)."""

        table: AgendaTable

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.groups: list[Group] = []
        self.empty_text = "No follow-ups"

    # -- data in --------------------------------------------------------------------------------
    def reset(self, groups: list[Group], pages: dict[int, list[Row]] | None = None, *,
              keep: int | None = None, cursor: int = 0) -> None:
        """Show a new agenda: its groups and some loaded pages (page index -> rows); the cursor goes to lead
        `keep` if it is loaded, else to row `cursor` (clamped)."""
        self.groups = list(groups)
        self._show(sum(g.count for g in groups), pages, cursor, keep)

    # -- what the screen reads ------------------------------------------------------------------
    def lines(self) -> list[str]:
        """Every line as plain text (headings, loaded rows; "…" for rows not loaded): for tests."""
        width = max(40, self.scrollable_content_region.width)
        out = []
        for line in range(self._lines()):
            group, row = self._at_line(line)
            if row is None:
                out.append(self._heading_text(group))
            else:
                data = self.row_at(row)
                out.append("…" if data is None else " ".join(
                    fit(CELL[c.key](data), w, c.right) for c, w in layout_columns(COLUMNS, width)).rstrip())
        return out

    # -- lines and rows ---------------------------------------------------------------------------
    def _lines(self) -> int:
        """Data lines (headings and rows), header excluded."""
        return (self.total or 0) + len(self.groups)

    def _at_line(self, line: int) -> tuple[Group, int | None]:
        """The group at data line `line` and the row there (None on its heading)."""
        start = 0
        for group in self.groups:
            if line == start:
                return group, None
            if line <= start + group.count:
                return group, group.offset + line - start - 1
            start += group.count + 1
        return self.groups[-1], None

    def _line_of(self, row: int) -> int:
        """The data line of row `row`."""
        for i, group in enumerate(self.groups):
            if row < group.offset + group.count:
                return row + i + 1
        return row + len(self.groups)

    def _row_of_line(self, line: int) -> int | None:
        return self._at_line(line)[1] if line < self._lines() else None

    def _scroll_to_cursor(self, top: bool = False) -> bool:
        """Scroll so the cursor's row is in view (with its group's heading when it is the group's first)."""
        if not self.total:
            return False
        line = self._line_of(self.cursor)
        first = int(self.scroll_offset.y)
        if top:
            target = 0
        elif line <= first:
            target = line - 1 if self._at_line(line - 1)[1] is None else line
        elif line >= first + self._visible_rows():
            target = line - self._visible_rows() + 1
        else:
            return False
        self.scroll_to(y=max(0, target), animate=False, force=True)
        return max(0, target) != first

    def _redraw_rows(self, *rows: int) -> None:
        self.refresh()

    # -- drawing ----------------------------------------------------------------------------------
    def _render_data_line(self, line: int, width: int, base: Style) -> Strip:
        group, row = self._at_line(line)
        if row is not None:
            return self._render_row(row, width, base)
        name = "agenda-table--group-overdue" if group.bucket == "overdue" else "agenda-table--group"
        return Strip([Segment(fit(self._heading_text(group), width), base + self._style(name))], width)

    def _heading_text(self, group: Group) -> str:
        return f" {group.label} · {group.count}"

    def _row(self, index: int, row: Row, width: int, base: Style) -> Strip:
        style = base
        if index == self.cursor:
            style += self._style("agenda-table--cursor")
        due = row.get("due")
        when_style = style + self._style("agenda-table--overdue" if due == "overdue" else "agenda-table--today"
                                         ) if due in ("overdue", "today") else style
        muted = style + self._style("agenda-table--muted")
        styles = {"date": when_style, "time": when_style, "note": muted}
        return self._cells([Segment(" ", style)], row, width, style, styles)
