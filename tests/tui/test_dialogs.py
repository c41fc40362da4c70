"""The modal dialogs of `leaddesk.screens.dialogs`: what they refuse inline, what they save, what they answer;
snapshots at 80x24 and 120x40 (over a blank screen, so other views' changes don't move them)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, Label, Select, Static

from leaddesk.app import LeadDeskApp
from leaddesk.screens.dialogs import ConfirmDialog, LostDialog, NewLeadDialog, TextDialog, WonDialog
from leaddesk.store.desk import Desk

from .conftest import SIZES, settle

Scenario = Callable[[Pilot[None]], Awaitable[None]]
OPEN_LEAD = 19  # Ashley Thomas, Clearview Optometry, 816.555.0152: open, no deal
OTHER_OPEN_LEAD = 49  # Anthony Wright, Cedar Hollow Farms: open


def run(app: LeadDeskApp, scenario: Scenario) -> None:
    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await app.push_screen(Screen())  # over a blank screen: the view below doesn't redraw at each step
            await scenario(pilot)

    asyncio.run(main())


def error_of(pilot: Pilot[None]) -> str:
    return str(pilot.app.screen.query_one("#error", Static).content)


async def type_into(pilot: Pilot[None], selector: str, text: str) -> None:
    """Focus an Input and set its value (typing each character through Pilot is slow)."""
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = text
    field.cursor_position = len(text)
    await pilot.pause()


def test_new_lead_dialog(app: LeadDeskApp, desk: Desk) -> None:
    async def scenario(pilot: Pilot[None]) -> None:
        app.new_lead()
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, NewLeadDialog)
        assert dialog.query_one("#name", Input).has_focus
        await pilot.press("enter")  # enter on a field that isn't the last moves on; it doesn't submit
        assert dialog.query_one("#company", Input).has_focus
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert error_of(pilot) == "a lead needs a contact name or a company"
        await type_into(pilot, "#name", "Zed Quinn")
        await type_into(pilot, "#phone", "(816) 555-0152")  # lead 19's phone, written differently
        await pilot.click("#ok")
        await settle(pilot)
        assert app.screen is dialog
        error = error_of(pilot)
        assert error.startswith(f"already in the desk: #{OPEN_LEAD} Ashley Thomas (phone)")
        assert error.endswith("Press OK again to add it anyway.")
        dialog.action_submit()  # OK again: adds it; a second submit while the first runs is ignored
        dialog.action_submit()
        await settle(pilot)
        assert type(app.screen).__name__ == "LeadCardScreen"
        number = app.screen.number  # type: ignore[attr-defined]
        lead = desk.show(str(number))
        assert (lead["contact_name"], lead["phone"], lead["status_category"]) == ("Zed Quinn", "(816) 555-0152", "open")

    before = desk.count_leads(_all())
    run(app, scenario)
    assert desk.count_leads(_all()) == before + 1


def _all() -> Any:
    from leaddesk.store.queries import LeadFilter

    return LeadFilter()


def test_won_and_lost_dialogs(app: LeadDeskApp, desk: Desk) -> None:
    answers: list[Any] = []

    async def scenario(pilot: Pilot[None]) -> None:
        # won: 0 is refused inline, a value is saved
        app.push_screen(WonDialog(OPEN_LEAD), answers.append)
        await settle(pilot)
        await pilot.press("0", "enter")
        await settle(pilot)
        assert isinstance(app.screen, WonDialog)
        assert error_of(pilot) == "a won lead needs a job value greater than 0"
        assert desk.show(str(OPEN_LEAD))["status_category"] == "open"
        await type_into(pilot, "#value", "12,500")
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, WonDialog)
        # lost: a reason is required, then saved with the note
        app.push_screen(LostDialog(OTHER_OPEN_LEAD), answers.append)
        await settle(pilot)
        dialog = app.screen
        await pilot.press("ctrl+s")
        assert error_of(pilot) == "choose a reason"
        select = dialog.query_one("#reason", Select)
        assert select.has_focus
        await pilot.press("enter", "down", "enter")  # open the list, pick the first reason
        assert select.value == "Unable to reach"
        await type_into(pilot, "#note", "three calls, no answer")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is not dialog

    run(app, scenario)
    assert answers == [True, True]
    lead = desk.show(str(OPEN_LEAD))
    assert (lead["status_category"], lead["job_value_cents"]) == ("won", 1_250_000)
    lead = desk.show(str(OTHER_OPEN_LEAD))
    assert (lead["status_category"], lead["lost_reason"], lead["lost_note"]) == (
        "lost", "Unable to reach", "three calls, no answer")


def test_confirm_and_text_dialogs_answer_and_show_text_literally(app: LeadDeskApp) -> None:
    answers: list[Any] = []

    async def scenario(pilot: Pilot[None]) -> None:
        for keys in (["y"], ["n"], ["escape"], ["enter"]):  # enter presses the focused button: No
            app.push_screen(ConfirmDialog("Really?", yes="Delete"), answers.append)
            await pilot.pause()
            await pilot.press(*keys)
        await pilot.pause()
        app.push_screen(TextDialog("Follow-up", placeholder="when", value="tomorrow"), answers.append)
        await pilot.pause()
        assert app.screen.query_one("#text", Input).value == "tomorrow"
        await type_into(pilot, "#text", "next week")
        await pilot.press("enter")
        app.push_screen(TextDialog("Note"), answers.append)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        # user text in a question or a title is shown literally: no markup, control characters visible
        app.push_screen(ConfirmDialog("Delete [bold]Zed[/]\x1b[2J?\n\nSure?"))
        await pilot.pause()
        assert str(app.screen.query_one(".title", Static).content) == "Delete [bold]Zed[/]\\x1b[2J?\n\nSure?"
        await pilot.press("n")
        app.push_screen(TextDialog("Note on [red]x[/]\x07"))
        await pilot.pause()
        assert str(app.screen.query_one(".title", Label).content) == "Note on [red]x[/]\\x07"

    run(app, scenario)
    assert answers == [True, False, False, False, "next week", None]


# -- snapshots ------------------------------------------------------------------------------------
SIZED = pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])


def over_blank(snap_compare: Any, app: LeadDeskApp, make: Callable[[], Any], keys: tuple[str, ...] = (),
               size: tuple[int, int] = (80, 24)) -> bool:
    async def before(pilot: Pilot[None]) -> None:
        await app.push_screen(Screen())
        app.push_screen(make())
        await settle(pilot)
        if keys:
            await pilot.press(*keys)
            await settle(pilot)

    return bool(snap_compare(app, terminal_size=size, run_before=before))


@SIZED
def test_snapshot_new_lead_dialog(snap_compare: Any, app: LeadDeskApp, size: tuple[int, int]) -> None:
    assert over_blank(snap_compare, app, NewLeadDialog, ("ctrl+s",), size)


@SIZED
def test_snapshot_won_dialog(snap_compare: Any, app: LeadDeskApp, size: tuple[int, int]) -> None:
    assert over_blank(snap_compare, app, lambda: WonDialog(OPEN_LEAD), ("0", "enter"), size)


@SIZED
def test_snapshot_lost_dialog(snap_compare: Any, app: LeadDeskApp, size: tuple[int, int]) -> None:
    assert over_blank(snap_compare, app, lambda: LostDialog(OPEN_LEAD), size=size)


@SIZED
def test_snapshot_confirm_dialog(snap_compare: Any, app: LeadDeskApp, size: tuple[int, int]) -> None:
    assert over_blank(snap_compare, app, lambda: ConfirmDialog("Delete lead #19 Ashley Thomas? This cannot be undone.",
                                                               yes="Delete"), size=size)


@SIZED
def test_snapshot_text_dialog(snap_compare: Any, app: LeadDeskApp, size: tuple[int, int]) -> None:
    assert over_blank(snap_compare, app, lambda: TextDialog("Follow-up on lead #19", placeholder="+3d, friday…",
                                                            value="next week"), size=size)


DEAL = 118  # an open demo deal in Proposal, 10,750.00, lead 281 (see test_qualify_deal.py)


@SIZED
def test_snapshot_deal_won_dialog(snap_compare: Any, app: LeadDeskApp, desk: Desk, size: tuple[int, int]) -> None:
    from leaddesk.screens.deal import DealWonDialog

    deal = desk.deal(DEAL)
    assert over_blank(snap_compare, app, lambda: DealWonDialog(deal), size=size)


@SIZED
def test_snapshot_deal_lost_dialog(snap_compare: Any, app: LeadDeskApp, desk: Desk, size: tuple[int, int]) -> None:
    from leaddesk.screens.deal import DealLostDialog

    deal = desk.deal(DEAL)
    assert over_blank(snap_compare, app, lambda: DealLostDialog(deal), size=size)


@SIZED
def test_snapshot_quote_line_dialog(snap_compare: Any, app: LeadDeskApp, size: tuple[int, int]) -> None:
    from leaddesk.screens.deal import QuoteLineDialog

    assert over_blank(snap_compare, app, lambda: QuoteLineDialog(DEAL), ("ctrl+s",), size)


@SIZED
def test_snapshot_board_filter_dialog(snap_compare: Any, app: LeadDeskApp, size: tuple[int, int]) -> None:
    from leaddesk.screens.board import FilterDialog

    assert over_blank(snap_compare, app, lambda: FilterDialog("Referral", None), size=size)
