"""SLA alerts in the desk (issue 6): the board card and list row markers of leads past their first-contact
SLA, the list's SLA filter, and a manager's notification of a breach (once), marked read from the palette."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Select, Static

from leaddesk import clock
from leaddesk.app import LeadDeskApp, make_app
from leaddesk.settings import Settings, Sla
from leaddesk.store.desk import Desk
from leaddesk.store.queries import LeadFilter
from leaddesk.widgets.board import CARD_HEIGHT, HEADER_HEIGHT, SLA_MARK, Board
from leaddesk.widgets.lead_table import SLA_MARK as ROW_MARK
from leaddesk.widgets.lead_table import LeadTable

from .conftest import NOW, calm

SLA_ON = Settings(sla=Sla(contact_within_hours=4))  # mon-fri 09:00-17:00 (UTC: the clock is fixed)


@pytest.fixture
def sla_desk(desk: Desk, demo_db: Path) -> Iterator[Desk]:
    """Ann (a manager) on the demo desk with a 4-hour SLA, and two urgent new leads: "Late Lee", created
    yesterday noon (due yesterday 16:00: in breach), and "Fresh Fay", created now (due at 16:00 today)."""
    opened = Desk.open(str(demo_db), login="ann", origin="tui", settings=SLA_ON)
    clock.freeze(NOW - timedelta(days=1))
    opened.add_lead({"name": "Late Lee", "company": "Slowco", "priority": "urgent"}, force=True)
    clock.freeze(NOW)
    opened.add_lead({"name": "Fresh Fay", "company": "Quickco", "priority": "urgent"}, force=True)
    yield opened
    opened.close()


def drive(app: LeadDeskApp, scenario: Callable[[Pilot[None]], Awaitable[None]], size: tuple[int, int] = (100, 30),
          ) -> None:
    app.sla_every = 0  # every poll looks (the test calls it)

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await calm(pilot)
            await scenario(pilot)

    asyncio.run(main())


def sla_notes(app: LeadDeskApp) -> list[tuple[str, str]]:
    return [(str(n.title), str(n.message)) for n in app._notifications if n.title == "SLA breached"]


def card_line(board: Board, column: str, index: int) -> str:
    found = next(c for c in board.columns if c.info.name == column)
    return "".join(s.text for s in found.render_line(HEADER_HEIGHT + index * CARD_HEIGHT))


def test_a_breach_is_marked_on_the_board_and_told_to_the_manager_once(sla_desk: Desk) -> None:
    app = make_app(SLA_ON, desk=sla_desk)

    async def scenario(pilot: Pilot[None]) -> None:
        app._poll_sla()
        await calm(pilot)
        expected = ("SLA breached", "SLA breached: #301 Late Lee (owner ann) was not contacted by Wed 2026-11-25 16:00")
        assert sla_notes(app) == [expected]
        board = pilot.app.screen.query_one(Board)
        # the New column: urgent first, newest first: Fresh Fay (#302), then Late Lee (#301)
        fresh, late = card_line(board, "New", 0), card_line(board, "New", 1)
        assert "#302 Fresh" in fresh and not fresh.rstrip().endswith(SLA_MARK)
        assert "#301 Late" in late and late.rstrip().endswith(SLA_MARK)
        column = board.columns[0]
        assert [column.card(i).sla_breached for i in (0, 1)] == [False, True]  # type: ignore[union-attr]
        app._poll_sla()  # the next look: nothing new, nothing told again
        await calm(pilot)
        assert sla_notes(app) == [expected]
        assert [n["lead"] for n in sla_desk.notices()] == [301]
        app.mark_notices_read()  # the palette's "notices: mark read"
        await calm(pilot)
        assert sla_desk.notices() == []
        assert "1 notice marked read" in [str(n.message) for n in app._notifications]

    drive(app, scenario)
    kim = Desk.open(str(sla_desk.db.target), login="kim", settings=SLA_ON)
    try:
        assert [n["text"].split(":")[0] for n in kim.notices()] == ["SLA breached"]  # every manager is told
    finally:
        kim.close()


def test_a_rep_is_not_notified_and_the_list_filters_and_marks_breaches(sla_desk: Desk, demo_db: Path) -> None:
    rep = Desk.open(str(demo_db), login="raj", origin="tui", settings=SLA_ON)
    app = make_app(SLA_ON, desk=rep)

    async def scenario(pilot: Pilot[None]) -> None:
        app._poll_sla()
        await calm(pilot)
        assert sla_notes(app) == []  # escalated to the managers, not to a rep
        await pilot.press("2")
        await calm(pilot)
        await pilot.press("f")
        await calm(pilot)
        pilot.app.screen.query_one("#sla", Select).value = "breached"
        await pilot.press("ctrl+s")
        await calm(pilot)
        table = pilot.app.screen.query_one(LeadTable)
        assert table.total == rep.count_leads(LeadFilter(sla="breached")) == 1
        row = table.render_line(1).text
        assert row.startswith(ROW_MARK) and "Late Lee" in row
        filters = pilot.app.screen.query_one("#filters", Static).visual
        assert "SLA breached" in str(getattr(filters, "plain", filters))

    try:
        drive(app, scenario)
    finally:
        rep.close()
    assert [n["lead"] for n in sla_desk.notices()] == [301]


def test_snapshot_board_with_a_breach_and_the_managers_notification(snap_compare: Any, sla_desk: Desk) -> None:
    app = make_app(SLA_ON, desk=sla_desk)

    async def run_before(pilot: Pilot[None]) -> None:
        await calm(pilot)
        app._poll_sla()
        await calm(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_snapshot_list_with_a_breach(snap_compare: Any, sla_desk: Desk) -> None:
    app = make_app(SLA_ON, desk=sla_desk)
    app._sla_looked = float("inf")  # no look, no notification: the list alone (urgent first: #302, then #301)

    async def run_before(pilot: Pilot[None]) -> None:
        await calm(pilot)
        await pilot.press("2")
        await calm(pilot)
        screen = pilot.app.screen
        screen.flt.sort = "priority"  # type: ignore[attr-defined]
        screen.flt.descending = True  # type: ignore[attr-defined]
        screen._requery()  # type: ignore[attr-defined]
        await calm(pilot)

    assert snap_compare(app, terminal_size=(120, 24), run_before=run_before)
