"""The Reports view's questions: the filters (`F`) and the CSV export (`e`)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static

from leaddesk.screens.base import DeskModal, literal
from leaddesk.screens.dialogs import FormDialog
from leaddesk.store.errors import LeadDeskError
from leaddesk.textsafe import safe_line
from leaddesk.widgets.path_suggester import PathSuggester, expand

if TYPE_CHECKING:
    from leaddesk.store.desk import Desk
    from leaddesk.store.reports import Report

CHOICES = ("owner", "source", "type", "partner")
DATES = ("since", "until")


def read_date(text: str, what: str) -> str | None:
    """A typed date as an ISO date (None when blank), read like every date in leaddesk (dates.parse_when:
    2026-10-01, today, yesterday, -30d, -2w, -1m, monday…); ValueError with a one-line message."""
    from leaddesk import clock
    from leaddesk.dates import parse_when

    if not text.strip():
        return None
    try:
        return parse_when(text, clock.today()).isoformat()
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None


class ReportFilterDialog(DeskModal[dict[str, str | None] | None]):
    """The report's filters: a period (first and last day, inclusive) and owner, source, type, partner;
    blank means any. Dismisses with {since, until, owner, source, type, partner} (dates as ISO)."""

    DEFAULT_CSS = """
    ReportFilterDialog > Vertical { width: 64; }
    ReportFilterDialog Grid { grid-size: 2; grid-columns: 8 1fr; grid-rows: 1; grid-gutter: 0 1; height: auto; }
    ReportFilterDialog Grid Label { color: $text-muted; }
    ReportFilterDialog Select, ReportFilterDialog Input { width: 100%; }
    ReportFilterDialog .hint { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="report-filter.cancel"),
                Binding("ctrl+s", "apply", "Apply", id="report-filter.apply"),
                Binding("ctrl+r", "clear", "Clear all", id="report-filter.clear")]

    def __init__(self, current: dict[str, str | None]) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        cur = self.current
        with Vertical():
            yield Label("Filter the report", classes="title")
            with Grid():
                yield Label("From")
                yield Input(cur.get("since") or "", placeholder="first day (2026-10-01, -30d, …)", id="since",
                            compact=True)
                yield Label("To")
                yield Input(cur.get("until") or "", placeholder="last day (today, 2026-10-31, …)", id="until",
                            compact=True)
                yield Label("Owner")
                yield Select[str]([], prompt="anyone", id="owner", compact=True)
                yield Label("Source")
                yield Select[str]([], prompt="any source", id="source", compact=True)
                yield Label("Type")
                yield Select[str]([], prompt="any type", id="type", compact=True)
                yield Label("Partner")
                yield Select[str]([], prompt="any partner", id="partner", compact=True)
            yield Static("", classes="error", id="error")
            yield Static("leads created in the period count · ctrl+s applies · ctrl+r clears · esc cancels",
                         classes="hint")
            with Horizontal(classes="buttons"):
                yield Button("Clear", id="clear")
                yield Button("Cancel", id="cancel")
                yield Button("Apply", id="apply", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#since", Input).focus()

        def choices(desk: Desk) -> dict[str, list[str]]:
            return {"owner": [u["login"] for u in desk.users()],
                    "source": [s["name"] for s in desk.catalog_list("sources")],
                    "type": [t["name"] for t in desk.catalog_list("types")],
                    "partner": [p["name"] for p in desk.partners()]}

        self.call(choices, self._fill)

    def _fill(self, choices: dict[str, list[str]]) -> None:
        for key, names in choices.items():
            select: Select[str] = self.query_one(f"#{key}", Select)
            select.set_options([(literal(n), n) for n in names])
            wanted = self.current.get(key)
            match = next((n for n in names if wanted is not None and n.casefold() == wanted.casefold()), None)
            if match is not None:
                select.value = match

    def values(self) -> dict[str, str | None]:
        """The chosen filters; ValueError (one line) for a date that cannot be read or a period backwards."""
        since = read_date(self.query_one("#since", Input).value, "from")
        until = read_date(self.query_one("#until", Input).value, "to")
        if since and until and since > until:
            raise ValueError(f"the period starts ({since}) after it ends ({until})")
        chosen: dict[str, str | None] = {"since": since, "until": until}
        for key in CHOICES:
            value = self.query_one(f"#{key}", Select).value
            chosen[key] = value if isinstance(value, str) else None
        return chosen

    def on_button_pressed(self, event: Button.Pressed) -> None:
        {"apply": self.action_apply, "clear": self.action_clear}.get(event.button.id or "", self.action_cancel)()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.action_apply()

    def action_apply(self) -> None:
        try:
            chosen = self.values()
        except ValueError as exc:
            self.query_one("#error", Static).update(Text(safe_line(str(exc))))
            return
        self.dismiss(chosen)

    def action_clear(self) -> None:
        for select in self.query(Select):
            select.clear()
        for key in DATES:
            self.query_one(f"#{key}", Input).value = ""
        self.query_one("#error", Static).update("")

    def action_cancel(self) -> None:
        self.dismiss(None)


def write_csv(report: Report, path: str) -> int:
    """Write `report` to a CSV file as `leaddesk report NAME --csv` prints it (a header of column keys, the rows
    without the totals; values as in the JSON: money in currency units, percentages as numbers, durations in
    seconds, "" for undefined), atomically through the lead export's writer. Returns the rows written;
    RuleError for a folder that does not exist."""
    from leaddesk.store.exporting import write_export
    from leaddesk.store.reports import json_value

    values = ([json_value(c.kind, row.get(c.key)) for c in report.columns] for row in report.rows)
    return write_export(values, [c.key for c in report.columns], "csv", path)


def default_path(report: Report) -> str:
    """Where an export goes unless the user types another path: the report's name and today, here."""
    from leaddesk import clock

    return f"leaddesk-{report.name}-{clock.today().isoformat()}.csv"


class ExportDialog(FormDialog):
    """Ask for a CSV path and write the report there (in a thread); an existing file is replaced only after a
    second ctrl+s/enter. Dismisses with (path written, rows written)."""

    def __init__(self, report: Report) -> None:
        super().__init__()
        self.report = report
        self.title_text = f"Export “{report.title}” to a CSV file"
        self._replace: str | None = None  # the existing file a second submit replaces

    def compose_fields(self) -> ComposeResult:
        yield Input(default_path(self.report), placeholder="path of the .csv file (~ works; → completes)",
                    id="path", suggester=PathSuggester((".csv",)))

    def action_submit(self) -> None:
        path = expand(self.query_one("#path", Input).value)
        if not path:
            self.show_error("type the path of the CSV file to write")
            return
        report, replace = self.report, self._replace == path

        def write() -> None:
            try:
                if os.path.isdir(path):
                    self.app.call_from_thread(self.show_error, f"{path} is a folder: type a file name")
                    return
                if os.path.exists(path) and not replace:
                    self.app.call_from_thread(self._ask_replace, path)
                    return
                rows = write_csv(report, path)
            except LeadDeskError as exc:
                self.app.call_from_thread(self.show_error, str(exc))
                return
            except OSError as exc:
                self.app.call_from_thread(self.show_error, f"cannot write {path}: {exc.strerror or exc}")
                return
            self.app.call_from_thread(self.dismiss, (os.path.abspath(path), rows))

        self.run_worker(write, thread=True, group="export", exclusive=True, exit_on_error=False)

    def _ask_replace(self, path: str) -> None:
        self._replace = path
        self.show_error(f"{path} exists: ctrl+s again replaces it")

    def on_input_changed(self, _event: Input.Changed) -> None:
        self._replace = None
        self.show_error("")
