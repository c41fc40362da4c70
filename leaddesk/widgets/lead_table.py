"""A line-virtualised lead table: draws only the visible rows, from pages the screen loads in SQL.

The table knows how many rows match (`total`) and keeps a small cache of pages (`PAGE` rows each).
While a page is missing it draws dim placeholder rows and posts `PageWanted(offset)`; the screen
runs the query in a worker and hands the rows back with `set_page`. Nothing here touches the
database, and each repaint costs O(visible rows), so 100k leads scroll as fast as 100.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from leaddesk import clock
from leaddesk.textsafe import safe_line

PAGE = 100
"""Rows per page: the unit the table asks for and caches."""
MAX_PAGES = 40
"""Pages kept in the cache (least recently drawn go first)."""
PREFETCH = 10
"""Drawing a row this close to a page's edge asks for the neighbouring page too."""
SEP = 1
"""Blank cells between columns."""
MARK = "✓"
SLA_MARK = "!"
"""In the mark column of a lead that breached the first-contact SLA (store/sla.py), on the error colour."""
OPEN_CATEGORIES = ("open", "qualified")
CLOSED_CATEGORIES = ("won", "lost")

Row = dict[str, Any]


@dataclass(frozen=True)
class Column:
    """A column: `key` is also the sort key; flexible columns (weight > 0) share the spare width.
    `drop` > 0 marks columns left out when the table is too narrow (1 goes first)."""

    key: str
    title: str
    width: int
    weight: int = 0
    most: int | None = None
    right: bool = False
    drop: int = 0


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
    shown = list(COLUMNS)

    def needed(cols: list[Column]) -> int:
        return sum(c.width for c in cols) + SEP * max(0, len(cols) - 1)

    for rank in sorted({c.drop for c in COLUMNS if c.drop}):
        if needed(shown) <= width:
            break
        shown = [c for c in shown if c.drop != rank]
    widths = {c.key: c.width for c in shown}
    spare = width - needed(shown)
    growing = [c for c in shown if c.weight]
    while spare > 0 and growing:
        weights = sum(c.weight for c in growing)
        given = 0
        for c in growing:
            share = max(1, spare * c.weight // weights)
            if c.most is not None:
                share = min(share, c.most - widths[c.key])
            share = min(share, spare - given)
            widths[c.key] += share
            given += share
        spare -= given
        growing = [c for c in growing if c.most is None or widths[c.key] < c.most]
        if given == 0:
            break
    return [(c, widths[c.key]) for c in shown]


def fit(text: str, width: int, right: bool = False) -> str:
    """`text` cut (with "…") or padded to exactly `width` cells."""
    if width <= 0:
        return ""
    size = cell_len(text)
    if size > width:
        return set_cell_size(text, width - 1) + "…"
    pad = " " * (width - size)
    return pad + text if right else text + pad


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


class LeadTable(ScrollView, can_focus=True, inherit_bindings=False):
    """A scrolling table of leads with a fixed header, a cursor row and multi-select marks."""

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
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        background: $surface;
        color: $foreground;
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

    class PageWanted(Message):
        """Rows `offset` .. `offset + PAGE` are needed (their page is not cached)."""

        def __init__(self, table: LeadTable, offset: int, generation: int) -> None:
            super().__init__()
            self.table = table
            self.offset = offset
            self.generation = generation

        @property
        def control(self) -> LeadTable:
            return self.table

    class Opened(Message):
        """The user wants lead `number`'s card; `siblings` are the loaded lead numbers in table order."""

        def __init__(self, table: LeadTable, number: int, siblings: list[int]) -> None:
            super().__init__()
            self.table = table
            self.number = number
            self.siblings = siblings

        @property
        def control(self) -> LeadTable:
            return self.table

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
        self.total: int | None = None
        """Rows matching the query; None until the first count arrives."""
        self.cursor = 0
        self.marked: set[int] = set()
        """Lead numbers marked for bulk changes (kept across reloads and filter changes)."""
        self.sort_key = "number"
        self.descending = False
        self.generation = 0
        """Bumped by `reset`: pages asked for before it are dropped when they arrive."""
        self._pages: OrderedDict[int, list[Row]] = OrderedDict()
        self._wanted: set[int] = set()
        self._layout: list[tuple[Column, int]] = layout(80)
        self._layout_width = -1
        self._style_cache: dict[str, Style] = {}
        self._seen = (0, 0)
        """The rows on screen, as last drawn or scrolled to (read by worker threads)."""

    # -- data in -----------------------------------------------------------------------------
    def reset(self, total: int, *, pages: dict[int, list[Row]] | None = None, cursor: int = 0,
              keep: int | None = None) -> None:
        """Show a new result: `total` rows, some pages already loaded (page index -> rows).
        The cursor goes to lead `keep` if it is in those pages, else to row `cursor` (clamped)."""
        self.generation += 1
        self.total = total
        self._pages.clear()
        self._wanted.clear()
        for index, rows in sorted((pages or {}).items()):
            self._pages[index] = rows
        if keep is not None:
            for index, rows in self._pages.items():
                found = next((i for i, r in enumerate(rows) if r["number"] == keep), None)
                if found is not None:
                    cursor = index * PAGE + found
                    break
        self.cursor = max(0, min(cursor, total - 1))
        self._update_virtual_size()
        self._scroll_to_cursor(top=keep is None and cursor == 0)
        self._seen = self._window()
        self.refresh()

    def set_page(self, offset: int, rows: list[Row], generation: int) -> None:
        """Rows from `offset` (a multiple of PAGE) for the query of `generation`; stale answers are dropped."""
        if generation != self.generation:
            return
        index = offset // PAGE
        self._wanted.discard(index)
        self._pages[index] = rows
        self._pages.move_to_end(index)
        self._evict()
        top, bottom = self._window()
        if offset <= bottom and offset + PAGE > top:
            self.refresh()

    def forget_wanted(self, offset: int) -> None:
        """The screen chose not to load this page (scrolled past it): ask again if it is drawn later."""
        self._wanted.discard(offset // PAGE)
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
    def row_at(self, index: int) -> Row | None:
        """The loaded row at `index`, or None while its page is missing."""
        page = self._pages.get(index // PAGE)
        if page is None or index % PAGE >= len(page):
            return None
        return page[index % PAGE]

    @property
    def cursor_lead(self) -> Row | None:
        """The row under the cursor (None while loading or when nothing matches)."""
        return self.row_at(self.cursor) if self.total else None

    @property
    def column_keys(self) -> list[str]:
        """The keys of the columns shown at the current width, in order."""
        return [c.key for c, _w in self._columns()]

    def loaded_numbers(self) -> list[int]:
        """Lead numbers of the loaded pages next to the cursor's, in table order."""
        here = self.cursor // PAGE
        if here not in self._pages:
            return []
        first = here
        while first - 1 in self._pages:
            first -= 1
        numbers: list[int] = []
        index = first
        while index in self._pages:
            numbers.extend(r["number"] for r in self._pages[index])
            index += 1
        return numbers

    def page_offsets(self) -> list[int]:
        """Offsets of the cached pages (for tests and diagnostics)."""
        return sorted(i * PAGE for i in self._pages)

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

    # -- actions ------------------------------------------------------------------------------
    def action_cursor(self, delta: int) -> None:
        self.move_cursor(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_cursor(self.cursor + direction * max(1, self._visible_rows() - 1))

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor((self.total or 0) - 1)

    def action_toggle_mark(self) -> None:
        row = self.cursor_lead
        if row is None:
            return
        self.marked.symmetric_difference_update({row["number"]})
        self._marks_changed()

    def action_open(self) -> None:
        row = self.cursor_lead
        if row is not None:
            self.post_message(self.Opened(self, row["number"], self.loaded_numbers()))

    def move_cursor(self, index: int) -> None:
        """Put the cursor on row `index` (clamped) and scroll it into view."""
        if not self.total:
            return
        index = max(0, min(index, self.total - 1))
        if index == self.cursor:
            return
        old = self.cursor
        self.cursor = index
        if not self._scroll_to_cursor():
            self.refresh_lines(old + 1)
            self.refresh_lines(index + 1)

    # -- mouse --------------------------------------------------------------------------------
    def on_click(self, event: events.Click) -> None:
        if event.y < 1 or not self.total:
            return
        index = int(self.scroll_offset.y) + event.y - 1
        if index >= self.total:
            return
        if event.chain >= 2 and index == self.cursor:
            self.action_open()
        else:
            self.move_cursor(index)

    # -- geometry -----------------------------------------------------------------------------
    def _visible_rows(self) -> int:
        """Data rows that fit under the header."""
        return max(1, self.scrollable_content_region.height - 1)

    def _window(self) -> tuple[int, int]:
        """First and last row index on screen."""
        top = int(self.scroll_offset.y)
        return top, top + self._visible_rows() - 1

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._seen = self._window()

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, (self.total or 0) + 1)

    def _scroll_to_cursor(self, top: bool = False) -> bool:
        """Scroll so the cursor row is visible (with `top`, to the top row); True if the view moved."""
        first, bottom = self._window()
        if top or self.cursor < first:
            target = self.cursor
        elif self.cursor > bottom:
            target = self.cursor - self._visible_rows() + 1
        else:
            return False
        if target == first:
            return False
        self.scroll_to(y=target, animate=False, force=True)
        return True

    def on_resize(self, _event: events.Resize) -> None:
        self._update_virtual_size()
        self._scroll_to_cursor()
        self._seen = self._window()
        self.refresh()

    def _columns(self) -> list[tuple[Column, int]]:
        width = self.scrollable_content_region.width - 1 - SEP  # the mark column and its gap
        if width != self._layout_width:
            self._layout = layout(width)
            self._layout_width = width
        return self._layout

    # -- drawing ------------------------------------------------------------------------------
    def _style(self, name: str) -> Style:
        """What a component class adds to a row: its attributes, and its colours blended onto the background."""
        style = self._style_cache.get(name)
        if style is None:
            partial = self.get_component_rich_style(name, partial=True)
            full = self.get_component_rich_style(name)
            style = partial + Style(color=full.color if partial.color else None,
                                    bgcolor=full.bgcolor if partial.bgcolor else None)
            self._style_cache[name] = style
        return style

    def notify_style_update(self) -> None:
        self._style_cache.clear()
        super().notify_style_update()

    def _on_focus(self, event: events.Focus) -> None:
        self._style_cache.clear()
        super()._on_focus(event)

    def _on_blur(self, event: events.Blur) -> None:
        self._style_cache.clear()
        super()._on_blur(event)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            return self._header(width, base)
        index = int(self.scroll_offset.y) + y - 1
        if self.total is None:
            return self._message("Loading…" if y == 1 else "", width, base)
        if self.total == 0:
            return self._message("No leads match: / changes the search, f the filters." if y == 1 else "",
                                 width, base)
        if index >= self.total:
            return Strip.blank(width, base)
        row = self.row_at(index)
        if row is None:
            self._want(index // PAGE)
            return self._placeholder(index, width, base)
        self._pages.move_to_end(index // PAGE)
        offset = index % PAGE
        if offset >= PAGE - PREFETCH and index + PREFETCH < self.total:
            self._want(index // PAGE + 1)
        elif offset < PREFETCH and index >= PREFETCH:
            self._want(index // PAGE - 1)
        return self._row(index, row, width, base)

    def _want(self, page: int) -> None:
        if page < 0 or page in self._pages or page in self._wanted:
            return
        if page * PAGE >= (self.total or 0):
            return
        self._wanted.add(page)
        self.post_message(self.PageWanted(self, page * PAGE, self.generation))

    def _evict(self) -> None:
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)

    def _header(self, width: int, base: Style) -> Strip:
        style = base + self._style("lead-table--header")
        sorted_style = style + self._style("lead-table--sorted")
        segments = [Segment(" " * (1 + SEP), style)]
        for col, w in self._columns():
            title = col.title
            if col.key == self.sort_key:
                title += "▼" if self.descending else "▲"
                segments.append(Segment(fit(title, w, col.right), sorted_style))
            else:
                segments.append(Segment(fit(title, w, col.right), style))
            segments.append(Segment(" " * SEP, style))
        return Strip(segments).adjust_cell_length(width, style)

    def _message(self, text: str, width: int, base: Style) -> Strip:
        style = base + self._style("lead-table--placeholder")
        return Strip([Segment(fit("  " + text, width), style)], width)

    def _placeholder(self, index: int, width: int, base: Style) -> Strip:
        style = base + self._style("lead-table--placeholder")
        if index == self.cursor:
            style += self._style("lead-table--cursor")
        return Strip([Segment(fit("  " + "·" * 6 + "  loading…", width), style)], width)

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
        due_style: Style | None = None
        if followup and category in OPEN_CATEGORIES:
            today = clock.today().isoformat()
            if followup < today:
                due_style = style + self._style("lead-table--overdue")
            elif followup == today:
                due_style = style + self._style("lead-table--due")
        if row.get("sla_breached"):
            segments = [Segment(MARK if marked else SLA_MARK, style + self._style("lead-table--sla")),
                        Segment(" " * SEP, style)]
        else:
            segments = [Segment((MARK if marked else " ") + " " * SEP, style)]
        for col, w in self._columns():
            text = fit(CELL[col.key](row), w, col.right)
            cell_style = due_style if (due_style is not None and col.key == "followup") else style
            segments.append(Segment(text, cell_style))
            segments.append(Segment(" " * SEP, style))
        return Strip(segments).adjust_cell_length(width, style)
