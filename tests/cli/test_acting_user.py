"""Commands that run unattended act as whoever runs them (`capture-email` from cron or a mail filter, `intake` as
a service): an OS login that is not a user of the desk, or a deactivated one, gets the store's one-line refusal,
once, before anything is read or served: never a traceback, never one failure per message (issue 5)."""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import pytest
from clisupport import Cli

MAIL = Path(__file__).parents[1] / "fixtures" / "mail"
UNKNOWN = "leaddesk: 'zed' is not a user of this desk: ask a manager to run `leaddesk user add zed`\n"
INACTIVE = "leaddesk: user 'bob' is deactivated on this desk: ask a manager to run `leaddesk user activate bob`\n"
TOKEN = "a-token-long-enough-for-intake"


@pytest.fixture
def maildir(tmp_path: Path) -> Path:
    root = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True)
    shutil.copyfile(MAIL / "plain.eml", root / "new" / "1772528100.M1P1.host")
    return root


def leads(cli: Cli) -> int:
    return len(cli.ok("list", "--json").json())


@pytest.mark.parametrize("source", ["mbox", "maildir"])
def test_capturing_a_mailbox_as_an_unknown_or_deactivated_user_is_refused_once(
        cli: Cli, maildir: Path, monkeypatch: pytest.MonkeyPatch, source: str) -> None:
    args = [str(MAIL / "three.mbox")] if source == "mbox" else ["--maildir", str(maildir)]
    monkeypatch.setenv("LEADDESK_USER", "zed")  # as if run by the OS user zed
    result = cli("capture-email", *args)
    assert (result.code, result.out, result.err) == (1, "", UNKNOWN)
    monkeypatch.setenv("LEADDESK_USER", "ann")
    cli.ok("user", "add", "bob")
    cli.ok("user", "deactivate", "bob")
    result = cli("--user", "bob", "capture-email", *args)
    assert (result.code, result.out, result.err) == (1, "", INACTIVE)
    assert leads(cli) == 0
    assert cli("capture-email", *args, "--json").json()["counts"]["created"] >= 1  # ann may


def test_capturing_one_message_as_an_unknown_user_is_refused_in_one_line(
        cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    result = cli("--user", "zed", "capture-email", str(MAIL / "plain.eml"))
    assert (result.code, result.out) == (1, "")
    assert result.err == UNKNOWN.replace("leaddesk: ", f"leaddesk: {MAIL / 'plain.eml'}: ")
    stream = io.TextIOWrapper(io.BytesIO((MAIL / "plain.eml").read_bytes()), encoding="utf-8")
    monkeypatch.setattr(stream, "isatty", lambda: False)
    monkeypatch.setattr(sys, "stdin", stream)
    result = cli("--user", "zed", "capture-email")
    assert (result.code, result.err) == (1, UNKNOWN.replace("leaddesk: ", "leaddesk: stdin: "))
    assert leads(cli) == 0


def test_intake_as_an_unknown_user_is_refused_before_it_listens(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from leaddesk import intake

    served: list[int] = []
    # never blocks the test:
    monkeypatch.setattr(intake, "serve", lambda server, on_ready=None: served.append(server.port))
    monkeypatch.setenv("LEADDESK_INTAKE_TOKEN", TOKEN)
    result = cli("--user", "zed", "intake", "--port", "0")
    assert (result.code, result.out, result.err) == (1, "", UNKNOWN)
    cli.ok("user", "add", "bob")
    cli.ok("user", "deactivate", "bob")
    result = cli("--user", "bob", "intake", "--port", "0")
    assert (result.code, result.out, result.err) == (1, "", INACTIVE)
    assert served == []
    result = cli("intake", "--port", "0")  # ann may: it listens
    assert result.code == 0 and len(served) == 1, str(result)
