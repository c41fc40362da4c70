"""Assignment rules (issue 5): zone, then source, then a team's round-robin; persistent turns; rerun."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from leaddesk.settings import Assignment, Settings, load_settings
from leaddesk.store.desk import Desk
from leaddesk.store.errors import RuleError
from leaddesk.store.permissions import Forbidden

from .conftest import DeskFactory

RULES = Assignment(
    enabled=True,
    teams={"east": ("ann", "bob"), "west": ("raj",)},
    by_zone={"North": "east", "South": "raj"},
    by_source={"Referral": "ann"},
    default_team="east",
)


def with_rules(**changes: Any) -> Settings:
    fields = {**RULES.__dict__, **changes}
    return Settings(assignment=Assignment(**fields))


@pytest.fixture
def team_desk(desk: Desk) -> Desk:
    """Ann's sales desk with users bob, raj and cy (cy is on no team)."""
    for login in ("bob", "raj", "cy"):
        desk.add_user(login)
    return desk


def ruled(open_desk: DeskFactory, login: str = "ann", **changes: Any) -> Desk:
    return open_desk(login=login, settings=with_rules(**changes))


def add(desk: Desk, name: str, **values: str) -> dict[str, Any]:
    return desk.add_lead({"name": name, **values}, force=True)


def deactivate(desk: Desk, login: str) -> None:
    with desk.db.write() as tx:
        tx.execute('UPDATE "user" SET active = FALSE WHERE login = :l', {"l": login})


# --- the rules, in order ---------------------------------------------------------------------------


def test_zone_rule_names_a_login(team_desk: Desk, open_desk: DeskFactory) -> None:
    desk = ruled(open_desk)
    assert add(desk, "Sam", zone="South")["owner"] == "raj"
    assert add(desk, "Sue", zone="south")["owner"] == "raj"  # zones match regardless of case


def test_source_rule_when_no_zone_rule_matches(team_desk: Desk, open_desk: DeskFactory) -> None:
    desk = ruled(open_desk, login="cy")
    assert add(desk, "Sam", source="Referral")["owner"] == "ann"
    assert add(desk, "Sue", source="Referral", zone="Nowhere")["owner"] == "ann"


def test_zone_rule_comes_before_source_rule(team_desk: Desk, open_desk: DeskFactory) -> None:
    desk = ruled(open_desk)
    assert add(desk, "Sam", zone="South", source="Referral")["owner"] == "raj"


def test_default_team_round_robin_in_order(team_desk: Desk, open_desk: DeskFactory) -> None:
    desk = ruled(open_desk, login="cy")
    owners = [add(desk, f"Lead {i}", source="Event")["owner"] for i in range(5)]
    assert owners == ["ann", "bob", "ann", "bob", "ann"]


def test_zone_team_shares_the_rotation_with_the_default_team(team_desk: Desk, open_desk: DeskFactory) -> None:
    desk = ruled(open_desk, login="cy")
    assert [add(desk, "A", zone="North")["owner"], add(desk, "B")["owner"], add(desk, "C", zone="north")["owner"]] \
        == ["ann", "bob", "ann"]


def test_explicit_owner_wins_over_the_rules(team_desk: Desk, open_desk: DeskFactory) -> None:
    desk = ruled(open_desk)
    assert add(desk, "Sam", zone="South", owner="cy")["owner"] == "cy"


def test_no_rule_leaves_the_lead_unassigned(team_desk: Desk, open_desk: DeskFactory) -> None:
    desk = ruled(open_desk, default_team=None)
    lead = add(desk, "Sam", source="Event")
    assert lead["owner"] is None and lead["owner_id"] is None


def test_assignment_off_keeps_the_acting_user_as_owner(team_desk: Desk, open_desk: DeskFactory) -> None:
    desk = ruled(open_desk, login="cy", enabled=False)
    assert add(desk, "Sam", zone="South")["owner"] == "cy"


def test_inactive_reps_are_skipped(team_desk: Desk, open_desk: DeskFactory) -> None:
    desk = ruled(open_desk, login="cy", teams={"east": ("ann", "bob", "raj"), "west": ("raj",)})
    deactivate(team_desk, "bob")
    assert [add(desk, f"L{i}")["owner"] for i in range(4)] == ["ann", "raj", "ann", "raj"]


def test_rule_naming_an_unknown_or_inactive_login_falls_through(team_desk: Desk, open_desk: DeskFactory) -> None:
    desk = ruled(open_desk, login="cy", by_zone={"North": "zed", "South": "raj"})
    deactivate(team_desk, "raj")
    assert add(desk, "Sam", zone="North", source="Referral")["owner"] == "ann"  # zone rule broken -> source rule
    assert add(desk, "Sue", zone="South")["owner"] == "ann"  # raj inactive -> default team east
    problems = desk.assignment_rules()["problems"]
    assert "zone North -> 'zed': no such user or team" in problems
    assert "zone South -> 'raj': user is not active" in problems
    assert "team west has no active rep" in problems


def test_balance_by_open_leads_picks_the_least_loaded_rep(team_desk: Desk, open_desk: DeskFactory) -> None:
    setup = ruled(open_desk, login="cy", enabled=False)
    for i in range(3):
        add(setup, f"Old {i}", owner="ann")
    add(setup, "Old won", owner="bob")
    setup.mark_won("4", "100")  # a won lead is not open: bob has 0 open leads
    desk = ruled(open_desk, login="cy", balance="open")
    owners = [add(desk, f"New {i}")["owner"] for i in range(5)]
    assert owners == ["bob", "bob", "bob", "ann", "bob"]  # 3 vs 0, then even: turns decide ties


def test_turn_persists_across_desks_and_processes(team_desk: Desk, open_desk: DeskFactory, db_file: str) -> None:
    first = ruled(open_desk, login="cy")
    assert add(first, "A")["owner"] == "ann"
    first.close()
    second = ruled(open_desk, login="raj")
    assert add(second, "B")["owner"] == "bob"
    assert add(ruled(open_desk, login="cy"), "C")["owner"] == "ann"
    assert second.assignment_rules()["teams"]["east"]["last"] == "ann"


def test_a_refused_create_does_not_move_the_turn(team_desk: Desk, open_desk: DeskFactory) -> None:
    desk = ruled(open_desk, login="cy")
    assert add(desk, "A", phone="+1 212 555 0100")["owner"] == "ann"
    with pytest.raises(RuleError):  # refused after the rules ran (a possible duplicate): all rolled back
        desk.add_lead({"name": "B", "phone": "+1 212 555 0100"})
    assert add(desk, "C")["owner"] == "bob"


# --- import ------------------------------------------------------------------------------------------


def test_import_applies_the_rules_in_order(team_desk: Desk, open_desk: DeskFactory, tmp_path: Path,
                                           query: Any) -> None:
    path = tmp_path / "in.csv"
    path.write_text("Name,Phone,Source,Zone,Owner\n"
                    "Al,+1 212 555 0101,Event,South,\n"
                    "Bo,+1 212 555 0102,Referral,,\n"
                    "Cy,+1 212 555 0103,Event,,\n"
                    "Di,+1 212 555 0104,Event,,\n"
                    "Ed,+1 212 555 0105,Event,North,cy\n", encoding="utf-8")
    desk = ruled(open_desk, login="cy")
    summary = desk.import_leads(str(path))
    assert summary["imported"] == 5
    rows = query(desk, 'SELECT l.contact_name, u.login FROM lead l LEFT JOIN "user" u ON u.id = l.owner_id'
                       " ORDER BY l.number")
    assert [(r["contact_name"], r["login"]) for r in rows] == [
        ("Al", "raj"), ("Bo", "ann"), ("Cy", "ann"), ("Di", "bob"), ("Ed", "cy")]
    assert add(desk, "After")["owner"] == "ann"  # the import moved the turn on, in the same transaction


def test_import_dry_run_does_not_move_the_turn(team_desk: Desk, open_desk: DeskFactory, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("Name,Phone,Source\nAl,+1 212 555 0101,Event\n", encoding="utf-8")
    desk = ruled(open_desk, login="cy")
    desk.import_leads(str(path), dry_run=True)
    assert add(desk, "A")["owner"] == "ann"


# --- rerun -------------------------------------------------------------------------------------------


def test_rerun_assigns_unassigned_open_leads_with_history(team_desk: Desk, open_desk: DeskFactory,
                                                         query: Any) -> None:
    before = ruled(open_desk, login="cy", default_team=None)
    a = add(before, "Al", source="Event")["number"]
    b = add(before, "Bo", zone="South")["number"]  # raj
    c = add(before, "Cy", source="Event")["number"]
    won = add(before, "Won", source="Event")["number"]
    before.mark_won(str(won), "5")
    preview = ruled(open_desk, login="cy").assign_rerun(dry_run=True)  # a rep may preview it
    assert [(r["number"], r["owner"]) for r in preview] == [(a, "ann"), (c, "bob")]
    desk = ruled(open_desk)  # ann, the admin, applies it
    assert desk.show(str(a))["owner"] is None  # a dry run writes nothing
    done = desk.assign_rerun()
    assert [(r["number"], r["owner"], r["rule"]) for r in done] == [
        (a, "ann", "default team -> team east"), (c, "bob", "default team -> team east")]
    assert desk.show(str(b))["owner"] == "raj" and desk.show(str(won))["owner"] is None
    history = query(desk, "SELECT h.action, h.old, h.new, h.origin, u.login FROM history h"
                          " JOIN \"user\" u ON u.id = h.user_id JOIN lead l ON l.id = h.entity_id"
                          " WHERE h.entity = 'lead' AND h.field = 'owner_id' AND l.number = :n ORDER BY h.id",
                    {"n": a})
    ann_id = query(desk, "SELECT id FROM \"user\" WHERE login = 'ann'")[0]["id"]
    assert history == [{"action": "assign", "old": None, "new": str(ann_id), "origin": "cli", "login": "ann"}]
    assert [(h["field"], h["old"], h["new"]) for h in desk.history(str(a)) if h["action"] == "assign"] == [
        ("owner", None, "ann")]
    assert desk.assign_rerun() == []


def test_rerun_reports_leads_no_rule_could_assign(team_desk: Desk, open_desk: DeskFactory) -> None:
    before = ruled(open_desk, login="cy", default_team=None)
    number = add(before, "Al", zone="West")["number"]
    desk = ruled(open_desk, by_zone={"West": "zed"}, default_team=None)
    assert desk.assign_rerun() == [{"number": number, "name": "Al", "owner": None, "rule": "",
                                    "problems": ["zone West -> zed: no such user or team"]}]


def test_only_managers_and_admins_apply_the_rules_anyone_may_preview(team_desk: Desk, open_desk: DeskFactory,
                                                                     snapshot: Any) -> None:
    number = add(ruled(open_desk, default_team=None), "Al", source="Event")["number"]
    rep = ruled(open_desk, login="bob")
    before = snapshot(team_desk)
    with pytest.raises(Forbidden, match=r"^only a manager or an admin may apply the assignment rules; you are a rep"
                                        r" \(a dry run shows what they would do\)$"):
        rep.assign_rerun()
    assert snapshot(team_desk) == before
    assert [(r["number"], r["owner"]) for r in rep.assign_rerun(dry_run=True)] == [(number, "ann")]
    assert snapshot(team_desk) == before
    team_desk.set_user_role("raj", "manager")
    assert [(r["number"], r["owner"]) for r in ruled(open_desk, login="raj").assign_rerun()] == [(number, "ann")]
    assert team_desk.show(str(number))["owner"] == "ann"


def test_rerun_refused_when_assignment_is_off(team_desk: Desk) -> None:
    with pytest.raises(RuleError, match="assignment is off"):
        team_desk.assign_rerun()


# --- settings -----------------------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_settings_example_is_read(tmp_path: Path) -> None:
    rules = load_settings(write(tmp_path, """
[assignment]
enabled = true
teams = { east = ["ann", "bob"], west = ["raj"] }
by_zone = { North = "east", South = "raj" }
by_source = { Referral = "ann" }
default_team = "east"
balance = "open"
""")).assignment
    assert rules == Assignment(enabled=True, teams={"east": ("ann", "bob"), "west": ("raj",)},
                               by_zone={"North": "east", "South": "raj"}, by_source={"Referral": "ann"},
                               default_team="east", balance="open")
    assert load_settings(write(tmp_path, "currency = 'EUR'\n")).assignment.enabled is False


@pytest.mark.parametrize(("body", "message"), [
    ('default_team = "east"\nteams = { east = ["ann"] }\nrules = 1', "unknown key 'rules'"),
    ('teams = { east = ["ann"] }\ndefault_team = "north"', "default_team 'north' is not a team (teams: east)"),
    ('teams = { east = [] }\ndefault_team = "east"', "team 'east' must be a non-empty list of logins"),
    ('teams = { east = "ann" }\ndefault_team = "east"', "team 'east' must be a non-empty list of logins"),
    ('by_zone = { North = 3 }', "by_zone must map names to a team or a login"),
    ('by_source = ["ann"]', "by_source must map names to a team or a login"),
    ('by_source = { Referral = "ann" }\nbalance = "fair"', "balance 'fair' must be one of round-robin, open"),
    ('enabled = "yes"\nby_source = { Referral = "ann" }', "enabled must be true or false"),
    ('teams = { east = ["ann"] }', "enabled but has no by_zone, by_source or default_team rule"),
])
def test_bad_settings_are_refused_in_one_line(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(RuleError, match=re.escape(message)) as refused:
        load_settings(write(tmp_path, "[assignment]\n" + body + "\n"))
    assert "\n" not in str(refused.value)
