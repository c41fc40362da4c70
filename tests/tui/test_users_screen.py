"""The users screen (issue 5) on the demo desk, as ann (a manager here): keys pressed through Pilot to add a user,
change a role, deactivate and activate; the store's refusals for what a manager may not do (touch an admin);
then the screen and the database checked. Snapshots at 80x24 and 120x40. The rep's view: test_refusals.py."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, Select

from leaddesk.app import LeadDeskApp, make_app
from leaddesk.screens.dialogs import ConfirmDialog
from leaddesk.screens.users import AddUserDialog, RoleDialog, UsersScreen, UsersTable
from leaddesk.settings import Settings
from leaddesk.store.desk import Desk

from .conftest import SIZES, assert_no_internal_error, calm, rows_of, text_of

Scenario = Callable[[Pilot[None]], Awaitable[None]]
DEMO_USERS = ["ann", "kim", "lee", "mia", "raj", "tom"]
ADMIN_ONLY = "only an admin may create, promote, demote or deactivate an admin"


def run(app: LeadDeskApp, scenario: Scenario, size: tuple[int, int] = (80, 24)) -> None:
    """Run the app headless over a blank screen, press T (the users screen), then play the scenario."""

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await calm(pilot)
            await app.push_screen(Screen())
            await pilot.press("T")
            await calm(pilot)
            assert isinstance(app.screen, UsersScreen)
            await scenario(pilot)
            assert_no_internal_error(app)

    asyncio.run(main())


def users_of(desk: Desk) -> dict[str, tuple[str, bool]]:
    return {u["login"]: (u["role"], bool(u["active"])) for u in desk.users()}


def messages(pilot: Pilot[None]) -> list[str]:
    return [str(n.message) for n in pilot.app._notifications]


async def to_user(pilot: Pilot[None], login: str) -> None:
    """Put the cursor on a user's row with the arrow keys."""
    table = pilot.app.screen.query_one(UsersTable)
    await pilot.press("g")
    for _ in range([row[0] for row in rows_of(pilot, "#users")].index(login)):
        await pilot.press("j")
    await pilot.pause()
    assert str(table.get_row_at(table.cursor_row)[0]) == login


def test_the_list_shows_every_user_with_role_state_and_open_leads(app: LeadDeskApp, desk: Desk) -> None:
    expected = {u["login"]: u for u in desk.user_overview()}

    async def scenario(pilot: Pilot[None]) -> None:
        rows = rows_of(pilot, "#users")
        assert [r[0] for r in rows] == DEMO_USERS
        for login, name, role, active, open_leads in rows:
            user = expected[login]
            assert (name, role, active, int(open_leads)) == (user["name"], user["role"],
                                                             "yes" if user["active"] else "no", user["open_leads"])
        assert sum(int(r[4]) for r in rows) > 0
        assert text_of(pilot, "#users-info") == "6 users, 6 active · you are ann (manager)"
        assert "Read-only" not in text_of(pilot, "#users-access")

    run(app, scenario)


def test_add_a_user_through_the_dialog(app: LeadDeskApp, desk: Desk) -> None:
    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("n")
        dialog = pilot.app.screen
        assert isinstance(dialog, AddUserDialog)
        await pilot.press(*"sam")  # the login field has the focus
        dialog.query_one("#name", Input).value = "Sam Ortiz"
        await pilot.press("ctrl+s")
        await calm(pilot)
        assert isinstance(pilot.app.screen, UsersScreen)
        assert ["sam", "Sam Ortiz", "rep", "yes", "0"] in rows_of(pilot, "#users")
        table = pilot.app.screen.query_one(UsersTable)
        assert str(table.get_row_at(table.cursor_row)[0]) == "sam"  # the cursor lands on the new user
        assert "User 'sam' added" in messages(pilot)
        assert text_of(pilot, "#users-info").startswith("7 users, 7 active")

        await pilot.press("n")  # the store's refusal shows in the dialog, which stays open
        await pilot.press(*"sam", "ctrl+s")
        await calm(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, AddUserDialog)
        assert str(dialog.query_one("#error").visual) == "user 'sam' already exists"  # type: ignore[attr-defined]
        dialog.query_one("#login", Input).value = "boss"
        dialog.query_one("#role", Select).value = "admin"  # a manager may not add an admin
        await pilot.press("ctrl+s")
        await calm(pilot)
        assert ADMIN_ONLY in str(dialog.query_one("#error").visual)  # type: ignore[attr-defined]
        await pilot.press("escape")

    run(app, scenario)
    assert users_of(desk)["sam"] == ("rep", True)
    assert "boss" not in users_of(desk)
    assert [(h["action"], h["field"], h["new"], h["user"], h["origin"]) for h in desk.user_history("sam")] == [
        ("create", "login", "sam", "ann", "tui"), ("create", "role", "rep", "ann", "tui")]


def test_change_a_role_and_the_admin_is_out_of_a_managers_reach(app: LeadDeskApp, desk: Desk) -> None:
    async def scenario(pilot: Pilot[None]) -> None:
        await to_user(pilot, "lee")
        await pilot.press("r")
        dialog = pilot.app.screen
        assert isinstance(dialog, RoleDialog)
        assert dialog.query_one("#role", Select).value == "rep"
        dialog.query_one("#role", Select).value = "manager"
        await pilot.press("ctrl+s")
        await calm(pilot)
        assert "lee is now manager, active" in messages(pilot)
        assert rows_of(pilot, "#users")[2][:3] == ["lee", "Lee Jordan", "manager"]

        await to_user(pilot, "kim")  # the admin: a manager may neither demote nor deactivate them
        await pilot.press("r")
        pilot.app.screen.query_one("#role", Select).value = "rep"
        await pilot.press("ctrl+s")
        await calm(pilot)
        assert messages(pilot)[-1].startswith(ADMIN_ONLY)
        await pilot.press("d")
        await pilot.press("y")
        await calm(pilot)
        assert messages(pilot)[-1].startswith(ADMIN_ONLY)
        assert rows_of(pilot, "#users")[1][2:4] == ["admin", "yes"]

    run(app, scenario)
    assert users_of(desk)["lee"] == ("manager", True)
    assert users_of(desk)["kim"] == ("admin", True)


def test_deactivate_asks_first_then_activate(app: LeadDeskApp, desk: Desk) -> None:
    async def scenario(pilot: Pilot[None]) -> None:
        screen = pilot.app.screen
        await to_user(pilot, "raj")
        assert screen.check_action("set_active", (True,)) is False  # raj is active: only d applies
        await pilot.press("a")  # hidden key: nothing happens
        await pilot.press("d")
        dialog = pilot.app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert dialog.question.startswith("Deactivate raj? They can no longer open the desk")
        await pilot.press("n")  # no: nothing changes
        await calm(pilot)
        assert rows_of(pilot, "#users")[4][3] == "yes"
        await pilot.press("d")
        await pilot.press("y")
        await calm(pilot)
        assert rows_of(pilot, "#users")[4][3] == "no"
        assert "raj is now rep, deactivated" in messages(pilot)
        assert text_of(pilot, "#users-info").startswith("6 users, 5 active")
        assert screen.check_action("set_active", (False,)) is False  # now only a applies
        await pilot.press("a")
        await calm(pilot)
        assert rows_of(pilot, "#users")[4][3] == "yes"

    run(app, scenario)
    assert users_of(desk)["raj"] == ("rep", True)
    assert [h["action"] for h in desk.user_history("raj")][-2:] == ["deactivate", "activate"]


def test_a_change_by_another_process_shows_on_the_screen(app: LeadDeskApp, demo_db: Any) -> None:
    other = Desk.open(str(demo_db), login="kim", settings=Settings())

    async def scenario(pilot: Pilot[None]) -> None:
        other.set_user_active("tom", False)
        for _ in range(30):
            await pilot.pause(0.1)
            if rows_of(pilot, "#users")[5][3] == "no":
                break
        assert rows_of(pilot, "#users")[5][3] == "no"

    try:
        run(app, scenario)
    finally:
        other.close()


def test_every_binding_has_an_id_and_a_description() -> None:
    ids = []
    for binding in [*UsersScreen.BINDINGS, *UsersTable.BINDINGS]:
        assert not isinstance(binding, tuple)
        assert binding.id and binding.id.startswith("users.") and binding.description, binding
        ids.append(binding.id)
    assert len(ids) == len(set(ids))


def test_the_users_key_is_free_on_every_screen() -> None:
    """T opens the users screen from anywhere: no screen or widget binds it for something else."""
    import importlib
    import pkgutil

    from textual.binding import Binding
    from textual.dom import DOMNode

    import leaddesk.screens
    import leaddesk.widgets

    for package in (leaddesk.screens, leaddesk.widgets):
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{module.name}")

    def subclasses(cls: type) -> list[type]:
        return [cls, *(s for sub in cls.__subclasses__() for s in subclasses(sub))]

    for cls in subclasses(DOMNode):
        if not cls.__module__.startswith("leaddesk."):
            continue
        for binding in cls.__dict__.get("BINDINGS", []):
            keys = binding.key.split(",") if isinstance(binding, Binding) else binding[0].split(",")
            assert "T" not in keys or cls is LeadDeskApp, cls


def snapshot_of(snap_compare: Any, app: LeadDeskApp, size: tuple[int, int], scenario: Scenario) -> bool:

    async def before(pilot: Pilot[None]) -> None:
        await calm(pilot)
        await pilot.press("T")
        await calm(pilot)
        await scenario(pilot)
        await calm(pilot)

    return bool(snap_compare(app, terminal_size=size, run_before=before))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_users(snap_compare: Any, app: LeadDeskApp, demo_db: Any, size: tuple[int, int]) -> None:
    manager = Desk.open(str(demo_db), login="kim", settings=Settings())
    manager.set_user_active("tom", False)  # one inactive user, under the cursor: a activates
    manager.close()

    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("end")

    assert snapshot_of(snap_compare, app, size, scenario)


def test_snapshot_users_read_only_for_a_rep(snap_compare: Any, demo_db: Any) -> None:
    rep = Desk.open(str(demo_db), login="raj", origin="tui", settings=Settings())
    try:
        assert snapshot_of(snap_compare, make_app(Settings(), desk=rep), (80, 24), lambda pilot: pilot.pause())
    finally:
        rep.close()
