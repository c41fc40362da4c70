"""The agenda's line-virtualised table: follow-ups under day headings (Overdue, Today, Tomorrow, ...).

Like `LeadTable`, it draws only the visible lines from pages of rows the screen loads in SQL (`PageWanted`,
`set_page`); it also knows the day groups (`Desk.agenda_groups`: each group's count and first row), so each
heading's line is known before any of its rows is loaded. Line 0 is the column header; then each group is a
heading line followed by its rows. The cursor is on a row, never on a heading.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from leaddesk.textsafe import safe_line
from leaddesk.widgets.lead_table import Column, fit

PAGE = 100
MAX_PAGES = 20
SEP = 1

Row = dict[str, Any]


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


def layout(width: int) -> list[tuple[Column, int]]:
    """The columns shown at `width` cells with their widths (narrow screens drop owner, then company)."""
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
            share = min(max(1, spare * c.weight // weights), spare - given)
            if c.most is not None:
                share = min(share, c.most - widths[c.key])
            widths[c.key] += share
            given += share
        spare -= given
        growing = [c for c in growing if c.most is None or widths[c.key] < c.most]
        if given == 0:
            break
    return [(c, widths[c.key]) for c in shown]


def _date(row: Row) -> str:
    day = row.get("followup_on") or ""
    if len(day) != 10:
        return safe_line(day)
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return f"{int(day[8:]):>2} {months[int(day[5:7]) - 1]}"


CELL = {
    "date": _date,
    "time": lambda r: r.get("followup_time") or "",
    "number": lambda r: str(r["number"]),
    "contact": lambda r: safe_line(r.get("contact_name") or r.get("company") or ""),
    "company": lambda r: safe_line(r.get("company") if r.get("contact_name") else ""),
    "status": lambda r: safe_line(r.get("status")),
    "owner": lambda r: safe_line(r.get("owner")),
    "note": lambda r: safe_line(r.get("followup_note")),
}


class AgendaTable(ScrollView, can_focus=True, inherit_bindings=False):
    """Follow-ups grouped by day, with a row cursor; enter opens the lead."""

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
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        background: $surface;
        color: $foreground;
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

    class PageWanted(Message):
        """Rows `offset` .. `offset + PAGE` are needed."""

        def __init__(self, table: AgendaTable, offset: int, generation: int) -> None:
            super().__init__()
            self.table = table
            self.offset = offset
            self.generation = generation

        @property
        def control(self) -> AgendaTable:
            return self.table

    class Opened(Message):
        """Open lead `number`; `siblings` are the loaded numbers in agenda order (for `[` and `]`)."""

        def __init__(self, table: AgendaTable, number: int, siblings: list[int]) -> None:
            super().__init__()
            self.table = table
            self.number = number
            self.siblings = siblings

        @property
        def control(self) -> AgendaTable:
            return self.table

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.groups: list[Group] = []
        self.total: int | None = None
        self.cursor = 0
        self.generation = 0
        self.empty_text = "No follow-ups"
        self._pages: OrderedDict[int, list[Row]] = OrderedDict()
        self._wanted: set[int] = set()
        self._layout: list[tuple[Column, int]] = layout(80)
        self._layout_width = -1
        self._style_cache: dict[str, Style] = {}

    # -- data in --------------------------------------------------------------------------------
    def reset(self, groups: list[Group], pages: dict[int, list[Row]] | None = None, *,
              keep: int | None = None, cursor: int = 0) -> None:
        """Show a new agenda: its groups and some loaded pages (page index -> rows); the cursor goes to lead
        `keep` if it is loaded, else to row `cursor` (clamped)."""
        self.generation += 1
        self.groups = list(groups)
        self.total = sum(g.count for g in groups)
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
        self.cursor = max(0, min(cursor, self.total - 1))
        self.virtual_size = Size(self.scrollable_content_region.width, self._lines() + 1)
        self._scroll_to_cursor(top=keep is None and cursor == 0)
        self.refresh()

    def set_page(self, offset: int, rows: list[Row], generation: int) -> None:
        """Rows from `offset` for the agenda of `generation` (stale answers are dropped)."""
        if generation != self.generation:
            return
        index = offset // PAGE
        self._wanted.discard(index)
        self._pages[index] = rows
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)
        self.refresh()

    def forget_wanted(self, offset: int) -> None:
        """A page could not be loaded: ask again when it is drawn."""
        self._wanted.discard(offset // PAGE)

    # -- what the screen reads ------------------------------------------------------------------
    def row_at(self, index: int) -> Row | None:
        """The loaded row at `index` (None while its page is missing)."""
        page = self._pages.get(index // PAGE)
        if page is None or index % PAGE >= len(page):
            return None
        return page[index % PAGE]

    @property
    def cursor_row(self) -> Row | None:
        """The follow-up under the cursor."""
        return self.row_at(self.cursor) if self.total else None

    def loaded_numbers(self) -> list[int]:
        """The lead numbers of the loaded pages around the cursor, in order."""
        here = self.cursor // PAGE
        if here not in self._pages:
            return []
        first = here
        while first - 1 in self._pages:
            first -= 1
        numbers: list[int] = []
        while first in self._pages:
            numbers.extend(r["number"] for r in self._pages[first])
            first += 1
        return numbers

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
                    fit(CELL[c.key](data), w, c.right) for c, w in layout(width)).rstrip())
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

    # -- actions --------------------------------------------------------------------------------
    def action_cursor(self, delta: int) -> None:
        self.move_cursor(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_cursor(self.cursor + direction * max(1, self._visible() - 2))

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
        if index != self.cursor:
            self.cursor = index
            self._scroll_to_cursor()
            self.refresh()

    def on_click(self, event: events.Click) -> None:
        if event.y < 1 or not self.total:
            return
        line = int(self.scroll_offset.y) + event.y - 1
        if line >= self._lines():
            return
        _group, row = self._at_line(line)
        if row is None:
            return
        if event.chain >= 2 and row == self.cursor:
            self.action_open()
        else:
            self.move_cursor(row)

    # -- geometry ---------------------------------------------------------------------------------
    def _visible(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_to_cursor(self, top: bool = False) -> None:
        """Scroll so the cursor's row is in view (with its group's heading when it is the group's first)."""
        if not self.total:
            return
        line = self._line_of(self.cursor)
        first = int(self.scroll_offset.y)
        if top:
            target = 0
        elif line <= first:
            target = line - 1 if self._at_line(line - 1)[1] is None else line
        elif line >= first + self._visible():
            target = line - self._visible() + 1
        else:
            return
        self.scroll_to(y=max(0, target), animate=False, force=True)

    def on_resize(self, _event: events.Resize) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, self._lines() + 1)
        self._scroll_to_cursor()
        self.refresh()

    def _columns(self) -> list[tuple[Column, int]]:
        width = self.scrollable_content_region.width - 2  # a margin of one cell each side
        if width != self._layout_width:
            self._layout = layout(width)
            self._layout_width = width
        return self._layout

    # -- drawing ----------------------------------------------------------------------------------
    def _style(self, name: str) -> Style:
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
        line = int(self.scroll_offset.y) + y - 1
        if self.total is None or self.total == 0:
            text = ("Loading…" if self.total is None else self.empty_text) if y == 1 else ""
            return Strip([Segment(fit("  " + text, width), base + self._style("agenda-table--placeholder"))], width)
        if line >= self._lines():
            return Strip.blank(width, base)
        group, row = self._at_line(line)
        if row is None:
            name = "agenda-table--group-overdue" if group.bucket == "overdue" else "agenda-table--group"
            return Strip([Segment(fit(self._heading_text(group), width), base + self._style(name))], width)
        data = self.row_at(row)
        if data is None:
            self._want(row // PAGE)
            style = base + self._style("agenda-table--placeholder")
            if row == self.cursor:
                style += self._style("agenda-table--cursor")
            return Strip([Segment(fit(" " + "·" * 6 + "  loading…", width), style)], width)
        self._pages.move_to_end(row // PAGE)
        if row % PAGE >= PAGE - 10:
            self._want(row // PAGE + 1)
        return self._row(row, data, width, base)

    def _heading_text(self, group: Group) -> str:
        return f" {group.label} · {group.count}"

    def _want(self, page: int) -> None:
        if page < 0 or page in self._pages or page in self._wanted or page * PAGE >= (self.total or 0):
            return
        self._wanted.add(page)
        self.post_message(self.PageWanted(self, page * PAGE, self.generation))

    def _header(self, width: int, base: Style) -> Strip:
        style = base + self._style("agenda-table--header")
        segments = [Segment(" ", style)]
        for col, w in self._columns():
            segments += [Segment(fit(col.title, w, col.right), style), Segment(" " * SEP, style)]
        return Strip(segments).adjust_cell_length(width, style)

    def _row(self, index: int, row: Row, width: int, base: Style) -> Strip:
        style = base
        if index == self.cursor:
            style += self._style("agenda-table--cursor")
        due = row.get("due")
        when_style = style + self._style("agenda-table--overdue" if due == "overdue" else "agenda-table--today"
                                         ) if due in ("overdue", "today") else style
        muted = style + self._style("agenda-table--muted")
        segments = [Segment(" ", style)]
        for col, w in self._columns():
            text = fit(CELL[col.key](row), w, col.right)
            cell = when_style if col.key in ("date", "time") else muted if col.key == "note" else style
            segments += [Segment(text, cell), Segment(" " * SEP, style)]
        return Strip(segments).adjust_cell_length(width, style)
