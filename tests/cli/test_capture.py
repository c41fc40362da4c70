"""`leaddesk capture-email` (files, stdin, mbox, Maildir) and `leaddesk intake`'s refusals, through the entry point."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from clisupport import Cli, assert_one_line_refusal

MAIL = Path(__file__).parents[1] / "fixtures" / "mail"


def pipe(monkeypatch: pytest.MonkeyPatch, raw: bytes, *, tty: bool = False) -> None:
    """Make stdin a pipe carrying `raw` (or a terminal)."""
    stream = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8")
    monkeypatch.setattr(stream, "isatty", lambda: tty)
    monkeypatch.setattr(sys, "stdin", stream)


def test_a_message_file_becomes_a_lead(cli: Cli) -> None:
    result = cli.ok("capture-email", str(MAIL / "plain.eml"))
    assert result.out == "lead #1 Ann Lee · new lead from email\n"
    lead = cli.show(1)
    assert (lead["email"], lead["source"]) == ("Ann.Lee@Acme.example.com", "Inbound Email")
    assert [(a["kind"], a["at"]) for a in lead["activities"]] == [("email", "2026-03-03T08:15:00")]
    assert cli.ok("capture-email", str(MAIL / "reply.eml")).out == "lead #1 Ann Lee · email added\n"
    assert cli.ok("capture-email", str(MAIL / "reply.eml")).out == "lead #1 Ann Lee · already captured\n"


def test_a_message_piped_in_is_captured(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    pipe(monkeypatch, (MAIL / "encoded.eml").read_bytes())
    assert cli.ok("capture-email").out == "lead #1 Zoë Ångström · new lead from email\n"
    pipe(monkeypatch, (MAIL / "encoded.eml").read_bytes())
    assert cli.ok("capture-email", "-").out == "lead #1 Zoë Ångström · already captured\n"
    assert cli.show(1)["activities"][0]["body"].startswith("Angebot für 30 Lizenzen\n\nHallo,")


def test_a_terminal_on_stdin_is_refused_instead_of_waited_on(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    pipe(monkeypatch, b"", tty=True)
    assert "pipe a message in" in cli.refused("capture-email").err


def test_a_malformed_message_is_refused_in_one_line(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    pipe(monkeypatch, b"Subject: no sender\r\n\r\nbody\r\n")
    assert cli.refused("capture-email").err == "leaddesk: stdin: the message has no From: header\n"
    assert cli.refused("capture-email", str(MAIL / "missing.eml")).err.startswith("leaddesk: cannot read ")


def test_json_output(cli: Cli) -> None:
    data = cli.ok("capture-email", str(MAIL / "no_message_id.eml"), "--json").json()
    [entry] = data["messages"]
    assert entry["result"] == "created" and entry["number"] == 1 and entry["synthetic_id"] is True
    assert entry["email"] == "dana.ross@dunes.example.net" and entry["name"] == "dana.ross"
    assert data["counts"] == {"created": 1, "added": 0, "duplicate": 0, "skipped": 0, "failed": 0}


def test_hostile_names_and_subjects_are_shown_literally(cli: Cli) -> None:
    raw = b"From: =?UTF-8?Q?Evil_=1B]0;pwned=07_=1B[2J?= <evil@evil.example>\r\nSubject: hi\r\n\r\nbody\r\n"
    path = cli.db.parent / "evil.eml"
    path.write_bytes(raw)
    result = cli.ok("capture-email", str(path))
    assert "\x1b" not in result.out and "\x07" not in result.out
    assert "\\x1b]0;pwned\\x07" in result.out
    assert cli.show(1)["contact_name"] == "Evil \x1b]0;pwned\x07 \x1b[2J"  # stored as sent


def test_an_mbox_imports_every_message_and_reports_the_malformed_one(cli: Cli) -> None:
    result = cli("capture-email", str(MAIL / "three.mbox"))
    assert result.code == 1, str(result)  # some message failed; the others were captured
    assert result.out == ("lead #1 Eve Green · new lead from email\nlead #2 Frank Berg · new lead from email\n"
                          "3 messages: 2 new leads, 0 added to leads, 0 already captured, 0 skipped, 1 failed\n")
    assert result.err == ("leaddesk: three.mbox message 2: the message has no From: header\n"
                          "leaddesk: 1 message could not be captured; the others were\n")
    assert cli.show(2)["contact_name"] == "Frank Berg"


def test_mbox_by_option_whatever_the_name(cli: Cli) -> None:
    renamed = cli.db.parent / "archive.txt"
    renamed.write_bytes((MAIL / "three.mbox").read_bytes())
    result = cli("capture-email", "--mbox", str(renamed), "--json")
    assert result.code == 1
    assert [m["result"] for m in result.json()["messages"]] == ["created", "failed", "created"]


def _maildir(root: Path) -> Path:
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True)
    (root / "new" / "1772528100.M1P1.host").write_bytes((MAIL / "plain.eml").read_bytes())
    (root / "cur" / "1772640000.M2P2.host:2,S").write_bytes((MAIL / "reply.eml").read_bytes())
    return root


def test_a_maildir_run_twice_captures_nothing_new_the_second_time(cli: Cli) -> None:
    box = _maildir(cli.db.parent / "Maildir")
    first = cli.ok("capture-email", "--maildir", str(box))
    assert first.out == ("lead #1 Ann Lee · new lead from email\nlead #1 Ann Lee · email added\n"
                         "2 messages: 1 new lead, 1 added to leads, 0 already captured, 0 skipped, 0 failed\n")
    second = cli.ok("capture-email", "--maildir", str(box))
    assert second.out == "2 messages: 0 new leads, 0 added to leads, 2 already captured, 0 skipped, 0 failed\n"
    assert cli.ok("capture-email", "--maildir", str(box), "--quiet").out == ""  # cron stays silent
    (box / "new" / "1772800000.M3P3.host").write_bytes((MAIL / "html_only.eml").read_bytes())
    third = cli.ok("capture-email", "--maildir", str(box), "-q")
    assert third.out.startswith("lead #2 Bob Stone · new lead from email\n3 messages: 1 new lead")
    assert len(cli.show(1)["activities"]) == 2


def test_known_only_never_creates_leads(cli: Cli) -> None:
    box = _maildir(cli.db.parent / "Maildir")
    result = cli.ok("capture-email", "--maildir", str(box), "--known-only")
    assert result.out == "2 messages: 0 new leads, 0 added to leads, 0 already captured, 2 skipped, 0 failed\n"
    assert cli.ok("capture-email", str(MAIL / "plain.eml"), "--known-only").out == \
        "Ann Lee <Ann.Lee@Acme.example.com> · skipped: the sender is not a lead\n"


def test_not_a_maildir_and_conflicting_arguments_are_refused(cli: Cli) -> None:
    assert "is not a Maildir" in cli.refused("capture-email", "--maildir", str(cli.db.parent)).err
    cli.refused("capture-email", str(MAIL / "plain.eml"), "--maildir", str(cli.db.parent))


def test_a_message_piped_into_a_real_process(cli: Cli) -> None:
    """What mutt's `| leaddesk capture-email` does: a real process reading the message from a pipe."""
    env = {**os.environ, "LEADDESK_DB": str(cli.db)}
    done = subprocess.run([sys.executable, "-m", "leaddesk", "capture-email"], input=(MAIL / "plain.eml").read_bytes(),
                          capture_output=True, env=env, timeout=60, check=False, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == "lead #1 Ann Lee · new lead from email\n"


def test_intake_refuses_to_start_without_a_token(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEADDESK_INTAKE_TOKEN", raising=False)
    assert "intake needs a token" in cli.refused("intake", "--port", "0").err
    assert "too short" in cli.refused("intake", "--port", "0", "--token", "short").err
    monkeypatch.setenv("LEADDESK_INTAKE_TOKEN", "tiny")
    assert "too short" in cli.refused("intake", "--port", "0").err


def test_intake_serves_until_interrupted(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from leaddesk import intake

    served = []

    def fake_serve_forever(self: intake.IntakeServer, poll_interval: float = 0.5) -> None:
        served.append(self.port)
        assert self.on_ready is not None
        self.on_ready()  # what the real server calls once it answers
        raise KeyboardInterrupt

    monkeypatch.setattr(intake.IntakeServer, "serve_forever", fake_serve_forever)
    monkeypatch.setenv("LEADDESK_INTAKE_TOKEN", "a-long-enough-token-123")
    result = cli("intake", "--port", "0")
    assert result.code == 0, str(result)
    assert served and served[0] > 0
    lines = result.err.splitlines()
    assert lines[0] == f"intake: listening on http://127.0.0.1:{served[0]}/leads (Ctrl+C stops)"
    assert lines[-1] == "intake: stopped"


def test_intake_says_listening_only_once_it_answers(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Ctrl+C before the server is up (aiohttp still importing) stops it without the "listening" line."""
    from leaddesk import intake

    def interrupted_early(self: intake.IntakeServer, poll_interval: float = 0.5) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(intake.IntakeServer, "serve_forever", interrupted_early)
    monkeypatch.setenv("LEADDESK_INTAKE_TOKEN", "a-long-enough-token-123")
    result = cli("intake", "--port", "0")
    assert result.code == 0, str(result)
    assert result.err.splitlines() == ["intake: stopped"]


def test_hostile_refusal_is_one_line(cli: Cli) -> None:
    path = cli.db.parent / "bad.eml"
    path.write_bytes(b"From: \x1b[31m <nobody>\r\n\r\nbody")
    line = assert_one_line_refusal(cli("capture-email", str(path)))
    assert "\\x1b" in line
