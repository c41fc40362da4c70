"""The installed entry point, exit codes, global options (--db/--user anywhere), LEADDESK_DB."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from clisupport import ANN, Cli, assert_one_line_refusal, flags, run_process


# -- real processes ----------------------------------------------------------------------------
def test_python_m_leaddesk_adds_shows_and_refuses(tmp_path: Path) -> None:
    added = run_process("--db", "p.db", "add", *flags(**ANN), cwd=tmp_path)
    assert added.code == 0, str(added)
    assert added.err == ""
    assert "added #1 Ann Lee (Acme)" in added.out

    shown = run_process("show", "1", "--json", "--db", "p.db", cwd=tmp_path)
    assert shown.code == 0, str(shown)
    assert shown.json()["contact_name"] == "Ann Lee"

    missing = run_process("--db", "p.db", "show", "99", cwd=tmp_path)
    assert missing.out == ""
    assert assert_one_line_refusal(missing, 3) == "leaddesk: no lead matches '99'"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["status", "1", "qualified"], 1),  # quick path, rule refusal
        (["note", "1"], 1),  # quick path, usage
        (["lookup", "zzz"], 1),  # Typer path, input refusal
        (["add", "--nme", "x"], 1),  # Typer usage error
        (["deal", "show", "7"], 3),
        (["status", "42", "contacted"], 3),
        (["edit", "1", "--company", "Other", "--if-version", "99"], 4),
    ],
    ids=["rule", "quick-usage", "input", "typer-usage", "deal-not-found", "lead-not-found", "conflict"],
)
def test_process_exit_codes_and_one_line_stderr(cli: Cli, ann: int, tmp_path: Path, args: list[str],
                                                code: int) -> None:
    result = run_process("--db", str(cli.db), *args, cwd=tmp_path)
    assert_one_line_refusal(result, code)


def test_installed_script(cli: Cli, ann: int, tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("leaddesk")
    if not script.exists():
        pytest.skip("no leaddesk console script beside the interpreter")
    ok = run_process("--db", str(cli.db), "list", "--json", cwd=tmp_path, script=True)
    assert ok.code == 0, str(ok)
    assert [row["number"] for row in ok.json()] == [ann]
    refused = run_process("--db", str(cli.db), "won", str(ann), "--value", "0", cwd=tmp_path, script=True)
    assert assert_one_line_refusal(refused) == "leaddesk: a won lead needs a job value greater than 0"


def test_process_uses_leaddesk_db_env(tmp_path: Path) -> None:
    target = tmp_path / "env.db"
    result = run_process("add", "--company", "EnvCo", cwd=tmp_path, env={"LEADDESK_DB": str(target)})
    assert result.code == 0, str(result)
    assert target.exists()
    assert not (tmp_path / "data" / "leaddesk.db").exists()


# -- global options anywhere on the line -------------------------------------------------------
@pytest.mark.parametrize("where", ["before", "after", "equals"])
def test_db_option_before_or_after_the_command(fresh: Cli, tmp_path: Path, where: str) -> None:
    target = str(tmp_path / "placed.db")
    args = ["add", "--company", "Placed"]
    argv = {"before": ["--db", target, *args], "after": [*args, "--db", target],
            "equals": [*args, f"--db={target}"]}[where]
    assert fresh.raw(*argv).code == 0
    shown = fresh.raw("show", "1", "--json", "--db", target)
    assert shown.code == 0, str(shown)
    assert shown.json()["company"] == "Placed"
    assert not fresh.db.exists()


@pytest.mark.parametrize("where", ["before", "after", "equals"])
def test_user_option_before_or_after_the_command(cli: Cli, where: str) -> None:
    args = ["add", "--company", "Owned"]
    argv = {"before": ["--user", "bob", *args], "after": [*args, "--user", "bob"],
            "equals": ["--user=bob", *args]}[where]
    cli.ok("user", "add", "bob")
    assert cli(*argv).code == 0
    assert cli.show(1)["owner"] == "bob"


@pytest.mark.parametrize("where", ["before", "after"])
def test_user_option_on_the_quick_path(cli: Cli, ann: int, where: str) -> None:
    args = ["note", str(ann), "called", "back"]
    argv = ["--user", "carl", *args] if where == "before" else [*args, "--user", "carl"]
    cli.ok("user", "add", "carl")
    cli.ok(*argv)
    [activity] = cli.show(ann)["activities"]
    assert (activity["user"], activity["body"]) == ("carl", "called back")


def test_acting_user_defaults_to_leaddesk_user(cli: Cli, ann: int) -> None:
    assert cli.show(ann)["owner"] == "ann"
    assert [r["number"] for r in cli.ok("list", "--mine", "--json").json()] == [ann]
    cli.ok("user", "add", "zed")
    assert cli.ok("--user", "zed", "list", "--mine", "--json").json() == []


def test_leaddesk_db_env_var_and_db_option_precedence(fresh: Cli, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    env_db = tmp_path / "from-env.db"
    monkeypatch.setenv("LEADDESK_DB", str(env_db))
    assert fresh.raw("add", "--company", "EnvCo").code == 0
    assert fresh.raw("db", "path").out.strip() == str(env_db)
    assert fresh.raw("show", "1", "--json").json()["company"] == "EnvCo"
    # --db wins over LEADDESK_DB
    assert fresh.raw("--db", str(fresh.db), "db", "path").out.strip() == str(fresh.db)
    # a read-only command does not create a missing database
    assert "there is no desk at" in assert_one_line_refusal(fresh.raw("--db", str(fresh.db), "show", "1"), 1)
    assert not fresh.db.exists()


def test_default_database_is_in_the_data_dir(fresh: Cli, tmp_path: Path) -> None:
    assert fresh.raw("db", "path").out.strip() == str(tmp_path / "data" / "leaddesk.db")
    assert fresh.raw("add", "--company", "Default").code == 0
    assert (tmp_path / "data" / "leaddesk.db").exists()


# -- help, no command, usage errors ------------------------------------------------------------
def test_help_exits_zero(cli: Cli) -> None:
    result = cli.ok("--help")
    assert result.out.startswith("Usage: leaddesk")
    assert "--db" in result.out
    # --help on a quick command goes to the full parser
    assert cli.ok("status", "--help").out.startswith("Usage: leaddesk status")


def test_no_command_shows_the_open_leads(cli: Cli, ann: int) -> None:
    cli.ok("lost", str(cli.add(company="Gone")), "--reason", "budget")
    result = cli.ok()
    assert "Ann Lee" in result.out
    assert "Gone" not in result.out


@pytest.mark.parametrize(
    "args",
    [["nosuch"], ["edit"], ["add", "--nme", "x"], ["deal", "show", "abc"], ["log", "1", "fax", "x"],
     ["init", "--preset", "bogus"], ["show"], ["status", "1"], ["status", "1", "new", "extra"],
     ["followup", "1"], ["list", "--limit", "many"]],
    ids=lambda a: " ".join(a),
)
def test_usage_errors_are_one_line(cli: Cli, args: list[str]) -> None:
    result = cli.refused(*args)
    assert result.out == ""


def test_unknown_command_hint_names_the_program_once(cli: Cli) -> None:
    line = cli.refused("nosuch").err
    assert "leaddesk leaddesk" not in line
    assert "(see leaddesk --help)" in line


@pytest.mark.parametrize(
    ("db", "message"),
    [("folder", "is a folder, not a file"), ("garbage.db", "file is not a database")],
)
def test_unusable_database_is_a_one_line_refusal(cli: Cli, tmp_path: Path, db: str, message: str) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "garbage.db").write_text("this is not sqlite\n" * 100)
    for args in (["list"], ["show", "1"], ["db", "upgrade"], ["init"], ["add", "--company", "X"]):
        line = assert_one_line_refusal(cli.raw("--db", str(tmp_path / db), *args))
        assert message in line
