"""Hostile text in the desk (issue 9): a lead whose name and company carry terminal escapes (CSI clear screen and
colour, OSC window title, an OSC 8 hyperlink), Rich markup, a right-to-left override and a zero-width space is
shown on the board, the list and the lead card with those characters made visible (leaddesk/textsafe.py) and
the markup as text: no frame the desk sends to the terminal carries them raw. Text typed and pasted into the
new-lead dialog is stored exactly. Snapshots of the board at 80x24 and 120x40 show the screen intact."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import pytest
from rich.console import Console
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input, TabbedContent

from leaddesk.app import LeadDeskApp
from leaddesk.screens.dialogs import NewLeadDialog
from leaddesk.screens.lead_card import LeadCardScreen
from leaddesk.screens.leads import ListScreen
from leaddesk.store.desk import Desk
from leaddesk.textsafe import safe_line
from leaddesk.widgets.lead_form import LeadForm

from .conftest import SIZES, assert_no_internal_error, calm, snapshot_of, text_of

NAME = "\u202eEvil\x1b[2J [red]x[/red]\u200b abc"
COMPANY = "\x1b[2J[red]Co[/red]\x1b]0;pwned\x07 \x1b[31m\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\ [link=https://evil.example]y[/link]"
NOTE = "call \x9b2J back \x1b[5m[blink]now[/blink] \u2066isolate\u2069"
# What a terminal would obey if the desk sent it: the injected sequences and the raw controls.
INJECTED = ("\x1b[2J", "\x1b]0;", "\x1b]8;;https://evil", "\x1b[5m", "\x07", "\x9b", "\u202e", "\u2066", "\u2069")
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
TRUECOLOR = Console(color_system="truecolor", force_terminal=True, legacy_windows=False, width=200)


@pytest.fixture
def hostile(desk: Desk) -> int:
    """The number of a lead with hostile name, company and note (owned by ann)."""
    number = int(desk.add_lead({"name": NAME, "company": COMPANY})["number"])
    desk.add_activity(str(number), "note", NOTE)
    return number


class Frames:
    """Every frame the app sends to the terminal, as the bytes a truecolor terminal would get (headless, the app
    writes nothing: they are rendered here, as in test_board_repaint.py)."""

    def __init__(self, app: LeadDeskApp) -> None:
        self.count = 0
        self.injected: list[str] = []
        real = app._display

        def display(screen: Any, renderable: Any) -> None:
            if renderable is not None:
                sent = renderable.render_segments(TRUECOLOR)
                self.count += 1
                self.injected += [s for s in INJECTED if s in sent]
            real(screen, renderable)

        app._display = display  # type: ignore[method-assign]


def screen_text(pilot: Pilot[None]) -> str:
    """The text of the screen as the compositor has it (every segment's text, control segments left out)."""
    strips = pilot.app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip if not seg.control) for strip in strips)


def assert_literal(text: str) -> None:
    found = UNSAFE.search(text)
    assert found is None, f"raw {found.group()!r} on screen: {text[max(0, found.start() - 60):found.end() + 60]!r}"


async def press(pilot: Pilot[None], *keys: str) -> None:
    await pilot.press(*keys)
    await calm(pilot)


async def type_text(pilot: Pilot[None], text: str) -> None:
    """Type `text` key by key (what a keyboard can type: printable characters)."""
    await pilot.press(*["space" if ch == " " else ch for ch in text])


def play(app: LeadDeskApp, scenario: Callable[[Pilot[None]], Any], size: tuple[int, int]) -> None:
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await calm(pilot)
            await scenario(pilot)
            assert_no_internal_error(app)

    asyncio.run(main())


def test_board_list_and_card_show_hostile_text_made_visible(app: LeadDeskApp, desk: Desk, hostile: int) -> None:
    frames = Frames(app)
    name, company = safe_line(NAME), safe_line(COMPANY)
    assert name == "\\u202eEvil\\x1b[2J [red]x[/red]\u200b abc"  # the zero-width space is ordinary text

    async def scenario(pilot: Pilot[None]) -> None:
        # the board, searched down to the lead: its card shows the start of the name and company, escaped
        await press(pilot, "slash", *"evil", "enter")
        shown = screen_text(pilot)
        assert_literal(shown)
        assert f"#{hostile} \\u202eEvil" in shown and "\\x1b[2J[red]C" in shown

        # the card: the whole name and company, the markup as text, the note's controls visible
        await press(pilot, "enter")
        card = pilot.app.screen
        assert isinstance(card, LeadCardScreen) and card.number == hostile
        shown = screen_text(pilot)
        assert_literal(shown)
        assert name in text_of(pilot, "#card-title")
        hyperlink = company[: company.index(" [link=")]  # up to the markup, which the title cuts
        assert hyperlink.endswith("\\x1b[31m\\x1b]8;;https://evil.example/\\x1b\\link\\x1b]8;;\\x1b\\")
        assert hyperlink in shown
        assert card.query_one(LeadForm).widget_for("company").value == company  # type: ignore[attr-defined]
        assert card.query_one(LeadForm).widget_for("name").value == name  # type: ignore[attr-defined]
        card.query_one(TabbedContent).active = "activity"
        await calm(pilot)
        shown = screen_text(pilot)
        assert_literal(shown)
        assert "call \\x9b2J back \\x1b[5m[blink]now[/blink] \\u2066isolate\\u2069" in shown

        # the list, searched the same way
        await press(pilot, "escape", "2")
        assert isinstance(pilot.app.screen, ListScreen)
        await press(pilot, "slash", *"evil", "enter")
        shown = screen_text(pilot)
        assert_literal(shown)
        assert f"{hostile} \\u202eEvil\\x1b[2J" in shown and "\\x1b[2J[red]Co[/red]" in shown  # cut to the column

    play(app, scenario, (160, 40))
    assert frames.count > 5
    assert frames.injected == []  # no frame carried the lead's escapes, controls or bidi characters raw


def test_the_new_lead_dialog_stores_typed_and_pasted_text_exactly(app: LeadDeskApp, desk: Desk) -> None:
    typed = "Zed [b]é"
    pasted = "[/b] [red]x[/red] 東 \x1b[2J\x1b]0;pwned\x07 \u202ert\u200b \x9b2J "
    numbers: list[int] = []

    async def scenario(pilot: Pilot[None]) -> None:
        await press(pilot, "n")
        dialog = pilot.app.screen
        assert isinstance(dialog, NewLeadDialog)
        await type_text(pilot, typed)
        name = dialog.query_one("#name", Input)
        name.post_message(events.Paste(pasted))  # what a terminal's bracketed paste delivers
        await calm(pilot)
        assert name.value == typed + pasted
        await press(pilot, "ctrl+s")
        card = pilot.app.screen
        assert isinstance(card, LeadCardScreen)
        numbers.append(card.number)
        shown = screen_text(pilot)
        assert_literal(shown)  # once stored, the desk shows it made visible
        assert safe_line(typed + pasted).strip() in shown

    play(app, scenario, (120, 40))
    assert desk.show(str(numbers[0]))["contact_name"] == (typed + pasted).strip()


def test_text_pasted_into_an_input_is_drawn_made_visible(app: LeadDeskApp) -> None:
    """While it is being edited, pasted ESC/bidi/C1 text is drawn as control pictures, one per character (the
    cursor stays on the right character), and the value keeps what was pasted; the command palette's input too."""
    pasted = "Paste\x1b[2J\x07 \u202ert\x9b\x08"
    frames = Frames(app)

    async def scenario(pilot: Pilot[None]) -> None:
        await press(pilot, "n")
        name = pilot.app.screen.query_one("#name", Input)
        name.post_message(events.Paste(pasted))
        await calm(pilot)
        assert name.value == pasted
        shown = screen_text(pilot)
        assert_literal(shown)
        # ESC as ␛, BEL as ␇ (Rich drops BEL, BS, VT, FF and CR from a Text: drawn from the value itself); the
        # override and the C1 CSI as �
        assert "Paste\u241b[2J\u2407 \ufffdrt\ufffd\u2408" in shown
        await press(pilot, "left", "left", "left", "left", "left", "backspace")  # the space before the override
        assert name.value == "Paste\x1b[2J\x07\u202ert\x9b\x08"
        await press(pilot, "escape", "escape")
        await press(pilot, "ctrl+p")
        await calm(pilot)
        palette = pilot.app.screen.query_one(Input)
        palette.post_message(events.Paste("\x1b]0;pwned\x07"))
        await calm(pilot)
        assert_literal(screen_text(pilot))
        assert "\u241b]0;pwned\u2407" in screen_text(pilot)

    play(app, scenario, (80, 24))
    assert frames.count and frames.injected == []


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_snapshot_board_with_a_hostile_lead(snap_compare: Any, app_factory: Callable[[], LeadDeskApp], hostile: int,
                                            size: tuple[int, int]) -> None:
    """The board searched down to the hostile lead: the frame around it, the colours and the other columns are
    intact (nothing cleared, recoloured or reordered), its text escaped."""
    app = app_factory()
    frames = Frames(app)

    async def searched(pilot: Pilot[None]) -> None:
        await press(pilot, "slash", *"evil", "enter")
        assert_literal(screen_text(pilot))

    assert snapshot_of(snap_compare, app, size, searched)
    assert frames.count and frames.injected == []
