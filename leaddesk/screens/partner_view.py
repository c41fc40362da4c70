"""The partner's view (issue 7): what a partner user sees when they open `leaddesk`, and all they see.

Their partner's name, ROCS, CAC, leads, won and won value (spend too: seed 000 wants both sides to see what
works), "—" with the reason where a metric is undefined, and the status-only table of the leads they referred
(number, name, status, job value), for a period (`f`). Everything comes from one Desk read,
`my_partner_view`, the only one the service layer allows a partner; the app polls the database and this view
reloads when anyone changes a lead. Keys: f period [partner_view.period] · t theme [partner_view.theme] ·
? help · q quit; the app's other keys and the palette's lead finder offer a partner nothing.

`PeriodDialog` and `metric_parts` are shared with comarketing mode (screens/comarketing.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Header, Input, Label, Static

from leaddesk.screens.base import DeskScreen
from leaddesk.screens.dialogs import FormDialog
from leaddesk.store.errors import LeadDeskError
from leaddesk.store.reports import period_words
from leaddesk.store.rules import format_money
from leaddesk.textsafe import safe_line
from leaddesk.widgets.quiet_footer import QuietFooter
from leaddesk.widgets.status_table import StatusTable

if TYPE_CHECKING:
    from leaddesk.store.desk import Desk

DASH = "—"
Period = tuple[str | None, str | None]


def metric_parts(m: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) of each metric in the order shown: ROCS and CAC first, "—" where undefined."""
    rocs = DASH if m["rocs"] is None else f"{m['rocs']:,.1f}%"
    cac = DASH if m["cac"] is None else format_money(m["cac"])
    return [("ROCS", rocs), ("CAC", cac), ("Leads", f"{m['leads']:,}"), ("Won", f"{m['won']:,}"),
            ("Won value", format_money(m["won_value"])), ("Spend", format_money(m["spend"]))]


def metrics_text(m: dict[str, Any]) -> Text:
    """ROCS and CAC on a line, then the counts and money (each line fits 80 columns): labels dim, values bold."""
    text = Text()
    for i, (label, value) in enumerate(metric_parts(m)):
        if i:
            text.append("\n" if i == 2 else "   ")
        text.append(f"{label} ", style="dim")
        text.append(value, style="bold")
    return text


def why_text(whys: list[str | None], metric_names: tuple[str, ...] = ("ROCS", "CAC")) -> Text:
    """`— ROCS: no spend in the period · CAC: no leads in the period` (empty when every metric is defined)."""
    parts = [f"{name}: {why}" for name, why in zip(metric_names, whys, strict=True) if why]
    return Text(f"{DASH} " + " · ".join(parts), style="dim") if parts else Text("")


class PeriodDialog(FormDialog):
    """The period to show: first and last day (inclusive), each optional; dismisses with (since, until) as ISO
    days, checked by the store's rules (`Desk.period_of`, which reads nothing)."""

    title_text = "Period"
    DEFAULT_CSS = """
    PeriodDialog > Vertical { width: 56; }
    PeriodDialog .hint { color: $text-muted; }
    """

    def __init__(self, since: str | None, until: str | None) -> None:
        super().__init__()
        self.since, self.until = since, until

    def compose_fields(self) -> ComposeResult:
        yield Label("Leads created from the first day to the last (both optional).")
        yield Input(self.since or "", placeholder="From, e.g. 2026-11-01 or -30d", id="since")
        yield Input(self.until or "", placeholder="To, e.g. today", id="until")
        yield Static(Text("Dates: 2026-11-01, today, -30d, monday. Both empty: all time."), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#since", Input).focus()

    def action_submit(self) -> None:
        from leaddesk.store.desk import Desk

        try:
            chosen = Desk.period_of(self.query_one("#since", Input).value, self.query_one("#until", Input).value)
        except LeadDeskError as exc:
            self.show_error(str(exc))
            return
        self.dismiss(chosen)


class PartnerViewScreen(DeskScreen):
    """A partner user's desk: their partner's metrics and the status of the leads they referred."""

    for_partners = True

    TITLE = "Partner view"
    CSS_PATH = "partner_view.tcss"
    AUTO_FOCUS = "#pv-leads"
    BINDINGS = [
        Binding("f", "period", "Period", id="partner_view.period",
                tooltip="Show the leads created in a period (from, to); both empty: all time"),
        Binding("t", "app.change_theme", "Theme", id="partner_view.theme", tooltip="Pick a colour theme"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.since: str | None = None
        self.until: str | None = None
        self.view: dict[str, Any] | None = None
        """What the last read gave (None before it, or when the partner was refused)."""

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="pv-head"):
            yield Static(Text("Reading your leads…", style="dim"), id="pv-title")
            yield Static("", id="pv-metrics")
            yield Static("", id="pv-why")
        yield StatusTable(id="pv-leads")
        yield QuietFooter()

    @property
    def table(self) -> StatusTable:
        return self.query_one("#pv-leads", StatusTable)

    def reload(self) -> None:
        since, until = self.since, self.until

        def read(desk: Desk) -> dict[str, Any]:
            return desk.my_partner_view(since, until)

        self.call(read, self._show, failed=self._refused, group="partner-view", exclusive=True)

    def _show(self, view: dict[str, Any]) -> None:
        self.view = view
        title = Text(safe_line(view["partner"]["name"]), style="bold")
        title.append(f" · {period_words(view['since'], view['until'])}", style="")
        count = len(view["leads"])
        title.append(f" · {count:,} lead{'' if count == 1 else 's'} you referred", style="dim")
        self.query_one("#pv-title", Static).update(title)
        m = view["metrics"]
        self.query_one("#pv-metrics", Static).update(metrics_text(m))
        why = self.query_one("#pv-why", Static)
        why.update(why_text([m["why"]["rocs"], m["why"]["cac"]]))
        why.set_class(not (m["why"]["rocs"] or m["why"]["cac"]), "hidden")
        self.table.empty_text = "No leads in this period" if view["since"] or view["until"] else "No leads yet"
        self.table.show_rows(view["leads"])

    def _refused(self, exc: LeadDeskError) -> None:
        """The store said no (no partner linked to this login yet, the user deactivated meanwhile...): its words,
        and nothing shown."""
        self.view = None
        self.query_one("#pv-title", Static).update(Text(safe_line(str(exc)), style="bold red"))
        self.query_one("#pv-metrics", Static).update("")
        self.query_one("#pv-why", Static).add_class("hidden")
        self.table.empty_text = "Nothing to show"
        self.table.show_rows([], keep_cursor=False)

    def action_period(self) -> None:
        def chosen(period: Period | None) -> None:
            if period is not None and period != (self.since, self.until):
                self.since, self.until = period
                self.reload()

        self.app.push_screen(PeriodDialog(self.since, self.until), chosen)
