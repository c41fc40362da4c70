"""The Reports view (key 5): the seven reports of `leaddesk report` (store/reports.py) as a chart and a table.

A strip of report names on top (`[`/`]` step through them, `p` picks one, a click works too), the applied
filters in one line, the chart (widgets/report_chart.py: bars, columns over time for volume, a funnel), the table
with its totals row, and the report's notes. `F` filters (period, owner, source, type, partner), `b` groups volume
by day, week or month, `e` exports the report shown to a CSV file. The report is computed by the store in a
worker and recomputed when the data changes; nothing is queried until the view is first shown.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Mount, ScreenResume
from textual.widgets import DataTable, Footer, Header, Static, Tab, Tabs

from leaddesk.screens.base import DeskScreen
from leaddesk.store.reports import REPORTS, Report, ReportFilters, format_value
from leaddesk.textsafe import safe_line
from leaddesk.widgets.report_chart import Bar, ChartData, ChartKind, ReportChart

SHORT = {"volume": "Volume", "sources": "Sources", "velocity": "Velocity", "funnel": "Funnel",
         "owners": "Owners", "lost": "Lost", "pipeline": "Pipeline"}
"""The strip's names (REPORTS' titles are too long for 80 columns); the filter line shows the full title."""
ORDER = tuple(SHORT)
BY = ("day", "week", "month")
NUMERIC_KINDS = frozenset({"int", "money", "percent", "duration"})
"""Column kinds shown right-aligned."""
FILTER_KEYS = ("owner", "source", "type", "partner")


def chart_data(report: Report) -> ChartData | None:
    """The chart of a report: its `chart` columns as bars (columns over time for volume, a funnel for the
    funnel); None when the report has no chart or no rows."""
    chart = report.chart
    if chart is None or not report.rows:
        return None
    kinds = {c.key: c.kind for c in report.columns}
    value_kind = kinds.get(chart.value, "int")
    kind: ChartKind = "funnel" if chart.kind == "funnel" else "columns" if report.name == "volume" else "bars"
    group = report.columns[0].key  # e.g. the pipeline of a stage: named with the label when there are several
    grouped = group != chart.label and kinds[group] == "text" and len({r.get(group) for r in report.rows}) > 1

    def label(row: dict[str, Any]) -> str:
        text = "—" if row.get(chart.label) is None else str(row[chart.label])
        return f"{row.get(group)} · {text}" if grouped else text

    bars = tuple(Bar(label(row), row.get(chart.value), format_value(value_kind, row.get(chart.value)))
                 for row in report.rows)
    labels = {c.key: c.label for c in report.columns}
    return ChartData(kind, bars, caption=labels.get(chart.value, ""))


def filter_line(report: Report) -> str:
    """The report's title and the filters it applied, in one line (names as the store resolved them)."""
    parts = [report.title, report.period]
    applied = report.filters or {}
    parts += [f"{key} {applied[key]}" for key in FILTER_KEYS if applied.get(key)]
    if report.name == "volume" and applied.get("by"):
        parts.append(f"by {applied['by']}")
    return " · ".join(p for p in parts if p)


def table_cells(report: Report, row: dict[str, Any], *, bold: bool = False) -> list[Text]:
    """A row's cells, formatted by column kind; numbers right-aligned, text literal."""
    cells = []
    for column in report.columns:
        shown = safe_line(format_value(column.kind, row.get(column.key)))
        cells.append(Text(shown, style="bold" if bold else "",
                          justify="right" if column.kind in NUMERIC_KINDS else "left"))
    return cells


class ReportsScreen(DeskScreen):
    """One report at a time: chart, table, notes; filters and export."""

    CSS_PATH = "reports.tcss"
    AUTO_FOCUS = "#report-table"
    BINDINGS = [
        Binding("left_square_bracket", "step(-1)", "Prev", id="reports.previous", key_display="[", show=False,
                tooltip="The previous report"),
        Binding("right_square_bracket", "step(1)", "Next", id="reports.next", key_display="]",
                tooltip="The next report"),
        Binding("p", "pick", "Pick", id="reports.pick", show=False, tooltip="Pick a report from the list"),
        Binding("F", "filters", "Filter", id="reports.filter",
                tooltip="Period (from, to), owner, source, type, partner"),
        Binding("b", "by", "By", id="reports.by", tooltip="Lead volume by day, week or month"),
        Binding("e", "export", "Export", id="reports.export", tooltip="Write the report shown to a CSV file"),
        Binding("r", "reload", "Reload", show=False, id="reports.reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.report_name = ORDER[0]
        self.filters: dict[str, str | None] = dict.fromkeys(("since", "until", "owner", "source", "type", "partner"))
        self.by = "week"
        self.report: Report | None = None
        """The report shown (None until the first one arrives)."""
        self._ticket = 0

    def compose(self) -> ComposeResult:
        yield Header()
        tabs = Tabs(*[Tab(label, id=f"report-{name}") for name, label in SHORT.items()], id="report-tabs")
        tabs.can_focus = False
        yield tabs
        yield Static("", id="report-filters")
        chart = ReportChart(id="report-chart")
        chart.display = False  # until a report with a chart arrives
        yield chart
        yield DataTable(id="report-table", cursor_type="row", zebra_stripes=True)
        notes = Static("", id="report-notes")
        notes.display = False
        yield notes
        yield Footer()

    @on(Mount)
    @on(ScreenResume)
    def _wait_until_shown(self, event: Mount | ScreenResume) -> None:
        """Built ahead by the app's warm-up (mounted and resumed while another view shows): compute nothing
        until the view is really shown (DeskScreen's on_mount / on_screen_resume would compute it now)."""
        if not self.is_shown:
            event.prevent_default()

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#report-table", DataTable)

    # -- loading -------------------------------------------------------------------------------------
    def current_filters(self) -> ReportFilters:
        return ReportFilters(**self.filters, by=self.by)  # type: ignore[arg-type]

    def reload(self) -> None:
        """Compute the report shown (in a worker); the table keeps its cursor row."""
        self._ticket += 1
        ticket, name, filters = self._ticket, self.report_name, self.current_filters()
        if self.report is None or self.report.name != name:  # a live refresh keeps the report shown meanwhile
            self.query_one("#report-filters", Static).update(Text(f"{REPORTS.get(name, name)} · computing…"))

        def done(report: Report) -> None:
            if ticket == self._ticket:
                self.show_report(report)

        self.call(lambda desk: desk.report(name, filters), done, group="report", exclusive=True)

    def show_report(self, report: Report) -> None:
        """Show a computed report: the filter line, chart, table and notes."""
        same = self.report is not None and self.report.name == report.name
        self.report = report
        self.query_one("#report-filters", Static).update(Text(safe_line(filter_line(report))))
        self.query_one(ReportChart).show(chart_data(report))
        table = self.table
        cursor = table.cursor_row if same else 0
        rows = [table_cells(report, row) for row in report.rows]
        if report.totals:
            rows.append(table_cells(report, report.totals, bold=True))
        labels = [Text(c.label, justify="right" if c.kind in NUMERIC_KINDS else "left") for c in report.columns]
        with self.app.batch_update():
            table.clear(columns=True)
            for i, (column, label) in enumerate(zip(report.columns, labels, strict=True)):
                # sized here, not on the table's next idle turn: no frame with the last report's widths
                width = max(label.cell_len, *(r[i].cell_len for r in rows)) if rows else label.cell_len
                table.add_column(label, key=column.key, width=width)
            for cells in rows:
                table.add_row(*cells)
            if table.row_count:
                table.move_cursor(row=min(cursor, table.row_count - 1), animate=False)
        notes = list(report.notes) if report.rows else ["Nothing to show with these filters", *report.notes]
        shown = self.query_one("#report-notes", Static)
        shown.update(Text("\n".join(safe_line(n) for n in notes)))
        shown.display = bool(notes)
        self.refresh_bindings()

    # -- keys ----------------------------------------------------------------------------------------
    def choose(self, name: str) -> None:
        """Show report `name` (its filters stay)."""
        if name == self.report_name:
            return
        self.report_name = name
        self.query_one(Tabs).active = f"report-{name}"
        self.refresh_bindings()
        self.reload()

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        event.stop()
        # A stale activation (keys moved the tabs on since it was posted) would bounce the choice back: only the
        # tab active now counts.
        if event.tab is not None and event.tab.id and event.tab.id == event.tabs.active:
            self.choose(event.tab.id.removeprefix("report-"))

    def action_step(self, step: int) -> None:
        self.choose(ORDER[(ORDER.index(self.report_name) + step) % len(ORDER)])

    def action_pick(self) -> None:
        from leaddesk.screens.leads import PickDialog

        options = [(name, f"{i}  {SHORT[name]}") for i, name in enumerate(ORDER, 1)]
        keys = {str(i): name for i, name in enumerate(ORDER, 1)}

        def picked(name: str | None) -> None:
            if name is not None:
                self.choose(name)

        self.app.push_screen(PickDialog("Report", options, keys=keys, hint="1–7 or enter picks · esc cancels"),
                             picked)

    def action_by(self) -> None:
        self.by = BY[(BY.index(self.by) + 1) % len(BY)]
        self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "by":
            return self.report_name == "volume"
        if action == "export":
            return self.report is not None and self.report.name == self.report_name
        return True

    def action_filters(self) -> None:
        from leaddesk.screens.report_dialogs import ReportFilterDialog

        def chosen(values: dict[str, str | None] | None) -> None:
            if values is not None and values != self.filters:
                self.filters = values
                self.reload()

        self.app.push_screen(ReportFilterDialog(dict(self.filters)), chosen)

    def action_export(self) -> None:
        from leaddesk.screens.report_dialogs import ExportDialog

        report = self.report
        if report is None:
            return

        def written(result: tuple[str, int] | None) -> None:
            if result is not None:
                path, rows = result
                self.notify(safe_line(f"{report.title}: {rows} row{'' if rows == 1 else 's'} written to {path}"),
                            title="Exported", markup=False)

        self.app.push_screen(ExportDialog(report), written)

    def action_reload(self) -> None:
        self.reload()
