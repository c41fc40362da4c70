"""A line-virtualised lead table: draws only the visible rows, from pages the screen loads in SQL.

The table knows how many rows match (`total`) and keeps a small cache of pages (`PAGE` rows each).
While a page is missing it draws dim placeholder rows and posts `PageWanted(offset)`; the screen
runs the query in a worker and hands the rows back with `set_page`. Nothing here touches the
database, and each repaint costs O(visible rows), so 100k leads scroll as fast as 100.
The paging, cursor and drawing machinery is `PagedTable`'s (paged_table.py); here are the columns,
the marks and the sort.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.strip import Strip

from leaddesk import clock
from leaddesk.textsafe import safe_line
from leaddesk.widgets.paged_table import PAGE, SEP, Column, PagedTable, Row, layout_columns

MARK = "✓"
SLA_MARK = "!"
"""In the mark column of a lead that breached the first-contact SLA (store/sla.py), on the error colour."""
OPEN_CATEGORIES = ("open", "qualified")
CLOSED_CATEGORIES = ("won", "lost")

COLUMNS: tuple[Column, ...] = (
    Column("number", "#", 6, right=True),
    Column("contact", "Contact", 12, weight=3),
    Column("company", "Company", 12, weight=3),
    Column("phone", "Phone", 14, weight=1, most=17, drop=3),
    Column("email", "Email", 14, weight=3, most=36, drop=2),
    Column("source", "Source", 9, weight=1, most=14, drop=1),
    Column("status", "Status", 12, weight=2, most=20),
    Column("priority", "Pri", 3),
    Column("score", "Score", 5, right=True),  # the total: manual + automatic (store/scoring.py)
    Column("deals", "Dl", 3, right=True),
    Column("owner", "Owner", 5, weight=1, most=10),
    Column("followup", "Follow-up", 10),
)
"""Every column but the mark, in display order."""


def layout(width: int) -> list[tuple[Column, int]]:
    """Columns shown at `width` cells (mark column excluded) with their widths."""
    return layout_columns(COLUMNS, width)


def _priority(row: Row) -> str:
    value = row.get("priority") or 0
    return "!" * int(value) if isinstance(value, int) else safe_line(str(value))


CELL: dict[str, Callable[[Row], str]] = {
    "number": lambda r: str(r["number"]),
    "contact": lambda r: safe_line(r.get("contact_name")),
    "company": lambda r: safe_line(r.get("company")),
    "phone": lambda r: safe_line(r.get("phone")),
    "email": lambda r: safe_line(r.get("email")),
    "source": lambda r: safe_line(r.get("source")),
    "status": lambda r: safe_line(r.get("status")),
    "priority": _priority,
    "score": lambda r: str(r.get("total_score", r.get("score")) or ""),
    "deals": lambda r: str(r["deals"]) if r.get("deals") else "",
    "owner": lambda r: safe_line(r.get("owner")),
    "followup": lambda r: safe_line(r.get("followup_on")),
}
"""Cell text from a row, control characters made visible: rows go out as plain segments, never markup."""



class LeadTable(PagedTable):
    """A scrolling table of leads with a fixed header, a cursor row and multi-select marks."""

    COLUMNS = COLUMNS
    CELLS = CELL
    PREFIX = "lead-table"
    INDENT = 1 + SEP  # the mark column and its gap
    GUTTER = 1 + SEP

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="list.up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="list.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="list.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="list.page_down"),
        Binding("home,g", "first", "First lead", show=False, id="list.first"),
        Binding("end,G", "last", "Last lead", show=False, id="list.last"),
        Binding("space", "toggle_mark", "Select", id="list.select", tooltip="Mark or unmark the lead for bulk changes"),
        Binding("enter", "open", "Open", id="list.open", tooltip="Open the lead's card"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "lead-table--header",
        "lead-table--sorted",
        "lead-table--cursor",
        "lead-table--marked",
        "lead-table--closed",
        "lead-table--overdue",
        "lead-table--due",
        "lead-table--placeholder",
        "lead-table--sla",
    }

    DEFAULT_CSS = """
    LeadTable {
        & > .lead-table--header { text-style: bold; background: $panel; color: $foreground; }
        & > .lead-table--sorted { color: $accent; }
        & > .lead-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
        }
        &:focus > .lead-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .lead-table--marked { background: $secondary 25%; color: $foreground; }
        & > .lead-table--closed { color: $text-muted; }
        & > .lead-table--overdue { color: $text-error; text-style: bold; }
        & > .lead-table--due { color: $text-warning; }
        & > .lead-table--placeholder { color: $text-disabled; }
        & > .lead-table--sla { color: $text-error; text-style: bold reverse; }
    }
    """

    class PageWanted(PagedTable.PageWanted):
        """Rows `offset` .. `offset + PAGE` are needed (their page is not cached)."""

        table: LeadTable

    class Opened(PagedTable.Opened):
        """The user wants lead `number`'s card; `siblings` are the loaded lead numbers in table order."""

        table: LeadTable

    class MarksChanged(Message):
        """The set of marked leads changed."""

        def __init__(self, table: LeadTable, count: int) -> None:
            super().__init__()
            self.table = table
            self.count = count

        @property
        def control(self) -> LeadTable:
            return self.table

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.empty_text = "No leads match: / changes the search, f the filters."
        self.marked: set[int] = set()
        """Lead numbers marked for bulk changes (kept across reloads and filter changes)."""
        self.sort_key = "number"
        self.descending = False
        self._seen = (0, 0)
        """The rows on screen, as last drawn or scrolled to (read by worker threads)."""

    # -- data in -----------------------------------------------------------------------------
    def reset(self, total: int, *, pages: dict[int, list[Row]] | None = None, cursor: int = 0,
              keep: int | None = None) -> None:
        """Show a new result: `total` rows, some pages already loaded (page index -> rows).
        The cursor goes to lead `keep` if it is in those pages, else to row `cursor` (clamped)."""
        self._show(total, pages, cursor, keep)

    def forget_wanted(self, offset: int) -> None:
        """The screen chose not to load this page (scrolled past it): ask again if it is drawn later."""
        super().forget_wanted(offset)
        if self.page_needed(offset):  # scrolled back meanwhile: draw it again, which asks again
            self.refresh()

    def page_needed(self, offset: int) -> bool:
        """Is the page at `offset` on screen or within a page of it? (A held key skips the rest.)
        Safe to ask from a worker thread: it reads a tuple the UI thread replaces whenever the view moves."""
        top, bottom = self._seen
        return offset <= bottom + PAGE and offset + PAGE > top - PAGE

    def set_sort(self, key: str, descending: bool) -> None:
        """Show which column the rows are sorted by (the screen does the sorting, in SQL)."""
        self.sort_key, self.descending = key, descending
        self.refresh()

    # -- what the screen reads ----------------------------------------------------------------
    @property
    def cursor_lead(self) -> Row | None:
        """The row under the cursor (None while loading or when nothing matches)."""
        return self.cursor_row

    @property
    def column_keys(self) -> list[str]:
        """The keys of the columns shown at the current width, in order."""
        return [c.key for c, _w in self._columns()]

    # -- marks --------------------------------------------------------------------------------
    def mark(self, numbers: Iterable[int]) -> None:
        """Add leads to the marks."""
        self.marked.update(numbers)
        self._marks_changed()

    def clear_marks(self) -> None:
        """Unmark every lead."""
        self.marked.clear()
        self._marks_changed()

    def _marks_changed(self) -> None:
        self.refresh()
        self.post_message(self.MarksChanged(self, len(self.marked)))

    def action_toggle_mark(self) -> None:
        row = self.cursor_lead
        if row is None:
            return
        self.marked.symmetric_difference_update({row["number"]})
        self._marks_changed()

    # -- what is on screen --------------------------------------------------------------------
    def _window(self) -> tuple[int, int]:
        """First and last row index on screen."""
        top = int(self.scroll_offset.y)
        return top, top + self._visible_rows() - 1

    def _view_moved(self) -> None:
        self._seen = self._window()

    def _page_shown(self, offset: int) -> bool:
        top, bottom = self._window()
        return offset <= bottom and offset + PAGE > top

    # -- drawing ------------------------------------------------------------------------------
    def _title(self, col: Column, style: Style) -> tuple[str, Style]:
        if col.key != self.sort_key:
            return col.title, style
        return col.title + ("▼" if self.descending else "▲"), style + self._style("lead-table--sorted")

    def _row(self, index: int, row: Row, width: int, base: Style) -> Strip:
        style = base
        category = row.get("status_category")
        if category in CLOSED_CATEGORIES:
            style += self._style("lead-table--closed")
        marked = row["number"] in self.marked
        if marked:
            style += self._style("lead-table--marked")
        if index == self.cursor:
            style += self._style("lead-table--cursor")
        followup = row.get("followup_on")
        styles: dict[str, Style] = {}
        if followup and category in OPEN_CATEGORIES:
            today = clock.today().isoformat()
            if followup < today:
                styles["followup"] = style + self._style("lead-table--overdue")
            elif followup == today:
                styles["followup"] = style + self._style("lead-table--due")
        if row.get("sla_breached"):
            segments = [Segment(MARK if marked else SLA_MARK, style + self._style("lead-table--sla")),
                        Segment(" " * SEP, style)]
        else:
            segments = [Segment((MARK if marked else " ") + " " * SEP, style)]
        return self._cells(segments, row, width, style, styles)
