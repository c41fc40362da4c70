"""`leaddesk sla`, `leaddesk notices` and `list --sla` through the real entry point (issue 6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from clisupport import Cli, header

SLA = '[sla]\ncontact_within_hours = 4\n'  # mon-fri 09:00-17:00; UTC while the clock is fixed


def settings(tmp_path: Path, text: str) -> None:
    config = tmp_path / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(text, encoding="utf-8")


@pytest.fixture
def late(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The sales desk (ann: admin; kim: manager; bob: rep) with the SLA on: "Late Lee" added on Wednesday 10:00
    (due 14:00) and not contacted, "Called Cy" called at once; now it is Thursday 10:00."""
    settings(tmp_path, SLA)
    cli.ok("user", "add", "kim", "--role", "manager")
    cli.ok("user", "add", "bob")
    cli.ok("--user", "bob", "add", "--name", "Late Lee", "--company", "Slowco")
    cli.ok("add", "--name", "Called Cy")
    cli.ok("log", "2", "call", "reached him")
    monkeypatch.setenv("LEADDESK_NOW", "2026-03-05T10:00:00")
    return cli


def test_sla_lists_breaches_and_escalates_them_once(late: Cli) -> None:
    shown = late.ok("sla")
    lines = shown.out.splitlines()
    assert lines[0] == "first contact within 4 working hours (mon-fri 09:00-17:00, local time)"
    assert header(lines[1]) == ["#", "Lead", "Owner", "Status", "Created", "Due", "Overdue"]
    assert [c.strip() for c in lines[3].split("│")] == ["1", "Late Lee", "bob", "New", "2026-03-04 10:00",
                                                        "2026-03-04 14:00", "4h 00m"]
    assert lines[-1] == "1 lead past the SLA"
    [breach] = late.ok("sla", "--json").json()
    assert (breach["number"], breach["sla_due_at"], breach["overdue_hours"]) == (1, "2026-03-04T14:00:00", 4.0)
    assert late.ok("sla", "--mine", "--json").json() == []
    assert [b["number"] for b in late.ok("sla", "--owner", "bob", "--json").json()] == [1]
    assert [r["number"] for r in late.ok("list", "--sla", "breached", "--json").json()] == [1]
    assert [r["number"] for r in late.ok("list", "--sla", "met", "--json").json()] == [2]
    # escalated once to ann (admin) and kim (manager), not to bob (a rep)
    [notice] = late.ok("notices", "--json").json()
    assert notice["lead"] == 1 and notice["kind"] == "sla" and notice["when"] == "2026-03-05 10:00"
    assert notice["text"] == "SLA breached: #1 Late Lee (owner bob) was not contacted by Wed 2026-03-04 14:00"
    assert len(late.ok("--user", "kim", "notices", "--json").json()) == 1
    assert late.ok("--user", "bob", "notices", "--json").json() == []
    late.ok("sla")
    assert len(late.ok("--user", "kim", "notices", "--json").json()) == 1  # never twice
    table = late.ok("--user", "kim", "notices").out
    assert "SLA breached: #1 Late Lee" in table
    assert late.ok("--user", "kim", "notices", "--read").out == "1 notice marked read\n"
    assert late.ok("--user", "kim", "notices", "--json").json() == []
    [read] = late.ok("--user", "kim", "notices", "--all", "--json").json()
    assert read["read_at"] == "2026-03-05T10:00:00"
    assert len(late.ok("notices", "--json").json()) == 1  # ann's own is still unread
    late.ok("log", "1", "email", "sorry for the wait")
    assert late.ok("sla", "--json").json() == []
    assert late.ok("sla").out.endswith("(nothing)\n")


def test_sla_report(late: Cli) -> None:
    late.ok("log", "1", "call", "at last")  # 4 working hours late
    report = late.ok("sla", "--report", "--json").json()
    assert {k: report[k] for k in ("contacted", "median_hours", "p90_hours", "within_sla", "share_within",
                                   "breached", "pending")} == {
        "contacted": 2, "median_hours": 4.0, "p90_hours": 7.2, "within_sla": 1, "share_within": 0.5,
        "breached": 0, "pending": 0}  # 0h and 8h
    assert [(o["owner"], o["contacted"], o["within_sla"]) for o in report["owners"]] == [("ann", 1, 1), ("bob", 1, 0)]
    text = late.ok("sla", "--report").out
    assert "contacted 2 · median 4h 00m · p90 7h 12m · within the SLA 1 of 2 (50%)" in text
    assert late.ok("sla", "--report", "--since", "2026-03-05", "--json").json()["contacted"] == 0


def test_recompute_is_for_managers(late: Cli, tmp_path: Path) -> None:
    refusal = late.refused("--user", "bob", "sla", "--recompute").err
    assert refusal == "leaddesk: only a manager or an admin may recompute the SLA due times; you are a rep\n"
    done = late.ok("--user", "kim", "sla", "--recompute", "--json").json()
    assert done == {"contacted": 0, "due": 1, "breached": 1, "notices": 2}
    assert late.ok("sla", "--recompute").out == (
        "1 open lead given a due time; 0 first contacts found; 1 in breach; 0 notices sent\n")
    settings(tmp_path, "")
    assert late.refused("sla", "--recompute").err.startswith("leaddesk: no SLA is set:")
    assert late.ok("sla").out.startswith("no SLA: set contact_within_hours")


def test_refusals_are_one_line(late: Cli, tmp_path: Path) -> None:
    assert late.refused("sla", "--since", "2026-01-01").err == "leaddesk: --since goes with --report\n"
    assert late.refused("sla", "--report", "--recompute").err == (
        "leaddesk: --report and --recompute exclude each other\n")
    assert late.refused("sla", "--report", "--since", "someday").err.startswith("leaddesk: --since:")
    assert late.refused("list", "--sla", "late").err == (
        "leaddesk: sla 'late' must be one of breached, pending, met, missed\n")
    settings(tmp_path, '[sla]\nworking_hours = "5pm-9am"\n')
    assert "[sla] working_hours '5pm-9am' must look like" in late.refused("sla").err
