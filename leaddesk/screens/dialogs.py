"""Modal questions: new lead, won job value, lost reason, confirm, one line of text."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static

from leaddesk.screens.base import DeskModal, literal
from leaddesk.store.errors import LeadDeskError, PossibleDuplicate
from leaddesk.store.rules import PRIORITY_NAMES
from leaddesk.textsafe import safe, safe_line

CLOSE = Binding("escape", "cancel", "Cancel", id="dialog.cancel")


class FormDialog(DeskModal[Any]):
    """A dialog with an inline error line and OK/Cancel; `ctrl+s` or enter on the last field submits
    (enter on another field moves to the next one)."""

    BINDINGS = [CLOSE, Binding("ctrl+s", "submit", "Save", id="dialog.submit", show=True)]
    DEFAULT_CSS = """
    FormDialog Label { width: 100%; }  /* wrap long prompts instead of cutting them at the border */
    """
    title_text = ""
    _busy = False  # a service call is running: a second submit would write twice

    def compose_fields(self) -> ComposeResult:
        yield from ()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(safe_line(self.title_text)), classes="title")  # literal: titles may quote user text
            yield from self.compose_fields()
            yield Static("", classes="error", id="error")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("OK", id="ok", variant="primary")

    def show_error(self, message: str) -> None:
        """Show a refusal inline (literally)."""
        self.query_one("#error", Static).update(Text(safe_line(message)))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self.action_submit()
        else:
            self.action_cancel()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input))
        if inputs and event.input is not inputs[-1]:
            self.focus_next()
        else:
            self.action_submit()

    def call(self, fn: Any, done: Any = None, *, failed: Any = None, **options: Any) -> None:
        """Like `DeskModal.call`, but one at a time: a submit while one is running is ignored."""
        if self._busy:
            return
        self._busy = True

        def ok(result: Any) -> None:
            self._busy = False
            if done is not None:
                done(result)

        def refused(exc: LeadDeskError) -> None:
            self._busy = False
            if failed is not None:
                failed(exc)
            else:
                self.notify(str(exc), severity="error", markup=False)

        super().call(fn, ok, failed=refused, **options)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        """Validate through the service layer and dismiss with the result."""

    def fail(self, exc: LeadDeskError) -> None:
        self.show_error(str(exc))


class ConfirmDialog(DeskModal[bool]):
    """Yes or no."""

    BINDINGS = [Binding("escape,n", "answer(False)", "No", id="confirm.no"),
                Binding("y", "answer(True)", "Yes", id="confirm.yes")]

    def __init__(self, question: str, yes: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(safe(self.question)), classes="title")  # literal, control characters made visible
            with Horizontal(classes="buttons"):
                yield Button("No (n)", id="no")
                yield Button(f"{self.yes} (y)", id="yes", variant="error")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class TextDialog(FormDialog):
    """One line of text (a note, a follow-up date, a search)."""

    def __init__(self, title: str, placeholder: str = "", value: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.placeholder = placeholder
        self.value = value

    def compose_fields(self) -> ComposeResult:
        yield Input(self.value, placeholder=self.placeholder, id="text")

    def action_submit(self) -> None:
        self.dismiss(self.query_one("#text", Input).value)


class WonDialog(FormDialog):
    """Mark a lead won: asks the job value (> 0); dismisses True once saved."""

    title_text = "Won — job value"

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number

    def compose_fields(self) -> ComposeResult:
        yield Label(f"Lead #{self.number}: enter the job value (the actual or expected revenue).")
        yield Input(placeholder="e.g. 12,500", id="value")

    def action_submit(self) -> None:
        value = self.query_one("#value", Input).value
        self.call(lambda d: d.mark_won(str(self.number), value), lambda _r: self.dismiss(True),
                  failed=self.fail, changes=True)


class LostDialog(FormDialog):
    """Mark a lead lost/disqualified: a reason from the list and an optional note."""

    title_text = "Lost — reason"

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number

    def compose_fields(self) -> ComposeResult:
        yield Label(f"Lead #{self.number}: why is it lost?")
        yield Select[str]([], prompt="Reason", id="reason")
        yield Input(placeholder="Note (optional)", id="note")

    def on_mount(self) -> None:
        self.call(lambda d: d.catalog_list("reasons"), self._fill)

    def _fill(self, rows: list[dict[str, Any]]) -> None:
        select = self.query_one("#reason", Select)
        select.set_options([(literal(r["name"]), r["name"]) for r in rows])
        select.focus()

    def action_submit(self) -> None:
        reason = self.query_one("#reason", Select).value
        note = self.query_one("#note", Input).value
        if not isinstance(reason, str):
            self.show_error("choose a reason")
            return
        self.save(reason, note)

    def save(self, reason: str, note: str) -> None:
        """Write the loss through the service layer, then dismiss."""
        self.call(lambda d: d.mark_lost(str(self.number), reason, note), lambda _r: self.dismiss(True),
                  failed=self.fail, changes=True)


class NewLeadDialog(FormDialog):
    """A new lead: contact name or company required; warns once when the phone or email already exists."""

    title_text = "New lead"

    def __init__(self) -> None:
        super().__init__()
        self._warned_for: tuple[str, str] | None = None

    DEFAULT_CSS = """
    NewLeadDialog .pair { height: auto; }
    NewLeadDialog .pair > * { width: 1fr; }
    """

    def compose_fields(self) -> ComposeResult:
        # Paired rows: six fields one under another don't fit in 24 lines (OK went off the screen).
        with Horizontal(classes="pair"):
            yield Input(placeholder="Contact name", id="name")
            yield Input(placeholder="Company", id="company")
        with Horizontal(classes="pair"):
            yield Input(placeholder="Phone", id="phone")
            yield Input(placeholder="Email", id="email")
        with Horizontal(classes="pair"):
            yield Select[str]([], prompt="Source", id="source")
            yield Select[int]([(f"{k} {v}", k) for k, v in PRIORITY_NAMES.items()], prompt="Priority",
                              id="priority")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()
        self.call(lambda d: d.catalog_list("sources"), self._fill_sources)

    def _fill_sources(self, rows: list[dict[str, Any]]) -> None:
        self.query_one("#source", Select).set_options([(literal(r["name"]), r["name"]) for r in rows])

    def values(self) -> dict[str, Any]:
        """The form as service-layer field values."""
        values: dict[str, Any] = {k: self.query_one(f"#{k}", Input).value for k in ("name", "company", "phone",
                                                                                 "email")}
        source = self.query_one("#source", Select).value
        priority = self.query_one("#priority", Select).value
        if isinstance(source, str):
            values["source"] = source
        if isinstance(priority, int):
            values["priority"] = priority
        return {k: v for k, v in values.items() if v not in ("", None)}

    def action_submit(self) -> None:
        values = self.values()
        key = (values.get("phone", ""), values.get("email", ""))
        confirmed = self._warned_for == key  # warned about these very phone and email, and OK pressed again

        def refused(exc: LeadDeskError) -> None:
            if isinstance(exc, PossibleDuplicate):  # the store's rule; the dialog only asks to confirm
                self._warned_for = key
                self.show_error(f"already in the desk: {describe_matches(exc.matches)}."
                                " Press OK again to add it anyway.")
            else:
                self.fail(exc)

        self.call(lambda desk: desk.add_lead(values, force=confirmed), lambda detail: self.dismiss(detail["number"]),
                  failed=refused, changes=True)


def describe_matches(matches: list[dict[str, Any]]) -> str:
    """'#12 Ann Lee (phone); customer Acme Ltd (email)' for a duplicate warning."""
    parts = []
    for match in matches:
        who = f"#{match['number']} " if match["kind"] == "lead" else "customer "
        parts.append(f"{who}{match['name'] or match.get('company') or ''} ({', '.join(match['matched'])})")
    return "; ".join(parts)
