"""Import and export: real files (encodings, delimiters, Excel, other CRMs' headers), every row checked like a
lead typed by hand, rejected rows with their reasons, duplicates, batches, undo, dry run, round trip."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from importfiles import copy_fixtures, read_csv, write_csv

from leaddesk.settings import CustomField, Settings
from leaddesk.store import exporting, import_worker, importing
from leaddesk.store.desk import Desk
from leaddesk.store.errors import NotFound, RuleError
from leaddesk.store.import_rows import pure_fields
from leaddesk.store.mapping import unknown_note
from leaddesk.store.queries import LeadFilter


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """A copy of the import fixtures (imports write their error file next to the input)."""
    return copy_fixtures(tmp_path)


def lead(desk: Desk, ref: str | int) -> dict[str, Any]:
    return desk.show(str(ref))


def all_leads(desk: Desk) -> list[dict[str, Any]]:
    return [desk.show(str(r["number"])) for r in desk.list_leads(LeadFilter(limit=None))]


# --- formats -------------------------------------------------------------------------------------


def test_seed_001_file_imports_as_is(desk: Desk, files: Path, count: Any) -> None:
    summary = desk.import_leads(str(files / "seed001.csv"))
    assert {k: summary[k] for k in ("read", "imported", "updated", "duplicates", "rejected", "warnings")} == {
        "read": 3, "imported": 3, "updated": 0, "duplicates": 0, "rejected": 0, "warnings": 0}
    assert summary["required"] == ["name", "phone", "source"]
    assert summary["error_file"] is None and not (files / "seed001.errors.csv").exists()
    ann = lead(desk, 1)
    assert (ann["contact_name"], ann["first_name"], ann["last_name"]) == ("Ann Lee", "Ann", "Lee")
    assert (ann["company"], ann["email"], ann["phone_e164"]) == ("Acme", "ann@acme.example.com", "+12125550100")
    assert (ann["street"], ann["city"], ann["state"], ann["priority"]) == ("1 Main St", "New York", "NY", 2)
    assert (ann["source"], ann["status"], ann["owner"], ann["description"]) == ("Referral", "New", "ann",
                                                                                 "Wants a quote")
    assert ann["import_batch_id"] == summary["batch"]
    assert lead(desk, 2)["source"] == "Website Form"  # "website": the list entry it starts
    assert lead(desk, 3)["phone_e164"] == "+442079460958"
    history = desk.history("1")
    assert [(h["action"], h["field"], h["new"], h["origin"]) for h in history] == [
        ("create", "import_batch", str(summary["batch"]), "import")]
    assert count(desk, "import_batch") == 1


def test_utf8_bom_semicolons_and_quoted_newlines(desk: Desk, files: Path) -> None:
    summary = desk.import_leads(str(files / "bom_semicolon.csv"))
    assert (summary["imported"], summary["rejected"], summary["notes"]) == (2, 0, [])
    zoe = lead(desk, 1)
    assert zoe["contact_name"] == "Zoë Ærø"  # no BOM glued to the first header or value
    assert zoe["description"] == "First line\nsecond line; still notes"
    assert (zoe["email"], zoe["company"], zoe["phone_e164"]) == ("zoe@fjord.example.com", "Fjord AS", "+4722123456")
    assert lead(desk, 2)["company"] == "Wisła sp. z o.o."


def test_cp1252_names_are_read_with_a_warning(desk: Desk, files: Path) -> None:
    summary = desk.import_leads(str(files / "cp1252.csv"))
    assert summary["imported"] == 2
    assert summary["notes"] == ["cp1252.csv is not UTF-8: read as Windows-1252 (cp1252); check accented names"]
    assert (lead(desk, 1)["contact_name"], lead(desk, 1)["company"]) == ("José Müller", "Café Olé")
    assert lead(desk, 2)["company"] == "Crème & Co – Paris"  # the en dash is cp1252's 0x96, not Latin-1


def test_latin1_only_bytes_fall_back_to_latin1(desk: Desk, tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(b"Name,Company\nA\x81bc,Acme\n")  # 0x81 is undefined in cp1252
    summary = desk.import_leads(str(path))
    assert summary["notes"] == ["latin.csv is not UTF-8: read as Latin-1; check accented names"]
    assert lead(desk, 1)["contact_name"] == "A\x81bc"


def test_tab_and_pipe_delimiters(desk: Desk, files: Path, tmp_path: Path) -> None:
    tabbed = tmp_path / "tabbed.tsv"
    tabbed.write_text("Name\tCompany\tEmail\nTab Person\tTabs, Inc.\ttab@example.com\n", encoding="utf-8")
    assert desk.import_leads(str(tabbed))["imported"] == 1
    assert (lead(desk, 1)["company"], lead(desk, 1)["email"]) == ("Tabs, Inc.", "tab@example.com")
    summary = desk.import_leads(str(files / "pipes.txt"))
    assert summary["imported"] == 1
    pipe = lead(desk, 2)
    assert (pipe["expected_revenue_cents"], pipe["followup_on"], pipe["tags"], pipe["source"]) == (
        120050, "2026-12-01", "vip,expo", "Event")


def test_xlsx_made_with_openpyxl_first_or_named_sheet(desk: Desk, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Notes"
    book.active.append(["nothing to import here"])
    sheet = book.create_sheet("Leads")
    sheet.append(["Contact Name", "Phone", "Company", "Follow-up", "Amount", "Priority"])
    sheet.append(["Xavier Lee", 2125550142, "Xl Corp", datetime(2026, 12, 24), 1500.0, 3])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["Yann Ng", "+1 212 555 0143", None, date(2027, 1, 5), 99.5, None])
    path = tmp_path / "leads.xlsx"
    book.save(path)
    with pytest.raises(RuleError, match="no column matches a lead field"):
        desk.import_leads(str(path))  # the first sheet
    with pytest.raises(RuleError, match=r"has no sheet 'Missing' \(sheets: Notes, Leads\)"):
        desk.import_leads(str(path), sheet="Missing")
    summary = desk.import_leads(str(path), sheet="leads")
    assert (summary["read"], summary["imported"]) == (2, 2)
    xavier = lead(desk, 1)
    assert (xavier["phone"], xavier["phone_e164"], xavier["followup_on"]) == ("2125550142", "+12125550142",
                                                                             "2026-12-24")
    assert (xavier["expected_revenue_cents"], xavier["priority"]) == (150000, 3)
    assert (lead(desk, 2)["expected_revenue_cents"], lead(desk, 2)["followup_on"]) == (9950, "2027-01-05")
    assert desk.workbook_sheets(str(path)) == ["Notes", "Leads"]
    assert desk.preview_import(str(path), sheet="Leads", rows=1)["sample"][0]["values"]["name"] == "Xavier Lee"


def test_workbook_sheets_of_a_csv_a_missing_and_a_broken_file(desk: Desk, files: Path) -> None:
    assert desk.workbook_sheets(str(files / "seed001.csv")) == []
    with pytest.raises(NotFound, match="there is no file"):
        desk.workbook_sheets(str(files / "missing.xlsx"))
    (files / "broken.xlsx").write_bytes(b"not a zip")
    with pytest.raises(RuleError, match=r"broken.xlsx is not a readable \.xlsx file"):
        desk.workbook_sheets(str(files / "broken.xlsx"))


def test_another_crms_export_unknown_columns_kept_or_ignored(desk: Desk, files: Path, open_desk: Any) -> None:
    summary = desk.import_leads(str(files / "hubspot.csv"))
    assert summary["imported"] == 2
    assert summary["notes"] == ["columns not matched to a field, kept in the description: Record ID, Lifecycle Stage"]
    mary = lead(desk, 1)
    assert (mary["contact_name"], mary["first_name"], mary["last_name"]) == ("Mary Ann Lee", "Mary Ann", "Lee")
    assert (mary["job_title"], mary["zip"], mary["country"], mary["status"], mary["source"]) == (
        "Owner", "02108", "USA", "New", "Referral")
    assert mary["description"] == "Record ID: 101\nLifecycle Stage: lead"  # the old system's id is kept
    assert lead(desk, 2)["status"] == "Contacted"
    other = open_desk(preset="sales")
    other.undo_import(summary["batch"])
    ignored = other.import_leads(str(files / "hubspot.csv"), unknown="ignore")
    assert ignored["notes"] == [
        "columns not matched to a field, ignored (--unknown ignore): Record ID, Lifecycle Stage"]
    assert lead(other, 3)["description"] == ""


def test_the_preview_lists_the_unknown_columns_apart_from_its_notes(desk: Desk, files: Path) -> None:
    shown = desk.preview_import(str(files / "hubspot.csv"))
    assert shown["unknown_columns"] == ["Record ID", "Lifecycle Stage"]
    assert shown["notes"] == []  # what becomes of them is the import's choice (keep or ignore), not the preview's
    assert [m["column"] for m in shown["mapping"] if m["field"] == ""] == shown["unknown_columns"]
    # the import's note is the one the preview leaves out
    summary = desk.import_leads(str(files / "hubspot.csv"), unknown="ignore", dry_run=True)
    assert summary["notes"] == [unknown_note(shown["unknown_columns"], "ignore")]
    # other notes stay; a column mapped or skipped is no longer unknown
    cp1252 = desk.preview_import(str(files / "cp1252.csv"))
    assert cp1252["notes"] == ["cp1252.csv is not UTF-8: read as Windows-1252 (cp1252); check accented names"]
    mapped = desk.preview_import(str(files / "hubspot.csv"), overrides={"Record ID": "-", "Lifecycle Stage": "tags"})
    assert (mapped["unknown_columns"], mapped["notes"]) == ([], [])


def test_map_overrides_and_refusals_before_anything_is_written(desk: Desk, files: Path, snapshot: Any) -> None:
    before = snapshot(desk)
    with pytest.raises(RuleError, match="unknown field 'favourite_colour'"):
        desk.import_leads(str(files / "hubspot.csv"), overrides={"Lifecycle Stage": "favourite_colour"})
    with pytest.raises(RuleError, match="no column for the required field 'zip'"):
        desk.import_leads(str(files / "seed001.csv"), require=["zip"])
    with pytest.raises(NotFound, match="there is no file"):
        desk.import_leads(str(files / "missing.csv"))
    with pytest.raises(RuleError, match=r"--on-duplicate must be skip, update, create"):
        desk.import_leads(str(files / "seed001.csv"), on_duplicate="merge")
    assert snapshot(desk) == before
    summary = desk.import_leads(str(files / "hubspot.csv"),
                                overrides={"Lifecycle Stage": "source_detail", "Job Title": "-"})
    assert summary["notes"] == ["columns not matched to a field, kept in the description: Record ID"]
    assert (lead(desk, 1)["source_detail"], lead(desk, 1)["job_title"]) == ("lead", None)


def test_custom_fields_are_mapped_by_name_and_validated(open_desk: Any, tmp_path: Path) -> None:
    settings = Settings(custom_fields={"industry": CustomField("industry", "choice", "Sector", ("Retail", "Health")),
                                       "seats": CustomField("seats", "number")})
    desk = open_desk(preset="sales", settings=settings)
    path = tmp_path / "custom.csv"
    path.write_text("Name,Sector,seats\nA,retail,12\nB,Mining,3\nC,Health,lots\n", encoding="utf-8")
    summary = desk.import_leads(str(path))
    assert (summary["imported"], summary["rejected"]) == (1, 2)
    assert lead(desk, 1)["custom"] == {"industry": "Retail", "seats": 12}
    assert [(p["line"], p["column"], p["reason"]) for p in summary["problems"]] == [
        (3, "Sector", "Sector must be one of Retail, Health, not 'Mining'"),
        (4, "seats", "Seats must be a number, not 'lots'")]


# --- bad rows, duplicates ------------------------------------------------------------------------


def test_bad_rows_are_reported_with_line_column_reason_and_written_to_an_error_file(desk: Desk,
                                                                                    files: Path) -> None:
    desk.add_lead({"name": "Known", "phone": "+1 212 555 0100"})
    summary = desk.import_leads(str(files / "bad_rows.csv"))
    assert {k: summary[k] for k in ("read", "imported", "duplicates", "rejected", "warnings")} == {
        "read": 10, "imported": 2, "duplicates": 3, "rejected": 5, "warnings": 1}
    problems = [(p["line"], p["kind"], p["column"], p["reason"]) for p in summary["problems"]]
    assert problems == [
        (3, "rejected", "email", "email 'bad-at-example.com' is not valid: An email address must have an @-sign."),
        (4, "rejected", "phone", "phone is required"),
        (5, "rejected", "contact_name", "name is required"),
        (6, "warning", "phone",
         "phone 'call me maybe' is not a full number: imported as typed, not used to find duplicates"),
        (7, "rejected", "source", "unknown source 'Carrier pigeon': choose from Inbound Email, Website Form,"
                                  " Social Media, Referral, Event, Cold Outreach, Cold Call, Advertisement, Partner"),
        (8, "rejected", "priority", "priority 'very high' must be 0-3 or low, medium, high, urgent"),
        (9, "duplicate", "phone", "same phone as lead 2, line 2 of this file: skipped (--on-duplicate skip)"),
        (10, "duplicate", "email", "same email as lead 2, line 2 of this file: skipped (--on-duplicate skip)"),
        (11, "duplicate", "phone", "same phone as lead 1: skipped (--on-duplicate skip)"),
    ]
    errors = files / "bad_rows.errors.csv"
    assert summary["error_file"] == str(errors)
    rows = read_csv(errors)
    assert rows[0] == [*read_csv(files / "bad_rows.csv")[0], "error"]
    assert [r[0] for r in rows[1:]] == ["Bad Email", "No Phone", "", "Bad Source", "Bad Priority", "Twin Phone",
                                        "Twin Email", "Known Lead"]
    assert rows[1][-1].startswith("line 3, column 'email': email 'bad-at-example.com' is not valid")
    assert rows[-1][-1] == "duplicate: line 11, column 'phone': same phone as lead 1: skipped (--on-duplicate skip)"


def test_a_fixed_error_file_imports_and_its_error_column_is_not_data(desk: Desk, files: Path) -> None:
    desk.import_leads(str(files / "bad_rows.csv"))
    errors = files / "bad_rows.errors.csv"
    rows = read_csv(errors)
    fixed = [rows[0]] + [r for r in rows[1:] if r[0] in ("Bad Email", "Bad Source")]
    fixed[1][4] = "bad@example.com"
    fixed[2][2] = "Event"
    write_csv(errors, fixed)
    summary = desk.import_leads(str(errors))
    assert (summary["imported"], summary["rejected"], summary["notes"]) == (2, 0, [])
    assert summary["required"] == ["name", "phone", "source"]
    assert [(r["contact_name"], r["description"]) for r in all_leads(desk)][-2:] == [("Bad Email", ""),
                                                                                    ("Bad Source", "")]


@pytest.mark.parametrize(("mode", "imported", "updated", "leads"), [
    ("skip", 2, 0, 3), ("update", 2, 3, 3), ("create", 5, 0, 6)])
def test_on_duplicate(desk: Desk, files: Path, mode: str, imported: int, updated: int, leads: int,
                      count: Any) -> None:
    desk.add_lead({"name": "Known", "phone": "+1 212 555 0100", "source": "Partner"})
    summary = desk.import_leads(str(files / "bad_rows.csv"), on_duplicate=mode)
    assert (summary["imported"], summary["updated"], summary["duplicates"]) == (imported, updated, 3)
    assert count(desk, "lead") == leads
    if mode == "update":
        known = lead(desk, 1)
        assert (known["contact_name"], known["source"], known["version"]) == ("Known Lead", "Event", 2)
        good = lead(desk, 2)  # line 2, then updated by lines 9 and 10 (same phone, same email)
        assert (good["contact_name"], good["phone"]) == ("Twin Email", "+1 212 555 0109")
        assert next(h["action"] for h in desk.history("2")) == "create"
        assert {h["action"] for h in desk.history("2")[1:]} == {"edit"}


def test_an_update_applies_the_status_keeps_the_description_and_is_all_or_nothing(desk: Desk,
                                                                                 tmp_path: Path) -> None:
    desk.add_lead({"name": "Known", "phone": "+1 212 555 0100", "description": "old notes"})
    desk.add_lead({"name": "Lost One", "email": "lost@example.com"})
    desk.mark_lost("2", "Budget")
    path = tmp_path / "update.csv"
    path.write_text("Name,Phone,Email,Status,Industry\n"
                    "Known Lead,+1 212 555 0100,,Contacted,Retail\n"
                    "Found Again,,LOST@example.com,Contacted,Health\n", encoding="utf-8")
    summary = desk.import_leads(str(path), on_duplicate="update")
    assert (summary["updated"], summary["rejected"], summary["duplicates"]) == (1, 1, 1)
    assert [(p["line"], p["column"], p["reason"]) for p in summary["problems"]] == [
        (3, "Status", "cannot update lead 2: lead 2 is Disqualified: reopen it first")]
    known = lead(desk, 1)
    assert (known["contact_name"], known["status"]) == ("Known Lead", "Contacted")
    assert known["description"] == "old notes\n\nIndustry: Retail"
    lost = lead(desk, 2)
    assert (lost["contact_name"], lost["status"], lost["description"], lost["version"]) == (
        "Lost One", "Disqualified", "", 2)  # the name edit of line 3 was rolled back with it


def test_duplicates_across_chunks_are_found_in_the_database(desk: Desk, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importing, "CHUNK", 2)
    path = tmp_path / "chunks.csv"
    path.write_text("Name,Email\nA,a@x.org\nB,b@x.org\nC,c@x.org\nA again,A@X.ORG\nD,d@x.org\n", encoding="utf-8")
    summary = desk.import_leads(str(path))
    assert (summary["imported"], summary["duplicates"]) == (4, 1)
    assert summary["problems"][0]["reason"] == ("same email as lead 1, an earlier row of this file:"
                                                " skipped (--on-duplicate skip)")


def test_the_helper_process_gives_the_same_result(desk: Desk, files: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importing, "CHUNK", 3)  # several chunks: the helper runs one chunk ahead
    assert not importing.use_worker(10)
    serial = desk.import_leads(str(files / "bad_rows.csv"), errors_path=str(files / "serial.csv"))
    monkeypatch.setattr(import_worker, "WORKER_FROM", 0)
    assert importing.use_worker(10)
    finished_here: list[int] = []
    candidate = importing.candidate

    def counted(ctx: Any, memo: Any, cmap: Any, checked: Any) -> Any:
        finished_here.append(checked.line)  # in the helper process, its own copy of the list
        return candidate(ctx, memo, cmap, checked)

    monkeypatch.setattr(importing, "candidate", counted)
    other = Desk.open(str(files / "other.db"), login="ann", settings=Settings())
    try:
        other.init("sales")
        parallel = other.import_leads(str(files / "bad_rows.csv"), errors_path=str(files / "parallel.csv"))
    finally:
        other.close()
    assert finished_here == []  # SQLite: the helper finished every row (its own connection reads the catalog)
    keys = ("read", "imported", "duplicates", "rejected", "warnings", "problems")
    assert {k: parallel[k] for k in keys} == {k: serial[k] for k in keys}
    assert read_csv(files / "parallel.csv") == read_csv(files / "serial.csv")


def test_the_helper_finishes_rows_only_when_it_sees_the_import_s_catalog(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The helper reads the catalog on a connection of its own, which sees only what is committed: an import
    that is a new desk's first command (its preset and its user written in the import's transaction) has its
    rows finished by the importing process, and every one of them is imported as it would be without a helper."""
    monkeypatch.setattr(import_worker, "WORKER_FROM", 0)
    path = write_csv(tmp_path / "first.csv", [["Name", "Source", "Owner"],
                                              *([f"Lead {i}", "Referral", "zed"] for i in range(30))])
    finished_here: list[int] = []
    candidate = importing.candidate

    def counted(ctx: Any, memo: Any, cmap: Any, checked: Any) -> Any:
        finished_here.append(checked.line)
        return candidate(ctx, memo, cmap, checked)

    monkeypatch.setattr(importing, "candidate", counted)
    fresh = Desk.open(str(tmp_path / "fresh.db"), login="zed", settings=Settings())
    try:
        summary = fresh.import_leads(str(path))
        assert (summary["imported"], summary["rejected"]) == (30, 0), summary["problems"]
        assert len(finished_here) == 30  # by the importing process: the helper saw no catalog yet
        finished_here.clear()
        again = fresh.import_leads(str(path), on_duplicate="create")  # now committed: the helper finishes them
        assert (again["imported"], again["rejected"], finished_here) == (30, 0, [])
    finally:
        fresh.close()


def test_the_helper_runs_chunks_ahead_without_waiting_for_the_import(tmp_path: Path) -> None:
    """The pipe holds a few chunks (1 MB, not Linux's 64 KB): the helper checks and sends ~400 KB of rows while the
    importing process reads none of them yet (it is writing the previous chunk), instead of waiting for it."""
    import fcntl
    import sys

    if not sys.platform.startswith("linux") or not hasattr(fcntl, "F_GETPIPE_SZ"):
        pytest.skip("pipe sizes are set on Linux")
    from leaddesk.store.import_rows import RowChecker

    path = tmp_path / "long.csv"
    write_csv(path, [["name", "description"], *([f"Lead {i}", "x" * 10_000] for i in range(40))])
    plan = importing.plan_import(path, Settings(), importing.ImportOptions())
    checker = RowChecker(plan.cmap, Settings(), plan.require, True)
    worker = import_worker.RowWorker(checker, path, None, size=10)  # four chunks of ~100 KB
    try:
        assert fcntl.fcntl(worker.conn.fileno(), fcntl.F_GETPIPE_SZ) >= import_worker.PIPE_BYTES
        worker.process.join(timeout=20)  # nothing read yet: with 64 KB it would wait in its first send
        assert not worker.process.is_alive()
        assert sum(len(chunk) for chunk in worker.chunks()) == 40
    finally:
        worker.close()


# --- dry run, batches, undo ----------------------------------------------------------------------


def test_dry_run_writes_nothing(desk: Desk, files: Path, snapshot: Any, count: Any) -> None:
    before = snapshot(desk)
    summary = desk.import_leads(str(files / "bad_rows.csv"), dry_run=True)
    assert (summary["dry_run"], summary["batch"], summary["imported"], summary["rejected"]) == (True, None, 3, 5)
    assert summary["error_file"] is None and not (files / "bad_rows.errors.csv").exists()
    assert snapshot(desk) == before
    assert count(desk, "import_batch") == 0
    explicit = desk.import_leads(str(files / "bad_rows.csv"), dry_run=True, errors_path=str(files / "e.csv"))
    assert explicit["error_file"] == str(files / "e.csv") and len(read_csv(files / "e.csv")) == 8
    assert snapshot(desk) == before


def test_batches_are_listed_with_who_when_what(desk: Desk, files: Path) -> None:
    first = desk.import_leads(str(files / "seed001.csv"))
    desk.import_leads(str(files / "bad_rows.csv"), on_duplicate="create")
    batches = desk.import_batches()
    assert [b["id"] for b in batches] == [first["batch"] + 1, first["batch"]]
    newest = batches[0]
    assert (newest["user"], newest["at"], newest["state"], newest["file"]) == (
        "ann", "2026-11-26T12:00:00", "done", str(files / "bad_rows.csv"))
    assert (newest["rows_read"], newest["imported"], newest["duplicates"], newest["rejected"], newest["leads"]) == (
        10, 5, 3, 5, 5)  # line 11 has the phone of seed001's Ann
    assert newest["options"]["on_duplicate"] == "create"
    assert newest["options"]["mapping"]["address"] == "street"


def test_undo_removes_untouched_leads_and_reports_the_rest(desk: Desk, files: Path, count: Any) -> None:
    desk.add_lead({"name": "Mine"})
    batch = desk.import_leads(str(files / "seed001.csv"))["batch"]
    desk.edit_lead("3", {"city": "Evanston"})  # Bob, edited since
    desk.add_activity("4", "note", "called")  # Cy, a note since
    done = desk.undo_import(batch)
    assert (done["removed"], done["kept"], done["kept_numbers"]) == (1, 2, [3, 4])
    assert [r["number"] for r in desk.list_leads(LeadFilter())] == [1, 3, 4]
    assert [h["action"] for h in desk.history("3")] == ["create", "edit"]
    assert desk.import_batches()[0]["state"] == "undone"
    assert desk.add_lead({"name": "Next"})["number"] == 5  # numbers are never reused
    with pytest.raises(NotFound, match="no import batch 99"):
        desk.undo_import(99)


def test_undo_twice_is_refused_once_nothing_is_left(desk: Desk, files: Path) -> None:
    batch = desk.import_leads(str(files / "seed001.csv"))["batch"]
    assert desk.undo_import(batch)["removed"] == 3
    with pytest.raises(RuleError, match=f"import batch {batch} is already undone"):
        desk.undo_import(batch)


# --- export and the round trip -------------------------------------------------------------------

CUSTOM = {"industry": CustomField("industry", "choice", "Industry", ("Retail", "Software")),
          "seats": CustomField("seats", "number"), "vip": CustomField("vip", "bool"),
          "renewal": CustomField("renewal", "date"), "notes": CustomField("notes", "text")}


def _full_lead(desk: Desk) -> None:
    desk.add_partner("Northwind")
    desk.add_lead({
        "name": "Mary Ann Lee", "title": "Roof repair", "company": "Lee & Sons", "job_title": "Owner",
        "email": "Mary@Lee.example.com", "phone": "+1 617 555 0142", "street": "9 Elm St", "city": "Boston",
        "state": "MA", "zip": "02108", "country": "USA", "website": "lee.example.com", "zone": "North",
        "source": "Partner", "source_detail": "spring fair", "campaign": "Spring", "medium": "print",
        "contact_method": "Phone", "type": "Inbound", "item": "Consulting", "priority": "urgent",
        "tags": "vip, roof", "description": "Line one\nline two, with \"quotes\"; and =1+1",
        "owner": "ann", "partner": "Northwind", "expected_revenue": "12,500.75", "probability": "40",
        "expected_close": "2027-01-31", "followup": "2026-12-01", "score": "7", "bant_budget": "yes",
        "bant_budget_note": "approved", "bant_need": "no", "bant_timeline_note": "Q1",
        "custom": {"industry": "Retail", "seats": "12.5", "vip": "yes", "renewal": "2027-06-30",
                   "notes": "keep in touch"}}, status="Contacted")
    desk.add_lead({"company": "Only Company Ltd", "phone": "+44 20 7946 0000"})


COMPARED = ("contact_name", "first_name", "last_name", "title", "company", "job_title", "email", "phone",
            "phone_e164", "street", "city", "state", "zip", "country", "website", "zone", "source", "source_detail",
            "campaign", "medium", "contact_method", "type", "item", "status", "priority", "tags", "description",
            "owner", "partner", "expected_revenue_cents", "probability", "expected_close", "followup_on", "score",
            "bant_budget", "bant_budget_note", "bant_authority", "bant_authority_note", "bant_need",
            "bant_need_note", "bant_timeline", "bant_timeline_note", "custom", "email_lower", "search_text")


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_export_then_import_into_an_empty_desk_round_trips_every_field(open_desk: Any, tmp_path: Path,
                                                                       db_file: str, suffix: str) -> None:
    settings = Settings(custom_fields=CUSTOM)
    source = open_desk(preset="sales", settings=settings)
    _full_lead(source)
    path = tmp_path / f"leads.{suffix}"
    assert source.export_leads(LeadFilter(), str(path)) == 2
    target = Desk.open(str(tmp_path / "empty.db"), login="ann", settings=settings)
    try:
        target.init("sales")
        target.add_partner("Northwind")
        summary = target.import_leads(str(path))
        assert (summary["imported"], summary["rejected"], summary["warnings"]) == (2, 0, 0), summary["problems"]
        assert summary["notes"] == ["column 'number' is not imported: this desk gives its own lead numbers"]
        before, after = all_leads(source), all_leads(target)
        assert [{k: r[k] for k in COMPARED} for r in after] == [{k: r[k] for k in COMPARED} for r in before]
    finally:
        target.close()


def test_export_formats_filters_and_pages(desk: Desk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exporting, "PAGE", 2)
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    for i in range(5):
        desk.add_lead({"name": f"Lead {i}", "source": "Event" if i % 2 else "Referral", "priority": str(i % 4)})
    assert desk.export_leads(LeadFilter(), str(tmp_path / "all.csv")) == 5
    rows = read_csv(tmp_path / "all.csv")
    assert rows[0] == exporting.headers(desk.settings)
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", "4", "5"]
    assert desk.export_leads(LeadFilter(source="event"), str(tmp_path / "events.json")) == 2
    data = json.loads((tmp_path / "events.json").read_text(encoding="utf-8"))
    assert [(d["number"], d["contact_name"], d["source"], d["priority"]) for d in data] == [
        (2, "Lead 1", "Event", 1), (4, "Lead 3", "Event", 3)]
    assert desk.export_leads(LeadFilter(search="nobody"), str(tmp_path / "none.json")) == 0
    assert json.loads((tmp_path / "none.json").read_text(encoding="utf-8")) == []
    with pytest.raises(RuleError, match=r"cannot tell the format of .*leads.pdf"):
        desk.export_leads(LeadFilter(), str(tmp_path / "leads.pdf"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.csv", "events.json", "none.json"]  # no temp files


def test_the_import_memo_never_changes_a_verdict(desk: Desk) -> None:
    """Repeated values are checked once (in the row checker and the importing process's memo): the
    columns, or the first refusal, are always what `fields.prepare` gives for the row."""
    from leaddesk.store.import_rows import RowChecker
    from leaddesk.store.mapping import map_columns

    checker = RowChecker(map_columns(["Priority", "Source"]), desk.settings, [], keep_unknown=True)
    memo = importing.FieldMemo()
    rows = [("high", "Referral"), ("very high", "Pigeon"), ("high", "Referral"), ("low", "Pigeon"),
            ("very high", "Referral"), ("2", "event")]
    with desk.db.read() as tx:
        for priority, source in rows:
            try:
                expected: Any = importing.fields.prepare(tx, desk.settings, {"priority": priority, "source": source})
            except RuleError as exc:
                expected = str(exc)
            try:
                got: Any = memo.finish(tx, desk.settings, checker.check(2, [priority, source]))
            except RuleError as exc:
                got = str(exc)
            assert got == expected, (priority, source)


def test_an_import_writes_with_a_larger_page_cache_and_gives_it_back(desk: Desk, tmp_path: Path) -> None:
    """SQLite's page cache is `IMPORT_CACHE_KIB` while the rows are written, and the connection's own again after
    the import, whether it imported or was refused half way."""
    if desk.db.dialect != "sqlite":
        pytest.skip("SQLite's page cache")
    conn = desk.db._conn
    assert conn is not None
    before = conn.execute("PRAGMA cache_size").fetchone()[0]
    seen: list[int] = []

    def progress(_done: int, _total: int) -> None:
        seen.append(conn.execute("PRAGMA cache_size").fetchone()[0])

    good = tmp_path / "leads.csv"
    good.write_text("name,company\nAnn Lee,Acme\nBob Stone,Bolt\n", encoding="utf-8")
    assert desk.import_leads(str(good), progress=progress)["imported"] == 2
    assert seen and set(seen) == {-importing.IMPORT_CACHE_KIB}
    assert conn.execute("PRAGMA cache_size").fetchone()[0] == before
    cut = tmp_path / "cut.csv"
    cut.write_text('name,company\nCy Rae,Cobalt\n"Dee Moss,Delta', encoding="utf-8")  # a quote never closed
    with pytest.raises(RuleError, match="nothing was imported"):
        desk.import_leads(str(cut), progress=progress)
    assert conn.execute("PRAGMA cache_size").fetchone()[0] == before


PURE_FIELDS = sorted(pure_fields())
cell_text = st.one_of(st.text(), st.text(st.sampled_from("ab \t\u00a0\u202e"), min_size=990, max_size=1010),
                      st.text(st.sampled_from("ab\x00"), min_size=1, max_size=5),
                      st.sampled_from(["high", " 2 ", "tomorrow", "1,200.50", "a@b.example", "+1 617 555 0100"]))


@given(field=st.sampled_from(PURE_FIELDS), cell=cell_text)
@example(field="city", cell="x" * 1001).via("the length limit")
@settings(max_examples=300, deadline=None)
def test_the_row_checker_gives_what_the_field_rules_give(field: str, cell: str) -> None:
    """The helper's checks (with their shortcuts: plain text cells, remembered values) give a cell's columns, or
    its refusal, exactly as `fields.prepare` gives them for the cell's text."""
    from leaddesk.store.import_rows import RowChecker, _NoTx, split_row
    from leaddesk.store.mapping import ColumnMap

    checker = RowChecker(ColumnMap([field], {0: field}), Settings(), [], keep_unknown=True)
    for _ in range(2):  # the second time from the memo, for the values that repeat
        row = checker.check(2, [cell])
        got: Any = row.error[2] if row.error else row.columns
        if not cell.strip():
            assert got == {} and not row.later
            continue
        given = split_row({field: cell.strip()})[0]  # e.g. a first name alone is also the name
        try:
            expected: Any = importing.fields.prepare(_NoTx(), Settings(), given)
        except RuleError as exc:
            expected = str(exc)
        assert got == expected


# --- round trip of leads in every status ----------------------------------------------------------

NOT_COMPARED = {"id", "number", "updated_at", "version", "import_batch_id", "deals", "activities"}


def _every_status(desk: Desk, preset: str) -> None:
    """Leads in every status of a preset, each reached the way a user reaches it."""
    desk.add_partner("Northwind")
    base = {"source": "Referral", "owner": "ann", "partner": "Northwind", "tags": "a, b", "followup": "2026-12-01",
            "expected_revenue": "900", "priority": "high", "custom": {"industry": "Retail", "seats": "3"}}
    for number, status in enumerate(s["name"] for s in desk.statuses() if s["category"] == "open"):
        desk.add_lead({**base, "name": f"Open {number}", "email": f"open{number}@x.example.com"}, status=status)
    won = desk.add_lead({**base, "name": "Wendy Won", "company": "Won Co", "phone": "+1 212 555 0101"})
    desk.mark_won(str(won["number"]), "1,234.50")
    lost = desk.add_lead({**base, "name": "Larry Lost", "email": "larry@lost.example.com"})
    desk.mark_lost(str(lost["number"]), "Budget", "too dear this year")
    if preset == "sales":
        qualified = desk.add_lead({**base, "name": "Quinn Qual", "company": "Qual Ltd", "email": "q@qual.example.com"})
        desk.qualify(str(qualified["number"]), title="Big deal", value="5000")
        converted = desk.add_lead({**base, "name": "Connie Conv", "phone": "+1 212 555 0199"})
        desk.qualify(str(converted["number"]), create_deal=False)
        linked = desk.add_lead({**base, "name": "Open With Customer", "company": "Linked Inc"})
        desk.customer_from_lead(str(linked["number"]))


@pytest.mark.parametrize("preset", ["sales", "services"])
def test_a_round_trip_keeps_leads_in_every_status(open_desk: Any, tmp_path: Path, preset: str) -> None:
    settings = Settings(custom_fields=CUSTOM)
    source = open_desk(preset=preset, settings=settings)
    _every_status(source, preset)
    statuses = {r["status"] for r in all_leads(source)}
    assert statuses == {s["name"] for s in source.statuses()}  # every status is there
    path = tmp_path / "leads.csv"
    exported = source.export_leads(LeadFilter(), str(path))
    target = Desk.open(str(tmp_path / "fresh.db"), login="ann", settings=settings)
    try:
        target.init(preset)
        target.add_partner("Northwind")
        summary = target.import_leads(str(path))
        assert (summary["imported"], summary["rejected"], summary["duplicates"]) == (exported, 0, 0), \
            summary["problems"]

        def comparable(desk: Desk) -> list[dict[str, Any]]:
            return [{k: v for k, v in lead.items() if k not in NOT_COMPARED and not k.endswith("_id")}
                    for lead in all_leads(desk)]

        assert comparable(target) == comparable(source)
        customers = [(r["contact_name"], r["customer"]) for r in all_leads(target) if r["customer"]]
        assert len(customers) == (3 if preset == "sales" else 0)
        history = target.history("1")
        assert [(h["action"], h["field"]) for h in history] == [("create", "import_batch")]
        undone = target.undo_import(summary["batch"])
        assert undone["removed"] == exported  # untouched since the import, even with their own created time
    finally:
        target.close()


def test_a_closed_status_needs_what_its_action_needs(desk: Desk, tmp_path: Path) -> None:
    path = tmp_path / "closed.csv"
    path.write_text(
        "name,status,job_value,lost_reason,lost_note,customer,created\n"
        "Won Ok,Converted,500,,,,2025-01-02T03:04:05\n"
        "Won No Value,Converted,,,,,\n"
        "Won Zero,Converted,0,,,,\n"
        "Lost Ok,Disqualified,,budget,pricey,,\n"
        "Lost No Reason,Disqualified,,,,,\n"
        "Lost Bad Reason,Disqualified,,Because,,,\n"
        "Qualified No Customer,Qualified,,,,,\n"
        "Qualified Ok,Qualified,,,,Acme Corp,\n"
        "Also Acme,Qualified,,,,acme corp,\n"
        "Open With Value,New,100,,,,\n"
        "Open With Reason,New,,Budget,,,\n"
        "Future,New,,,,,2999-01-01\n"
        "Bad Date,New,,,,,yesterday\n", encoding="utf-8")
    summary = desk.import_leads(str(path))
    reasons = {p["line"]: (p["column"], p["reason"]) for p in summary["problems"]}
    assert reasons == {
        3: ("job_value", "a won lead needs a job value greater than 0"),
        4: ("job_value", "a won lead needs a job value greater than 0"),
        6: ("lost_reason", "a lost lead needs a reason"),
        7: ("lost_reason", reasons[7][1]),
        8: ("customer", "status 'Qualified' needs the customer the lead was qualified into: give its name in a"
                        " customer column, or import the lead in an open status"),
        11: ("job_value", "the job value can be entered only on a won lead"),
        12: ("lost_reason", "a lost reason is only for a lost lead"),
        13: ("created", "created '2999-01-01' is in the future"),
        14: ("created", "created 'yesterday' is not a date and time like 2026-03-04T10:00:00"),
    }
    assert reasons[7][1].startswith("unknown lost reason 'Because'")
    assert summary["imported"] == 4
    won, lost, qualified, also = (lead(desk, n) for n in range(1, 5))
    assert (won["status"], won["job_value_cents"], won["created_at"]) == ("Converted", 50000, "2025-01-02T03:04:05")
    assert (lost["status"], lost["lost_reason"], lost["lost_note"]) == ("Disqualified", "Budget", "pricey")
    assert (qualified["status"], qualified["customer"]) == ("Qualified", "Acme Corp")
    assert also["customer_id"] == qualified["customer_id"]  # the same customer, linked by name
    errors = read_csv(tmp_path / "closed.errors.csv")
    assert len(errors) == 1 + 9 and errors[0][-1] == "error"


def test_a_clean_run_removes_the_stale_error_file_of_the_same_input(desk: Desk, tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("Name,Email\nAnn,ann@x.example.com\nBad,not-an-email\n", encoding="utf-8")
    first = desk.import_leads(str(path))
    errors = tmp_path / "leads.errors.csv"
    assert first["rejected"] == 1 and errors.exists()
    path.write_text("Name,Email\nBea,bea@x.example.com\n", encoding="utf-8")  # fixed
    second = desk.import_leads(str(path))
    assert second["rejected"] == 0 and not errors.exists()
    assert second["notes"] == ["no row was rejected: removed the old error file leads.errors.csv an earlier"
                               " import of this file left"]
    errors.write_text("Name,Email,comment\nx,y,z\n", encoding="utf-8")  # not ours: left alone
    path.write_text("Name,Email\nCid,cid@x.example.com\n", encoding="utf-8")
    third = desk.import_leads(str(path))
    assert errors.exists() and third["notes"] == []
