"""The Agenda view (key 4): follow-ups of open leads by day — Overdue, Today, Tomorrow, the next days by name,
Later — with their time, lead, company, status, owner and note.

The day groups are counted in one query (`Desk.agenda_groups`) and the rows paged in SQL (`Desk.agenda`); the
table draws only what is visible. `enter` opens the card, `d` marks the follow-up done (an optional note),
`s`/`f` reschedules it, `m` shows only mine or everyone's, `v` cycles the window (all, by today, this week,
overdue).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, WorkerState

from leaddesk.screens.base import DeskScreen
from leaddesk.store.errors import LeadDeskError
from leaddesk.store.queries import LeadFilter
from leaddesk.textsafe import safe_line
from leaddesk.widgets.agenda_table import PAGE, AgendaTable, Group

if TYPE_CHECKING:
    from collections.abc import Callable

    from leaddesk.screens.dialogs import FormDialog
    from leaddesk.store.desk import Desk

WINDOWS = (None, "by-today", "by-week", "overdue")
WINDOW_NAMES = {None: "all", "by-today": "due by today", "by-week": "due this week", "overdue": "overdue"}


class AgendaScreen(DeskScreen):
    """Follow-ups grouped by day, mine by default."""

    CSS_PATH = "agenda.tcss"
    AUTO_FOCUS = "#agenda"
    BINDINGS = [
        Binding("d", "done", "Done", id="agenda.done", tooltip="Mark the follow-up done (with an optional note)"),
        Binding("s,f", "reschedule", "Reschedule", id="agenda.reschedule", key_display="s",
                tooltip="Change the follow-up's date, time or note"),
        Binding("m", "mine", "Mine", id="agenda.mine", tooltip="Only my follow-ups, or everyone's"),
        Binding("v", "window", "Window", id="agenda.window",
                tooltip="All follow-ups, due by today, due this week, or overdue only"),
        Binding("r", "reload", "Reload", show=False, id="agenda.reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.flt = LeadFilter(mine=True, limit=PAGE)
        self._ticket = 0
        self._stay = False  # the next reload keeps the cursor's place, not its lead (after d or s: the next one)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="agenda-bar"):
            yield Static("", id="agenda-summary")
        yield AgendaTable(id="agenda")
        yield Footer()

    @property
    def table(self) -> AgendaTable:
        return self.query_one(AgendaTable)

    # -- loading -------------------------------------------------------------------------------------
    def reload(self, *, keep: bool = True) -> None:
        """Count the day groups and load the page around the cursor (the lead under it stays selected)."""
        self._ticket += 1
        ticket = self._ticket
        flt = replace(self.flt)
        table = self.table
        current = table.cursor_row if keep and not self._stay else None
        self._stay = False
        number = current["number"] if current else None
        cursor = table.cursor if keep else 0

        def work(desk: Desk) -> tuple[list[dict[str, Any]], dict[int, list[dict[str, Any]]]]:
            groups = desk.agenda_groups(flt)
            total = sum(g["count"] for g in groups)
            index = min(cursor, max(0, total - 1)) // PAGE
            pages = {index: desk.agenda(replace(flt, offset=index * PAGE))} if total else {}
            return groups, pages

        def done(result: tuple[list[dict[str, Any]], dict[int, list[dict[str, Any]]]]) -> None:
            if ticket != self._ticket:
                return
            groups, pages = result
            table.empty_text = ("No follow-ups: f on the board or a lead's card sets one" if flt.due is None
                                else f"No follow-ups {WINDOW_NAMES[flt.due]}")
            table.reset([Group.from_row(g) for g in groups], pages, keep=number, cursor=cursor)
            self._summary(groups)

        self.call(work, done, group="agenda-reload", exclusive=True)

    def on_agenda_table_page_wanted(self, message: AgendaTable.PageWanted) -> None:
        message.stop()
        table, offset, generation = message.table, message.offset, message.generation
        flt = replace(self.flt, offset=offset)

        def failed(exc: LeadDeskError) -> None:
            table.forget_wanted(offset)
            self.notify(safe_line(str(exc)), title="Cannot load the agenda", severity="error", markup=False)

        self.call(lambda d: d.agenda(flt), lambda rows: table.set_page(offset, rows, generation), failed=failed,
                  group="agenda-page")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.notify(safe_line(str(event.worker.error)), title="Something went wrong", severity="error",
                        markup=False)

    def _summary(self, groups: list[dict[str, Any]]) -> None:
        total = sum(g["count"] for g in groups)
        overdue = sum(g["count"] for g in groups if g["bucket"] == "overdue")
        parts = ["mine" if self.flt.mine else "everyone's", WINDOW_NAMES[self.flt.due],
                 f"{total:,} follow-up{'s' if total != 1 else ''}"]
        if overdue:
            parts.append(f"{overdue:,} overdue")
        self.query_one("#agenda-summary", Static).update(Text(" · ".join(parts)))

    # -- keys ----------------------------------------------------------------------------------------
    def on_agenda_table_opened(self, message: AgendaTable.Opened) -> None:
        message.stop()
        self.app.open_lead(message.number, message.siblings)  # type: ignore[attr-defined]

    def action_done(self) -> None:
        from leaddesk.screens.followup_dialog import DoneDialog

        def said(number: int, lead: dict[str, Any]) -> str:
            after = f"; next {lead['followup_on']}" if lead.get("followup_on") else ""
            return f"Follow-up of #{number} done{after}"

        self._ask(lambda row: DoneDialog(row["number"], row["version"]), said)

    def action_reschedule(self) -> None:
        from leaddesk.screens.followup_dialog import FollowupDialog, current_text

        self._ask(lambda row: FollowupDialog(row["number"], title="Reschedule"),
                  lambda number, lead: f"Follow-up of #{number}: {current_text(lead)}")

    def _ask(self, dialog: Callable[[dict[str, Any]], FormDialog],
             said: Callable[[int, dict[str, Any]], str]) -> None:
        """Open `dialog(row)` on the follow-up under the cursor; an answer is told with `said(number, lead)` and
        the reload it causes keeps the cursor's place (the next follow-up); a cancel reloads nothing."""
        row = self.table.cursor_row
        if row is None:
            return
        number = row["number"]

        self._stay = True

        def answered(lead: dict[str, Any] | None) -> None:
            if lead is None:
                self._stay = False  # cancelled: nothing reloads
            else:
                self.notify(said(number, lead), markup=False)

        self.app.push_screen(dialog(row), answered)

    def action_mine(self) -> None:
        self.flt = replace(self.flt, mine=not self.flt.mine)
        self.reload(keep=False)

    def action_window(self) -> None:
        at = WINDOWS.index(self.flt.due) if self.flt.due in WINDOWS else 0
        self.flt = replace(self.flt, due=WINDOWS[(at + 1) % len(WINDOWS)])
        self.reload(keep=False)

    def action_reload(self) -> None:
        self.reload()
