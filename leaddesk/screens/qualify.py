"""The qualify wizard: step 1 picks the customer (a match by phone/email, or a new one), step 2 the deal.

Confirm runs `Desk.qualify` (one transaction) and lands on the new deal's page; "person only" converts
the lead without a deal and goes back to where the wizard was opened from.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, ContentSwitcher, Footer, Header, Input, Label, OptionList, Static
from textual.widgets.option_list import Option, OptionDoesNotExist

from leaddesk.screens.base import DeskScreen
from leaddesk.store.errors import Conflict, LeadDeskError, NeedsChoice
from leaddesk.textsafe import safe_line, truncate

NEW = "new"  # the option id of "create a new customer"
DEAL_FIELDS = ("title", "value", "close")


def customer_prompt(match: dict[str, Any]) -> Text:
    """One matching customer as two lines: name and what matched, then its phone and email."""
    text = Text()
    text.append(safe_line(match.get("name") or f"customer {match['id']}"), style="bold")
    text.append(f" #{match['id']}", style="dim")
    text.append(f"  matched: {', '.join(match.get('matched') or [])}", style="italic")
    contact = " · ".join(safe_line(v) for v in (match.get("phone"), match.get("email")) if v) or "no phone or email"
    text.append(f"\n{contact}", style="dim")
    return text


def lead_summary(lead: dict[str, Any]) -> Text:
    """The lead at the top of the wizard: number, who, company, status; then how to reach them."""
    text = Text()
    text.append(f"Lead #{lead['number']}", style="bold")
    for value in (lead.get("contact_name"), lead.get("company")):
        if value:
            text.append(" · ")
            text.append(safe_line(value))
    text.append(f" · {safe_line(lead.get('status'))}", style="italic")
    reach = [safe_line(v) for v in (lead.get("phone"), lead.get("email")) if v]
    owner = f"owner {safe_line(lead['owner'])}" if lead.get("owner") else ""
    text.append("\n" + (" · ".join([*reach, owner] if owner else reach) or "no phone or email"), style="dim")
    return text


def date_hint(text: str) -> Text:
    """What a typed expected-close date means, or why it can't be read (shown beside the field)."""
    if not text.strip():
        return Text("")
    from leaddesk import clock
    from leaddesk.dates import parse_when

    try:
        day = parse_when(text, clock.today())
    except ValueError:
        return Text("?", style="bold red")
    return Text(f"→ {day:%a %Y-%m-%d}", style="green")


class QualifyScreen(DeskScreen):
    """Qualify a lead: link or create its customer, then open a deal (or convert without one)."""

    CSS_PATH = "qualify.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="qualify.back", tooltip="Back to step 1; on step 1, cancel"),
        Binding("ctrl+s", "confirm", "Confirm", id="qualify.confirm",
                tooltip="Qualify now (enter on the last field does the same)"),
    ]

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number
        self.lead: dict[str, Any] | None = None
        self.matches: list[dict[str, Any]] = []
        self.choice: int | str | None = None  # a customer id, NEW, or None (already linked / no match)
        self.step = 0  # 0 loading or blocked, 1 customer, 2 deal
        self.busy = False
        self._loading = False

    # -- layout ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="wizard"):
            yield Static(Text(f"Lead #{self.number}…"), id="summary")
            yield Static("", id="step-title")
            with ContentSwitcher(initial="step-loading", id="steps"):
                yield Static("Loading the lead…", id="step-loading", classes="muted")
                with Vertical(id="step-customer"):
                    yield Label("Its phone or email matches existing customers. Link one, or create a new one:",
                                classes="hint")
                    yield OptionList(id="customers")
                    yield Label("↑↓ choose · enter continue · esc cancel", classes="muted")
                with Vertical(id="step-deal"):
                    with Horizontal(classes="line"):
                        yield Label("Customer", classes="label")
                        yield Static("", id="customer-choice")
                    with Horizontal(classes="field"):
                        yield Label("Title", classes="label")
                        yield Input(id="title", placeholder="the deal's name")
                    with Horizontal(classes="field"):
                        yield Label("Value", classes="label")
                        yield Input(id="value", placeholder="e.g. 12,500 (optional)")
                    with Horizontal(classes="field"):
                        yield Label("Expected close", classes="label")
                        yield Input(id="close", placeholder="2026-12-01, +30d, eom… (optional)")
                        yield Static("", id="close-hint")
                    yield Checkbox("Person only: no deal, the lead becomes Converted", id="person-only")
            yield Static("", id="error")
            with Horizontal(id="buttons"):
                yield Button("Back", id="back")
                yield Button("Qualify → open the deal", id="confirm", variant="primary")
        yield Footer()

    # -- loading ---------------------------------------------------------------------------------
    def reload(self) -> None:
        if self.lead is not None or self._loading:
            return  # loaded once: a reload would throw away what the user typed
        self._loading = True

        def load(desk: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            lead = desk.show(str(self.number))
            matches = [] if lead.get("customer_id") else desk.matching_customers(str(self.number))
            return lead, matches

        self.call(load, self._loaded, failed=self._load_failed)

    def _load_failed(self, exc: LeadDeskError) -> None:
        self._loading = False
        self.query_one("#step-loading", Static).update(Text(safe_line(str(exc))))
        self._show_error(str(exc))

    def _loaded(self, result: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
        lead, matches = result
        self._loading = False
        self.lead = lead
        self.matches = matches
        self.query_one("#summary", Static).update(lead_summary(lead))
        title = self.query_one("#title", Input)
        title.value = lead.get("company") or lead.get("contact_name") or f"Lead {lead['number']}"
        if lead.get("expected_close"):
            self.query_one("#close", Input).value = str(lead["expected_close"])
        if lead.get("expected_revenue_cents"):
            from leaddesk.store.rules import format_money

            self.query_one("#value", Input).value = format_money(lead["expected_revenue_cents"])
        blocked = self._blocked(lead)
        if blocked:
            self.step = 0
            self.query_one("#step-loading", Static).update(Text(blocked))
            self.query_one("#step-title", Static).update(Text("Cannot qualify this lead", style="bold"))
            self._refresh_chrome()
            return
        if matches:
            self._show_customers()
        else:
            self._show_deal()

    @staticmethod
    def _blocked(lead: dict[str, Any]) -> str:
        """Why the lead can't be qualified at all (checked again by the service on confirm)."""
        if lead.get("status_category") != "open":
            return (f"Only an open lead can be qualified; this one is '{safe_line(lead.get('status'))}'."
                    " Reopen it first. (esc: back)")
        open_deals = [d for d in lead.get("deals") or [] if d.get("status") == "open"]
        if open_deals:
            return (f"This lead already has open deal {open_deals[0]['id']}: work the deal instead"
                    " (esc: back).")
        return ""

    # -- step 1 ----------------------------------------------------------------------------------
    def _show_customers(self) -> None:
        self.step = 1
        options = self.query_one("#customers", OptionList)
        options.set_options([
            *(Option(customer_prompt(m), id=f"customer-{m['id']}") for m in self.matches),
            None,
            Option(Text("+ Create a new customer from this lead", style="bold"), id=NEW),
        ])
        chosen = f"customer-{self.choice}" if isinstance(self.choice, int) else self.choice
        try:
            options.highlighted = options.get_option_index(chosen) if chosen else 0
        except OptionDoesNotExist:
            options.highlighted = 0
        self.query_one("#step-title", Static).update(Text("Step 1 of 2 · Customer", style="bold"))
        self.query_one("#steps", ContentSwitcher).current = "step-customer"
        options.focus()
        self._refresh_chrome()

    @on(OptionList.OptionSelected, "#customers")
    def _customer_chosen(self, event: OptionList.OptionSelected) -> None:
        option_id = event.option.id or ""
        self.choice = NEW if option_id == NEW else int(option_id.removeprefix("customer-"))
        self._show_deal()

    # -- step 2 ----------------------------------------------------------------------------------
    def _show_deal(self) -> None:
        assert self.lead is not None
        self.step = 2
        self.query_one("#customer-choice", Static).update(self._customer_line())
        self.query_one("#step-title", Static).update(
            Text("Step 2 of 2 · Deal" if self.matches else "Deal", style="bold"))
        self.query_one("#steps", ContentSwitcher).current = "step-deal"
        self._person_only_changed()
        self._refresh_chrome()
        self.query_one("#title", Input).focus()

    def _customer_line(self) -> Text:
        assert self.lead is not None
        text = Text()
        if self.lead.get("customer_id"):
            text.append(f"already linked: {safe_line(self.lead.get('customer'))} #{self.lead['customer_id']}")
        elif self.choice == NEW:
            text.append("a new customer will be created from this lead")
        elif isinstance(self.choice, int):
            match: dict[str, Any] = next((m for m in self.matches if m["id"] == self.choice),
                                         {"name": "", "matched": []})
            text.append(f"link {safe_line(match['name'])} #{self.choice}")
            text.append(f" (matched: {', '.join(match['matched'])})", style="dim")
        else:
            text.append("no match by phone or email: a new customer will be created")
        return text

    @on(Checkbox.Changed, "#person-only")
    def _person_only_changed(self) -> None:
        person_only = self.query_one("#person-only", Checkbox).value
        for name in DEAL_FIELDS:
            self.query_one(f"#{name}", Input).disabled = person_only
        label = "Convert without a deal" if person_only else "Qualify → open the deal"
        self.query_one("#confirm", Button).label = label

    @on(Input.Changed, "#close")
    def _close_changed(self, event: Input.Changed) -> None:
        self.query_one("#close-hint", Static).update(date_hint(event.value))

    @on(Input.Changed)
    def _field_changed(self, event: Input.Changed) -> None:
        event.input.remove_class("bad")

    @on(Input.Submitted)
    def _field_submitted(self, event: Input.Submitted) -> None:
        following = {"title": "value", "value": "close"}.get(event.input.id or "")
        if following:
            self.query_one(f"#{following}", Input).focus()
        else:
            self.action_confirm()

    # -- actions ---------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "confirm":
            return self.step == 2
        return True

    def _refresh_chrome(self) -> None:
        """Buttons and footer for the current step."""
        self.query_one("#confirm", Button).display = self.step == 2
        self.query_one("#buttons").set_class(self.step != 2, "flush")
        self.query_one("#back", Button).label = "Back" if self.step == 2 and self.matches else "Cancel"
        self.refresh_bindings()

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        if self.busy:
            return
        if self.step == 2 and self.matches:
            self._show_error("")
            self._show_customers()
        else:
            self.app.pop_screen()

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        if self.step != 2 or self.busy or self.lead is None:
            return
        person_only = self.query_one("#person-only", Checkbox).value
        options: dict[str, Any] = {"create_deal": not person_only, "expected_version": self.lead["version"]}
        if not person_only:
            options.update({name: self.query_one(f"#{name}", Input).value for name in DEAL_FIELDS})
        if self.choice == NEW:
            options["new_customer"] = True
        elif isinstance(self.choice, int):
            options["customer_id"] = self.choice
        self.busy = True
        self._show_error("")
        number = str(self.number)
        self.call(lambda desk: desk.qualify(number, **options), self._done, failed=self._failed, changes=True)

    def _done(self, outcome: dict[str, Any]) -> None:
        self.busy = False
        lead = outcome["lead"]
        who = safe_line(lead.get("customer")) or f"customer {outcome['customer_id']}"
        created = "created" if outcome["customer_created"] else "linked"
        app: Any = self.app
        if self.is_current:  # (not if a view key switched modes while the write ran)
            app.pop_screen()
        if outcome.get("deal_id"):
            app.notify(f"Lead #{lead['number']} qualified: {who} {created}, deal {outcome['deal_id']} opened",
                       markup=False)
            app.open_deal(int(outcome["deal_id"]))
        else:
            app.notify(f"Lead #{lead['number']} converted ({safe_line(lead.get('status'))}): {who} {created}",
                       markup=False)

    def _failed(self, exc: LeadDeskError) -> None:
        self.busy = False
        if isinstance(exc, NeedsChoice):
            self.matches = list(exc.choices)
            self.choice = None
            self._show_customers()
            self._show_error("Matching customers appeared meanwhile: choose one.")
            return
        if isinstance(exc, Conflict):
            # Someone changed the lead: show its new state and take its new version; what was typed stays.
            def refreshed(lead: dict[str, Any]) -> None:
                self.lead = lead
                self.query_one("#summary", Static).update(lead_summary(lead))
                self._show_error(f"{exc}: check the lead above and confirm again")

            self.call(lambda desk: desk.show(str(self.number)), refreshed)
            return
        self._show_error(str(exc))
        message = str(exc)
        field = "value" if "deal value" in message else "close" if "expected close" in message else None
        if field and self.step == 2:
            widget = self.query_one(f"#{field}", Input)
            widget.add_class("bad")
            widget.focus()

    def _show_error(self, message: str) -> None:
        error = self.query_one("#error", Static)
        error.update(Text(truncate(safe_line(message), 400)))
        error.set_class(bool(message), "shown")
