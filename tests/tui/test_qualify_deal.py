"""The qualify wizard, the deal page and the deals board: keys pressed through Pilot, then the screen and the
database checked; snapshots at 80x24 and 120x40."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Checkbox, Input, OptionList, Select, Static

from leaddesk.app import LeadDeskApp
from leaddesk.screens.deal import DealList, DealLostDialog, DealScreen, DealsScreen, DealWonDialog, QuoteLineDialog
from leaddesk.screens.qualify import QualifyScreen
from leaddesk.store.desk import Desk

from .conftest import SIZES, settle

Scenario = Callable[[Pilot[None]], Awaitable[None]]

REDWOOD = 27  # a demo customer: Redwood Analytics, +1 215 555 0133
NO_MATCH = 19  # an open demo lead (Clearview Optometry) whose phone and email match no customer
LINKED = 85  # an open demo lead already linked to customer 28 (Lakeshore Hotels), with no open deal
PERSON = 71  # an open demo lead without a company (Ethan Thomas), no match
DEAL = 118  # an open demo deal in Proposal (the middle stage), 10,750.00 in two quote lines, lead 281


def run(app: LeadDeskApp, scenario: Scenario, size: tuple[int, int] = (80, 24)) -> None:
    """Run the app headless, wait for the desk, then play the scenario."""

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await app.push_screen(Screen())  # over a blank screen: the view below doesn't redraw at each step
            await scenario(pilot)

    asyncio.run(main())


def text_of(pilot: Pilot[None], selector: str) -> str:
    """The plain text a Static shows (Rich tables too)."""
    content = pilot.app.screen.query_one(selector, Static).content
    if isinstance(content, str | Text):
        return str(content)
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(content)
    return console.export_text()


async def type_into(pilot: Pilot[None], selector: str, text: str) -> None:
    """Focus an Input and set what it holds (as a paste would: one key press per character is slow)."""
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = text
    field.cursor_position = len(text)
    await pilot.pause()


def matching_lead(desk: Desk) -> int:
    """A new lead whose phone is Redwood's, written differently: the wizard must offer Redwood."""
    lead = desk.add_lead({"name": "Rita Match", "company": "Redwood Two", "phone": "(215) 555-0133"}, force=True)
    return int(lead["number"])


def counts(desk: Desk) -> tuple[int, int]:
    """How many customers and deals the desk holds."""
    return len(desk.customers()), len(desk.deals())


# -- qualify ------------------------------------------------------------------------------------
def test_qualify_links_the_matching_customer_or_creates_one(app: LeadDeskApp, desk: Desk) -> None:
    number, other = matching_lead(desk), matching_lead(desk)
    customers_before = len(desk.customers())

    async def scenario(pilot: Pilot[None]) -> None:
        app.start_qualify(number)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QualifyScreen)
        assert "Lead #" in text_of(pilot, "#summary") and "Rita Match" in text_of(pilot, "#summary")
        assert "Step 1 of 2" in text_of(pilot, "#step-title")
        options = screen.query_one("#customers", OptionList)
        assert [o.id for o in options.options] == [f"customer-{REDWOOD}", "new"]
        first = str(options.get_option_at_index(0).prompt)
        assert "Redwood Analytics" in first and "matched: phone" in first and "+1 215 555 0133" in first
        # escape goes back a step, and step 1 remembers the choice
        await pilot.press("down", "enter")
        assert "Step 2 of 2" in text_of(pilot, "#step-title")
        assert "a new customer will be created" in text_of(pilot, "#customer-choice")
        await pilot.press("escape")
        assert "Step 1 of 2" in text_of(pilot, "#step-title")
        assert options.highlighted == 1
        await pilot.press("up", "enter")
        assert "link Redwood Analytics #27" in text_of(pilot, "#customer-choice")
        assert screen.query_one("#title", Input).value == "Redwood Two"
        assert screen.query_one("#title", Input).has_focus
        # enter walks the fields; enter on the last one confirms
        await pilot.press("enter")
        assert screen.query_one("#value", Input).has_focus
        await type_into(pilot, "#value", "5,000")
        await pilot.press("enter")
        assert screen.query_one("#close", Input).has_focus
        await type_into(pilot, "#close", "2026-12-01")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DealScreen)
        lead = desk.show(str(number))
        assert (lead["status"], lead["customer_id"]) == ("Qualified", REDWOOD)
        [deal] = lead["deals"]
        assert app.screen.deal_id == deal["id"]
        detail = desk.deal(deal["id"])
        assert (detail["customer_id"], detail["title"], detail["value_cents"], detail["expected_close"]) == (
            REDWOOD, "Redwood Two", 500_000, "2026-12-01")
        assert "Redwood Two" in text_of(pilot, "#deal-title")
        # a second lead with the same phone: create a new customer despite the match
        await pilot.press("escape")
        app.start_qualify(other)
        await settle(pilot)
        await pilot.press("down", "enter", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DealScreen)

    run(app, scenario)
    lead = desk.show(str(other))
    assert lead["customer_id"] not in (None, REDWOOD)
    assert (lead["status"], lead["customer"]) == ("Qualified", "Redwood Two")
    assert len(desk.customers()) == customers_before + 1


def test_qualify_without_matches_checks_the_deal_then_creates_the_customer(app: LeadDeskApp, desk: Desk) -> None:
    before = counts(desk)

    async def scenario(pilot: Pilot[None]) -> None:
        app.start_qualify(NO_MATCH)
        await settle(pilot)
        screen = app.screen
        assert text_of(pilot, "#step-title") == "Deal"  # no step 1
        assert "no match by phone or email: a new customer will be created" in text_of(pilot, "#customer-choice")
        # a bad value, then a bad date: inline, nothing written
        await type_into(pilot, "#value", "abc")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert text_of(pilot, "#error") == "deal value 'abc' is not a number"
        assert screen.query_one("#value", Input).has_class("bad")
        assert screen.query_one("#value", Input).has_focus
        await type_into(pilot, "#value", "1200")
        assert not screen.query_one("#value", Input).has_class("bad")
        await type_into(pilot, "#close", "someday")
        assert text_of(pilot, "#close-hint") == "?"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert text_of(pilot, "#error").startswith("expected close: can't read date")
        assert screen.query_one("#close", Input).has_class("bad")
        assert counts(desk) == before
        assert desk.show(str(NO_MATCH))["status_category"] == "open"
        await type_into(pilot, "#close", "+30d")
        assert text_of(pilot, "#close-hint") == "→ Sat 2026-12-26"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DealScreen)
        # once qualified, the wizard refuses the lead up front
        app.start_qualify(NO_MATCH)
        await settle(pilot)
        assert text_of(pilot, "#step-title") == "Cannot qualify this lead"
        assert "Only an open lead can be qualified" in text_of(pilot, "#step-loading")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, QualifyScreen)

    run(app, scenario)
    lead = desk.show(str(NO_MATCH))
    assert (lead["status"], lead["customer"]) == ("Qualified", "Clearview Optometry")
    assert [(d["title"], d["value_cents"], d["expected_close"]) for d in lead["deals"]] == [
        ("Clearview Optometry", 120_000, "2026-12-26")]
    assert counts(desk) == (before[0] + 1, before[1] + 1)


def test_linked_lead_skips_step_1_and_person_only_converts(app: LeadDeskApp, desk: Desk) -> None:
    customer = desk.show(str(LINKED))["customer_id"]
    before_customers, before_deals = counts(desk)

    async def scenario(pilot: Pilot[None]) -> None:
        underneath = app.screen
        app.start_qualify(LINKED)
        await settle(pilot)
        assert "already linked: Lakeshore Hotels" in text_of(pilot, "#customer-choice")
        await pilot.press("escape")  # no step 1 to go back to: cancels
        await settle(pilot)
        assert app.screen is underneath
        assert desk.show(str(LINKED))["status_category"] == "open"
        app.start_qualify(LINKED)
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DealScreen)
        await pilot.press("escape")
        # person only: a person without a company, converted without a deal
        app.start_qualify(PERSON)
        await settle(pilot)
        screen = app.screen
        assert screen.query_one("#title", Input).value == "Ethan Thomas"
        await pilot.press("tab", "tab", "tab")
        assert screen.query_one("#person-only", Checkbox).has_focus
        await pilot.press("space")
        assert screen.query_one("#value", Input).disabled
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is underneath

    run(app, scenario)
    [deal] = [d for d in desk.show(str(LINKED))["deals"] if d["status"] == "open"]
    assert desk.deal(deal["id"])["customer_id"] == customer
    lead = desk.show(str(PERSON))
    assert (lead["status_category"], lead["deals"], lead["customer"]) == ("won", [], "Ethan Thomas")
    assert counts(desk) == (before_customers + 1, before_deals + 1)


# -- the deal page ------------------------------------------------------------------------------
def test_deal_page_stages_lost_reopen_and_lead(app: LeadDeskApp, desk: Desk) -> None:
    async def scenario(pilot: Pilot[None]) -> None:
        app.open_deal(DEAL)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DealScreen)
        assert "Proposal" in text_of(pilot, "#deal-stages")
        assert screen.check_action("reopen", ()) is False  # open: nothing to reopen
        await pilot.press("l")
        await settle(pilot)
        assert desk.deal(DEAL)["stage"] == "Negotiation"
        assert screen.check_action("stage", (1,)) is None  # the last stage: shown disabled
        await pilot.press("greater_than_sign")
        await settle(pilot)
        assert desk.deal(DEAL)["stage"] == "Negotiation"
        await pilot.press("h")
        await settle(pilot)
        assert desk.deal(DEAL)["stage"] == "Proposal"
        # lost: a reason is required
        await pilot.press("X")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, DealLostDialog)
        await pilot.press("ctrl+s")
        assert text_of(pilot, "#error") == "choose a reason"
        select = dialog.query_one("#reason", Select)
        assert select.has_focus
        select.value = "Budget"
        await type_into(pilot, "#note", "too pricey")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert "LOST" in text_of(pilot, "#deal-title")
        text = text_of(pilot, "#deal-fields")
        assert "Budget" in text and "too pricey" in text
        deal = desk.deal(DEAL)
        assert (deal["state"], deal["lost_reason"], deal["lost_note"]) == ("lost", "Budget", "too pricey")
        assert screen.check_action("stage", (1,)) is False and screen.check_action("lost", ()) is False
        await pilot.press("R")
        await settle(pilot)
        assert "OPEN" in text_of(pilot, "#deal-title")
        deal = desk.deal(DEAL)
        assert (deal["state"], deal["lost_reason"], deal["stage"]) == ("open", None, "Proposal")
        # o opens the lead card
        await pilot.press("o")
        await settle(pilot)
        assert type(app.screen).__name__ == "LeadCardScreen"
        assert app.screen.number == 281  # type: ignore[attr-defined]

    run(app, scenario)


def test_deal_page_quote_line_then_win_with_a_value(app: LeadDeskApp, desk: Desk) -> None:
    deal_id = desk.qualify(str(NO_MATCH))["deal_id"]  # a deal without a value

    async def scenario(pilot: Pilot[None]) -> None:
        app.open_deal(deal_id)
        await settle(pilot)
        assert "no quote lines yet" in text_of(pilot, "#deal-quote")
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, QuoteLineDialog)
        await type_into(pilot, "#description", "Eye exam kit")
        await type_into(pilot, "#quantity", "0")
        await type_into(pilot, "#price", "1,000")
        await pilot.press("enter")
        await settle(pilot)
        assert text_of(pilot, "#error") == "a quote line needs a quantity above 0"
        await type_into(pilot, "#quantity", "2")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DealScreen)
        quote = text_of(pilot, "#deal-quote")
        assert "Eye exam kit" in quote and "2,000.00" in quote
        # won: 0 is refused inline, a value is saved and the lead converted
        await pilot.press("W")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, DealWonDialog)
        assert dialog.query_one("#value", Input).value == ""
        await pilot.press("0", "enter")
        await settle(pilot)
        assert app.screen is dialog
        assert "needs a value greater than 0" in text_of(pilot, "#error")
        await type_into(pilot, "#value", "12,500")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DealScreen)
        assert "WON" in text_of(pilot, "#deal-title")
        assert app.screen.check_action("won", ()) is False
        assert app.screen.check_action("stage", (1,)) is False
        assert app.screen.check_action("reopen", ()) is True

    run(app, scenario)
    deal = desk.deal(deal_id)
    assert (deal["state"], deal["value_cents"], deal["quote_total_cents"]) == ("won", 1_250_000, 200_000)
    assert deal["quote_lines"][0] | {"id": 0} == {"id": 0, "description": "Eye exam kit", "quantity": 2,
                                                  "unit_price_cents": 100_000}
    lead = desk.show(str(NO_MATCH))
    assert (lead["status_category"], lead["job_value_cents"]) == ("won", 1_250_000)


# -- the deals board ------------------------------------------------------------------------------
def board_state(app: LeadDeskApp) -> tuple[str, int | None]:
    """The focused column's stage and highlighted deal id."""
    focused = app.focused
    assert isinstance(focused, DealList)
    option = focused.highlighted_option
    return focused.stage, (int(option.id.removeprefix("deal-")) if option and option.id else None)


def test_deals_board_navigates_opens_and_moves_deals(app: LeadDeskApp, desk: Desk) -> None:
    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DealsScreen)
        assert [dl.stage for dl in screen.query(DealList)] == ["Prospecting", "Proposal", "Negotiation"]
        summary = text_of(pilot, "#deals-summary")
        assert "Sales pipeline · 59 open" in summary and "Won 41" in summary and "Lost 18" in summary
        assert board_state(app)[0] == "Prospecting"
        await pilot.press("l", "j", "j", "k")
        stage, deal_id = board_state(app)
        assert stage == "Proposal"
        assert deal_id is not None and desk.deal(deal_id)["stage"] == "Proposal"
        await pilot.press("right", "right", "h")
        assert board_state(app) == ("Proposal", deal_id)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DealScreen)
        assert app.screen.deal_id == deal_id
        await pilot.press("escape")
        await settle(pilot)
        assert board_state(app) == ("Proposal", deal_id)
        # H/L move the deal; the cursor follows it
        await pilot.press("L")
        await settle(pilot)
        assert desk.deal(deal_id)["stage"] == "Negotiation"
        assert board_state(app) == ("Negotiation", deal_id)
        assert screen.check_action("move", (1,)) is None  # nothing right of the last stage
        await pilot.press("H", "less_than_sign")
        await settle(pilot)
        assert desk.deal(deal_id)["stage"] in ("Proposal", "Prospecting")  # the second key may come mid-write
        # a change made by another process while another view is shown is picked up on return
        await pilot.press("1")
        other = Desk.open(desk.db.target, login="raj", settings=desk.settings)
        other.deal_action(DEAL, "won")
        other.close()
        await pilot.pause(1.2)  # the desk polls for other writers every second
        await pilot.press("3")
        await settle(pilot)
        assert "Won 42" in text_of(pilot, "#deals-summary")

    run(app, scenario)


# -- snapshots ------------------------------------------------------------------------------------
def snapshot_of(snap_compare: Any, app: LeadDeskApp, size: tuple[int, int], scenario: Scenario) -> bool:
    async def before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await scenario(pilot)
        await settle(pilot)

    return bool(snap_compare(app, terminal_size=size, run_before=before))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_wizard_step_1(snap_compare: Any, app: LeadDeskApp, desk: Desk, size: tuple[int, int]) -> None:
    number = matching_lead(desk)

    async def scenario(pilot: Pilot[None]) -> None:
        app.start_qualify(number)

    assert snapshot_of(snap_compare, app, size, scenario)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_wizard_step_2(snap_compare: Any, app: LeadDeskApp, desk: Desk, size: tuple[int, int]) -> None:
    number = matching_lead(desk)

    async def scenario(pilot: Pilot[None]) -> None:
        app.start_qualify(number)
        await settle(pilot)
        await pilot.press("enter")
        await type_into(pilot, "#value", "12,500")
        await type_into(pilot, "#close", "+30d")

    assert snapshot_of(snap_compare, app, size, scenario)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_deal_page(snap_compare: Any, app: LeadDeskApp, size: tuple[int, int]) -> None:
    async def scenario(pilot: Pilot[None]) -> None:
        app.open_deal(DEAL)

    assert snapshot_of(snap_compare, app, size, scenario)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_deals_board(snap_compare: Any, app: LeadDeskApp, size: tuple[int, int]) -> None:
    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("l", "j")

    assert snapshot_of(snap_compare, app, size, scenario)
