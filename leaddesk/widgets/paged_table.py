"""What the line-virtualised tables share (`LeadTable`, `AgendaTable`): columns, a page cache, a row cursor.

A table knows how many rows match (`total`) and keeps a small cache of pages (`PAGE` rows each). While a page
is missing it draws dim placeholder rows and posts `PageWanted(offset)`; the screen runs the query in a worker
and hands the rows back with `set_page`. Nothing here touches the database, and each repaint costs O(visible
lines). Line 0 is the column header; a subclass may map data lines to rows differently (the agenda's headings).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from leaddesk.widgets.own_keys import KeepsItsKeys

PAGE = 100
"""Rows per page: the unit a table asks for and caches."""
PREFETCH = 10
"""Drawing a row this close to a page's edge asks for the neighbouring page too."""
SEP = 1
"""Blank cells between columns."""

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


def layout_columns(columns: Sequence[Column], width: int) -> list[tuple[Column, int]]:
    """The `columns` shown at `width` cells with their widths."""
    shown = list(columns)

    def needed(cols: list[Column]) -> int:
        return sum(c.width for c in cols) + SEP * max(0, len(cols) - 1)

    for rank in sorted({c.drop for c in columns if c.drop}):
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


class PagedTable(ScrollView, KeepsItsKeys, can_focus=True, inherit_bindings=False):
    """A scrolling table drawn line by line from cached pages of rows, with a fixed header and a row cursor.

    A subclass sets the class variables, its BINDINGS (cursor, page, first, last, open), COMPONENT_CLASSES
    `PREFIX--header`, `--cursor`, `--placeholder` (and its own), and subclasses `PageWanted` and `Opened`
    inside itself so their handlers keep the table's name (`on_lead_table_opened`)."""

    COLUMNS: ClassVar[tuple[Column, ...]] = ()
    CELLS: ClassVar[Mapping[str, Callable[[Row], str]]] = {}
    """Cell text from a row, control characters made visible: rows go out as plain segments, never markup."""
    PREFIX: ClassVar[str] = "paged-table"
    """Component classes are `PREFIX--header` and so on."""
    MAX_PAGES: ClassVar[int] = 40
    """Pages kept in the cache (least recently drawn go first)."""
    INDENT: ClassVar[int] = 1
    """Cells before the first column."""
    GUTTER: ClassVar[int] = 2
    """Cells of a line the columns do not share out (the indent and any margin)."""
    PAGE_KEEP: ClassVar[int] = 1
    """Lines of the old view that page up/down keep in view."""

    DEFAULT_CSS = """
    PagedTable {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        background: $surface;
        color: $foreground;
    }
    """

    class PageWanted(Message):
        """Rows `offset` .. `offset + PAGE` are needed (their page is not cached)."""

        def __init__(self, table: PagedTable, offset: int, generation: int) -> None:
            super().__init__()
            self.table = table
            self.offset = offset
            self.generation = generation

        @property
        def control(self) -> PagedTable:
            return self.table

    class Opened(Message):
        """The user wants lead `number`'s card; `siblings` are the loaded lead numbers in table order."""

        def __init__(self, table: PagedTable, number: int, siblings: list[int]) -> None:
            super().__init__()
            self.table = table
            self.number = number
            self.siblings = siblings

        @property
        def control(self) -> PagedTable:
            return self.table

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.total: int | None = None
        """Rows matching the query; None until the first count arrives."""
        self.cursor = 0
        self.generation = 0
        """Bumped by `reset`: pages asked for before it are dropped when they arrive."""
        self.empty_text = "Nothing to show"
        self._pages: OrderedDict[int, list[Row]] = OrderedDict()
        self._wanted: set[int] = set()
        self._layout: list[tuple[Column, int]] = layout_columns(self.COLUMNS, 80)
        self._layout_width = -1
        self._style_cache: dict[str, Style] = {}

    # -- data in -----------------------------------------------------------------------------
    def _show(self, total: int, pages: dict[int, list[Row]] | None, cursor: int, keep: int | None) -> None:
        """Start a new result of `total` rows, some pages loaded (page index -> rows); the cursor goes to
        lead `keep` if it is in those pages, else to row `cursor` (clamped)."""
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
        self._view_moved()
        self.refresh()

    def set_page(self, offset: int, rows: list[Row], generation: int) -> None:
        """Rows from `offset` (a multiple of PAGE) for the query of `generation`; stale answers are dropped."""
        if generation != self.generation:
            return
        index = offset // PAGE
        self._wanted.discard(index)
        self._pages[index] = rows
        self._pages.move_to_end(index)
        while len(self._pages) > self.MAX_PAGES:
            self._pages.popitem(last=False)
        if self._page_shown(offset):
            self.refresh()

    def forget_wanted(self, offset: int) -> None:
        """The page at `offset` was not loaded: ask again when it is drawn."""
        self._wanted.discard(offset // PAGE)

    # -- what the screen reads ----------------------------------------------------------------
    def row_at(self, index: int) -> Row | None:
        """The loaded row at `index`, or None while its page is missing."""
        page = self._pages.get(index // PAGE)
        if page is None or index % PAGE >= len(page):
            return None
        return page[index % PAGE]

    @property
    def cursor_row(self) -> Row | None:
        """The row under the cursor (None while loading or when nothing matches)."""
        return self.row_at(self.cursor) if self.total else None

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

    # -- actions ------------------------------------------------------------------------------
    def action_cursor(self, delta: int) -> None:
        self.move_cursor(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_cursor(self.cursor + direction * max(1, self._visible_rows() - self.PAGE_KEEP))

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor((self.total or 0) - 1)

    def action_open(self) -> None:
        row = self.cursor_row
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
            self._redraw_rows(old, index)

    def on_click(self, event: events.Click) -> None:
        if event.y < 1 or not self.total:
            return
        row = self._row_of_line(int(self.scroll_offset.y) + event.y - 1)
        if row is None:
            return
        if event.chain >= 2 and row == self.cursor:
            self.action_open()
        else:
            self.move_cursor(row)

    # -- lines and rows: one line a row here; a subclass with other lines overrides these -------------
    def _lines(self) -> int:
        """Data lines, header excluded."""
        return self.total or 0

    def _row_of_line(self, line: int) -> int | None:
        """The row on data line `line` (None past the end or on a line that is not a row)."""
        return line if line < (self.total or 0) else None

    def _scroll_to_cursor(self, top: bool = False) -> bool:
        """Scroll so the cursor row is visible (with `top`, to the top row); True if the view moved."""
        first = int(self.scroll_offset.y)
        if top or self.cursor < first:
            target = self.cursor
        elif self.cursor > first + self._visible_rows() - 1:
            target = self.cursor - self._visible_rows() + 1
        else:
            return False
        if target == first:
            return False
        self.scroll_to(y=target, animate=False, force=True)
        return True

    def _redraw_rows(self, *rows: int) -> None:
        """Repaint these rows (the cursor moved without scrolling)."""
        for row in rows:
            self.refresh_lines(row + 1)

    def _page_shown(self, offset: int) -> bool:
        """Does the page at `offset` show now (so its arrival repaints)?"""
        return True

    def _view_moved(self) -> None:
        """The view scrolled or resized: a hook for subclasses that track what is on screen."""

    # -- geometry -----------------------------------------------------------------------------
    def _visible_rows(self) -> int:
        """Data lines that fit under the header."""
        return max(1, self.scrollable_content_region.height - 1)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._view_moved()

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, self._lines() + 1)

    def on_resize(self, _event: events.Resize) -> None:
        self._update_virtual_size()
        self._scroll_to_cursor()
        self._view_moved()
        self.refresh()

    def _columns(self) -> list[tuple[Column, int]]:
        width = self.scrollable_content_region.width - self.GUTTER
        if width != self._layout_width:
            self._layout = layout_columns(self.COLUMNS, width)
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
        if not self.total:
            text = ("Loading…" if self.total is None else self.empty_text) if y == 1 else ""
            style = base + self._style(f"{self.PREFIX}--placeholder")
            return Strip([Segment(fit("  " + text, width), style)], width)
        line = int(self.scroll_offset.y) + y - 1
        if line >= self._lines():
            return Strip.blank(width, base)
        return self._render_data_line(line, width, base)

    def _render_data_line(self, line: int, width: int, base: Style) -> Strip:
        """Data line `line` (within the lines): here always a row."""
        return self._render_row(line, width, base)

    def _render_row(self, index: int, width: int, base: Style) -> Strip:
        """Row `index`: its cells, or a placeholder that asks for its page; nearing a page's edge asks for the
        neighbouring page."""
        row = self.row_at(index)
        if row is None:
            self._want(index // PAGE)
            style = base + self._style(f"{self.PREFIX}--placeholder")
            if index == self.cursor:
                style += self._style(f"{self.PREFIX}--cursor")
            return Strip([Segment(fit(" " * self.INDENT + "·" * 6 + "  loading…", width), style)], width)
        self._pages.move_to_end(index // PAGE)
        offset = index % PAGE
        if offset >= PAGE - PREFETCH and index + PREFETCH < (self.total or 0):
            self._want(index // PAGE + 1)
        elif offset < PREFETCH and index >= PREFETCH:
            self._want(index // PAGE - 1)
        return self._row(index, row, width, base)

    def _want(self, page: int) -> None:
        if page < 0 or page in self._pages or page in self._wanted or page * PAGE >= (self.total or 0):
            return
        self._wanted.add(page)
        self.post_message(self.PageWanted(self, page * PAGE, self.generation))

    def _header(self, width: int, base: Style) -> Strip:
        style = base + self._style(f"{self.PREFIX}--header")
        segments = [Segment(" " * self.INDENT, style)]
        for col, w in self._columns():
            title, title_style = self._title(col, style)
            segments += [Segment(fit(title, w, col.right), title_style), Segment(" " * SEP, style)]
        return Strip(Segment.simplify(segments)).adjust_cell_length(width, style)

    def _title(self, col: Column, style: Style) -> tuple[str, Style]:
        """A column's header text and style."""
        return col.title, style

    def _row(self, index: int, row: Row, width: int, base: Style) -> Strip:
        """Row `index`'s line (with `_cells`)."""
        raise NotImplementedError

    def _cells(self, segments: list[Segment], row: Row, width: int, style: Style,
               styles: Mapping[str, Style] | None = None) -> Strip:
        """A row's line: `segments` (what comes before the first column), then each cell in its column's
        style from `styles` (else `style`)."""
        for col, w in self._columns():
            text = fit(self.CELLS[col.key](row), w, col.right)
            segments += [Segment(text, (styles or {}).get(col.key, style)), Segment(" " * SEP, style)]
        # cells of one style go out as one run: a terminal gets one colour code per run, not two per cell
        return Strip(Segment.simplify(segments)).adjust_cell_length(width, style)
