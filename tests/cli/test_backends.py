"""The real entry point with `--db` on each backend: a new SQLite file, and a PostgreSQL URL when
LEADDESK_TEST_PG_URL is set (ids `sqlite` and `pg`, from the `fresh_db` fixture). The rest of the CLI suite
runs on SQLite only: these cover the commands a team uses most, and `db copy`, on the server too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from clisupport import ANN, BOB, Cli, run_process

PASSWORD = re.compile(r"://[^:/@]+:(?!\*\*\*@)[^@]+@")  # a URL that still holds its password


@pytest.fixture
def team(fresh_db: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    """`leaddesk --db TARGET init` on an empty database: ann is its admin."""
    cli = Cli(fresh_db, capsys)  # type: ignore[arg-type]  # a URL is not a Path: Cli only passes it on
    result = cli.ok("init")
    assert result.out.startswith("initialised with the 'sales' preset at ")
    assert not PASSWORD.search(result.out), result.out
    return cli


def test_add_show_status_qualify_list(team: Cli) -> None:
    ann = team.add(**ANN)
    bob = team.add(**BOB, zone="North")
    assert (ann, bob) == (1, 2)
    assert team.ok("status", str(ann), "contacted").out == f"#{ann} Ann Lee (Acme) · Contacted\n"
    shown = team.show(ann)
    assert (shown["status"], shown["version"], shown["owner"]) == ("Contacted", 2, "ann")
    qualified = team.ok("qualify", str(ann), "--title", "Acme rollout", "--value", "5,000").out
    assert qualified == f"#{ann} Ann Lee (Acme) · Qualified · customer 1 created, deal 1 opened\n"
    rows = team.ok("list", "--json").json()
    assert [(r["number"], r["status"], r["deals"]) for r in rows] == [(1, "Qualified", 1), (2, "New", 0)]
    by_zone = team.ok("list", "--sort", "zone", "--json").json()  # an empty zone sorts first, as on SQLite
    assert [r["number"] for r in by_zone] == [1, 2]
    assert [r["number"] for r in team.ok("list", "--sort", "zone", "--desc", "--json").json()] == [2, 1]
    assert [r["number"] for r in team.ok("list", "--search", "bolt", "--json").json()] == [2]


def test_the_quick_path_in_a_real_process(team: Cli, tmp_path: Path) -> None:
    team.add(**ANN)
    done = run_process("--db", str(team.db), "status", "1", "contacted", cwd=tmp_path)
    assert (done.code, done.err) == (0, ""), str(done)
    shown = run_process("--db", str(team.db), "show", "1", "--json", cwd=tmp_path)
    assert shown.json()["status"] == "Contacted", str(shown)
    missing = run_process("--db", str(team.db), "show", "9", cwd=tmp_path)
    assert (missing.code, missing.err) == (3, "leaddesk: no lead matches '9'\n")


def test_db_copy_through_the_entry_point(team: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    team.add(**ANN)
    team.ok("note", "1", "Called, wants a quote")
    target = tmp_path / "copy.db"
    result = team.ok("db", "copy", "--to", str(target))
    last = result.out.splitlines()[-1]
    from leaddesk.store.dbcopy import tables

    assert re.fullmatch(rf"copied \d+ rows in {len(tables())} tables from .* to {re.escape(str(target))} in [\d.]+ s;"
                        r" every table's count matches", last), last
    assert not PASSWORD.search(result.out), result.out
    assert re.search(r"^lead +│ 1 *$", result.out, re.MULTILINE), result.out  # the per-table counts
    copied = Cli(target, capsys)
    shown = copied.show(1)
    assert (shown["contact_name"], shown["activities"][0]["body"]) == ("Ann Lee", "Called, wants a quote")
    again = team.refused("db", "copy", "--to", str(target))
    assert "is not empty" in again.err
    as_json = team("db", "copy", "--to", str(tmp_path / "second.db"), "--json")
    assert as_json.code == 0, str(as_json)
    assert {t["table"]: t["rows"] for t in as_json.json()["tables"]}["lead"] == 1


def test_db_copy_is_for_managers(team: Cli, tmp_path: Path) -> None:
    team.ok("user", "add", "lee")
    refused = team.refused("--user", "lee", "db", "copy", "--to", str(tmp_path / "copy.db"))
    assert refused.err == "leaddesk: only a manager or an admin may copy the desk to another database; you are a rep\n"
    assert not (tmp_path / "copy.db").exists()
