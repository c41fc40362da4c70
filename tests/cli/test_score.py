"""`leaddesk score`, `list --sort score` / `--min-score` and the score in `show`, through the real entry point
(issue 6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from clisupport import Cli, header

RULES = """
[score]
decay_per_day = 1
decay_after = 2
[[score.rules]]
points = 10
field = "source"
is = "Referral"
[[score.rules]]
points = 15
bant = "budget"
is = "yes"
label = "Budget confirmed"
[[score.rules]]
points = 5
activity = "call"
per = "each"
[[score.rules]]
points = 1
field = "source"
is = "Referal"
"""


def settings(tmp_path: Path, text: str) -> None:
    config = tmp_path / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(text, encoding="utf-8")


def test_score_explains_manual_plus_rules(cli: Cli, tmp_path: Path) -> None:
    settings(tmp_path, RULES)
    cli.add(name="Ann Lee", source="Referral", bant_budget="yes", score="4")
    cli.ok("log", "1", "call", "spoke to her")
    out = cli.ok("score", "1").out.splitlines()
    assert out == ["#1 Ann Lee", "score 34 = manual 4 + rules 30", "    +10  source is Referral",
                   "    +15  Budget confirmed", "     +5  1 call × 5"]
    found = cli.ok("score", "1", "--json").json()
    assert (found["total"], found["manual"], found["auto"], found["stored_auto"]) == (34, 4, 30, 30)
    assert found["reasons"][0] == {"points": 10, "text": "source is Referral"}
    shown = cli.show(1)
    assert (shown["score"], shown["auto_score"], shown["total_score"]) == (4, 30, 34)
    assert "  Score           34  (manual 4 + rules 30: leaddesk score 1)" in cli.ok("show", "1").out
    assert "  BANT            budget yes · authority unknown" in cli.ok("show", "1").out


def test_list_sorts_and_filters_by_the_total(cli: Cli, tmp_path: Path) -> None:
    settings(tmp_path, RULES)
    cli.add(name="Low")
    cli.add(name="Rules", source="Referral")
    cli.add(name="Manual", score="12")
    rows = cli.ok("list", "--sort", "score", "--desc", "--json").json()
    assert [(r["contact"], r["score"]) for r in rows] == [("Manual", 12), ("Rules", 10), ("Low", 0)]
    assert [r["contact"] for r in cli.ok("list", "--min-score", "11", "--json").json()] == ["Manual"]
    table = cli.ok("list", "--sort", "score").out
    assert "score" in header(table)
    assert cli.ok("list", "--min-score", "11", "--csv").out.splitlines()[1].split(",")[8] == "12"


def test_the_daily_decay_is_recomputed_from_a_script(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings(tmp_path, RULES)
    cli.add(name="Ann Lee", source="Referral")
    assert cli.ok("score", "--recompute", "--json").json() == {"leads": 1, "changed": 0, "scope": "all"}
    monkeypatch.setenv("LEADDESK_NOW", "2026-03-10T10:00:00")  # six days on: four of them decay
    result = cli("score", "1")
    assert result.code == 0
    assert "score 6 = manual 0 + rules 6" in result.out and "-4  decay: 6 days without contact" in result.out
    assert "lists still use 10 for the rules until the day's recompute" in result.err
    assert cli.ok("score", "--recompute").out == "recomputed 1 lead: 1 changed\n"
    assert cli.ok("list", "--json").json()[0]["score"] == 6


def test_listing_by_score_refreshes_stale_scores(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings(tmp_path, RULES)
    cli.add(name="Ann Lee", source="Referral")
    monkeypatch.setenv("LEADDESK_NOW", "2026-03-10T10:00:00")
    assert cli.ok("list", "--json").json()[0]["score"] == 10  # a plain list only reads
    assert cli.ok("list", "--sort", "score", "--json").json()[0]["score"] == 6


def test_rules_are_shown_with_warnings(cli: Cli, tmp_path: Path) -> None:
    settings(tmp_path, RULES)
    result = cli("score", "--rules")
    assert result.code == 0
    assert "source is Referral" in result.out and "each call" in result.out
    assert "per day without contact after 2 days (open leads)" in result.out
    assert result.err == "warning: rule 4: there is no source named 'Referal'\n"
    assert cli.ok("score", "--rules", "--json").json()["warnings"] == ["rule 4: there is no source named 'Referal'"]


def test_without_rules_the_score_is_the_manual_one(cli: Cli) -> None:
    cli.add(name="Ann Lee", score="7")
    result = cli("score", "1")
    assert (result.code, result.out) == (0, "#1 Ann Lee\nscore 7 = manual 7 + rules 0\n")
    assert "no score rules in the settings" in result.err
    assert cli.ok("score", "--rules").out.startswith("no score rules")
    assert cli.ok("score", "--recompute").out == "recomputed 0 leads: 0 changed\n"


def test_refusals_are_one_line(cli: Cli, tmp_path: Path) -> None:
    cli.refused("score")
    cli.refused("score", "1", "--recompute")
    cli.refused("score", "99", code=3)
    settings(tmp_path, "[score]\n[[score.rules]]\npoints = 1\nactivity = \"fax\"\n")
    line = cli.refused("score", "--rules").err
    assert "[score] rule 1: activity 'fax' must be one of call, email, email_in, email_out, meeting, note" in line
