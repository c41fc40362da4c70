"""TUI fixtures: a demo desk built once with a frozen clock, copied fresh for each test; app factories."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static, TextArea

from leaddesk import clock
from leaddesk.app import LeadDeskApp, make_app
from leaddesk.settings import Settings
from leaddesk.store.demo import build_demo
from leaddesk.store.desk import Desk

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo desk (seed 7, 300 leads, sales preset) as of NOW, built once per test session."""
    path = tmp_path_factory.mktemp("tui-template") / "demo.db"
    clock.freeze(NOW)
    try:
        build_demo(path, seed=7)
    finally:
        clock.freeze(None)
    return path


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    """Every TUI test runs at NOW."""
    clock.freeze(NOW)
    yield
    clock.freeze(None)


@pytest.fixture(autouse=True)
def no_reminders(monkeypatch: pytest.MonkeyPatch) -> None:
    """The follow-up reminders (a notification on opening, the overdue count in the header) stay out of the
    screens under test; tests/tui/test_agenda.py turns them on (`app.reminders = True`) where they are tested.
    What the app starts a moment after opening (reminders, score refresh) starts at once, for stable tests."""
    monkeypatch.setattr(LeadDeskApp, "reminders", False)
    monkeypatch.setattr(LeadDeskApp, "extras_after", 0.0)  # reminders and score refresh start with the desk
    # The warm-up (the other views and a spare lead card built ahead, in the background) is tested where it is
    # the subject (test_card_open.py turns it on); elsewhere it only took CPU from the test (~25% of its time).
    monkeypatch.setattr(LeadDeskApp, "warm_up_after", None)


@pytest.fixture(autouse=True)
def steady_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Text cursors do not blink under test: a snapshot taken half a second later must not differ by a cursor."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    monkeypatch.setattr(TextArea, "_toggle_cursor_blink_visible", lambda self: None)


@pytest.fixture
def demo_db(demo_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the demo desk for one test."""
    target = tmp_path / "desk.db"
    shutil.copyfile(demo_template, target)
    return target


@pytest.fixture
def desk(demo_db: Path) -> Iterator[Desk]:
    """The service API on the test's demo desk, acting as ann (with leads of her own), made a manager by kim
    so that every screen's action is allowed here (the role refusals are tested in tests/store and tests/cli)."""
    manager = Desk.open(str(demo_db), login="kim", origin="cli", settings=Settings())
    manager.set_user_role("ann", "manager")
    manager.close()
    opened = Desk.open(str(demo_db), login="ann", origin="tui", settings=Settings())
    yield opened
    opened.close()


@pytest.fixture
def app(desk: Desk) -> LeadDeskApp:
    """The app on the test's demo desk."""
    return make_app(Settings(), desk=desk)


@pytest.fixture
def app_factory(desk: Desk) -> Callable[[], LeadDeskApp]:
    """Build more apps on the same desk (e.g. for snapshots at several sizes)."""
    return lambda: make_app(Settings(), desk=desk)


async def settle(pilot: Pilot[None]) -> None:
    """Wait until the desk is open and every worker has finished, then let the screen repaint."""
    await pilot.pause()
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


SIZES = [(80, 24), (120, 40)]


async def calm(pilot: Pilot[None]) -> None:
    """Let each chain of workers finish (a write, then the reloads it triggers) and the screen repaint, its
    DataTables measured."""
    await pilot.pause()
    for _ in range(6):
        if not pilot.app.workers:
            break
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    await tables_measured(pilot)


async def tables_measured(pilot: Pilot[None]) -> None:
    """Wait (a little) until every DataTable of the screen has measured its new rows, and draw them afresh.
    Textual (8.2.8, private names) measures new rows when the table is next idle (`_require_update_dimensions`);
    a picture taken before shows each column at its header's width. Rows drawn before the measurement stay
    cached at the old widths until the table's next Resize (its render caches are keyed by `_update_count`, not
    by the widths): a picture taken between showed the first rows wide and the rest at the headers' widths. Both
    failed a snapshot in CI, under load."""
    for _ in range(20):
        if not any(table._require_update_dimensions for table in pilot.app.screen.query(DataTable)):
            break
        await pilot.pause()
    for table in pilot.app.screen.query(DataTable):
        table._clear_caches()
        table.refresh()
    await pilot.pause()


def text_of(pilot: Pilot[None], selector: str) -> str:
    """The plain text of a Static on the current screen."""
    visual = pilot.app.screen.query_one(selector, Static).visual
    return str(getattr(visual, "plain", visual))


def rows_of(pilot: Pilot[None], selector: str) -> list[list[str]]:
    """The cells of a DataTable on the current screen, as text."""
    table = pilot.app.screen.query_one(selector, DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


Scenario = Callable[[Pilot[None]], Awaitable[None]]


def run(app: LeadDeskApp, scenario: Scenario, size: tuple[int, int] = (80, 24), *,
        start: Callable[[LeadDeskApp], object] | None = None) -> None:
    """Run the app headless over a blank screen (the board below need not redraw), call `start(app)` (e.g. to
    open the screen under test), then play the scenario; no unexpected or internal error may be notified."""

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await calm(pilot)
            await app.push_screen(Screen())
            if start is not None:
                start(app)
                await calm(pilot)
            await scenario(pilot)
            assert_no_internal_error(app)

    asyncio.run(main())


def drive(app: LeadDeskApp, scenario: Scenario, size: tuple[int, int] = (100, 30), *, keys: tuple[str, ...] = (),
          check: Callable[[Pilot[None]], object] | None = None) -> None:
    """Run the app headless on the view it opens with, press `keys` (e.g. a view's key) and let them settle, call
    `check(pilot)` (an assertion on where the keys led), then play the scenario; no internal error may show."""

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await calm(pilot)
            if keys:
                await pilot.press(*keys)
                await calm(pilot)
            if check is not None:
                check(pilot)
            await scenario(pilot)
            assert_no_internal_error(app)

    asyncio.run(main())


def assert_no_internal_error(app: LeadDeskApp) -> None:
    """No screen hit a bug: nothing notified as an unexpected or internal error."""
    assert not [n for n in app._notifications
                if n.title == "Unexpected error" or str(n.message).startswith("internal error")]


CardBody = Callable[[Pilot[None], Any], Awaitable[None]]


def on_card(app: LeadDeskApp, number: int, body: CardBody, size: tuple[int, int] = (80, 24)) -> None:
    """Start the app, open lead `number`'s card over the board, run `body(pilot, card screen)`; no internal
    error may be notified."""
    from leaddesk.screens.lead_card import LeadCardScreen

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await calm(pilot)
            app.open_lead(number, [number])
            await calm(pilot)
            screen = app.screen
            assert isinstance(screen, LeadCardScreen)
            await body(pilot, screen)
            assert_no_internal_error(app)

    asyncio.run(main())


def snapshot_of(snap_compare: Any, app: LeadDeskApp, size: tuple[int, int], scenario: Scenario, *,
                start: Callable[[LeadDeskApp], object] | None = None) -> bool:
    """Compare the app's screen at `size` with its snapshot after `start(app)` and the scenario."""

    async def before(pilot: Pilot[None]) -> None:
        await calm(pilot)
        if start is not None:
            start(app)
            await calm(pilot)
        await scenario(pilot)
        await calm(pilot)

    return bool(snap_compare(app, terminal_size=size, run_before=before))
