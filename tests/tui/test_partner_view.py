"""The partner's view and comarketing mode in the TUI (issue 7).

A partner user (pat, linked by kim, the demo desk's admin, to the demo's Keystone Realty Group) who opens the desk
sees the partner view and nothing else: the app's view keys, the palette's lead finder and the help offer them
nothing, and the app never calls a Desk method the store refuses a partner (the poll only reads data_version).
The view follows another desk's changes live. Managers and reps toggle comarketing mode with P.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from leaddesk.app import LeadDeskApp, make_app
from leaddesk.commands import LeadFinder
from leaddesk.screens.board import BoardScreen
from leaddesk.screens.comarketing import ComarketingScreen
from leaddesk.screens.help import HelpScreen
from leaddesk.screens.lead_card import LeadCardScreen
from leaddesk.screens.partner_view import PartnerViewScreen, PeriodDialog
from leaddesk.settings import Settings
from leaddesk.store import permissions
from leaddesk.store.desk import Desk
from leaddesk.widgets.status_table import ReferredTable, StatusTable

from .conftest import SIZES, calm, drive, rows_of, snapshot_of, text_of

PARTNER = "Keystone Realty Group"


@pytest.fixture
def kim(demo_db: Path) -> Iterator[Desk]:
    """The demo desk's admin; links pat to the partner and changes leads from "another desk"."""
    desk = Desk.open(str(demo_db), login="kim", origin="cli", settings=Settings())
    desk.edit_partner(PARTNER, user="pat")
    yield desk
    desk.close()


@pytest.fixture
def pat(kim: Desk, demo_db: Path) -> Iterator[Desk]:
    desk = Desk.open(str(demo_db), login="pat", origin="tui", settings=Settings())
    yield desk
    desk.close()


@pytest.fixture
def pat_app(pat: Desk) -> LeadDeskApp:
    app = make_app(Settings(), desk=pat)
    return app


def run(app: LeadDeskApp, scenario: Any, size: tuple[int, int] = (80, 24)) -> None:
    drive(app, scenario, size)


def table_rows(pilot: Pilot[None], selector: str = "#pv-leads") -> list[dict[str, Any]]:
    return pilot.app.screen.query_one(selector, StatusTable).rows_shown()


def test_a_partner_opens_the_partner_view_with_exactly_their_rows(pat_app: LeadDeskApp, kim: Desk) -> None:
    expected = kim.partner_report(PARTNER)

    async def scenario(pilot: Pilot[None]) -> None:
        assert isinstance(pilot.app.screen, PartnerViewScreen) and pat_app.current_mode == "partner"
        assert text_of(pilot, "#pv-title").startswith(f"{PARTNER} · all time · {len(expected['leads'])} leads")
        metrics = text_of(pilot, "#pv-metrics")
        m = expected["metrics"]
        assert f"ROCS {m['rocs']:.1f}%" in metrics and "CAC " in metrics and f"Leads {m['leads']}" in metrics
        assert table_rows(pilot) == expected["leads"]
        assert set(table_rows(pilot)[0]) == {"number", "name", "status", "job_value"}
        assert pilot.app.screen.title == "Partner view" and pilot.app.sub_title == "pat · desk.db"
        assert not [n for n in pat_app._notifications if n.severity == "error"]

    run(pat_app, scenario)


def test_no_key_palette_search_or_poll_reaches_anything_else(pat_app: LeadDeskApp, kim: Desk,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    refused: list[str] = []
    original = permissions.check_not_partner

    def spy(role: str) -> None:
        if role == "partner":
            refused.append(role)
        original(role)

    monkeypatch.setattr(permissions, "check_not_partner", spy)
    pat_app.poll_every = 0.05
    pat_app.sla_every = 0.0
    pat_app.reminders = True
    some_lead = kim.show("1")

    async def scenario(pilot: Pilot[None]) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, PartnerViewScreen)
        for key in ("1", "2", "3", "4", "5", "I", "U", "T", "P", "enter"):
            await pilot.press(key)
            await calm(pilot)
            assert pilot.app.screen is screen and pilot.app.screen_stack == [screen], key
        assert pat_app.current_mode == "partner"
        finder = LeadFinder(screen)
        assert [hit async for hit in finder.search(str(some_lead["contact_name"]))] == []
        assert [hit async for hit in finder.discover()] == []
        commands = [c.title for c in pat_app.get_system_commands(screen)]
        assert not [c for c in commands if c.startswith(("view:", "lead:", "import:", "users:", "work:"))]
        await pilot.press("ctrl+p")
        await calm(pilot)
        assert isinstance(pilot.app.screen, CommandPalette)
        await pilot.press("escape")
        await pilot.press("question_mark")
        await calm(pilot)
        help_screen = pilot.app.screen
        assert isinstance(help_screen, HelpScreen)
        app_ids = {row[3] for row in help_screen.key_rows() if row[0] == "App" and row[3]}  # "": Textual's own
        assert app_ids == {"app.help", "app.quit"}
        await pilot.press("escape")
        await pilot.pause(0.3)  # several poll ticks and an SLA look would have come by now
        await calm(pilot)
        assert pilot.app.screen is screen

    run(pat_app, scenario)
    assert refused == ["partner"]  # once: whoami, when the desk opened (that is how the app knows)


def test_the_view_follows_another_desks_change_live(pat_app: LeadDeskApp, kim: Desk) -> None:
    pat_app.poll_every = 0.1
    row = next(r for r in kim.partner_report(PARTNER)["leads"] if r["job_value"] is None)

    async def scenario(pilot: Pilot[None]) -> None:
        before = {r["number"]: r for r in table_rows(pilot)}
        assert before[row["number"]]["status"] == row["status"]
        kim.mark_won(str(row["number"]), "2,500")
        for _ in range(40):
            await pilot.pause(0.05)
            if {r["number"]: r for r in table_rows(pilot)}[row["number"]]["job_value"] == 250_000:
                break
        after = {r["number"]: r for r in table_rows(pilot)}[row["number"]]
        assert (after["status"], after["job_value"]) == ("Converted", 250_000)
        assert f"Won {kim.partner_metrics(PARTNER)['won']}" in text_of(pilot, "#pv-metrics")

    run(pat_app, scenario)


def test_the_period_filter_narrows_the_rows_and_the_metrics(pat_app: LeadDeskApp, kim: Desk) -> None:
    expected = kim.partner_report(PARTNER, "2026-11-01", "2026-11-26")
    assert 0 < len(expected["leads"]) < len(kim.partner_report(PARTNER)["leads"])

    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("f")
        await calm(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, PeriodDialog)
        dialog.query_one("#since", Input).value = "2026-11-30"
        dialog.query_one("#until", Input).value = "2026-11-01"
        await pilot.press("ctrl+s")
        await calm(pilot)
        assert pilot.app.screen is dialog
        assert text_of(pilot, "#error") == "the period starts (2026-11-30) after it ends (2026-11-01)"
        dialog.query_one("#since", Input).value = "2026-11-01"
        dialog.query_one("#until", Input).value = "today"
        await pilot.press("ctrl+s")
        await calm(pilot)
        assert isinstance(pilot.app.screen, PartnerViewScreen)
        assert " · 2026-11-01 to 2026-11-26 · " in text_of(pilot, "#pv-title")
        assert table_rows(pilot) == expected["leads"]
        assert f"Leads {expected['metrics']['leads']}" in text_of(pilot, "#pv-metrics")

    run(pat_app, scenario)


def test_a_partner_nobody_linked_reads_why(kim: Desk, demo_db: Path) -> None:
    kim.add_user("lone", role="partner")
    lone = Desk.open(str(demo_db), login="lone", origin="tui", settings=Settings())
    app = make_app(Settings(), desk=lone)

    async def scenario(pilot: Pilot[None]) -> None:
        assert isinstance(pilot.app.screen, PartnerViewScreen)
        assert text_of(pilot, "#pv-title") == ("no partner is linked to your login 'lone' yet: ask a manager to run"
                                               " `leaddesk partner edit NAME --login lone`")
        assert table_rows(pilot) == []

    try:
        run(app, scenario)
    finally:
        lone.close()


def test_a_deactivated_partner_is_told_so_and_gets_no_partner_view(kim: Desk, demo_db: Path) -> None:
    kim.set_user_active("pat", False)
    app = make_app(Settings(), db=str(demo_db), login="pat")

    async def scenario(pilot: Pilot[None]) -> None:
        assert app.desk is None and not app.is_partner and app.current_mode != "partner"
        assert not pilot.app.screen.query(StatusTable)
        assert [(n.title, str(n.message)) for n in app._notifications] == [(
            "Cannot open the desk", "user 'pat' is deactivated on this desk: ask a manager to run"
                                    " `leaddesk user activate pat`")]
        assert app.sub_title == "pat · not allowed"
        for key in ("1", "P", "enter"):
            await pilot.press(key)
            await calm(pilot)
        assert not [t for t in pilot.app.screen.query(DataTable) if t.row_count]

    run(app, scenario)


# -- comarketing mode (managers and reps) ----------------------------------------------------------------------
def test_p_toggles_comarketing_mode_and_back(app: LeadDeskApp, desk: Desk) -> None:
    head = desk.comarketing()

    async def scenario(pilot: Pilot[None]) -> None:
        assert isinstance(pilot.app.screen, BoardScreen)
        await pilot.press("2")
        await calm(pilot)
        await pilot.press("P")
        await calm(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ComarketingScreen) and app.current_mode == "comarketing"
        partners = rows_of(pilot, "#cm-partners")
        assert [r[0] for r in partners] == [p["name"] for p in head["partners"]] + ["Total"]
        total = head["total"]
        assert partners[-1][1:3] == [f"{total['leads']:,}", f"{total['won']:,}"]
        assert text_of(pilot, "#cm-summary") == (f"Comarketing · all time · {len(head['partners'])} partners"
                                                 f" · {total['leads']:,} leads referred")
        leads = screen.query_one(ReferredTable)
        assert leads.total == total["leads"] and leads.rows_shown()[:3] == desk.referred_leads(limit=3)
        await pilot.press("enter")  # the lead under the cursor
        await calm(pilot)
        card = pilot.app.screen
        assert isinstance(card, LeadCardScreen) and card.number == leads.rows_shown()[0]["number"]
        await pilot.press("escape")
        await calm(pilot)
        await pilot.press("P")
        await calm(pilot)
        assert app.current_mode == "list"

    run(app, scenario, size=(120, 40))  # wide enough for the partners' whole names


def test_comarketing_period_filter(app: LeadDeskApp, desk: Desk) -> None:
    head = desk.comarketing("2026-11-01", "2026-11-15")

    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("P")
        await calm(pilot)
        await pilot.press("f")
        await calm(pilot)
        dialog = pilot.app.screen
        dialog.query_one("#since", Input).value = "2026-11-01"
        dialog.query_one("#until", Input).value = "2026-11-15"
        await pilot.press("ctrl+s")
        await calm(pilot)
        assert text_of(pilot, "#cm-summary").startswith("Comarketing · 2026-11-01 to 2026-11-15 · ")
        assert pilot.app.screen.query_one(ReferredTable).total == head["total"]["leads"]
        partners = pilot.app.screen.query_one("#cm-partners", DataTable)
        assert partners.row_count == len(head["partners"]) + 1

    run(app, scenario)


# -- snapshots ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_snapshot_partner_view(snap_compare: Any, kim: Desk, pat_app: LeadDeskApp, size: tuple[int, int]) -> None:
    kim.mark_won("221", "3,200")  # one won lead: its job value shows, ROCS is above 0

    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("down")

    assert snapshot_of(snap_compare, pat_app, size, scenario)


def test_snapshot_partner_view_with_undefined_metrics(snap_compare: Any, pat_app: LeadDeskApp) -> None:
    async def scenario(pilot: Pilot[None]) -> None:  # October: no leads, no spend -> both "—" with the reasons
        await pilot.press("f")
        await calm(pilot)
        pilot.app.screen.query_one("#since", Input).value = "2026-10-01"
        pilot.app.screen.query_one("#until", Input).value = "2026-10-31"
        await pilot.press("ctrl+s")

    assert snapshot_of(snap_compare, pat_app, (80, 24), scenario)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_snapshot_comarketing(snap_compare: Any, app: LeadDeskApp, size: tuple[int, int]) -> None:
    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("P")

    assert snapshot_of(snap_compare, app, size, scenario)
