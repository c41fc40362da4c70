"""The kanban board: one windowed column per status, drawn with the Line API.

A column never mounts a widget per lead. It knows how many cards it holds (`ColumnInfo.count`), draws the
ones in view from a page cache, and asks for the pages it lacks with `BoardColumn.PageWanted`; the screen
answers with `set_page`. So a column of 100,000 leads costs what a column of 100 does.

A key costs what it changes (issue 8: what an SSH link carries): a cursor move repaints the lines of the two
cards it touches (`BoardColumn.refresh_card`), not the column; a scroll repaints one column, in the same
frame as the move; a column draws its own scrollbar, so a step that shifts the columns in view lays out
only the columns.

The `Board` holds the columns (one per status: a handful of widgets), shows as many as fit with markers of
more on the left and right, tracks the selected card, and turns keys into messages for the screen
(`Board.MoveRequested`, `Board.OpenRequested`). Widgets here never touch the database.
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from math import ceil
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBarRender
from textual.strip import Strip
from textual.widgets import Static

from leaddesk import clock
from leaddesk.textsafe import safe_line
from leaddesk.widgets.own_keys import KeepsItsKeys

CARD_HEIGHT = 4  # three lines of card, one of space
HEADER_HEIGHT = 2  # name and count, value
PAGE_SIZE = 50  # cards per page request
MAX_PAGES = 20  # pages a column keeps in memory
TYPED_AHEAD_S = 3.0  # how long a move or open typed before its card was loaded waits for it
MIN_WIDTH = 18  # narrowest open column, gap included
FOLDED_WIDTH = 5  # a folded closed column, gap included
MORE_WIDTH = 2  # the "more columns" markers at the sides
BAR_WIDTH = 1  # a column's scrollbar, drawn by the column on its last cell of every line
PRIORITY_MARKS = {0: "↓", 1: "=", 2: "↑", 3: "⇈"}  # low, medium, high, urgent (as issue trackers draw them)
MOUNT_SETTLE_S = 2.0  # at most this long the screen is held while new columns are mounted and laid out
SLA_MARK = "SLA"  # on a card whose lead breached the first-contact SLA (top right, in the error colour)


@dataclass(frozen=True)
class ColumnInfo:
    """A status as the board shows it: its name, category, how many leads match and their value."""

    name: str
    category: str
    count: int = 0
    value_cents: int = 0
    manual: bool = True

    @property
    def closed(self) -> bool:
        """True for won and lost columns (the ones that fold)."""
        return self.category in ("won", "lost")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ColumnInfo:
        """From a `Desk.board()` row."""
        return cls(row["name"], row["category"], int(row["count"] or 0), int(row["value_cents"] or 0),
                   bool(row.get("manual", True)))


@dataclass(frozen=True)
class Card:
    """One lead as a card: what it shows and what a move needs."""

    number: int
    contact: str
    company: str
    priority: int
    initials: str
    followup: date | None
    value_cents: int | None
    status: str
    category: str
    version: int | None = None
    sla_breached: bool = False
    """Not contacted within the first-contact SLA (store/sla.py): the card shows SLA_MARK."""

    @classmethod
    def from_row(cls, row: dict[str, Any], initials: dict[str, str]) -> Card:
        """From a `Desk.list_leads()` row; `initials` maps owner logins to initials."""
        owner = row.get("owner") or ""
        followup = row.get("followup_on")
        category = row.get("status_category") or "open"
        value = row.get("job_value_cents") if category == "won" else row.get("expected_revenue_cents")
        return cls(
            number=int(row["number"]),
            contact=safe_line(row.get("contact_name") or ""),
            company=safe_line(row.get("company") or ""),
            priority=int(row.get("priority") or 0),
            initials=initials.get(owner) or initials_of(owner, None),
            followup=_as_date(followup),
            value_cents=value,
            status=row.get("status") or "",
            category=category,
            version=row.get("version"),
            sla_breached=bool(row.get("sla_breached")),
        )

    def due(self, today: date, *, short: bool = False) -> tuple[str, str] | None:
        """The follow-up marker and its kind ("overdue", "today", "later"); none on closed leads."""
        if self.followup is None or self.category in ("won", "lost"):
            return None
        days = (self.followup - today).days
        if days < 0:
            return (f"⚑-{-days}d" if short else f"⚑{-days}d late"), "overdue"
        if days == 0:
            return "⚑today", "today"
        return f"⚑{calendar.month_abbr[self.followup.month]} {self.followup.day}", "later"


def in_view_from_start(infos: Sequence[ColumnInfo], width: int, fold_closed: bool) -> list[int]:
    """The indexes of the columns a board `width` cells wide shows with its first column selected (as
    `Board._arrange` lays them out): the ones a first load fills."""
    widths = [FOLDED_WIDTH if fold_closed and info.closed else MIN_WIDTH for info in infos]
    shown = [0] if infos else []
    for last in range(1, len(infos)):
        more = MORE_WIDTH if last < len(infos) - 1 else 0
        if sum(widths[:last + 1]) + more > width - 1:  # the board's left padding
            break
        shown.append(last)
    return shown


def initials_of(login: str, name: str | None) -> str:
    """Two letters for an owner: from the name's words ("Ann Carter" -> "AC"), else the login's start."""
    words = [w for w in safe_line(name or "").split() if w[:1].isalnum()]
    if len(words) >= 2:
        return (words[0][0] + words[-1][0]).upper()
    if words:
        return words[0][:2].upper()
    return safe_line(login)[:2].upper()


def _as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def money(cents: int | None, *, short: bool = False) -> str:
    """Whole units with thousands separators; `short` makes six figures and more "125k", "1.2M"."""
    if not cents:
        return ""
    units = round(cents / 100)
    if short and units >= 1_000_000:
        return f"{units / 1_000_000:.1f}M".replace(".0M", "M")
    if short and units >= 100_000:
        return f"{units // 1000}k"
    return f"{units:,}"


def compact_count(n: int) -> str:
    """A count in at most four cells: 7, 69, 999, 1k, 20k, 999k, 1M."""
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        return f"{n // 1000}k"
    return f"{n // 1_000_000}M"


def fit(text: str, width: int) -> str:
    """`text` in exactly `width` cells, cut with "…" when too long."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"


def line(width: int, left: Sequence[tuple[str, Style]], right: Sequence[tuple[str, Style]], base: Style,
         pad: int = 1) -> Strip:
    """One line of `width` cells: `left` pieces (cut to fit) and `right` pieces flush right, `pad` cells
    in from each side (the right one only when there is room to spare)."""
    pad_right = pad if width >= MIN_WIDTH + 2 else 0
    inner = max(0, width - pad - pad_right)
    right_len = sum(cell_len(t) for t, _s in right)
    if right_len > inner:
        right, right_len = [], 0
    room = inner - right_len - (1 if right_len else 0)
    pieces: list[tuple[str, Style]] = [(" " * pad, base)] if pad else []
    used = 0
    for text, style in left:
        if used >= room:
            break
        piece = text if cell_len(text) <= room - used else fit(text, room - used)
        pieces.append((piece, base + style if style else base))
        used += cell_len(piece)
    pieces.append((" " * (inner - used - right_len), base))
    pieces.extend((t, base + s if s else base) for t, s in right)
    if pad_right:
        pieces.append((" " * pad_right, base))
    return Strip(_joined(pieces), width).crop_extend(0, width, base)


def _joined(pieces: Sequence[tuple[str, Style]]) -> list[Segment]:
    """Segments with neighbours of one style joined: the terminal gets one colour code per run, not one per
    piece (a card line goes out in a third of the bytes)."""
    segments: list[Segment] = []
    text, style = "", None
    for piece, piece_style in pieces:
        if not piece:
            continue
        if piece_style == style:
            text += piece
            continue
        if text:
            segments.append(Segment(text, style))
        text, style = piece, piece_style
    if text:
        segments.append(Segment(text, style))
    return segments


class BoardColumn(ScrollView, can_focus=False):
    """One status: a header (name, count, value) over a virtual list of fixed-height cards."""

    DEFAULT_CSS = """
    BoardColumn {
        width: 1fr; min-width: 17; height: 1fr; margin-right: 1;
        background: $surface; overflow-x: hidden; overflow-y: hidden;
        scrollbar-size-vertical: 0;
        scrollbar-background: $surface; scrollbar-background-hover: $surface;
        scrollbar-background-active: $surface; scrollbar-color: $panel-lighten-2;
        scrollbar-color-hover: $panel-lighten-3; scrollbar-color-active: $accent;
    }
    BoardColumn.-folded { width: 4; min-width: 4; }
    BoardColumn > .board-column--header { text-style: bold; }
    BoardColumn > .board-column--header-active { background: $primary; color: $text; text-style: bold; }
    BoardColumn > .board-column--value { color: $text-muted; }
    BoardColumn > .board-column--card { background: $panel; }
    BoardColumn > .board-column--selected { background: $primary 40%; }
    BoardColumn > .board-column--cursor { background: $panel-lighten-2; }
    BoardColumn > .board-column--number { color: $text-accent; text-style: bold; }
    BoardColumn > .board-column--muted { color: $text-muted; }
    BoardColumn > .board-column--overdue { color: $text-error; text-style: bold; }
    BoardColumn > .board-column--today { color: $text-warning; }
    BoardColumn > .board-column--urgent { color: $text-error; text-style: bold; }
    BoardColumn > .board-column--high { color: $text-warning; }
    BoardColumn > .board-column--sla { color: $text-error; text-style: bold reverse; }
    """
    COMPONENT_CLASSES = {
        "board-column--header", "board-column--header-active", "board-column--value", "board-column--card",
        "board-column--selected", "board-column--cursor", "board-column--number", "board-column--muted",
        "board-column--overdue", "board-column--today", "board-column--urgent", "board-column--high",
        "board-column--sla",
    }

    class PageWanted(Message):
        """The column needs `limit` cards from `offset` (for the filter of `generation`)."""

        def __init__(self, column: BoardColumn, offset: int, limit: int, generation: int) -> None:
            super().__init__()
            self.column = column
            self.offset = offset
            self.limit = limit
            self.generation = generation

        @property
        def control(self) -> BoardColumn:
            """The column that asks."""
            return self.column

    class PageLoaded(Message):
        """A page the column asked for has come (the board may run a key typed ahead of it)."""

        def __init__(self, column: BoardColumn) -> None:
            super().__init__()
            self.column = column

        @property
        def control(self) -> BoardColumn:
            """The column filled."""
            return self.column

    class Clicked(Message):
        """A card (`index`) or the header (`index` None) was clicked."""

        def __init__(self, column: BoardColumn, index: int | None) -> None:
            super().__init__()
            self.column = column
            self.index = index

        @property
        def control(self) -> BoardColumn:
            """The column clicked."""
            return self.column

    def __init__(self, info: ColumnInfo, *, classes: str | None = None, first_page: list[Card] | None = None
                 ) -> None:
        super().__init__(classes=classes)
        self.info = info
        self.cursor = 0
        self.active = False
        self.board_focused = False
        self.generation = 0
        self.today = clock.today()
        self._pages: dict[int, list[Card]] = {} if first_page is None else {0: first_page}
        self._stale: dict[int, list[Card]] = {}
        self._pending: set[int] = set()
        self._looks: dict[str, Style] = {}  # styles of the repaint under way (see render_lines)
        self._bar: list[Segment] | None = None  # the scrollbar's cells for the repaint under way
        self._bar_hover = False
        self._grab: tuple[int, float] | None = None  # the thumb held: (screen line, scroll_y) where it was taken
        self._set_virtual_size()

    # -- data --------------------------------------------------------------------------------------
    def update_info(self, info: ColumnInfo, *, keep_stale: bool = True, first_page: list[Card] | None = None
                    ) -> None:
        """New counts (after a reload): drop the cached pages and ask again for the pages in view. With
        `keep_stale` the old pages are drawn until the new ones come; without it (a new filter) the
        column starts again at the top. `first_page`, read with the counts, is not asked for again."""
        self.info = info
        self.generation += 1
        shown = self._pages_in_view()
        self._stale = {p: c for p, c in {**self._stale, **self._pages}.items() if p in shown} if keep_stale else {}
        self._pages = {}
        if first_page is not None:
            self._pages[0] = first_page
            self._stale.pop(0, None)
        self._pending = set()
        self.today = clock.today()
        self.cursor = max(0, min(self.cursor, info.count - 1)) if keep_stale else 0
        self._set_virtual_size()
        if not keep_stale and self.is_mounted:
            self.scroll_to(y=0, animate=False, force=True)
        self.refresh()
        self.want_pages()

    @property
    def shows_first_page_only(self) -> bool:
        """In view, unfolded, and only its first page is in view: a reload may read it with the counts
        (`update_info(first_page=...)`)."""
        return self.display and not self.folded and self._pages_in_view() == range(1)

    def set_page(self, generation: int, offset: int, cards: list[Card]) -> None:
        """Fill a page the column asked for (ignored when the filter changed since)."""
        if generation != self.generation:
            return
        page = offset // PAGE_SIZE
        self._pages[page] = cards
        self._pending.discard(page)
        self._stale.pop(page, None)
        if len(self._pages) > MAX_PAGES:  # forget the pages farthest from the view
            here = self.first_visible() // PAGE_SIZE
            for old in sorted(self._pages, key=lambda p: abs(p - here))[MAX_PAGES:]:
                del self._pages[old]
        self.refresh()
        self.post_message(self.PageLoaded(self))

    def page_failed(self, generation: int, offset: int) -> None:
        """A page could not be loaded: it may be asked for again."""
        if generation == self.generation:
            self._pending.discard(offset // PAGE_SIZE)

    def card(self, index: int) -> Card | None:
        """The card at `index` if its page is loaded (fresh, not stale)."""
        page = self._pages.get(index // PAGE_SIZE)
        if page is None:
            return None
        k = index % PAGE_SIZE
        return page[k] if k < len(page) else None

    def _drawn_card(self, index: int) -> Card | None:
        page = self._pages.get(index // PAGE_SIZE)
        if page is None:
            page = self._stale.get(index // PAGE_SIZE)
        if page is None:
            return None
        k = index % PAGE_SIZE
        return page[k] if k < len(page) else None

    def loaded_numbers(self) -> list[int]:
        """Numbers of the loaded cards, in column order."""
        return [c.number for p in sorted(self._pages) for c in self._pages[p]]

    @property
    def pages_loaded(self) -> list[int]:
        """Indexes of the pages in the cache."""
        return sorted(self._pages)

    @property
    def folded(self) -> bool:
        """True when shown as a narrow strip with just its count."""
        return self.has_class("-folded")

    def set_folded(self, folded: bool) -> None:
        """Fold (or unfold) the column."""
        self.set_class(folded, "-folded")
        self.refresh()
        if not folded and self.is_mounted:
            self.call_after_refresh(self.want_pages)

    # -- the cursor: a move repaints the two cards it touches, not the column ------------------------
    def set_cursor(self, index: int) -> None:
        """Put the cursor on card `index` (clamped); only the old and the new card are repainted."""
        index = max(0, min(index, self.info.count - 1))
        if index != self.cursor:
            old, self.cursor = self.cursor, index
            if self.active:
                self.refresh_card(old)
                self.refresh_card(index)

    def set_state(self, active: bool, board_focused: bool) -> None:
        """Mark the column as the board's selected one (and whether the board has focus): the header and
        the cursor's card change colour, nothing else."""
        was_active = self.active
        if (active, board_focused) == (was_active, self.board_focused):
            return
        self.active, self.board_focused = active, board_focused
        if self.folded:
            return
        if active != was_active:
            self.refresh(Region(0, 0, self.size.width, HEADER_HEIGHT))
        if active or was_active:
            self.refresh_card(self.cursor)

    def refresh_card(self, index: int) -> None:
        """Repaint the lines of card `index` if they are in view."""
        top = HEADER_HEIGHT + index * CARD_HEIGHT - int(self.scroll_y)
        bottom = min(top + CARD_HEIGHT - 1, self.size.height)
        top = max(top, HEADER_HEIGHT)
        if bottom > top:
            self.refresh(Region(0, top, self.size.width, bottom - top))

    # -- scrolling and paging ---------------------------------------------------------------------
    def _set_virtual_size(self) -> None:
        self.virtual_size = Size(0, HEADER_HEIGHT + self.info.count * CARD_HEIGHT)

    @property
    def card_rows(self) -> int:
        """Lines available to cards (below the header)."""
        return max(0, self.scrollable_content_region.height - HEADER_HEIGHT)

    def visible_range(self) -> range:
        """Indexes of the cards at least partly in view."""
        if self.info.count == 0 or self.card_rows == 0:
            return range(0)
        top = int(self.scroll_y)
        first = top // CARD_HEIGHT
        last = min(self.info.count - 1, (top + self.card_rows - 1) // CARD_HEIGHT)
        return range(first, last + 1)

    def _pages_in_view(self) -> range:
        cards = self.visible_range()
        return range(cards.start // PAGE_SIZE, (cards.stop - 1) // PAGE_SIZE + 1) if cards else range(0)

    def want_first_page(self) -> None:
        """Ask for the first page even out of view (see `Board.prefetch_hidden`)."""
        if not self.folded and self.is_mounted and self.info.count:
            self._ask([0])

    def want_pages(self) -> None:
        """Ask for the pages of the cards in view that are neither cached nor asked for."""
        if self.folded or not self.display or not self.is_mounted:
            return
        self._ask(self._pages_in_view())

    def _ask(self, pages: Iterable[int]) -> None:
        wanted = [page for page in pages if page not in self._pages and page not in self._pending]
        if wanted:
            self._pending.update(wanted)
            # sent from the column's own turn: a message the Board sends through its child stops at the Board
            self.call_later(self._send_wanted, wanted, self.generation)

    def _send_wanted(self, pages: list[int], generation: int) -> None:
        for page in pages:
            self.post_message(self.PageWanted(self, page * PAGE_SIZE, PAGE_SIZE, generation))

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.want_pages()

    def on_resize(self, _event: events.Resize) -> None:
        self._set_virtual_size()
        if self.active:
            self.show_cursor()
        self.want_pages()

    def show_cursor(self) -> None:
        """Scroll so the selected card is in view."""
        rows = self.card_rows
        if rows == 0 or self.info.count == 0:
            return
        top = self.cursor * CARD_HEIGHT
        y = self.scroll_y
        if top < y:
            y = top
        elif top + CARD_HEIGHT - 1 > y + rows:
            y = top + CARD_HEIGHT - 1 - rows
        if y != self.scroll_y:
            self.scroll_to(y=y, animate=False, force=True, immediate=True)
        self.want_pages()

    def first_visible(self) -> int:
        """Index of the first card wholly or partly in view."""
        cards = self.visible_range()
        return cards.start if cards else 0

    # -- drawing ----------------------------------------------------------------------------------
    def render_lines(self, crop: Region) -> list[Strip]:
        self._looks = {}  # the styles are worked out once per repaint, on its first line, not per line
        self._bar = None
        return super().render_lines(crop)

    def notify_style_update(self) -> None:
        self._looks = {}
        super().notify_style_update()

    def _style(self, name: str) -> Style:
        style = self._looks.get(name)
        if style is None:
            style = self._looks[name] = self.get_component_rich_style(f"board-column--{name}", partial=True)
        return style

    def _base(self) -> Style:
        style = self._looks.get("")
        if style is None:
            style = self._looks[""] = self.rich_style
        return style

    def render_line(self, y: int) -> Strip:
        if self.folded:
            return self._folded_line(y, self.scrollable_content_region.width, self._base())
        width = self.scrollable_content_region.width - BAR_WIDTH
        strip = self._content_line(y, width, self._base())
        bar = self._bar_cells()
        return Strip([*strip, bar[y] if 0 <= y < len(bar) else Segment(" " * BAR_WIDTH)], width + BAR_WIDTH)

    def _content_line(self, y: int, width: int, base: Style) -> Strip:
        if y < HEADER_HEIGHT:
            return self._header_line(y, width, base)
        virtual = int(self.scroll_y) + y - HEADER_HEIGHT
        index, row = divmod(virtual, CARD_HEIGHT)
        if self.info.count == 0:
            if virtual == 1:
                return line(width, [("no leads", self._style("muted"))], [], base)
            return Strip.blank(width, base)
        if index >= self.info.count or row == CARD_HEIGHT - 1:
            return Strip.blank(width, base)
        return self._card_line(index, row, width, base)

    def _header_line(self, y: int, width: int, base: Style) -> Strip:
        head = base + self._style("header-active" if self.active else "header")
        if y == 0:
            return line(width, [(safe_line(self.info.name), Style())], [(f"{self.info.count:,}", Style())], head)
        value = money(self.info.value_cents)
        label = "Σ " + (value or "0")
        return line(width, [(label, self._style("value"))], [], base)

    def _folded_line(self, y: int, width: int, base: Style) -> Strip:
        head = base + self._style("header")
        if y == 0:
            return Strip([Segment(fit(compact_count(self.info.count).center(width), width), head)], width)
        letters = self.info.name
        k = y - 2
        if 0 <= k < len(letters):
            return Strip([Segment(fit(safe_line(letters[k]).center(width), width), base + self._style("muted"))],
                         width)
        return Strip.blank(width, base)

    def _card_line(self, index: int, row: int, width: int, base: Style) -> Strip:
        selected = self.active and index == self.cursor
        if selected:
            bg = base + self._style("selected" if self.board_focused else "cursor")
        else:
            bg = base + self._style("card")
        card = self._drawn_card(index)
        muted = self._style("muted")
        if card is None:
            return line(width, [("…" if row == 0 else "", muted)], [], bg)
        if row == 0:
            left = [(f"#{card.number}", self._style("number")), (" ", Style()), (card.contact or "—", Style())]
            return line(width, left, [(SLA_MARK, self._style("sla"))] if card.sla_breached else [], bg)
        if row == 1:
            return line(width, [(card.company, muted)], [(card.initials, muted)] if card.initials else [], bg)
        pieces: list[tuple[str, Style]] = []
        label = PRIORITY_MARKS.get(card.priority, str(card.priority))
        pieces.append((label, self._style({3: "urgent", 2: "high"}.get(card.priority, "muted"))))
        value = money(card.value_cents, short=True)
        due = card.due(self.today)
        if due is not None and cell_len(label + due[0] + value) + 3 > width:
            due = card.due(self.today, short=True)
        if due is not None:
            text, kind = due
            pieces.append((" ", Style()))
            pieces.append((text, self._style({"overdue": "overdue", "today": "today"}.get(kind, "muted"))))
        return line(width, pieces, [(value, Style())] if value else [], bg)

    # -- the scrollbar -------------------------------------------------------------------------------
    # A column draws its own scrollbar (what Textual's ScrollBar draws, and the same mouse handling) rather
    # than carrying a ScrollBar widget: those are laid out again and repainted whenever their column changes
    # width, and a sideways step that brings a column into view changes the width of every column in view.
    def _bar_cells(self) -> list[Segment]:
        """The scrollbar's cell on each line, top to bottom (worked out once per repaint), as Textual's
        ScrollBar draws it; a press on one runs what it runs there (`bar_grab`, `bar_scroll_up` or down)."""
        if self._bar is not None:
            return self._bar
        height = self.size.height
        virtual = self.virtual_size.height
        base = self._base()
        if virtual <= height:  # everything fits: no scrollbar, a blank gutter in the column's background
            self._bar = [Segment(" " * BAR_WIDTH, Style(bgcolor=base.bgcolor))] * height
            return self._bar
        styles = self.styles
        if self._grab is not None:
            background, color = styles.scrollbar_background_active, styles.scrollbar_color_active
        elif self._bar_hover:
            background, color = styles.scrollbar_background_hover, styles.scrollbar_color_hover
        else:
            background, color = styles.scrollbar_background, styles.scrollbar_color
        if background.a < 1:
            background = self.background_colors[0] + background
        color = background + color
        if self.screen.styles.scrollbar_color.a == 0:
            virtual, shown, position = 100, 0, 0.0  # what ScrollBarRender draws when given no sizes
        else:
            shown, position = height, int(self.scroll_y * 8) / 8
        bar = ScrollBarRender.render_bar(size=height, virtual_size=ceil(virtual), window_size=ceil(shown),
                                         position=position, thickness=BAR_WIDTH, vertical=True,
                                         back_color=background.rich_color,
                                         bar_color=color.rich_color)
        cells = []
        for cell in bar.segments:
            style = cell.style or Style()
            action = style.meta.get("@mouse.down")
            style = base + style.clear_meta_and_links()
            if action:
                style += Style.from_meta({"@mouse.down": f"bar_{action}"})
            cells.append(Segment(cell.text, style))
        self._bar = cells
        return cells

    @property
    def allow_vertical_scroll(self) -> bool:
        """Scrollable when the cards overflow. The column draws its own bar, so Textual's never shows
        (overflow-y: hidden): with `auto` it came and went as the first cards arrived, and each time laid out and
        repainted the whole board again (one more full frame at start-up, ~40 KB at 120x40)."""
        return not self._check_disabled() and not self.folded and self.virtual_size.height > self.size.height

    def _on_bar(self, x: int) -> bool:
        return not self.folded and x >= self.size.width - BAR_WIDTH and self.virtual_size.height > self.size.height

    def _refresh_bar(self) -> None:
        self.refresh(Region(self.size.width - BAR_WIDTH, 0, BAR_WIDTH, self.size.height))

    def action_bar_grab(self) -> None:
        """The thumb is taken: the mouse moves the column until it is let go."""
        self.capture_mouse()

    def action_bar_scroll_up(self) -> None:
        """A press above the thumb: a page up."""
        if self.allow_vertical_scroll:
            self.scroll_page_up()

    def action_bar_scroll_down(self) -> None:
        """A press below the thumb: a page down."""
        if self.allow_vertical_scroll:
            self.scroll_page_down()

    def on_mouse_capture(self, event: events.MouseCapture) -> None:
        self._grab = (event.mouse_position.y, self.scroll_y)
        self.styles.pointer = "grabbing"
        self._refresh_bar()

    def on_mouse_release(self, _event: events.MouseRelease) -> None:
        if self._grab is not None:
            self._grab = None
            self.styles.pointer = "default"
            self._refresh_bar()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._grab is not None:
            grabbed_y, scroll_y = self._grab
            if self.size.height:
                y = scroll_y + (event.screen_y - grabbed_y) * (self.virtual_size.height / self.size.height)
                self.scroll_to(y=y, animate=not self.app.supports_smooth_scrolling, duration=0.1)
            event.stop()
            return
        self._hover_bar(self._on_bar(event.x))

    def on_leave(self, _event: events.Leave) -> None:
        self._hover_bar(False)

    def _hover_bar(self, over: bool) -> None:
        if over != self._bar_hover:
            self._bar_hover = over
            self._refresh_bar()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if self._on_bar(event.x):
            event.stop()  # a press on the scrollbar is the scrollbar's, as with Textual's

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._grab is not None:
            self.release_mouse()
            event.stop()

    def on_hide(self, _event: events.Hide) -> None:
        if self._grab is not None:
            self.release_mouse()

    # -- mouse ------------------------------------------------------------------------------------
    def on_click(self, event: events.Click) -> None:
        if self._on_bar(event.x):
            event.stop()
            return
        if event.y < HEADER_HEIGHT or self.folded:
            self.post_message(self.Clicked(self, None))
            return
        index = (int(self.scroll_y) + event.y - HEADER_HEIGHT) // CARD_HEIGHT
        if 0 <= index < self.info.count:
            self.post_message(self.Clicked(self, index))


class Board(KeepsItsKeys, can_focus=True):
    """The columns side by side, as many as fit; the selected card; keys that move it or open it."""

    DEFAULT_CSS = """
    Board { layout: horizontal; height: 1fr; padding: 0 0 0 1; }
    Board > .more { width: 2; height: 1fr; color: $text-accent; text-style: bold; display: none; }
    Board > .more.-shown { display: block; }
    """
    BINDINGS = [
        Binding("left,h", "step(-1)", "Column left", id="board.left", show=False),
        Binding("right,l", "step(1)", "Column right", id="board.right", show=False),
        Binding("up,k", "up", "Card up", id="board.up", show=False),
        Binding("down,j", "down", "Card down", id="board.down", show=False),
        Binding("home,g", "first", "First card", id="board.first", show=False),
        Binding("end,G", "last", "Last card", id="board.last", show=False),
        Binding("pageup", "page(-1)", "Page up", id="board.page_up", show=False),
        Binding("pagedown", "page(1)", "Page down", id="board.page_down", show=False),
        Binding("H,shift+left", "move(-1)", "Move card left", id="board.move_left", show=False,
                tooltip="Move the card one column left (the workflow's rules apply)"),
        Binding("L,shift+right", "move(1)", "Move", id="board.move_right", key_display="H/L",
                tooltip="Move the card one column right (L, shift+→) or left (H, shift+←); into won it asks"
                        " the job value, into lost the reason, into qualified it opens the wizard"),
        Binding("enter", "open", "Open", id="board.open", tooltip="Open the lead's card"),
    ]

    class MoveRequested(Message):
        """The user wants `card` moved from column `source` to column `target`."""

        def __init__(self, board: Board, card: Card, source: ColumnInfo, target: ColumnInfo) -> None:
            super().__init__()
            self.board = board
            self.card = card
            self.source = source
            self.target = target

        @property
        def control(self) -> Board:
            """The board."""
            return self.board

    class OpenRequested(Message):
        """The user wants `card` opened; `siblings` are the loaded cards of its column, in order."""

        def __init__(self, board: Board, card: Card, siblings: list[int]) -> None:
            super().__init__()
            self.board = board
            self.card = card
            self.siblings = siblings

        @property
        def control(self) -> Board:
            """The board."""
            return self.board

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns: list[BoardColumn] = []
        self.column_index = 0
        self.fold_closed = False
        self._first = 0
        self._window: tuple[int, int, int] | None = None
        self._typed_ahead: tuple[str, int, float] | None = None  # a move or open waiting for its card (and when)

    def compose(self) -> ComposeResult:
        yield Static("", id="more-left", classes="more")
        yield Static("", id="more-right", classes="more")

    # -- columns ----------------------------------------------------------------------------------
    def set_columns(self, infos: Iterable[ColumnInfo], *, keep_stale: bool = True,
                    first_pages: Mapping[str, list[Card]] | None = None) -> None:
        """Show these columns (updated in place when the statuses are the same). `first_pages` (by status name),
        read with the counts, fill the columns at once: the board is drawn filled in one frame."""
        infos = list(infos)
        first_pages = first_pages or {}
        if not keep_stale:
            self._typed_ahead = None
        selected = self.selected_column.info.name if self.selected_column is not None else None
        if [i.name for i in infos] == [c.info.name for c in self.columns]:
            for column, info in zip(self.columns, infos, strict=True):
                column.update_info(info, keep_stale=keep_stale, first_page=first_pages.get(info.name))
        else:
            stale = self.columns
            self.columns = [BoardColumn(info, first_page=first_pages.get(info.name)) for info in infos]
            for column in self.columns:
                column.set_folded(self.fold_closed and column.info.closed)
            if self.is_mounted:
                self.screen.call_next(self._swap_columns, stale, self.columns)
            else:
                for column in stale:
                    column.remove()
        names = [c.info.name for c in self.columns]
        self.column_index = names.index(selected) if selected in names else self._nearest_open(0)
        self._sync()
        self._run_typed_ahead()  # its card may have come with the first pages (no PageLoaded then)
        self.call_after_refresh(self.prefetch_hidden)  # once the columns in view are drawn

    async def _swap_columns(self, stale: list[BoardColumn], fresh: list[BoardColumn]) -> None:
        """Replace the columns with the screen's updates held until the new ones are mounted and laid out (run from
        the screen's message queue, so that the board's own queue carries on meanwhile).

        Textual mounts asynchronously, and once the columns are mounted the board's queue lays it out again (the
        mount's own callback): a frame drawn in between would paint the whole board twice (at 100k leads the
        start-up sent 101 KB to the terminal instead of about half that)."""
        with self.app.batch_update():
            if stale:
                await self.remove_children(stale)
            await self.mount_all(fresh, before=self.query_one("#more-right"))
            self._sync()
            laid_out = asyncio.get_running_loop().create_future()
            self.call_next(lambda: laid_out.done() or laid_out.set_result(None))  # after the mount's callback
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(laid_out, MOUNT_SETTLE_S)
        self.call_after_refresh(self.prefetch_hidden)  # the new columns are mounted now

    def column(self, name: str) -> BoardColumn | None:
        """The column of a status, by name."""
        return next((c for c in self.columns if c.info.name == name), None)

    @property
    def selected_column(self) -> BoardColumn | None:
        """The column with the selection."""
        if 0 <= self.column_index < len(self.columns):
            return self.columns[self.column_index]
        return None

    @property
    def selected_card(self) -> Card | None:
        """The selected card, when its page is loaded."""
        column = self.selected_column
        if column is None or column.folded or column.info.count == 0:
            return None
        return column.card(column.cursor)

    def select(self, name: str, index: int) -> bool:
        """Select card `index` of a column; False when the column is missing or folded."""
        column = self.column(name)
        if column is None or column.folded:
            return False
        self.column_index = self.columns.index(column)
        column.set_cursor(index)
        self._sync()
        return True

    def set_fold(self, fold: bool) -> None:
        """Fold (or unfold) the closed columns; the selection leaves a column that folds."""
        self.fold_closed = fold
        for column in self.columns:
            column.set_folded(fold and column.info.closed)
        if self.selected_column is not None and self.selected_column.folded:
            self.column_index = self._nearest_open(self.column_index)
        self._sync()

    def _nearest_open(self, start: int) -> int:
        order = sorted(range(len(self.columns)), key=lambda i: (abs(i - start), i))
        return next((i for i in order if not self.columns[i].folded), 0)

    # -- layout: which columns are in view --------------------------------------------------------
    def _sync(self) -> None:
        """Mark the active column, keep its cursor in view and choose the columns that fit."""
        for i, column in enumerate(self.columns):
            column.set_state(i == self.column_index, self.has_focus)
        rearranged = self._arrange()
        selected = self.selected_column
        if selected is None or not selected.is_mounted:
            return
        if rearranged or not selected.size.height:
            selected.call_after_refresh(selected.show_cursor)  # once the columns in view have their sizes
        else:
            selected.show_cursor()  # now, so the move and the scroll it needs go out in one frame

    def _arrange(self) -> bool:
        """Show the columns that fit around the selected one; True if that changed which are shown."""
        n = len(self.columns)
        width = self.size.width - 1  # the board's left padding
        if n == 0 or width <= 0:
            return False
        widths = [FOLDED_WIDTH if c.folded else MIN_WIDTH for c in self.columns]

        def fits(first: int, last: int) -> bool:
            total = sum(widths[first:last + 1])
            total += MORE_WIDTH if first > 0 else 0
            total += MORE_WIDTH if last < n - 1 else 0
            return total <= width

        sel = max(0, min(self.column_index, n - 1))
        first = max(0, min(self._first, sel))
        while first < sel and not fits(first, sel):
            first += 1
        last = sel
        while last + 1 < n and fits(first, last + 1):
            last += 1
        while first > 0 and fits(first - 1, last):
            first -= 1
        if last < n - 1 and all(c.folded for c in self.columns[last + 1:]):
            # only folded strips are left out: make room for them (they are where a card is moved to)
            while first < sel and not fits(first, n - 1):
                first += 1
            if fits(first, n - 1):
                last = n - 1
        self._first = first
        changed = self._share_width(first, last, width)
        for i, column in enumerate(self.columns):
            if column.display != (first <= i <= last):  # changed only when needed: each change is a re-layout
                column.display = first <= i <= last
                changed = True
        window = (first, last, n)
        if window != self._window:
            self._window = window
            left, right = self.query_one("#more-left", Static), self.query_one("#more-right", Static)
            left.set_class(first > 0, "-shown")
            right.set_class(last < n - 1, "-shown")
            left.update(f"◂\n{first}" if first > 0 else "")
            right.update(f"▸\n{n - 1 - last}" if last < n - 1 else "")
        return changed

    def _share_width(self, first: int, last: int, width: int) -> bool:
        """Share the width among the open columns in view, each column's share fixed by its own place among the
        open columns, not by its place in view: with `1fr` Textual gave the spare cells by place in view (19, 18,
        19, ...), so a sideways step that slid the window changed every column's width and drew every line of the
        board again (~40 ms at 120x40); now a column keeps its width and only the one coming into view is drawn.
        The spare cells go to every (k/spare)-th open column (Bresenham): any k open columns in a row get all of
        them. The columns out of view get their width too (one coming into view is drawn at once). True if a
        width changed."""
        shown = self.columns[first:last + 1]
        room = width - (MORE_WIDTH if first > 0 else 0) - (MORE_WIDTH if last < len(self.columns) - 1 else 0)
        room -= FOLDED_WIDTH * sum(1 for c in shown if c.folded)
        k = sum(1 for c in shown if not c.folded)
        each, spare = divmod(room, k) if k else (MIN_WIDTH, 0)
        changed = False
        j = 0  # the column's place among the open columns
        for column in self.columns:
            wanted = None  # folded: the stylesheet's width
            if not column.folded:
                extra = (j + 1) * spare // k - j * spare // k if k else 0
                wanted = max(MIN_WIDTH, each + extra) - 1  # its gap (margin) is the 1
                j += 1
            given = column.styles.inline.width  # what this set last time (setting it again lays the board out)
            if (given.cells if given is not None else None) != wanted:
                column.styles.width = wanted
                changed = True
        return changed

    def on_resize(self, _event: events.Resize) -> None:
        self._arrange()

    def prefetch_hidden(self) -> None:
        """Ask for the first page of the open columns out of view, so that a sideways step bringing one into
        view draws it filled at once (no read on that key, and the column is drawn once). Called after the board
        is drawn; a column not mounted yet asks for nothing (the call after `_swap_columns` does it then)."""
        for column in self.columns:
            if not column.display and not column.folded:
                column.want_first_page()

    def on_mount(self) -> None:
        unmounted = [c for c in self.columns if c.parent is None]
        if unmounted:
            self.mount(*unmounted, before=self.query_one("#more-right"))
        self._sync()

    def on_focus(self, _event: events.Focus) -> None:
        self._sync()

    def on_blur(self, _event: events.Blur) -> None:
        self._sync()

    def visible_columns(self) -> list[BoardColumn]:
        """The columns in view."""
        return [c for c in self.columns if c.display]

    # -- keys -------------------------------------------------------------------------------------
    def action_step(self, delta: int) -> None:
        """Select the next column left or right (folded ones are skipped), keeping the row in view."""
        self._typed_ahead = None
        source = self.selected_column
        i = self.column_index + delta
        while 0 <= i < len(self.columns) and self.columns[i].folded:
            i += delta
        if not 0 <= i < len(self.columns) or source is None:
            return
        target = self.columns[i]
        row = source.cursor - source.first_visible() if source.info.count else 0
        target.set_cursor(target.first_visible() + max(0, row))
        self.column_index = i
        self._sync()

    def _move_cursor(self, to: int) -> None:
        self._typed_ahead = None
        column = self.selected_column
        if column is None or column.info.count == 0:
            return
        column.set_cursor(to)
        self._sync()

    def _cursor_in_view(self, column: BoardColumn) -> int:
        """The cursor, or the first card in view if the mouse scrolled the cursor away."""
        cards = column.visible_range()
        if cards and column.cursor not in cards:
            return cards.start - 1 if column.cursor < cards.start else cards.stop
        return column.cursor

    def action_up(self) -> None:
        column = self.selected_column
        if column is not None:
            self._move_cursor(self._cursor_in_view(column) - 1)

    def action_down(self) -> None:
        column = self.selected_column
        if column is not None:
            self._move_cursor(self._cursor_in_view(column) + 1)

    def action_first(self) -> None:
        self._move_cursor(0)

    def action_last(self) -> None:
        column = self.selected_column
        if column is not None:
            self._move_cursor(column.info.count - 1)

    def action_page(self, delta: int) -> None:
        column = self.selected_column
        if column is not None:
            self._move_cursor(column.cursor + delta * max(1, column.card_rows // CARD_HEIGHT))

    def _wait_for_card(self, action: str, delta: int = 0) -> bool:
        """True (and the action kept for when the card comes) if the selected card is not loaded: its page is on
        its way, or a reload is (a page shorter than the column's count: the leads changed since it was counted)."""
        column = self.selected_column
        self._typed_ahead = None
        if column is not None and not column.folded and column.info.count and self.selected_card is None:
            self._typed_ahead = (action, delta, time.monotonic())
            return True
        return False

    def _run_typed_ahead(self) -> None:
        """Run the move or open typed ahead once its card is there (not if it waited more than TYPED_AHEAD_S)."""
        pending = self._typed_ahead
        if pending is None or self.selected_card is None:
            return
        self._typed_ahead = None
        action, delta, since = pending
        if time.monotonic() - since > TYPED_AHEAD_S:
            return
        if action == "move":
            self.action_move(delta)
        else:
            self.action_open()

    def action_move(self, delta: int) -> None:
        """Ask the screen to move the selected card one column left or right."""
        if self._wait_for_card("move", delta):
            return
        source = self.selected_column
        card = self.selected_card
        i = self.column_index + delta
        if source is None or card is None or not 0 <= i < len(self.columns):
            return
        self.post_message(self.MoveRequested(self, card, source.info, self.columns[i].info))

    def action_open(self) -> None:
        """Ask the screen to open the selected card."""
        if self._wait_for_card("open"):
            return
        column = self.selected_column
        card = self.selected_card
        if column is not None and card is not None:
            self.post_message(self.OpenRequested(self, card, column.loaded_numbers()))

    def on_board_column_page_loaded(self, event: BoardColumn.PageLoaded) -> None:
        event.stop()
        if event.column is self.selected_column:
            self._run_typed_ahead()

    def on_board_column_clicked(self, event: BoardColumn.Clicked) -> None:
        event.stop()
        self.focus()
        if event.index is not None:
            self.select(event.column.info.name, event.index)
