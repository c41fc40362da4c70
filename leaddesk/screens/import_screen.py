"""The import screen: pick a CSV or XLSX file (and, in a workbook of several sheets, the sheet), see how its
columns map to lead fields beside its first rows, fix the mapping, dry-run, import with a progress bar, read
the rows that were not imported; and the past imports, each with an undo.

Everything goes through the Desk in a worker: `preview_import` (reads the file, writes nothing; its
`unknown_columns` are the columns no field takes), `workbook_sheets`, `import_leads` (one transaction: all or
nothing; a dry run is rolled back), `import_batches`, `undo_import`.

Keys (ids in brackets, remap them in the settings' [keymap]): enter on a column changes its field
[import.field] · d dry run [import.dry_run] · i import [import.run] · f the file path [import.file] ·
s the sheet of a workbook [import.sheet] · m / r / b the Mapping, Result and Batches tabs
[import.mapping/result/batches] · u undo the highlighted batch [import.undo] · escape back [import.back].
In the path, right arrow accepts the suggested completion and enter opens the file.
"""

from __future__ import annotations

import os
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.widgets import (
    DataTable,
    Header,
    Input,
    Label,
    OptionList,
    ProgressBar,
    Select,
    Static,
    TabbedContent,
    TabPane,
)
from textual.widgets.option_list import Option

from leaddesk.screens.base import DeskModal, DeskScreen, literal
from leaddesk.screens.dialogs import ConfirmDialog
from leaddesk.store.desk import Desk
from leaddesk.store.errors import LeadDeskError
from leaddesk.textsafe import safe_line, truncate
from leaddesk.widgets.path_suggester import PathSuggester, expand
from leaddesk.widgets.quiet_footer import QuietFooter

IMPORTABLE = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")
SAMPLE_ROWS = 5  # first rows shown beside the mapping
CELL_WIDTH = 28  # characters of a value shown in a table cell
BATCHES = 50  # past imports listed
IGNORE = "-"
AUTO = ""  # the picker's "as the header says" (drops an override)
ON_DUPLICATE = [("skip them (reported)", "skip"), ("update the lead", "update"), ("create anyway", "create")]
UNKNOWN = [("keep in description", "keep"), ("ignore", "ignore")]
ENCODINGS = {"utf-8-sig": "UTF-8", "utf-16": "UTF-16", "cp1252": "Windows-1252", "latin-1": "Latin-1"}


def field_choices(custom_fields: dict[str, Any]) -> list[tuple[str, str]]:
    """(target, label) of every field a column can go to: lead fields, the status, custom fields."""
    from leaddesk.store.fields import FIELDS

    choices = [(name, spec.label) for name, spec in FIELDS.items()]
    choices.insert(1, ("status", "Status a new lead starts in"))
    choices.extend((f"custom.{name}", getattr(spec, "title", name)) for name, spec in custom_fields.items())
    return choices


def field_text(target: str, unknown: str, required: list[str]) -> Text:
    """How a column's field reads in the mapping table."""
    if target == "":
        return Text("? unknown → description" if unknown == "keep" else "? unknown, ignored", style="yellow")
    if target == IGNORE:
        return Text("– ignored", style="dim")
    if target == "number":
        return Text("number (not imported)", style="dim")
    return Text(target + (" *" if target in required else ""), style="bold" if target in required else "")


def sample_cells(preview: dict[str, Any]) -> list[list[str]]:
    """Per column of the file, its value in each sample row, as the import reads it."""
    mapping = preview["mapping"]
    first_of: dict[str, int] = {}
    for index, entry in enumerate(mapping):
        first_of.setdefault(entry["field"], index)
    columns: list[list[str]] = [[] for _ in mapping]
    for row in preview["sample"]:
        values, extra = row["values"], row["unknown"]
        for index, entry in enumerate(mapping):
            target, header = entry["field"], entry["column"]
            if target in ("", IGNORE):
                value = extra.get(header, "") if target == "" else ""
            elif first_of[target] == index:
                value = values.get(target, "")
            else:  # a second column for one field: its value is kept apart when it differs
                value = extra.get(header, "")
            columns[index].append(value)
    return columns


def when(stamp: str | None) -> str:
    """A stored timestamp as "2026-11-26 12:00"."""
    return safe_line((stamp or "")[:16].replace("T", " "))


class MappingTable(DataTable[Any]):
    """The file's columns, one per row: header, field, the first rows' values. Enter changes the field."""

    BINDINGS = [Binding("enter", "select_cursor", "Change field", id="import.field",
                        tooltip="Choose the field this column goes to (or ignore it)")]


class FieldPicker(DeskModal[str | None]):
    """Choose a column's field: type to narrow the list, enter to choose, escape to cancel."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="picker.cancel"),
        Binding("down", "move(1)", "Down", show=False, id="picker.down"),
        Binding("up", "move(-1)", "Up", show=False, id="picker.up"),
    ]
    DEFAULT_CSS = """
    FieldPicker #choices { height: auto; max-height: 14; }
    FieldPicker #picker-sample { color: $text-muted; height: auto; }
    """

    def __init__(self, header: str, current: str, choices: list[tuple[str, str]], sample: str,
                 overridden: bool) -> None:
        super().__init__()
        self.header = header
        self.current = current
        self.choices = [(IGNORE, "ignore: skip this column"), *choices]
        if overridden:
            self.choices.insert(0, (AUTO, "automatic: as the header says"))
        self.sample = sample

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(f"Field for column '{safe_line(self.header)}'"), classes="title")
            if self.sample:
                yield Static(Text("first value: " + truncate(safe_line(self.sample), 50)), id="picker-sample")
            yield Input(placeholder="type to narrow the list", id="filter")
            yield OptionList(id="choices")
            yield Label("↑↓ choose · enter take it · esc cancel", classes="muted")

    def on_mount(self) -> None:
        self._fill("")
        self.query_one("#filter", Input).focus()

    def _fill(self, text: str) -> None:
        wanted = text.strip().casefold()
        options = self.query_one("#choices", OptionList)
        shown = [(v, label) for v, label in self.choices
                 if not wanted or wanted in v.casefold() or wanted in label.casefold()]
        options.set_options([Option(self._prompt(v, label), id=f"f:{v}") for v, label in shown])
        current = next((i for i, (v, _l) in enumerate(shown) if v == self.current), 0)
        options.highlighted = current if shown else None

    @staticmethod
    def _prompt(value: str, label: str) -> Text:
        if value in (IGNORE, AUTO):
            return Text(label, style="italic")
        text = Text(value, style="bold")
        if label.casefold() != value.replace("_", " ").casefold():
            text.append(f"  {label}", style="dim")
        return text

    @on(Input.Changed, "#filter")
    def _narrow(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def action_move(self, step: int) -> None:
        options = self.query_one("#choices", OptionList)
        if options.option_count:
            options.highlighted = ((options.highlighted or 0) + step) % options.option_count

    @on(Input.Submitted, "#filter")
    def _take_highlighted(self) -> None:
        options = self.query_one("#choices", OptionList)
        if options.highlighted is not None:
            self._choose(options.get_option_at_index(options.highlighted).id)

    @on(OptionList.OptionSelected, "#choices")
    def _take_selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option.id)

    def _choose(self, option_id: str | None) -> None:
        if option_id is not None:
            self.dismiss(option_id.removeprefix("f:"))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ImportScreen(DeskScreen):
    """Import leads from a file: mapping, dry run, import with progress, rejected rows, past batches."""

    TITLE = "Import leads"
    CSS_PATH = "import_screen.tcss"
    BINDINGS = [
        Binding("d", "run(True)", "Dry run", id="import.dry_run",
                tooltip="Check every row and show what an import would do; writes nothing"),
        Binding("i", "run(False)", "Import", id="import.run", tooltip="Import the file (asks first)"),
        Binding("u", "undo_batch", "Undo batch", id="import.undo",
                tooltip="Remove the leads the highlighted import created, if untouched since (asks first)"),
        Binding("f", "file", "File", id="import.file", tooltip="Type another file's path"),
        Binding("s", "sheet", "Sheet", id="import.sheet", tooltip="Choose the sheet of the workbook to import"),
        Binding("m", "tab('mapping')", "Mapping", id="import.mapping", tooltip="The columns and their fields"),
        Binding("r", "tab('result')", "Result", id="import.result", tooltip="The last dry run or import"),
        Binding("b", "tab('batches')", "Batches", id="import.batches", tooltip="Past imports, with undo"),
        Binding("escape", "back", "Back", id="import.back", tooltip="Leave the field, or close the screen"),
    ]

    def __init__(self, path: str | None = None) -> None:
        super().__init__()
        self.initial = path or ""
        self.path: str | None = None  # the file of the preview shown
        self.preview: dict[str, Any] | None = None
        self.overrides: dict[str, str] = {}
        self.sheet: str | None = None  # the sheet asked for (None: the first)
        self.sheets: list[str] = []  # those of the workbook shown ([] for a CSV)
        self.result: dict[str, Any] | None = None
        self.batches: list[dict[str, Any]] = []
        self.busy = ""  # what is running: "", "preview", "dry run", "import", "undo"
        self._preview_seq = 0
        self._undoable = False
        self._shown_overrides: dict[str, str] = {}  # those of the preview shown
        self._shown_sheet: str | None = None  # the sheet asked for in the preview shown
        self._sheet_on_show: str | None = None  # the sheet read (the picker's value)
        self._info = Text()  # the file's line, without the unknown columns

    # -- layout ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="import-top"):
            with Horizontal(classes="row"):
                yield Label("File", classes="label")
                yield Input(self.initial, placeholder="path of a .csv or .xlsx file (~ works; → completes)",
                            id="path", compact=True, suggester=PathSuggester(IMPORTABLE))
                with Horizontal(id="sheet-box"):
                    yield Label("Sheet", classes="label short")
                    yield Select([(Text("first"), "")], value="", allow_blank=False, compact=True, id="sheet",
                                 tooltip="The sheet of the workbook to import")
            with Horizontal(classes="row"):
                yield Label("Duplicates", classes="label")
                yield Select(ON_DUPLICATE, value="skip", allow_blank=False, compact=True, id="on-duplicate",
                             tooltip="Rows whose phone or email is already a lead (or an earlier row)")
                yield Label("Unknown", classes="label short")
                yield Select(UNKNOWN, value="keep", allow_blank=False, compact=True, id="unknown",
                             tooltip="Columns that match no field")
            yield Static(Text("Type a file's path and press enter.", style="dim"), id="info")
            yield Static("", id="message")
            with Horizontal(id="progress-row"):
                yield Label("", id="progress-label")
                yield ProgressBar(id="progress", show_eta=False)
        with TabbedContent(id="tabs"):
            with TabPane("Mapping", id="tab-mapping"):
                yield MappingTable(id="mapping", cursor_type="row", zebra_stripes=True)
            with TabPane("Result", id="tab-result"):
                yield Static(Text("No dry run or import yet: d dry run, i import.", style="dim"), id="summary")
                yield DataTable(id="problems", cursor_type="row", zebra_stripes=True)
                yield Static("", id="problem")
            with TabPane("Batches", id="tab-batches"):
                yield DataTable(id="batches", cursor_type="row", zebra_stripes=True)
        yield QuietFooter()

    def on_mount(self) -> None:
        self.query_one("#problems", DataTable).add_columns("Line", "What", "Column", "Reason")
        self.query_one("#batches", DataTable).add_columns(
            "Batch", "When", "Who", "File", "Read", "New", "Upd", "Dup", "Rej", "Now", "State")
        self.query_one("#path", Input).focus()
        if self.initial:
            self.open_file(self.initial)

    # -- loading ---------------------------------------------------------------------------------
    def reload(self) -> None:
        """Past imports (the preview is read when a file is opened or its mapping changes)."""
        self.call(lambda desk: desk.import_batches(BATCHES), self._show_batches, group="import-batches")

    def open_file(self, text: str) -> None:
        """Read a file's mapping and first rows (a new file starts with the automatic mapping)."""
        path = expand(text)
        if not path:
            self._say("Type a file's path first.")
            return
        if path != self.path:
            self.overrides, self.sheet = {}, None
        self._load_preview(path)

    def _load_preview(self, path: str) -> None:
        self._preview_seq += 1
        seq, overrides, sheet = self._preview_seq, dict(self.overrides), self.sheet
        self.busy = "preview"

        def read(desk: Desk) -> tuple[dict[str, Any] | None, list[str], str]:
            sheets = desk.workbook_sheets(path)
            try:
                preview = desk.preview_import(path, overrides=overrides or None, sheet=sheet, rows=SAMPLE_ROWS)
            except LeadDeskError as exc:
                if len(sheets) < 2 or overrides:
                    raise
                return None, sheets, str(exc)  # a sheet that cannot be imported: the user picks another one
            return preview, sheets, ""

        def done(outcome: tuple[dict[str, Any] | None, list[str], str]) -> None:
            if seq != self._preview_seq:
                return
            preview, sheets, problem = outcome
            self.busy = ""
            first = self.path != path or self._shown_sheet != sheet  # another file, or another sheet of it
            if first:
                self._clear_result()
            else:
                self._mark_stale()
            self.path, self.preview, self._shown_overrides, self._shown_sheet = path, preview, overrides, sheet
            self._say(problem)
            self._show_sheets(sheets, preview["sheet"] if preview is not None else sheet or sheets[0])
            if preview is None:
                self._show_unreadable_sheet(path)
                return
            self._show_preview(preview)
            if first:
                self.action_tab("mapping")

        def failed(exc: LeadDeskError) -> None:
            if seq != self._preview_seq:
                return
            self.busy = ""
            self._say(str(exc))
            if path == self.path:  # a mapping or sheet change refused: back to the mapping and sheet shown
                self.overrides, self.sheet = dict(self._shown_overrides), self._shown_sheet
                self._show_sheets(self.sheets, self._sheet_on_show)
            if self.path is None:
                self.query_one("#path", Input).focus()
            self.refresh_bindings()

        self.call(read, done, failed=failed, group="import-preview", exclusive=True)

    def _show_sheets(self, sheets: list[str], current: str | None) -> None:
        """The sheet picker, shown for a workbook of several sheets, on the sheet read."""
        select = self.query_one("#sheet", Select)
        with self.prevent(Select.Changed):  # only the user's choice reloads the preview
            if sheets and sheets != self.sheets:
                select.set_options([(Text(truncate(safe_line(name), 30)), name) for name in sheets])
            if current in sheets:
                select.value = current
        self.sheets, self._sheet_on_show = sheets, current
        self.query_one("#sheet-box").set_class(len(sheets) > 1, "shown")

    def _show_unreadable_sheet(self, path: str) -> None:
        """A sheet that cannot be imported (the message says why): no mapping; the sheet picker has the focus."""
        info = Text(safe_line(os.path.basename(path)), style="bold")
        info.append(f" · Excel, sheet {safe_line(self._sheet_on_show or '')} · s chooses another sheet")
        self.query_one("#info", Static).update(info)
        self.query_one("#mapping", MappingTable).clear(columns=True)
        self.query_one("#sheet", Select).focus()
        self.refresh_bindings()

    def _show_preview(self, preview: dict[str, Any]) -> None:
        if preview["kind"] == "xlsx":
            kind = "Excel, sheet " + safe_line(preview["sheet"])
        else:
            encoding = ENCODINGS.get(preview["encoding"], safe_line(preview["encoding"]))
            delimiter = "tab" if preview["delimiter"] == "\t" else f"'{preview['delimiter']}'"
            kind = f"CSV, {encoding}, {delimiter}"
        rows = preview["rows"]
        info = Text()
        info.append(safe_line(os.path.basename(preview["file"])), style="bold")
        info.append(f" · {kind} · about {rows} row{'s' if rows != 1 else ''}")
        if preview["required"]:
            info.append(f" · required: {', '.join(preview['required'])}")
        self._info = info
        self._show_info()
        if preview["notes"]:  # (the unknown columns are counted on the line above, for the choice made)
            self._say(" · ".join(preview["notes"]), error=False)
        self._fill_mapping()
        self.refresh_bindings()

    def _show_info(self) -> None:
        """The file's line, with how many columns match no field and what becomes of them."""
        if self.preview is None:
            return
        info = self._info.copy()
        unknown = len(self.preview["unknown_columns"])
        if unknown:
            columns = f"{unknown} unknown column{'s' if unknown != 1 else ''}"
            info.append(f" · {columns} → description" if self._unknown() == "keep" else f" · {columns} ignored",
                        style="yellow")
        self.query_one("#info", Static).update(info)

    def _fill_mapping(self) -> None:
        preview = self.preview
        if preview is None:
            return
        table = self.query_one("#mapping", MappingTable)
        row = table.cursor_row
        table.clear(columns=True)
        table.add_column("Column", key="column")
        table.add_column("Field", key="field")
        for sample in preview["sample"]:
            table.add_column(f"line {sample['line']}")
        unknown = self._unknown()
        cells = sample_cells(preview)
        for index, entry in enumerate(preview["mapping"]):
            header = Text(truncate(safe_line(entry["column"]), CELL_WIDTH))
            if entry["column"] in self.overrides:
                header.append(" ✎", style="bold")
            values = [Text(truncate(safe_line(v), CELL_WIDTH)) for v in cells[index]]
            table.add_row(header, field_text(entry["field"], unknown, preview["required"]), *values,
                          key=str(index))
        if preview["mapping"]:
            table.move_cursor(row=min(row, len(preview["mapping"]) - 1))

    def _show_batches(self, batches: list[dict[str, Any]]) -> None:
        self.batches = batches
        table = self.query_one("#batches", DataTable)
        row = table.cursor_row
        table.clear()
        for b in batches:
            table.add_row(str(b["id"]), when(b["at"]), literal(b["user"]),
                          Text(truncate(safe_line(os.path.basename(b["file"] or "")), CELL_WIDTH)),
                          *(str(b[k] or 0) for k in ("rows_read", "imported", "updated", "duplicates", "rejected",
                                                     "leads")),
                          b["state"], key=str(b["id"]))
        if batches:
            table.move_cursor(row=min(row, len(batches) - 1))
        self._undoable = self._highlighted_batch() is not None
        self.refresh_bindings()

    # -- the mapping -----------------------------------------------------------------------------
    def _unknown(self) -> str:
        value = self.query_one("#unknown", Select).value
        return value if isinstance(value, str) else "keep"

    @on(Select.Changed, "#unknown")
    def _unknown_changed(self) -> None:
        self._show_info()
        self._fill_mapping()
        self._mark_stale()

    @on(Select.Changed, "#sheet")
    def _sheet_changed(self, event: Select.Changed) -> None:
        """Another sheet: its own columns, so the automatic mapping again."""
        if self.path is None or not isinstance(event.value, str) or event.value in ("", self._sheet_on_show):
            return
        if self.busy in ("import", "dry run", "undo"):
            self.notify(f"The {self.busy} is running: choose the sheet once it is done.", markup=False)
            self._show_sheets(self.sheets, self._sheet_on_show)
            return
        self.sheet, self.overrides = event.value, {}
        self._load_preview(self.path)

    def action_sheet(self) -> None:
        select = self.query_one("#sheet", Select)
        select.focus()
        select.expanded = True

    def _clear_result(self) -> None:
        """Another file: the result shown was another file's."""
        self.result = None
        self.query_one("#summary", Static).update(Text("No dry run or import yet: d dry run, i import.", style="dim"))
        self.query_one("#problems", DataTable).clear()
        self.query_one("#problem", Static).update("")

    @on(Select.Changed, "#on-duplicate")
    def _mark_stale(self) -> None:
        """A dry run shown is no longer what an import would do: say so (d runs it again)."""
        if self.result is not None and self.result["dry_run"] and not self.result.get("stale"):
            self.result["stale"] = True
            self._show_result(self.result)

    @on(DataTable.RowSelected, "#mapping")
    def _pick_field(self, event: DataTable.RowSelected) -> None:
        if self.preview is None or self.busy or event.row_key.value is None:
            return
        index = int(event.row_key.value)
        entry = self.preview["mapping"][index]
        header = entry["column"]
        sample = next((c for c in sample_cells(self.preview)[index] if c), "")
        picker = FieldPicker(header, entry["field"], field_choices(self.app.settings.custom_fields), sample,
                             header in self.overrides)

        def chosen(target: str | None) -> None:
            if target is None or self.path is None:
                return
            if target == AUTO:
                self.overrides.pop(header, None)
            elif target != entry["field"] or header in self.overrides:
                self.overrides[header] = target
            else:
                return
            self._load_preview(self.path)

        self.app.push_screen(picker, chosen)

    # -- dry run and import ----------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        try:
            tabs = self.query_one("#tabs", TabbedContent)
        except NoMatches:  # not composed yet
            return True
        if action == "run":
            return self.preview is not None and not self.busy
        if action == "undo_batch":
            return tabs.active == "tab-batches" and self._highlighted_batch() is not None and not self.busy
        if action == "tab":
            name = str(parameters[0])
            return tabs.active != f"tab-{name}" and (name != "result" or self.result is not None)
        if action == "file":
            return not self.query_one("#path", Input).has_focus
        if action == "sheet":
            return len(self.sheets) > 1 and not self.busy
        return True

    def action_run(self, dry_run: bool) -> None:
        if self.preview is None or self.path is None or self.busy:
            return
        if dry_run:
            self._start(True)
            return
        rows = self.preview["rows"]
        sheet = f", sheet {safe_line(self.preview['sheet'])}" if self.preview["kind"] == "xlsx" else ""
        question = (f"Import {os.path.basename(self.path)}{sheet} (about {rows} rows, duplicates:"
                    f" {self._choice('#on-duplicate')}, unknown columns: {self._unknown()})?")
        self.app.push_screen(ConfirmDialog(question, yes="Import"), lambda yes: self._start(False) if yes else None)

    def _choice(self, selector: str) -> str:
        value = self.query_one(selector, Select).value
        return value if isinstance(value, str) else ""

    def _start(self, dry_run: bool) -> None:
        if self.path is None or self.preview is None or self.busy:
            return
        path, overrides, sheet = self.path, dict(self.overrides), self.preview["sheet"]
        on_duplicate, unknown = self._choice("#on-duplicate") or "skip", self._unknown()
        self.busy = "dry run" if dry_run else "import"
        self._say("")
        self.query_one("#progress-label", Label).update(("Checking " if dry_run else "Importing ")
                                                        + safe_line(os.path.basename(path)))
        self.query_one("#progress", ProgressBar).update(total=None, progress=0)
        self.query_one("#progress-row").add_class("shown")
        self.refresh_bindings()
        app = self.app

        def progress(done: int, total: int) -> None:
            app.call_from_thread(self._progress, done, total)

        def job(desk: Desk) -> dict[str, Any]:
            return desk.import_leads(path, overrides=overrides or None, on_duplicate=on_duplicate, unknown=unknown,
                                     sheet=sheet, dry_run=dry_run, progress=progress)

        self.call(job, self._finished, failed=self._run_failed, group="import-run", changes=not dry_run)

    def _progress(self, done: int, total: int) -> None:
        self.query_one("#progress", ProgressBar).update(total=max(total, done, 1), progress=done)

    def _stop(self) -> None:
        self.busy = ""
        self.query_one("#progress-row").remove_class("shown")
        self.refresh_bindings()

    def _run_failed(self, exc: LeadDeskError) -> None:
        self._stop()
        self._say(str(exc))

    def _finished(self, summary: dict[str, Any]) -> None:
        self._stop()
        self.result = summary
        self._show_result(summary)
        self.action_tab("result")
        if not summary["dry_run"]:
            self.notify(f"Imported {summary['imported']} new leads from {os.path.basename(summary['file'])}"
                        f" (batch {summary['batch']})", markup=False)

    def _show_result(self, s: dict[str, Any]) -> None:
        name = safe_line(os.path.basename(s["file"]))
        text = Text()
        if s.get("stale"):
            text.append("The mapping or the options changed since this dry run: d runs it again.\n", style="yellow")
        if s["dry_run"]:
            text.append(f"Dry run of {name}: nothing was written.", style="bold")
        else:
            text.append(f"Imported {name} as batch {s['batch']}.", style="bold")
        duplicates = {"skip": "skipped", "update": "updated the lead", "create": "created anyway"}[s["on_duplicate"]]
        text.append(f"\nRead {s['read']} · new {s['imported']} · updated {s['updated']}"
                    f" · duplicates {s['duplicates']} ({duplicates}) · rejected {s['rejected']}")
        if s.get("warnings"):
            text.append(f" · warnings {s['warnings']}")
        if s["error_file"]:
            text.append("\nRows not imported: ")
            text.append(safe_line(s["error_file"]), style="bold")
            text.append(" (fix them there, then import that file)")
        elif s["dry_run"] and (s["rejected"] or s["duplicates"]):
            text.append("\nThe import writes the rows it does not take to an error file next to this one.")
        if s["more_problems"]:
            text.append(f"\n… and {s['more_problems']} more rows not listed below", style="italic")
        for note in s["notes"]:
            text.append("\n" + safe_line(note), style="dim")
        self.query_one("#summary", Static).update(text)
        table = self.query_one("#problems", DataTable)
        table.clear()
        style = {"rejected": "red", "duplicate": "yellow", "warning": "dim"}
        for p in s["problems"]:
            table.add_row(str(p["line"]), Text(p["kind"], style=style.get(p["kind"], "")),
                          Text(truncate(safe_line(p["column"]), 16)), literal(p["reason"]))
        self._show_problem(0)

    @on(DataTable.RowHighlighted, "#problems")
    def _problem_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_problem(event.cursor_row)

    def _show_problem(self, row: int) -> None:
        """The highlighted problem in full, under the table (its reason is often wider than the screen)."""
        problems = self.result["problems"] if self.result else []
        text = Text()
        if 0 <= row < len(problems):
            p = problems[row]
            text.append(f"line {p['line']}" + (f", column '{safe_line(p['column'])}'" if p["column"] else "") + ": ",
                        style="bold")
            text.append(safe_line(p["reason"]))
        self.query_one("#problem", Static).update(text)

    # -- batches ---------------------------------------------------------------------------------
    def _highlighted_batch(self) -> dict[str, Any] | None:
        table = self.query_one("#batches", DataTable)
        if not self.batches or not 0 <= table.cursor_row < len(self.batches):
            return None
        batch = self.batches[table.cursor_row]
        return batch if batch["state"] != "undone" or batch["leads"] else None

    def action_undo_batch(self) -> None:
        batch = self._highlighted_batch()
        if batch is None or self.busy:
            return
        question = (f"Undo import batch {batch['id']} ({os.path.basename(batch['file'] or '')})? It removes the"
                    f" {batch['leads']} leads it created that nobody has changed since; changed ones stay.")
        self.app.push_screen(ConfirmDialog(question, yes="Undo"),
                             lambda yes: self._undo(int(batch["id"])) if yes else None)

    def _undo(self, batch_id: int) -> None:
        self.busy = "undo"
        self.refresh_bindings()

        def done(outcome: dict[str, Any]) -> None:
            self.busy = ""
            message = f"Batch {outcome['batch']} undone: {outcome['removed']} leads removed"
            if outcome["kept"]:
                numbers = ", ".join(f"#{n}" for n in outcome["kept_numbers"])
                message += f"; {outcome['kept']} changed since were kept ({numbers})"
            if outcome["updated"]:
                message += f"; the {outcome['updated']} leads it updated keep those changes"
            self.notify(message, markup=False)
            self.refresh_bindings()

        def failed(exc: LeadDeskError) -> None:
            self.busy = ""
            self.notify(str(exc), severity="error", markup=False)
            self.refresh_bindings()

        self.call(lambda desk: desk.undo_import(batch_id), done, failed=failed, changes=True)

    @on(DataTable.RowHighlighted, "#batches")
    def _batch_highlighted(self) -> None:
        undoable = self._highlighted_batch() is not None
        if undoable != self._undoable:  # the footer is rebuilt only when u comes or goes
            self._undoable = undoable
            self.refresh_bindings()

    # -- navigation ------------------------------------------------------------------------------
    @on(Input.Submitted, "#path")
    def _path_submitted(self, event: Input.Submitted) -> None:
        self.open_file(event.value)

    def action_file(self) -> None:
        self.query_one("#path", Input).focus()

    def action_tab(self, name: str) -> None:
        tabs = self.query_one("#tabs", TabbedContent)
        tabs.active = f"tab-{name}"
        target = {"mapping": "#mapping", "result": "#problems", "batches": "#batches"}[name]
        self.query_one(target, DataTable).focus()
        self.refresh_bindings()

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self.refresh_bindings()

    def action_back(self) -> None:
        if self.busy in ("import", "dry run", "undo"):
            self.notify(f"The {self.busy} is running: it finishes in one go (all or nothing).", markup=False)
            return
        if self.query_one("#path", Input).has_focus:  # leave the field first (then letter keys work)
            self.action_tab(self.query_one("#tabs", TabbedContent).active.removeprefix("tab-") or "mapping")
            return
        self.app.pop_screen()

    def _say(self, message: str, *, error: bool = True) -> None:
        widget = self.query_one("#message", Static)
        widget.update(Text(truncate(safe_line(message), 600)))
        widget.set_class(bool(message), "shown")
        widget.set_class(error, "error")
