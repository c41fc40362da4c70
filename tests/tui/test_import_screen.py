"""The import screen: a small CSV (and a workbook of three sheets) written in tmp_path, keys pressed through Pilot
(open, choose a sheet, change a mapping, dry run, import, undo a batch), then both the screen and the database
checked; snapshots at 80x24 and 120x40.

The tests run in tmp_path (monkeypatch.chdir) and type the file's name: the screen shows paths as typed, so
the snapshots do not depend on where the temporary folder is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, ProgressBar, Select, TabbedContent

from leaddesk.app import LeadDeskApp
from leaddesk.screens.dialogs import ConfirmDialog
from leaddesk.screens.dupes import DupesScreen
from leaddesk.screens.import_screen import FieldPicker, ImportScreen
from leaddesk.store.desk import Desk
from leaddesk.widgets.path_suggester import complete, expand

from .conftest import SIZES, calm, rows_of, run, snapshot_of, text_of

CSV = (
    "Full Name,E-mail,Mobile,Company Name,Lead Source,Favourite colour\n"
    "Ann Example,ann@example.com,+1 212 555 0101,Acme,Referral,blue\n"
    "Bad Email,not-an-email,+1 212 555 0102,Acme,Referral,red\n"
    "Dup Person,ann@example.com,+1 212 555 0109,Acme Two,Referral,green\n"
    ",,,,Referral,\n"
    "Carl Good,carl@example.com,+1 212 555 0104,,Partner,[red]purple[/red]\n"
)


@pytest.fixture
def leads_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """leads.csv in the test's folder, which is the working directory: 2 good rows, a bad email, a duplicate of
    an earlier row, a row with neither name nor company."""
    path = tmp_path / "leads.csv"
    path.write_text(CSV, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return path


@pytest.fixture
def workbook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """leads.xlsx in the test's folder (the working directory): a first sheet with nothing to import, then
    "Leads" (two leads and a column no field takes) and "Old" (one lead, other columns)."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Notes"
    book.active.append(["Read me: the leads are on the next sheet"])
    leads = book.create_sheet("Leads")
    for row in (["Contact Name", "Phone", "Company", "Colour"], ["Xavier Lee", "+1 907 555 0177", "Xl Corp", "teal"],
                ["Yann Ng", "+1 907 555 0178", "Ng & Co", "ochre"]):
        leads.append(row)
    old = book.create_sheet("Old")
    for row in (["Name", "Email"], ["Zoe Old", "zoe@old.example.com"]):
        old.append(row)
    path = tmp_path / "leads.xlsx"
    book.save(path)
    monkeypatch.chdir(tmp_path)
    return path


def screen_of(pilot: Pilot[None]) -> ImportScreen:
    screen = pilot.app.screen
    assert isinstance(screen, ImportScreen)
    return screen


def notes(pilot: Pilot[None]) -> list[str]:
    return [str(n.message) for n in pilot.app._notifications]


async def open_file(pilot: Pilot[None], name: str = "leads.csv") -> ImportScreen:
    """Open the import screen with `I`, type the file's name, enter."""
    await pilot.press("I")
    await calm(pilot)
    screen = screen_of(pilot)
    assert screen.query_one("#path", Input).has_focus
    await pilot.press(*name, "enter")
    await calm(pilot)
    return screen


async def pick(pilot: Pilot[None], field: str) -> None:
    """Enter on the highlighted column, narrow the picker to `field` (set at once: typing is tested once), enter."""
    await pilot.press("enter")
    await calm(pilot)
    picker = pilot.app.screen
    assert isinstance(picker, FieldPicker)
    picker.query_one("#filter", Input).value = field
    await pilot.press("enter")
    await calm(pilot)


def count(desk: Desk) -> int:
    from leaddesk.store.queries import LeadFilter

    return desk.count_leads(LeadFilter(limit=None))


# -- the flow -------------------------------------------------------------------------------------
def test_mapping_dry_run_then_import_with_rejected_rows(app: LeadDeskApp, desk: Desk, leads_csv: Path) -> None:
    before = count(desk)

    async def scenario(pilot: Pilot[None]) -> None:
        screen = await open_file(pilot)
        assert text_of(pilot, "#info") == "leads.csv · CSV, UTF-8, ',' · about 5 rows · 1 unknown column → description"
        assert not screen.query_one("#message").has_class("shown")  # the preview's notes: none for this file
        assert not screen.query_one("#sheet-box").has_class("shown") and not screen.check_action("sheet", ())
        mapping = rows_of(pilot, "#mapping")
        assert [r[:3] for r in mapping] == [
            ["Full Name", "name", "Ann Example"], ["E-mail", "email", "ann@example.com"],
            ["Mobile", "phone", "+1 212 555 0101"], ["Company Name", "company", "Acme"],
            ["Lead Source", "source", "Referral"],
            ["Favourite colour", "? unknown → description", "blue"]]
        assert mapping[5][6] == "[red]purple[/red]"  # the fifth row's value, literally
        assert screen.query_one("#mapping", DataTable).has_focus
        # the dry run checks every row and writes nothing
        await pilot.press("d")
        await calm(pilot)
        assert screen.query_one("#tabs", TabbedContent).active == "tab-result"
        summary = text_of(pilot, "#summary")
        assert "Dry run of leads.csv: nothing was written." in summary
        assert "Read 5 · new 2 · updated 0 · duplicates 1 (skipped) · rejected 2" in summary
        problems = rows_of(pilot, "#problems")
        assert [(r[0], r[1], r[2]) for r in problems] == [
            ("3", "rejected", "E-mail"), ("4", "duplicate", "E-mail"), ("5", "rejected", "Full Name / Com…")]
        assert text_of(pilot, "#problem").startswith("line 3, column 'E-mail': email 'not-an-email'")
        await pilot.press("down")
        assert "same email as lead" in text_of(pilot, "#problem")
        assert count(desk) == before and not (leads_csv.parent / "leads.errors.csv").exists()
        # an option changed: the dry run shown says it is out of date
        duplicates = screen.query_one("#on-duplicate", Select)
        duplicates.value = "update"
        await pilot.pause()
        assert text_of(pilot, "#summary").startswith("The mapping or the options changed since this dry run")
        duplicates.value = "skip"
        # the import asks first; no changes nothing
        await pilot.press("i")
        assert isinstance(pilot.app.screen, ConfirmDialog)
        await pilot.press("n")
        assert count(desk) == before
        await pilot.press("i", "y")
        await calm(pilot)
        summary = text_of(pilot, "#summary")
        assert "Imported leads.csv as batch" in summary and "rejected 2" in summary
        assert "Rows not imported: leads.errors.csv" in summary
        assert len(rows_of(pilot, "#problems")) == 3
        assert not screen.query_one("#progress-row").has_class("shown")
        # batches: the new one, with its counts
        await pilot.press("b")
        [batch] = rows_of(pilot, "#batches")
        assert batch[1:] == ["2026-11-26 12:00", "ann", "leads.csv", "5", "2", "0", "1", "2", "2", "done"]

    run(app, scenario)
    assert count(desk) == before + 2
    [ann] = desk.lookup("ann@example.com")["leads"]
    carl = desk.show(str(desk.lookup("carl@example.com")["leads"][0]["number"]))
    assert ann["contact_name"] == "Ann Example"
    assert (carl["source"], carl["description"]) == ("Partner", "Favourite colour: [red]purple[/red]")
    errors = (leads_csv.parent / "leads.errors.csv").read_text(encoding="utf-8").splitlines()
    assert errors[0].endswith(",error") and len(errors) == 4


def test_changing_the_mapping_and_the_options(app: LeadDeskApp, desk: Desk, leads_csv: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(leads_csv.parent))

    async def scenario(pilot: Pilot[None]) -> None:
        app.open_import()
        await calm(pilot)
        screen = screen_of(pilot)
        path = screen.query_one("#path", Input)
        # a bad path is said inline, and the field keeps the focus
        path.value = "nope.csv"
        await pilot.press("enter")
        await calm(pilot)
        assert "there is no file nope.csv" in text_of(pilot, "#message")
        assert path.has_focus and not screen.check_action("run", (True,))
        path.value = "~/leads.csv"
        await pilot.press("enter")
        await calm(pilot)
        assert screen.preview is not None and not screen.query_one("#message").has_class("shown")
        # unknown columns: ignored
        screen.query_one("#unknown", Select).value = "ignore"
        await calm(pilot)
        assert rows_of(pilot, "#mapping")[5][1] == "? unknown, ignored"
        assert text_of(pilot, "#info").endswith(" · about 5 rows · 1 unknown column ignored")
        # Mobile -> ignored: enter on its row, type to narrow the list, enter
        await pilot.press("down", "down", "enter")
        await calm(pilot)
        picker = pilot.app.screen
        assert isinstance(picker, FieldPicker) and picker.header == "Mobile"
        await pilot.press(*"ign", "enter")
        await calm(pilot)
        assert pilot.app.screen is screen and screen.overrides == {"Mobile": "-"}
        assert rows_of(pilot, "#mapping")[2][:3] == ["Mobile ✎", "– ignored", ""]
        assert screen.query_one("#mapping", DataTable).cursor_row == 2
        # Company Name -> job_title, then back to the automatic match
        await pilot.press("down")
        await pick(pilot, "job_title")
        assert rows_of(pilot, "#mapping")[3][:2] == ["Company Name ✎", "job_title"]
        await pick(pilot, "automatic")
        assert rows_of(pilot, "#mapping")[3][:2] == ["Company Name", "company"] and screen.overrides == {"Mobile": "-"}
        # duplicates: create anyway
        screen.query_one("#on-duplicate", Select).value = "create"
        await pilot.press("i", "y")
        await calm(pilot)
        assert "duplicates 1 (created anyway)" in text_of(pilot, "#summary")
        # escape leaves the path field first, then closes the screen
        await pilot.press("f")
        assert path.has_focus
        await pilot.press("escape")
        assert screen.query_one("#problems", DataTable).has_focus  # the tab on show: the import's result
        await pilot.press("escape")
        assert not isinstance(pilot.app.screen, ImportScreen)

    run(app, scenario)
    [first, duplicate] = desk.lookup("ann@example.com")["leads"]
    lead = desk.show(str(first["number"]))
    assert (lead["phone"], lead["company"], lead["job_title"]) == (None, "Acme", None)
    assert not lead["description"]  # Favourite colour ignored
    assert desk.show(str(duplicate["number"]))["company"] == "Acme Two"
    assert desk.import_batches()[0]["options"]["mapping"]["Mobile"] == "-"


def test_progress_undo_batches_and_the_app_keys(app: LeadDeskApp, desk: Desk, leads_csv: Path) -> None:
    many = leads_csv.parent / "many.csv"
    many.write_text("name,email,source\n" + "".join(f"Lead {n},lead{n}@example.com,Referral\n" for n in range(1200)),
                    encoding="utf-8")
    before = count(desk)
    first = desk.import_leads(str(leads_csv))
    second = desk.import_leads(str(leads_csv), on_duplicate="create")
    assert count(desk) == before + 5
    touched = max(lead["number"] for lead in desk.lookup("carl@example.com")["leads"])
    desk.add_activity(str(touched), "note", "called back")  # a lead changed since: the undo keeps it
    seen: list[tuple[float | None, float]] = []

    async def scenario(pilot: Pilot[None]) -> None:
        app.open_import("many.csv")
        await calm(pilot)
        screen = screen_of(pilot)
        bar = screen.query_one("#progress", ProgressBar)
        shown = screen._progress

        def spy(done: int, total: int) -> None:
            shown(done, total)
            seen.append((bar.total, bar.progress))

        screen._progress = spy  # type: ignore[method-assign]
        await pilot.press("d")
        await calm(pilot)
        assert "Read 1200 · new 1200" in text_of(pilot, "#summary")
        # the batches, newest first; u asks, then removes what nobody touched
        assert not screen.check_action("undo_batch", ())
        await pilot.press("b")
        assert [r[0] for r in rows_of(pilot, "#batches")] == [str(second["batch"]), str(first["batch"])]
        await pilot.press("u")
        dialog = pilot.app.screen
        assert isinstance(dialog, ConfirmDialog) and f"Undo import batch {second['batch']}" in dialog.question
        await pilot.press("y")
        await calm(pilot)
        assert f"Batch {second['batch']} undone: 2 leads removed; 1 changed since were kept (#{touched})" in \
            notes(pilot)
        assert rows_of(pilot, "#batches")[0][-2:] == ["1", "undone"]
        await pilot.press("down", "u", "y")
        await calm(pilot)
        assert rows_of(pilot, "#batches")[1][-2:] == ["0", "undone"]
        assert not screen.check_action("undo_batch", ())  # nothing left to undo there
        # the app's keys open each screen once, from anywhere but a dialog
        await pilot.press("U")
        await calm(pilot)
        assert isinstance(pilot.app.screen, DupesScreen)
        await pilot.press("I")
        await calm(pilot)
        assert pilot.app.screen is not screen and isinstance(pilot.app.screen, ImportScreen)
        await pilot.press("escape", "I")
        assert len([s for s in pilot.app.screen_stack if isinstance(s, ImportScreen)]) == 2

    run(app, scenario)
    assert seen[-1] == (1200, 1200) and any(done < 1200 for _total, done in seen)  # it moved before the end
    assert [done for _total, done in seen] == sorted(done for _total, done in seen)
    assert count(desk) == before + 1
    assert desk.show(str(touched))["contact_name"] == "Carl Good"


def test_a_refused_mapping_change_keeps_the_mapping_shown(app: LeadDeskApp, tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("name,,email\nAnn,x,ann@example.com\n", encoding="utf-8")

    async def scenario(pilot: Pilot[None]) -> None:
        app.open_import(str(path))
        await calm(pilot)
        screen = screen_of(pilot)
        assert rows_of(pilot, "#mapping")[1][:3] == ["column 2", "? unknown → description", "x"]
        await pilot.press("down")
        await pick(pilot, "tags")  # the service cannot name a column without a header (yet)
        assert "column 2" in text_of(pilot, "#message") and screen.overrides == {}
        await pilot.press("up")
        await pick(pilot, "company")
        assert rows_of(pilot, "#mapping")[0][:2] == ["name ✎", "company"]
        assert not screen.query_one("#message").has_class("shown")

    run(app, scenario)


async def choose_sheet(pilot: Pilot[None], moves: int) -> None:
    """Open the sheet picker with s, move down (or up) `moves` sheets, enter."""
    await pilot.press("s")
    await pilot.pause()
    assert pilot.app.screen.query_one("#sheet", Select).expanded
    await pilot.press(*(["down"] * moves if moves > 0 else ["up"] * -moves), "enter")
    await calm(pilot)


def test_a_workbook_of_several_sheets(app: LeadDeskApp, desk: Desk, workbook: Path) -> None:
    before = count(desk)

    async def scenario(pilot: Pilot[None]) -> None:
        screen = await open_file(pilot, "leads.xlsx")
        # the first sheet has nothing to import: said, and the sheet picker takes the focus
        assert "no column matches a lead field" in text_of(pilot, "#message")
        assert text_of(pilot, "#info") == "leads.xlsx · Excel, sheet Notes · s chooses another sheet"
        sheet = screen.query_one("#sheet", Select)
        assert screen.query_one("#sheet-box").has_class("shown") and sheet.has_focus and sheet.value == "Notes"
        assert screen.preview is None and not screen.check_action("run", (True,))
        assert screen.query_one("#mapping", DataTable).row_count == 0
        # enter opens the list; the next sheet is read with its own mapping
        await pilot.press("enter", "down", "enter")
        await calm(pilot)
        assert (screen.sheet, sheet.value) == ("Leads", "Leads")
        assert text_of(pilot, "#info") == ("leads.xlsx · Excel, sheet Leads · about 2 rows"
                                           " · 1 unknown column → description")
        assert not screen.query_one("#message").has_class("shown")
        assert [r[:3] for r in rows_of(pilot, "#mapping")] == [
            ["Contact Name", "name", "Xavier Lee"], ["Phone", "phone", "+1 907 555 0177"],
            ["Company", "company", "Xl Corp"], ["Colour", "? unknown → description", "teal"]]
        assert screen.query_one("#mapping", DataTable).has_focus
        # the unknown column mapped: no longer counted
        await pilot.press("down", "down", "down")
        await pick(pilot, "tags")
        assert screen.overrides == {"Colour": "tags"} and rows_of(pilot, "#mapping")[3][:2] == ["Colour ✎", "tags"]
        assert text_of(pilot, "#info") == "leads.xlsx · Excel, sheet Leads · about 2 rows"
        # another sheet: its own columns, so the automatic mapping again; a dry run shown is another sheet's
        await pilot.press("d")
        await calm(pilot)
        assert "Read 2 · new 2" in text_of(pilot, "#summary")
        await choose_sheet(pilot, 1)
        assert (screen.sheet, screen.overrides) == ("Old", {})
        assert [r[:3] for r in rows_of(pilot, "#mapping")] == [["Name", "name", "Zoe Old"],
                                                             ["Email", "email", "zoe@old.example.com"]]
        assert screen.result is None and not screen.check_action("tab", ("result",))
        # back to Leads; the import asks with the sheet's name and reads that sheet
        await choose_sheet(pilot, -1)
        assert screen.sheet == "Leads" and rows_of(pilot, "#mapping")[3][1] == "? unknown → description"
        await pilot.press("i")
        dialog = pilot.app.screen
        assert isinstance(dialog, ConfirmDialog) and dialog.question.startswith("Import leads.xlsx, sheet Leads (")
        await pilot.press("y")
        await calm(pilot)
        assert "Imported leads.xlsx as batch" in text_of(pilot, "#summary")

    run(app, scenario)
    assert count(desk) == before + 2
    [xavier] = desk.lookup("+1 907 555 0177")["leads"]
    assert (xavier["contact_name"], desk.show(str(xavier["number"]))["description"]) == ("Xavier Lee", "Colour: teal")
    assert desk.import_batches()[0]["options"]["sheet"] == "Leads"
    assert not desk.lookup("zoe@old.example.com")["leads"]


def test_path_completion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "leads.csv").write_text("x")
    (tmp_path / "leads.txt.bak").write_text("x")
    (tmp_path / "level").mkdir()
    (tmp_path / ".hidden.csv").write_text("x")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert complete("lea", (".csv",)) == "leads.csv"
    assert complete("lev", (".csv",)) == "level/"
    assert complete("~/lea", (".csv",)) == "~/leads.csv"
    assert complete("leads.csv", (".csv",)) is None
    assert complete("x", (".csv",)) is None and complete("", (".csv",)) is None
    assert complete(".hid", (".csv",)) == ".hidden.csv"
    assert complete("nowhere/x", (".csv",)) is None
    assert expand(' "~/leads.csv" ') == str(tmp_path / "leads.csv")


# -- snapshots ------------------------------------------------------------------------------------
async def open_at_once(pilot: Pilot[None]) -> None:
    """Open the screen on leads.csv (typing the path is tested above; each key costs a repaint)."""
    app = pilot.app
    assert isinstance(app, LeadDeskApp)
    app.open_import("leads.csv")
    await calm(pilot)
    assert pilot.app.screen.query_one("#mapping").has_focus  # as after pressing enter in the path


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_mapping(snap_compare: Any, app: LeadDeskApp, leads_csv: Path, size: tuple[int, int]) -> None:
    async def scenario(pilot: Pilot[None]) -> None:
        await open_at_once(pilot)

    assert snapshot_of(snap_compare, app, size, scenario)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_dry_run(snap_compare: Any, app: LeadDeskApp, leads_csv: Path, size: tuple[int, int]) -> None:
    async def scenario(pilot: Pilot[None]) -> None:
        await open_at_once(pilot)
        await pilot.press("d")

    assert snapshot_of(snap_compare, app, size, scenario)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_batches(snap_compare: Any, app: LeadDeskApp, desk: Desk, leads_csv: Path,
                          size: tuple[int, int]) -> None:
    desk.import_leads("leads.csv")
    desk.import_leads("leads.csv", on_duplicate="update")

    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("I")
        await calm(pilot)
        await pilot.press("escape", "b")

    assert snapshot_of(snap_compare, app, size, scenario)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_sheet(snap_compare: Any, app: LeadDeskApp, workbook: Path, size: tuple[int, int]) -> None:
    async def scenario(pilot: Pilot[None]) -> None:
        app.open_import("leads.xlsx")
        await calm(pilot)
        await pilot.press("enter", "down", "enter")  # the sheet picker has the focus: Leads

    assert snapshot_of(snap_compare, app, size, scenario)


def test_every_binding_has_an_id_and_a_description() -> None:
    from leaddesk.screens.import_screen import MappingTable

    ids = []
    for cls, prefix in ((ImportScreen, "import."), (MappingTable, "import."), (FieldPicker, "picker.")):
        for binding in cls.BINDINGS:
            assert not isinstance(binding, tuple)
            assert binding.id and binding.id.startswith(prefix) and binding.description, binding
            ids.append(binding.id)
    assert len(ids) == len(set(ids))
