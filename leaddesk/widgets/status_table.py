"""The status-only lead table (issue 7) that the partner view and comarketing mode share: number, name, status
and job value (and, in comarketing mode, the referring partner), nothing else.

A `PagedTable` (paged_table.py): it draws only the visible lines, from pages of rows. The partner view hands it
every row at once (`show_rows`: a partner's leads are few); comarketing mode, where every partner's leads may
be many, gives it the total and the first page (`reset`) and answers `PageWanted` with `set_page`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.strip import Strip

from leaddesk.store.rules import format_money
from leaddesk.textsafe import safe_line
from leaddesk.widgets.paged_table import PAGE, Column, PagedTable, Row

__all__ = ["PAGE", "ReferredTable", "StatusTable"]

CELL: dict[str, Callable[[Row], str]] = {
    "number": lambda r: str(r["number"]),
    "name": lambda r: safe_line(r.get("name")),
    "partner": lambda r: safe_line(r.get("partner")),
    "status": lambda r: safe_line(r.get("status")),
    "value": lambda r: format_money(r.get("job_value")),
}


class StatusTable(PagedTable):
    """Leads by number, name, current status and job value (won leads only); arrows or j/k move."""

    COLUMNS: ClassVar[tuple[Column, ...]] = (
        Column("number", "#", 6, right=True),
        Column("name", "Name", 12, weight=3, most=40),
        Column("status", "Status", 10, weight=1, most=18),
        Column("value", "Job value", 12, right=True),
    )
    CELLS = CELL
    PREFIX = "status-table"
    MAX_PAGES = 1_000  # the partner view keeps every row it was given
    GUTTER = 2

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="status_table.up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="status_table.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="status_table.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="status_table.page_down"),
        Binding("home,g", "first", "First", show=False, id="status_table.first"),
        Binding("end,G", "last", "Last", show=False, id="status_table.last"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "status-table--header", "status-table--cursor", "status-table--won", "status-table--placeholder",
    }

    DEFAULT_CSS = """
    StatusTable {
        & > .status-table--header { text-style: bold; background: $panel; color: $foreground; }
        & > .status-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
        }
        &:focus > .status-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .status-table--won { color: $text-success; }
        & > .status-table--placeholder { color: $text-disabled; }
    }
    """

    class PageWanted(PagedTable.PageWanted):
        """Rows `offset` .. `offset + PAGE` are needed."""

    class Opened(PagedTable.Opened):
        """Open lead `number` (comarketing mode only: the partner view opens nothing)."""

    def __init__(self, *, id: str | None = None, empty_text: str = "No leads in this period") -> None:
        super().__init__(id=id)
        self.empty_text = empty_text

    # -- data in --------------------------------------------------------------------------------
    def show_rows(self, rows: list[Row], *, keep_cursor: bool = True) -> None:
        """Show exactly these rows (every page at once); the cursor stays on the same lead if it is still there."""
        keep = self.cursor_row["number"] if keep_cursor and self.cursor_row is not None else None
        pages = {i // PAGE: rows[i:i + PAGE] for i in range(0, len(rows), PAGE)}
        self._show(len(rows), pages, self.cursor if keep_cursor else 0, keep)

    def reset(self, total: int, first_page: list[Row], *, keep: int | None = None, cursor: int = 0) -> None:
        """Show a new result of `total` rows with its first page loaded; the others are asked for when drawn."""
        self._show(total, {0: first_page} if total else {}, cursor, keep)

    # -- drawing ----------------------------------------------------------------------------------
    def _row(self, index: int, row: Row, width: int, base: Style) -> Strip:
        style = base
        if index == self.cursor:
            style += self._style("status-table--cursor")
        won = style + self._style("status-table--won") if row.get("job_value") is not None else style
        return self._cells([Segment(" ", style)], row, width, style, {"status": won, "value": won})

    def rows_shown(self) -> list[dict[str, Any]]:
        """The loaded rows in table order (what tests read)."""
        return [r for i in range(self.total or 0) if (r := self.row_at(i)) is not None]


class ReferredTable(StatusTable):
    """Comarketing mode's table: the status-only columns and the referring partner; enter opens the lead."""

    COLUMNS: ClassVar[tuple[Column, ...]] = (
        Column("number", "#", 6, right=True),
        Column("name", "Name", 12, weight=3, most=40),
        Column("partner", "Partner", 10, weight=2, most=32),
        Column("status", "Status", 10, weight=1, most=18),
        Column("value", "Job value", 12, right=True),
    )
    MAX_PAGES = 40

    BINDINGS: ClassVar[list[BindingType]] = [
        *StatusTable.BINDINGS,
        Binding("enter", "open", "Open", id="comarketing.open", tooltip="Open the lead's card"),
    ]
