"""The conflict dialog: ann edits a lead on its card while kim (another connection) changes it; saving shows
per field what ann read, typed and what is stored now, and saves the chosen values. Snapshots at 80x24 and 120x40.

No asyncio plugin is installed: Pilot tests are sync tests that run their body with `asyncio.run`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from leaddesk.app import LeadDeskApp
from leaddesk.screens.conflict import ConflictDialog, ConflictRow, Resolution, when_short
from leaddesk.screens.lead_card import LeadCardScreen
from leaddesk.settings import Settings
from leaddesk.store.desk import Desk
from leaddesk.store.queries import LeadFilter
from leaddesk.widgets.lead_form import LeadForm

from .conftest import SIZES, calm, on_card

SNAPSHOT_LEAD = 54  # ann's qualified lead of the card snapshots


def run(app: LeadDeskApp, number: int, body: Callable[[Pilot[None], LeadCardScreen], Awaitable[None]],
        size: tuple[int, int] = (80, 24)) -> None:
    on_card(app, number, body, size)


def open_lead(desk: Desk) -> dict[str, Any]:
    """One of ann's contacted leads."""
    number = desk.list_leads(LeadFilter(limit=1, mine=True, statuses=["Contacted"]))[0]["number"]
    return desk.show(str(number))


def as_kim(demo_db: Path, ref: str, values: dict[str, Any], status: str | None = None) -> None:
    """Kim changes the lead through her own connection (what another rep's desk does)."""
    kim = Desk.open(str(demo_db), login="kim", origin="tui", settings=Settings())
    try:
        kim.edit_lead(ref, values)
        if status:
            kim.set_status(ref, status)
    finally:
        kim.close()


def type_into(form: LeadForm, **values: str) -> None:
    for name, value in values.items():
        widget = form.widget_for(name)
        assert isinstance(widget, Input)
        widget.value = value


def table_rows(dialog: ConflictDialog) -> list[list[str]]:
    table = dialog.query_one(DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def messages(pilot: Pilot[None]) -> list[str]:
    return [str(n.message) for n in pilot.app._notifications]


def test_per_field_choice_saves_the_chosen_values_and_history_keeps_both_changes(
        app: LeadDeskApp, desk: Desk, demo_db: Path) -> None:
    target = open_lead(desk)
    ref = str(target["number"])

    async def body(pilot: Pilot[None], screen: LeadCardScreen) -> None:
        form = screen.query_one(LeadForm)
        type_into(form, city="Springfield", job_title="Buyer", zone="North")
        as_kim(demo_db, ref, {"city": "Shelbyville", "job_title": "CTO", "website": "kim.example.com"},
               status="Engaged")
        await pilot.press("ctrl+s")
        await calm(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, ConflictDialog)
        assert "changed by kim at 2026-11-26 12:00:00" in str(dialog.query_one("#conflict-title", Static).visual)
        old_city, old_job, old_zone = (target["city"] or "—", target["job_title"] or "—", target["zone"] or "—")
        assert table_rows(dialog) == [  # in the form's order, the questions first
            ["Job title", old_job, "Buyer", "CTO\nkim 12:00", "▸ yours"],
            ["City", old_city, "Springfield", "Shelbyville\nkim 12:00", "▸ yours"],
            ["Zone", old_zone, "North", "unchanged", "yours"],
        ]
        also = str(dialog.query_one("#conflict-also", Static).visual)
        assert "Both of you changed 2 fields" in also and "Website (kim), status (kim)" in also
        assert desk.show(ref)["city"] == "Shelbyville"  # nothing saved while the dialog asks

        await pilot.press("space")  # job title: take kim's
        assert table_rows(dialog)[0][4] == "▸ theirs"
        await pilot.press("down", "enter", "enter")  # city: theirs, then back to yours
        assert table_rows(dialog)[1][4] == "▸ yours"
        await pilot.press("down", "enter")  # zone: only ann changed it, not a question
        assert table_rows(dialog)[2][4] == "yours"
        assert any("Zone: only you changed it" in m for m in messages(pilot))
        await pilot.press("s")
        await calm(pilot)

        assert pilot.app.screen is screen
        detail = desk.show(ref)
        assert (detail["city"], detail["job_title"], detail["zone"], detail["website"], detail["status"]) == (
            "Springfield", "CTO", "North", "kim.example.com", "Engaged")
        assert not form.dirty
        assert [form.widget_for(n).value for n in ("city", "job_title", "zone", "website")] == [
            "Springfield", "CTO", "North", "kim.example.com"]
        city = [(h["user"], h["old"], h["new"]) for h in desk.history(ref) if h["field"] == "city"][-2:]
        assert city == [("kim", target["city"], "Shelbyville"), ("ann", "Shelbyville", "Springfield")]
        jobs = [h["user"] for h in desk.history(ref) if h["field"] == "job_title"]
        assert jobs[-1] == "kim"  # ann took kim's job title: no change of hers
        assert any(m == f"Lead #{ref} saved" for m in messages(pilot))

    run(app, target["number"], body)


def test_another_change_while_choosing_asks_again_then_keep_mine_wins(
        app: LeadDeskApp, desk: Desk, demo_db: Path) -> None:
    target = open_lead(desk)
    ref = str(target["number"])

    async def body(pilot: Pilot[None], screen: LeadCardScreen) -> None:
        form = screen.query_one(LeadForm)
        type_into(form, city="Springfield")
        as_kim(demo_db, ref, {"city": "Shelbyville"})
        await pilot.press("ctrl+s")
        await calm(pilot)
        assert isinstance(pilot.app.screen, ConflictDialog)
        as_kim(demo_db, ref, {"city": "Ogdenville"})  # meanwhile: the save must not overwrite it unseen
        await pilot.press("s")  # keep mine (the default choice)
        await calm(pilot)
        again = pilot.app.screen
        assert isinstance(again, ConflictDialog)
        assert table_rows(again) == [["City", "Shelbyville", "Springfield", "Ogdenville\nkim 12:00", "▸ yours"]]
        assert desk.show(ref)["city"] == "Ogdenville"
        await pilot.press("m")
        await calm(pilot)
        assert pilot.app.screen is screen and desk.show(ref)["city"] == "Springfield" and not form.dirty
        cities = [(h["user"], h["new"]) for h in desk.history(ref) if h["field"] == "city"][-3:]
        assert cities == [("kim", "Shelbyville"), ("kim", "Ogdenville"), ("ann", "Springfield")]

    run(app, target["number"], body)


def test_back_keeps_the_edits_take_theirs_drops_them_and_without_a_clash_nothing_is_asked(
        app: LeadDeskApp, desk: Desk, demo_db: Path) -> None:
    target = open_lead(desk)
    ref = str(target["number"])

    async def body(pilot: Pilot[None], screen: LeadCardScreen) -> None:
        form = screen.query_one(LeadForm)
        type_into(form, city="Springfield", zone="North")
        as_kim(demo_db, ref, {"city": "Shelbyville"})
        await pilot.press("ctrl+s")
        await calm(pilot)
        assert isinstance(pilot.app.screen, ConflictDialog)
        await pilot.press("escape")
        await calm(pilot)
        assert pilot.app.screen is screen and form.dirty
        assert [form.widget_for(n).value for n in ("city", "zone")] == ["Springfield", "North"]
        assert str(form.query_one("#form-message", Static).visual).startswith("not saved: the lead changed")
        assert (desk.show(ref)["city"], desk.show(ref)["zone"]) == ("Shelbyville", target["zone"])

        await pilot.press("ctrl+s")  # still based on the old read: asked again
        await calm(pilot)
        assert isinstance(pilot.app.screen, ConflictDialog)
        await pilot.press("t")
        await calm(pilot)
        assert pilot.app.screen is screen and not form.dirty
        assert [form.widget_for(n).value for n in ("city", "zone")] == ["Shelbyville", target["zone"] or ""]
        assert (desk.show(ref)["city"], desk.show(ref)["zone"]) == ("Shelbyville", target["zone"])

        # Without a clash nothing is asked: kim changes another field, and the city to what ann typed.
        type_into(form, zone="North", city="Springfield")
        as_kim(demo_db, ref, {"website": "kim.example.com", "city": "Springfield"})
        await pilot.press("ctrl+s")
        await calm(pilot)
        assert pilot.app.screen is screen
        detail = desk.show(ref)
        assert (detail["zone"], detail["city"], detail["website"]) == ("North", "Springfield", "kim.example.com")
        assert not form.dirty and form.widget_for("website").value == "kim.example.com"
        assert f"Lead #{ref} saved (with the other changes: Website (kim), City (kim))" in messages(pilot)

    run(app, target["number"], body)


def test_rows_clash_only_when_both_changed_a_field_differently() -> None:
    assert ConflictRow("city", "City", "Rome", "Paris", "Oslo").clash
    assert not ConflictRow("city", "City", "Rome", "Paris", "Rome").clash  # only mine
    assert not ConflictRow("city", "City", "Rome", "Paris", "Paris").clash  # the same change
    assert Resolution().theirs == frozenset() and not Resolution().drop_edits
    assert when_short("2026-11-26T12:07:30") == "12:07"  # today (the frozen clock)
    assert when_short("2026-11-20T08:00:00") == "2026-11-20 08:00"


def test_every_binding_has_an_id_and_a_description() -> None:
    ids = [b.id for b in ConflictDialog.BINDINGS if not isinstance(b, tuple)]
    assert all(i and i.startswith("conflict.") for i in ids) and len(ids) == len(set(ids)) == 5


# -- snapshots -----------------------------------------------------------------------------------
def _conflict_open(demo_db: Path) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def run_before(pilot: Pilot[None]) -> None:
        await calm(pilot)
        pilot.app.open_lead(SNAPSHOT_LEAD, [SNAPSHOT_LEAD])  # type: ignore[attr-defined]
        await calm(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, LeadCardScreen)
        form = screen.query_one(LeadForm)
        type_into(form, city="Springfield", job_title="Head of buying", zone="North")
        as_kim(demo_db, str(SNAPSHOT_LEAD), {"city": "Shelbyville [bold]x[/] and a long way on",
                                             "job_title": "C\x1b[2JO", "website": "kim.example.com"})
        await pilot.press("ctrl+s")
        await calm(pilot)
        assert isinstance(pilot.app.screen, ConflictDialog)
        await pilot.press("space")  # job title: theirs

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_snapshot_conflict_dialog(snap_compare: Any, app_factory: Callable[[], LeadDeskApp], demo_db: Path,
                                  size: tuple[int, int]) -> None:
    assert snap_compare(app_factory(), terminal_size=size, run_before=_conflict_open(demo_db))
