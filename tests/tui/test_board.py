"""The kanban board: keys, moves by the workflow rules (checked in the database), filters, folding, scale,
and snapshots at 80x24 and 120x40."""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Select

from leaddesk.app import LeadDeskApp, make_app
from leaddesk.settings import Settings
from leaddesk.store.desk import Desk
from leaddesk.store.queries import LeadFilter
from leaddesk.widgets.board import CARD_HEIGHT, PAGE_SIZE, Board

from .conftest import settle

ROOT = Path(__file__).resolve().parents[2]
SALES = ["New", "Attempted to contact", "Contacted", "Engaged", "Qualified", "Converted", "Disqualified"]

Scenario = Callable[[Pilot[None]], Awaitable[None]]


def drive(app: LeadDeskApp, scenario: Scenario, size: tuple[int, int] = (80, 24)) -> None:
    """Run the app headless at `size`, settle, then play `scenario`."""

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await calm(pilot)
            await scenario(pilot)

    asyncio.run(main())


async def calm(pilot: Pilot[None]) -> None:
    """Like `settle`, but returns once two pauses in a row find no worker running (a worker hands its
    result to the UI before it finishes; the pauses let what that starts - a mount, a page request - run)."""
    app = pilot.app
    quiet = 0
    for _ in range(30):
        await pilot.pause()
        if all(w.is_finished for w in app.workers):
            quiet += 1
            if quiet == 2:
                return
        else:
            quiet = 0
            await app.workers.wait_for_complete()


async def press(pilot: Pilot[None], *keys: str) -> None:
    """Press keys, then wait for the workers they started."""
    await pilot.press(*keys)
    await calm(pilot)


def board_of(pilot: Pilot[None]) -> Board:
    return pilot.app.screen.query_one(Board)


def notes(app: LeadDeskApp) -> list[str]:
    return [n.message for n in app._notifications]


def selected(board: Board) -> tuple[str, int]:
    column, card = board.selected_column, board.selected_card
    assert column is not None and card is not None
    return column.info.name, card.number


async def go_to(pilot: Pilot[None], status: str) -> Board:
    """Select the first card of a column by pressing `l` (the selection starts in the first column)."""
    board = board_of(pilot)
    steps = [c.info.name for c in board.columns].index(status) - board.column_index
    await press(pilot, *(["l"] * steps if steps > 0 else ["h"] * -steps), "g")
    assert selected(board)[0] == status
    return board


# -- what the board shows ----------------------------------------------------------------------------
def test_columns_in_order_with_counts_values_and_folding(app: LeadDeskApp, desk: Desk) -> None:
    expected = desk.board(LeadFilter())

    async def scenario(pilot: Pilot[None]) -> None:
        board = board_of(pilot)
        assert [c.info.name for c in board.columns] == SALES
        assert [(c.info.count, c.info.value_cents) for c in board.columns] == [
            (c["count"], c["value_cents"]) for c in expected]
        first = board.columns[0]
        new = desk.list_leads(LeadFilter(statuses=["New"], sort="priority", descending=True, limit=3))
        assert first.loaded_numbers()[:3] == [r["number"] for r in new]
        assert board.selected_card is not None and board.selected_card.number == new[0]["number"]
        # 80 columns: four open columns fit, a marker tells how many more are on the right
        assert [c.info.name for c in board.visible_columns()] == SALES[:4]
        assert "3" in str(pilot.app.screen.query_one("#more-right").render())
        # out of view: the first page only, read once the columns in view were drawn (a step shows it at once)
        assert all(c.pages_loaded == ([0] if c.info.count and not c.folded else []) for c in board.columns[4:])
        # fold the closed columns: narrow strips, skipped by the selection, still in view at the end
        before = board.columns[5].pages_loaded
        await press(pilot, "z")
        assert [c.folded for c in board.columns] == [False] * 5 + [True, True]
        await press(pilot, *["l"] * 6)
        assert board.selected_column is not None and board.selected_column.info.name == "Qualified"
        assert board.columns[5].display and board.columns[6].display
        assert board.columns[5].pages_loaded == before  # a folded column coming into view asks for no cards
        await press(pilot, "z", "l")
        assert board.selected_column is not None and board.selected_column.info.name == "Converted"
        assert not board.columns[5].folded and board.selected_card is not None
        await press(pilot, "n")
        assert type(pilot.app.screen).__name__ == "NewLeadDialog"

    drive(app, scenario)


# -- moves ----------------------------------------------------------------------------------------------
def test_moves_into_open_statuses_refusals_and_qualify(app: LeadDeskApp, desk: Desk) -> None:
    for kind in ("Inbound", "Outbound"):
        desk.catalog_change("types", "statuses", kind, [s for s in SALES if s != "Attempted to contact"])

    async def scenario(pilot: Pilot[None]) -> None:
        board = board_of(pilot)
        # refused: New -> Attempted to contact, which no lead type allows now
        before = selected(board)
        await press(pilot, "L")
        assert any("not allowed for lead type" in n for n in notes(pilot.app))
        assert desk.show(str(before[1]))["status"] == "New"
        assert selected(board) == before
        # allowed: Contacted -> Engaged, and back with shift+left
        board = await go_to(pilot, "Contacted")
        _status, number = selected(board)
        counts = [c.info.count for c in board.columns]
        await press(pilot, "L")
        assert desk.show(str(number))["status"] == "Engaged"
        assert selected(board) == ("Engaged", number)  # the card stays selected in its new column
        assert [c.info.count for c in board.columns][2:4] == [counts[2] - 1, counts[3] + 1]
        await press(pilot, "shift+left")
        assert desk.show(str(number))["status"] == "Contacted"
        assert selected(board) == ("Contacted", number)
        # refused: a won lead cannot be qualified
        board = await go_to(pilot, "Converted")
        _status, number = selected(board)
        await press(pilot, "H")
        assert any("only an open lead can be qualified" in n for n in notes(pilot.app))
        assert type(pilot.app.screen).__name__ == "BoardScreen"
        assert desk.show(str(number))["status"] == "Converted"
        assert selected(board) == ("Converted", number)
        # into Qualified: the wizard decides, not the board
        board = await go_to(pilot, "Engaged")
        _status, number = selected(board)
        await press(pilot, "L")
        assert type(pilot.app.screen).__name__ == "QualifyScreen"
        assert pilot.app.screen.number == number  # type: ignore[attr-defined]
        assert desk.show(str(number))["status"] == "Engaged"

    drive(app, scenario)


def test_moving_into_won_asks_the_job_value(app: LeadDeskApp, desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Board, "prefetch_hidden", lambda _board: None)  # the columns out of view read nothing

    async def scenario(pilot: Pilot[None]) -> None:
        board = board_of(pilot)
        for _ in range(4):  # to Qualified, out of view at 80 columns: its cards are not loaded yet...
            board.action_step(1)
        assert board.selected_column is not None and board.selected_column.info.name == "Qualified"
        assert board.selected_card is None
        board.action_move(1)  # ...so the move typed ahead waits for them
        await calm(pilot)
        assert type(pilot.app.screen).__name__ == "WonDialog"
        _status, number = selected(board)
        await press(pilot, "escape")  # cancelled: nothing changes
        assert type(pilot.app.screen).__name__ == "BoardScreen"
        assert desk.show(str(number))["status"] == "Qualified"
        assert selected(board) == ("Qualified", number)
        await press(pilot, "L")
        await press(pilot, *"12,500", "enter")
        assert type(pilot.app.screen).__name__ == "BoardScreen"
        lead = desk.show(str(number))
        assert (lead["status"], lead["job_value_cents"]) == ("Converted", 1_250_000)
        assert selected(board) == ("Converted", number)

    drive(app, scenario)


def test_moving_into_lost_asks_the_reason_and_back_reopens(app: LeadDeskApp, desk: Desk) -> None:
    # Outbound leads go New -> Contacted -> Disqualified: with that type chosen, Disqualified is next door
    desk.catalog_change("types", "statuses", "Outbound", ["New", "Contacted", "Disqualified"])

    async def scenario(pilot: Pilot[None]) -> None:
        await press(pilot, "t", "t")  # All types -> Inbound -> Outbound
        board = await go_to(pilot, "Contacted")
        assert [c.info.name for c in board.columns] == ["New", "Contacted", "Disqualified"]
        _status, number = selected(board)
        await press(pilot, "L")
        assert type(pilot.app.screen).__name__ == "LostDialog"
        pilot.app.screen.query_one("#reason", Select).value = "Budget"
        await press(pilot, "ctrl+s")
        assert type(pilot.app.screen).__name__ == "BoardScreen"
        lead = desk.show(str(number))
        assert (lead["status"], lead["lost_reason"]) == ("Disqualified", "Budget")
        assert selected(board) == ("Disqualified", number)
        await press(pilot, "H")  # back to an open column: a reopen
        lead = desk.show(str(number))
        assert (lead["status"], lead["lost_reason"]) == ("Contacted", None)
        assert selected(board) == ("Contacted", number)

    drive(app, scenario)


# -- keys -------------------------------------------------------------------------------------------
def test_keys_move_the_selection_and_enter_opens_the_card(app: LeadDeskApp, desk: Desk,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[tuple[int, list[int] | None]] = []
    real = app.open_lead

    def open_lead(number: int, siblings: list[int] | None = None) -> None:
        opened.append((number, siblings))
        real(number, siblings)

    monkeypatch.setattr(app, "open_lead", open_lead)
    new = [r["number"] for r in desk.list_leads(LeadFilter(statuses=["New"], sort="priority", descending=True,
                                                           limit=5))]
    contacted = [r["number"] for r in desk.list_leads(LeadFilter(statuses=["Contacted"], sort="priority",
                                                                 descending=True, limit=5))]

    async def scenario(pilot: Pilot[None]) -> None:
        board = board_of(pilot)
        await press(pilot, "j", "j")
        assert selected(board) == ("New", new[2])
        await press(pilot, "k")
        assert selected(board) == ("New", new[1])
        await press(pilot, "down", "up", "up")
        assert selected(board) == ("New", new[0])
        await press(pilot, "l", "right")
        assert selected(board) == ("Contacted", contacted[0])
        await press(pilot, "h", "left", "left")  # stops at the first column
        assert selected(board) == ("New", new[0])
        await press(pilot, "G")
        assert board.columns[0].cursor == board.columns[0].info.count - 1
        await press(pilot, "g")
        assert selected(board) == ("New", new[0])
        column = board.columns[1]
        await pilot.click(column, offset=(3, 2 + CARD_HEIGHT + 1))  # a click selects the second card
        await calm(pilot)
        number = column.loaded_numbers()[1]
        assert selected(board) == (column.info.name, number)
        await press(pilot, "enter")  # the lead card, with the column's loaded cards as its siblings
        assert opened == [(number, column.loaded_numbers())]
        assert len(column.loaded_numbers()) == column.info.count
        assert type(pilot.app.screen).__name__ == "LeadCardScreen"
        assert pilot.app.screen.number == number  # type: ignore[attr-defined]

    drive(app, scenario)


@pytest.mark.parametrize("waits", [True, False])
def test_an_enter_typed_while_a_column_is_behind_its_count_opens_the_card_after_the_reload(
        app: LeadDeskApp, desk: Desk, monkeypatch: pytest.MonkeyPatch, waits: bool) -> None:
    """Another process wrote between the column's count and its page (the soak met it: the page was one card
    short of the count, the cursor on the missing card, and its enter waited for a page that never came). The
    enter waits for the reload that the write brings, then opens the card; not if it waited too long."""
    if not waits:
        monkeypatch.setattr("leaddesk.widgets.board.TYPED_AHEAD_S", 0.0)

    async def scenario(pilot: Pilot[None]) -> None:
        board = board_of(pilot)
        column = board.columns[0]
        page = [column.card(i) for i in range(min(column.info.count, PAGE_SIZE))]
        assert all(card is not None for card in page)
        last = len(page) - 1
        column.update_info(column.info, first_page=page[:-1])  # the count says one more than the page holds
        board.select(column.info.name, last)
        await calm(pilot)
        assert board.selected_card is None
        await press(pilot, "enter")
        assert type(pilot.app.screen).__name__ == "BoardScreen"  # no card under the cursor yet
        pilot.app.screen.reload()  # what the write's live refresh does
        await calm(pilot)
        assert selected(board) == (column.info.name, page[last].number)
        if waits:
            assert type(pilot.app.screen).__name__ == "LeadCardScreen"
            assert pilot.app.screen.number == page[last].number  # type: ignore[attr-defined]
        else:
            assert type(pilot.app.screen).__name__ == "BoardScreen"

    drive(app, scenario)


# -- filters -----------------------------------------------------------------------------------------
def counts(board: Board) -> dict[str, int]:
    return {c.info.name: c.info.count for c in board.columns}


def expected_counts(desk: Desk, **flt: Any) -> dict[str, int]:
    return {c["name"]: c["count"] for c in desk.board(LeadFilter(**flt))}


def test_filters_search_and_user_text_shown_literally(app: LeadDeskApp, desk: Desk) -> None:
    desk.add_lead({"name": "Zed \x1b[2J [b]x", "company": "[bold]Evil[/bold]"})
    inbound = next(t for t in desk.catalog_list("types") if t["name"] == "Inbound")["statuses"]
    assert inbound and len(inbound) < len(SALES)

    async def scenario(pilot: Pilot[None]) -> None:
        board = board_of(pilot)
        everyone = counts(board)
        await press(pilot, "m")  # my leads
        assert counts(board) == expected_counts(desk, mine=True) != everyone
        await press(pilot, "m")
        assert counts(board) == everyone
        await press(pilot, "t")  # a lead type: its allowed statuses become the columns
        assert pilot.app.screen.query_one("#type", Select).value == "Inbound"
        assert [c.info.name for c in board.columns] == inbound
        assert counts(board) == expected_counts(desk, type="Inbound")
        await press(pilot, "t", "t")  # Outbound (all statuses), then all types again
        assert [c.info.name for c in board.columns] == SALES
        assert counts(board) == everyone
        # search: the escape and the markup in user text are shown, not obeyed
        await press(pilot, "slash", *"zed", "enter")
        column = board.columns[0]
        assert column.info.count == 1 and sum(counts(board).values()) == 1
        assert pilot.app.focused is board
        name, company = ("".join(s.text for s in column.render_line(y)) for y in (2, 3))
        assert "Zed \\x1b[2" in name and "\x1b" not in name
        assert board.selected_card is not None and board.selected_card.contact == "Zed \\x1b[2J [b]x"
        assert "[bold]Evil[/" in company
        await press(pilot, "slash")
        assert isinstance(pilot.app.focused, Input)
        await press(pilot, *["backspace"] * 3, *"metro", "enter")
        assert counts(board) == expected_counts(desk, search="metro")
        card = board.selected_card
        assert card is not None and "metro" in (card.company + card.contact).lower()
        await press(pilot, "escape")  # clears the search
        assert counts(board) == everyone
        # source and owner, in a dialog
        await press(pilot, "F")
        dialog = pilot.app.screen
        assert type(dialog).__name__ == "FilterDialog"
        dialog.query_one("#source", Select).value = "Referral"
        dialog.query_one("#owner", Select).value = "kim"
        await press(pilot, "ctrl+s")
        assert counts(board) == expected_counts(desk, source="Referral", owner="kim")
        summary = str(pilot.app.screen.query_one("#summary").render())
        assert "source: Referral" in summary and "owner: kim" in summary

    drive(app, scenario)


# -- scale ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def big_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20,000 leads, built in bulk by bench/make_leads.py."""
    spec = importlib.util.spec_from_file_location("make_leads", ROOT / "bench" / "make_leads.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path_factory.mktemp("board-big") / "big.db"
    module.build_db(path, 20_000, activity_every=1_000)
    return path


@pytest.fixture
def big_desk(big_template: Path, tmp_path: Path) -> Iterator[Desk]:
    target = tmp_path / "big.db"
    shutil.copyfile(big_template, target)
    opened = Desk.open(str(target), login="bench", origin="tui", settings=Settings())
    yield opened
    opened.close()


def count_pages(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Record every page the board asks for, alone or with the counts: (status, offset). (The list, built in the
    background, is not a board page.)"""
    calls: list[tuple[str, int]] = []
    real = desk.list_leads

    def recording(flt: LeadFilter) -> list[dict[str, Any]]:
        if flt.statuses:
            calls.append((flt.statuses[0], flt.offset))
        return real(flt)

    real_view = desk.board_view

    def recording_view(flt: LeadFilter, pages_for: Callable[[list[dict[str, Any]]], dict[str, LeadFilter]]
                       ) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
        def asked(columns: list[dict[str, Any]]) -> dict[str, LeadFilter]:
            pages = pages_for(columns)
            counts = {c["name"]: c["count"] for c in columns}  # an empty column's page is not read
            calls.extend((page.statuses[0], page.offset) for page in pages.values()
                         if page.statuses and counts[page.statuses[0]])
            return pages
        return real_view(flt, asked)

    monkeypatch.setattr(desk, "list_leads", recording)
    monkeypatch.setattr(desk, "board_view", recording_view)
    return calls


def test_a_search_typed_in_one_burst_lands_in_the_box(app: LeadDeskApp, desk: Desk) -> None:
    """Keys arriving together (a fast typist, a slow SSH link): `/` then text goes into the search box, not to the
    board's own keys (`m` would toggle "mine", `t` the type); the arrow queued ahead of `/` does not take it back."""
    async def scenario(pilot: Pilot[None]) -> None:
        board = board_of(pilot)
        for key in ("down", "slash", *"metro"):
            pilot.app.post_message(events.Key(key, "/" if key == "slash" else (key if len(key) == 1 else None)))
        await pilot.pause(0.5)
        await calm(pilot)
        search = pilot.app.screen.query_one("#search", Input)
        assert search.value == "metro" and pilot.app.focused is search
        assert pilot.app.screen.query_one("#mine", Checkbox).value is False
        assert pilot.app.screen.query_one("#type", Select).is_blank()
        assert counts(board) == expected_counts(desk, search="metro")

    drive(app, scenario)


def test_a_big_desk_loads_only_the_pages_in_view(big_desk: Desk, desk: Desk,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    calls = count_pages(big_desk, monkeypatch)
    widgets: dict[str, int] = {}

    async def small(pilot: Pilot[None]) -> None:
        widgets["demo"] = len(list(board_of(pilot).query("*")))

    drive(make_app(Settings(), desk=desk), small)

    async def big(pilot: Pilot[None]) -> None:
        board = board_of(pilot)
        widgets["big"] = len(list(board.query("*")))
        first = board.columns[0]
        assert first.info.count > 4_000
        # one page per column in view, none for the columns out of view
        assert sorted(calls) == sorted((c.info.name, 0) for c in board.visible_columns() if c.info.count)
        assert len(calls) < len(board.columns)
        calls.clear()
        per_page = first.card_rows // CARD_HEIGHT  # what pagedown moves
        await press(pilot, *["pagedown"] * (100 // per_page), *["j"] * (100 % per_page))
        assert first.cursor == 100
        assert calls == [(first.info.name, PAGE_SIZE), (first.info.name, 2 * PAGE_SIZE)]
        assert first.pages_loaded == [0, 1, 2]
        calls.clear()
        await press(pilot, "G")  # the last card: one page, far away
        assert first.cursor == first.info.count - 1
        in_view = first.visible_range()
        assert in_view.stop == first.info.count and len(in_view) < PAGE_SIZE
        assert sorted(calls) == [(first.info.name, page * PAGE_SIZE)
                                 for page in range(in_view.start // PAGE_SIZE, in_view.stop // PAGE_SIZE + 1)]
        assert board.selected_card is not None

    drive(make_app(Settings(), desk=big_desk), big, size=(100, 105))  # 25 cards a page: 4 pagedowns
    assert widgets["big"] == widgets["demo"]


# -- snapshots --------------------------------------------------------------------------------------------
def snap(keys: tuple[str, ...] = ()) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await press(pilot, *keys)

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_snapshot_board(snap_compare: Any, app_factory: Callable[[], LeadDeskApp], size: tuple[int, int]) -> None:
    assert snap_compare(app_factory(), terminal_size=size, run_before=snap())


def test_snapshot_board_folded(snap_compare: Any, app_factory: Callable[[], LeadDeskApp]) -> None:
    assert snap_compare(app_factory(), terminal_size=(80, 24), run_before=snap(("z", "l", "l", "l", "l", "j")))


def test_snapshot_board_filtered(snap_compare: Any, app_factory: Callable[[], LeadDeskApp]) -> None:
    assert snap_compare(app_factory(), terminal_size=(80, 24), run_before=snap(("m", "t")))

