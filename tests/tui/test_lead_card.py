"""The lead card: keys pressed through Pilot, then both the screen and the database checked; literal rendering
of hostile text; $EDITOR for the description; snapshots of every tab at 80x24 (and Details at 120x40).

No asyncio plugin is installed: Pilot tests are sync tests that run their body with `asyncio.run`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static, TabbedContent

from leaddesk.app import LeadDeskApp, make_app
from leaddesk.screens.conflict import ConflictDialog
from leaddesk.screens.dialogs import ConfirmDialog, LostDialog, TextDialog, WonDialog
from leaddesk.screens.followup_dialog import FollowupDialog
from leaddesk.screens.lead_card import LeadCardScreen
from leaddesk.settings import CustomField, Settings
from leaddesk.store.desk import Desk
from leaddesk.store.errors import NotFound
from leaddesk.store.queries import LeadFilter
from leaddesk.widgets.lead_form import LeadForm

from .conftest import assert_no_internal_error, calm

Body = Callable[[Pilot[None], LeadCardScreen], Awaitable[None]]


def run(app: LeadDeskApp, number: int, body: Body, siblings: list[int] | None = None,
        size: tuple[int, int] = (80, 24)) -> None:
    """Start the app, open lead `number`'s card, run `body`."""

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await calm(pilot)  # the desk opens in a worker
            app.open_lead(number, siblings or [number])
            await calm(pilot)
            screen = app.screen
            assert isinstance(screen, LeadCardScreen)
            await body(pilot, screen)
            assert_no_internal_error(pilot.app)

    asyncio.run(main())


def lead(desk: Desk, *, without: tuple[str, ...] = (), **fields: Any) -> dict[str, Any]:
    """The first of ann's leads matching a filter (and having none of `without`: deals, activities, customer)."""
    for row in desk.list_leads(LeadFilter(limit=None, mine=True, **fields)):
        detail = desk.show(str(row["number"]))
        if all(not detail[k if k != "customer" else "customer_id"] for k in without):
            return detail
    raise AssertionError(f"no demo lead matches {fields} without {without}")


def messages(pilot: Pilot[None]) -> list[str]:
    return [str(n.message) for n in pilot.app._notifications]


def text_of(screen: LeadCardScreen, selector: str) -> str:
    visual = screen.query_one(selector, Static).visual
    return str(getattr(visual, "plain", visual))


async def tab(pilot: Pilot[None], screen: LeadCardScreen, pane: str) -> None:
    screen.query_one(TabbedContent).active = pane
    screen.query_one("ContentTabs").focus()
    await calm(pilot)


async def followup_dialog(pilot: Pilot[None], when: str, at: str | None = None, note: str | None = None) -> None:
    """Fill the open follow-up dialog (date, and time and note when given) and save it with ctrl+s."""
    await calm(pilot)  # the dialog has read the lead
    dialog = pilot.app.screen
    assert isinstance(dialog, FollowupDialog)
    for name, value in (("date", when), ("time", at), ("note", note)):
        if value is not None:
            dialog.query_one(f"#{name}", Input).value = value
    await pilot.press("ctrl+s")
    await calm(pilot)


def followup_of(desk: Desk, ref: str) -> tuple[Any, Any, Any]:
    lead = desk.show(ref)
    return lead["followup_on"], lead["followup_time"], lead["followup_note"]


async def answer(pilot: Pilot[None], text: str) -> None:
    """Fill the open TextDialog and press enter (typing is tested on the card's own fields: it costs a repaint
    per key)."""
    dialog = pilot.app.screen
    assert isinstance(dialog, TextDialog)
    dialog.query_one("#text", Input).value = text
    await pilot.press("enter")
    await calm(pilot)


# -- header, status and keys ----------------------------------------------------------------------
def test_header_status_selector_history_won_reopen_lost(app: LeadDeskApp, desk: Desk) -> None:
    target = lead(desk, statuses=["New"], type="Inbound")
    ref = str(target["number"])

    async def body(pilot: Pilot[None], screen: LeadCardScreen) -> None:
        title = text_of(screen, "#card-title")
        assert f"#{target['number']}" in title and target["contact_name"] in title
        facts = text_of(screen, "#card-facts")
        assert "owner ann" in facts and f"score {target['score']}" in facts
        assert screen.focused is screen.query_one("ContentTabs")
        select = screen.query_one("#status", Select)
        assert select.value == "New"
        offered = [value for _label, value in select._options if isinstance(value, str)]
        assert offered == [c["name"] for c in desk.status_choices(ref)]
        assert "Attempted to contact" not in offered  # the Inbound type does not allow it
        assert not {"Qualified", "Converted", "Disqualified"} & set(offered)

        await pilot.press("s", "down", "enter")  # the selector: New → Contacted
        await calm(pilot)
        assert desk.show(ref)["status"] == "Contacted" and select.value == "Contacted"
        assert any("is now Contacted" in m for m in messages(pilot))
        await tab(pilot, screen, "history")
        first = [str(c) for c in screen.query_one("#history-table", DataTable).get_row_at(0)]
        assert first[1:] == ["ann", "tui", "status", "New → Contacted"]

        # Behind the card's back the Inbound type stops allowing Engaged: picking it is refused.
        desk.catalog_change("types", "statuses", "Inbound", ["New", "Contacted", "Qualified", "Converted",
                                                              "Disqualified"])
        await pilot.press("s", "down", "enter")
        await calm(pilot)
        assert desk.show(ref)["status"] == "Contacted" and select.value == "Contacted"
        assert any("not allowed for lead type 'Inbound'" in m for m in messages(pilot))

        # Won with a value, reopened, then lost with a reason: the keys that apply follow the status.
        assert screen.check_action("won", ()) and not screen.check_action("reopen", ())
        await pilot.press("W")
        await calm(pilot)
        assert isinstance(pilot.app.screen, WonDialog)
        pilot.app.screen.query_one("#value", Input).value = "12,500"
        await pilot.press("enter")
        await calm(pilot)
        detail = desk.show(ref)
        assert detail["status_category"] == "won" and detail["job_value_cents"] == 1_250_000
        assert pilot.app.screen is screen and "won 12,500.00" in text_of(screen, "#card-facts")
        assert not screen.check_action("won", ()) and not screen.check_action("lost", ())
        assert not screen.check_action("qualify", ()) and screen.check_action("reopen", ())

        await pilot.press("R")
        await calm(pilot)
        detail = desk.show(ref)
        assert detail["status"] == "New" and detail["job_value_cents"] is None
        assert screen.query_one("#status", Select).value == "New"
        assert screen.check_action("qualify", ()) and not screen.check_action("reopen", ())

        await pilot.press("X")
        await calm(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, LostDialog)
        dialog.query_one("#reason", Select).value = "Budget"
        dialog.query_one("#note", Input).value = "in 2027"
        dialog.query_one("#note", Input).focus()
        await pilot.press("enter")
        await calm(pilot)
        detail = desk.show(ref)
        assert (detail["status"], detail["lost_reason"], detail["lost_note"]) == ("Disqualified", "Budget",
                                                                                   "in 2027")
        assert "Budget: in 2027" in text_of(screen, "#card-facts")

    run(app, target["number"], body)


def test_keys_that_do_not_apply_are_hidden_and_steps_go_through_siblings(
        app: LeadDeskApp, desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    numbers = [r["number"] for r in desk.list_leads(LeadFilter(limit=None, mine=True, statuses=["Qualified"]))][:3]
    opened: list[int] = []
    monkeypatch.setattr(LeadDeskApp, "open_deal", lambda _self, deal_id: opened.append(deal_id))

    def shown(screen: LeadCardScreen) -> set[str]:
        return {str(b.binding.id) for b in screen.active_bindings.values() if b.enabled}

    async def body(pilot: Pilot[None], screen: LeadCardScreen) -> None:
        assert screen.number == numbers[1] and text_of(screen, "#card-position") == "2/3"
        assert {"card.won", "card.lost", "card.save", "card.previous", "card.next"} <= shown(screen)
        assert not {"card.qualify", "card.reopen", "card.customer", "card.note", "card.followup"} & shown(screen)
        await tab(pilot, screen, "activity")
        assert {"card.note", "card.call", "card.email", "card.meeting"} <= shown(screen)
        assert "card.save" not in shown(screen)

        await pilot.press("right_square_bracket")
        await calm(pilot)
        assert screen.number == numbers[2] and f"#{numbers[2]}" in text_of(screen, "#card-title")
        assert "card.next" not in shown(screen)
        await pilot.press("left_square_bracket", "left_square_bracket")
        await calm(pilot)
        assert screen.number == numbers[0] and f"#{numbers[0]}" in text_of(screen, "#card-title")
        assert "card.previous" not in shown(screen) and "card.next" in shown(screen)
        name = screen.query_one(LeadForm).widget_for("name")
        assert isinstance(name, Input) and name.value == desk.show(str(numbers[0]))["contact_name"]

        name.value = "Not saved"  # unsaved edits: stepping away asks first
        await pilot.press("right_square_bracket")
        await calm(pilot)
        assert isinstance(pilot.app.screen, ConfirmDialog)
        await pilot.press("n")
        await calm(pilot)
        assert screen.number == numbers[0] and name.value == "Not saved"
        await pilot.press("right_square_bracket", "y")
        await calm(pilot)
        assert screen.number == numbers[1] and name.value == desk.show(str(numbers[1]))["contact_name"]
        await pilot.press("left_square_bracket")
        await calm(pilot)

        await tab(pilot, screen, "deals")
        screen.query_one("#deals-table", DataTable).focus()
        await pilot.press("enter")
        assert opened == [desk.show(str(numbers[0]))["deals"][0]["id"]]

    run(app, numbers[1], body, siblings=numbers)


def test_every_binding_has_an_id_and_a_description() -> None:
    ids = []
    for binding in LeadCardScreen.BINDINGS:
        assert not isinstance(binding, tuple)
        assert binding.id and binding.id.startswith("card.") and binding.description, binding
        ids.append(binding.id)
    assert len(ids) == len(set(ids))


# -- details form --------------------------------------------------------------------------------
def test_form_refuses_inline_saves_names_conflicts_and_keeps_letters_as_text(
        app: LeadDeskApp, desk: Desk, demo_db: Path) -> None:
    target = lead(desk, statuses=["Contacted"])
    ref = str(target["number"])

    async def body(pilot: Pilot[None], screen: LeadCardScreen) -> None:
        form = screen.query_one(LeadForm)
        email, job, city = (form.widget_for(name) for name in ("email", "job_title", "city"))
        assert isinstance(email, Input) and isinstance(job, Input) and isinstance(city, Input)
        email.focus()
        email.value = ""
        await pilot.press("x", "@", "ctrl+s")
        await calm(pilot)
        assert text_of(screen, "#form-message").startswith("email 'x@' is not valid")
        assert email.value == "x@" and email.has_class("-refused")
        assert desk.show(ref)["email"] == target["email"]  # nothing saved

        email.value = "ann.new@example.com"
        job.focus()
        job.value = ""
        await pilot.press(*"WQDX", "enter")  # letters that are actions outside a field; enter saves
        await calm(pilot)
        assert not isinstance(pilot.app.screen, WonDialog | ConfirmDialog | LostDialog)
        detail = desk.show(ref)
        assert (detail["email"], detail["job_title"], detail["status"]) == ("ann.new@example.com", "WQDX",
                                                                          "Contacted")
        assert text_of(screen, "#form-message") == "" and not form.dirty

        # Someone else changes the lead while ann edits the city: the save asks (tests/tui/test_conflict.py).
        city.value = "Springfield"
        other = Desk.open(str(demo_db), login="kim", origin="cli")
        try:
            other.edit_lead(ref, {"city": "Shelbyville"})
        finally:
            other.close()
        await pilot.press("ctrl+s")
        await calm(pilot)
        assert "changed by kim" in text_of(screen, "#form-message")
        assert isinstance(pilot.app.screen, ConflictDialog)
        assert desk.show(ref)["city"] == "Shelbyville" and city.value == "Springfield"
        await pilot.press("t")  # take theirs: reload
        await calm(pilot)
        assert city.value == "Shelbyville" and not form.dirty

        job.focus()
        await pilot.press("escape")  # leaves the field...
        assert pilot.app.screen is screen and not isinstance(screen.focused, Input)
        await pilot.press("escape")  # ...then closes the card
        await calm(pilot)
        assert not isinstance(pilot.app.screen, LeadCardScreen)

    run(app, target["number"], body)


# -- activity, follow-up, undo -------------------------------------------------------------------
def test_note_call_followup_undo_and_description_in_editor(app: LeadDeskApp, desk: Desk, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    target = lead(desk, statuses=["Contacted"])
    ref = str(target["number"])
    before = len(target["activities"])
    script = tmp_path / "editor.sh"
    script.write_text("#!/bin/sh\nprintf 'Wants a call back in March.\\nBudget approved.\\n' > \"$1\"\n")
    script.chmod(0o755)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(script))

    @contextlib.contextmanager
    def no_suspend(_self: App[Any]) -> Iterator[None]:
        yield  # no real terminal to hand over in a test

    monkeypatch.setattr(App, "suspend", no_suspend)

    async def body(pilot: Pilot[None], screen: LeadCardScreen) -> None:
        await pilot.press("a")  # not on the Details tab
        assert pilot.app.screen is screen
        await tab(pilot, screen, "activity")
        await pilot.press("a")
        await answer(pilot, "Prefers email")
        await pilot.press("c")
        await answer(pilot, "Left a voicemail")
        activities = desk.show(ref)["activities"]
        assert [(a["kind"], a["body"]) for a in activities[:2]] == [("call", "Left a voicemail"),
                                                                   ("note", "Prefers email")]
        svg = pilot.app.export_screenshot()
        assert "Prefers&#160;email" in svg and "Left&#160;a&#160;voicemail" in svg
        assert f"Activity ({before + 2})" in str(screen.query_one(TabbedContent).get_tab("activity").label)

        await tab(pilot, screen, "followups")
        await pilot.press("F")
        await followup_dialog(pilot, "someday")
        dialog = pilot.app.screen
        assert isinstance(dialog, FollowupDialog)  # the refusal is shown; nothing changed
        assert "can't read date" in str(dialog.query_one("#error", Static).visual)
        assert desk.show(ref)["followup_on"] == target["followup_on"]
        await followup_dialog(pilot, "+3d", "2pm", "bring the samples")
        assert followup_of(desk, ref) == ("2026-11-29", "14:00", "bring the samples")
        info = text_of(screen, "#followup-info")
        assert "2026-11-29 at 14:00  in 3 days" in info and "bring the samples" in info
        await pilot.press("F")
        await followup_dialog(pilot, "")  # an empty date clears it all
        assert followup_of(desk, ref) == (None, None, "")

        await pilot.press("u")  # undoes the clearing
        await calm(pilot)
        assert desk.show(ref)["followup_on"] == "2026-11-29"
        assert any(m.startswith("Undone") and "2026-11-29" in m for m in messages(pilot))

        await pilot.press("e")  # the description in $EDITOR
        await calm(pilot)
        assert desk.show(ref)["description"] == "Wants a call back in March.\nBudget approved."
        assert "Budget approved." in text_of(screen, "#form-description")

    run(app, target["number"], body)


# -- lead actions --------------------------------------------------------------------------------
def test_create_customer_copy_and_delete(app: LeadDeskApp, desk: Desk) -> None:
    target = lead(desk, statuses=["Engaged"], without=("customer",))
    assert target["activities"]
    ref = str(target["number"])

    async def body(pilot: Pilot[None], screen: LeadCardScreen) -> None:
        await pilot.press("C")
        await calm(pilot)
        assert isinstance(pilot.app.screen, ConfirmDialog)
        await pilot.press("y")
        await calm(pilot)
        assert desk.show(ref)["customer_id"] is not None
        assert not screen.check_action("customer", ())

        await pilot.press("y")  # copy: opens the copy's card
        await calm(pilot)
        card = pilot.app.screen
        assert isinstance(card, LeadCardScreen) and card is not screen
        copy = desk.show(str(card.number))
        assert copy["contact_name"] == target["contact_name"] and copy["number"] != target["number"]

        await pilot.press("D")  # the copy has no activity: one question, then back to the original
        await calm(pilot)
        assert isinstance(pilot.app.screen, ConfirmDialog)
        await pilot.press("y")
        await calm(pilot)
        with pytest.raises(NotFound):
            desk.show(str(copy["number"]))
        assert pilot.app.screen is screen

        await pilot.press("D", "y")  # the original has activities: refused, then offered anyway
        await calm(pilot)
        second = pilot.app.screen
        assert isinstance(second, ConfirmDialog) and "activit" in second.question
        assert "--force" not in second.question
        desk.show(ref)  # still there
        await pilot.press("y")
        await calm(pilot)
        with pytest.raises(NotFound):
            desk.show(ref)
        assert not isinstance(pilot.app.screen, LeadCardScreen)
        assert not any("no lead" in m or "exist" in m for m in messages(pilot)), messages(pilot)

    run(app, target["number"], body)


# -- hostile text --------------------------------------------------------------------------------
def test_user_text_is_shown_literally_and_custom_fields_are_edited(demo_db: Path) -> None:
    settings = Settings(custom_fields={
        "industry": CustomField("industry", "choice", choices=("Retail", "Software")),
        "seats": CustomField("seats", "number"),
    })
    desk = Desk.open(str(demo_db), login="ann", origin="tui", settings=settings)
    app = make_app(settings, desk=desk)
    hostile = desk.add_lead({"name": "[bold red]x[/]", "company": "\x1b[2J", "email": "x@example.com"})
    desk.add_activity(str(hostile["number"]), "note", "[link=http://evil]click[/link] \x07\x1b]0;title\x07")
    ref = str(hostile["number"])

    async def body(pilot: Pilot[None], screen: LeadCardScreen) -> None:
        form = screen.query_one(LeadForm)
        seats, industry = form.widget_for("custom:seats"), form.widget_for("custom:industry")
        assert isinstance(seats, Input) and isinstance(industry, Select)
        seats.value = "many"
        await pilot.press("ctrl+s")
        await calm(pilot)
        assert text_of(screen, "#form-message") == "Seats must be a number, not 'many'"
        assert seats.has_class("-refused") and desk.show(ref)["custom"] == {}
        seats.value = "12"
        industry.value = "Software"
        await pilot.press("ctrl+s")
        await calm(pilot)
        assert desk.show(ref)["custom"] == {"industry": "Software", "seats": 12}

        title = text_of(screen, "#card-title")
        assert "[bold red]x[/]" in title and "\\x1b[2J" in title and "\x1b" not in title
        company = screen.query_one(LeadForm).widget_for("company")
        assert isinstance(company, Input) and company.value == "\\x1b[2J"
        svg = pilot.app.export_screenshot()
        assert "[bold&#160;red]x[/]" in svg and "\\x1b[2J" in svg
        await tab(pilot, screen, "activity")
        svg = pilot.app.export_screenshot()
        assert "[link=http://evil]click[/link]" in svg and "\\x07\\x1b]0;title\\x07" in svg
        assert "\x1b" not in svg and "\x07" not in svg

    try:
        run(app, hostile["number"], body)
    finally:
        desk.close()


# -- snapshots -----------------------------------------------------------------------------------
SNAPSHOT_LEAD = 54  # ann's: qualified, a customer, a deal, three activities, tags, an overdue follow-up


def _open_on(pane: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def run_before(pilot: Pilot[None]) -> None:
        await calm(pilot)
        pilot.app.open_lead(SNAPSHOT_LEAD, [36, SNAPSHOT_LEAD, 104])  # type: ignore[attr-defined]
        await calm(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, LeadCardScreen)
        await tab(pilot, screen, pane)

    return run_before


@pytest.mark.parametrize("pane", ["details", "activity", "followups", "deals", "history"])
def test_snapshot_tab(snap_compare: Any, app_factory: Callable[[], LeadDeskApp], pane: str) -> None:
    assert snap_compare(app_factory(), terminal_size=(80, 24), run_before=_open_on(pane))


def test_snapshot_details_wide(snap_compare: Any, app_factory: Callable[[], LeadDeskApp]) -> None:
    assert snap_compare(app_factory(), terminal_size=(120, 40), run_before=_open_on("details"))
