"""The List view: every lead in a virtualised table, with search, filters, sort and bulk changes.

Filtering, sorting and paging happen in SQL (`Desk.lead_page` / `Desk.list_leads`); the table
draws only the visible rows and asks for missing pages with `LeadTable.PageWanted`, which this
screen answers from a worker. Bulk changes go through the service API one lead at a time, so
every workflow rule applies to each lead; refusals are counted and the first one is shown.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.events import Key
from textual.timer import Timer
from textual.widgets import Button, Checkbox, Footer, Header, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from leaddesk.screens.base import DeskModal, SearchBoxScreen, literal
from leaddesk.screens.dialogs import TextDialog
from leaddesk.store.desk import Desk
from leaddesk.store.errors import LeadDeskError
from leaddesk.store.queries import LeadFilter
from leaddesk.textsafe import safe_line
from leaddesk.widgets.lead_table import COLUMNS, PAGE, LeadTable

SEARCH_DELAY = 0.25
"""Seconds of quiet typing before the search runs."""
SELECT_ALL_LIMIT = 5000
"""`a` marks at most this many matching leads."""
STATES = (None, "open", "closed")
DUE_NAMES = {"today": "due today", "week": "due this week", "overdue": "overdue"}
SLA_NAMES = {"breached": "SLA breached", "pending": "SLA not yet due", "met": "SLA met", "missed": "SLA missed"}
CLOSED = ("won", "lost")


def _whole(text: str) -> int | None:
    """A typed whole number, or None (empty or just a sign)."""
    try:
        return int(text.strip())
    except ValueError:
        return None


def _cycle(values: list[Any], current: Any) -> Any:
    return values[(values.index(current) + 1) % len(values)] if current in values else values[0]


class ListScreen(SearchBoxScreen):
    """Leads in a table: `/` search, `f` filters, `s` sort, space to select, `b` bulk changes."""

    CSS_PATH = "leads.tcss"
    BINDINGS = [
        # priority: handled as the key arrives, so "/acme" typed fast lands in the box (see check_action)
        Binding("slash", "search", "Search", id="list.search", tooltip="Search name, company, email, phone",
                priority=True),
        Binding("escape", "escape", "Back", show=False, id="list.escape",
                tooltip="Leave the search box; else clear the search; else unmark all"),
        Binding("f", "filter", "Filter", id="list.filter", tooltip="Status, source, zone, type, owner, due, SLA"),
        Binding("s", "sort", "Sort", id="list.sort", tooltip="Sort by the next column"),
        Binding("S", "reverse", "Reverse", show=False, id="list.reverse", tooltip="Reverse the sort order"),
        Binding("m", "mine", "Mine", show=False, id="list.mine", tooltip="Only my leads, or everyone's"),
        Binding("o", "state", "Open/closed", show=False, id="list.state", tooltip="Open, closed or all leads"),
        Binding("a", "select_all", "Select all", show=False, id="list.select_all",
                tooltip="Mark every matching lead, or unmark all"),
        Binding("b", "bulk", "Bulk", id="list.bulk", tooltip="Change status, owner or follow-up of marked leads"),
        Binding("n", "new", "New", id="list.new", tooltip="Add a lead"),
        Binding("r", "reload", "Reload", show=False, id="list.reload"),
        Binding("down", "to_table", "To the table", show=False, id="list.to_table"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.flt = LeadFilter(limit=None)
        """What the table shows (filters, search, sort); pages are cut from it with offset/limit."""
        self._query_id = 0
        self._search_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="filterbar"):
            yield Input(placeholder="/ search", id="search", compact=True)
            yield Static(id="filters")
        yield LeadTable(id="leads")
        yield Footer()

    @property
    def table(self) -> LeadTable:
        return self.query_one(LeadTable)

    def on_mount(self) -> None:
        self.table.focus()
        self._show_filters()

    # -- loading ------------------------------------------------------------------------------
    def reload(self) -> None:
        """Re-count and reload around the cursor, keeping it on the same lead when it is still there."""
        self._query(keep=True)

    def _query(self, keep: bool) -> None:
        """Run the current filter: count, plus the pages around the cursor (or the first ones)."""
        table = self.table
        self._query_id += 1
        query_id = self._query_id
        flt = replace(self.flt, limit=None, offset=0)
        cursor = table.cursor if keep else 0
        lead = table.cursor_lead if keep else None
        number = lead["number"] if lead is not None else None
        first = max(0, cursor // PAGE - 1)
        # A lead kept under the cursor: the pages around it (it may have moved a little). Else one page, so the
        # result shows sooner; the table asks for the next one itself (PageWanted).
        pages_wanted = 3 if number is not None else 1

        def fetch(desk: Desk) -> tuple[int, list[dict[str, Any]]]:
            return desk.lead_page(replace(flt, offset=first * PAGE, limit=pages_wanted * PAGE))

        def done(result: tuple[int, list[dict[str, Any]]]) -> None:
            if query_id != self._query_id:
                return
            total, rows = result
            pages = {first + i: rows[i * PAGE:(i + 1) * PAGE] for i in range(pages_wanted)
                     if rows[i * PAGE:(i + 1) * PAGE]}
            table.set_sort(flt.sort, flt.descending)
            table.reset(total, pages=pages, cursor=cursor, keep=number)
            self._show_filters()

        def failed(exc: LeadDeskError) -> None:
            self.notify(str(exc), title="Cannot list the leads", severity="error", markup=False)
            if table.total is None:
                table.reset(0)

        self.call(fetch, done, failed=failed, group="list-query")

    @on(LeadTable.PageWanted)
    def load_page(self, message: LeadTable.PageWanted) -> None:
        """Fetch one page for the table (skipped when the user has already scrolled past it)."""
        table, offset, generation = message.table, message.offset, message.generation
        if generation != table.generation:
            return
        if not table.page_needed(offset):
            table.forget_wanted(offset)
            return
        flt = replace(self.flt, offset=offset, limit=PAGE)

        def failed(exc: LeadDeskError) -> None:
            self.notify(str(exc), title="Cannot load leads", severity="error", markup=False)

        def fetch(desk: Desk) -> list[dict[str, Any]] | None:
            # Workers queue on the one connection: a page scrolled past while waiting is not worth a query.
            return desk.list_leads(flt) if table.page_needed(offset) else None

        def done(rows: list[dict[str, Any]] | None) -> None:
            if rows is None:
                table.forget_wanted(offset)
            else:
                table.set_page(offset, rows, generation)

        self.call(fetch, done, failed=failed, group="list-page")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """An unexpected error in a worker (not a refusal, which `call` reports) becomes a notification."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            self.notify(safe_line(f"{type(error).__name__}: {error}"), title="Something went wrong",
                        severity="error", markup=False)

    # -- the filter bar -----------------------------------------------------------------------
    def _show_filters(self) -> None:
        flt, table = self.flt, self.table
        parts: list[str] = []
        if table.total is not None:
            parts.append(f"{table.total:,} lead{'s' if table.total != 1 else ''}")
        if flt.state:
            parts.append(flt.state)
        if flt.mine:
            parts.append("mine")
        elif flt.owner:
            parts.append(f"owner {flt.owner}")
        parts.extend(flt.statuses)
        for label, value in (("source", flt.source), ("type", flt.type), ("zone", flt.zone)):
            if value:
                parts.append(f"{label} {value}")
        if flt.due:
            parts.append(DUE_NAMES.get(flt.due, flt.due))
        if flt.sla:
            parts.append(SLA_NAMES.get(flt.sla, flt.sla))
        if flt.min_score is not None:
            parts.append(f"score ≥ {flt.min_score}")
        title = next((c.title for c in COLUMNS if c.key == flt.sort), flt.sort)
        parts.append(f"by {title.lower() if title != '#' else 'number'}{'▼' if flt.descending else '▲'}")
        if table.marked:
            parts.append(f"{len(table.marked)} selected")
        text = Text(safe_line(" · ".join(parts)), no_wrap=True, overflow="ellipsis")
        if table.marked:
            text.stylize("bold", len(text) - len(f"{len(table.marked)} selected"))
        self.query_one("#filters", Static).update(text)

    def on_lead_table_marks_changed(self, _message: LeadTable.MarksChanged) -> None:
        self._show_filters()

    def _requery(self) -> None:
        self._show_filters()
        self._query(keep=False)

    # -- search -------------------------------------------------------------------------------
    def action_to_table(self) -> None:
        self.set_focus(self.table)

    @on(Input.Changed, "#search")
    def _search_typed(self, _event: Input.Changed) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DELAY, self._apply_search)

    @on(Input.Submitted, "#search")
    def _search_submitted(self, _event: Input.Submitted) -> None:
        self._apply_search()
        self.set_focus(self.table)

    def _apply_search(self) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
            self._search_timer = None
        text = self.query_one("#search", Input).value.strip() or None
        if text != self.flt.search:
            self.flt.search = text
            self._requery()

    def action_escape(self) -> None:
        search = self.query_one("#search", Input)
        if self.focused is search:
            self._apply_search()
            self.set_focus(self.table)
        elif search.value:
            search.value = ""
            self._apply_search()
        elif self.table.marked:
            self.table.clear_marks()

    # -- sort and quick filters ---------------------------------------------------------------
    def action_sort(self) -> None:
        self.flt.sort = _cycle(self.table.column_keys, self.flt.sort)
        self.flt.descending = self.flt.sort == "score"  # the best-scored leads first (S reverses)
        self._requery()

    def action_reverse(self) -> None:
        self.flt.descending = not self.flt.descending
        self._requery()

    def action_mine(self) -> None:
        self.flt.mine = not self.flt.mine
        if self.flt.mine:
            self.flt.owner = None
        self._requery()

    def action_state(self) -> None:
        self.flt.state = _cycle(list(STATES), self.flt.state)
        self._requery()

    def action_filter(self) -> None:
        def chosen(values: dict[str, Any] | None) -> None:
            if values is not None:
                self.flt = replace(self.flt, **values)
                self._requery()

        self.app.push_screen(FilterDialog(self.flt), chosen)

    def action_reload(self) -> None:
        self.reload()

    def action_new(self) -> None:
        self.app.new_lead()  # type: ignore[attr-defined]

    def on_lead_table_opened(self, message: LeadTable.Opened) -> None:
        self.app.open_lead(message.number, message.siblings)  # type: ignore[attr-defined]

    # -- selection and bulk changes -----------------------------------------------------------
    def action_select_all(self) -> None:
        table = self.table
        if table.marked:
            table.clear_marks()
            return
        flt = replace(self.flt, offset=0, limit=SELECT_ALL_LIMIT)

        def done(rows: list[dict[str, Any]]) -> None:
            table.mark(r["number"] for r in rows)
            if table.total is not None and table.total > len(rows):
                self.notify(f"Selected the first {len(rows):,} of {table.total:,} leads.", severity="warning")

        self.call(lambda desk: desk.list_leads(flt), done, group="list-select")

    def _targets(self) -> list[int]:
        """The marked leads, or the one under the cursor."""
        table = self.table
        if table.marked:
            return sorted(table.marked)
        lead = table.cursor_lead
        return [lead["number"]] if lead is not None else []

    def action_bulk(self) -> None:
        numbers = self._targets()
        if not numbers:
            self.notify("No lead to change: mark some with space.", severity="warning")
            return
        what = f"{len(numbers)} selected leads" if len(numbers) > 1 else f"lead #{numbers[0]}"
        options = [("status", "Status…"), ("owner", "Owner…"), ("followup", "Follow-up…")]

        def picked(kind: str | None) -> None:
            if kind == "status":
                self.call(lambda desk: desk.statuses(), lambda rows: self._ask_status(numbers, rows))
            elif kind == "owner":
                self.call(lambda desk: desk.users(), lambda rows: self._ask_owner(numbers, rows))
            elif kind == "followup":
                self._ask_followup(numbers)

        self._ask(PickDialog(f"Change {what}", options, keys={"s": "status", "o": "owner", "f": "followup"},
                             hint="s status · o owner · f follow-up · esc cancel"), picked)

    def _ask(self, dialog: DeskModal[Any], callback: Any) -> None:
        self.app.push_screen(dialog, callback)

    def _ask_status(self, numbers: list[int], statuses: list[dict[str, Any]]) -> None:
        options = [(s["name"], s["name"]) for s in statuses if s["manual"] and s["category"] == "open"]
        self._ask(PickDialog(f"Status for {_count(numbers)}", options),
                  lambda name: self._apply(numbers, "status", name))

    def _ask_owner(self, numbers: list[int], users: list[dict[str, Any]]) -> None:
        options = [(u["login"], u["login"] + (f"  ({u['name']})" if u.get("name") not in (None, "", u["login"])
                                               else "")) for u in users if u.get("active", True)]
        self._ask(PickDialog(f"Owner for {_count(numbers)}", options),
                  lambda login: self._apply(numbers, "owner", login))

    def _ask_followup(self, numbers: list[int]) -> None:
        dialog = TextDialog(f"Follow-up for {_count(numbers)}", "tomorrow, +3d, friday, 2026-12-01; empty clears")
        self._ask(dialog, lambda when: self._apply(numbers, "followup", when))

    def _apply(self, numbers: list[int], kind: str, value: str | None) -> None:
        """Change every lead in one worker, each through the service API; report what was refused.
        `value` None means the question was cancelled."""
        if value is None:
            return
        if len(numbers) > 20:
            self.notify(f"Changing {len(numbers):,} leads…")

        def job(desk: Desk) -> tuple[int, int, list[str]]:
            return bulk_change(desk, numbers, kind, value)

        def done(result: tuple[int, int, list[str]]) -> None:
            changed, unchanged, refused = result
            parts = [f"{changed} changed"]
            if unchanged:
                parts.append(f"{unchanged} unchanged")
            if refused:
                parts.append(f"{len(refused)} refused: {refused[0]}")
            self.notify(", ".join(parts), title=f"Bulk {kind}", severity="warning" if refused else "information",
                        markup=False)

        self.call(job, done, changes=True, group="list-bulk")


def _count(numbers: list[int]) -> str:
    return f"{len(numbers)} leads" if len(numbers) > 1 else f"lead #{numbers[0]}"


def bulk_change(desk: Desk, numbers: list[int], kind: str, value: str) -> tuple[int, int, list[str]]:
    """Apply one change to each lead (in its own transaction): (changed, unchanged, refusals).

    A status picked in bulk never reopens a closed or qualified lead: that is done from the lead's card.
    Each change carries the version just read, so a concurrent edit is refused rather than overwritten.
    """
    changed, unchanged, refused = 0, 0, []
    for number in numbers:
        ref = f"#{number}"
        try:
            lead = desk.show(ref)
            if kind == "status":
                _lead, action = desk.set_status(ref, value, expected_version=lead["version"], reopen=False)
                if action == "unchanged":
                    unchanged += 1
                    continue
            elif kind == "owner":
                if lead["owner"] == value:
                    unchanged += 1
                    continue
                desk.edit_lead(ref, {"owner": value}, expected_version=lead["version"])
            elif kind == "followup":
                before = lead["followup_on"]
                after = desk.set_followup(ref, value, expected_version=lead["version"])
                if after["followup_on"] == before:
                    unchanged += 1
                    continue
            else:
                raise ValueError(f"unknown bulk change {kind!r}")
        except LeadDeskError as exc:
            refused.append(f"#{number}: {exc}")
            continue
        changed += 1
    return changed, unchanged, refused


class PickDialog(DeskModal[str | None]):
    """Pick one of a few options (value, label); optional letter shortcuts."""

    DEFAULT_CSS = """
    PickDialog > Vertical { width: 52; }
    PickDialog OptionList { height: auto; max-height: 14; }
    PickDialog .hint { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="pick.cancel")]

    def __init__(self, title: str, options: list[tuple[str, str]], *, keys: dict[str, str] | None = None,
                 hint: str = "enter picks · esc cancels") -> None:
        super().__init__()
        self.title_text = title
        self.options = options
        self.keys = keys or {}
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text), classes="title")
            yield OptionList(*[Option(literal(label), id=value) for value, label in self.options], compact=True)
            yield Static(Text(self.hint), classes="hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option_id)

    def on_key(self, event: Key) -> None:
        if event.key in self.keys:
            event.stop()
            self.dismiss(self.keys[event.key])

    def action_cancel(self) -> None:
        self.dismiss(None)


class FilterDialog(DeskModal[dict[str, Any] | None]):
    """The list's filters; the choices come from the service layer. Dismisses with LeadFilter fields."""

    DEFAULT_CSS = """
    FilterDialog > Vertical { width: 60; }
    FilterDialog Grid { grid-size: 2; grid-columns: 10 1fr; grid-rows: 1; grid-gutter: 0 1; height: auto; }
    FilterDialog Grid Label { color: $text-muted; }
    FilterDialog Select, FilterDialog Input { width: 100%; }
    FilterDialog .hint { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="filter.cancel"),
                Binding("ctrl+s", "apply", "Apply", id="filter.apply"),
                Binding("ctrl+r", "clear", "Clear all", id="filter.clear")]

    def __init__(self, current: LeadFilter) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        cur = self.current
        with Vertical():
            yield Label("Filter leads", classes="title")
            with Grid():
                yield Label("Status")
                yield Select[str]([], prompt="any status", id="status", compact=True)
                yield Label("Source")
                yield Select[str]([], prompt="any source", id="source", compact=True)
                yield Label("Type")
                yield Select[str]([], prompt="any type", id="type", compact=True)
                yield Label("Owner")
                yield Select[str]([], prompt="anyone", id="owner", compact=True)
                yield Label("Zone")
                yield Input(cur.zone or "", placeholder="any zone (exact, any case)", id="zone", compact=True)
                yield Label("Show")
                yield Select[str]([("open leads", "open"), ("closed leads", "closed")], prompt="open and closed",
                                  id="state", compact=True, value=cur.state or Select.NULL)
                yield Label("Follow-up")
                yield Select[str](list((v, k) for k, v in DUE_NAMES.items()), prompt="any follow-up", id="due",
                                  compact=True, value=cur.due or Select.NULL)
                yield Label("SLA")
                yield Select[str](list((v, k) for k, v in SLA_NAMES.items()), prompt="any first contact", id="sla",
                                  compact=True, value=cur.sla or Select.NULL)
                yield Label("Min score")
                yield Input("" if cur.min_score is None else str(cur.min_score), type="integer", compact=True,
                            placeholder="any score (manual + rules)", id="min_score")
                yield Label("")
                yield Checkbox("My leads only (m)", cur.mine, id="mine", compact=True)
            yield Static("ctrl+s applies · ctrl+r clears all · esc cancels", classes="hint")
            with Horizontal(classes="buttons"):
                yield Button("Clear", id="clear")
                yield Button("Cancel", id="cancel")
                yield Button("Apply", id="apply", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#status", Select).focus()

        def choices(desk: Desk) -> dict[str, list[str]]:
            return {"status": [s["name"] for s in desk.statuses()],
                    "source": [s["name"] for s in desk.catalog_list("sources")],
                    "type": [t["name"] for t in desk.catalog_list("types")],
                    "owner": [u["login"] for u in desk.users()]}

        self.call(choices, self._fill)

    def _fill(self, choices: dict[str, list[str]]) -> None:
        cur = self.current
        chosen = {"status": cur.statuses[0] if cur.statuses else None, "source": cur.source, "type": cur.type,
                  "owner": cur.owner}
        for key, names in choices.items():
            select: Select[str] = self.query_one(f"#{key}", Select)
            select.set_options([(literal(n), n) for n in names])
            wanted = chosen[key]
            match = next((n for n in names if wanted is not None and n.casefold() == wanted.casefold()), None)
            if match is not None:
                select.value = match

    def values(self) -> dict[str, Any]:
        """The chosen filters as LeadFilter fields."""

        def picked(key: str) -> str | None:
            value = self.query_one(f"#{key}", Select).value
            return value if isinstance(value, str) else None

        status = picked("status")
        mine = self.query_one("#mine", Checkbox).value
        return {"statuses": [status] if status else [], "source": picked("source"), "type": picked("type"),
                "owner": None if mine else picked("owner"), "mine": mine, "state": picked("state"),
                "due": picked("due"), "zone": self.query_one("#zone", Input).value.strip() or None,
                "sla": picked("sla"),
                "min_score": _whole(self.query_one("#min_score", Input).value)}

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "apply":
            self.action_apply()
        elif event.button.id == "clear":
            self.action_clear()
        else:
            self.action_cancel()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.action_apply()

    def action_apply(self) -> None:
        self.dismiss(self.values())

    def action_clear(self) -> None:
        for select in self.query(Select):
            select.clear()
        self.query_one("#zone", Input).value = ""
        self.query_one("#min_score", Input).value = ""
        self.query_one("#mine", Checkbox).value = False

    def action_cancel(self) -> None:
        self.dismiss(None)
