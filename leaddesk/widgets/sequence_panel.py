"""The lead's nurture sequence on the card's Follow-ups tab (issue 6), and the card's sequence keys.

`SequencePanel` shows what `Desk.lead_sequence` returns: the running sequence (name, step k of n, the next
follow-up date, the step's note) or the last one that ended, and which keys apply. It is hidden while the
settings define no sequence and the lead never ran one. `SequenceCardActions` is mixed into the lead card:
n starts a sequence (picked from a list), N stops the running one (asks first), t copies the current step's
text to send to the clipboard (`App.copy_to_clipboard`, control characters made visible).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from rich.text import Text
from textual.widgets import Static

from leaddesk import clock
from leaddesk.textsafe import safe, safe_line

LABEL = "Sequence       "  # as wide as the Follow-ups tab's other labels


def progress(run: dict[str, Any]) -> str:
    """ "step 2 of 3" (without the total when the settings no longer define the sequence)."""
    return f"step {run['step']} of {run['steps']}" if run["steps"] else f"step {run['step']}"


class SequencePanel(Static):
    """A lead's sequence, literally (names and notes come from the settings and are shown as typed)."""

    DEFAULT_CSS = """
    SequencePanel { height: auto; padding: 0 1; border-top: solid $panel-lighten-2; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.display = False

    def show(self, state: dict[str, Any] | None, today: date) -> None:
        """Show a lead's sequences (`Desk.lead_sequence`'s answer; None hides the panel)."""
        self.display = bool(state and (state["available"] or state["history"]))
        if state is None or not self.display:
            return
        text = Text()
        text.append(LABEL, style="dim")
        run = state["current"]
        if run is not None:
            text.append(safe_line(run["sequence"]), style="bold")
            text.append(f" · {progress(run)} · next ")
            if run["next_at"]:
                from leaddesk.dates import format_relative

                overdue = date.fromisoformat(run["next_at"]) < today
                text.append(run["next_at"], style="bold")
                text.append(f" ({format_relative(date.fromisoformat(run['next_at']), today)})",
                            style="bold red" if overdue else "")
            else:
                text.append("(no follow-up set)", style="italic")
            text.append("\n" + " " * len(LABEL))
            text.append(safe_line(run["note"]) if run["note"] else "(no note)", style="" if run["note"] else "dim")
            keys = "N stops it" + (" · t copies the text to send" if run["has_text"] else "")
            text.append("\n" + " " * len(LABEL) + keys, style="dim")
        else:
            text.append("none running", style="italic")
            last = state["history"][0] if state["history"] else None
            if last is not None:
                text.append(f" · {safe_line(last['sequence'])} {last['state']} {last['updated_at'][:10]}", style="dim")
            if not state["available"]:
                hint = "no sequences in the settings"
            elif not state["open"]:
                hint = f"sequences run on open leads; this one is {safe_line(state['status'])}"
            else:
                hint = "n starts one: " + ", ".join(safe_line(name) for name in state["available"])
            text.append("\n" + " " * len(LABEL) + hint, style="dim")
        self.update(text)


class SequenceCardActions:
    """The card's sequence keys; the card calls `show_sequence` with each load and asks `sequence_key_rules`
    which keys apply. Expects the card's `number`, `call`, `notify`, `_refused` and `app`."""

    sequence_state: dict[str, Any] | None = None

    def show_sequence(self, state: dict[str, Any] | None) -> None:
        """Keep the lead's sequences and show them in the panel."""
        self.sequence_state = state
        today = clock.local_now(self.app.settings.timezone).date()
        self.query_one(SequencePanel).show(state, today)

    @property
    def sequence_key_state(self) -> tuple[Any, ...]:
        """What the sequence keys depend on (the card refreshes its footer when it changes)."""
        s = self.sequence_state
        run = s["current"] if s else None
        return (bool(s and s["open"] and s["available"]), bool(run), bool(run and run["has_text"]))

    def sequence_key_rules(self, on_tab: bool) -> dict[str, bool]:
        """Which sequence keys apply (only on the Follow-ups tab, `on_tab`)."""
        can_start, running, has_text = self.sequence_key_state
        return {"start_sequence": on_tab and can_start and not running, "stop_sequence": on_tab and running,
                "copy_step_text": on_tab and has_text}

    def action_start_sequence(self) -> None:
        from leaddesk.screens.leads import PickDialog

        state, number = self.sequence_state, self.number
        if not state or not state["available"]:
            return
        names = state["available"]

        def picked(name: str | None) -> None:
            if name is None:
                return

            def started(new: dict[str, Any]) -> None:
                run = new["current"]
                self.notify(f"Sequence {safe_line(run['sequence'])} started on #{number}: {progress(run)},"
                            f" follow-up {run['next_at']}", markup=False)

            self.call(lambda desk: desk.start_sequence(str(number), name), started,
                      failed=self._refused, changes=True)

        self.app.push_screen(PickDialog(f"Start a sequence on lead #{number}",
                                        [(n, n) for n in names]), picked)

    def action_stop_sequence(self) -> None:
        from leaddesk.screens.dialogs import ConfirmDialog

        state, number = self.sequence_state, self.number
        run = state["current"] if state else None
        if run is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.call(lambda desk: desk.stop_sequence(str(number)),
                          lambda _s: self.notify(f"Sequence {safe_line(run['sequence'])} stopped on #{number}",
                                                 markup=False),
                          failed=self._refused, changes=True)

        self.app.push_screen(ConfirmDialog(
            f"Stop sequence {safe_line(run['sequence'])} on lead #{number} at {progress(run)}?"
            " Its follow-up stays.", yes="Stop"), answered)

    def action_copy_step_text(self) -> None:
        number = self.number

        def copy(filled: dict[str, Any]) -> None:
            self.app.copy_to_clipboard(safe(filled["body"]))
            subject = f" (subject: {safe_line(filled['subject'])})" if filled["subject"] else ""
            self.notify(f"Copied the text of {safe_line(filled['sequence'])} step {filled['step']} of"
                        f" {filled['steps']} for #{number}{subject}", markup=False)

        self.call(lambda desk: desk.sequence_text(str(number)), copy, failed=self._refused)
