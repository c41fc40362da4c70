"""The lead card: one lead's header and status, its actions, and tabs for details, activity, follow-ups,
deals, history and score (BANT and the score explained). Every read and write goes through the service layer
in a worker (`self.call`).

Keys (ids in brackets, remap them in the settings' [keymap]):
  s status selector [card.status] · Q qualify [card.qualify] · W won [card.won] · X lost/disqualify
  [card.lost] · R reopen [card.reopen] · C create customer [card.customer] · y copy [card.copy] ·
  D delete [card.delete] · u undo [card.undo] · e description in $EDITOR [card.description] ·
  ctrl+s (or enter in a field) saves the form [card.save] · a note, c call, m email, M meeting on the Activity tab
  [card.note/call/email/meeting] · F follow-up, d done on the Follow-ups tab [card.followup/followup_done] ·
  n start, N stop a nurture sequence, t copy its step's text there [card.sequence_start/stop/text] ·
  [ / ] previous / next lead [card.previous/next] · r reload [card.reload] · escape back [card.back] ·
  enter on the Deals tab opens the deal · on the Score tab's BANT checklist (widgets/bant.py): space cycles the
  answer, enter writes its note, = sets the manual score [bant.answer/note/score].
A save that crosses someone else's change asks about the fields both changed (screens/conflict.py).
Letter keys act only when the focus is not in a field (an Input takes them as text); escape first leaves
the field, then closes the card.
Opening a card is quick (issue 8): shortly after the desk opens, a spare card waits, built off-screen; `open`
reads the lead into it and shows it filled (see "a spare card, built ahead" below).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import (
    DataTable,
    Header,
    Input,
    Select,
    Static,
    TabbedContent,
    TabPane,
)
from textual.widgets._tabbed_content import ContentTab, ContentTabs

from leaddesk import clock
from leaddesk.dates import format_relative
from leaddesk.screens.base import DeskScreen, literal
from leaddesk.screens.conflict import ConflictDialog, Resolution, conflict_rows, latest_change
from leaddesk.screens.dialogs import ConfirmDialog, LostDialog, TextDialog, WonDialog
from leaddesk.store.desk import Desk
from leaddesk.store.errors import Conflict, LeadDeskError, NotFound
from leaddesk.store.permissions import Forbidden
from leaddesk.store.rules import PRIORITY_NAMES, format_money
from leaddesk.textsafe import safe_line
from leaddesk.widgets.bant import BantChecklist, ScorePane
from leaddesk.widgets.lead_form import LeadForm, edit_in_editor, shown_value
from leaddesk.widgets.quiet_footer import QuietFooter
from leaddesk.widgets.sequence_panel import SequenceCardActions, SequencePanel
from leaddesk.widgets.timeline import HistoryTable, Timeline, cursor_kept, describe_undo, when_text

if TYPE_CHECKING:
    from textual.timer import Timer

    from leaddesk.app import LeadDeskApp

TABS = ("details", "activity", "followups", "deals", "history", "score")
ACTIVITY_KEYS = "a note · c call · m email · M meeting"
FOLLOWUP_FORMS = "tomorrow, +3d, +2w, monday, 2026-12-01 or none"
NO_FOLLOWUP = ("", "none", "no", "clear", "-")
WIDE = 110  # columns from which the form spreads out
SPARE_AFTER = 0.5  # seconds after a card is shown to build the next one, off-screen (`build_spare`)
OPEN_WAIT = 0.1  # seconds a spare card taken for a lead waits for it, off-screen, before it shows "loading"
COLLECTOR_HELD = 1.0  # seconds at most the cyclic garbage collector waits while a card opens


class LeadCardScreen(SequenceCardActions, DeskScreen):
    """One lead: header, status, actions and tabs. `[`/`]` step through `siblings`."""

    CSS_PATH = "lead_card.tcss"
    AUTO_FOCUS = "ContentTabs"
    BINDINGS = [
        # Keys of the tab on show come first: the footer has room for a few at 80 columns.
        Binding("ctrl+s", "save", "Save", id="card.save", tooltip="Save the Details form"),
        Binding("a", "log('note')", "Note", id="card.note", tooltip="Add a note to the timeline"),
        Binding("c", "log('call')", "Call", id="card.call", tooltip="Log a call"),
        Binding("m", "log('email')", "Email", id="card.email", tooltip="Log an email"),
        Binding("M", "log('meeting')", "Meeting", id="card.meeting", tooltip="Log a meeting"),
        Binding("F", "followup", "Follow-up", id="card.followup",
                tooltip="Set, reschedule or clear the follow-up: date, time and note"),
        Binding("d", "followup_done", "Done", id="card.followup_done",
                tooltip="Mark the follow-up done (with an optional note on the timeline)"),
        Binding("n", "start_sequence", "Sequence", id="card.sequence_start",
                tooltip="Start a nurture sequence on the lead (pick one): its steps schedule the follow-ups"),
        Binding("N", "stop_sequence", "Stop seq.", id="card.sequence_stop", tooltip="Stop the running sequence"),
        Binding("t", "copy_step_text", "Copy text", id="card.sequence_text",
                tooltip="Copy the sequence step's text to send to the clipboard"),
        Binding("s", "pick_status", "Status", id="card.status", tooltip="Pick an open status by hand"),
        Binding("Q", "qualify", "Qualify", id="card.qualify", tooltip="Qualify: link a customer, open a deal"),
        Binding("W", "won", "Won", id="card.won", tooltip="Mark won with the job value"),
        Binding("X", "lost", "Lost", id="card.lost", tooltip="Mark lost/disqualified with a reason"),
        Binding("R", "reopen", "Reopen", id="card.reopen", tooltip="Reopen to the first open status"),
        Binding("e", "edit_description", "Description", id="card.description",
                tooltip="Edit the description in $VISUAL / $EDITOR"),
        Binding("C", "customer", "Customer", id="card.customer", tooltip="Create a customer from this lead"),
        Binding("y", "copy", "Copy", id="card.copy", tooltip="Copy the lead into a new one and open it"),
        Binding("D", "delete", "Delete", id="card.delete", tooltip="Delete the lead (asks first)"),
        Binding("u", "undo", "Undo", id="card.undo", tooltip="Undo your last change to this lead"),
        Binding("left_square_bracket", "step(-1)", "Prev", id="card.previous",
                tooltip="The previous lead of the list or column you came from"),
        Binding("right_square_bracket", "step(1)", "Next", id="card.next",
                tooltip="The next lead of the list or column you came from"),
        Binding("r", "reload_card", "Reload", id="card.reload", tooltip="Read the lead again (drops unsaved edits)"),
        Binding("escape", "back", "Back", id="card.back", tooltip="Leave the field, or close the card"),
    ]

    def __init__(self, number: int, siblings: list[int], *, spare: bool = False) -> None:
        super().__init__()
        self.spare = spare  # built ahead, off-screen, for the next card opened (`open`): reads nothing yet
        self.number = number
        self.lead_numbers = list(siblings) or [number]
        self.detail: dict[str, Any] | None = None
        self.lists: dict[str, list[dict[str, Any]]] = {}
        self.form_version: int | None = None  # the version the form's edits are based on
        self._load_seq = 0
        self._fresh_form = True
        self._status_names: list[str] = []
        self._key_state: tuple[Any, ...] = ()
        self._deleted = False  # this card deleted its lead and is closing
        self._shown_data: dict[str, Any] | None = None
        self.keys_ready = False  # the footer waits for the first load (saves rebuilding it twice)

    # -- layout ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        self.set_class(self.app.size.width >= WIDE, "-wide")  # before styles apply: no restyle on mount
        yield Header()
        with Vertical(id="card-head"):
            with Horizontal(id="card-title-row"):
                yield Static(Text(f"#{self.number}  loading…"), id="card-title")
                yield Static("", id="card-position")
            with Horizontal(id="card-status-row"):
                yield Select[str]([("…", "")], allow_blank=False, compact=True, id="status",
                                  tooltip="Status (s): only the statuses you may pick by hand")
                yield Static("", id="card-facts")
        with TabbedContent(id="tabs"):
            with TabPane("Details", id="details"):
                yield LeadForm(self.app.settings.custom_fields, id="form")
            with TabPane("Activity", id="activity"):
                yield Timeline(f"No activity yet. {ACTIVITY_KEYS}.", id="timeline")
            with TabPane("Follow-ups", id="followups"):
                yield Static("", id="followup-info")
                yield DataTable(id="followup-table", cursor_type="row", zebra_stripes=True)
                yield SequencePanel(id="sequence-panel")
            with TabPane("Deals", id="deals"):
                yield DataTable(id="deals-table", cursor_type="row", zebra_stripes=True)
                yield Static("", id="deals-hint", classes="pane-hint")
            with TabPane("History", id="history"):
                yield HistoryTable(id="history-table")
            with TabPane("Score", id="score"):  # BANT checklist and the score explained (widgets/bant.py)
                yield ScorePane(id="score-pane")
        yield QuietFooter()

    def on_mount(self) -> None:
        self.query_one("#deals-table", DataTable).add_columns("Deal", "Title", "Stage", "State", "Value", "Close")
        self.query_one("#followup-table", DataTable).add_columns("Changed", "Who", "Via", "From", "To")
        self._styles_fresh = True
        self.built = True
        # DeskScreen.on_mount (called by Textual too, base class first) loads the lead.

    _styles_fresh = False

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Textual calls DeskScreen.on_screen_resume too (each class's own handler, this one first), then restyles
        # the whole card. Shown for the first time, the card was styled as it was mounted (and with the app, by
        # Textual, whenever the CSS or the theme changed since): restyling its ~140 widgets again took ~50 ms of
        # an open, for nothing (tests/tui/test_card_open.py checks that it would change nothing).
        if self._styles_fresh:
            self._styles_fresh = False
            event.refresh_styles = False
        if self._spare_timer is None and self.app.spare_cards:
            self._spare_timer = self.set_timer(SPARE_AFTER, lambda: LeadCardScreen.build_spare(self.app))

    # -- a spare card, built ahead -----------------------------------------------------------------
    # Building a card (some 140 widgets: compose, mount, style) takes most of the time to open one, and showing
    # it first "loading", then filled, takes two layouts and paints. With the app's `spare_cards` on (turned on with
    # the warm-up, once the first view has its data: App._first_spare_card), a card is built off-screen while the
    # rep reads the board, the list or another card; the next `open_lead` takes it, reads the lead into it and only
    # then shows it: one layout and paint, of the filled card. Keys pressed while it reads (~5-20 ms) still go to
    # the screen below; a repeated enter opens nothing more.
    _spare_timer: Timer | None = None
    _appear_timer: Timer | None = None
    built = False  # mounted: every widget is there to show a lead
    opening = False  # taken for a lead and reading it, off-screen: `_appear` shows it

    @classmethod
    def build_spare(cls, app: LeadDeskApp) -> None:
        """Build a card off-screen for the next one opened, unless one is waiting already."""
        if app.spare_card is not None or not app.is_running or app.desk is None:
            return
        card = cls(0, [], spare=True)
        app.spare_card = card
        app._load_screen_css(card)  # Textual's (8.2.8, pinned) own first steps of push_screen, without showing it:
        app._register(app, card)  # composed, mounted and styled now; Textual restyles it with the app's CSS

    @classmethod
    def build_spare_when_idle(cls, app: LeadDeskApp, tries: int = 40) -> None:
        """Build a spare card once no screen is reading (the first view gets its data first), or after `tries`
        looks 50 ms apart."""
        if tries > 0 and any(w.node is not app and not w.is_finished for w in app.workers):
            app.set_timer(0.05, lambda: cls.build_spare_when_idle(app, tries - 1))
            return
        cls.build_spare(app)

    @classmethod
    def open(cls, app: LeadDeskApp, number: int, siblings: list[int]) -> None:
        """Show a lead's card (`App.open_lead`): the spare one when there is one, else a new one."""
        card = app.spare_card
        if isinstance(card, cls) and card.opening:
            return  # a card is on its way (reading its lead): a repeated enter opens no other
        app.spare_card = None
        if not isinstance(card, cls) or not card.is_attached:
            card = cls(number, siblings)
            card._hold_collector()
            app.push_screen(card)
            return
        card._hold_collector()
        card.spare = False
        card.number = number
        card.lead_numbers = list(siblings) or [number]
        for title in card.query("#card-title").results(Static):  # none while it is still being composed
            title.update(Text(f"#{number}  loading…"))
        card.set_class(app.size.width >= WIDE, "-wide")  # as compose does; restyles only if the width changed
        if not card.built:  # still being built: shown at once; it reads the lead once mounted, as a new card does
            app.push_screen(card)
            return
        app.spare_card, card.opening = card, True
        card._appear_timer = card.set_timer(OPEN_WAIT, card._appear)  # a slow read: show it loading meanwhile
        card._refresh_if_behind()  # reads the lead; `_appear` once it is shown (or refused)

    def _appear(self) -> None:
        """Push the card `open` took, once it shows its lead (or could not read it, or the read takes long)."""
        if not self.opening:
            return
        self.opening = False
        if self._appear_timer is not None:
            self._appear_timer.stop()
        if self.app.spare_card is self:
            self.app.spare_card = None
        self.app.push_screen(self)

    def _loaded(self) -> None:
        """The lead was read (and shown) or refused: a card `open` took appears; the collector may run again."""
        self._appear()
        if self._collector_held:
            self.call_after_refresh(self._release_collector)

    # Python's cyclic collector ran a full pass in most opens (37-95 ms measured with 10k leads: as long as the
    # rest of the open): it is held from the key until the card shows its lead (at most COLLECTOR_HELD seconds),
    # and runs just after, while the rep reads the card.
    # The app's timer that lets it go at the latest is stopped once it is let go: a waiting timer holds the card
    # (and its widgets) alive for up to a second after it is closed.
    _collector_held = False
    _collector_timer: Timer | None = None

    def _hold_collector(self) -> None:
        if gc.isenabled():
            gc.disable()
            self._collector_held = True
            self._collector_timer = self.app.set_timer(COLLECTOR_HELD, self._release_collector)

    def _release_collector(self) -> None:
        if self._collector_timer is not None:
            self._collector_timer.stop()
            self._collector_timer = None
        if self._collector_held:
            self._collector_held = False
            gc.enable()

    def _refresh_if_behind(self) -> None:
        if not self.spare:  # a spare has no lead to read yet
            super()._refresh_if_behind()

    def on_unmount(self) -> None:
        if self._spare_timer is not None:
            self._spare_timer.stop()
        self._release_collector()

    lays_out_once = True  # a card's first show: one layout, not two (screens/base.py)

    def on_resize(self) -> None:
        self.set_class(self.app.size.width >= WIDE, "-wide")

    # -- loading ---------------------------------------------------------------------------------
    def reload(self) -> None:
        self._load()

    def _load(self, *, fresh_form: bool = False) -> None:
        """Read the lead and what the card's selectors offer; a newer request wins over an older one."""
        self._load_seq += 1
        seq, ref = self._load_seq, str(self.number)
        self._fresh_form = self._fresh_form or fresh_form

        def fetch(desk: Desk) -> dict[str, Any]:
            return {"detail": desk.show(ref), "choices": desk.status_choices(ref), "history": desk.history(ref),
                    "sources": desk.catalog_list("sources"),
                    "types": desk.catalog_list("types"), "users": desk.users(),
                    "sequence": desk.lead_sequence(ref), "score": desk.explain_score(ref)}

        def done(data: dict[str, Any]) -> None:
            if seq != self._load_seq:
                return
            if data != self._shown_data or self._fresh_form:  # a reload on coming back from a dialog often
                self._shown_data = data  # finds nothing new: no repaint then
                self._show(data)
            self._loaded()

        def failed(exc: LeadDeskError) -> None:
            if seq != self._load_seq or self._deleted:
                return
            if isinstance(exc, NotFound):
                self._gone(str(exc))
            else:
                self.notify(str(exc), title="Cannot read the lead", severity="error", markup=False)
            self._loaded()

        self.call(fetch, done, failed=failed, group="card-load")

    def _gone(self, message: str) -> None:
        self.detail = None
        self.query_one("#card-title", Static).update(Text(f"#{self.number}  (no longer exists)"))
        self.query_one("#card-facts", Static).update(literal(message))
        self.notify(message, title="Lead not found", severity="warning", markup=False)
        self._key_state = ()
        self.keys_ready = True
        self.refresh_bindings()

    def _show(self, data: dict[str, Any]) -> None:
        d = data["detail"]
        self.detail = d
        self.lists = {k: data[k] for k in ("sources", "types", "users")}
        self._show_head(d, data["choices"])
        form = self.query_one(LeadForm)
        fresh = self._fresh_form or self.form_version is None
        rebased = form.fill(d, self.lists, keep_edits=not fresh)
        if fresh or rebased:
            self.form_version = d["version"]
        self._fresh_form = False
        self._show_activity(d)
        self._show_followups(d, data["history"])
        self.show_sequence(data["sequence"])
        self._show_deals(d)
        self.query_one(ScorePane).show(d, data["score"])
        self.query_one(HistoryTable).show(data["history"])
        key_state = (self.number, d["status_category"], bool(d["customer_id"]), self.sequence_key_state)
        if key_state != self._key_state:  # the footer is rebuilt on every refresh: only when keys change
            self._key_state = key_state
            self.keys_ready = True
            self.refresh_bindings()

    def _show_head(self, d: dict[str, Any], choices: list[dict[str, Any]]) -> None:
        title = Text()
        title.append(f"#{d['number']}  ", style="bold")
        title.append(safe_line(d["contact_name"] or d["company"] or d["title"] or "(no name)"), style="bold")
        if d["company"] and d["contact_name"]:
            title.append(" · " + safe_line(d["company"]))
        if d["title"] and d["title"] not in (d["company"], d["contact_name"]):
            title.append("  " + safe_line(d["title"]), style="dim")
        self.query_one("#card-title", Static).update(title)
        position = ""
        if self.number in self.lead_numbers and len(self.lead_numbers) > 1:
            position = f"{self.lead_numbers.index(self.number) + 1}/{len(self.lead_numbers)}"
        self.query_one("#card-position", Static).update(position)

        select = self.query_one("#status", Select)
        names = [c["name"] for c in choices]
        if d["status"] not in names:
            names.insert(0, d["status"])
        with select.prevent(Select.Changed):
            if names != self._status_names:
                select.set_options([(Text(safe_line(n)), n) for n in names])
                self._status_names = names
            select.value = d["status"]
        for category in ("open", "qualified", "won", "lost"):
            select.set_class(category == d["status_category"], f"-{category}")

        facts = Text()

        def fact(label: str, value: Any, style: str = "") -> None:
            if value in (None, ""):
                return
            if facts:
                facts.append(" · ", style="dim")
            if label:
                facts.append(label + " ", style="dim")
            facts.append(safe_line(str(value)), style=style)

        if d["status_category"] == "won":
            fact("won", format_money(d["job_value_cents"]), "bold green")
        elif d["status_category"] == "lost":
            fact("", d["lost_reason"] + (f": {d['lost_note']}" if d["lost_note"] else "")
                 if d["lost_reason"] else "lost", "bold red")
        fact("owner", d["owner"] or "nobody")
        fact("score", d["score"] + (d.get("auto_score") or 0))  # manual + automatic (store/scoring.py)
        fact("", PRIORITY_NAMES.get(d["priority"], str(d["priority"])),
             "bold" if (d["priority"] or 0) >= 2 else "")
        if d["followup_on"] and d["status_category"] in ("open", "qualified"):
            fact("", _due(date.fromisoformat(d["followup_on"])), "bold red" if self._overdue(d) else "")
        fact("", d["type"])
        self.query_one("#card-facts", Static).update(facts)

    @staticmethod
    def _overdue(d: dict[str, Any]) -> bool:
        if "followup_due" in d:  # the store's word, time of day and time zone included (store/followups.py)
            return d["followup_due"] == "overdue"
        return bool(d["followup_on"]) and d["status_category"] in ("open", "qualified") \
            and date.fromisoformat(d["followup_on"]) < clock.today()

    @staticmethod
    def _followup_words(d: dict[str, Any]) -> str:
        return format_relative(date.fromisoformat(d["followup_on"]), clock.today())

    def _show_activity(self, d: dict[str, Any]) -> None:
        self.query_one(Timeline).show(d["activities"])
        count = len(d["activities"])
        self._tab_label("activity", f"Activity ({count})" if count else "Activity")

    def _show_followups(self, d: dict[str, Any], history: list[dict[str, Any]]) -> None:
        info = Text()
        info.append("Follow-up      ", style="dim")
        if d["followup_on"]:
            info.append(d["followup_on"] + (f" at {d['followup_time']}" if d.get("followup_time") else ""),
                        style="bold")
            words = d.get("followup_words") or self._followup_words(d)
            info.append("  " + words, style="bold red" if self._overdue(d) else "bold")
            if d.get("followup_note"):
                info.append("\nTo do          ", style="dim")
                info.append(safe_line(d["followup_note"]))
        else:
            info.append("none set", style="italic")
        info.append("\n               F sets it (date, time, note) · d marks it done", style="dim")
        if d["activities"]:
            last = d["activities"][0]
            stamp, ago = when_text(last["at"])
            info.append("\nLast activity  ", style="dim")
            info.append(f"{stamp}  {ago} · {safe_line(last['kind'])}")
            if last.get("user"):
                info.append(f" by {safe_line(last['user'])}")
        if d["expected_close"]:
            info.append("\nExpected close ", style="dim")
            try:
                words = format_relative(date.fromisoformat(d["expected_close"]), clock.today(), overdue=False)
            except ValueError:
                words = ""
            info.append(f"{safe_line(d['expected_close'])}  {words}")
        info.append("\n\nEarlier follow-ups", style="bold")
        self.query_one("#followup-info", Static).update(info)
        table = self.query_one("#followup-table", DataTable)
        with cursor_kept(table):
            table.clear()
            for row in reversed([h for h in history if h["field"] == "followup"]):
                stamp, _ago = when_text(row["at"])
                table.add_row(stamp, literal(row["user"]), literal(row["origin"]), literal(row["old"], "—"),
                              literal(row["new"], "—"), key=str(row["id"]))

    def _show_deals(self, d: dict[str, Any]) -> None:
        table = self.query_one("#deals-table", DataTable)
        with cursor_kept(table):
            table.clear()
            for deal in d["deals"]:
                table.add_row(str(deal["id"]), literal(deal["title"]), literal(deal["stage"]),
                              literal(deal["status"]), Text(format_money(deal["value_cents"]), justify="right"),
                              literal(deal["expected_close"]), key=str(deal["id"]))
        count = len(d["deals"])
        table.display = bool(count)
        self._tab_label("deals", f"Deals ({count})" if count else "Deals")
        hint = "enter opens the deal" if count else "No deals linked. Q qualifies an open lead and opens a deal."
        self.query_one("#deals-hint", Static).update(Text(hint, style="dim"))

    def _tab_label(self, pane: str, label: str) -> None:
        tab = self.query_one(TabbedContent).get_tab(pane)
        if str(tab.label) != label:
            tab.label = label

    # -- which keys apply ------------------------------------------------------------------------
    @property
    def active_tab(self) -> str:
        """The pane on show; read from the tab bar, which knows before TabbedContent does (fast typists)."""
        return ContentTab.sans_prefix(self.query_one(ContentTabs).active)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("back", "reload_card"):
            return True
        if action == "step":
            return self._neighbour(int(parameters[0])) is not None  # type: ignore[call-overload]
        d = self.detail
        if d is None:
            return False
        category = d["status_category"]
        rules: dict[str, bool] = {
            "qualify": category == "open",
            "won": category in ("open", "qualified"),
            "lost": category in ("open", "qualified"),
            "reopen": category in ("won", "lost"),
            "customer": not d["customer_id"],
            "log": self.active_tab == "activity",
            "followup": self.active_tab == "followups",
            "followup_done": self.active_tab == "followups" and bool(d["followup_on"]),
            "save": self.active_tab == "details",
            **self.sequence_key_rules(self.active_tab == "followups"),
        }
        return rules.get(action, True)

    def on_tabbed_content_tab_activated(self, _event: TabbedContent.TabActivated) -> None:
        self.refresh_bindings()

    def _neighbour(self, step: int) -> int | None:
        if self.number not in self.lead_numbers:
            return None
        i = self.lead_numbers.index(self.number) + step
        return self.lead_numbers[i] if 0 <= i < len(self.lead_numbers) else None

    def _version(self) -> int | None:
        return self.detail["version"] if self.detail else None

    def _after_unsaved(self, then: Callable[[], object], what: str) -> None:
        """Run `then()` now, or after the user agrees to drop the form's unsaved edits."""
        if not self.query_one(LeadForm).dirty:
            then()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                then()

        self.app.push_screen(ConfirmDialog(f"Lead #{self.number} has unsaved edits. Drop them and {what}?",
                                           yes="Drop edits"), answered)

    # -- navigation ------------------------------------------------------------------------------
    def action_back(self) -> None:
        focused = self.focused
        if isinstance(focused, Input | Select):
            self.query_one(ContentTabs).focus()
            return
        self._after_unsaved(self.dismiss, "close the card")

    def action_step(self, step: int) -> None:
        target = self._neighbour(step)
        if target is None:
            return

        def go() -> None:
            self.number = target
            self.detail = None
            self.form_version = None
            self.query_one(LeadForm).show_message("")
            self._load(fresh_form=True)

        self._after_unsaved(go, f"go to lead #{target}")

    def action_reload_card(self) -> None:
        def go() -> None:
            self.query_one(LeadForm).show_message("")
            self._load(fresh_form=True)

        self._after_unsaved(go, "reload it")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "deals-table" and event.row_key.value is not None:
            self.app.open_deal(int(event.row_key.value))

    # -- status ----------------------------------------------------------------------------------
    def action_pick_status(self) -> None:
        select = self.query_one("#status", Select)
        select.focus()
        select.expanded = True

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id != "status":
            return
        event.stop()
        d = self.detail
        wanted = event.value
        if d is None or not isinstance(wanted, str) or wanted == d["status"]:
            return
        number = self.number

        def done(result: tuple[dict[str, Any], str]) -> None:
            lead, action = result
            verb = "reopened as" if action == "reopen" else "is now"
            self.notify(f"Lead #{number} {verb} {safe_line(lead['status'])}", markup=False)

        def failed(exc: LeadDeskError) -> None:
            self.notify(str(exc), title="Status not changed", severity="error", markup=False)
            if self.detail is not None and self.number == number:
                select = self.query_one("#status", Select)
                with select.prevent(Select.Changed):
                    select.value = self.detail["status"]
            if isinstance(exc, Conflict):
                self._load()

        version = d["version"]
        self.call(lambda desk: desk.set_status(str(number), wanted, expected_version=version), done,
                  failed=failed, changes=True)

    # -- lead actions ----------------------------------------------------------------------------
    def action_qualify(self) -> None:
        self.app.start_qualify(self.number)

    def action_won(self) -> None:
        number = self.number

        def answered(saved: Any) -> None:
            if saved:
                self.notify(f"Lead #{number} won", markup=False)

        self.app.push_screen(WonDialog(number), answered)

    def action_lost(self) -> None:
        number = self.number

        def answered(saved: Any) -> None:
            if saved:
                self.notify(f"Lead #{number} closed as lost", markup=False)

        self.app.push_screen(LostDialog(number), answered)

    def action_reopen(self) -> None:
        number, version = self.number, self._version()
        self.call(lambda desk: desk.reopen(str(number), expected_version=version),
                  lambda lead: self.notify(f"Lead #{number} reopened as {safe_line(lead['status'])}", markup=False),
                  failed=self._refused, changes=True)

    def action_customer(self) -> None:
        d = self.detail
        if d is None:
            return
        number = self.number
        name = safe_line(d["company"] or d["contact_name"] or f"lead {number}")

        def answered(yes: bool | None) -> None:
            if yes:
                self.call(lambda desk: desk.customer_from_lead(str(number)),
                          lambda lead: self.notify(f"Customer {safe_line(lead['customer'] or '')} created and"
                                                   f" linked to lead #{number}", markup=False),
                          failed=self._refused, changes=True)

        self.app.push_screen(ConfirmDialog(f"Create a customer '{name}' from lead #{number} and link it?",
                                           yes="Create"), answered)

    def action_copy(self) -> None:
        number = self.number

        def copied(lead: dict[str, Any]) -> None:
            self.notify(f"Lead #{number} copied to #{lead['number']}", markup=False)
            self.app.open_lead(lead["number"], [lead["number"]])

        self.call(lambda desk: desk.copy_lead(str(number)), copied, failed=self._refused, changes=True)

    def action_delete(self) -> None:
        d = self.detail
        if d is None:
            return
        number = self.number
        who = safe_line(d["contact_name"] or d["company"] or "")

        def deleted(_n: int) -> None:
            self._deleted = self.number == number
            self.notify(f"Lead #{number} deleted", markup=False)
            if self.is_current:
                self.dismiss()

        def refused(exc: LeadDeskError) -> None:
            if isinstance(exc, Forbidden):  # not theirs to delete: forcing would not help
                self._refused(exc)
                return
            message = str(exc).removesuffix(", or delete with --force")
            self.app.push_screen(ConfirmDialog(f"{message}.\n\nDelete lead #{number} anyway, with its activities?",
                                               yes="Delete anyway"), forced)

        def forced(yes: bool | None) -> None:
            if yes:
                self.call(lambda desk: desk.delete_lead(str(number), force=True), deleted, failed=self._refused,
                          changes=True)

        def answered(yes: bool | None) -> None:
            if yes:
                self.call(lambda desk: desk.delete_lead(str(number)), deleted, failed=refused, changes=True)

        self.app.push_screen(ConfirmDialog(f"Delete lead #{number} {who}? This cannot be undone.", yes="Delete"),
                             answered)

    def action_undo(self) -> None:
        number = self.number

        def undo(desk: Desk) -> str:
            desk.undo(str(number))
            return describe_undo(desk.history(str(number)))

        self.call(undo, lambda what: self.notify(f"Undone on #{number}: {what}", markup=False),
                  failed=self._refused, changes=True)

    def _refused(self, exc: LeadDeskError) -> None:
        self.notify(str(exc), title="Refused", severity="error", markup=False)
        if isinstance(exc, Conflict):
            self._load()

    # -- activity and follow-up ------------------------------------------------------------------
    def action_log(self, kind: str) -> None:
        number = self.number
        title = {"note": "Note", "call": "Call", "email": "Email", "meeting": "Meeting"}[kind]

        def answered(text: str | None) -> None:
            if text is None:
                return
            if not text.strip():
                self.notify(f"Nothing logged: the {kind} was empty", severity="warning")
                return
            self.call(lambda desk: desk.add_activity(str(number), kind, text),
                      lambda _lead: self.notify(f"{title} added to lead #{number}", markup=False),
                      failed=self._refused, changes=True)

        placeholder = "what was said or agreed" if kind != "note" else "the note"
        self.app.push_screen(TextDialog(f"{title} on lead #{number}", placeholder), answered)

    def action_followup(self) -> None:
        """The follow-up dialog (date with relative dates, time, note; an empty date clears it)."""
        from leaddesk.screens.followup_dialog import FollowupDialog, current_text

        if self.detail is None:
            return
        number = self.number

        def answered(lead: dict[str, Any] | None) -> None:
            if lead is not None:
                cleared = not lead["followup_on"]
                self.notify(f"Follow-up of #{number} cleared" if cleared
                            else f"Follow-up of #{number}: {current_text(lead)}", markup=False)

        self.app.push_screen(FollowupDialog(number), answered)

    def action_followup_done(self) -> None:
        """Mark the follow-up done: asks for an optional note (logged as "follow-up done: NOTE")."""
        from leaddesk.screens.followup_dialog import DoneDialog

        if self.detail is None:
            return
        number = self.number

        def answered(lead: dict[str, Any] | None) -> None:
            if lead is not None:
                after = f"; next {lead['followup_on']}" if lead.get("followup_on") else ""
                self.notify(f"Follow-up of #{number} done{after}", markup=False)

        self.app.push_screen(DoneDialog(number, self._version()), answered)

    # -- BANT and the manual score (Score tab, widgets/bant.py) ----------------------------------
    def on_bant_checklist_cycle_requested(self, event: BantChecklist.CycleRequested) -> None:
        number, part = self.number, event.part  # the store cycles from the stored answer: presses never race
        self.call(lambda desk: desk.cycle_bant(str(number), part), failed=self._refused, changes=True)

    def on_bant_checklist_note_requested(self, event: BantChecklist.NoteRequested) -> None:
        self._ask_and_save(f"{event.part.capitalize()} note on lead #{self.number}", "what they said",
                           event.note, f"bant_{event.part}_note")

    def on_bant_checklist_score_requested(self, _event: BantChecklist.ScoreRequested) -> None:
        current = str(self.detail["score"]) if self.detail else ""
        self._ask_and_save(f"Manual score of lead #{self.number} (added to the rules' points)", "a whole number",
                           current, "score")

    def _ask_and_save(self, title: str, placeholder: str, current: str, name: str) -> None:
        number, version = self.number, self._version()

        def answered(text: str | None) -> None:
            if text is not None and text.strip() != current.strip():
                self.call(lambda desk: desk.edit_lead(str(number), {name: text}, expected_version=version),
                          lambda _lead: self.notify(f"Lead #{number} saved", markup=False), failed=self._refused,
                          changes=True)

        self.app.push_screen(TextDialog(title, placeholder, current), answered)

    # -- details form ----------------------------------------------------------------------------
    def on_lead_form_submitted(self, _event: LeadForm.Submitted) -> None:
        self.action_save()

    def action_save(self, note: str = "") -> None:
        form = self.query_one(LeadForm)
        values = form.edits()
        if not values:
            form.show_message("")
            self.notify("Nothing to save: no field changed", severity="information")
            return
        number, version = self.number, self.form_version

        def saved(lead: dict[str, Any]) -> None:
            if self.number != number:
                return
            form.show_message("")
            form.fill(lead, self.lists)
            self.form_version = lead["version"]
            self.notify(f"Lead #{number} saved" + (f" ({note})" if note else ""), markup=False)

        def failed(exc: LeadDeskError) -> None:
            if self.number != number:
                return
            if isinstance(exc, Conflict):
                self._conflict(exc)
                return
            form.show_message(str(exc))
            refused = form.field_for_message(str(exc))
            if refused is not None:
                form.widget_for(refused.name).focus()

        self.call(lambda desk: desk.edit_lead(str(number), values, expected_version=version), saved,
                  failed=failed, changes=True)

    def _conflict(self, exc: Conflict) -> None:
        """Someone changed the lead since the form was filled: read it again and what changed since, then ask
        about the fields both changed (`ConflictDialog`); with none, save over the others' changes at once."""
        number, since = self.number, self.form_version
        by, at = exc.by or "someone", exc.at or ""
        form = self.query_one(LeadForm)
        form.show_message(f"changed by {by} at {at.replace('T', ' ')} since you read it: not saved yet", "warning")

        def fetch(desk: Desk) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
            detail = desk.show(str(number))
            return detail, (desk.lead_changes_since(str(number), since) if since is not None else exc.fields)

        def fetched(result: tuple[dict[str, Any], dict[str, dict[str, Any]]]) -> None:
            if self.number != number:
                return
            detail, changes = result
            rows = conflict_rows(form.pending(), lambda f: form.value_in(f, detail), shown_value, changes)
            labels = {f.name: f.label for f in form.fields}

            def others(skip: set[str]) -> list[tuple[str, str | None]]:
                return [(labels.get(name, name.removeprefix("custom:").replace("_", " ")), change.get("by"))
                        for name, change in changes.items() if name not in skip]

            if not any(row.clash for row in rows):  # nothing to ask: keep theirs and mine, save
                taken = ", ".join(f"{label} ({who})" if who else label for label, who in others(set()))
                self._resolved(detail, Resolution(), f"with the other changes: {taken or 'none'}")
                return
            dialog = ConflictDialog(number, *latest_change(changes, by, at), rows, others({r.name for r in rows}))
            self.app.push_screen(dialog, lambda answer: self._resolved(detail, answer))

        def failed(error: LeadDeskError) -> None:
            if isinstance(error, NotFound):
                self._gone(str(error))
            else:
                form.show_message(str(error))

        self.call(fetch, fetched, failed=failed)

    def _resolved(self, detail: dict[str, Any], answer: Resolution | None, saved_note: str = "") -> None:
        """Act on the conflict dialog's answer: nothing (back to the form, edits kept), drop the edits, or base
        the edits on the lead as read and save again (which may conflict again: the dialog comes back)."""
        if self.number != detail["number"]:
            return
        form = self.query_one(LeadForm)
        if answer is None:
            form.show_message("not saved: the lead changed since you read it; ctrl+s decides again, r reloads"
                              " (drops your edits)", "warning")
            return
        if answer.drop_edits:
            form.show_message("")
            self.notify(f"Lead #{self.number}: your edits dropped, showing it as stored", markup=False)
            self._load(fresh_form=True)
            return
        form.rebase(detail, self.lists, take=answer.theirs)
        self.form_version = detail["version"]
        form.show_message("")
        if not form.dirty:
            self.notify(f"Lead #{self.number}: took the stored values, nothing of yours left to save", markup=False)
            self._load()
            return
        self.action_save(saved_note)

    # -- description in $EDITOR ------------------------------------------------------------------
    def action_edit_description(self) -> None:
        d = self.detail
        if d is None:
            return
        number, version = self.number, d["version"]
        old = d["description"] or ""
        new = edit_in_editor(self.app, old, f"leaddesk-{number}-")
        if new is None:
            return
        if new.strip() == old.strip():
            self.notify("Description unchanged", severity="information")
            return

        def failed(exc: LeadDeskError) -> None:
            if isinstance(exc, Conflict):
                self._refused(exc)
            else:
                self.notify(str(exc), title="Description not saved", severity="error", markup=False)

        self.call(lambda desk: desk.edit_lead(str(number), {"description": new}, expected_version=version),
                  lambda _lead: self.notify(f"Description of #{number} saved", markup=False), failed=failed,
                  changes=True)


def _due(day: date) -> str:
    """A follow-up date for the card's head, short: "due today", "due in 3d", "overdue 11d"."""
    days = (day - clock.today()).days
    if days < 0:
        return f"overdue {-days}d"
    return {0: "due today", 1: "due tomorrow"}.get(days, f"due in {days}d")
