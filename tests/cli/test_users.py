"""`leaddesk user add|list|deactivate|activate|role` and who may act from the command line (issue 5)."""

from __future__ import annotations

from pathlib import Path

import pytest
from clisupport import Cli, header

UNKNOWN = "leaddesk: 'bob' is not a user of this desk: ask a manager to run `leaddesk user add bob`"
INACTIVE = "leaddesk: user 'bob' is deactivated on this desk: ask a manager to run `leaddesk user activate bob`"


def users(cli: Cli, login: str = "ann") -> dict[str, tuple[str, bool]]:
    rows = cli.ok("--user", login, "user", "list", "--json").json()
    return {u["login"]: (u["role"], bool(u["active"])) for u in rows}


def test_add_deactivate_activate_and_role(cli: Cli) -> None:
    assert cli.ok("user", "add", "bob", "--name", "Bob Stone").out == "user 'bob' added as rep\n"
    assert cli.ok("user", "deactivate", "bob").out == "user 'bob' deactivated\n"
    assert users(cli)["bob"] == ("rep", False)
    assert cli.ok("user", "deactivate", "bob").out == "user 'bob' was already inactive\n"
    assert cli.ok("user", "activate", "bob").out == "user 'bob' activated\n"
    assert cli.ok("user", "role", "bob", "manager").out == "user 'bob' is now manager\n"
    assert users(cli) == {"ann": ("admin", True), "bob": ("manager", True)}
    assert "Bob Stone" in cli.ok("user", "list").out
    cli.refused("user", "role", "bob", "boss")
    cli.refused("user", "deactivate", "zed", code=3)


def test_reps_do_not_manage_users_and_managers_not_admins(cli: Cli) -> None:
    cli.ok("user", "add", "bob")
    cli.ok("user", "add", "mia", "--role", "manager")
    line = cli.refused("--user", "bob", "user", "add", "cy").err
    assert line == "leaddesk: only a manager or an admin may manage users; you are a rep\n"
    cli.ok("--user", "mia", "user", "add", "cy")
    assert "only an admin may" in cli.refused("--user", "mia", "user", "role", "cy", "admin").err
    assert "only an admin may" in cli.refused("--user", "mia", "user", "deactivate", "ann").err
    assert "only a manager or an admin may change the sources" in cli.refused(
        "--user", "bob", "sources", "add", "Fair").err
    cli.ok("--user", "mia", "sources", "add", "Fair")


def test_the_last_active_admin_cannot_go(cli: Cli) -> None:
    assert "'ann' is the last active admin" in cli.refused("user", "deactivate", "ann").err
    assert "'ann' is the last active admin" in cli.refused("user", "role", "ann", "rep").err
    cli.ok("user", "add", "root", "--role", "admin")
    cli.ok("user", "role", "ann", "manager")
    assert users(cli)["ann"] == ("manager", True)


@pytest.mark.parametrize("command", [["status", "1", "contacted"], ["note", "1", "hi"], ["show", "1"],
                                     ["edit", "1", "--city", "Oslo"], ["list"]])
def test_unknown_and_deactivated_users_are_refused(cli: Cli, ann: int, command: list[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADDESK_USER", "bob")  # as if bob's OS login
    assert cli.refused(*command).err == UNKNOWN + "\n"  # the quick path (status, note, show) too
    cli.ok("--user", "ann", "user", "add", "bob")
    cli.ok("--user", "ann", "user", "deactivate", "bob")
    assert cli.refused(*command).err == INACTIVE + "\n"
    shown = cli.ok("--user", "ann", "show", str(ann), "--json").json()
    assert (shown["status"], shown["city"], shown["activities"]) == ("New", None, [])  # nothing changed


def test_settings_may_let_unknown_logins_act_as_reps(cli: Cli, ann: int, tmp_path: Path) -> None:
    config = tmp_path / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("auto_create_users = true\n", encoding="utf-8")
    cli.ok("--user", "bob", "status", str(ann), "contacted")
    assert users(cli)["bob"] == ("rep", True)
    config.write_text("auto_create_users = \"yes\"\n", encoding="utf-8")
    assert "auto_create_users must be true or false" in cli.refused("list").err


def test_a_new_desk_makes_its_first_user_admin(fresh: Cli) -> None:
    fresh.ok("--user", "zoe", "add", "--company", "First")
    assert users(fresh, "zoe") == {"zoe": ("admin", True)}
    fresh.ok("--user", "zoe", "user", "add", "bob")
    assert fresh("--user", "carl", "note", "1", "hi").err.startswith("leaddesk: 'carl' is not a user")


def test_list_shows_open_leads_and_history_shows_who_changed_a_user(cli: Cli) -> None:
    cli.ok("user", "add", "bob", "--name", "Bob Stone")
    for name in ("Al", "Bo", "Cy"):
        cli.add(name=name, owner="bob")
    cli.ok("won", "1", "--value", "500")
    listed = cli.ok("user", "list")
    assert header(listed.out)[-1] == "open leads"
    rows = {u["login"]: u for u in cli.ok("user", "list", "--json").json()}
    assert (rows["bob"]["open_leads"], rows["ann"]["open_leads"]) == (2, 0)
    cli.ok("user", "deactivate", "bob")
    cli.ok("user", "activate", "bob")
    cli.ok("user", "role", "bob", "manager")
    history = cli.ok("user", "history", "bob", "--json").json()
    assert [(h["action"], h["field"], h["old"], h["new"], h["user"]) for h in history] == [
        ("create", "login", None, "bob", "ann"), ("create", "role", None, "rep", "ann"),
        ("deactivate", "active", "1", "0", "ann"), ("activate", "active", "0", "1", "ann"),
        ("role", "role", "rep", "manager", "ann")]
    text = cli.ok("--user", "bob", "user", "history", "bob").out  # anyone who may read
    assert header(text) == ["at", "by", "action", "field", "old", "new", "from"]
    assert "deactivate │ active │ yes │ no" in text
    assert cli.refused("user", "history", "zed", code=3).err == "leaddesk: there is no user 'zed'\n"
