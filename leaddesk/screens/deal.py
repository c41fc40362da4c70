"""Deals: the pipeline board (the "deals" mode) and one deal's page, with their small forms.

The board shows the default pipeline's stages as columns of open deals. Each column is an OptionList,
which draws only the lines in view; the query is bounded too (PER_STAGE deals a column, the most urgent
first, plus the column's true count and value), so a desk with many deals stays quick.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Header, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option, OptionDoesNotExist

from leaddesk.screens.base import DeskScreen, literal
from leaddesk.screens.dialogs import FormDialog, LostDialog
from leaddesk.store.errors import LeadDeskError
from leaddesk.store.rules import format_money
from leaddesk.textsafe import safe_line

PER_STAGE = 200
STATE_STYLE = {"open": "bold white on blue", "won": "bold white on green", "lost": "bold white on red"}


def money(cents: int | None, empty: str = "—") -> str:
    """Cents for display ("12,500.00"), or `empty`."""
    return empty if cents is None else format_money(cents)


# -- data -----------------------------------------------------------------------------------------
def neighbour_stage(deal: dict[str, Any], step: int, stages: list[str]) -> str | None:
    """The stage `step` places left or right of the deal's, or None at either end."""
    if deal.get("stage") not in stages:
        return None
    index = stages.index(deal["stage"]) + step
    return stages[index] if 0 <= index < len(stages) else None


# -- dialogs ----------------------------------------------------------------------------------------
class DealWonDialog(FormDialog):
    """Win a deal: confirm or enter its final value (> 0); dismisses with the deal's details once saved."""

    title_text = "Won — final value"

    def __init__(self, deal: dict[str, Any]) -> None:
        super().__init__()
        self.deal = deal

    def compose_fields(self) -> ComposeResult:
        line = Text(f"Deal {self.deal['id']} ")
        line.append(safe_line(self.deal.get("title")), style="bold")
        line.append(": the final value. Its lead becomes Converted with it as job value.")
        yield Label(line)
        value = format_money(self.deal["value_cents"]) if self.deal.get("value_cents") else ""
        yield Input(value, placeholder="e.g. 12,500", id="value")

    def action_submit(self) -> None:
        value = self.query_one("#value", Input).value
        deal_id = int(self.deal["id"])
        self.call(lambda d: d.deal_action(deal_id, "won", value=value), self.dismiss, failed=self.fail,
                  changes=True)


class DealLostDialog(LostDialog):
    """Lose a deal: a reason from the list (required) and an optional note."""

    def __init__(self, deal: dict[str, Any]) -> None:
        super().__init__(0)
        self.deal = deal

    def compose_fields(self) -> ComposeResult:
        line = Text(f"Deal {self.deal['id']} ")
        line.append(safe_line(self.deal.get("title")), style="bold")
        line.append(": why is it lost? (the lead keeps its status)")
        yield Label(line)
        yield Select[str]([], prompt="Reason", id="reason")
        yield Input(placeholder="Note (optional)", id="note")

    def save(self, reason: str, note: str) -> None:
        deal_id = int(self.deal["id"])
        self.call(lambda d: d.deal_action(deal_id, "lost", reason=reason, note=note), self.dismiss,
                  failed=self.fail, changes=True)


class QuoteLineDialog(FormDialog):
    """Add a quote line: description, quantity (whole, > 0) and unit price."""

    title_text = "Add a quote line"
    DEFAULT_CSS = """
    QuoteLineDialog .pair { height: auto; }
    QuoteLineDialog .pair > Vertical { width: 1fr; height: auto; }
    """

    def __init__(self, deal_id: int) -> None:
        super().__init__()
        self.deal_id = deal_id

    def compose_fields(self) -> ComposeResult:
        yield Label("Description")
        yield Input(placeholder="e.g. Consulting day", id="description")
        with Horizontal(classes="pair"):
            with Vertical():
                yield Label("Quantity")
                yield Input("1", id="quantity", restrict=r"\s*[0-9]*\s*")
            with Vertical():
                yield Label("Unit price")
                yield Input(placeholder="e.g. 1,200", id="price")

    def on_mount(self) -> None:
        self.query_one("#description", Input).focus()

    def action_submit(self) -> None:
        description = self.query_one("#description", Input).value
        quantity_text = self.query_one("#quantity", Input).value.strip() or "1"
        price = self.query_one("#price", Input).value
        if not quantity_text.isdigit():
            self.show_error(f"quantity '{quantity_text}' must be a whole number")
            return
        quantity = int(quantity_text)
        self.call(lambda d: d.deal_action(self.deal_id, "quote", description=description, quantity=quantity,
                                          price=price), self.dismiss, failed=self.fail, changes=True)


# -- one deal ---------------------------------------------------------------------------------------
class DealScreen(DeskScreen):
    """One deal: its fields, the pipeline's stages with the current one marked, and its quote."""

    CSS_PATH = "deal.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="deal.back", tooltip="Back to where you came from"),
        Binding("h,left,less_than_sign", "stage(-1)", "◂Stage", id="deal.stage_prev",
                tooltip="Move the deal to the previous stage"),
        Binding("l,right,greater_than_sign", "stage(1)", "Stage▸", id="deal.stage_next",
                tooltip="Move the deal to the next stage"),
        Binding("W", "won", "Won", id="deal.won", tooltip="Win the deal (asks the final value)"),
        Binding("X", "lost", "Lost", id="deal.lost", tooltip="Lose the deal (asks a reason)"),
        Binding("R", "reopen", "Reopen", id="deal.reopen", tooltip="Reopen a won or lost deal"),
        Binding("a", "quote", "Add line", id="deal.quote", tooltip="Add a line to the deal's quote"),
        Binding("o", "lead", "Lead", id="deal.lead", tooltip="Open the deal's lead card"),
        Binding("j,down", "scroll(1)", "Down", id="deal.down", show=False),
        Binding("k,up", "scroll(-1)", "Up", id="deal.up", show=False),
    ]

    def __init__(self, deal_id: int) -> None:
        super().__init__()
        self.deal_id = deal_id
        self.detail: dict[str, Any] | None = None
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="deal-body", can_focus=False):
            yield Static(Text(f"Deal {self.deal_id}…"), id="deal-title")
            yield Static("", id="deal-stages")
            yield Static("", id="deal-fields")
            yield Static("", id="deal-quote")
        yield Footer()

    def reload(self) -> None:
        self.call(lambda d: d.deal(self.deal_id), self.show_deal, failed=self._load_failed)

    def _load_failed(self, exc: LeadDeskError) -> None:
        self.detail = None
        self.query_one("#deal-title", Static).update(Text(safe_line(str(exc)), style="bold red"))
        self._update_keys()

    def show_deal(self, detail: dict[str, Any]) -> None:
        """Show a deal's details (from a load or from the answer to a change)."""
        self.detail = detail
        title = Text(f"Deal {detail['id']}  ", style="bold")
        title.append(safe_line(detail["title"]), style="bold")
        title.append("  ")
        title.append(f" {detail['state'].upper()} ", style=STATE_STYLE.get(detail["state"], "reverse"))
        self.query_one("#deal-title", Static).update(title)
        self.query_one("#deal-stages", Static).update(self._stages(detail))
        self.query_one("#deal-fields", Static).update(self._fields(detail))
        self.query_one("#deal-quote", Static).update(self._quote(detail))
        self._update_keys()

    def _update_keys(self) -> None:
        """Redraw the footer when the keys that apply change (a redraw per change would be wasted work)."""
        detail = self.detail
        state = None if detail is None else (detail["state"], detail["stage"], bool(detail.get("lead_number")))
        if state != getattr(self, "_keys_for", ()):
            self._keys_for = state
            self.refresh_bindings()

    @staticmethod
    def _stages(detail: dict[str, Any]) -> Text:
        text = Text(f"{safe_line(detail['pipeline'])}: ", style="dim")
        is_open = detail["state"] == "open"
        for index, stage in enumerate(detail["stages"]):
            if index:
                text.append(" › ", style="dim")
            if stage == detail["stage"]:
                text.append(f" {safe_line(stage)} ", style="bold reverse" if is_open else "bold underline")
            else:
                text.append(safe_line(stage), style="" if is_open else "dim")
        if not is_open:
            text.append(f"   closed {detail['state']}", style="italic")
        return text

    @staticmethod
    def _fields(detail: dict[str, Any]) -> Group:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="ellipsis", no_wrap=True)
        customer = literal(detail.get("customer"), "none")
        if detail.get("customer_id"):
            customer.append(f" #{detail['customer_id']}", style="dim")
        lead = Text(f"#{detail['lead_number']}" if detail.get("lead_number") else "none")
        if detail.get("lead_number"):
            lead.append("  (o opens it)", style="dim")
        grid.add_row("Value", money(detail["value_cents"]), "Customer", customer)
        grid.add_row("Expected close", literal(detail.get("expected_close"), "—"), "Lead", lead)
        grid.add_row("State", detail["state"], "Created", literal((detail.get("created_at") or "")[:10], "—"))
        if detail["state"] != "open":
            grid.add_row("Closed", literal((detail.get("closed_at") or "")[:10], "—"), "", "")
        parts: list[Any] = [grid]
        if detail["state"] == "lost":
            reason = Text("Lost because    ", style="bold")
            reason.append(safe_line(detail.get("lost_reason")) or "—", style="not bold")
            if detail.get("lost_note"):
                reason.append(" · ", style="not bold")
                reason.append(safe_line(detail["lost_note"]), style="not bold italic")
            parts.append(reason)
        return Group(*parts)

    @staticmethod
    def _quote(detail: dict[str, Any]) -> Table:
        table = Table(title="Quote", title_justify="left", title_style="bold", expand=True, box=box.SIMPLE_HEAD,
                      show_footer=bool(detail["quote_lines"]), header_style="bold", footer_style="bold")
        table.add_column("Description", ratio=1, overflow="ellipsis", no_wrap=True, footer="Total")
        table.add_column("Qty", justify="right", no_wrap=True)
        table.add_column("Unit price", justify="right", no_wrap=True)
        table.add_column("Amount", justify="right", no_wrap=True, footer=money(detail["quote_total_cents"]))
        for line in detail["quote_lines"]:
            table.add_row(literal(line["description"]), str(line["quantity"]), money(line["unit_price_cents"]),
                          money(line["quantity"] * line["unit_price_cents"]))
        if not detail["quote_lines"]:
            table.add_row(Text("no quote lines yet: a adds one", style="dim"), "", "", "")
        return table

    # -- actions ---------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        detail = self.detail
        if action in ("back", "scroll"):
            return True
        if detail is None:
            return False
        state = detail["state"]
        if action == "stage":
            if state != "open":
                return False
            step = int(str(parameters[0])) if parameters else 1
            return True if neighbour_stage(detail, step, detail["stages"]) else None
        if action in ("won", "lost"):
            return state != action
        if action == "reopen":
            return state != "open"
        if action == "lead":
            return bool(detail.get("lead_number"))
        return True

    def _write(self, action: str, notice: str, **options: Any) -> None:
        """One deal action in a worker; one at a time, so quick repeated keys don't race."""
        if self.busy:
            return
        self.busy = True

        def done(detail: dict[str, Any]) -> None:
            self.busy = False
            self.show_deal(detail)
            self.notify(notice, markup=False, timeout=3)

        def failed(exc: LeadDeskError) -> None:
            self.busy = False
            self.notify(str(exc), severity="error", markup=False)

        self.call(lambda d: d.deal_action(self.deal_id, action, **options), done, failed=failed, changes=True)

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def action_scroll(self, lines: int) -> None:
        self.query_one("#deal-body", VerticalScroll).scroll_relative(y=lines, animate=False)

    def action_stage(self, step: int) -> None:
        if self.detail is None:
            return
        target = neighbour_stage(self.detail, step, self.detail["stages"])
        if target is not None and self.detail["state"] == "open":
            self._write("stage", f"Deal {self.deal_id} → {target}", stage=target)

    def action_won(self) -> None:
        if self.detail is not None:
            self.app.push_screen(DealWonDialog(self.detail), self._answered("won"))

    def action_lost(self) -> None:
        if self.detail is not None:
            self.app.push_screen(DealLostDialog(self.detail), self._answered("lost"))

    def action_reopen(self) -> None:
        self._write("reopen", f"Deal {self.deal_id} reopened")

    def action_quote(self) -> None:
        self.app.push_screen(QuoteLineDialog(self.deal_id), self._answered("quote line added"))

    def _answered(self, what: str) -> Any:
        def show(detail: dict[str, Any] | None) -> None:
            if detail:
                self.show_deal(detail)
                self.notify(f"Deal {self.deal_id}: {what}", markup=False, timeout=3)

        return show

    def action_lead(self) -> None:
        if self.detail is None or not self.detail.get("lead_number"):
            return
        number = int(self.detail["lead_number"])
        stack = self.app.screen_stack
        if len(stack) > 1 and getattr(stack[-2], "number", None) == number:
            self.app.pop_screen()  # we came from that lead's card: go back rather than stack another
        else:
            self.app.open_lead(number)  # type: ignore[attr-defined]


# -- the board --------------------------------------------------------------------------------------
class DealList(OptionList):
    """One stage's open deals."""

    BINDINGS = [
        Binding("enter", "select", "Open", id="deals.open", tooltip="Open the deal's page"),
        Binding("j", "cursor_down", "Down", id="deals.down", show=False),
        Binding("k", "cursor_up", "Up", id="deals.up", show=False),
    ]

    def __init__(self, stage: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stage = stage


def board_summary(board: dict[str, Any]) -> Text:
    """The line above the board: pipeline, open deals and their value, won and lost counts."""
    summary = Text()
    if board["pipeline"] is None:
        summary.append("No default pipeline: there is nothing to show.", style="bold")
        return summary
    total = sum(c["count"] for c in board["columns"])
    value = sum(c["value_cents"] for c in board["columns"])
    summary.append(f"{safe_line(board['pipeline'])} pipeline", style="bold")
    summary.append(f" · {total} open · {money(value, '0.00')} · ")
    summary.append(f"Won {board['won']}", style="green")
    summary.append(" · ")
    summary.append(f"Lost {board['lost']}", style="red")
    return summary


def deal_prompt(deal: dict[str, Any]) -> Text:
    """A deal in a column: its title, then value · customer (the value first, so a narrow column keeps it)."""
    text = Text(safe_line(deal["title"]), style="bold")
    text.append(f"\n{money(deal['value_cents'], 'no value')}")
    text.append(f" · {safe_line(deal.get('customer')) or 'no customer'}", style="dim")
    return text


def deal_id_of(option: Option | None) -> int | None:
    """The deal an option shows (None for the "no deals" and "more" lines)."""
    if option is None or not option.id or not option.id.startswith("deal-"):
        return None
    return int(option.id.removeprefix("deal-"))


def place(deal_list: OptionList, deal_id: int | None, row: int | None) -> int | None:
    """Where a column's cursor goes after a reload: on the same deal, else on the same row."""
    if not deal_list.option_count:
        return None
    if deal_id is not None:
        try:
            return deal_list.get_option_index(f"deal-{deal_id}")
        except OptionDoesNotExist:
            pass
    return min(row or 0, deal_list.option_count - 1)


class DealsScreen(DeskScreen):
    """The default pipeline as a board: a column per stage with its open deals; won and lost counted."""

    CSS_PATH = "deal.tcss"
    BINDINGS = [
        Binding("h,left", "column(-1)", "Column ←", id="deals.column_prev", show=False),
        Binding("l,right", "column(1)", "Column →", id="deals.column_next", show=False),
        Binding("H,less_than_sign", "move(-1)", "◂Stage", id="deals.stage_prev",
                tooltip="Move the highlighted deal to the previous stage"),
        Binding("L,greater_than_sign", "move(1)", "Stage▸", id="deals.stage_next",
                tooltip="Move the highlighted deal to the next stage"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.board: dict[str, Any] | None = None
        self.follow: int | None = None  # a deal to keep the cursor on after the next load
        self.busy = False
        self.column = 0  # the column focused last

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text("Loading deals…"), id="deals-summary")
        yield Horizontal(id="deals-columns")
        yield Footer()

    def reload(self) -> None:
        # _show_board is a coroutine (it may mount columns); call_from_thread awaits it.
        self.call(lambda d: d.deal_board(PER_STAGE), self._show_board, group="deals-load", exclusive=True)

    # -- rendering -------------------------------------------------------------------------------
    def _lists(self) -> list[DealList]:
        return list(self.query(DealList))

    def _current(self) -> tuple[int, DealList | None]:
        """The focused column (or the one focused last, while a deal page covers the board)."""
        lists = self._lists()
        if not lists:
            return 0, None
        for index, deal_list in enumerate(lists):
            if deal_list.has_focus:
                self.column = index
                return index, deal_list
        index = min(self.column, len(lists) - 1)
        return index, lists[index]

    async def _show_board(self, board: dict[str, Any]) -> None:
        self.board = board
        index, _current = self._current()
        before = {dl.stage: (deal_id_of(dl.highlighted_option), dl.highlighted) for dl in self._lists()}
        follow, self.follow = self.follow, None
        self.query_one("#deals-summary", Static).update(board_summary(board))
        container = self.query_one("#deals-columns", Horizontal)
        lists = self._lists()
        if [dl.stage for dl in lists] != [c["stage"] for c in board["columns"]]:
            await container.remove_children()
            lists = [DealList(c["stage"], classes="deal-list") for c in board["columns"]]
            await container.mount_all(lists)
        for deal_list, column in zip(lists, board["columns"], strict=True):
            deal_list.border_title = Text(f"{safe_line(column['stage'])} · {column['count']}")
            deal_list.border_subtitle = Text(money(column["value_cents"], ""))
            options = [Option(deal_prompt(d), id=f"deal-{d['id']}") for d in column["deals"]]
            if column["count"] > len(column["deals"]):
                more = column["count"] - len(column["deals"])
                options.append(Option(Text(f"… {more} more (soonest close shown)", style="dim"), disabled=True))
            if not column["deals"]:
                options.append(Option(Text("no open deals", style="dim"), disabled=True))
            deal_list.set_options(options)
            deal_list.highlighted = place(deal_list, *before.get(deal_list.stage, (None, 0)))
        target = lists[min(index, len(lists) - 1)] if lists else None
        if follow is not None:
            for deal_list in lists:
                found = place(deal_list, follow, None)
                if deal_id_of(deal_list.get_option_at_index(found) if found is not None else None) == follow:
                    deal_list.highlighted = found
                    target = deal_list
                    break
        if target is not None:
            self.column = lists.index(target)
            if self.is_current:
                target.focus()
        self._update_keys()

    # -- actions ---------------------------------------------------------------------------------
    def _highlighted_deal(self) -> int | None:
        _index, current = self._current()
        return deal_id_of(current.highlighted_option) if current is not None else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("open", "move"):
            if self._highlighted_deal() is None:
                return None
            if action == "move":
                index, _ = self._current()
                target = index + int(str(parameters[0]))
                return True if 0 <= target < len(self._lists()) else None
        return True

    def action_column(self, step: int) -> None:
        index, current = self._current()
        lists = self._lists()
        if not lists:
            return
        target = lists[max(0, min(len(lists) - 1, index + step))]
        if target is current:
            return
        row = current.highlighted if current is not None and current.highlighted is not None else 0
        if target.option_count and (target.highlighted is None or target.highlighted != row):
            target.highlighted = min(row, target.option_count - 1)
        target.focus()

    def _update_keys(self) -> None:
        """Redraw the footer only when Open / Stage◂ / Stage▸ start or stop applying."""
        state = tuple(self.check_action(action, (step,)) for action, step in (("open", 0), ("move", -1),
                                                                              ("move", 1)))
        if state != getattr(self, "_keys_for", ()):
            self._keys_for = state
            self.refresh_bindings()

    @on(OptionList.OptionHighlighted)
    def _highlight_moved(self) -> None:
        self._update_keys()

    def on_descendant_focus(self) -> None:
        self._current()  # remember the column
        self._update_keys()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        deal_id = self._highlighted_deal()
        if deal_id is not None:
            self.app.open_deal(deal_id)  # type: ignore[attr-defined]

    def action_move(self, step: int) -> None:
        deal_id = self._highlighted_deal()
        index, _ = self._current()
        lists = self._lists()
        if deal_id is None or self.busy or not 0 <= index + step < len(lists):
            return
        stage = lists[index + step].stage
        self.busy = True
        self.follow = deal_id

        def done(_detail: dict[str, Any]) -> None:
            self.busy = False
            self.notify(f"Deal {deal_id} → {stage}", markup=False, timeout=3)

        def failed(exc: LeadDeskError) -> None:
            self.busy = False
            self.follow = None
            self.notify(str(exc), severity="error", markup=False)

        self.call(lambda d: d.deal_action(deal_id, "stage", stage=stage), done, failed=failed, changes=True)
