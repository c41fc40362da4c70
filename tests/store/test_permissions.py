"""Users, roles and permissions in the service layer (issue 5): who may act, read, reassign, delete,
change the lists and manage users; every refusal writes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from leaddesk.settings import Settings
from leaddesk.store.desk import Desk
from leaddesk.store.errors import NotFound, RuleError
from leaddesk.store.permissions import PARTNER_REFUSAL, Forbidden
from leaddesk.store.queries import LeadFilter

DeskFactory = Callable[..., Desk]


@pytest.fixture
def team(desk: Desk, open_desk: DeskFactory) -> dict[str, Desk]:
    """ann (admin, from init) adds bob and cy (reps), mia (manager) and pat (partner); strict settings."""
    for login, role in (("bob", "rep"), ("cy", "rep"), ("mia", "manager"), ("pat", "partner")):
        desk.add_user(login, role=role)
    desks = {login: open_desk(login=login, auto_create=False) for login in ("bob", "cy", "mia", "pat")}
    return {"ann": desk, **desks}


def roles(desk: Desk) -> dict[str, tuple[str, bool]]:
    return {u["login"]: (u["role"], bool(u["active"])) for u in desk.users()}


def user_history(desk: Desk, login: str) -> list[tuple[str, str, str | None, str | None, str]]:
    return [(h["action"], h["field"], h["old"], h["new"], h["user"]) for h in desk.user_history(login)]


# -- who may act ---------------------------------------------------------------------------------------
def test_the_first_user_of_a_new_desk_becomes_its_admin(open_desk: DeskFactory) -> None:
    first = open_desk(login="zoe", auto_create=False)
    first.add_lead({"name": "Al"})
    assert roles(first) == {"zoe": ("admin", True)}
    assert user_history(first, "zoe") == [("create", "login", None, "zoe", "zoe"),
                                          ("create", "role", None, "admin", "zoe")]


def test_an_unknown_login_is_refused_unless_settings_allow(desk: Desk, open_desk: DeskFactory,
                                                           snapshot: Any) -> None:
    desk.add_lead({"name": "Al"})
    before = snapshot(desk)
    stranger = open_desk(login="bob", auto_create=False)
    message = "'bob' is not a user of this desk: ask a manager to run `leaddesk user add bob`"
    with pytest.raises(Forbidden, match=f"^{message}$"):
        stranger.set_status("1", "contacted")
    with pytest.raises(Forbidden, match=message):
        stranger.show("1")
    with pytest.raises(Forbidden, match=message):
        stranger.list_leads(LeadFilter())
    assert snapshot(desk) == before
    allowed = open_desk(login="bob", settings=Settings(auto_create_users=True), auto_create=False)
    assert allowed.show("1")["contact_name"] == "Al"  # reading creates nobody
    assert "bob" not in roles(desk)
    allowed.set_status("1", "contacted")
    assert roles(desk)["bob"] == ("rep", True)
    assert user_history(desk, "bob") == [("create", "login", None, "bob", "bob"),
                                         ("create", "role", None, "rep", "bob")]


def test_a_deactivated_user_can_neither_act_nor_read(team: dict[str, Desk], snapshot: Any) -> None:
    team["ann"].add_lead({"name": "Al"})
    team["mia"].set_user_active("bob", False)
    before = snapshot(team["ann"])
    message = r"^user 'bob' is deactivated on this desk: ask a manager to run `leaddesk user activate bob`$"
    with pytest.raises(Forbidden, match=message):
        team["bob"].add_activity("1", "note", "hi")
    with pytest.raises(Forbidden, match=message):
        team["bob"].show("1")
    assert snapshot(team["ann"]) == before
    team["mia"].set_user_active("bob", True)
    assert team["bob"].add_activity("1", "note", "hi")["activities"][0]["body"] == "hi"


def test_a_partner_neither_reads_nor_changes_leads(team: dict[str, Desk], snapshot: Any) -> None:
    team["ann"].add_lead({"name": "Al"})
    before = snapshot(team["ann"])
    for action in (lambda d: d.show("1"), lambda d: d.history("1"), lambda d: d.lookup("al"),
                   lambda d: d.set_status("1", "contacted"), lambda d: d.add_lead({"name": "Bo"}),
                   lambda d: d.add_activity("1", "note", "x")):
        with pytest.raises(Forbidden, match=f"^{re.escape(PARTNER_REFUSAL)}$"):
            action(team["pat"])
    assert snapshot(team["ann"]) == before


# -- guarded actions, role by role -------------------------------------------------------------------------
GUARDED: dict[str, Callable[[Desk], Any]] = {
    "add a status": lambda d: d.catalog_change("statuses", "add", "Waiting", "open", None),
    "rename a source": lambda d: d.catalog_change("sources", "rename", "Event", "Events"),
    "remove a reason": lambda d: d.catalog_change("reasons", "remove", "Budget"),
    "add a type": lambda d: d.catalog_change("types", "add", "Partner"),
    "set a type's statuses": lambda d: d.catalog_change("types", "statuses", "Inbound", ["New"]),
    "add a method": lambda d: d.catalog_change("methods", "add", "Fax"),
    "add an item": lambda d: d.catalog_change("items", "add", "Audit"),
    "add a partner": lambda d: d.add_partner("Acme Partners"),
    "add a user": lambda d: d.add_user("dee"),
    "deactivate a user": lambda d: d.set_user_active("cy", False),
    "change a role": lambda d: d.set_user_role("cy", "manager"),
    "delete someone else's lead": lambda d: d.delete_lead("1"),
    "reassign someone else's lead": lambda d: d.edit_lead("1", {"owner": "bob"}),
    "merge away someone else's lead": lambda d: d.merge("2", ["1"]),
}


@pytest.mark.parametrize("action", sorted(GUARDED))
@pytest.mark.parametrize("login", ["ann", "mia", "bob"])
def test_managers_and_admins_may_reps_may_not(team: dict[str, Desk], login: str, action: str,
                                              snapshot: Any) -> None:
    team["ann"].add_lead({"name": "Al", "owner": "cy"})
    team["bob"].add_lead({"name": "Bo"})
    if login == "bob":
        before = snapshot(team["ann"])
        with pytest.raises(Forbidden, match=r"^(only|lead 1 is not yours)"):
            GUARDED[action](team["bob"])
        assert snapshot(team["ann"]) == before
    else:
        GUARDED[action](team[login])


def test_a_rep_takes_unassigned_leads_gives_away_and_deletes_their_own(team: dict[str, Desk]) -> None:
    ann, bob = team["ann"], team["bob"]
    ann.add_lead({"name": "Nobody's", "owner": ""})
    assert bob.edit_lead("1", {"owner": "bob"})["owner"] == "bob"  # take an unassigned lead
    assert bob.edit_lead("1", {"owner": "cy"})["owner"] == "cy"  # give it away
    with pytest.raises(Forbidden, match="reassign"):
        bob.edit_lead("1", {"owner": "bob"})  # cy's now
    assert bob.edit_lead("1", {"city": "Oslo"})["city"] == "Oslo"  # reps work all leads
    mine = bob.add_lead({"name": "Mine"})["number"]
    assert bob.delete_lead(str(mine)) == mine


def test_undoing_an_import_or_merge_takes_its_author_or_a_manager(team: dict[str, Desk]) -> None:
    bob, cy = team["bob"], team["cy"]
    for name in ("A", "B", "C", "D"):
        bob.add_lead({"name": name})
    bob.merge("1", ["2"])
    with pytest.raises(Forbidden, match="only the user who made merge 1"):
        cy.undo_merge(1)
    assert bob.undo_merge(1)["merge_id"] == 1
    cy_merge = team["mia"].merge("3", ["4"])["merge_id"]
    assert team["ann"].undo_merge(cy_merge)["merge_id"] == cy_merge
    with pytest.raises(NotFound):
        cy.undo_import(99)


# -- managing users ----------------------------------------------------------------------------------------
def test_deactivate_activate_and_role_changes_are_recorded(team: dict[str, Desk]) -> None:
    mia = team["mia"]
    assert mia.set_user_active("bob", False)[1] is True
    assert mia.set_user_active("bob", False)[1] is False  # unchanged: no history row
    mia.set_user_active("bob", True)
    mia.set_user_role("bob", "manager")
    assert roles(mia)["bob"] == ("manager", True)
    assert user_history(mia, "bob")[2:] == [("deactivate", "active", "1", "0", "mia"),
                                            ("activate", "active", "0", "1", "mia"),
                                            ("role", "role", "rep", "manager", "mia")]
    with pytest.raises(NotFound, match="there is no user 'zed'"):
        mia.set_user_role("zed", "rep")
    with pytest.raises(RuleError, match="role 'boss' must be"):
        mia.set_user_role("bob", "boss")


def test_only_an_admin_touches_admins(team: dict[str, Desk]) -> None:
    mia, ann = team["mia"], team["ann"]
    for action in (lambda: mia.add_user("root", role="admin"), lambda: mia.set_user_role("cy", "admin"),
                   lambda: mia.set_user_role("ann", "rep"), lambda: mia.set_user_active("ann", False)):
        with pytest.raises(Forbidden, match="only an admin may"):
            action()
    ann.add_user("root", role="admin")
    ann.set_user_role("mia", "admin")
    assert roles(ann)["root"] == roles(ann)["mia"] == ("admin", True)


def test_the_last_active_admin_stays_one(team: dict[str, Desk], open_desk: DeskFactory) -> None:
    ann = team["ann"]
    with pytest.raises(RuleError, match=r"^'ann' is the last active admin of this desk"):
        ann.set_user_active("ann", False)
    with pytest.raises(RuleError, match="last active admin"):
        ann.set_user_role("ann", "manager")
    ann.set_user_role("mia", "admin")
    ann.set_user_role("ann", "manager")  # mia is an admin now
    mia = open_desk(login="mia", auto_create=False)
    with pytest.raises(RuleError, match="'mia' is the last active admin"):
        mia.set_user_active("mia", False)
    assert roles(mia)["ann"] == ("manager", True)


# -- who acts, and the users with their open leads (the users screen's data) -------------------------------
MANAGE_USERS = "only a manager or an admin may manage users; you are a rep"


def test_whoami_names_the_acting_user_and_the_refusal_they_would_get(team: dict[str, Desk],
                                                                    open_desk: DeskFactory) -> None:
    me = team["ann"].whoami()
    assert (me["login"], me["role"], me["known"], me["manage_users"]) == ("ann", "admin", True, None)
    assert team["mia"].whoami()["manage_users"] is None
    assert team["bob"].whoami()["manage_users"] == MANAGE_USERS
    with pytest.raises(Forbidden, match=MANAGE_USERS):  # the same words as the write itself
        team["bob"].add_user("dee")
    with pytest.raises(Forbidden, match=f"^{re.escape(PARTNER_REFUSAL)}$"):
        team["pat"].whoami()
    team["mia"].set_user_active("cy", False)
    with pytest.raises(Forbidden, match=r"^user 'cy' is deactivated on this desk"):
        team["cy"].whoami()
    with pytest.raises(Forbidden, match=r"^'zed' is not a user of this desk"):
        open_desk(login="zed", auto_create=False).whoami()
    newcomer = open_desk(login="zed")  # auto_create_users: may read, becomes a rep on the first write
    assert newcomer.whoami() == {"login": "zed", "name": "zed", "role": "rep", "known": False,
                                 "manage_users": MANAGE_USERS}
    assert "zed" not in roles(team["ann"])


def test_the_user_overview_counts_each_users_open_leads(team: dict[str, Desk]) -> None:
    ann = team["ann"]
    for name in ("Won", "Lost", "Open", "Also open"):
        ann.add_lead({"name": name, "owner": "bob"})
    ann.add_lead({"name": "Cy's", "owner": "cy"})
    ann.add_lead({"name": "Nobody's", "owner": ""})
    ann.mark_won("1", "100")
    ann.mark_lost("2", "Budget")
    team["mia"].set_user_active("cy", False)
    overview = team["bob"].user_overview()  # anyone who may read sees the list
    assert [(u["login"], u["role"], u["active"], u["open_leads"]) for u in overview] == [
        ("ann", "admin", True, 0), ("bob", "rep", True, 2), ("cy", "rep", False, 1), ("mia", "manager", True, 0),
        ("pat", "partner", True, 0)]
    assert set(overview[0]) == {"id", "login", "name", "role", "active", "created_at", "open_leads"}


def test_an_unknown_user_capturing_a_mailbox_is_refused_once_before_the_first_message(
        desk: Desk, open_desk: DeskFactory, snapshot: Any) -> None:
    from pathlib import Path

    from leaddesk.store.mail import mbox_messages

    before = snapshot(desk)
    stranger = open_desk(login="zed", auto_create=False)
    outcomes = stranger.capture_mailbox(mbox_messages(Path(__file__).parents[1] / "fixtures" / "mail" / "three.mbox"))
    with pytest.raises(Forbidden, match=r"^'zed' is not a user of this desk"):
        next(outcomes)
    assert snapshot(desk) == before
