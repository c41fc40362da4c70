"""`leaddesk import` and `leaddesk export` through the real entry point: summaries, refusals, batches, undo,
the round trip, and an import killed half way that leaves the database whole and untouched."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import pytest
from clisupport import ANN, Cli, run_process
from importfiles import copy_fixtures, read_csv, write_csv


@pytest.fixture
def files(tmp_path: Path) -> Path:
    return copy_fixtures(tmp_path)


def test_import_prints_each_problem_and_the_summary(cli: Cli, files: Path) -> None:
    cli.add(**ANN)  # +1 212 555 0100: line 11 of bad_rows.csv is a duplicate of it
    result = cli.ok("import", str(files / "bad_rows.csv"))
    lines = result.out.splitlines()
    assert lines[0].startswith("rejected: line 3, column 'email': email 'bad-at-example.com' is not valid")
    assert lines[3] == ("warning: line 6, column 'phone': phone 'call me maybe' is not a full number:"
                        " imported as typed, not used to find duplicates")
    assert lines[-3] == "duplicate: line 11, column 'phone': same phone as lead 1: skipped (--on-duplicate skip)"
    assert lines[-2] == (f"imported 2 of 10 rows from {files / 'bad_rows.csv'} (batch 1): 0 updated,"
                         " 3 duplicates skipped, 5 rejected, 1 warning")
    assert lines[-1] == (f"rows not imported, with the reason, are in {files / 'bad_rows.errors.csv'}"
                         " (fix them and import that file)")
    assert cli.show(2)["contact_name"] == "Good One"


def test_import_json_dry_run_and_map(cli: Cli, files: Path) -> None:
    dry = cli.ok("import", str(files / "hubspot.csv"), "--dry-run", "--json",
                 "--map", "Lifecycle Stage=source_detail", "--map", "Record ID=-").json()
    assert (dry["dry_run"], dry["batch"], dry["imported"], dry["notes"]) == (True, None, 2, [])
    assert {"column": "Record ID", "field": "-"} in dry["mapping"]
    assert cli.ok("list", "--json").json() == []
    text = cli.ok("import", str(files / "seed001.csv"), "--dry-run").out
    assert text.endswith(f"dry run, nothing written: would import 3 of 3 rows from {files / 'seed001.csv'}:"
                         " 0 updated, 0 duplicates skipped, 0 rejected, 0 warnings\n")
    assert cli.ok("import", "--list", "--json").json() == []


def test_import_preview_shows_the_mapping(cli: Cli, files: Path) -> None:
    shown = cli.ok("import", str(files / "bom_semicolon.csv"), "--preview", "--json").json()
    assert (shown["encoding"], shown["delimiter"], shown["rows"]) == ("utf-8-sig", ";", 3)
    assert [m["field"] for m in shown["mapping"]] == ["name", "email", "phone", "company", "description"]
    assert shown["sample"][0]["values"]["description"] == "First line\nsecond line; still notes"
    text = cli.ok("import", str(files / "hubspot.csv"), "--preview").out
    assert "Lifecycle Stage │ (unknown: kept in the description)" in text


def test_import_refusals_are_one_line(cli: Cli, files: Path) -> None:
    assert cli.refused("import").err == "leaddesk: give a file to import (or --list, or --undo BATCH)\n"
    assert cli.refused("import", str(files / "seed001.csv"), "--map", "phone").err.startswith(
        "leaddesk: --map takes \"Header=field\"")
    assert cli.refused("import", str(files / "seed001.csv"), "--map", "phone=shoe").err.startswith(
        "leaddesk: --map: unknown field 'shoe'")
    assert cli.refused("import", str(files / "nope.csv"), code=3).err == (
        f"leaddesk: there is no file {files / 'nope.csv'}\n")
    (files / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    assert cli.refused("import", str(files / "old.xls")).err == (
        "leaddesk: old.xls: save it as .xlsx or .csv first (this format is not read)\n")
    assert cli.refused("import", "--undo", "7", code=3).err == (
        "leaddesk: there is no import batch 7 (see `leaddesk import --list`)\n")


def test_list_and_undo(cli: Cli, files: Path) -> None:
    cli.ok("import", str(files / "seed001.csv"), "--require", "none")
    cli.ok("note", "2", "called back")
    listed = cli.ok("import", "--list").out
    assert "seed001.csv" in listed and "done" in listed
    batch = cli.ok("import", "--list", "--json").json()[0]
    assert (batch["id"], batch["user"], batch["imported"], batch["leads"]) == (1, "ann", 3, 3)
    undone = cli.ok("import", "--undo", "1").out
    assert undone == "import batch 1: removed 2 leads\nkept 1 lead changed since the import: 2\n"
    assert [r["number"] for r in cli.ok("list", "--json").json()] == [2]
    assert cli.ok("import", "--list", "--json").json()[0]["state"] == "undone"


def test_export_then_import_round_trips(cli: Cli, fresh: Cli, files: Path, tmp_path: Path) -> None:
    cli.add(**ANN)
    cli.ok("edit", "1", "--tags", "vip, north", "--followup", "2026-03-20", "--expected-revenue", "1,500",
           "--description", "Line one\nline two")
    cli.add(name="Bob Stone", company="Bolt", source="Event")
    assert cli.ok("export", "-o", str(tmp_path / "out.csv"), "--source", "referral").out == (
        f"exported 1 lead to {tmp_path / 'out.csv'}\n")
    assert [r[1] for r in read_csv(tmp_path / "out.csv")] == ["contact_name", "Ann Lee"]
    fresh.ok("init")
    fresh.ok("import", str(tmp_path / "out.csv"))
    before, after = cli.show(1), fresh.show(1)
    for key in ("contact_name", "company", "phone", "email", "source", "status", "tags", "followup",
                "expected_revenue", "description", "owner", "priority", "title", "first_name", "last_name"):
        assert after[key] == before[key], key
    stdout = cli.ok("export", "-o", "-", "--format", "json", "--open").json()
    assert [r["contact_name"] for r in stdout] == ["Ann Lee", "Bob Stone"]
    assert cli.refused("export", "-o", str(tmp_path / "x.pdf")).err.startswith(
        "leaddesk: cannot tell the format of")


def test_a_killed_import_leaves_nothing_half_written(cli: Cli, db_path: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "big.csv", [["Name", "Email", "Phone"], *(
        [f"Person {i}", f"p{i}@example.com", f"+1 212 555 {i:04d}"] for i in range(1500))])
    cli.add(**ANN)
    with sqlite3.connect(db_path) as conn:
        before = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("lead", "history", "import_batch", "setting")}
    conn.close()
    killed = run_process("--db", str(db_path), "import", str(path), cwd=tmp_path,
                         env={"LEADDESK_TEST_KILL_AFTER_ROWS": "600"})
    assert killed.code == -signal.SIGKILL, str(killed)  # killed once 1000 rows (two chunks) were written
    assert not (tmp_path / "big.errors.csv").exists()  # only a .part file, never a complete-looking one
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        after = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                 for t in ("lead", "history", "import_batch", "setting")}
    conn.close()
    assert after == before
    done = cli.ok("import", str(path), "--json").json()  # and the desk is usable: the same file imports whole
    assert (done["imported"], done["duplicates"], done["batch"]) == (1499, 1, 1)  # row 101 has Ann's phone
    assert (tmp_path / "big.errors.csv").exists() and not (tmp_path / "big.errors.csv.part").exists()
