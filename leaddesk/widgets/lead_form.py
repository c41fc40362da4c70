"""The lead card's Details form: one compact row per field, a read-only description, an inline message line.

The form is dumb: `fill()` shows a lead, `edits()` says what the user changed (as service-layer field
values), `show_message()` shows a refusal inline. Enter in a field posts `LeadForm.Submitted`; the screen
saves through the service layer.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Grid, Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

from leaddesk.settings import CustomField
from leaddesk.store.errors import LeadDeskError
from leaddesk.store.fields import FIELDS
from leaddesk.store.rules import PRIORITY_NAMES, format_money
from leaddesk.textsafe import safe, safe_line

DESCRIPTION_LINES = 200  # a longer description is cut on screen (the editor gets all of it)


@dataclass(frozen=True)
class FormField:
    """One row of the form: the service-layer field name, its short label, and how it is edited."""

    name: str
    label: str
    kind: str = "input"  # input, select, or custom
    placeholder: str = ""
    custom: CustomField | None = None

    @property
    def widget_id(self) -> str:
        return f"f-{self.name}"

    @property
    def error_prefix(self) -> str:
        """How service-layer refusals about this field begin (e.g. "email 'x@' is not valid")."""
        if self.custom is not None:
            return self.custom.title.casefold()
        return FIELDS[self.name].label.casefold()


# In pairs: the form is two columns wide.
MAIN_FIELDS = (
    FormField("name", "Name"), FormField("company", "Company"),
    FormField("title", "Title", placeholder="what the lead is about"), FormField("job_title", "Job title"),
    FormField("email", "Email"), FormField("phone", "Phone"),
    FormField("street", "Street"), FormField("city", "City"),
    FormField("state", "State"), FormField("zip", "ZIP"),
    FormField("country", "Country"), FormField("zone", "Zone"),
    FormField("website", "Website"), FormField("tags", "Tags", placeholder="comma, separated"),
    FormField("source", "Source", "select"), FormField("type", "Type", "select"),
    FormField("priority", "Priority", "select"), FormField("owner", "Owner", "select"),
    FormField("expected_revenue", "Revenue", placeholder="e.g. 12,500"),
    FormField("probability", "Probability", placeholder="0-100 %"),
    FormField("expected_close", "Exp. close", placeholder="date, +3w, next month"),
    FormField("followup", "Follow-up", placeholder="tomorrow, +3d, monday"),
    FormField("followup_time", "F-up time", placeholder="14:30, 2pm"),
    FormField("followup_note", "F-up note", placeholder="what to do"),
)
PRIORITY_OPTIONS = [(f"{k} {v}", k) for k, v in PRIORITY_NAMES.items()]


def shown_value(f: FormField, value: Any) -> str:
    """A form value as text for a comparison (a priority by its name; nothing as "")."""
    if value is None or value == "":
        return ""
    if f.name == "priority" and isinstance(value, int):
        return f"{value} {PRIORITY_NAMES.get(value, '')}".strip()
    return safe_line(str(value))


def field_text(detail: dict[str, Any], name: str) -> str:
    """A lead value as the form shows it: one line, control characters made visible."""
    if name == "name":
        value: Any = detail.get("contact_name")
    elif name == "tags":
        value = ", ".join(t for t in (detail.get("tags") or "").split(",") if t)
    elif name == "expected_revenue":
        value = format_money(detail.get("expected_revenue_cents"))
    elif name == "followup":
        value = detail.get("followup_on")
    else:
        value = detail.get(name)
    return "" if value is None else safe_line(str(value))


class LeadForm(Vertical):
    """The editable fields of a lead."""

    class Submitted(Message):
        """Enter was pressed in a field: the user wants to save."""

        def __init__(self, form: LeadForm) -> None:
            super().__init__()
            self.form = form

        @property
        def control(self) -> LeadForm:
            return self.form

    def __init__(self, custom_fields: dict[str, CustomField] | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        customs = [FormField(f"custom:{name}", _short(spec.title), "custom", custom=spec)
                   for name, spec in (custom_fields or {}).items()]
        self.fields: list[FormField] = [*MAIN_FIELDS, *customs]
        self._ids = {f.name: f"f-{i}" for i, f in enumerate(self.fields)}
        self._baseline: dict[str, Any] = {}
        self._shown_options: dict[str, tuple[tuple[str, Any], ...]] = {}
        self.message_field: str | None = None  # the field the message under the form is about

    # -- building --------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with VerticalScroll(id="form-scroll"):
            with Grid(id="form-grid"):
                for f in self.fields:
                    yield Label(f.label, classes="form-label")
                    yield self._editor(f)
            yield Label("Description · e edits it in $EDITOR", classes="form-section")
            yield Static("", id="form-description")
        yield Static("", id="form-message")

    def _editor(self, f: FormField) -> Widget:
        wid = self._ids[f.name]
        if f.name == "priority":
            return Select[int](PRIORITY_OPTIONS, allow_blank=False, compact=True, id=wid)
        if f.kind == "select":
            return Select[str]([], prompt="—", compact=True, id=wid)
        if f.custom is not None and f.custom.type in ("choice", "bool"):
            return Select[str]([], prompt="—", compact=True, id=wid)
        placeholder = f.placeholder or (f.custom.type if f.custom is not None else "")
        # No validators: validate_on=() spares each Input a restyle (its -valid class) the first time it is filled.
        return Input(placeholder=placeholder, compact=True, select_on_focus=False, validate_on=(), id=wid)

    def widget_for(self, name: str) -> Input | Select[Any]:
        """The Input or Select editing a field."""
        widget = self.query_one(f"#{self._ids[name]}")
        assert isinstance(widget, Input | Select)
        return widget

    # -- showing a lead --------------------------------------------------------------------------
    def fill(self, detail: dict[str, Any], lists: dict[str, list[dict[str, Any]]], *,
             keep_edits: bool = False) -> bool:
        """Show a lead. With `keep_edits`, fields the user changed keep their text; returns False when one
        of those fields also changed in the database (so saving must still be checked against the old version)."""
        rebased = True
        options = self._options(lists)
        for f in self.fields:
            widget = self.widget_for(f.name)
            new = self._value_of(f, detail)
            if keep_edits and self._is_edited(f):
                if new != self._baseline[f.name]:
                    rebased = False
                if isinstance(widget, Select):  # keep the user's pick, but refresh the choices
                    self._set_options(widget, options[f.name], self._current(f))
                continue
            if isinstance(widget, Select):
                self._set_options(widget, options[f.name], new)
            else:
                with widget.prevent(Input.Changed):
                    widget.value = new
                    widget.cursor_position = 0
            self._baseline[f.name] = new
        self.query_one("#form-description", Static).update(_description(detail.get("description")))
        return rebased

    def rebase(self, detail: dict[str, Any], lists: dict[str, list[dict[str, Any]]], *,
               take: Collection[str] = ()) -> None:
        """Base the user's edits on a newer read of the lead (after a conflict): the fields they did not change,
        and those named in `take`, show the new values; the others keep what the user typed, now measured
        against the new values (typed to what is stored now, a field is no longer an edit)."""
        options = self._options(lists)
        for f in self.fields:
            widget = self.widget_for(f.name)
            new = self._value_of(f, detail)
            keep = self._is_edited(f) and f.name not in take
            if isinstance(widget, Select):
                self._set_options(widget, options[f.name], self._current(f) if keep else new)
            elif not keep:
                with widget.prevent(Input.Changed):
                    widget.value = new
                    widget.cursor_position = 0
            self._baseline[f.name] = new
        self.query_one("#form-description", Static).update(_description(detail.get("description")))

    def pending(self) -> list[tuple[FormField, Any, Any]]:
        """The fields the user changed: (field, the value they read, the value they typed)."""
        return [(f, self._baseline[f.name], self._current(f)) for f in self.fields if self._is_edited(f)]

    def value_in(self, f: FormField, detail: dict[str, Any]) -> Any:
        """A field's value in a lead, as the form holds it (compare with `pending()`'s values)."""
        return self._value_of(f, detail)

    def _options(self, lists: dict[str, list[dict[str, Any]]]) -> dict[str, list[tuple[Any, Any]]]:
        options: dict[str, list[tuple[Any, Any]]] = {
            "source": [(Text(safe_line(r["name"])), r["name"]) for r in lists.get("sources", [])],
            "type": [(Text(safe_line(r["name"])), r["name"]) for r in lists.get("types", [])],
            "owner": [(Text(safe_line(_user_label(u))), u["login"]) for u in lists.get("users", [])],
            "priority": PRIORITY_OPTIONS,
        }
        for f in self.fields:
            if f.custom is not None and f.custom.type in ("choice", "bool"):
                choices = f.custom.choices if f.custom.type == "choice" else ("yes", "no")
                options[f.name] = [(Text(safe_line(c)), c) for c in choices]
        return options

    def _set_options(self, select: Select[Any], options: list[tuple[Any, Any]], value: Any) -> None:
        if value is not None and value not in {v for _t, v in options}:
            options = [*options, (Text(safe_line(str(value))), value)]  # a removed entry is still shown
        key = tuple((str(label), v) for label, v in options)
        with select.prevent(Select.Changed):
            if self._shown_options.get(str(select.id)) != key:  # rebuilding the overlay is not free
                select.set_options(options)
                self._shown_options[str(select.id)] = key
            select.value = value if value is not None else Select.NULL

    @staticmethod
    def _value_of(f: FormField, detail: dict[str, Any]) -> Any:
        if f.custom is not None:
            value = (detail.get("custom") or {}).get(f.custom.name)
            if f.custom.type == "bool" and value is not None:
                return "yes" if value else "no"
            if f.custom.type == "choice":
                return value
            return "" if value is None else safe_line(str(value))
        if f.name == "priority":
            return int(detail.get("priority") or 0)
        if f.kind == "select":
            return detail.get(f.name)
        return field_text(detail, f.name)

    def _current(self, f: FormField) -> Any:
        widget = self.widget_for(f.name)
        if isinstance(widget, Select):
            return None if widget.value is Select.NULL else widget.value
        return widget.value

    def _is_edited(self, f: FormField) -> bool:
        return f.name in self._baseline and self._current(f) != self._baseline[f.name]

    # -- reading the user's changes --------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        """True when the user changed a field since the form was filled."""
        return any(self._is_edited(f) for f in self.fields)

    def edits(self) -> dict[str, Any]:
        """The changed fields as `edit_lead` values (custom fields under "custom"); "" or None clears."""
        values: dict[str, Any] = {}
        custom: dict[str, Any] = {}
        for f in self.fields:
            if not self._is_edited(f):
                continue
            value = self._current(f)
            if f.custom is not None:
                custom[f.custom.name] = value
            else:
                values[f.name] = value
        if custom:
            values["custom"] = custom
        return values

    def field_for_message(self, message: str) -> FormField | None:
        """The field a refusal is about, when its message names one."""
        folded = message.casefold()
        for f in sorted(self.fields, key=lambda f: -len(f.error_prefix)):
            if folded.startswith(f.error_prefix):
                return f
        return None

    # -- messages --------------------------------------------------------------------------------
    def show_message(self, message: str = "", severity: str = "error") -> None:
        """Show a refusal (or a warning, or nothing) under the form; an error marks the field it names."""
        line = self.query_one("#form-message", Static)
        line.update(Text(safe_line(message)))
        about = self.field_for_message(message) if message else None
        self.message_field = about.name if about is not None else None
        for s in ("error", "warning", "information"):
            line.set_class(bool(message) and s == severity, f"-{s}")
        for marked in self.query(".-refused"):
            marked.remove_class("-refused")
        if message and severity == "error" and about is not None:
            widget = self.widget_for(about.name)
            widget.add_class("-refused")
            self.query_one("#form-scroll", VerticalScroll).scroll_to_widget(widget, animate=False)

    def name_of(self, widget: Widget) -> str | None:
        """The field name a widget edits."""
        for name, wid in self._ids.items():
            if widget.id == wid:
                return name
        return None

    def on_input_changed(self, event: Input.Changed) -> None:
        event.input.remove_class("-refused")  # the user is fixing it

    def on_input_blurred(self, event: Input.Blurred) -> None:
        """Check an email or phone as soon as the user leaves the field (the save checks it again)."""
        name = self.name_of(event.input)
        if name not in ("email", "phone"):
            return
        text = event.value.strip()
        region = str(getattr(getattr(self.app, "settings", None), "default_region", "US"))

        def checked(message: str) -> None:
            if message:
                self.show_message(message, "error" if name == "email" else "warning")
            elif self.message_field == name:  # fixed: the earlier complaint goes
                self.show_message("")

        def job() -> None:  # phonenumbers and email-validator are imported on first use: off the UI thread
            self.app.call_from_thread(checked, check_contact(name, text, region))

        self.run_worker(job, thread=True, group="check", exit_on_error=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Submitted(self))


def _short(title: str) -> str:
    return title if len(title) <= 11 else title[:10] + "…"


def _user_label(user: dict[str, Any]) -> str:
    label = str(user["login"])
    if user.get("name") and user["name"] != user["login"]:
        label += f" ({user['name']})"
    if not user.get("active", True):
        label += " · inactive"
    return label


def _description(text: str | None) -> Text:
    if not text:
        return Text("(none)", style="dim")
    lines = safe(text).splitlines()
    shown = "\n".join(lines[:DESCRIPTION_LINES])
    result = Text(shown)
    if len(lines) > DESCRIPTION_LINES:
        result.append(f"\n… {len(lines) - DESCRIPTION_LINES} more lines (e opens all of it)", style="dim")
    return result


def check_contact(name: str, text: str, region: str) -> str:
    """What is wrong with an email or phone as typed ("" when nothing); the service layer has the last word."""
    if not text:
        return ""
    if name == "email":
        from leaddesk.store.contactinfo import check_email

        try:
            check_email(text)
        except LeadDeskError as exc:
            return str(exc)
        return ""
    from leaddesk.store.contactinfo import normalise_phone

    if normalise_phone(text, region) is None:
        return f"phone '{text}' is not a full number for region {region}: it will be kept as typed"
    return ""


def edit_in_editor(app: App[Any], text: str, prefix: str = "leaddesk-") -> str | None:
    """Edit `text` in $VISUAL / $EDITOR (default vi) with the app suspended; None (and a notification) when
    nothing came back: no real terminal, the editor failed or exited non-zero, or the file is unreadable."""
    import os
    import shlex
    import subprocess
    import tempfile
    from pathlib import Path

    from textual.app import SuspendNotSupported

    command = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        app.notify(f"cannot read the editor command {command!r}: {exc}", severity="error", markup=False)
        return None
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=".txt")
    path = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text + ("\n" if text and not text.endswith("\n") else ""))
        try:
            with app.suspend():
                result = subprocess.run([*argv, str(path)], check=False)
        except SuspendNotSupported:
            app.notify("The editor needs a real terminal", severity="warning")
            return None
        except OSError as exc:
            app.notify(f"cannot run {command!r}: {exc}", title="Editor", severity="error", markup=False)
            return None
        if result.returncode != 0:
            app.notify(f"{command!r} exited with {result.returncode}: nothing saved", severity="warning",
                       markup=False)
            return None
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            app.notify(f"cannot read the edited text: {exc}", severity="error", markup=False)
            return None
    finally:
        path.unlink(missing_ok=True)
