"""Comarketing mode (issue 7, seed 000), `P` on the desk for managers and reps, `P` again returns.

The partners' metrics over a period (leads, won, won value, spend, ROCS, CAC; "—" with the reason where one is
undefined) with a total row over all partners, and the leads partners referred (number, name, partner,
status, job value) in the status-only table the partner view uses. Metrics come from `Desk.comarketing`, the
leads a page at a time from `Desk.referred_leads`, both in workers. Keys: f period [comarketing.period] ·
enter opens the lead under the cursor [comarketing.open] · tab moves between the two tables · P returns
[comarketing.back; the app's P, app.comarketing, toggles it from every view].
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static
from textual.worker import Worker, WorkerState

from leaddesk.screens.base import DeskScreen
from leaddesk.screens.partner_view import Period, PeriodDialog, metric_parts
from leaddesk.store.errors import LeadDeskError
from leaddesk.store.reports import period_words
from leaddesk.textsafe import safe_line, truncate
from leaddesk.widgets.quiet_footer import QuietFooter
from leaddesk.widgets.status_table import PAGE, ReferredTable, StatusTable

if TYPE_CHECKING:
    from leaddesk.store.desk import Desk

COLUMNS = ("Partner", "Leads", "Won", "Won value", "Spend", "ROCS", "CAC")
NAME_WIDTH = 22
"""Partner names are cut to this on a narrow screen (80 columns), to twice it on a wide one."""


class PartnersTable(DataTable[Any]):
    """One row per partner with its metrics, then the total; moves with arrows or j/k."""

    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False, id="comarketing.partners_up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="comarketing.partners_down"),
    ]


class ComarketingScreen(DeskScreen):
    """The partners' ROCS and CAC, and the leads they referred."""

    TITLE = "Comarketing"
    CSS_PATH = "comarketing.tcss"
    AUTO_FOCUS = "#cm-leads"
    BINDINGS = [
        Binding("f", "period", "Period", id="comarketing.period",
                tooltip="Show the leads created and the spend in a period (from, to); both empty: all time"),
        Binding("P", "app.toggle_comarketing", "Back", id="comarketing.back",
                tooltip="Leave comarketing mode: back to the view it was opened from"),
        Binding("r", "reload", "Reload", show=False, id="comarketing.reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.since: str | None = None
        self.until: str | None = None
        self.head: dict[str, Any] | None = None
        self._ticket = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text("Reading the partners…", style="dim"), id="cm-summary")
        yield PartnersTable(id="cm-partners", cursor_type="row", zebra_stripes=True, show_cursor=True)
        yield Static("", id="cm-why")
        yield ReferredTable(id="cm-leads", empty_text="No leads from partners in this period")
        yield QuietFooter()

    def on_mount(self) -> None:
        table = self.query_one("#cm-partners", PartnersTable)
        for i, title in enumerate(COLUMNS):
            table.add_column(Text(title, justify="right" if i else "left"), key=title)

    @property
    def leads(self) -> ReferredTable:
        return self.query_one("#cm-leads", ReferredTable)

    # -- loading -------------------------------------------------------------------------------------
    def reload(self) -> None:
        self._ticket += 1
        ticket = self._ticket
        since, until = self.since, self.until
        current = self.leads.cursor_row
        keep = current["number"] if current else None

        def read(desk: Desk) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            return desk.comarketing(since, until), desk.referred_leads(since, until, 0, PAGE)

        def done(result: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
            if ticket == self._ticket:
                self._show(*result, keep=keep)

        self.call(read, done, group="comarketing-load", exclusive=True)

    def _show(self, head: dict[str, Any], first_page: list[dict[str, Any]], *, keep: int | None) -> None:
        self.head = head
        total = head["total"]
        partners = len(head["partners"])
        self.query_one("#cm-summary", Static).update(Text(
            f"Comarketing · {period_words(head['since'], head['until'])} · {partners} partner"
            f"{'' if partners == 1 else 's'} · {total['leads']:,} lead{'' if total['leads'] == 1 else 's'}"
            " referred"))
        table = self.query_one("#cm-partners", PartnersTable)
        at = table.cursor_row
        table.clear()
        for row in head["partners"]:
            name = truncate(safe_line(row["name"]), NAME_WIDTH if self.size.width < 100 else 2 * NAME_WIDTH)
            table.add_row(Text(name), *self._cells(row), key=f"p{row['id']}")
        table.add_row(Text("Total", style="bold"), *self._cells(total, bold=True), key="total")
        table.move_cursor(row=min(at, table.row_count - 1), animate=False)
        reasons = sorted({why for row in [*head["partners"], total] for why in row["why"].values() if why})
        self.query_one("#cm-why", Static).update(
            Text("— " + "; ".join(reasons), style="dim") if reasons else Text(""))
        self.leads.reset(total["leads"], first_page, keep=keep, cursor=self.leads.cursor)

    @staticmethod
    def _cells(m: dict[str, Any], *, bold: bool = False) -> list[Text]:
        values = dict(metric_parts(m))
        return [Text(values[c], justify="right", style="bold" if bold else "") for c in COLUMNS[1:]]

    def on_status_table_page_wanted(self, message: StatusTable.PageWanted) -> None:
        message.stop()
        table, offset, generation = message.table, message.offset, message.generation
        since, until = self.since, self.until

        def failed(exc: LeadDeskError) -> None:
            table.forget_wanted(offset)
            self.notify(safe_line(str(exc)), title="Cannot load the leads", severity="error", markup=False)

        self.call(lambda d: d.referred_leads(since, until, offset, PAGE),
                  lambda rows: table.set_page(offset, rows, generation), failed=failed, group="comarketing-page")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.notify(safe_line(str(event.worker.error)), title="Something went wrong", severity="error",
                        markup=False)

    # -- keys ----------------------------------------------------------------------------------------
    def on_status_table_opened(self, message: StatusTable.Opened) -> None:
        message.stop()
        self.app.open_lead(message.number, message.siblings)  # type: ignore[attr-defined]

    def action_period(self) -> None:
        def chosen(period: Period | None) -> None:
            if period is not None and period != (self.since, self.until):
                self.since, self.until = period
                self.reload()

        self.app.push_screen(PeriodDialog(self.since, self.until), chosen)

    def action_reload(self) -> None:
        self.reload()
