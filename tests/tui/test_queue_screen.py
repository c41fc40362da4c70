"""The work queue screen (issue 6) on the demo desk as ann: `w` from the board, the card and why the lead is due,
outcome keys that record through the store and move on, the dialogs for what an outcome needs, n/p, enter,
escape, the palette command, an empty queue; snapshots at 80x24 and 120x40."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, Select

from leaddesk.app import LeadDeskApp, make_app
from leaddesk.screens.board import BoardScreen
from leaddesk.screens.lead_card import LeadCardScreen
from leaddesk.screens.qualify import QualifyScreen
from leaddesk.screens.queue import OutcomeDialog, QueueLostDialog, QueueScreen
from leaddesk.settings import Settings
from leaddesk.store.desk import Desk

from .conftest import SIZES, assert_no_internal_error, calm, snapshot_of, text_of

Scenario = Callable[[Pilot[None]], Awaitable[None]]


def run(app: LeadDeskApp, scenario: Scenario, size: tuple[int, int] = (80, 24), *, board: bool = False) -> None:
    """Run the app headless, open the queue (by pressing w on the board, with `board`; else over a blank screen,
    which need not redraw), then play the scenario."""

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await calm(pilot)
            if board:
                assert isinstance(app.screen, BoardScreen)
                await pilot.press("w")
            else:
                await app.push_screen(Screen())
                app.open_queue()
            await calm(pilot)
            assert isinstance(app.screen, QueueScreen)
            await scenario(pilot)
            assert_no_internal_error(app)

    asyncio.run(main())


def head(pilot: Pilot[None]) -> tuple[str, str, str]:
    """The title, the place and why, as shown."""
    return text_of(pilot, "#queue-title"), text_of(pilot, "#queue-position"), text_of(pilot, "#queue-why")


def current(pilot: Pilot[None]) -> int:
    screen = pilot.app.screen
    assert isinstance(screen, QueueScreen) and screen.item is not None
    return int(screen.item["number"])


def notes_of(pilot: Pilot[None]) -> list[str]:
    return [str(n.message) for n in pilot.app._notifications]


@pytest.fixture
def order(desk: Desk) -> list[dict[str, Any]]:
    """Ann's queue as the store gives it, before the test changes anything."""
    items = desk.work_queue(limit=100)
    assert len(items) > 5
    return items


def test_w_shows_the_first_lead_why_and_where(app: LeadDeskApp, desk: Desk, order: list[dict[str, Any]]) -> None:
    first = desk.next_in_queue()
    assert first is not None

    async def scenario(pilot: Pilot[None]) -> None:
        title, place, why = head(pilot)
        assert title == f"#{first['number']} {first['contact_name']} · {first['company']}"
        assert place == f"1 of {len(order)}"
        assert why == "Why: " + "; ".join(first["reasons"]) and why.startswith("Why: follow-up overdue since Oct")
        card = text_of(pilot, "#queue-card")
        for value in (first["phone"], first["email"], first["status"], "ann", first["followup"]):
            assert value in card
        recent = text_of(pilot, "#queue-recent")
        assert [a["body"][:20] in recent for a in first["activities"]] == [True] * 3
        keys = text_of(pilot, "#queue-keys")
        assert "1 Called, no answer" in keys and "5 Not interested: lost" in keys and "7 Skip" in keys

    run(app, scenario, board=True)


def test_one_key_records_the_outcome_and_moves_on(app: LeadDeskApp, desk: Desk,
                                                  order: list[dict[str, Any]]) -> None:
    first, second, third = (o["number"] for o in order[:3])

    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("1")  # called, no answer
        await calm(pilot)
        assert current(pilot) == second
        assert head(pilot)[1] == f"1 of {len(order) - 1}"
        assert any(m.startswith(f"#{first} ") and "Called, no answer" in m and "follow-up 2026-11-27" in m
                   for m in notes_of(pilot))
        await pilot.press("3")  # emailed
        await calm(pilot)
        assert current(pilot) == third

    run(app, scenario)
    lead = desk.show(str(first))
    assert (lead["followup_on"], lead["followup_note"]) == ("2026-11-27", "call again")
    assert (lead["activities"][0]["kind"], lead["activities"][0]["body"]) == ("call", "no answer")
    emailed = desk.show(str(second))
    assert emailed["followup_on"] == "2026-11-30" and emailed["activities"][0]["kind"] == "email"


def test_n_and_p_step_through_the_queue_without_changes(app: LeadDeskApp, desk: Desk,
                                                        order: list[dict[str, Any]]) -> None:
    before = desk.show(str(order[0]["number"]))

    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("n")
        await calm(pilot)
        assert (current(pilot), head(pilot)[1]) == (order[1]["number"], f"2 of {len(order)}")
        await pilot.press("7")  # skip: the next one too
        await calm(pilot)
        assert current(pilot) == order[2]["number"]
        await pilot.press("p", "p")
        await calm(pilot)
        assert current(pilot) == order[0]["number"]
        await pilot.press("p")
        await calm(pilot)
        assert current(pilot) == order[0]["number"]
        assert "That is the first lead of the queue." in notes_of(pilot)

    run(app, scenario)
    assert desk.show(str(order[0]["number"])) == before


def test_reached_asks_the_next_date_and_a_note(app: LeadDeskApp, desk: Desk, order: list[dict[str, Any]]) -> None:
    first = order[0]

    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("2")
        await calm(pilot)
        assert isinstance(pilot.app.screen, OutcomeDialog)
        pilot.app.screen.query_one("#date", Input).value = "friday 10:00"
        pilot.app.screen.query_one("#note", Input).value = "wants a quote"
        await pilot.press("ctrl+s")
        await calm(pilot)
        assert isinstance(pilot.app.screen, QueueScreen) and current(pilot) == order[1]["number"]

    run(app, scenario)
    lead = desk.show(str(first["number"]))
    assert (lead["status"], lead["followup_on"], lead["followup_time"]) == (first["status"], "2026-11-27", "10:00")
    assert lead["activities"][0]["body"] == "reached: wants a quote"


def test_a_meeting_without_its_date_is_refused_and_qualify_can_be_left(app: LeadDeskApp, desk: Desk,
                                                             order: list[dict[str, Any]]) -> None:
    first = order[0]["number"]
    before = desk.show(str(first))

    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("4")
        await calm(pilot)
        assert isinstance(pilot.app.screen, OutcomeDialog)
        await pilot.press("ctrl+s")
        await calm(pilot)
        assert "'Meeting booked' needs a date" in text_of(pilot, "#error")
        await pilot.press("escape")
        await calm(pilot)
        assert isinstance(pilot.app.screen, QueueScreen) and current(pilot) == first
        await pilot.press("6")  # qualify: the wizard; leaving it without qualifying stays on the lead
        await calm(pilot)
        assert isinstance(pilot.app.screen, QualifyScreen) and pilot.app.screen.number == first
        await pilot.press("escape")
        await calm(pilot)
        pilot.app.data_changed()
        await calm(pilot)
        assert isinstance(pilot.app.screen, QueueScreen) and current(pilot) == first

    run(app, scenario)
    assert desk.show(str(first)) == before


def test_lost_asks_the_reason_from_the_list(app: LeadDeskApp, desk: Desk, order: list[dict[str, Any]]) -> None:
    first, second = order[0]["number"], order[1]["number"]

    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("5")
        await calm(pilot)
        assert isinstance(pilot.app.screen, QueueLostDialog)
        pilot.app.screen.query_one("#reason", Select).value = "Budget"
        pilot.app.screen.query_one("#note", Input).value = "next year"
        await pilot.press("ctrl+s")
        await calm(pilot)
        assert isinstance(pilot.app.screen, QueueScreen) and current(pilot) == second

    run(app, scenario)
    lead = desk.show(str(first))
    assert (lead["status_category"], lead["lost_reason"], lead["lost_note"]) == ("lost", "Budget", "next year")


def test_enter_opens_the_card_escape_leaves_and_the_palette_comes_back(app: LeadDeskApp,
                                                                       order: list[dict[str, Any]]) -> None:
    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("enter")
        await calm(pilot)
        assert isinstance(pilot.app.screen, LeadCardScreen) and pilot.app.screen.number == order[0]["number"]
        await pilot.press("escape")
        await calm(pilot)
        assert isinstance(pilot.app.screen, QueueScreen) and current(pilot) == order[0]["number"]
        await pilot.press("escape")
        await calm(pilot)
        assert not isinstance(pilot.app.screen, QueueScreen)
        commands = {c.title: c for c in pilot.app.get_system_commands(pilot.app.screen)}
        commands["work: the queue"].callback()
        await calm(pilot)
        assert isinstance(pilot.app.screen, QueueScreen)

    run(app, scenario)


def test_a_manager_switches_to_everyone_s_queue(app: LeadDeskApp, desk: Desk) -> None:
    everyone = desk.queue_count(everyone=True)

    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("a")
        await calm(pilot)
        assert head(pilot)[1] == f"1 of {everyone} · everyone"
        await pilot.press("a")
        await calm(pilot)
        assert head(pilot)[1] == f"1 of {desk.queue_count()}"

    run(app, scenario)


def test_a_change_made_elsewhere_is_shown_in_place(app: LeadDeskApp, desk: Desk,
                                                   order: list[dict[str, Any]]) -> None:
    async def scenario(pilot: Pilot[None]) -> None:
        desk.edit_lead(str(order[0]["number"]), {"phone": "+1 512 555 0100"})
        pilot.app.data_changed()  # as the poll does when another process writes
        await calm(pilot)
        assert current(pilot) == order[0]["number"]
        assert "+1 512 555 0100" in text_of(pilot, "#queue-card")

    run(app, scenario)


def test_an_empty_queue_says_so_and_hides_the_outcome_keys(desk: Desk, demo_db: Any) -> None:
    desk.add_user("zed", "Zed New", "rep")
    zed = Desk.open(str(demo_db), login="zed", origin="tui", settings=Settings())
    try:
        app = make_app(Settings(), desk=zed)

        async def scenario(pilot: Pilot[None]) -> None:
            assert text_of(pilot, "#queue-title") == "Nothing to work: your queue is empty."
            screen = pilot.app.screen
            shown = {b.action for _k, b, enabled, _t in screen.active_bindings.values() if enabled}
            assert not any(action.startswith("outcome") for action in shown) and "leave" in shown
            await pilot.press("a")  # everyone's queue: a rep is refused, and the screen stays as it was
            await calm(pilot)
            assert "only a manager or an admin may work everyone's queue; you are a rep" in notes_of(pilot)
            assert text_of(pilot, "#queue-title") == "Nothing to work: your queue is empty."

        run(app, scenario)
    finally:
        zed.close()


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_snapshot_queue(snap_compare: Any, app_factory: Callable[[], LeadDeskApp], size: tuple[int, int]) -> None:
    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("w")
        await calm(pilot)

    assert snapshot_of(snap_compare, app_factory(), size, scenario)
