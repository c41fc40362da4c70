"""Hostile input is shown literally: control characters as visible escapes, Rich markup untouched,
and no raw ESC byte ever reaches the terminal (stdout or stderr)."""

from __future__ import annotations

from pathlib import Path

import pytest
from clisupport import Cli, assert_one_line_refusal, run_process

NAME = "Evil\x1b[2J [red]x[/red]"
NAME_SHOWN = "Evil\\x1b[2J [red]x[/red]"
COMPANY = "Co\x1b]0;pwned\x07 [bold]Inc[/bold]"
COMPANY_SHOWN = "Co\\x1b]0;pwned\\x07 [bold]Inc[/bold]"
BIDI = "Abc\u202edef"
BIDI_SHOWN = "Abc\\u202edef"


@pytest.fixture
def evil(cli: Cli) -> int:
    result = cli.ok("add", "--name", NAME, "--company", COMPANY, "--email", "evil@x.example.com",
                    "--description", "line one\n\x1b[31mred\x1b[0m [link=http://x]y[/link]")
    assert result.out == f"added #1 {NAME_SHOWN} ({COMPANY_SHOWN}) · New\n"
    return 1


def assert_clean(text: str) -> None:
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "\u202e" not in text


def test_show_text_is_literal(cli: Cli, evil: int) -> None:
    cli.ok("note", str(evil), "ping \x1b[5m[blink]now[/blink]")
    out = cli.ok("show", str(evil)).out
    assert_clean(out)
    assert f"Contact         {NAME_SHOWN}\n" in out
    assert f"Company         {COMPANY_SHOWN}\n" in out
    assert out.startswith(f"#{evil}  {COMPANY_SHOWN}\n")
    assert "    \\x1b[31mred\\x1b[0m [link=http://x]y[/link]\n" in out
    assert "ann: ping \\x1b[5m[blink]now[/blink]" in out


def test_list_table_is_literal(cli: Cli, evil: int) -> None:
    out = cli.ok("list").out
    assert_clean(out)
    row = out.splitlines()[2]
    assert [c.strip() for c in row.split("│")][1:3] == [NAME_SHOWN, COMPANY_SHOWN]


def test_json_keeps_the_exact_value_escaped(cli: Cli, evil: int) -> None:
    for args in (["show", str(evil), "--json"], ["list", "--json"]):
        result = cli.ok(*args)
        assert_clean(result.out)
        assert "\\u001b[2J [red]x[/red]" in result.out
    assert cli.show(evil)["contact_name"] == NAME
    assert cli.show(evil)["company"] == COMPANY
    assert cli.ok("list", "--json").json()[0]["contact"] == NAME


def test_other_tables_are_literal(cli: Cli, evil: int) -> None:
    cli.ok("qualify", str(evil), "--title", "Deal \x1b[2J [i]t[/i]")
    cli.ok("deal", "quote", "1", "Line \x1b[1m[b]q[/b]", "--price", "1")
    cli.ok("edit", str(evil), "--zone", BIDI)
    outputs = {
        "lookup": cli.ok("lookup", "evil@x.example.com").out,
        "history": cli.ok("history", str(evil)).out,
        "customer list": cli.ok("customer", "list").out,
        "customer show": cli.ok("customer", "show", "1").out,
        "deal list": cli.ok("deal", "list").out,
        "deal show": cli.ok("deal", "show", "1").out,
        "show": cli.ok("show", str(evil)).out,
    }
    for what, out in outputs.items():
        assert "\x1b" not in out and "\u202e" not in out, what
    assert NAME_SHOWN in outputs["lookup"]
    assert NAME_SHOWN in outputs["history"]
    assert COMPANY_SHOWN in outputs["customer list"]
    assert f"customer 1  {COMPANY_SHOWN} (company)" in outputs["customer show"]
    assert "Deal \\x1b[2J [i]t[/i]" in outputs["deal list"]
    assert "deal 1  Deal \\x1b[2J [i]t[/i]" in outputs["deal show"]
    assert "1 × Line \\x1b[1m[b]q[/b] @ 1.00" in outputs["deal show"]
    assert f"Zone            {BIDI_SHOWN}" in outputs["show"]


def test_list_entries_are_literal(cli: Cli) -> None:
    result = cli.ok("sources", "add", "Web\x1b[2J[red]site[/red]")
    assert result.out == "source 'Web\\x1b[2J[red]site[/red]' added\n"
    out = cli.ok("sources").out
    assert_clean(out)
    assert "Web\\x1b[2J[red]site[/red]" in out


def test_refusals_echo_input_literally(cli: Cli, evil: int) -> None:
    for args in (["status", str(evil), "\x1b[2J[red]x"], ["list", "--status", "\x1b[2J[red]x"],
                 ["show", "\x1b[2J"], ["lost", str(evil), "--reason", "\x1b[2J"]):
        result = cli(*args)
        line = assert_one_line_refusal(result, 3 if args[0] == "show" else 1)
        assert "\\x1b[2J" in line
        assert_clean(result.out)


def test_multiline_input_in_a_refusal_stays_one_line(cli: Cli, evil: int) -> None:
    line = assert_one_line_refusal(cli("status", str(evil), "new\nline\rtwo"))
    assert "\r" not in line
    assert "new" in line and "line" in line and "two" in line


def test_qualify_match_title_is_literal(cli: Cli) -> None:
    cli.add(company="Known", email="dup@x.example.com")
    cli.ok("qualify", "1")
    cli.ok("add", "--company", "Dup", "--email", "dup@x.example.com", "--phone", "[b]55[/b]", "--force")
    result = cli("qualify", "[b]55[/b]")
    assert_one_line_refusal(result)
    assert "Customers matching lead [b]55[/b]" in result.out


def test_real_process_writes_no_escape_bytes(cli: Cli, evil: int, tmp_path: Path) -> None:
    cli.ok("note", str(evil), "\x1b[2J")
    for args in (["show", str(evil)], ["list"], ["history", str(evil)]):
        result = run_process("--db", str(cli.db), *args, cwd=tmp_path)
        assert result.code == 0, str(result)
        assert_clean(result.out)
        assert result.err == ""
        assert NAME_SHOWN in result.out
    refused = run_process("--db", str(cli.db), "status", str(evil), "\x1b[2J", cwd=tmp_path)
    assert assert_one_line_refusal(refused).startswith("leaddesk: unknown status '\\x1b[2J'")


@pytest.mark.parametrize("login", ["two words", "x\x1b[2Jy"])
def test_acting_login_follows_the_login_rule(cli: Cli, login: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADDESK_USER", login)
    assert_one_line_refusal(cli("add", "--company", "Who"))
    assert_one_line_refusal(cli("--user", login, "add", "--company", "Who"))
