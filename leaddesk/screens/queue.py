"""The work queue (issue 6): one lead at a time, in the order the store gives (overdue follow-ups, today's, SLA
breaches, never-contacted leads, then by score), with why it is here, and one key per outcome.

The lead is shown as a compact card (name, company, phone, email, status, owner, follow-up with its note, SLA,
score, the last 3 activities) with its place ("3 of 41"). An outcome key records the outcome through
`Desk.work_outcome` (activity, status through the rules, next follow-up; one transaction) and moves on to the
next lead; an outcome that needs an answer asks in a small dialog first (reached: the next follow-up date and a
note; meeting: its date; lost: the reason from the list). Qualify opens the qualify wizard. Every read and write
runs in a worker; the screen keeps the current lead's queue `cursor` and asks the store for what comes after it.

Keys (ids in brackets, remap them in the settings' [keymap]): 1 no answer [queue.no_answer] · 2 reached
[queue.reached] · 3 emailed [queue.emailed] · 4 meeting [queue.meeting] · 5 lost [queue.lost] · 6 qualify
[queue.qualify] · 7 or n skip to the next lead [queue.skip, queue.next] · p back [queue.back] · enter the full
card [queue.open] · a everyone's queue or mine (managers) [queue.everyone] · escape leaves [queue.leave].
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Header, Input, Label, Static

from leaddesk.screens.base import DeskScreen, literal
from leaddesk.screens.dialogs import FormDialog, LostDialog
from leaddesk.store.desk import Desk
from leaddesk.store.errors import Conflict, LeadDeskError
from leaddesk.store.queue import OUTCOMES, Outcome
from leaddesk.textsafe import safe_line
from leaddesk.widgets.quiet_footer import QuietFooter

SHORT = {"no-answer": "No answer", "reached": "Reached", "emailed": "Emailed", "meeting": "Meeting",
         "lost": "Lost", "qualify": "Qualify", "skip": "Skip"}
"""Footer words for the outcomes (the screen lists their full labels)."""
DATE_FORMS = "tomorrow 10:00, friday, +3d, 2026-12-01"


def summary(done: dict[str, Any]) -> str:
    """What an outcome did, in one line: "#42 Ann Lee: Called, no answer · Attempted to contact · follow-up ..."."""
    lead = done["lead"]
    parts = [f"#{lead['number']} {lead['contact_name'] or lead['company'] or ''}: {done['label']}"]
    if done["status"]:
        parts.append(f"now {done['status']['to']}")
    if done["followup"]:
        follow = done["followup"]
        parts.append(f"follow-up {follow['on']}" + (f" {follow['time']}" if follow["time"] else ""))
    parts.extend(done["notes"])
    return safe_line(" · ".join(parts))


class OutcomeDialog(FormDialog):
    """What an outcome asks for (a date, a note) before it is recorded; records it and dismisses with what the
    store did (a refusal stays in the dialog, inline)."""

    DEFAULT_CSS = """
    OutcomeDialog Input { width: 100%; }
    """

    def __init__(self, outcome: Outcome, number: int, version: int | None, everyone: bool) -> None:
        super().__init__()
        self.outcome = outcome
        self.number = number
        self.version = version
        self.everyone = everyone
        self.title_text = f"{outcome.label} — lead #{number}"

    def compose_fields(self) -> ComposeResult:
        if "date" in self.outcome.asks:
            needed = "date" in self.outcome.needs
            what = "Its date" if self.outcome.name == "meeting" else "Next follow-up"
            yield Label(f"{what}{'' if needed else ' (optional: empty plans none)'}: {DATE_FORMS}.")
            yield Input(placeholder="date and time" if needed else "no follow-up", id="date")
        yield Input(placeholder="Note (optional)", id="note")

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    def action_submit(self) -> None:
        dates = self.query("#date")
        when = self.query_one("#date", Input).value if dates else None
        note = self.query_one("#note", Input).value
        name, number, version, everyone = self.outcome.name, str(self.number), self.version, self.everyone
        self.call(lambda d: d.work_outcome(number, name, date=when, note=note, expected_version=version,
                                           everyone=everyone),
                  self.dismiss, failed=self.fail)  # the queue screen announces the change (`_recorded`)


class QueueLostDialog(LostDialog):
    """The lost outcome: the reason from the list and a note, recorded through `work_outcome`."""

    def __init__(self, number: int, version: int | None, everyone: bool) -> None:
        super().__init__(number)
        self.version = version
        self.everyone = everyone

    def save(self, reason: str, note: str) -> None:
        number, version, everyone = str(self.number), self.version, self.everyone
        self.call(lambda d: d.work_outcome(number, "lost", reason=reason, note=note, expected_version=version,
                                           everyone=everyone),
                  self.dismiss, failed=self.fail)  # the queue screen announces the change (`_recorded`)


class QueueScreen(DeskScreen):
    """Work the queue: the current lead, why it is due, its place, and one key per outcome."""

    CSS_PATH = "queue.tcss"
    BINDINGS = [
        *(Binding(o.key, f"outcome('{o.name}')", SHORT.get(o.name, o.label), id=f"queue.{o.name.replace('-', '_')}",
                  tooltip=o.label) for o in OUTCOMES),
        Binding("n", "step(1)", "Next", id="queue.next", tooltip="The next lead (no change to this one)"),
        Binding("p", "step(-1)", "Back", id="queue.back", tooltip="The lead before this one"),
        Binding("enter", "open", "Card", id="queue.open", tooltip="The lead's full card"),
        Binding("a", "everyone", "All/mine", id="queue.everyone", show=False,
                tooltip="Everyone's queue or only mine (managers)"),
        Binding("escape", "leave", "Leave", id="queue.leave", tooltip="Back to where you came from"),
    ]

    def __init__(self, *, everyone: bool = False) -> None:
        super().__init__()
        self.everyone = everyone
        self.item: dict[str, Any] | None = None
        self.cursor: list[Any] | None = None
        """The current lead's place in the queue: what comes next is asked from here."""
        self.moved_on = False
        """The current lead was worked: the next reload goes past it (else a reload shows what is at the cursor)."""
        self._loads = 0
        self._busy = False  # an outcome is being recorded: a second key would record twice
        self._qualifying = False
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="queue-body"):
            with Horizontal(id="queue-title-row"):
                yield Static(Text("Loading the queue…"), id="queue-title")
                yield Static("", id="queue-position")
            yield Static("", id="queue-why")
            yield Static("", id="queue-card")
            yield Static("", id="queue-recent")
        yield Static(self._keys_text(), id="queue-keys")
        yield QuietFooter()

    @staticmethod
    def _keys_text() -> Text:
        """The outcome keys with their full labels (the footer has room for short ones only), on two lines that
        fit 80 columns."""
        entries = [(o.key, o.label) for o in OUTCOMES] + [("n/p", "next/back"), ("⏎", "card"), ("esc", "leave")]
        text = Text()
        for i, (key, label) in enumerate(entries):
            if i:
                text.append("\n" if i == 4 else "  ")
            text.append(key, style="bold reverse")
            text.append(f" {label}")
        return text

    # -- loading --------------------------------------------------------------------------------------
    def reload(self) -> None:
        """After any change: the lead at the cursor (read again), or past it when it was just worked."""
        if self.cursor is None:
            self.load(None)
        elif self.moved_on:
            self.moved_on = False
            self.load(self.cursor, wrap=True)
        else:
            self.load(self.cursor, inclusive=True, wrap=True)

    def load(self, after: list[Any] | None, *, back: bool = False, wrap: bool = False, inclusive: bool = False,
             stay: bool = False) -> None:
        """Ask the store for the lead after `after` (before it, with `back`); `stay`: keep the current lead when
        there is none (and say so)."""
        self._loads += 1
        ticket, everyone = self._loads, self.everyone
        start = after
        if inclusive and after is not None:
            start = [*after[:3], int(after[3]) - 1]  # the cursor's last part is the lead number: "at or after"

        def work(desk: Desk) -> dict[str, Any] | None:
            return desk.next_in_queue(start, everyone=everyone, back=back, wrap=wrap)

        def done(item: dict[str, Any] | None) -> None:
            if ticket != self._loads:
                return  # a later load supersedes this one
            if item is None and stay and self.item is not None:
                self.notify(f"That is the {'first' if back else 'last'} lead of the queue.", markup=False)
                return
            self.show(item)

        def failed(exc: LeadDeskError) -> None:
            if ticket == self._loads:
                self.notify(safe_line(str(exc)), title="Cannot read the queue", severity="error", markup=False)

        self.call(work, done, failed=failed, group="queue-load")

    def show(self, item: dict[str, Any] | None) -> None:
        """Fill the card with a queue item (None: the queue is empty)."""
        self.item = item
        self.loaded = True
        whose = "everyone's" if self.everyone else "your"
        if item is None:
            self.cursor = None
            self.query_one("#queue-title", Static).update(Text(f"Nothing to work: {whose} queue is empty."))
            self.query_one("#queue-position", Static).update("")
            self.query_one("#queue-why", Static).update(Text(
                "Overdue and due follow-ups, SLA breaches, never-contacted leads and leads with nothing planned"
                " show up here."))
            self.query_one("#queue-card", Static).update("")
            self.query_one("#queue-recent", Static).update("")
            self.refresh_bindings()
            return
        self.cursor = list(item["cursor"])
        title = Text(f"#{item['number']} ", style="bold")
        title.append(safe_line(item["contact_name"] or item["company"] or item["title"] or ""), style="bold")
        if item["company"] and item["contact_name"]:
            title.append(" · " + safe_line(item["company"]))
        self.query_one("#queue-title", Static).update(title)
        self.query_one("#queue-position", Static).update(
            Text(f"{item['position']} of {item['total']}" + (" · everyone" if self.everyone else "")))
        why = Text("Why: ", style="bold")
        why.append(safe_line("; ".join(item["reasons"])))
        self.query_one("#queue-why", Static).update(why)
        self.query_one("#queue-card", Static).update(self._card(item))
        self.query_one("#queue-recent", Static).update(self._recent(item))
        self.refresh_bindings()

    @staticmethod
    def _card(item: dict[str, Any]) -> Text:
        followup = item["followup"] if item["followup_on"] else ""
        if followup and item["followup_note"]:
            followup += f" — {item['followup_note']}"
        rows = [("Phone", item["phone"]), ("Email", item["email"]), ("Status", item["status"]),
                ("Owner", item["owner"] or "unassigned"), ("Follow-up", followup or "none"),
                ("SLA", item["sla"] or "none"),
                ("Score", f"{item['total_score']} (auto {item['auto_score']}, manual {item['score']})")]
        card = Text()
        for i, (label, value) in enumerate(rows):
            card.append(("\n" if i else "") + f"{label:<11}", style="dim")
            card.append_text(literal(value, "—"))
        return card

    @staticmethod
    def _recent(item: dict[str, Any]) -> Text:
        recent = Text()
        recent.append("Recent activity", style="bold")
        for activity in item["activities"]:
            recent.append("\n" + activity["at"][:16].replace("T", " ") + " ", style="dim")
            recent.append(f"{activity['kind']:<8}")
            recent.append(safe_line(f"{activity['user'] or ''}: {activity['body']}"))
        if not item["activities"]:
            recent.append("\nnothing logged yet", style="dim")
        return recent

    # -- keys -----------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("outcome", "step", "open"):
            return self.item is not None  # nothing to act on: the keys leave the footer
        return True

    def action_outcome(self, name: str) -> None:
        item = self.item
        if item is None or self._busy:
            return
        outcome = next(o for o in OUTCOMES if o.name == name)
        number, version, everyone = int(item["number"]), item["version"], self.everyone
        if outcome.action == "skip":
            self.action_step(1)
        elif outcome.action == "qualify":
            self.moved_on = self._qualifying = True  # back from the wizard: past this lead, if it qualified it
            self.app.start_qualify(number)  # type: ignore[attr-defined]
        elif outcome.action == "lost":
            self.app.push_screen(QueueLostDialog(number, version, everyone), self._recorded)
        elif "date" in outcome.asks:
            self.app.push_screen(OutcomeDialog(outcome, number, version, everyone), self._recorded)
        else:
            self._busy = True

            def refused(exc: LeadDeskError) -> None:
                self._busy = False
                self.notify(safe_line(str(exc)), title=f"#{number} not recorded", severity="error", markup=False)
                if isinstance(exc, Conflict):
                    self.reload()  # show the lead as it is now

            self.call(lambda d: d.work_outcome(str(number), name, expected_version=version, everyone=everyone),
                      self._recorded, failed=refused, group="queue-write")

    def _recorded(self, done: dict[str, Any] | None) -> None:
        """An outcome was recorded (None: the dialog was cancelled): say what it did, then tell every screen the
        data changed; this screen's reload moves past the lead worked, to the next one."""
        self._busy = False
        if not done:
            return
        self.moved_on = True
        self.notify(summary(done), title="Recorded", markup=False)
        self.app.data_changed()  # type: ignore[attr-defined]

    def on_screen_resume(self) -> None:
        if self._qualifying:  # back from the qualify wizard: cancelled (nothing changed) stays on the lead
            self._qualifying = False
            if self._seen_generation == self.app.data_generation:
                self.moved_on = False
        super().on_screen_resume()

    def action_step(self, direction: int) -> None:
        if self.cursor is not None:
            self.load(self.cursor, back=direction < 0, stay=True)

    def action_open(self) -> None:
        if self.item is not None:
            self.app.open_lead(int(self.item["number"]))  # type: ignore[attr-defined]

    def action_everyone(self) -> None:
        """Switch between my queue and everyone's (the store refuses everyone's to a rep: then nothing changes)."""
        self._loads += 1
        ticket, wanted = self._loads, not self.everyone

        def switched(item: dict[str, Any] | None) -> None:
            if ticket == self._loads:
                self.everyone = wanted
                self.show(item)

        self.call(lambda d: d.next_in_queue(everyone=wanted), switched, group="queue-load")

    def action_leave(self) -> None:
        self.app.pop_screen()
