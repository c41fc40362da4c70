"""`leaddesk assign` and the [assignment] settings through the real entry point (issue 5)."""

from __future__ import annotations

from pathlib import Path

import pytest
from clisupport import Cli

RULES = """
[assignment]
enabled = true
teams = { east = ["ann", "bob"], west = ["raj"] }
by_zone = { North = "east", South = "raj" }
by_source = { Referral = "ann" }
default_team = "east"
balance = "round-robin"
"""


def settings(tmp_path: Path, text: str) -> None:
    config = tmp_path / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(text, encoding="utf-8")


@pytest.fixture
def team(cli: Cli) -> Cli:
    """The sales desk with users bob and raj (ann is its admin); no rules yet."""
    cli.ok("user", "add", "bob")
    cli.ok("user", "add", "raj")
    return cli


def test_add_follows_the_rules(team: Cli, tmp_path: Path) -> None:
    settings(tmp_path, RULES)
    assert team.show(team.add(name="Al", zone="South", source="Referral"))["owner"] == "raj"
    assert team.show(team.add(name="Bo", source="Referral"))["owner"] == "ann"
    assert [team.show(team.add(name=f"R{i}", source="Event"))["owner"] for i in range(3)] == ["ann", "bob", "ann"]
    assert team.show(team.add(name="Cy", owner="raj", zone="North"))["owner"] == "raj"


def test_rerun_assigns_unassigned_leads_and_records_history(team: Cli, tmp_path: Path) -> None:
    settings(tmp_path, RULES.replace('default_team = "east"\n', ""))
    first = team.add(name="Al", source="Event")  # no rule applies: stays unassigned
    second = team.add(name="Bo", source="Event")
    assert team.show(first)["owner"] is None
    settings(tmp_path, RULES)
    dry = team.ok("assign", "--rerun", "--dry-run", "--json").json()
    assert dry["dry_run"] is True
    assert [(r["number"], r["owner"]) for r in dry["leads"]] == [(first, "ann"), (second, "bob")]
    assert team.show(first)["owner"] is None
    result = team.ok("assign", "--rerun")
    assert "assigned 2 of 2 unassigned leads" in result.out
    assert "default team -> team east" in result.out
    assert team.show(first)["owner"] == "ann" and team.show(second)["owner"] == "bob"
    history = team.ok("history", str(first), "--json").json()
    assign = [h for h in history if h["action"] == "assign"]
    assert [(h["field"], h["old"], h["new"], h["origin"], h["user"]) for h in assign] == [
        ("owner", None, "ann", "cli", "ann")]
    assert team.ok("assign", "--rerun").out == "no unassigned open leads\n"


def test_rerun_warns_about_a_rule_naming_an_unknown_login(team: Cli, tmp_path: Path) -> None:
    settings(tmp_path, RULES.replace('default_team = "east"\n', "").replace('South = "raj"', 'South = "zed"'))
    number = team.add(name="Al", zone="South")
    result = team("assign", "--rerun")
    assert result.code == 0, str(result)
    assert "assigned 0 of 1 unassigned lead" in result.out
    assert result.err == "warning: zone South -> zed: no such user or team\n"
    assert team.show(number)["owner"] is None


def test_assign_shows_rules_and_problems(team: Cli, tmp_path: Path) -> None:
    settings(tmp_path, RULES.replace('west = ["raj"]', 'west = ["raj", "zed"]'))
    result = team("assign")
    assert result.code == 0, str(result)
    assert "assignment is on" in result.out and "zone North" in result.out and "otherwise" in result.out
    assert result.err == "warning: team west: 'zed' is not a user\n"
    shown = team.ok("assign", "--json").json()
    assert shown["teams"]["east"] == {"members": ["ann", "bob"], "last": None}


def test_only_a_manager_reruns_the_rules_a_rep_may_preview_them(team: Cli, tmp_path: Path) -> None:
    settings(tmp_path, RULES.replace('default_team = "east"\n', ""))
    number = team.add(name="Al", source="Event")
    settings(tmp_path, RULES)
    line = team.refused("--user", "bob", "assign", "--rerun").err
    assert line == ("leaddesk: only a manager or an admin may apply the assignment rules; you are a rep"
                    " (a dry run shows what they would do)\n")
    assert team.show(number)["owner"] is None
    preview = team.ok("--user", "bob", "assign", "--rerun", "--dry-run", "--json").json()
    assert [(r["number"], r["owner"]) for r in preview["leads"]] == [(number, "ann")]
    assert team.show(number)["owner"] is None
    team.ok("user", "role", "bob", "manager")
    assert "assigned 1 of 1 unassigned lead" in team.ok("--user", "bob", "assign", "--rerun").out
    assert team.show(number)["owner"] == "ann"


def test_rerun_refused_when_assignment_is_off(team: Cli) -> None:
    line = team.refused("assign", "--rerun").err
    assert "assignment is off" in line


def test_bad_assignment_settings_refused_in_one_line(team: Cli, tmp_path: Path) -> None:
    settings(tmp_path, RULES.replace('default_team = "east"', 'default_team = "south"'))
    assert "default_team 'south' is not a team (teams: east, west)" in team.refused("list").err
    settings(tmp_path, RULES + "colour = 'red'\n")
    assert "[assignment] has unknown key 'colour'" in team.refused("assign").err
