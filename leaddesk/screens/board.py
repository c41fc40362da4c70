"""The Board view: a kanban of leads with a column per status, filters, and moves that obey the rules.

The columns are windowed (see `leaddesk.widgets.board`): this screen answers their page requests with
`Desk.list_leads`, reloads the counts with `Desk.board`, and turns a card move into the right action
(a hand-picked status, the qualify wizard, the won or lost dialog). Every database call runs in a worker.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import Checkbox, Footer, Header, Input, Select, Static
from textual.worker import Worker, WorkerState

from leaddesk.screens.base import SearchBoxScreen, literal
from leaddesk.screens.dialogs import FormDialog, LostDialog, WonDialog
from leaddesk.store.errors import LeadDeskError, RuleError
from leaddesk.store.queries import LeadFilter
from leaddesk.store.rules import StatusInfo, check_qualify
from leaddesk.textsafe import safe_line
from leaddesk.widgets.board import PAGE_SIZE, Board, BoardColumn, Card, ColumnInfo, in_view_from_start, initials_of

if TYPE_CHECKING:
    from leaddesk.store.desk import Desk

SEARCH_DELAY = 0.3  # seconds of quiet typing before the search applies


def card_filter(flt: LeadFilter, status: str, offset: int = 0, limit: int | None = None) -> LeadFilter:
    """The filter of one column's cards: highest priority first, then newest (by number)."""
    return replace(flt, statuses=[status], sort="priority", descending=True, limit=limit, offset=offset)


@dataclass(frozen=True)
class Reloaded:
    """What a reload reads in its worker: the columns (counts, values), the users' initials, the lead types, where
    the followed card now is, and the first page of the columns that show it."""

    columns: list[dict[str, Any]]
    initials: dict[str, str]
    types: list[str]
    found: tuple[str, int] | None
    pages: dict[str, list[Card]]


def column_rank(desk: Desk, flt: LeadFilter, status: str, number: int) -> int | None:
    """Where lead `number` sits in a column (0-based, in `card_filter` order), or None if it is not there."""
    return desk.lead_position(card_filter(flt, status), number)


class FilterDialog(FormDialog):
    """Filter the board by source and owner; blank means any. Dismisses with {"source", "owner"}."""

    title_text = "Filter the board"

    def __init__(self, source: str | None, owner: str | None) -> None:
        super().__init__()
        self.source = source
        self.owner = owner

    def compose_fields(self) -> ComposeResult:
        yield Select[str]([], prompt="Any source", id="source")
        yield Select[str]([], prompt="Any owner", id="owner")

    def on_mount(self) -> None:
        self.call(lambda d: (d.catalog_list("sources"), d.users()), self._fill)

    def _fill(self, result: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
        sources, users = result
        source = self.query_one("#source", Select)
        owner = self.query_one("#owner", Select)
        source.set_options([(literal(r["name"]), r["name"]) for r in sources])
        owner.set_options([(literal(f"{u['login']} — {u['name'] or ''}"), u["login"]) for u in users])
        if self.source in {r["name"] for r in sources}:
            source.value = self.source
        if self.owner in {u["login"] for u in users}:
            owner.value = self.owner
        source.focus()

    def action_submit(self) -> None:
        source = self.query_one("#source", Select).value
        owner = self.query_one("#owner", Select).value
        self.dismiss({"source": source if isinstance(source, str) else None,
                      "owner": owner if isinstance(owner, str) else None})


class BoardScreen(SearchBoxScreen):
    """The kanban board of leads (the default view)."""

    CSS_PATH = "board.tcss"
    AUTO_FOCUS = "#board"
    BINDINGS = [
        Binding("n", "new_lead", "New", id="board.new", tooltip="Add a lead"),
        # priority: handled as the key arrives, so "/acme" typed fast lands in the box (see check_action)
        Binding("slash", "search", "Search", id="board.search", tooltip="Search every column", priority=True),
        Binding("m", "mine", "Mine", id="board.mine", show=False, tooltip="Only my leads (toggle)"),
        Binding("t", "next_type", "Type", id="board.type", show=False,
                tooltip="Next lead type: its allowed statuses become the columns"),
        Binding("F", "filters", "Filter", id="board.filter", tooltip="Filter by source and owner"),
        Binding("f", "followup", "Follow-up", id="board.followup",
                tooltip="Set the highlighted lead's follow-up: date, time and note"),
        Binding("z", "fold", "Fold", id="board.fold", tooltip="Fold (or unfold) the won and lost columns"),
        Binding("w", "work", "Work", id="board.work",
                tooltip="Work the queue: the next lead due, one key per outcome"),
        Binding("escape", "escape", "Clear search", id="board.clear_search", show=False,
                tooltip="Leave the search box; from the board, clear the search"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.flt = LeadFilter(limit=None)
        self._applied = LeadFilter(limit=None)  # the filter the columns show (their pages use it)
        self._initials: dict[str, str] = {}
        self._type_names: list[str] = []
        self._follow: tuple[str, int] | None = None  # select this card after the next reload
        self._reloads = 0
        self._search_timer: Timer | None = None
        self._restart = False  # the next applied reload starts every column at the top

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="filters"):
            yield Select[str]([], prompt="All types", id="type", compact=True)
            yield Checkbox("Mine", id="mine", compact=True)
            yield Static("", id="summary")
            yield Input(placeholder="/ search", id="search", compact=True)
        yield Board(id="board")
        yield Footer()

    @property
    def board(self) -> Board:
        """The board widget."""
        return self.query_one(Board)

    # -- loading ------------------------------------------------------------------------------------
    def reload(self, *, keep: bool = True) -> None:
        """Query the columns (counts, values) for the filter; the columns then ask for their pages.
        `keep=False` (a new filter) starts every column again at the top."""
        self._reloads += 1
        ticket = self._reloads
        self._restart = self._restart or not keep  # a later reload must not undo a pending restart
        flt = replace(self.flt)
        follow = self._follow
        wanted = [follow] if follow else []
        column, card = self.board.selected_column, self.board.selected_card
        if column is not None and card is not None:
            wanted.append((column.info.name, card.number))
        # The first pages of the columns in view are read with the counts (one worker, one frame): the columns a
        # first load shows, or (the same columns) the ones in view at the top, all of them after a new filter.
        board = self.board
        now_names = [c.info.name for c in board.columns]
        at_top = {c.info.name for c in board.columns
                  if c.shows_first_page_only or (self._restart and c.display and not c.folded)}
        width = board.size.width or self.app.size.width  # the first reload comes before the first layout
        fold = board.fold_closed

        def pages_for(columns: list[dict[str, Any]]) -> dict[str, LeadFilter]:
            infos = [ColumnInfo.from_row(row) for row in columns]
            if [info.name for info in infos] == now_names:
                first = [info for info in infos if info.name in at_top]
            else:
                first = [infos[i] for i in in_view_from_start(infos, width, fold) if not (fold and infos[i].closed)]
            return {info.name: card_filter(flt, info.name, 0, PAGE_SIZE) for info in first}

        def work(desk: Desk) -> Reloaded:
            columns, rows = desk.board_view(flt, pages_for)  # a first page agrees with its count
            users = desk.users()
            types = [t["name"] for t in desk.catalog_list("types")]
            names = {c["name"] for c in columns}
            found = None
            for status, number in wanted:
                if status in names:
                    rank = column_rank(desk, flt, status, number)
                    if rank is not None:
                        found = (status, rank)
                        break
            initials = {u["login"]: initials_of(u["login"], u["name"]) for u in users}
            pages = {name: [Card.from_row(r, initials) for r in page] for name, page in rows.items()}
            return Reloaded(columns, initials, types, found, pages)

        def done(result: Reloaded) -> None:
            if ticket != self._reloads:
                return  # a later reload supersedes this one
            if self._follow is follow:
                self._follow = None
            self._applied = flt
            self._initials = result.initials
            self._set_types(result.types)
            restart, self._restart = self._restart, False
            self.board.set_columns([ColumnInfo.from_row(c) for c in result.columns], keep_stale=not restart,
                                   first_pages=result.pages)
            if result.found is not None:
                self.board.select(*result.found)
            self._show_summary(result.columns)

        self.call(work, done, group="board-reload")

    def on_board_column_page_wanted(self, message: BoardColumn.PageWanted) -> None:
        message.stop()
        column, generation, offset = message.column, message.generation, message.offset
        if generation != column.generation:
            return  # asked before a reload: the column has asked again since
        flt = card_filter(self._applied, column.info.name, offset, message.limit)
        initials = self._initials

        def load(desk: Desk) -> list[Card]:
            return [Card.from_row(r, initials) for r in desk.list_leads(flt)]

        def done(cards: list[Card]) -> None:
            column.set_page(generation, offset, cards)

        def failed(exc: LeadDeskError) -> None:
            column.page_failed(generation, offset)
            self.notify(safe_line(str(exc)), title="Cannot load the cards", severity="error", markup=False)

        self.call(load, done, failed=failed, group="board-page")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.notify(safe_line(str(event.worker.error)), title="Something went wrong", severity="error",
                        markup=False)

    def _set_types(self, types: list[str]) -> None:
        if types == self._type_names:
            return
        self._type_names = types
        select = self.query_one("#type", Select)
        with select.prevent(Select.Changed):
            select.set_options([(literal(name), name) for name in types])
            if self.flt.type in types:
                select.value = self.flt.type

    def _show_summary(self, columns: list[dict[str, Any]]) -> None:
        total = sum(int(c["count"] or 0) for c in columns)
        parts = [f"{total:,} lead{'s' if total != 1 else ''}"]
        if self.flt.source:
            parts.append(f"source: {self.flt.source}")
        if self.flt.owner:
            parts.append(f"owner: {self.flt.owner}")
        self.query_one("#summary", Static).update(literal(" · ".join(parts)))

    # -- filters ------------------------------------------------------------------------------------
    def apply_filter(self, **changes: Any) -> None:
        """Change the filter and reload every column from the top."""
        new = replace(self.flt, **changes)
        if new != self.flt:
            self.flt = new
            self.reload(keep=False)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "type":
            event.stop()
            self.apply_filter(type=event.value if isinstance(event.value, str) else None)

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        if event.checkbox.id == "mine":
            event.stop()
            self.apply_filter(mine=event.value)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "search":
            return
        event.stop()
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DELAY, self._apply_search)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "search":
            return
        event.stop()
        self._apply_search()
        self.board.focus()

    def _apply_search(self) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
            self._search_timer = None
        text = self.query_one("#search", Input).value.strip()
        self.apply_filter(search=text or None)

    def action_escape(self) -> None:
        search = self.query_one("#search", Input)
        if self.focused is search:
            self.board.focus()
        elif search.value:
            search.value = ""
            self._apply_search()

    def action_mine(self) -> None:
        mine = self.query_one("#mine", Checkbox)
        mine.value = not mine.value

    def action_next_type(self) -> None:
        choices: list[str | None] = [None, *self._type_names]
        at = choices.index(self.flt.type) if self.flt.type in choices else 0
        chosen = choices[(at + 1) % len(choices)]
        select = self.query_one("#type", Select)
        if chosen is None:
            select.clear()
        else:
            select.value = chosen

    def action_filters(self) -> None:
        def chosen(result: dict[str, str | None] | None) -> None:
            if result is not None:
                self.apply_filter(source=result["source"], owner=result["owner"])

        self.app.push_screen(FilterDialog(self.flt.source, self.flt.owner), chosen)

    def action_followup(self) -> None:
        """The follow-up dialog for the highlighted card (the card's marker updates after the save)."""
        from leaddesk.screens.followup_dialog import FollowupDialog, current_text

        column, card = self.board.selected_column, self.board.selected_card
        if column is None or card is None:
            return
        number = card.number

        def answered(lead: dict[str, Any] | None) -> None:
            if lead is not None:
                self._follow = (lead["status"], number)
                self.notify(f"Follow-up of #{number}: {current_text(lead)}", markup=False)

        self.app.push_screen(FollowupDialog(number), answered)

    def action_fold(self) -> None:
        self.board.set_fold(not self.board.fold_closed)

    def action_new_lead(self) -> None:
        self.app.new_lead()  # type: ignore[attr-defined]

    def action_work(self) -> None:
        self.app.open_queue()  # type: ignore[attr-defined]

    # -- moves and opening --------------------------------------------------------------------------
    def on_board_open_requested(self, message: Board.OpenRequested) -> None:
        message.stop()
        self.app.open_lead(message.card.number, message.siblings)  # type: ignore[attr-defined]

    def on_board_move_requested(self, message: Board.MoveRequested) -> None:
        """Move a card by the rules: an open status is picked by hand (a reopen from won or lost);
        qualified opens the wizard; won asks the job value; lost asks the reason."""
        message.stop()
        card, target = message.card, message.target
        number = card.number
        if target.category == "qualified":
            try:
                check_qualify(StatusInfo(0, card.status, card.category, 0, False))
            except RuleError as exc:
                self.notify(safe_line(str(exc)), title=f"#{number} stays", severity="error", markup=False)
                return
            self._follow = (target.name, number)
            self.app.start_qualify(number)  # type: ignore[attr-defined]
        elif target.category in ("won", "lost"):
            dialog = WonDialog(number) if target.category == "won" else LostDialog(number)

            def answered(ok: bool | None) -> None:
                if ok:
                    self._follow = (target.name, number)
                    self.reload()

            self.app.push_screen(dialog, answered)
        else:
            def moved(_result: Any) -> None:
                self._follow = (target.name, number)

            def refused(exc: LeadDeskError) -> None:
                self.notify(safe_line(str(exc)), title=f"#{number} stays", severity="error", markup=False)

            self.call(lambda d: d.set_status(str(number), target.name, card.version), moved, failed=refused,
                      changes=True, group="board-move")
