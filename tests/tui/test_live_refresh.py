"""Live refresh across processes: the app (headless, in this process) shows what another OS process
(`python -m leaddesk --user kim ...`) commits to the same SQLite file within 1.5 s, keeping the cursor on the
same lead and the marks; with nothing committed it neither reloads nor repaints.

The board test runs with the app's own interval (a look every second); the list and card tests look every
quarter second, to stay quick: they are about what a refresh keeps, the board test about how soon it comes.

No asyncio plugin is installed: Pilot tests are sync tests that run their body with `asyncio.run`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, Select, TabbedContent

from leaddesk.app import LeadDeskApp
from leaddesk.screens.board import BoardScreen, card_filter
from leaddesk.screens.lead_card import LeadCardScreen
from leaddesk.screens.leads import ListScreen
from leaddesk.settings import Settings
from leaddesk.store.desk import Desk
from leaddesk.store.queries import LeadFilter
from leaddesk.widgets.lead_form import LeadForm
from leaddesk.widgets.timeline import HistoryTable

from .conftest import calm, settle

WITHIN = 1.5  # seconds from the other process's exit to the change on screen (the app looks every second)
ROOT = Path(__file__).parents[2]


async def other_process(db: Path, *args: str) -> None:
    """Run `leaddesk --db DB --user kim ARGS` in its own OS process, without blocking the app's event loop."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "leaddesk", "--db", str(db), "--user", "kim", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, (out, err)


async def shows(pilot: Pilot[None], check: Callable[[], bool], within: float = WITHIN) -> float:
    """Wait (in small steps, bounded) until `check()` holds; return how long it took."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < within, f"not shown within {within} s"
        await pilot.pause(0.05)
    return time.monotonic() - start


def count_calls(monkeypatch: Any, owner: Any, name: str) -> list[Any]:
    """Record every call of `owner.name` (still calling it)."""
    calls: list[Any] = []
    original = getattr(owner, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[1:2])
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, spy)
    return calls


def test_the_board_shows_another_process_move_and_keeps_the_selected_card(app: LeadDeskApp, desk: Desk,
                                                                           demo_db: Path) -> None:
    contacted = [r for r in desk.list_leads(card_filter(LeadFilter(), "Contacted"))]
    selected = contacted[1]

    def ahead(row: dict[str, Any]) -> bool:  # sorts before the selected card in the Contacted column
        return (row["priority"], row["number"]) > (selected["priority"], selected["number"])

    mover = next(r for r in desk.list_leads(card_filter(LeadFilter(), "New"))
                 if ahead(r) and "Contacted" in [c["name"] for c in desk.status_choices(str(r["number"]))])

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, BoardScreen)
            board = screen.board
            assert board.select("Contacted", 1)
            await shows(pilot, lambda: board.selected_card is not None)
            assert board.selected_card is not None and board.selected_card.number == selected["number"]
            column = board.column("Contacted")
            assert column is not None
            count = column.info.count

            await other_process(demo_db, "status", str(mover["number"]), "contacted")
            await shows(pilot, lambda: column.info.count == count + 1 and board.selected_card is not None
                        and mover["number"] in column.loaded_numbers())
            card = board.selected_card
            assert card is not None and card.number == selected["number"]  # the same lead, one row lower
            assert column.cursor == 2 and board.selected_column is column

    asyncio.run(run())


def test_the_list_shows_another_process_change_and_keeps_cursor_and_marks(app: LeadDeskApp, desk: Desk,
                                                                          demo_db: Path) -> None:
    app.poll_every = 0.25

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("2")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, ListScreen)
            table = screen.table
            await pilot.press("S")  # newest first: a new lead comes in above the cursor
            await settle(pilot)
            await pilot.press("down", "down", "space", "down", "space", "down")
            first, second, here = (table.row_at(i) for i in (2, 3, 4))
            assert first and second and here
            assert table.marked == {first["number"], second["number"]} and table.cursor == 4
            total = table.total
            number = here["number"]
            day = "2026-12-24" if here["followup_on"] != "2026-12-24" else "2026-12-23"

            await other_process(demo_db, "followup", str(number), day)
            await shows(pilot, lambda: (table.cursor_lead or {}).get("followup_on") == day)
            assert table.cursor == 4 and (table.cursor_lead or {})["number"] == number

            other = Desk.open(str(demo_db), login="kim", settings=Settings())  # another connection adds a lead
            try:
                added = other.add_lead({"name": "Written Elsewhere"})
            finally:
                other.close()
            await shows(pilot, lambda: table.total == (total or 0) + 1 and table.cursor == 5)
            assert (table.cursor_lead or {})["number"] == number  # kept on the same lead, one row lower
            assert (table.row_at(0) or {})["number"] == added["number"]
            assert table.marked == {first["number"], second["number"]}

    asyncio.run(run())


def test_an_open_card_shows_another_process_changes_and_keeps_unsaved_edits(app: LeadDeskApp, desk: Desk,
                                                                           demo_db: Path) -> None:
    row = desk.list_leads(LeadFilter(limit=1, mine=True, statuses=["Contacted"]))[0]
    target = desk.show(str(row["number"]))
    ref = str(target["number"])
    status = next(c["name"] for c in desk.status_choices(ref) if not c["current"])
    notes = len(target["activities"])
    app.poll_every = 0.25

    async def run() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.open_lead(target["number"], [target["number"]])
            await calm(pilot)
            screen = app.screen
            assert isinstance(screen, LeadCardScreen)
            form = screen.query_one(LeadForm)
            zone = form.widget_for("zone")
            assert isinstance(zone, Input)
            zone.value = "Unsaved North"
            tabs = screen.query_one(TabbedContent)
            tabs.active = "history"
            history = screen.query_one(HistoryTable)
            history.focus()
            await pilot.press("down", "down")
            await calm(pilot)
            reading = history.coordinate_to_cell_key(history.cursor_coordinate).row_key

            await other_process(demo_db, "note", ref, "Called back from a script")
            await shows(pilot, lambda: str(tabs.get_tab("activity").label) == f"Activity ({notes + 1})")
            assert history.cursor_row == 3 and screen.focused is history  # the same row, under the new one
            assert history.coordinate_to_cell_key(history.cursor_coordinate).row_key == reading
            await other_process(demo_db, "status", ref, status)
            await shows(pilot, lambda: screen.query_one("#status", Select).value == status)
            assert history.cursor_row == 4 and screen.number == target["number"] and tabs.active == "history"
            tabs.active = "details"
            await calm(pilot)
            assert zone.value == "Unsaved North" and form.dirty
            await pilot.press("ctrl+s")  # the edit is based on an older read, but nobody else touched the zone
            await calm(pilot)
            assert desk.show(ref)["zone"] == "Unsaved North" and desk.show(ref)["status"] == status

    asyncio.run(run())


def test_without_changes_nothing_reloads_or_repaints_and_a_covered_view_waits(
        app: LeadDeskApp, demo_db: Path, monkeypatch: Any) -> None:
    app.poll_every = 0.1  # look ten times a second: the idle moment below sees several polls

    async def run() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.pause(0.2)
            board = app.screen
            assert isinstance(board, BoardScreen) and app.desk is not None
            polls = count_calls(monkeypatch, app.desk.db, "data_version")
            reloads = count_calls(monkeypatch, board, "reload")
            painted = count_calls(monkeypatch, app, "_display")
            await pilot.pause(0.7)
            assert len(polls) >= 4
            assert reloads == [] and [p for p in painted if p != (None,)] == []  # nothing new: nothing drawn

            other = Desk.open(str(demo_db), login="kim", settings=Settings())
            try:
                other.add_activity("1", "note", "from another connection")
                await shows(pilot, lambda: len(reloads) == 1)
                await calm(pilot)
                app.open_lead(1, [1])
                await calm(pilot)
                card = app.screen
                assert isinstance(card, LeadCardScreen)
                card_loads = count_calls(monkeypatch, card, "reload")
                other.add_activity("1", "note", "and another")
                await shows(pilot, lambda: len(card_loads) == 1)
                await pilot.pause(0.2)
                assert len(reloads) == 1  # the board under the card waits until it shows again...
                await pilot.press("escape")
                await calm(pilot)
                assert len(reloads) == 2  # ...then catches up once
            finally:
                other.close()

    asyncio.run(run())
