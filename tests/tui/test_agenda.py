"""The agenda (key 4), the board's `f`, and the follow-up reminders: keys checked against the database,
reminders with an advancing clock, and snapshots of the agenda at 80x24 and 120x40. The clock is fixed at
Thursday 2026-11-26 12:00 UTC (tests/tui/conftest.py); ann acts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input

from leaddesk import clock
from leaddesk.app import LeadDeskApp
from leaddesk.screens.agenda import AgendaScreen
from leaddesk.screens.followup_dialog import DoneDialog, FollowupDialog
from leaddesk.screens.lead_card import LeadCardScreen
from leaddesk.store.desk import Desk
from leaddesk.store.queries import LeadFilter
from leaddesk.widgets.agenda_table import AgendaTable
from leaddesk.widgets.board import Board

from .conftest import SIZES, calm, drive, snapshot_of

Scenario = Callable[[Pilot[None]], Awaitable[None]]


def table_of(pilot: Pilot[None]) -> AgendaTable:
    return pilot.app.screen.query_one(AgendaTable)


def messages(pilot: Pilot[None]) -> list[str]:
    return [str(n.message) for n in pilot.app._notifications]


def agenda_numbers(desk: Desk, **options: Any) -> list[int]:
    return [r["number"] for r in desk.agenda(LeadFilter(limit=None, **options))]


@pytest.fixture
def timed(desk: Desk) -> Desk:
    """A few of ann's follow-ups get a time and a note (the demo sets dates only)."""
    today = agenda_numbers(desk, mine=True, due="today")
    for number, at, note in zip(today[:3], ("09:00", "12:30", "16:45"), ("send the quote", "call back",
                                                                       "confirm the site visit"), strict=True):
        desk.set_followup(str(number), "today", at=at, note=note)
    return desk


# -- the agenda ---------------------------------------------------------------------------------------
def test_key_4_shows_my_follow_ups_by_day(app: LeadDeskApp, timed: Desk) -> None:
    async def scenario(pilot: Pilot[None]) -> None:
        commands = {c.title for c in pilot.app.get_system_commands(pilot.app.screen)}
        assert "view: agenda" in commands
        await pilot.press("4")
        await calm(pilot)
        assert isinstance(pilot.app.screen, AgendaScreen)
        table = table_of(pilot)
        mine = timed.agenda_groups(LeadFilter(mine=True))
        headings = [line for line in table.lines() if line.startswith(" ") and " · " in line]
        assert headings == [f" {g['label']} · {g['count']}" for g in mine]
        assert headings[0].startswith(" Overdue · ") and headings[1].startswith(" Today · ")
        first_today = timed.agenda(LeadFilter(mine=True, limit=1, offset=mine[1]["offset"]))[0]
        assert first_today["followup_time"] == "12:30"  # 09:00 passed: it went to Overdue
        lines = table.lines()
        at = lines.index(headings[1])
        assert "12:30" in lines[at + 1] and "call back" in lines[at + 1]
        summary = str(pilot.app.screen.query_one("#agenda-summary").render())
        overdue = mine[0]["count"]
        assert f"mine · all · {sum(g['count'] for g in mine)} follow-ups · {overdue} overdue" in summary
        # everyone's, then back; the window cycles
        await pilot.press("m")
        await calm(pilot)
        assert table.total == sum(g["count"] for g in timed.agenda_groups(LeadFilter()))
        await pilot.press("m", "v")
        await calm(pilot)
        assert table.total == len(agenda_numbers(timed, mine=True, due="by-today"))
        assert "due by today" in str(pilot.app.screen.query_one("#agenda-summary").render())

    drive(app, scenario)


def test_enter_opens_the_card_and_d_marks_done_with_a_note(app: LeadDeskApp, timed: Desk) -> None:
    first = agenda_numbers(timed, mine=True)[0]

    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("4")
        await calm(pilot)
        await pilot.press("enter")
        await calm(pilot)
        assert isinstance(pilot.app.screen, LeadCardScreen) and pilot.app.screen.number == first
        await pilot.press("escape")
        await calm(pilot)
        await pilot.press("d")
        await calm(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, DoneDialog) and f"#{first}" in dialog.title_text
        dialog.query_one("#note", Input).value = "reached him, sending the quote"
        await pilot.press("enter")
        await calm(pilot)
        assert isinstance(pilot.app.screen, AgendaScreen)
        lead = timed.show(str(first))
        assert lead["followup_on"] is None
        assert lead["activities"][0]["body"] == "follow-up done: reached him, sending the quote"
        assert first not in agenda_numbers(timed, mine=True)
        assert table_of(pilot).cursor_row["number"] != first  # type: ignore[index]
        assert f"Follow-up of #{first} done" in messages(pilot)

    drive(app, scenario)


def test_s_reschedules_with_a_relative_date(app: LeadDeskApp, timed: Desk) -> None:
    first = agenda_numbers(timed, mine=True)[0]

    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("4")
        await calm(pilot)
        await pilot.press("s")
        await calm(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, FollowupDialog)
        await pilot.click("#quick-3")  # Mon
        assert dialog.query_one("#date", Input).value == "monday"
        assert "Mon 30 Nov 2026 · in 4 days" in str(dialog.query_one("#preview").render())
        dialog.query_one("#time", Input).value = "10am"
        await pilot.press("ctrl+s")
        await calm(pilot)
        lead = timed.show(str(first))
        assert (lead["followup_on"], lead["followup_time"]) == ("2026-11-30", "10:00")
        table = table_of(pilot)
        assert table.cursor_row is not None and table.cursor_row["number"] != first
        await pilot.press("f")  # f reschedules too
        await calm(pilot)
        assert isinstance(pilot.app.screen, FollowupDialog)
        await pilot.press("escape")

    drive(app, scenario)


# -- the board's f and F ------------------------------------------------------------------------------
def test_f_on_the_board_sets_the_highlighted_cards_follow_up_and_F_filters(app: LeadDeskApp, desk: Desk) -> None:
    async def scenario(pilot: Pilot[None]) -> None:
        board = pilot.app.screen.query_one(Board)
        card = board.selected_card
        assert card is not None
        await pilot.press("f")
        await calm(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, FollowupDialog) and f"#{card.number}" in dialog.title_text
        dialog.query_one("#date", Input).value = "tomorrow 9:15"
        dialog.query_one("#note", Input).value = "first call"
        await pilot.press("ctrl+s")
        await calm(pilot)
        lead = desk.show(str(card.number))
        assert (lead["followup_on"], lead["followup_time"], lead["followup_note"]) == (
            "2026-11-27", "09:15", "first call")
        assert any(m.startswith(f"Follow-up of #{card.number}: 2026-11-27 at 09:15") for m in messages(pilot))
        selected = board.selected_card
        assert selected is not None and selected.number == card.number and selected.followup is not None
        await pilot.press("F")
        await calm(pilot)
        assert type(pilot.app.screen).__name__ == "FilterDialog"

    drive(app, scenario)


# -- reminders ----------------------------------------------------------------------------------------
async def reminded(pilot: Pilot[None]) -> None:
    """Until the reminders on opening have been looked up (they start once the first view has its data)."""
    for _ in range(100):
        if "⚑" in pilot.app.sub_title:
            return
        await pilot.pause(0.05)
        await calm(pilot)


def test_reminders_on_opening_when_one_comes_due_and_the_count_in_the_header(app: LeadDeskApp,
                                                                            desk: Desk) -> None:
    app.reminders = True
    app.remind_every = 0.05
    summary = desk.followup_reminders()
    soon = agenda_numbers(desk, mine=True, due="today")[0]
    desk.set_followup(str(soon), "today", at="12:05", note="call back about the van")
    lead = desk.show(str(soon))

    async def scenario(pilot: Pilot[None]) -> None:
        await reminded(pilot)
        opening = [n for n in pilot.app._notifications if n.title == "Your follow-ups"]
        assert [str(n.message) for n in opening] == [
            f"{summary['overdue']} overdue and {summary['today']} due today — 4 opens the agenda"]
        assert pilot.app.sub_title == f"ann · desk.db · ⚑ {summary['overdue']} overdue"
        assert not [n for n in pilot.app._notifications if n.title == "Follow-up due"]
        clock.freeze(datetime(2026, 11, 26, 12, 5, 20, tzinfo=UTC))
        await pilot.pause(0.2)
        await calm(pilot)
        due = [str(n.message) for n in pilot.app._notifications if n.title == "Follow-up due"]
        name = lead["contact_name"] or lead["company"]
        assert len(due) == 1 and due[0].startswith(f"12:05 #{soon} {name}")
        assert due[0].endswith("— call back about the van")
        await pilot.pause(0.2)
        await calm(pilot)
        assert len([n for n in pilot.app._notifications if n.title == "Follow-up due"]) == 1  # once
        clock.freeze(datetime(2026, 11, 26, 12, 6, tzinfo=UTC))
        await pilot.pause(0.2)
        await calm(pilot)
        assert pilot.app.sub_title == f"ann · desk.db · ⚑ {summary['overdue'] + 1} overdue"

    drive(app, scenario)


def test_the_header_count_follows_a_change_made_here(app: LeadDeskApp, desk: Desk) -> None:
    app.reminders = True
    overdue = desk.followup_reminders()["overdue"]
    late = agenda_numbers(desk, mine=True, due="overdue")[0]

    async def scenario(pilot: Pilot[None]) -> None:
        await reminded(pilot)
        assert pilot.app.sub_title.endswith(f"⚑ {overdue} overdue")
        await pilot.press("4")
        await calm(pilot)
        await pilot.press("d")
        await calm(pilot)
        await pilot.press("enter")
        await calm(pilot)
        assert desk.show(str(late))["followup_on"] is None
        assert pilot.app.sub_title.endswith(f"⚑ {overdue - 1} overdue")

    drive(app, scenario)


# -- snapshots ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_agenda(snap_compare: Any, app_factory: Callable[[], LeadDeskApp], timed: Desk,
                         size: tuple[int, int]) -> None:
    app = app_factory()
    app.reminders = True

    async def scenario(pilot: Pilot[None]) -> None:
        pilot.app.clear_notifications()
        await pilot.press("j", "j")

    assert snapshot_of(snap_compare, app, size, scenario, start=lambda a: a.switch_mode("agenda"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_followup_dialog(snap_compare: Any, app_factory: Callable[[], LeadDeskApp], timed: Desk,
                                  size: tuple[int, int]) -> None:
    number = agenda_numbers(timed, mine=True, due="today")[1]
    app = app_factory()

    async def before(pilot: Pilot[None]) -> None:  # over a blank screen: the dialog alone is under test
        await calm(pilot)
        await app.push_screen(Screen())
        app.push_screen(FollowupDialog(number, title="Reschedule"))
        await calm(pilot)
        pilot.app.screen.query_one("#date", Input).value = "fri"
        await calm(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)
