"""`leaddesk followup REF WHEN|done|none [--at] [--note]` and `leaddesk followups` through the real entry point:
output, JSON, refusals and the exit code (2 when something is overdue). Now is Wednesday 2026-03-04 10:00 UTC."""

from __future__ import annotations

import pytest
from clisupport import ANN, BOB, Cli, run_process


@pytest.fixture
def two(cli: Cli) -> dict[str, int]:
    """ann's lead (Ann Lee) and bob's (Bob Stone), without follow-ups."""
    cli.ok("user", "add", "bob")
    return {"ann": cli.add(**ANN), "bob": cli.add(**BOB, owner="bob")}


def test_followup_with_a_time_and_a_note(cli: Cli, two: dict[str, int]) -> None:
    out = cli.ok("followup", "1", "tomorrow", "--at", "2pm", "--note", "call about the quote").out
    assert out == "#1 Ann Lee (Acme) · New · follow-up 2026-03-05 at 14:00 (tomorrow) · call about the quote\n"
    out = cli.ok("followup", "1", "fri", "at", "9:30").out  # the time in the date; the note is kept
    assert out == "#1 Ann Lee (Acme) · New · follow-up 2026-03-06 at 09:30 (in 2 days) · call about the quote\n"
    shown = cli.show(1)
    assert (shown["followup"], shown["followup_time"], shown["followup_note"], shown["followup_due"]) == (
        "2026-03-06", "09:30", "call about the quote", "upcoming")
    assert "Follow-up       2026-03-06 at 09:30 (in 2 days)" in cli.ok("show", "1").out
    assert "Follow-up note  call about the quote" in cli.ok("show", "1").out


def test_a_time_passed_today_is_overdue(cli: Cli, two: dict[str, int]) -> None:
    out = cli.ok("followup", "1", "today", "--at=9:00").out
    assert out.endswith("follow-up 2026-03-04 at 09:00 (today, overdue)\n")
    assert cli.ok("followup", "1", "--json", "today", "--at", "11:00").json()["followup_due"] == "today"


def test_followup_done_and_none(cli: Cli, two: dict[str, int]) -> None:
    cli.ok("followup", "1", "tomorrow", "--note", "send the brochure")
    assert cli.ok("followup", "1", "done", "--note", "sent").out == "#1 Ann Lee (Acme) · New · follow-up done\n"
    shown = cli.show(1)
    assert (shown["followup"], shown["followup_note"]) == (None, "")
    assert [a["body"] for a in shown["activities"]] == ["follow-up done: sent"]
    assert cli.refused("followup", "1", "done").err == "leaddesk: lead 1 has no follow-up to mark done\n"
    cli.ok("followup", "1", "+1w", "--at", "8am", "--note", "x")
    assert cli.ok("followup", "1", "none").out == "#1 Ann Lee (Acme) · New · follow-up cleared\n"
    assert (cli.show(1)["followup_time"], cli.show(1)["followup_note"]) == (None, "")
    history = cli.ok("history", "1", "--json").json()
    assert [h["field"] for h in history if h["action"] == "followup"][-3:] == [
        "followup", "followup_time", "followup_note"]


@pytest.mark.parametrize(("argv", "message", "code"), [
    (["followup", "1", "tomorrow", "--at", "25:00"], "follow-up time: can't read time '25:00'", 1),
    (["followup", "1", "tomorrow", "--at"], "--at needs a value", 1),
    (["followup", "1", "tomorrow", "--when", "x"], "no such option --when", 1),
    (["followup", "1", "none", "--note", "call"], "a follow-up time or note needs a follow-up date", 1),
    (["followup", "1", "done", "--at", "9:00"], "--at does not go with done", 1),
    (["followup", "1", "tomorrow 9:00", "--at", "10:00"], "give the follow-up time once", 1),
    (["followup", "9", "tomorrow"], "no lead matches '9'", 3),
])
def test_followup_refusals(cli: Cli, two: dict[str, int], argv: list[str], message: str, code: int) -> None:
    assert message in cli.refused(*argv, code=code).err
    assert cli.show(1)["followup"] is None


def test_followup_help_is_the_full_clis(cli: Cli) -> None:
    out = cli.ok("followup", "--help").out
    assert "--at" in out and "--note" in out and "done" in out


# -- the agenda on the command line ------------------------------------------------------------------
@pytest.fixture
def agenda(cli: Cli, two: dict[str, int]) -> Cli:
    """ann: #1 overdue (Monday), #3 today 15:00, #4 tomorrow; bob: #2 today 09:00 (overdue); #5 none."""
    cli.add(name="Cy Dee")
    cli.add(name="Di Eve")
    cli.add(name="Ed Fox")
    cli.ok("followup", "1", "2026-03-02", "--note", "chase the invoice")
    cli.ok("followup", "2", "today", "--at", "9:00")
    cli.ok("followup", "3", "today 15:00")
    cli.ok("followup", "4", "tomorrow")
    return cli


def test_followups_groups_by_day_and_exits_2_when_something_is_overdue(agenda: Cli) -> None:
    result = agenda("followups")
    assert result.code == 2 and result.err == "", str(result)
    lines = result.out.splitlines()
    titles = [line.strip() for line in lines if line.strip().startswith(("Overdue", "Today", "Tomorrow"))]
    assert titles == ["Overdue (2)", "Today (1)", "Tomorrow (1)"]
    body = result.out
    assert body.index("Ann Lee") < body.index("Bob Stone") < body.index("Cy Dee") < body.index("Di Eve")
    assert "chase the invoice" in body and "15:00" in body
    assert lines[-1] == "4 follow-ups, 2 overdue"


def test_followups_mine_due_and_json(agenda: Cli) -> None:
    mine = agenda("followups", "--mine", "--json")
    assert mine.code == 2
    data = mine.json()
    assert (data["total"], data["overdue"], data["now"]) == (3, 1, "2026-03-04T10:00")
    assert [(f["number"], f["day"], f["time"], f["due"]) for f in data["followups"]] == [
        (1, "Overdue", None, "overdue"), (3, "Today", "15:00", "today"), (4, "Tomorrow", None, "upcoming")]
    assert [g["day"] for g in data["groups"]] == ["Overdue", "Today", "Tomorrow"]
    today = agenda("followups", "--due", "today", "--json").json()
    assert [f["number"] for f in today["followups"]] == [1, 2, 3]
    assert [f["number"] for f in agenda("followups", "--due", "overdue", "--json").json()["followups"]] == [1, 2]
    assert [f["number"] for f in agenda("followups", "--owner", "bob", "--json").json()["followups"]] == [2]


def test_followups_exit_0_when_nothing_is_overdue(agenda: Cli) -> None:
    agenda.ok("followup", "1", "done")
    agenda.ok("followup", "2", "tomorrow")
    result = agenda.ok("followups", "--due", "week")
    assert result.out.splitlines()[-1] == "3 follow-ups, 0 overdue"
    assert agenda.ok("followups", "--due", "overdue", "--json").json()["followups"] == []
    assert agenda.ok("followups", "--limit", "1").out.splitlines()[-1] == "3 follow-ups, 0 overdue (showing 1;" \
        " --limit 0 for all)"


def test_followups_refuses_an_unknown_window(agenda: Cli) -> None:
    result = agenda("followups", "--due", "soon")
    assert result.code == 1 and "soon" in result.err and "Traceback" not in result.err


def test_followups_help_documents_the_exit_code(cli: Cli) -> None:
    out = cli.ok("followups", "--help").out
    assert "0 when none of the listed follow-ups is overdue, 2 when one is" in " ".join(out.split())


def test_followups_exit_code_in_a_real_process(agenda: Cli) -> None:
    result = run_process("--db", str(agenda.db), "followups", "--due", "today", "--mine", cwd=agenda.db.parent)
    assert result.code == 2, str(result)
    assert "Overdue (1)" in result.out
