"""`leaddesk sequence list|show|status|start|stop|text` and the [sequences] settings, through the real entry
point (issue 6). The clock is 2026-03-04 (clisupport.NOW)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from clisupport import ANN, Cli, assert_one_line_refusal, header

SEQUENCES = """
[sequences.nurture]
description = "Not ready yet"
start_on_status = ["Attempted to contact"]
[[sequences.nurture.steps]]
after_days = 3
note = "Call again"
[[sequences.nurture.steps]]
after_days = 7
note = "Send the case study"
subject = "For {company}"
template = "Hello {first_name},\\n\\nthe study for {company}.\\n{my_name}"

[sequences.revive]
steps = [{ after_days = 1, note = "Check in" }]
"""


def settings(tmp_path: Path, text: str) -> None:
    config = tmp_path / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(text, encoding="utf-8")


@pytest.fixture
def seq(cli: Cli, tmp_path: Path) -> Cli:
    settings(tmp_path, SEQUENCES)
    return cli


def test_a_sequence_from_start_to_finish(seq: Cli, ann: int) -> None:
    listed = seq.ok("sequence", "list")
    assert header(listed.out) == ["Sequence", "Steps", "Starts on", "Running", "Description"]
    assert "nurture" in listed.out and "Attempted to contact" in listed.out

    started = seq.ok("sequence", "start", str(ann), "nurt")
    assert started.out == (f"lead #{ann} Ann Lee · sequence nurture: step 1 of 2 started · follow-up 2026-03-07"
                           " (in 3 days): Call again\n")
    assert (seq.show(ann)["followup"], seq.show(ann)["followup_note"]) == ("2026-03-07", "Call again")
    assert [(s["name"], s["running"]) for s in seq.ok("sequence", "list", "--json").json()] == [
        ("nurture", 1), ("revive", 0)]
    status = seq.ok("sequence", "status", str(ann))
    assert status.out == f"lead #{ann} Ann Lee · nurture: step 1 of 2 · next 2026-03-07 (in 3 days) · Call again\n"

    seq.ok("followup", str(ann), "done")  # the follow-ups command advances the sequence
    current = seq.ok("sequence", "status", str(ann), "--json").json()["current"]
    assert (current["step"], current["next_at"], current["has_text"]) == (2, "2026-03-11", True)
    text = seq.raw("--db", str(seq.db), "sequence", "text", str(ann))
    assert text.code == 0 and text.out == "Hello Ann,\n\nthe study for Acme.\nann\n"  # only the text on stdout
    assert text.err == f"lead #{ann} · nurture step 2 of 2 · to ann@acme.example.com · subject: For Acme\n"
    url = seq.ok("sequence", "text", str(ann), "--mailto").out.strip()
    assert url.startswith("mailto:ann@acme.example.com?subject=For%20Acme&body=Hello%20Ann%2C%0D%0A%0D%0A")
    assert parse_qs(urlsplit(url).query)["body"] == ["Hello Ann,\r\n\r\nthe study for Acme.\r\nann"]

    seq.ok("followup", str(ann), "done")  # the last step was done: the sequence is done
    status = seq.ok("sequence", "status", str(ann))
    assert status.out.startswith(f"lead #{ann} Ann Lee runs no sequence\n")
    assert [cell.strip() for cell in status.out.splitlines()[-1].split("│")][:3] == ["nurture", "done", "2 of 2"]


def test_show_lists_the_steps(seq: Cli) -> None:
    shown = seq.ok("sequence", "show", "nurture")
    lines = shown.out.splitlines()
    assert lines[:2] == ["nurture — Not ready yet", "starts on: Attempted to contact · running on 0 leads"]
    assert header("\n".join(lines[2:])) == ["#", "After", "When", "Note", "Subject", "Text"]
    assert "day 10" in shown.out and "Hello {first_name}," in shown.out  # the template as written
    steps = seq.ok("sequence", "show", "revive", "--json").json()["steps"]
    assert steps == [{"step": 1, "after_days": 1, "note": "Check in", "subject": "", "template": ""}]


def test_entering_a_status_starts_it_and_stop_stops_it(seq: Cli, ann: int) -> None:
    seq.ok("status", str(ann), "Attempted to contact")  # the quick path
    assert seq.ok("sequence", "status", str(ann), "--json").json()["current"]["sequence"] == "nurture"
    stopped = seq.ok("sequence", "stop", str(ann))
    assert stopped.out == f"lead #{ann} Ann Lee · sequence nurture: step 1 of 2 stopped (the follow-up stays)\n"
    assert seq.show(ann)["followup"] == "2026-03-07"
    replaced = seq.ok("sequence", "start", str(ann), "revive", "--json").json()
    assert [(r["sequence"], r["state"]) for r in replaced["history"]] == [("revive", "running"),
                                                                          ("nurture", "stopped")]
    seq.refused("sequence", "start", str(ann), "nurture")
    seq.ok("sequence", "start", str(ann), "nurture", "--replace")
    seq.ok("lost", str(ann), "--reason", "Not a fit")
    history = seq.ok("history", str(ann), "--json").json()
    assert [h["new"] for h in history if h["field"] == "sequence"][-1] == "nurture: stopped (lead lost)"


@pytest.mark.parametrize(("argv", "message"), [
    (["sequence", "start", "{ann}", "nope"], "unknown sequence 'nope': choose from nurture, revive"),
    (["sequence", "stop", "{ann}"], "lead 1 runs no sequence"),
    (["sequence", "text", "{ann}"], "lead 1 runs no sequence"),
    (["sequence", "show", "x"], "unknown sequence 'x': choose from nurture, revive"),
    (["sequence", "status", "99"], "no lead matches '99'"),
])
def test_refusals_are_one_line(seq: Cli, ann: int, argv: list[str], message: str) -> None:
    result = seq.refused(*(a.format(ann=ann) for a in argv), code=3 if "99" in argv else 1)
    assert result.err == f"leaddesk: {message}\n"


def test_refusals_about_the_step(seq: Cli) -> None:
    number = seq.add(name="Bo Stone", company="Bolt")  # no email address
    seq.ok("sequence", "start", str(number), "nurture")
    assert seq.refused("sequence", "text", str(number)).err == (
        "leaddesk: step 1 of sequence 'nurture' has no text to send, only a note: Call again\n")
    seq.ok("followup", str(number), "done")
    assert seq.refused("sequence", "text", str(number), "--mailto").err == (
        f"leaddesk: lead {number} has no email address to write to\n")
    assert seq.ok("sequence", "text", str(number), "--json").json()["mailto"] is None


def test_without_sequences_in_the_settings(cli: Cli, ann: int, tmp_path: Path) -> None:
    assert cli.ok("sequence", "list").out.startswith("no sequences are defined: add [sequences.NAME]")
    assert cli.ok("sequence", "list", "--json").json() == []
    cli.refused("sequence", "start", str(ann), "nurture")
    settings(tmp_path, "[sequences.a]\nsteps = [{ after_days = 1, template = 'Hi {firstname}' }]\n")
    line = assert_one_line_refusal(cli("sequence", "list"))
    assert "sequence 'a' step 1 template has unknown placeholder {firstname}" in line


def test_hostile_text_is_shown_literally(seq: Cli) -> None:
    company = "[bold red]Evil[/] {first_name} %s \x1b[2J"
    number = seq.add(**{**ANN, "company": company, "phone": "+1 212 555 0111", "email": "e@x.example.com"})
    seq.ok("sequence", "start", str(number), "nurture")
    seq.ok("followup", str(number), "done")
    shown = seq("sequence", "text", str(number))
    assert shown.code == 0 and "\x1b" not in shown.out + shown.err and "[bold red]Evil[/]" in shown.err
    assert shown.out == "Hello Ann,\n\nthe study for [bold red]Evil[/] {first_name} %s \\x1b[2J.\nann\n"
    assert seq.ok("sequence", "text", str(number), "--json").json()["body"].endswith("%s \x1b[2J.\nann")
    url = seq.ok("sequence", "text", str(number), "--mailto").out
    assert "\x1b" not in url and "[" not in url and parse_qs(urlsplit(url.strip()).query)["subject"] == [
        f"For {company}"]
