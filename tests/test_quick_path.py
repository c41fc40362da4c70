"""The quick commands (status, note, followup, show) stay off the heavy imports.

Each command runs in a fresh interpreter that calls `leaddesk.cli.main` and then
reports `sys.modules`; the test asserts which top-level packages were never
imported. Only the module set is asserted here, never a time: speed is measured
by `bench/cli.py`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from leaddesk import clock
from leaddesk.store.desk import Desk

# Packages the quick path must never import (the full CLI, the TUI, the ORM and migrations).
HEAVY = ("textual", "typer", "rich", "click", "sqlalchemy", "sqlmodel", "alembic", "pydantic")
# Needed only to read a phone or check an email: off the path for a lead number.
CONTACT_LIBS = ("phonenumbers", "email_validator")

MARKER = "--quick-path-modules--"
PROBE = f"""
import json, sys
from leaddesk.cli import main
code = 0
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print({MARKER!r} + json.dumps({{"code": code, "modules": sorted(sys.modules)}}))
"""

PHONE = "(555) 010-0100"
EMAIL = "Ann.Lee@Acme.com"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A desk with lead 1 (Ann Lee, status New, with a phone and an email)."""
    path = tmp_path / "quick.db"
    desk = Desk.open(str(path))
    try:
        lead = desk.add_lead({"name": "Ann Lee", "company": "Acme", "phone": PHONE, "email": EMAIL})
    finally:
        desk.close()
    assert lead["number"] == 1 and lead["status"] == "New"
    return path


def run_quick(db: Path, *argv: str) -> tuple[str, set[str]]:
    """Run `leaddesk ARGV` in a subprocess; return its output and the top-level packages it imported.

    Also checks that the command went through the quick path (`leaddesk.cli.quick`, not the Typer app).
    """
    env = dict(os.environ)
    env["LEADDESK_DB"] = str(db)
    assert env.get("LEADDESK_USER") and not Path(env["LEADDESK_CONFIG"]).exists()  # set by conftest
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    output, _, report = done.stdout.rpartition(MARKER)
    assert report, f"no module report: {done.stdout!r} {done.stderr!r}"
    result = json.loads(report)
    assert result["code"] == 0, f"leaddesk {' '.join(argv)} exited {result['code']}: {done.stderr}"
    modules = set(result["modules"])
    assert "leaddesk.cli.quick" in modules and "leaddesk.cli.app" not in modules
    return output, {name.split(".")[0] for name in modules}


def show(db: Path) -> dict[str, Any]:
    """Lead 1 as the service layer reads it back."""
    desk = Desk.open(str(db))
    try:
        return desk.show("1")
    finally:
        desk.close()


def assert_not_imported(imported: set[str], forbidden: tuple[str, ...]) -> None:
    """None of `forbidden` (top-level package names) was imported."""
    assert not imported & set(forbidden), f"the quick path imported {sorted(imported & set(forbidden))}"


def test_status_by_number_writes_and_stays_lean(db: Path) -> None:
    output, imported = run_quick(db, "status", "1", "contacted")
    assert_not_imported(imported, HEAVY + CONTACT_LIBS)
    assert "#1 Ann Lee (Acme) · Contacted" in output
    lead = show(db)
    assert lead["status"] == "Contacted"
    assert lead["version"] == 2


def test_show_by_number_reads_and_stays_lean(db: Path) -> None:
    output, imported = run_quick(db, "show", "1")
    assert_not_imported(imported, HEAVY + CONTACT_LIBS)
    assert "#1" in output and "Ann Lee" in output and "New" in output
    assert show(db)["version"] == 1


def test_note_by_number_writes_and_stays_lean(db: Path) -> None:
    output, imported = run_quick(db, "note", "1", "called,", "left a message")
    assert_not_imported(imported, HEAVY + CONTACT_LIBS)
    assert "note added" in output
    activities = show(db)["activities"]
    assert [(a["kind"], a["body"]) for a in activities] == [("note", "called, left a message")]


def test_followup_by_number_writes_and_stays_lean(db: Path) -> None:
    output, imported = run_quick(db, "followup", "1", "+3d")
    assert_not_imported(imported, HEAVY + CONTACT_LIBS)
    expected = clock.today() + timedelta(days=3)
    assert f"follow-up {expected.isoformat()}" in output
    assert show(db)["followup_on"] == expected.isoformat()


def test_status_by_phone_works_on_the_quick_path(db: Path) -> None:
    output, imported = run_quick(db, "status", PHONE, "engaged")
    assert_not_imported(imported, (*HEAVY, "email_validator", "phonenumbers"))  # a US number takes the shortcut
    assert "#1 Ann Lee (Acme) · Engaged" in output
    assert show(db)["status"] == "Engaged"


def test_status_by_an_international_phone_reads_it_with_phonenumbers(db: Path) -> None:
    desk = Desk.open(str(db))
    desk.add_lead({"name": "Olga Berg", "phone": "+44 20 7946 0958"})
    desk.close()
    output, imported = run_quick(db, "status", "+44 (0)20 7946-0958", "engaged")
    assert_not_imported(imported, (*HEAVY, "email_validator"))
    assert "phonenumbers" in imported  # the phone was really read as a phone
    assert "#2 Olga Berg · Engaged" in output


def test_status_by_email_works_on_the_quick_path(db: Path) -> None:
    _output, imported = run_quick(db, "status", EMAIL.lower(), "contacted")
    assert_not_imported(imported, (*HEAVY, "phonenumbers"))
    assert show(db)["status"] == "Contacted"


def test_followup_with_time_and_note_then_done_stays_lean(db: Path) -> None:
    output, imported = run_quick(db, "followup", "1", "tomorrow", "--at", "2pm", "--note", "call about the quote")
    assert_not_imported(imported, HEAVY + CONTACT_LIBS)
    assert "at 14:00 (tomorrow) · call about the quote" in output
    lead = show(db)
    assert (lead["followup_time"], lead["followup_note"]) == ("14:00", "call about the quote")
    output, imported = run_quick(db, "followup", "1", "done", "--note=reached her")
    assert_not_imported(imported, HEAVY + CONTACT_LIBS)
    assert "follow-up done" in output
    lead = show(db)
    assert lead["followup_on"] is None
    assert [a["body"] for a in lead["activities"]] == ["follow-up done: reached her"]
