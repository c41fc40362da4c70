"""Opening a lead card fast (issue 8): a spare card, built off-screen ahead of time, is taken by the next open,
filled with the lead and only then shown; a card shown for the first time skips Textual's restyle of all of it;
the cyclic garbage collector waits while a card opens. Each is checked against what a card built on the spot
shows, which the rest of the card tests (tests/tui/test_lead_card.py, ...) exercise.

No asyncio plugin is installed: Pilot tests are sync tests that run their body with `asyncio.run`.
"""

from __future__ import annotations

import asyncio
import gc
import re
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Select

from leaddesk.app import LeadDeskApp
from leaddesk.screens import lead_card
from leaddesk.screens.lead_card import LeadCardScreen
from leaddesk.store.desk import Desk
from leaddesk.store.queries import LeadFilter
from leaddesk.widgets.lead_form import LeadForm

from .conftest import assert_no_internal_error, calm

Body = Callable[[Pilot[None]], Awaitable[None]]


def run(app: LeadDeskApp, body: Body, size: tuple[int, int] = (120, 40)) -> None:
    """Start the app (no warm-up: spares are built by the test) over a blank screen, then run `body`."""

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await calm(pilot)
            await app.push_screen(Screen())
            await body(pilot)
            assert_no_internal_error(app)

    asyncio.run(main())


async def spare_ready(pilot: Pilot[None]) -> LeadCardScreen:
    """Build a spare card (as the warm-up does) and wait until it is mounted."""
    app = pilot.app
    assert isinstance(app, LeadDeskApp)
    LeadCardScreen.build_spare(app)
    spare = app.spare_card
    assert isinstance(spare, LeadCardScreen) and spare.spare
    for _ in range(200):
        if spare.built:
            break
        await pilot.pause(0.01)
    assert spare.built
    return spare


async def opened(pilot: Pilot[None], number: int, siblings: list[int] | None = None) -> LeadCardScreen:
    pilot.app.open_lead(number, siblings or [number])  # type: ignore[attr-defined]
    await calm(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, LeadCardScreen) and screen.number == number and screen.detail is not None
    return screen


async def closed(pilot: Pilot[None]) -> None:
    await pilot.press("escape")
    await calm(pilot)
    assert not isinstance(pilot.app.screen, LeadCardScreen)


def picture(pilot: Pilot[None]) -> str:
    """The screen as an SVG, without the ids that differ from one export to the next."""
    return re.sub(r"terminal-\d+", "terminal", pilot.app.export_screenshot())


def open_leads(desk: Desk) -> list[int]:
    return [row["number"] for row in desk.list_leads(LeadFilter(limit=None, mine=True, state="open"))]


def style_rules(screen: Screen[Any]) -> list[tuple[str, dict[str, Any], dict[str, dict[str, Any]]]]:
    """Every node's style rules (and its component classes'), as the stylesheet last applied them."""
    return [(repr(node), dict(node.styles.base._rules),
             {name: dict(styles.base._rules) for name, styles in node._component_styles.items()})  # type: ignore
            for node in screen.walk_children(with_self=True)]


def test_a_card_reads_its_lists_without_counting_their_leads(app: LeadDeskApp, desk: Desk,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The card's choices (sources, types) are names only: counting the leads of each source took 84 ms of a
    100 ms open at 100k leads."""
    asked: list[tuple[str, bool]] = []
    real = desk.catalog_list

    def recording(kind: str, *, counts: bool = False) -> list[dict[str, Any]]:
        asked.append((kind, counts))
        return real(kind, counts=counts)

    monkeypatch.setattr(desk, "catalog_list", recording)
    number = open_leads(desk)[0]

    async def body(pilot: Pilot[None]) -> None:
        asked.clear()
        card = await opened(pilot, number)
        assert sorted(asked) == [("sources", False), ("types", False)]
        source = card.query_one(LeadForm).widget_for("source")
        assert isinstance(source, Select)
        assert [value for _label, value in source._options][1:] == [e["name"] for e in real("sources")]

    run(app, body)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_a_spare_card_shows_what_a_new_card_shows(app: LeadDeskApp, desk: Desk, size: tuple[int, int]) -> None:
    first, number, last = open_leads(desk)[:3]

    async def body(pilot: Pilot[None]) -> None:
        new = await opened(pilot, number, [first, number, last])
        assert not new.spare and app.spare_card is None
        shown = picture(pilot)
        await closed(pilot)
        await pilot.resize_terminal(120, 40)  # the spare is built wide; the card is shown at `size`
        spare = await spare_ready(pilot)
        await pilot.resize_terminal(*size)
        assert spare.detail is None and spare._load_seq == 0  # a spare reads no lead before it is taken
        card = await opened(pilot, number, [first, number, last])
        assert card is spare and not card.spare and app.spare_card is None
        assert picture(pilot) == shown
        await pilot.press("right_square_bracket")  # the card taken works as any card: ] to the next lead
        await calm(pilot)
        assert card.number == last and card.detail is not None and card.detail["number"] == last

    run(app, body, size)


def test_a_card_shown_as_restyling_it_would_and_the_collector_held_until_then(app: LeadDeskApp,
                                                                              desk: Desk) -> None:
    number = open_leads(desk)[0]

    async def body(pilot: Pilot[None]) -> None:
        for take_spare in (False, True):
            if take_spare:
                await spare_ready(pilot)
            app.open_lead(number, [number])
            assert not gc.isenabled()  # the collector is held from the key ...
            await calm(pilot)
            assert gc.isenabled()  # ... until the card shows its lead
            card = app.screen
            assert isinstance(card, LeadCardScreen) and card.detail is not None
            assert not card._styles_fresh  # its first showing skipped Textual's restyle of the whole card
            shown = style_rules(card)
            card.update_node_styles(animate=False)  # what Textual's restyle would have done
            assert style_rules(card) == shown
            await closed(pilot)
        gc.disable()  # held by someone else: opening a card leaves it so
        try:
            await opened(pilot, number)
            assert not gc.isenabled()
        finally:
            gc.enable()

    assert gc.isenabled()
    run(app, body)


def test_a_card_is_laid_out_once_as_it_shows_and_still_follows_the_terminal(app: LeadDeskApp, desk: Desk,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Textual lays a screen out again on the Resize its own first layout posts to it, and every screen under it
    too: a card skips that (screens/base.py `DeskScreen._on_resize`), and a real resize still lays out the card
    and, once the card closes, the screen under it."""
    number = open_leads(desk)[0]
    layouts: list[tuple[Screen[Any], Any]] = []
    lay_out = Screen._refresh_layout

    def counted(screen: Screen[Any], size: Any = None, scroll: bool = False) -> None:
        layouts.append((screen, size))
        lay_out(screen, size, scroll)

    monkeypatch.setattr(Screen, "_refresh_layout", counted)

    async def body(pilot: Pilot[None]) -> None:
        below = app.screen
        for take_spare in (False, True):
            if take_spare:
                await spare_ready(pilot)
            layouts.clear()
            card = await opened(pilot, number)
            resized = [(s, size) for s, size in layouts if size is not None]  # not a widget's refresh: a new size
            assert resized == [(card, app.size)]  # the card once, as it shows; not the screen under it
            await closed(pilot)
        card = await opened(pilot, number)
        await pilot.resize_terminal(90, 30)
        await calm(pilot)
        assert card.size == (90, 30) and card.query_one("#tabs").size.width == 90
        await closed(pilot)
        assert app.screen is below and below.size == (90, 30)

    run(app, body)


def test_a_repeated_enter_while_a_spare_card_reads_its_lead_opens_one_card(app: LeadDeskApp, desk: Desk) -> None:
    number = open_leads(desk)[0]

    async def body(pilot: Pilot[None]) -> None:
        spare = await spare_ready(pilot)
        app.open_lead(number, [number])
        assert spare.opening and app.screen is not spare  # it shows once it shows the lead
        app.open_lead(number, [number])
        await calm(pilot)
        assert app.screen is spare and not spare.opening
        assert [type(s) for s in app.screen_stack].count(LeadCardScreen) == 1

    run(app, body)


def test_a_spare_card_taken_for_a_deleted_lead_says_so_as_a_new_card_does(app: LeadDeskApp, desk: Desk) -> None:
    number = open_leads(desk)[0]
    desk.delete_lead(str(number), force=True)

    async def body(pilot: Pilot[None]) -> None:
        for take_spare in (False, True):
            if take_spare:
                await spare_ready(pilot)
            app.open_lead(number, [number])
            await calm(pilot)
            card = app.screen
            assert isinstance(card, LeadCardScreen) and card.detail is None
            assert card is app.screen_stack[-1] and (app.spare_card is None)
            title = card.query_one("#card-title").visual
            assert str(getattr(title, "plain", title)) == f"#{number}  (no longer exists)"
            await closed(pilot)
        assert sum(n.title == "Lead not found" for n in app._notifications) == 2

    run(app, body)


def test_a_slow_read_shows_the_spare_card_loading_meanwhile(app: LeadDeskApp, desk: Desk,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    number = open_leads(desk)[0]
    release = threading.Event()
    show = Desk.show

    def slow_show(self: Desk, ref: str) -> dict[str, Any]:
        release.wait(5)
        return show(self, ref)

    async def body(pilot: Pilot[None]) -> None:
        spare = await spare_ready(pilot)
        monkeypatch.setattr(Desk, "show", slow_show)
        app.open_lead(number, [number])
        await pilot.pause(lead_card.OPEN_WAIT + 0.15)
        assert app.screen is spare and spare.detail is None and not spare.opening  # on screen, loading
        title = spare.query_one("#card-title").visual
        assert str(getattr(title, "plain", title)) == f"#{number}  loading…"
        release.set()
        await calm(pilot)
        assert spare.detail is not None and spare.detail["number"] == number

    try:
        run(app, body)
    finally:
        release.set()


def test_a_card_shown_builds_the_next_spare_when_spares_are_on(app: LeadDeskApp, desk: Desk,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lead_card, "SPARE_AFTER", 0.05)
    first, second = open_leads(desk)[:2]

    async def body(pilot: Pilot[None]) -> None:
        await opened(pilot, first)
        await pilot.pause(0.2)
        assert app.spare_card is None  # spares off (no warm-up): none is built
        await closed(pilot)
        app.spare_cards = True
        card = await opened(pilot, first)
        await pilot.pause(0.2)
        await calm(pilot)
        spare = app.spare_card
        assert isinstance(spare, LeadCardScreen) and spare is not card and spare.built and spare.spare
        assert spare not in app.screen_stack and spare.detail is None
        await closed(pilot)
        assert await opened(pilot, second) is spare

    run(app, body)


def test_the_warm_up_builds_a_spare_card(app: LeadDeskApp, desk: Desk) -> None:
    number = open_leads(desk)[0]

    async def main() -> None:
        app.warm_up_after = 0.01
        async with app.run_test(size=(80, 24)) as pilot:
            for _ in range(300):
                await pilot.pause(0.02)
                if isinstance(app.spare_card, LeadCardScreen) and app.spare_card.built:
                    break
            spare = app.spare_card
            assert app.spare_cards and isinstance(spare, LeadCardScreen) and spare.built
            assert await opened(pilot, number) is spare
            assert_no_internal_error(app)

    asyncio.run(main())


def test_background_work_starts_once_the_first_view_has_its_data(app: LeadDeskApp, desk: Desk,
                                                                 monkeypatch: Any) -> None:
    """The warm-up, the spare card and the extras (reminders, score refresh) wait until the board's first query
    has answered: started on timers from the desk's opening, they competed with its first fill (100-300 ms at
    100k leads)."""
    app.warm_up_after, app.spare_card_after, app.extras_after = 0.01, 0.01, 0.0
    answered = threading.Event()
    started: dict[str, bool] = {}
    for name in ("_warm_up", "_first_spare_card", "_start_extras"):
        original = getattr(LeadDeskApp, name)

        def record(self: LeadDeskApp, name: str = name, original: Any = original) -> None:
            started.setdefault(name, answered.is_set())
            original(self)

        monkeypatch.setattr(LeadDeskApp, name, record)
    board_view = desk.board_view

    def slow_board(flt: LeadFilter, pages_for: Any) -> Any:
        threading.Event().wait(0.3)  # the first view's query takes a while: nothing else may start meanwhile
        view = board_view(flt, pages_for)
        answered.set()
        return view

    monkeypatch.setattr(desk, "board_view", slow_board)

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(100):
                await pilot.pause(0.05)
                if len(started) == 3:
                    break
            assert started == {"_warm_up": True, "_first_spare_card": True, "_start_extras": True}, started
            for _ in range(200):  # the warm-up builds the other views: let it finish before the app closes
                if app.warmed_up:
                    break
                await pilot.pause(0.05)
            await calm(pilot)

    asyncio.run(main())


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_an_app_closing_while_a_spare_card_is_built_ends_cleanly(app: LeadDeskApp, turns: int) -> None:
    """A spare card is built after a card is shown; the app may close meanwhile (CI caught it once: the closing
    app mounted none of the card's widgets, and its `on_mount` failed to find its tables)."""

    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await calm(pilot)
            LeadCardScreen.build_spare(app)
            for _ in range(turns):
                await asyncio.sleep(0)
        assert_no_internal_error(app)

    asyncio.run(main())
