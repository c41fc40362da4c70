"""`leaddesk work` through the real entry point: the next lead, recording outcomes, the list, the loop."""

from __future__ import annotations

import io

import pytest
from clisupport import ANN, BOB, Cli

from leaddesk.cli import work as work_module


@pytest.fixture
def two(cli: Cli) -> tuple[int, int]:
    """Ann's lead with a follow-up two days overdue, Bob's (also ann's) due today."""
    first, second = cli.add(**ANN, followup="2026-03-02"), cli.add(**BOB, followup="today")
    return first, second


def test_an_empty_queue_says_so(cli: Cli) -> None:
    assert cli.ok("work").out == "nothing to work: the queue is empty\n"
    assert cli.ok("work", "--json").json() == {"lead": None, "outcomes": cli.ok("work", "--json").json()["outcomes"]}


def test_work_shows_the_next_lead_why_and_the_keys(cli: Cli, two: tuple[int, int]) -> None:
    out = cli.ok("work").out.splitlines()
    assert out[0] == f"#{two[0]} Ann Lee (Acme) · New · ann  1 of 2"
    assert "  why        follow-up overdue since Mar 2; never contacted (added Mar 4)" in out
    assert "outcomes: 1 no-answer · 2 reached · 3 emailed · 4 meeting · 5 lost · 6 qualify · 7 skip" in out
    shown = cli.ok("work", "--json").json()
    assert shown["lead"]["number"] == two[0] and shown["lead"]["bucket"] == "overdue"
    assert (shown["lead"]["position"], shown["lead"]["total"]) == (1, 2)
    assert [o["name"] for o in shown["outcomes"]][:2] == ["no-answer", "reached"]
    after = cli.ok("work", "--after", str(two[0]), "--json").json()["lead"]
    assert after["number"] == two[1] and after["reasons"][0] == "follow-up due today"


def test_an_outcome_is_recorded_and_the_next_lead_named(cli: Cli, two: tuple[int, int]) -> None:
    result = cli.ok("work", "no-answer", str(two[0]), "--note", "voicemail")
    assert result.out == (f"#{two[0]} Ann Lee (Acme) · Attempted to contact · Called, no answer · status New →"
                          " Attempted to contact · follow-up 2026-03-05\n"
                          f"next: #{two[1]} Bob Stone · follow-up due today; never contacted (added Mar 4)\n")
    lead = cli.show(two[0])
    assert (lead["status"], lead["followup"]) == ("Attempted to contact", "2026-03-05")
    assert lead["activities"][0]["kind"] == "call" and lead["activities"][0]["body"] == "no answer: voicemail"
    history = cli.ok("history", str(two[0]), "--json").json()
    assert [h["field"] for h in history if h["action"] in ("log", "status", "followup")][-4:] == [
        "activity", "status", "followup", "followup_note"]


def test_outcomes_by_key_with_dates_and_reasons(cli: Cli, two: tuple[int, int]) -> None:
    done = cli.ok("work", "4", str(two[1]), "--date", "friday 10:00", "--json").json()
    assert done["outcome"] == "meeting" and done["followup"] == {"on": "2026-03-06", "time": "10:00",
                                                                 "note": "meeting"}
    assert done["next"]["number"] == two[0]
    lost = cli.ok("work", "lost", str(two[0]), "--reason", "budget", "--json").json()
    assert lost["status"] == {"from": "New", "to": "Disqualified"} and lost["next"] is None
    assert cli.show(two[0])["lost_reason"] == "Budget"
    assert cli.ok("work").out == "nothing to work: the queue is empty\n"


def test_refusals_are_one_line(cli: Cli, two: tuple[int, int]) -> None:
    assert "'Meeting booked' needs a date" in cli.refused("work", "meeting", str(two[0])).err
    assert "needs a reason: Unable to reach" in cli.refused("work", "lost", str(two[0])).err
    assert "which lead? leaddesk work emailed REF" in cli.refused("work", "emailed").err
    assert "unknown outcome 'dance'" in cli.refused("work", "dance", str(two[0])).err
    cli.refused("work", "emailed", "999", code=3)
    assert cli.show(two[0])["activities"] == []


def test_skip_names_the_next_lead_and_changes_nothing(cli: Cli, two: tuple[int, int]) -> None:
    before = cli.show(two[0])
    assert cli.ok("work", "skip", str(two[0])).out.startswith(f"next: #{two[1]} Bob Stone")
    assert cli.show(two[0]) == before


def test_qualify_is_the_qualify_command(cli: Cli, two: tuple[int, int]) -> None:
    result = cli.ok("work", "qualify", str(two[0]))
    assert f"#{two[0]} Ann Lee (Acme) · Qualified · qualified, deal " in result.out
    assert result.out.splitlines()[-1].startswith(f"next: #{two[1]} ")


def test_the_list_and_everyone_s_queue(cli: Cli, two: tuple[int, int]) -> None:
    rows = cli.ok("work", "--list", "--json").json()
    assert [r["number"] for r in rows] == list(two)
    assert "follow-up overdue since Mar 2" in cli.ok("work", "--list").out
    cli.ok("user", "add", "bob")
    assert cli.ok("--user", "bob", "work").out == "nothing to work: the queue is empty\n"
    refused = cli.refused("--user", "bob", "work", "--all")
    assert "only a manager or an admin may work everyone's queue" in refused.err
    assert [r["number"] for r in cli.ok("work", "--all", "--list", "--json").json()] == list(two)


def test_the_loop_on_a_terminal(cli: Cli, two: tuple[int, int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(work_module, "_interactive", lambda: True)
    # lead 1: no answer with a note; lead 2: a bad key, then lost with reason number 6 (Budget) and no note.
    monkeypatch.setattr("sys.stdin", io.StringIO("1\nvoicemail\nx\n5\n6\n\n"))
    result = cli("work")
    assert result.code == 0, str(result)
    assert "leaddesk: 'x' is not a key: choose 1, 2, 3, 4, 5, 6, 7, n, p or q" in result.err
    assert "Called, no answer" in result.out and "Not interested: lost" in result.out
    assert result.out.rstrip().endswith("nothing left to work: the queue is done")
    assert cli.show(two[0])["followup"] == "2026-03-05" and cli.show(two[1])["lost_reason"] == "Budget"


def test_the_loop_steps_and_quits(cli: Cli, two: tuple[int, int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(work_module, "_interactive", lambda: True)
    monkeypatch.setattr("sys.stdin", io.StringIO("n\nn\np\nq\n"))
    result = cli("work")
    assert result.code == 0 and result.err == "that is the last lead of the queue\n", str(result)
    cards = [line for line in result.out.splitlines() if line.startswith("#")]
    assert [c.split()[0] for c in cards] == [f"#{two[0]}", f"#{two[1]}", f"#{two[1]}", f"#{two[0]}"]
    assert cli.show(two[0])["activities"] == [] and cli.show(two[1])["activities"] == []
