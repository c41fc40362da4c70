"""init, demo, the data-driven lists (statuses, types, reasons, sources, methods, items), users,
`db path|backup|upgrade` and `config path`."""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path

import pytest
from clisupport import Cli, header


# -- init --------------------------------------------------------------------------------------
@pytest.mark.parametrize("preset", ["sales", "services"])
def test_init_a_new_desk(fresh: Cli, preset: str) -> None:
    args = ["init"] if preset == "sales" else ["init", "--preset", preset]
    assert fresh.ok(*args).out == f"initialised with the '{preset}' preset at {fresh.db}\n"
    assert fresh.db.exists()
    assert [u["role"] for u in fresh.ok("user", "list", "--json").json()] == ["admin"]
    assert fresh.ok(*args).out == f"already initialised with the '{preset}' preset at {fresh.db}\n"


def test_init_refuses_another_preset(cli: Cli) -> None:
    line = cli.refused("init", "--preset", "services").err
    assert line == ("leaddesk: this desk is already set up with the 'sales' preset;"
                    " a preset is chosen once, on a new database\n")


def test_init_refuses_sales_on_a_services_desk(services: Cli) -> None:
    assert "already set up with the 'services' preset" in services.refused("init").err


def test_init_refuses_an_unknown_preset(fresh: Cli) -> None:
    assert "'bogus' is not one of 'sales', 'services'" in fresh.refused("init", "--preset", "bogus").err


def test_first_write_on_a_new_database_seeds_sales(fresh: Cli) -> None:
    fresh.ok("add", "--company", "First")
    assert fresh.show(1)["status"] == "New"
    assert "already set up with the 'sales' preset" in fresh.refused("init", "--preset", "services").err


# -- demo --------------------------------------------------------------------------------------
demo_pending = pytest.mark.xfail(importlib.util.find_spec("leaddesk.store.demo") is None,
                                 reason="demo module pending", strict=True)


@demo_pending
def test_demo_builds_a_database(fresh: Cli, tmp_path: Path) -> None:
    target = tmp_path / "demo.db"
    result = fresh.raw("demo", "--db", str(target), "--leads", "25")
    assert result.code == 0, str(result)
    assert result.out == f"{target}\n"  # stdout is only the path, for scripts
    assert result.err.startswith(f"built {target}: 25 leads")
    assert len(fresh.raw("--db", str(target), "list", "--limit", "0", "--json").json()) == 25
    assert fresh.raw("--db", str(target), "show", "1", "--json").json()["number"] == 1

    again = fresh.raw("demo", "--db", str(target))
    assert (again.code, again.out) == (0, f"{target}\n")
    assert "already at" in again.err
    rebuilt = fresh.raw("demo", "--db", str(target), "--leads", "5", "--force")
    assert rebuilt.code == 0, str(rebuilt)
    assert len(fresh.raw("--db", str(target), "list", "--limit", "0", "--json").json()) == 5


@demo_pending
def test_demo_is_reproducible_by_seed(fresh: Cli, tmp_path: Path) -> None:
    listings = []
    for name in ("a.db", "b.db"):
        assert fresh.raw("demo", "--db", str(tmp_path / name), "--leads", "15", "--seed", "3").code == 0
        listings.append(fresh.raw("--db", str(tmp_path / name), "list", "--limit", "0", "--csv").out)
    assert listings[0] == listings[1]


@demo_pending
def test_demo_default_path_and_open(fresh: Cli, tmp_path: Path) -> None:
    result = fresh.raw("demo", "--leads", "10", "--open")
    assert result.code == 0, str(result)
    target = tmp_path / "data" / "demo.db"
    assert result.out.splitlines()[0] == str(target)
    assert target.exists()
    assert header(result.out.splitlines()[1])[:2] == ["number", "contact"]  # --open shows the open leads


@demo_pending
def test_demo_services_preset(fresh: Cli, tmp_path: Path) -> None:
    target = tmp_path / "svc.db"
    assert fresh.raw("demo", "--db", str(target), "--leads", "10", "--preset", "services").code == 0
    names = [s["name"] for s in fresh.raw("--db", str(target), "statuses", "--json").json()]
    assert names[0] == "Pending"


def test_demo_refuses_a_bad_option(fresh: Cli) -> None:
    assert "Invalid value for '--preset'" in fresh.refused("demo", "--preset", "bogus").err


# -- statuses ----------------------------------------------------------------------------------
def test_statuses_list(cli: Cli) -> None:
    cli.add(company="Counted")
    rows = cli.ok("statuses", "--json").json()
    assert set(rows[0]) >= {"name", "category", "manual", "leads"}
    assert (rows[0]["name"], rows[0]["leads"]) == ("New", 1)
    out = cli.ok("statuses").out
    assert header(out) == ["name", "category", "by hand", "leads"]
    assert "Disqualified" in out


def test_statuses_add_rename_remove(cli: Cli) -> None:
    assert cli.ok("statuses", "add", "On Hold").out == "status 'On Hold' added\n"
    assert cli.ok("statuses", "add", "Dead end", "--category", "lost").out == "status 'Dead end' added\n"
    rows = {r["name"]: r for r in cli.ok("statuses", "--json").json()}
    assert (rows["On Hold"]["category"], rows["On Hold"]["manual"]) == ("open", True)
    assert (rows["Dead end"]["category"], rows["Dead end"]["manual"]) == ("lost", False)
    number = cli.add(company="Paused")
    cli.ok("status", str(number), "on-hold")
    assert cli.ok("statuses", "rename", "ON_HOLD", "Paused").out == "status 'On Hold' renamed to 'Paused'\n"
    assert cli.show(number)["status"] == "Paused"
    cli.ok("status", str(number), "new")
    assert cli.ok("statuses", "remove", "paused").out == "status 'Paused' removed\n"
    assert "Paused" not in [r["name"] for r in cli.ok("statuses", "--json").json()]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "new"], "status 'new' already exists"),
        (["add", "  "], "a status needs a name"),
        (["add", "Done", "--category", "closed"], "Invalid value for '--category'"),
        (["rename", "zzz", "Foo"], "unknown status 'zzz'"),
        (["rename", "new", "contacted"], "status 'contacted' already exists"),
        (["remove", "new"], "status 'New' is in use by 1 lead(s); rename it instead"),
        (["remove", "zzz"], "unknown status 'zzz'"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_statuses_refusals(cli: Cli, args: list[str], message: str) -> None:
    cli.add(company="Uses New")
    before = cli.ok("statuses", "--json").json()
    assert message in cli.refused("statuses", *args).err
    assert cli.ok("statuses", "--json").json() == before


def test_last_open_status_cannot_go(services: Cli) -> None:
    for name in ("attempted", "contacted", "estimating", "scheduled"):
        services.ok("statuses", "remove", name)
    assert services.refused("statuses", "remove", "pending").err == (
        "leaddesk: 'Pending' is the last open status; the workflow needs one\n")


# -- types -------------------------------------------------------------------------------------
def test_types(cli: Cli) -> None:
    assert [(r["name"], r["statuses"]) for r in cli.ok("types", "--json").json()] == [
        ("Inbound", []), ("Outbound", [])]
    assert cli.ok("types", "add", "Partner").out == "lead type 'Partner' added\n"
    assert cli.ok("types", "statuses", "Partner", "new", "CONTACTED").out == (
        "lead type 'Partner' allows New, Contacted\n")
    out = cli.ok("types").out
    assert header(out) == ["name", "leads", "allowed statuses"]
    assert "New, Contacted" in out
    number = cli.add(company="Typed", type="partner")
    assert "status 'Engaged' is not allowed for lead type 'Partner' (allowed: New, Contacted)" in cli.refused(
        "status", str(number), "engaged").err
    assert cli.ok("types", "statuses", "Partner").out == "lead type 'Partner' allows every status\n"
    cli.ok("status", str(number), "engaged")
    cli.ok("types", "rename", "partner", "Partners")
    assert cli.show(number)["type"] == "Partners"
    assert "in use by 1 record(s)" in cli.refused("types", "remove", "partners").err
    cli.ok("types", "remove", "outbound")
    assert [r["name"] for r in cli.ok("types", "--json").json()] == ["Inbound", "Partners"]


@pytest.mark.xfail(strict=True, reason="BUG: `types statuses` echoes the type name as typed ('inb'), not the "
                                       "stored name ('Inbound') as rename/remove do")
def test_types_statuses_names_the_stored_type(cli: Cli) -> None:
    assert cli.ok("types", "statuses", "inb", "new").out == "lead type 'Inbound' allows New\n"


def test_types_refusals(cli: Cli) -> None:
    assert "lead type 'inbound' already exists" in cli.refused("types", "add", "inbound").err
    assert "unknown lead type 'zzz'" in cli.refused("types", "statuses", "zzz", "new").err
    assert "unknown status 'zzz'" in cli.refused("types", "statuses", "inbound", "zzz").err
    assert "unknown lead type 'zzz'" in cli.refused("types", "rename", "zzz", "Y").err
    assert "unknown lead type 'zzz'" in cli.refused("types", "remove", "zzz").err


# -- reasons, sources, methods, items ----------------------------------------------------------
LISTS = {
    "reasons": ("lost reason", "Budget", "Timing"),
    "sources": ("source", "Referral", "Trade show"),
    "methods": ("contact method", "Phone", "Fax"),
    "items": ("item", "Consulting", "Widget"),
}


@pytest.mark.parametrize("kind", list(LISTS))
def test_list_add_rename_remove(cli: Cli, kind: str) -> None:
    what, existing, new = LISTS[kind]
    rows = cli.ok(kind, "--json").json()
    assert existing in [r["name"] for r in rows]
    assert set(rows[0]) >= {"id", "name", "leads"}
    assert header(cli.ok(kind).out) == ["name", "leads"]
    assert cli.ok(kind, "add", f"  {new}  ").out == f"{what} '  {new}  ' added\n"
    assert new in [r["name"] for r in cli.ok(kind, "--json").json()]
    renamed = f"{new} 2"
    assert cli.ok(kind, "rename", new.upper(), renamed).out == f"{what} '{new}' renamed to '{renamed}'\n"
    assert cli.ok(kind, "remove", renamed.lower()).out == f"{what} '{renamed}' removed\n"
    assert renamed not in [r["name"] for r in cli.ok(kind, "--json").json()]


@pytest.mark.parametrize("kind", list(LISTS))
def test_list_refusals(cli: Cli, kind: str) -> None:
    what, existing, _new = LISTS[kind]
    assert f"{what} '{existing.lower()}' already exists" in cli.refused(kind, "add", existing.lower()).err
    assert f"a {what} needs a name" in cli.refused(kind, "add", " ").err
    assert f"unknown {what} 'zzz'" in cli.refused(kind, "rename", "zzz", "Y").err
    assert f"unknown {what} 'zzz'" in cli.refused(kind, "remove", "zzz").err
    assert "No such command" in cli.refused(kind, "drop", "x").err


@pytest.mark.parametrize(("kind", "field", "value"), [("sources", "source", "Referral"), ("items", "item", "Training"),
                                                      ("methods", "contact_method", "Phone")])
def test_list_entry_in_use_cannot_be_removed(cli: Cli, kind: str, field: str, value: str) -> None:
    cli.add(company="User", **{field: value})
    assert "is in use by 1 record(s); rename it instead" in cli.refused(kind, "remove", value).err
    cli.ok(kind, "rename", value, f"{value} X")
    assert cli.show(1)[field] == f"{value} X"


def test_lost_reason_in_use_cannot_be_removed(cli: Cli) -> None:
    cli.ok("lost", str(cli.add(company="Gone")), "--reason", "budget")
    assert cli.ok("reasons", "--json").json()[-1] == {"id": 6, "name": "Budget", "leads": 1}
    assert "lost reason 'Budget' is in use by 1 record(s)" in cli.refused("reasons", "remove", "budget").err


# -- users -------------------------------------------------------------------------------------
def test_user_add_and_list(cli: Cli) -> None:
    assert cli.ok("user", "add", "bob", "--name", "Bob Stone", "--role", "manager").out == (
        "user 'bob' added as manager\n")
    cli.ok("user", "add", "cy")
    rows = cli.ok("user", "list", "--json").json()
    assert [(r["login"], r["name"], r["role"], r["active"]) for r in rows] == [
        ("ann", "ann", "admin", 1), ("bob", "Bob Stone", "manager", 1), ("cy", "cy", "rep", 1)]
    out = cli.ok("user", "list").out
    assert header(out) == ["login", "name", "role", "active", "open leads"]
    assert "Bob Stone" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [(["ann"], "user 'ann' already exists"),
     (["two words"], "a login must be one word of printable characters, not 'two words'"),
     (["cy", "--role", "boss"], "role 'boss' must be rep, manager, partner or admin")],
)
def test_user_add_refusals(cli: Cli, args: list[str], message: str) -> None:
    assert message in cli.refused("user", "add", *args).err


# -- db, config --------------------------------------------------------------------------------
def test_db_path(cli: Cli) -> None:
    assert cli.ok("db", "path").out == f"{cli.db}\n"


def test_db_backup(cli: Cli, tmp_path: Path) -> None:
    cli.add(company="Saved")
    default = cli.ok("db", "backup").out.strip()
    assert default == f"{cli.db}.20260304-100000.bak"
    dest = tmp_path / "copies" / "one.bak"
    assert cli.ok("db", "backup", str(dest)).out == f"{dest}\n"
    with sqlite3.connect(dest) as conn:
        assert conn.execute("SELECT company FROM lead").fetchall() == [("Saved",)]
    conn.close()
    assert cli.refused("db", "backup", str(dest)).err == f"leaddesk: {dest} already exists\n"


def test_db_upgrade(cli: Cli) -> None:
    assert cli.ok("db", "upgrade").out.startswith(f"{cli.db} is at schema revision ")


def test_config_path(cli: Cli, tmp_path: Path) -> None:
    assert cli.ok("config", "path").out == f"{tmp_path / 'config' / 'config.toml'}\n"


def test_broken_settings_file_is_a_one_line_refusal(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("database = [unclosed\n")
    for args in (["list"], ["show", "1"], ["status", "1", "new"]):
        assert "is not valid TOML" in cli.refused(*args).err


def test_whoever_builds_a_demo_can_work_in_it_as_an_admin(fresh: Cli, tmp_path: Path) -> None:
    target = str(tmp_path / "demo.db")
    built = fresh.raw("--user", "zed", "demo", "--db", target, "--leads", "10")
    assert built.code == 0, str(built)
    assert "zed is an admin of this demo desk" in built.err
    changed = fresh.raw("--user", "zed", "--db", target, "status", "1", "contacted")
    assert changed.code == 0, str(changed)
    users = {u["login"]: u["role"] for u in fresh.raw("--user", "zed", "--db", target, "user", "list", "--json").json()}
    assert users["zed"] == "admin" and users["kim"] == "admin"
    again = fresh.raw("--user", "zed", "demo", "--db", target)  # already there: nothing to change, still works
    assert again.code == 0 and "admin" not in again.err
    stranger = fresh.raw("--user", "yan", "--db", target, "list")
    assert stranger.code == 1 and "'yan' is not a user of this desk" in stranger.err
