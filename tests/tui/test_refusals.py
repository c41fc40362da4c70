"""What a rep may not do, tried through the TUI (issue 5): reassigning or deleting another rep's lead, merging it
away, undoing someone else's import, managing users. Each time the rep reads the store's one-line refusal (a
notification, or the screen's message line) and nothing changes in the database. And who may not use the desk
at all (a deactivated user, an unknown login) is told so when it opens, not shown a traceback.

The TUI offers no way to change the settings or the lists (statuses, sources...): those are CLI commands, whose
refusals are tested in tests/cli/test_users.py.

These tests act as raj, a rep of the demo desk (the shared `desk` fixture makes ann a manager, so it is not used).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Select

from leaddesk.app import LeadDeskApp, make_app
from leaddesk.screens.dialogs import ConfirmDialog
from leaddesk.screens.dupes import DupesScreen
from leaddesk.screens.lead_card import LeadCardScreen
from leaddesk.screens.users import UsersScreen
from leaddesk.settings import Settings
from leaddesk.store.desk import Desk
from leaddesk.store.queries import LeadFilter
from leaddesk.widgets.lead_form import LeadForm
from leaddesk.widgets.lead_table import LeadTable

from .conftest import assert_no_internal_error, calm, rows_of, text_of

Scenario = Callable[[Pilot[None]], Awaitable[None]]

REASSIGN = ("only a manager or an admin may reassign a lead someone else owns;"
            " a rep may take an unassigned lead or give away their own")
MANAGE_USERS = "only a manager or an admin may manage users; you are a rep"


@pytest.fixture
def manager(demo_db: Path) -> Iterator[Desk]:
    """kim, the demo desk's admin: sets things up and checks the database."""
    desk = Desk.open(str(demo_db), login="kim", origin="cli", settings=Settings())
    yield desk
    desk.close()


@pytest.fixture
def rep(demo_db: Path) -> Iterator[Desk]:
    """raj, a rep of the demo desk."""
    desk = Desk.open(str(demo_db), login="raj", origin="tui", settings=Settings())
    yield desk
    desk.close()


@pytest.fixture
def rep_app(rep: Desk) -> LeadDeskApp:
    app = make_app(Settings(), desk=rep)
    return app


def run(app: LeadDeskApp, scenario: Scenario, size: tuple[int, int] = (80, 24)) -> None:
    """Run the app headless over a blank screen, then play the scenario; no internal error may be notified."""

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await calm(pilot)
            await app.push_screen(Screen())
            await scenario(pilot)
            assert_no_internal_error(app)

    asyncio.run(main())


def messages(pilot: Pilot[None]) -> list[str]:
    return [str(n.message) for n in pilot.app._notifications]


def someone_elses(manager: Desk, owner: str = "ann") -> dict[str, Any]:
    """An open lead of another rep, without activities or deals (so deleting it needs no --force)."""
    for row in manager.list_leads(LeadFilter(owner=owner, limit=None, state="open")):
        detail = manager.show(str(row["number"]))
        if not detail["activities"] and not detail["deals"] and detail["email"]:
            return detail
    raise AssertionError(f"no open lead of {owner} without activities")


def state_of(manager: Desk, number: int) -> tuple[Any, ...]:
    detail = manager.show(str(number))
    return detail["owner"], detail["version"], len(manager.history(str(number)))


def test_a_rep_can_neither_reassign_nor_delete_another_reps_lead_from_the_card(rep_app: LeadDeskApp,
                                                                              manager: Desk) -> None:
    lead = someone_elses(manager)
    number = lead["number"]
    before = state_of(manager, number)

    async def scenario(pilot: Pilot[None]) -> None:
        rep_app.open_lead(number)
        await calm(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, LeadCardScreen)
        owner = screen.query_one(LeadForm).widget_for("owner")
        assert isinstance(owner, Select) and owner.value == "ann"
        owner.value = "raj"
        await pilot.press("ctrl+s")
        await calm(pilot)
        assert text_of(pilot, "#form-message") == REASSIGN
        owner.value = "ann"  # back as it was: the form has nothing to save

        await pilot.press("D")
        assert isinstance(pilot.app.screen, ConfirmDialog)
        await pilot.press("y")
        await calm(pilot)
        # The refusal, once: no "delete anyway?" (forcing is for leads with activities, not for someone else's).
        assert pilot.app.screen is screen
        assert messages(pilot)[-1] == f"lead {number} is not yours: only its owner, a manager or an admin may delete it"

    run(rep_app, scenario)
    assert state_of(manager, number) == before


def test_a_rep_cannot_reassign_in_bulk_from_the_list(rep_app: LeadDeskApp, manager: Desk) -> None:
    lead = someone_elses(manager)
    before = state_of(manager, lead["number"])

    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("2")
        await calm(pilot)
        await pilot.press("slash")
        pilot.app.screen.query_one("#search").value = lead["email"]  # type: ignore[attr-defined]
        await pilot.press("enter")  # search, back in the table
        await calm(pilot)
        table = pilot.app.screen.query_one(LeadTable)
        assert table.total == 1 and table.cursor_lead is not None
        assert table.cursor_lead["number"] == lead["number"]
        await pilot.press("b", "o")  # bulk change -> owner
        await calm(pilot)
        owners = pilot.app.screen.query_one("OptionList")
        logins = [owners.get_option_at_index(i).id for i in range(owners.option_count)]  # type: ignore[attr-defined]
        owners.highlighted = logins.index("raj")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await calm(pilot)
        assert any(REASSIGN in m and "0 changed" in m for m in messages(pilot)), messages(pilot)

    run(rep_app, scenario, size=(120, 40))
    assert state_of(manager, lead["number"]) == before


def test_a_rep_cannot_merge_away_another_reps_lead(rep_app: LeadDeskApp, manager: Desk) -> None:
    keep, other = 8, 221  # the demo's first group of duplicates: mia's lead and lee's
    assert (manager.show("8")["owner"], manager.show("221")["owner"]) == ("mia", "lee")

    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("U")
        await calm(pilot)
        assert isinstance(pilot.app.screen, DupesScreen)
        await pilot.press("enter")  # compare the first group
        await calm(pilot)
        await pilot.press("M", "y")
        await calm(pilot)
        assert text_of(pilot, "#dupes-message") == (f"lead {other} is not yours: only its owner, a manager or an"
                                                    " admin may delete it")

    run(rep_app, scenario)
    assert manager.show(str(other))["number"] == other and manager.merges() == []
    assert manager.show(str(keep))["owner"] == "mia"


def test_a_rep_cannot_undo_someone_elses_import(rep_app: LeadDeskApp, manager: Desk, tmp_path: Path) -> None:
    source = tmp_path / "fair.csv"
    source.write_text("name,phone\nZed Quill,+1 415 555 0142\n", encoding="utf-8")
    batch = manager.import_leads(str(source))["batch"]
    state = manager.import_batches()[0]["state"]

    async def scenario(pilot: Pilot[None]) -> None:
        rep_app.open_import()
        await calm(pilot)
        await pilot.press("escape")  # leave the path field
        await pilot.press("b")
        await calm(pilot)
        await pilot.press("u", "y")
        await calm(pilot)
        assert messages(pilot)[-1] == (f"only the user who made import batch {batch}, a manager or an admin"
                                       " may undo it")

    run(rep_app, scenario)
    assert [(b["id"], b["state"], b["leads"]) for b in manager.import_batches()] == [(batch, state, 1)]
    assert manager.count_leads(LeadFilter(search="Zed Quill")) == 1


def test_a_rep_sees_the_users_read_only_and_each_change_is_refused(rep_app: LeadDeskApp, manager: Desk) -> None:
    before = manager.user_overview()

    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("T")
        await calm(pilot)
        assert isinstance(pilot.app.screen, UsersScreen)
        assert [r[0] for r in rows_of(pilot, "#users")] == ["ann", "kim", "lee", "mia", "raj", "tom"]
        assert text_of(pilot, "#users-access") == f"Read-only: {MANAGE_USERS}"
        assert text_of(pilot, "#users-info") == "6 users, 6 active · you are raj (rep)"
        for key in ("n", "r", "d"):
            await pilot.press(key)
            await calm(pilot)
            assert isinstance(pilot.app.screen, UsersScreen), key  # no form opened: the refusal comes first
            assert messages(pilot)[-1] == MANAGE_USERS
        assert len(messages(pilot)) == 3
        assert manager.user_overview() == before

        # The screen asks the store who acts on every reload: made a manager meanwhile, raj may manage.
        manager.set_user_role("raj", "manager")
        pilot.app.data_changed()  # what the poll does when another process commits
        await calm(pilot)
        assert text_of(pilot, "#users-info").endswith("you are raj (manager)")
        await pilot.press("n")
        assert type(pilot.app.screen).__name__ == "AddUserDialog"

    run(rep_app, scenario)


def test_a_file_that_is_not_a_desk_is_named_and_no_view_waits_for_it(tmp_path: Path) -> None:
    """The views ask for their data before the desk is open (their workers wait for it): when it cannot be opened,
    every such worker ends at once (not after `OPEN_WAIT_S`) and the desk says why."""
    garbage = tmp_path / "notes.db"
    garbage.write_bytes(b"these are not the leads you are looking for\n" * 100)
    app = make_app(Settings(), db=str(garbage), login="ann")

    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await asyncio.wait_for(calm(pilot), 10)
            assert app.desk is None and app.opened.is_set()
            assert [n.title for n in app._notifications] == ["Cannot open the desk"]
            assert any("notes.db" in str(n.message) for n in app._notifications)
            await pilot.press("2", "/", "a", "escape", "escape", "1")
            await asyncio.wait_for(calm(pilot), 10)
            assert [w for w in app.workers if w.is_running] == []
            await pilot.press("q")

    asyncio.run(main())
    assert not app.is_running
    assert garbage.read_bytes().startswith(b"these are not")  # left as it was


@pytest.mark.parametrize(("login", "message"), [
    ("tom", "user 'tom' is deactivated on this desk: ask a manager to run `leaddesk user activate tom`"),
    ("zed", "'zed' is not a user of this desk: ask a manager to run `leaddesk user add zed`"),
])
def test_who_may_not_use_the_desk_is_told_when_it_opens(manager: Desk, demo_db: Path, login: str,
                                                        message: str) -> None:
    manager.set_user_active("tom", False)
    app = make_app(Settings(), db=str(demo_db), login=login)

    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await asyncio.wait_for(calm(pilot), 10)  # the board's first query, asked for at once, waits no more
            assert app.desk is None
            assert [(n.title, str(n.message), n.severity) for n in app._notifications] == [
                ("Cannot open the desk", message, "error")]  # once, in the store's words
            assert app.sub_title == f"{login} · not allowed"
            for key in ("2", "T", "n"):  # nothing to show, nothing to crash
                await pilot.press(key)
                await calm(pilot)
            assert len(app._notifications) == 1
            tables = [t for t in app.screen.query(DataTable) if t.row_count]
            assert tables == []
            await pilot.press("escape", "1", "q")

    asyncio.run(main())
    assert not app.is_running
