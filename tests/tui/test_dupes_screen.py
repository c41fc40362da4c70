"""The duplicates screen on the demo desk (20 groups of leads sharing a phone or an email; more as the name match
is loosened): keys pressed through Pilot to change the name match, compare a group, take a field from the other
lead, keep the other lead, leave a lead out, merge, land on the card and undo; then the screen and the database
checked. Snapshots at 80x24 and 120x40."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from leaddesk.app import LeadDeskApp
from leaddesk.screens.dialogs import ConfirmDialog
from leaddesk.screens.dupes import DupesScreen, last_merge_of, plural, why_text
from leaddesk.screens.lead_card import LeadCardScreen
from leaddesk.store.desk import Desk
from leaddesk.store.errors import NotFound, RuleError

from .conftest import SIZES, calm, rows_of, run, snapshot_of, text_of

KEEP, OTHER = 8, 221  # the demo's first group: Amanda Miller twice, same phone and email; priority low / urgent
GROUPS = 20  # at the default name match (90%): all of them share a phone or an email
OPEN = LeadDeskApp.open_dupes  # each test starts on the duplicates screen


def dupes(pilot: Pilot[None]) -> DupesScreen:
    screen = pilot.app.screen
    assert isinstance(screen, DupesScreen)
    return screen


def row_of(pilot: Pilot[None], field: str) -> list[str]:
    """The compare table's row of a field (label, each lead's value, the result)."""
    return rows_of(pilot, "#compare")[fields(pilot).index(field)]


def fields(pilot: Pilot[None]) -> list[str]:
    return [entry["field"] for entry in dupes(pilot).rows]


async def go_to(pilot: Pilot[None], field: str) -> None:
    """Put the cursor on a field's row, on the kept lead's column (the arrow keys are tested on their own)."""
    dupes(pilot).query_one("#compare", DataTable).move_cursor(row=fields(pilot).index(field), column=1)
    await pilot.pause()


async def confirm(pilot: Pilot[None], key: str) -> str:
    """Press a key that asks first; answer yes; return the question."""
    await pilot.press(key)
    dialog = pilot.app.screen
    assert isinstance(dialog, ConfirmDialog)
    await pilot.press("y")
    await calm(pilot)
    return dialog.question


def test_compare_take_a_field_merge_land_on_the_card_and_undo(app: LeadDeskApp, desk: Desk) -> None:
    async def scenario(pilot: Pilot[None]) -> None:
        screen = dupes(pilot)
        groups = rows_of(pilot, "#groups")
        assert len(groups) == GROUPS
        assert groups[0][:2] == [f"#{KEEP} #{OTHER}", "Amanda Miller (Bluestone Logistics)"]
        assert groups[0][2] == "email amanda.miller@bluestonelogistics.example.com · phone +14155550111"
        assert text_of(pilot, "#dupes-info") == (f"{GROUPS} groups of likely duplicates (names 90% alike, +/-)"
                                                 " · enter compares a group")
        assert not screen.check_action("undo", ()) and not screen.check_action("merge", ())
        # enter: the group side by side, the lowest number kept
        await pilot.press("enter")
        await calm(pilot)
        assert screen.comparing and screen.keep == KEEP
        assert text_of(pilot, "#dupes-info").startswith(f"Keep #{KEEP} Amanda Miller (Bluestone Logistics)"
                                                        f" ← merging #{OTHER}")
        table = screen.query_one("#compare", DataTable)
        assert [str(c.label) for c in table.columns.values()] == ["Field", f"#{KEEP} keep", f"#{OTHER}", "Result"]
        assert row_of(pilot, "priority") == ["Priority", "● low", "  urgent", "low"]
        assert row_of(pilot, "city") == ["City", "  San Francisco", "  San Francisco", "San Francisco"]
        # the arrows move over the leads' values only
        assert table.cursor_coordinate == (0, 1)
        await pilot.press("left", "down", "right", "right", "right")
        assert table.cursor_coordinate == (1, 2)
        # take the priority from the other lead: enter on its value
        await go_to(pilot, "priority")
        await pilot.press("right", "enter")
        await calm(pilot)
        assert screen.take == {"priority": str(OTHER)}
        assert row_of(pilot, "priority") == ["Priority", "  low", "● urgent", f"urgent ← #{OTHER}"]
        assert table.cursor_coordinate == (fields(pilot).index("priority"), 2)  # the cursor stays put
        # merge: asks, then lands on the kept lead's card
        question = await confirm(pilot, "M")
        assert question.startswith(f"Merge #{OTHER} into #{KEEP}?")
        card = pilot.app.screen
        assert isinstance(card, LeadCardScreen) and card.number == KEEP
        assert desk.show(str(KEEP))["priority"] == 3
        with pytest.raises(NotFound):
            desk.show(str(OTHER))
        # back on the groups: one fewer, and the merge can be undone
        await pilot.press("escape")
        await calm(pilot)
        assert dupes(pilot) is screen and not screen.comparing
        assert len(rows_of(pilot, "#groups")) == GROUPS - 1
        assert text_of(pilot, "#last-merge").startswith(f"Your last merge: #{OTHER} into #{KEEP} at 2026-11-26 12:00")
        question = await confirm(pilot, "u")
        assert question.startswith(f"Undo your merge of #{OTHER} into #{KEEP}")
        assert any(f"#{OTHER} back beside #{KEEP}" in str(n.message) for n in pilot.app._notifications)
        assert len(rows_of(pilot, "#groups")) == GROUPS and text_of(pilot, "#last-merge") == ""
        assert not screen.check_action("undo", ())

    run(app, scenario, start=OPEN)
    assert desk.show(str(OTHER))["contact_name"] == "Amanda Miller"
    assert desk.show(str(KEEP))["priority"] == 0
    assert desk.merges()[0]["undone"]


def test_keep_the_other_lead_differences_open_and_a_group_of_three(app: LeadDeskApp, desk: Desk) -> None:
    made = [desk.add_lead({"name": "[red]Zed[/red] Zulu", "phone": "+1 907 555 0142", "email": email}, force=True)
            ["number"] for email in ("zed@example.com", "", "ZED@example.com")]

    async def scenario(pilot: Pilot[None]) -> None:
        screen = dupes(pilot)
        await pilot.press("enter")
        await calm(pilot)
        assert not screen.check_action("keep", ())  # the cursor is on the kept lead
        await pilot.press("right", "K")
        await calm(pilot)
        assert screen.keep == OTHER
        table = screen.query_one("#compare", DataTable)
        assert [str(c.label) for c in table.columns.values()] == ["Field", f"#{OTHER} keep", f"#{KEEP}", "Result"]
        assert table.cursor_column == 1  # the cursor followed the lead
        assert row_of(pilot, "priority")[1:] == ["● urgent", "  low", "urgent"]
        # a choice the service refuses is said, and undone
        plan = desk.merge_plan

        def refusing(keep: str, others: list[str], take: dict[str, str] | None = None) -> dict[str, Any]:
            if take and "city" in take:
                raise RuleError("cannot take that city")
            return plan(keep, others, take)

        desk.merge_plan = refusing  # type: ignore[method-assign]
        await go_to(pilot, "city")
        await pilot.press("right", "enter")
        await calm(pilot)
        assert text_of(pilot, "#dupes-message") == "cannot take that city"
        assert (screen.keep, screen.take) == (OTHER, {})
        # only the fields that differ, and back
        every = len(screen.rows)
        await pilot.press("d")
        assert 0 < len(screen.rows) < every and "city" not in fields(pilot)
        assert "only the fields that differ" in text_of(pilot, "#dupes-info")
        await pilot.press("d")
        assert len(screen.rows) == every
        # o opens the card of the lead under the cursor; escape comes back to the comparison
        await pilot.press("right", "o")
        await calm(pilot)
        assert isinstance(pilot.app.screen, LeadCardScreen) and pilot.app.screen.number == KEEP
        await pilot.press("escape")
        await calm(pilot)
        assert dupes(pilot).comparing and screen.keep == OTHER
        # escape: back to the groups; a group of three, shown literally, merged into its first lead
        await pilot.press("escape")
        assert not screen.comparing and screen.query_one("#groups", DataTable).has_focus
        groups = rows_of(pilot, "#groups")
        index = next(i for i, g in enumerate(groups) if g[0] == " ".join(f"#{n}" for n in made))
        assert groups[index][1:] == ["[red]Zed[/red] Zulu", "phone +19075550142 · email zed@example.com"]
        screen.query_one("#groups", DataTable).move_cursor(row=index)
        await pilot.press("enter")
        await calm(pilot)
        assert row_of(pilot, "name")[1:] == ["  [red]Zed[/red] Zulu"] * 3 + ["[red]Zed[/red] Zulu"]
        await confirm(pilot, "M")
        assert isinstance(pilot.app.screen, LeadCardScreen) and pilot.app.screen.number == made[0]
        await pilot.press("escape")
        await calm(pilot)
        await pilot.press("escape")
        assert not isinstance(pilot.app.screen, DupesScreen)

    run(app, scenario, size=(120, 40), start=OPEN)
    assert desk.show(str(KEEP)) and desk.show(str(OTHER))  # not merged
    assert desk.merges()[0]["merged"] == made[1:]


def test_leave_a_lead_out_of_the_merge(app: LeadDeskApp, desk: Desk) -> None:
    """A lead of the group that is another person: left out, it is not merged."""
    keep, other, third = quinn_group(desk)

    async def scenario(pilot: Pilot[None]) -> None:
        screen = dupes(pilot)
        index = next(i for i, g in enumerate(rows_of(pilot, "#groups")) if g[0] == f"#{keep} #{other} #{third}")
        screen.query_one("#groups", DataTable).move_cursor(row=index)
        await pilot.press("enter")
        await calm(pilot)
        table = screen.query_one("#compare", DataTable)
        assert not screen.check_action("exclude", ())  # the cursor is on the kept lead: it cannot be left out
        # take the company from the other lead, then leave that lead out: its value is no longer taken
        await go_to(pilot, "company")
        await pilot.press("right", "enter")
        await calm(pilot)
        assert screen.take == {"company": str(other)}
        await pilot.press("x")
        await calm(pilot)
        assert (screen.excluded, screen.take) == ({other}, {})
        assert [str(c.label) for c in table.columns.values()] == [
            "Field", f"#{keep} keep", f"#{other} out", f"#{third}", "Result"]
        assert row_of(pilot, "company") == ["Company", "● Quade Co", "  Other Quinn Ltd", "  —", "Quade Co"]
        email = row_of(pilot, "email")  # filled from the third lead, whatever the lead left out has
        assert email[1:3] == ["  —", "  —"] and email[3].startswith("● quinn@quade")
        assert email[4].endswith(f" ← #{third}")
        assert f"← merging #{third} · left out: #{other} (x puts back)" in text_of(pilot, "#dupes-info")
        assert table.cursor_column == 2  # still on the lead left out
        # a lead left out: neither kept nor taken from
        assert not screen.check_action("keep", ()) and not screen.check_action("exclude", ())
        assert screen.check_action("include", ())  # x puts it back
        await pilot.press("enter")
        assert text_of(pilot, "#dupes-message") == f"#{other} is left out of this merge: x puts it back."
        # the last lead to merge cannot be left out too
        await pilot.press("right", "x")
        assert text_of(pilot, "#dupes-message") == (f"#{third} is the last lead to merge into #{keep}:"
                                                   " a merge needs two leads.")
        assert screen.excluded == {other}
        # x puts a lead back, and leaves it out again
        await pilot.press("left", "x")
        await calm(pilot)
        assert screen.excluded == set() and "left out" not in text_of(pilot, "#dupes-info")
        await pilot.press("x")
        await calm(pilot)
        question = await confirm(pilot, "M")
        assert question.startswith(f"Merge #{third} into #{keep}?")
        assert question.endswith(f"Left out, unchanged: #{other}.")
        assert isinstance(pilot.app.screen, LeadCardScreen) and pilot.app.screen.number == keep

    run(app, scenario, size=(120, 40), start=OPEN)
    assert desk.merges()[0]["merged"] == [third]
    assert desk.show(str(other))["company"] == "Other Quinn Ltd"  # not merged, untouched
    assert desk.show(str(keep))["email"] == "quinn@quade.example.com"
    with pytest.raises(NotFound):
        desk.show(str(third))


def test_a_looser_or_stricter_name_match_searches_again(app: LeadDeskApp) -> None:
    async def scenario(pilot: Pilot[None]) -> None:
        screen = dupes(pilot)
        assert screen.threshold == 90 and screen.check_action("threshold", (5,))
        # looser: the demo's one pair of leads whose names and companies are 85% alike comes in
        await pilot.press("minus")
        await calm(pilot)
        assert text_of(pilot, "#dupes-info").startswith(f"{GROUPS + 1} groups of likely duplicates (names 85% alike")
        assert [g[2] for g in rows_of(pilot, "#groups")].count("name and company 85%") == 1
        await pilot.press("minus", "minus", "minus")
        await calm(pilot)
        assert screen.threshold == 70 and len(rows_of(pilot, "#groups")) == GROUPS + 9
        assert not screen.check_action("threshold", (-5,))
        await pilot.press("minus")  # 70% is the loosest
        assert screen.threshold == 70
        # stricter, up to 100%: only the shared phones and emails
        await pilot.press(*["plus"] * 7)
        await calm(pilot)
        assert screen.threshold == 100 and len(rows_of(pilot, "#groups")) == GROUPS
        assert "(names 100% alike, +/-)" in text_of(pilot, "#dupes-info")
        assert not screen.check_action("threshold", (5,))
        # comparing a group: the match is not changed under it
        await pilot.press("enter")
        await calm(pilot)
        assert not screen.check_action("threshold", (-5,))
        await pilot.press("minus")
        assert screen.threshold == 100

    run(app, scenario, start=OPEN)


def test_helpers() -> None:
    assert (plural(1, "deal"), plural(2, "deal"), plural(0, "activity")) == ("1 deal", "2 deals", "0 activities")
    assert why_text([{"why": "phone", "value": "+1\x1b[31m", "score": None},
                     {"why": "name", "value": None, "score": 93}]) == "phone +1\\x1b[31m · name and company 93%"
    merges = [{"user": "bob", "undone": False}, {"user": "ann", "undone": True}, {"user": "ann", "undone": False,
                                                                                 "id": 3}]
    assert last_merge_of(merges, "ann") == merges[2] and last_merge_of(merges, "raj") is None


# -- snapshots ------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_groups(snap_compare: Any, app: LeadDeskApp, size: tuple[int, int]) -> None:
    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("down")

    assert snapshot_of(snap_compare, app, size, scenario, start=OPEN)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_compare(snap_compare: Any, app: LeadDeskApp, size: tuple[int, int]) -> None:
    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("enter")
        await calm(pilot)
        await go_to(pilot, "priority")
        await pilot.press("right", "enter")

    assert snapshot_of(snap_compare, app, size, scenario, start=OPEN)


def quinn_group(desk: Desk) -> list[int]:
    """Three leads on one phone, one of them another person (a shared switchboard); the last group listed."""
    phone = "+1 907 555 0190"
    return [desk.add_lead(values, force=True)["number"] for values in (
        {"name": "Quinn Quade", "phone": phone, "company": "Quade Co"},
        {"name": "Quinn Quade", "phone": phone, "company": "Other Quinn Ltd"},
        {"name": "Quinn Quade", "phone": phone, "email": "quinn@quade.example.com"})]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_a_lead_left_out(snap_compare: Any, app: LeadDeskApp, desk: Desk, size: tuple[int, int]) -> None:
    quinn_group(desk)

    async def scenario(pilot: Pilot[None]) -> None:
        dupes(pilot).query_one("#groups", DataTable).move_cursor(row=GROUPS)
        await pilot.press("enter")
        await calm(pilot)
        await pilot.press("right", "x")

    assert snapshot_of(snap_compare, app, size, scenario, start=OPEN)


def test_every_binding_has_an_id_and_a_description() -> None:
    from leaddesk.screens.dupes import CompareTable, GroupsTable

    ids = []
    for cls in (DupesScreen, GroupsTable, CompareTable):
        for binding in cls.BINDINGS:
            assert not isinstance(binding, tuple)
            assert binding.id and binding.id.startswith("dupes.") and binding.description, binding
            ids.append(binding.id)
    assert len(ids) == len(set(ids))
