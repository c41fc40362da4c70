"""The lead card's nurture sequence (issue 6): the panel on the Follow-ups tab, n/N/t through Pilot (screen and
database checked), the keys in the help screen, and snapshots of the card with a running sequence."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList, Static, TabbedContent

from leaddesk.app import LeadDeskApp, make_app
from leaddesk.screens.dialogs import ConfirmDialog
from leaddesk.screens.help import HelpScreen
from leaddesk.screens.lead_card import LeadCardScreen
from leaddesk.screens.leads import PickDialog
from leaddesk.settings import NurtureSequence, NurtureStep, Settings
from leaddesk.store.desk import Desk

from .conftest import assert_no_internal_error, calm

LEAD = 119  # ann's, Contacted, with an email address: Sarah Martinez, Parkside Family Dental
SETTINGS = Settings(sequences={
    "nurture": NurtureSequence("nurture", "Not ready yet", ("Attempted to contact",), (
        NurtureStep(3, "Call again"),
        NurtureStep(7, "Send the [b]case study[/b] \x1b[31m", "Hello {first_name},\nthe study for {company}.",
                    "For {company}"),
        NurtureStep(14, "Last try"))),
    "revive": NurtureSequence("revive", "", (), (NurtureStep(1, "Check in"),)),
})


@pytest.fixture
def sdesk(desk: Desk, demo_db: Path) -> Iterator[Desk]:
    """Ann (a manager, see `desk`) on the demo desk, with sequences in her settings."""
    opened = Desk.open(str(demo_db), login="ann", origin="tui", settings=SETTINGS)
    yield opened
    opened.close()


def app_on(desk: Desk) -> LeadDeskApp:
    app = make_app(SETTINGS, desk=desk)
    return app


def panel_text(pilot: Pilot[None]) -> str:
    visual = pilot.app.screen.query_one("#sequence-panel", Static).visual
    return str(getattr(visual, "plain", visual))


async def open_card(pilot: Pilot[None], number: int = LEAD) -> LeadCardScreen:
    await calm(pilot)
    pilot.app.open_lead(number, [number])  # type: ignore[attr-defined]
    await calm(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, LeadCardScreen)
    screen.query_one(TabbedContent).active = "followups"
    screen.query_one("ContentTabs").focus()
    await calm(pilot)
    return screen


def run(app: LeadDeskApp, body: Callable[[Pilot[None], LeadCardScreen], Awaitable[None]],
        size: tuple[int, int] = (80, 24)) -> None:
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await body(pilot, await open_card(pilot))
            assert_no_internal_error(app)

    asyncio.run(main())


def shown_keys(screen: LeadCardScreen) -> set[str]:
    return {active.binding.key for active in screen.active_bindings.values() if active.enabled}


def test_start_copy_and_stop_from_the_card(sdesk: Desk) -> None:
    ref = str(LEAD)
    app = app_on(sdesk)

    async def body(pilot: Pilot[None], screen: LeadCardScreen) -> None:
        assert "none running" in panel_text(pilot) and "n starts one: nurture, revive" in panel_text(pilot)
        assert {"n"} <= shown_keys(screen) and not {"N", "t"} & shown_keys(screen)

        await pilot.press("n")
        await calm(pilot)
        picker = pilot.app.screen
        assert isinstance(picker, PickDialog)
        options = picker.query_one(OptionList)
        options.highlighted = 0
        options.focus()
        await pilot.press("enter")
        await calm(pilot)
        current = sdesk.lead_sequence(ref)["current"]
        assert (current["sequence"], current["step"], current["next_at"]) == ("nurture", 1, "2026-11-29")
        assert sdesk.show(ref)["followup_on"] == "2026-11-29"
        text = panel_text(pilot)
        assert "nurture · step 1 of 3 · next 2026-11-29 (in 3 days)" in text and "Call again" in text
        assert "N stops it" in text and "copies" not in text
        assert {"N"} <= shown_keys(screen) and not {"n", "t"} & shown_keys(screen)

        await pilot.press("t")  # step 1 has no text: the key does not apply
        await calm(pilot)
        assert pilot.app.clipboard == ""

        sdesk.followup_done(ref)  # (the follow-ups key does this from the card)
        await pilot.press("r")
        await calm(pilot)
        text = panel_text(pilot)
        assert "step 2 of 3 · next 2026-12-03 (in 7 days)" in text
        assert "Send the [b]case study[/b] \\x1b[31m" in text  # literally, the escape made visible
        await pilot.press("t")
        await calm(pilot)
        assert pilot.app.clipboard == "Hello Sarah,\nthe study for Parkside Family Dental."
        assert any("subject: For Parkside Family Dental" in str(n.message) for n in pilot.app._notifications)

        await pilot.press("N")
        await calm(pilot)
        assert isinstance(pilot.app.screen, ConfirmDialog)
        await pilot.press("y")
        await calm(pilot)
        state = sdesk.lead_sequence(ref)
        assert state["current"] is None and state["history"][0]["state"] == "stopped"
        assert "none running · nurture stopped 2026-11-26" in panel_text(pilot)

    run(app, body)


def test_the_panel_is_hidden_without_sequences(desk: Desk) -> None:
    app = make_app(Settings(), desk=desk)

    async def body(pilot: Pilot[None], screen: LeadCardScreen) -> None:
        assert not screen.query_one("#sequence-panel").display
        await pilot.press("n")
        await calm(pilot)
        assert pilot.app.screen is screen

    run(app, body)


def test_closed_lead_says_why_nothing_starts_and_the_keys_are_in_the_help(sdesk: Desk) -> None:
    card_keys = [k for b in LeadCardScreen.BINDINGS if not isinstance(b, tuple) for k in b.key.split(",")]
    app_keys = [k for b in LeadDeskApp.BINDINGS if not isinstance(b, tuple) for k in b.key.split(",")]
    for key in ("n", "N", "t"):
        assert card_keys.count(key) == 1 and key not in app_keys
    sdesk.mark_lost(str(LEAD), "Not a fit")

    async def body(pilot: Pilot[None], screen: LeadCardScreen) -> None:
        assert "sequences run on open leads; this one is Disqualified" in panel_text(pilot)
        assert "n" not in shown_keys(screen)
        rows = HelpScreen(screen).key_rows()
        ids = {binding_id: key for _group, key, _does, binding_id in rows}
        assert (ids["card.sequence_start"], ids["card.sequence_stop"], ids["card.sequence_text"]) == ("n", "N", "t")

    run(app_on(sdesk), body)


# -- snapshots -----------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_snapshot_card_with_a_running_sequence(snap_compare: Any, sdesk: Desk, size: tuple[int, int]) -> None:
    sdesk.start_sequence(str(LEAD), "nurture")
    sdesk.followup_done(str(LEAD))  # step 2 of 3: a note and a text to send

    async def before(pilot: Pilot[None]) -> None:
        await open_card(pilot)

    assert snap_compare(app_on(sdesk), terminal_size=size, run_before=before)
