"""What a key costs on the terminal (issue 8): a cursor move repaints the two cards it touches, never a stale
line; a column draws its own scrollbar and it behaves as Textual's; the board's and the list's lines go out in
runs of one style. Bytes are what Textual writes for the frame, rendered for a truecolor terminal."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot

from leaddesk.app import LeadDeskApp
from leaddesk.screens.board import BoardScreen
from leaddesk.widgets.board import CARD_HEIGHT, HEADER_HEIGHT, Board, BoardColumn
from leaddesk.widgets.lead_table import LeadTable

from .conftest import settle

Scenario = Callable[[Pilot[None]], Awaitable[None]]
TRUECOLOR = Console(color_system="truecolor", force_terminal=True, legacy_windows=False, width=120)


def drive(app: LeadDeskApp, scenario: Scenario, size: tuple[int, int]) -> None:
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await scenario(pilot)

    asyncio.run(main())


class Frames:
    """The terminal bytes of every frame the app sends (headless, the app renders nothing: render it here)."""

    def __init__(self, app: LeadDeskApp) -> None:
        self.sizes: list[int] = []
        real = app._display

        def display(screen: Any, renderable: Any) -> None:
            if renderable is not None:
                self.sizes.append(len(renderable.render_segments(TRUECOLOR).encode()))
            real(screen, renderable)

        app._display = display  # type: ignore[method-assign]

    async def of(self, pilot: Pilot[None], key: str) -> int:
        """Bytes sent for `key` (every frame until the app is idle)."""
        self.sizes.clear()
        await pilot.press(key)
        await settle(pilot)
        return sum(self.sizes)


class Drawn:
    """Lines each column draws (render_line calls), by status."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.lines: dict[str, int] = {}
        real = BoardColumn.render_line

        def counting(column: BoardColumn, y: int) -> Any:
            self.lines[column.info.name] = self.lines.get(column.info.name, 0) + 1
            return real(column, y)

        monkeypatch.setattr(BoardColumn, "render_line", counting)


def pages_asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The columns (by status) that ask the screen for a page of cards, in order, from now on."""
    asked: list[str] = []
    ask = BoardScreen.on_board_column_page_wanted

    def counted(screen: BoardScreen, message: BoardColumn.PageWanted) -> None:
        asked.append(message.column.info.name)
        ask(screen, message)

    monkeypatch.setattr(BoardScreen, "on_board_column_page_wanted", counted)
    return asked


async def repainted_in_full(pilot: Pilot[None]) -> str:
    """The screen after every column is drawn again from scratch (what it should show)."""
    for column in pilot.app.screen.query(BoardColumn):
        column.refresh()
    await pilot.pause()
    return pilot.app.export_screenshot()


def test_a_cursor_move_repaints_only_the_cards_it_touches(app: LeadDeskApp,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = Drawn(monkeypatch)
    frames = Frames(app)

    async def scenario(pilot: Pilot[None]) -> None:
        board = pilot.app.screen.query_one(Board)
        shown_cards = board.columns[0].card_rows // CARD_HEIGHT
        assert shown_cards >= 4
        for key in ("j", "j", "k"):  # in view: the card left and the card reached, three lines each
            drawn.lines.clear()
            sent = await frames.of(pilot, key)
            assert drawn.lines == {"New": 2 * (CARD_HEIGHT - 1)}, key
            assert sent < 2048 and len(frames.sizes) == 1, (key, frames.sizes)
        drawn.lines.clear()
        sent = await frames.of(pilot, "l")  # the next column: each header changes colour, and one card each
        assert drawn.lines == {"New": HEADER_HEIGHT + CARD_HEIGHT - 1,
                               "Attempted to contact": HEADER_HEIGHT + CARD_HEIGHT - 1}
        assert sent < 2048 and len(frames.sizes) == 1, frames.sizes
        assert board.selected_column is board.columns[1]
        # a page down scrolls the column: that column is drawn again, in one frame (the scroll and the cursor)
        drawn.lines.clear()
        sent = await frames.of(pilot, "pagedown")
        assert set(drawn.lines) == {"Attempted to contact"}
        assert sent < 20 * 1024 and len(frames.sizes) == 1, frames.sizes

    drive(app, scenario, (120, 40))


def test_a_step_that_slides_the_columns_draws_only_the_column_coming_into_view(
        app: LeadDeskApp, monkeypatch: pytest.MonkeyPatch) -> None:
    """At 120x40 six of the seven columns fit. Stepping right from the sixth slides the window by one: the columns
    that stay keep their width (with `1fr` the spare cells went by place in view, so every width changed and every
    line of the board was drawn again: ~40 ms of the key), and the one coming into view has its first page already (read
    after the board was drawn): no read; only its lines and the card and header the selection left are drawn."""
    drawn = Drawn(monkeypatch)
    frames = Frames(app)
    asked = pages_asked(monkeypatch)

    async def scenario(pilot: Pilot[None]) -> None:
        board = pilot.app.screen.query_one(Board)
        for _ in range(5):
            await pilot.press("l")
        await settle(pilot)
        assert [c.display for c in board.columns] == [True] * 6 + [False]
        widths = {c.info.name: c.size.width for c in board.columns[1:6]}
        drawn.lines.clear()
        asked.clear()
        await frames.of(pilot, "l")
        assert [c.display for c in board.columns] == [False] + [True] * 6
        assert {c.info.name: c.size.width for c in board.columns[1:6]} == widths
        coming, left = board.columns[6], board.columns[5]
        assert board.selected_column is coming and coming.size.width in (18, 19)  # its own share of the width
        assert drawn.lines == {coming.info.name: coming.size.height,
                               left.info.name: HEADER_HEIGHT + CARD_HEIGHT - 1}, drawn.lines
        assert asked == [], asked
        assert len(frames.sizes) <= 2, frames.sizes  # the new layout's frame; Textual repaints the "◂" it showed
        assert coming.card(0) is not None

    drive(app, scenario, (120, 40))


def test_what_is_shown_after_any_key_is_what_a_full_repaint_shows(app: LeadDeskApp) -> None:
    async def scenario(pilot: Pilot[None]) -> None:
        board = pilot.app.screen.query_one(Board)
        for key in ("j", "j", "pagedown", "j", "l", "l", "G", "k", "g", "h", "slash", "escape", "z", "l", "z",
                    "end", "left", "home"):
            await pilot.press(key)
            await settle(pilot)
            shown = pilot.app.export_screenshot()
            assert shown == await repainted_in_full(pilot), f"stale lines after {key!r}"
        assert board.selected_card is not None

    drive(app, scenario, (80, 24))


def test_a_column_draws_its_scrollbar_and_it_scrolls_as_textuals_does(app: LeadDeskApp) -> None:
    async def scenario(pilot: Pilot[None]) -> None:
        board = pilot.app.screen.query_one(Board)
        column = board.columns[0]
        assert column.virtual_size.height > column.size.height  # more cards than fit: a scrollbar
        bar_x = column.size.width - 1
        before = board.selected_card
        thumb = column.size.height // 4  # the thumb is at the top, a quarter of the height or more
        # a press below the thumb: a page down; the selection stays
        await pilot.click(column, offset=(bar_x, column.size.height - 1))
        await pilot.wait_for_scheduled_animations()
        await settle(pilot)
        assert column.scroll_y == column.scrollable_content_region.height
        assert board.selected_card == before
        # a press above it: back up
        await pilot.click(column, offset=(bar_x, 0))
        await pilot.wait_for_scheduled_animations()
        await settle(pilot)
        assert column.scroll_y == 0
        # the thumb, held and dragged two lines down, moves the column; let go, the mouse no longer does
        await pilot.mouse_down(column, offset=(bar_x, 0))
        await pilot.hover(column, offset=(bar_x, 2))
        await pilot.wait_for_scheduled_animations()
        await settle(pilot)
        moved = column.scroll_y
        assert moved == pytest.approx(2 * column.virtual_size.height / column.size.height, abs=1)
        await pilot.mouse_up(column, offset=(bar_x, 2))
        await pilot.hover(column, offset=(bar_x, thumb + 6))
        await settle(pilot)
        assert column.scroll_y == moved
        assert board.selected_card == before
        # a click next to the scrollbar is a click on a card
        await pilot.click(column, offset=(bar_x - 1, HEADER_HEIGHT + CARD_HEIGHT + 1))
        await settle(pilot)
        assert board.selected_card is not None and board.selected_card != before

    drive(app, scenario, (80, 24))


def test_the_lists_cursor_and_pages_go_out_in_few_bytes(app: LeadDeskApp) -> None:
    frames = Frames(app)

    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("2")
        await settle(pilot)
        table = pilot.app.screen.query_one(LeadTable)
        row = list(table.render_line(2))
        assert all(a.style != b.style for a, b in itertools.pairwise(row))  # one segment per style run
        assert await frames.of(pilot, "down") < 1024
        assert await frames.of(pilot, "pagedown") < 20 * 1024

    drive(app, scenario, (120, 40))


def test_the_first_load_reads_the_cards_in_view_with_the_counts(app: LeadDeskApp,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The columns in view get their first cards with the counts, in the reload's one worker, so the filled board
    goes out in one frame (bench/run's start-up bytes: 130 -> 63 KB at 120x40): no column in view asks for a page
    of its own; the columns out of view ask for their first page once the board was drawn, so that a sideways step
    bringing one into view draws it filled at once."""
    asked = pages_asked(monkeypatch)

    async def scenario(pilot: Pilot[None]) -> None:
        board = pilot.app.screen.query_one(Board)
        shown = [c for c in board.columns if c.display and not c.folded]
        assert len(shown) == 6 and all(c.pages_loaded == [0] for c in shown if c.info.count)
        hidden = [c.info.name for c in board.columns if not c.display]
        assert hidden == ["Disqualified"] and all(c.pages_loaded == [0] for c in board.columns if not c.display)
        assert asked == hidden
        await pilot.press("l", "l", "l", "l", "end")  # the last card of Qualified (59): its second page is asked for
        await settle(pilot)
        assert board.selected_column is not None and board.selected_column.info.name == "Qualified"
        assert asked == [*hidden, "Qualified"]

    drive(app, scenario, (120, 40))


def test_the_columns_are_mounted_and_laid_out_with_the_screen_held(app: LeadDeskApp,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The columns are mounted with the screen's updates held until they are laid out (the layout that follows a
    mount, from the board's own queue, used to go out as a second frame of the whole board: bench/run's start-up
    bytes at 100k leads 101 -> 62 KB). Every layout of the board from the first cards on happens inside the hold,
    and the first frame with cards has them all."""
    layouts: list[tuple[bool, int]] = []  # (columns already made, the app's batch count) per layout of the board
    refresh = Board.refresh

    def recorded(board: Board, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("layout"):
            layouts.append((bool(board.columns), board.app._batch_count))
        return refresh(board, *args, **kwargs)

    monkeypatch.setattr(Board, "refresh", recorded)
    cards_per_frame: list[int] = []
    real = app._display

    def display(screen: Any, renderable: Any) -> None:
        if renderable is not None:
            cards_per_frame.append(renderable.render_segments(TRUECOLOR).count("#"))
        real(screen, renderable)

    app._display = display  # type: ignore[method-assign]

    async def scenario(pilot: Pilot[None]) -> None:
        board = pilot.app.screen.query_one(Board)
        assert sum(1 for c in board.columns if c.display) == 6
        after_columns = [count for made, count in layouts if made]
        assert len(after_columns) >= 2 and all(after_columns), layouts  # the mount's and its callback's, held
        first = next(n for n in cards_per_frame if n)
        assert first >= 30, f"card numbers drawn per frame: {cards_per_frame}"  # six columns of cards at once

    drive(app, scenario, (120, 40))
