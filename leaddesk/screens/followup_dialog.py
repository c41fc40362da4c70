"""The follow-up dialogs shared by the board, the card and the agenda: set or reschedule (date with relative
dates and quick picks, time, note) and mark done (an optional note). Each saves through the service layer and
dismisses with the lead's details (None when cancelled)."""

from __future__ import annotations

from datetime import date
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal
from textual.widgets import Button, Input, Label, Static

from leaddesk.screens.dialogs import FormDialog
from leaddesk.textsafe import safe_line

QUICK = (("Today", "today"), ("Tomorrow", "tomorrow"), ("+2d", "+2d"), ("Mon", "monday"), ("+1w", "+1w"),
         ("+1m", "+1m"))
"""The quick picks under the date: (button label, what it types)."""
DATE_HINT = "tomorrow, +3d, fri, next week, 2026-12-01 · empty: none"


def lead_label(detail: dict[str, Any]) -> str:
    """`#42 Ann Lee (Acme)` for a dialog's title."""
    who = detail.get("contact_name") or detail.get("company") or ""
    company = f" ({detail['company']})" if detail.get("company") and detail.get("contact_name") else ""
    return safe_line(f"#{detail['number']} {who}{company}")


def current_text(detail: dict[str, Any]) -> str:
    """The follow-up as it stands: `2026-11-27 at 14:30 (tomorrow) · call about the quote`."""
    if not detail.get("followup_on"):
        return "No follow-up set"
    text = detail["followup_on"] + (f" at {detail['followup_time']}" if detail.get("followup_time") else "")
    if detail.get("followup_words"):
        text += f" ({detail['followup_words']})"
    if detail.get("followup_note"):
        text += f" · {detail['followup_note']}"
    return safe_line(text)


class FollowupDialog(FormDialog):
    """Set, reschedule or clear (empty date) lead `number`'s follow-up."""

    DEFAULT_CSS = """
    FollowupDialog > Vertical { width: 70; }
    FollowupDialog #current { color: $text-muted; height: auto; margin-bottom: 1; }
    FollowupDialog .fields { grid-size: 2; grid-columns: 6 1fr; grid-rows: 1; grid-gutter: 0 1; height: auto; }
    FollowupDialog #preview { color: $text-muted; }
    FollowupDialog #preview.-bad { color: $text-warning; }
    FollowupDialog .quick { height: 1; margin-top: 1; }
    FollowupDialog .quick Button { margin-right: 1; min-width: 5; }
    """

    def __init__(self, number: int, *, title: str = "Follow-up") -> None:
        super().__init__()
        self.number = number
        self.title_text = f"{title} · lead #{number}"
        self.version: int | None = None

    def compose_fields(self) -> ComposeResult:
        yield Static("", id="current")
        with Grid(classes="fields"):
            yield Label("Date")
            yield Input(placeholder=DATE_HINT, id="date", compact=True)
            yield Label("")
            yield Static("", id="preview")
            yield Label("Time")
            yield Input(placeholder="14:30, 2pm · empty: any time", id="time", compact=True, select_on_focus=False)
            yield Label("Note")
            yield Input(placeholder="what to do (optional)", id="note", compact=True, select_on_focus=False)
        with Horizontal(classes="quick"):
            for i, (label, _typed) in enumerate(QUICK):
                yield Button(label, id=f"quick-{i}", compact=True)

    def on_mount(self) -> None:
        self.query_one("#date", Input).focus()
        self.call(lambda d: d.show(str(self.number)), self._fill, failed=self.fail)

    def _fill(self, detail: dict[str, Any]) -> None:
        self.version = detail["version"]
        self.title_text = f"{self.title_text.partition(' · ')[0]} · {lead_label(detail)}"
        self.query_one(".title", Label).update(Text(self.title_text))
        self.query_one("#current", Static).update(Text(current_text(detail)))
        for name, value in (("date", detail.get("followup_on")), ("time", detail.get("followup_time")),
                            ("note", detail.get("followup_note"))):
            widget = self.query_one(f"#{name}", Input)
            if not widget.value:  # what the user typed meanwhile stays
                widget.value = safe_line(value or "")
        self._preview()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        button = event.button.id or ""
        if button.startswith("quick-"):
            event.prevent_default()  # not OK/Cancel (FormDialog's handler runs after this one otherwise)
            date_input = self.query_one("#date", Input)
            date_input.value = QUICK[int(button.removeprefix("quick-"))][1]
            date_input.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "date":
            self._preview()

    def _preview(self) -> None:
        """What the typed date means (the store reads it again on save)."""
        from leaddesk.dates import parse_when
        from leaddesk.store.followups import local_now, split_when

        text = self.query_one("#date", Input).value.strip()
        preview = self.query_one("#preview", Static)
        if not text or text.casefold() in ("none", "clear", "-"):
            preview.update("no follow-up" if self.version is not None else "")
            preview.remove_class("-bad")
            return
        settings = getattr(self.app, "settings", None)
        today = local_now(settings).date() if settings is not None else date.today()
        day_text, time_text = split_when(text)
        try:
            day = parse_when(day_text, today)
        except ValueError as exc:
            preview.update(Text(safe_line(str(exc))))
            preview.add_class("-bad")
            return
        from leaddesk.dates import format_relative

        shown = f"→ {day:%a} {day.day} {day:%b %Y} · {format_relative(day, today)}"
        preview.update(Text(shown + (f" at {time_text}" if time_text else "")))
        preview.remove_class("-bad")

    def action_submit(self) -> None:
        from leaddesk.store.followups import split_when

        when = self.query_one("#date", Input).value.strip()
        at = self.query_one("#time", Input).value.strip()
        note = self.query_one("#note", Input).value
        number, version = self.number, self.version
        if not when:
            at, note = "", ""  # no date: nothing else stays
        at_given: str | None = at
        if when and split_when(when)[1] is not None and not at:
            at_given = None  # the time was typed with the date
        self.call(lambda d: d.set_followup(str(number), when or None, version, at=at_given, note=note),
                  self.dismiss, failed=self.fail, changes=True)


class DoneDialog(FormDialog):
    """Mark lead `number`'s follow-up done, with an optional note on what happened."""

    def __init__(self, number: int, version: int | None = None) -> None:
        super().__init__()
        self.number = number
        self.version = version
        self.title_text = f"Follow-up done · lead #{number}"

    def compose_fields(self) -> ComposeResult:
        yield Static("", id="current")
        yield Input(placeholder="what happened (optional)", id="note")

    def on_mount(self) -> None:
        self.query_one("#note", Input).focus()
        self.call(lambda d: d.show(str(self.number)), self._fill, failed=self.fail)

    def _fill(self, detail: dict[str, Any]) -> None:
        self.title_text = f"Follow-up done · {lead_label(detail)}"
        self.query_one(".title", Label).update(Text(self.title_text))
        self.query_one("#current", Static).update(Text(current_text(detail)))
        if self.version is None:
            self.version = detail["version"]

    def action_submit(self) -> None:
        note = self.query_one("#note", Input).value
        number, version = self.number, self.version
        self.call(lambda d: d.followup_done(str(number), note or None, version), self.dismiss,
                  failed=self.fail, changes=True)
