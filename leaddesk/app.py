"""The leaddesk App: views as modes, global keys, the command palette, theme and keymap from settings."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
from collections.abc import Callable, Iterable
from typing import Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import Reactive
from textual.screen import ModalScreen, Screen
from textual.worker import Worker

from leaddesk.screens.base import DataChanged
from leaddesk.settings import Settings, save_setting
from leaddesk.store.desk import Desk, acting_login
from leaddesk.store.errors import LeadDeskError
from leaddesk.thread_pool import use_fresh_context_pool

SHUTDOWN_WAIT = 2.0
"""The most seconds quitting waits for a screen being built off-screen to finish mounting (`_shutdown`)."""


def _screen(module: str, name: str) -> Screen[Any]:
    """A view's screen, imported when first shown (keeps start-up light)."""
    import importlib

    cls = getattr(importlib.import_module(f"leaddesk.screens.{module}"), name)
    return cls()  # type: ignore[no-any-return]


class LeadDeskApp(App[None]):
    """A keyboard-driven lead desk. The database is opened in a worker after the first frame."""

    TITLE = "leaddesk"
    CSS_PATH = "app.tcss"
    # Textual repaints the whole screen when the app's sub-title changes; the Header, which shows it, watches it and
    # repaints itself. Setting it once the desk is open (user · database) cost a full frame (~40 KB at 120x40).
    sub_title: Reactive[str] = Reactive("", compute=False, repaint=False)
    MODES = {
        "board": lambda: _screen("board", "BoardScreen"),
        "list": lambda: _screen("leads", "ListScreen"),
        "deals": lambda: _screen("deal", "DealsScreen"),
        "agenda": lambda: _screen("agenda", "AgendaScreen"),
        "reports": lambda: _screen("reports", "ReportsScreen"),
    }
    DEFAULT_MODE = "board"
    BINDINGS = [
        Binding("1", "switch_mode('board')", "Board", id="app.board", tooltip="The kanban board of leads"),
        Binding("2", "switch_mode('list')", "List", id="app.list", tooltip="The lead list"),
        Binding("3", "switch_mode('deals')", "Deals", id="app.deals", tooltip="Deals by stage"),
        Binding("4", "switch_mode('agenda')", "Agenda", id="app.agenda", show=False,
                tooltip="Follow-ups by day: overdue, today, tomorrow, later"),
        Binding("5", "switch_mode('reports')", "Reports", id="app.reports", show=False,
                tooltip="Reports and charts: volume, sources, velocity, funnel, owners, lost reasons, pipeline"),
        Binding("I", "open_import", "Import", id="app.import", show=False,
                tooltip="Import leads from a CSV or XLSX file; past imports and undo"),
        Binding("U", "open_dupes", "Duplicates", id="app.dupes", show=False,
                tooltip="Likely duplicate leads, side by side, to merge"),
        Binding("T", "open_users", "Users", id="app.users", show=False,
                tooltip="The team: users, roles, open leads; managers add, change roles, deactivate"),
        Binding("P", "toggle_comarketing", "Partners", id="app.comarketing", show=False,
                tooltip="Comarketing mode: partners' ROCS and CAC and the leads they referred; P again returns"),
        Binding("question_mark", "help", "Help", id="app.help", tooltip="Every key of this screen"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(self, settings: Settings, *, db: str | None = None, login: str | None = None,
                 desk: Desk | None = None) -> None:
        super().__init__()
        from leaddesk.widgets.footer_keys import plain_footer_keys
        from leaddesk.widgets.stale_hide import ignore_stale_hides
        from leaddesk.widgets.visible_input import draw_controls_visibly
        from leaddesk.widgets.watchers import drop_watchers_of_removed_nodes
        from leaddesk.widgets.whole_paste import paste_whole

        draw_controls_visibly()  # a pasted ESC sequence is drawn as ␛… while it is edited, never obeyed
        paste_whole()  # ... and arrives as pasted text, never as key presses (Textual's parser: whole_paste.py)
        drop_watchers_of_removed_nodes()  # removed widgets are freed (Textual keeps them: tests/test_soak.py)
        plain_footer_keys()  # a Footer's keys are not restyled as they mount (footer_keys.py)
        ignore_stale_hides()  # a Hide handled after the widget came back does not blur it (stale_hide.py)
        self.settings = settings
        self.db_target = db
        self.login = desk.login if desk is not None else acting_login(login)
        self.desk: Desk | None = None
        self.opened = threading.Event()
        """Set once opening the desk is over (`desk` is then the desk, or None when it could not be opened):
        work asked for earlier (a dialog opened at once) waits for it instead of doing nothing."""
        self._given_desk = desk
        if not settings.animations:
            self.animation_level = "none"
        from leaddesk.commands import LeadFinder

        self.COMMANDS = App.COMMANDS | {LeadFinder}

    # -- start-up --------------------------------------------------------------------------------
    def on_mount(self) -> None:
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        if self.settings.keymap:
            self.set_keymap(self.settings.keymap)
        self.theme_changed_signal.subscribe(self, self._save_theme)
        self.sub_title = f"{self.login} · opening…"
        use_fresh_context_pool(asyncio.get_running_loop())  # before the first thread worker
        self.run_worker(self._open_desk, thread=True, group="open", exit_on_error=False)

    def _open_desk(self) -> None:
        try:
            desk = self._given_desk or Desk.open(self.db_target, login=self.login, origin="tui",
                                                 settings=self.settings)
        except LeadDeskError as exc:
            self.call_from_thread(self.notify, str(exc), title="Cannot open the desk", severity="error",
                                  timeout=30, markup=False)
            self.opened.set()
            return
        from leaddesk.store.permissions import PartnerOnly

        try:
            desk.whoami()  # an unknown login or a deactivated user is told why once, here
        except PartnerOnly:
            self.call_from_thread(self._partner_opened, desk)  # a partner sees the partner view, and only it
            return
        except LeadDeskError as exc:
            if self._given_desk is None:
                desk.close()
            self.call_from_thread(self._refused, str(exc))
            self.opened.set()
            return
        # The views' first queries, asked for as they mounted, wait in their workers for the desk (screens/base.py):
        # handed over here, they run now, beside the first screen's layout, not after the main thread's next turn.
        self._data_version = desk.db.data_version()  # before the first read: a commit after it is seen by the poll
        self.desk = desk
        self.opened.set()
        self.call_from_thread(self._desk_opened, desk)

    def _refused(self, message: str) -> None:
        """The acting user may not use this desk: say so (the store's words) and stay closed; q quits."""
        self.sub_title = f"{self.login} · not allowed"
        self.notify(message, title="Cannot open the desk", severity="error", timeout=600, markup=False)

    def _desk_opened(self, desk: Desk) -> None:
        where = desk.db.path.name if desk.db.path is not None else desk.db.dialect
        self._sub_title = f"{desk.login} · {where}"
        self.sub_title = self._sub_title
        self.set_interval(self.poll_every, self._poll_other_writers)
        self._when_first_view_shown(self._start_background)

    first_view_wait = 3.0
    """The most seconds the background work waits for the first view's data (see `_when_first_view_shown`)."""

    answers = 0
    """How many service calls of the screens have answered (screens/base.py `call`)."""

    def _when_first_view_shown(self, then: Callable[[], None], waited: float = 0.0) -> None:
        """Call `then` once the first view has its data: a screen's call has answered and none is running, then
        a refresh (or after `first_view_wait`). Work started earlier competes with the first view for the
        interpreter: at 100k leads the warm-up's imports and the spare card held the board's first fill up by
        100-300 ms (bench/tui.py)."""
        busy = not self.answers or any(w.node is not self and not w.is_finished for w in self.workers)
        if busy and waited < self.first_view_wait:
            self.set_timer(0.05, lambda: self._when_first_view_shown(then, waited + 0.05))
            return
        self.call_after_refresh(then)

    def _start_background(self) -> None:
        """Reminders, the score refresh and the warm-up, each after its delay from the first view's fill."""
        if self.extras_after > 0:
            self.set_timer(self.extras_after, self._start_extras)
        else:
            self._start_extras()
        if self.warm_up_after is not None:
            self.set_timer(self.warm_up_after, self._warm_up)
            self.set_timer(self.spare_card_after, self._first_spare_card)

    # -- the partner view (issue 7; screens/partner_view.py) -----------------------------------------
    is_partner = False
    """The acting user is a partner: the desk shows the partner view and nothing else (the store refuses them
    every other read; the app does not offer them: no views, no lead finder, no reminders or SLA looks)."""

    def _partner_opened(self, desk: Desk) -> None:
        from leaddesk.screens.partner_view import PartnerViewScreen

        self.is_partner = True  # before the desk is handed over: the views' waiting queries see it and do nothing
        self.desk = desk
        self.opened.set()
        where = desk.db.path.name if desk.db.path is not None else desk.db.dialect
        self._sub_title = self.sub_title = f"{desk.login} · {where}"
        self._data_version = desk.db.data_version()
        self.set_interval(self.poll_every, self._poll_other_writers)  # live: another desk changes a status
        self.add_mode("partner", PartnerViewScreen)
        self.switch_mode("partner")

    def offers(self, action: str) -> bool:
        """Does the app offer this action of its own keys to the acting user? A partner gets help and quit."""
        if not self.is_partner:
            return True
        own = {b.action.split("(")[0] for b in self.BINDINGS if isinstance(b, Binding)}
        return action not in own or action in ("help", "quit")

    def action_toggle_comarketing(self) -> None:
        """Comarketing mode (screens/comarketing.py): switch to it, or back to the view it was opened from."""
        if self.current_mode == "comarketing":
            self.switch_mode(self._before_comarketing)
            return
        if not self._comarketing_added:
            from leaddesk.screens.comarketing import ComarketingScreen

            self.add_mode("comarketing", ComarketingScreen)  # not in MODES: the warm-up does not build it
            self._comarketing_added = True
        self._before_comarketing = self.current_mode
        self.switch_mode("comarketing")

    _before_comarketing = "board"
    _comarketing_added = False

    extras_after = 0.5
    """Seconds after the first view has its data to start the reminders and the score refresh (at 100k leads
    their queries in other threads held the board's first fill up by ~70 ms)."""

    def _start_extras(self) -> None:
        if self.reminders:
            self._check_reminders(opening=True)
            self.set_interval(self.remind_every, self._check_reminders)
        self._refresh_scores()
        self.set_interval(3600, self._refresh_scores)  # a desk left open overnight gets the next day's decay

    def _refresh_scores(self) -> None:
        """Recompute the automatic scores if stale (once a day for the decay, or new rules; store/scoring.py)."""

        def job() -> None:
            desk = self.desk
            try:
                if desk is not None and desk.refresh_scores() is not None:
                    self.call_from_thread(self.data_changed)
            except LeadDeskError as exc:  # e.g. the database is busy: the next look tries again
                self.log.warning(f"score refresh: {exc}")

        self.run_worker(job, thread=True, group="scores", exclusive=True, exit_on_error=False)

    poll_every = 1.0
    """Seconds between two looks for changes by other processes (SQLite's data_version, PostgreSQL's NOTIFY)."""

    warm_up_after: float | None = 0.3
    """Seconds after the first view has its data to start building the other views in the background (None:
    never)."""

    warmed_up = False
    """Whether the warm-up has built every view (bench/_tui_probe.py waits for it before timing keys)."""

    WARM_MODULES = ("leads", "deal", "agenda", "lead_card", "qualify", "dialogs", "help")

    def _warm_up(self) -> None:
        """While the rep reads the board, import the other screens in a thread, then build the other views
        one at a time on idle turns: their CSS, widgets and first query are ready before the first switch."""
        import importlib

        def imports() -> None:
            for module in self.WARM_MODULES:
                importlib.import_module(f"leaddesk.screens.{module}")
            self.call_from_thread(self._build_next_view)

        self.run_worker(imports, thread=True, group="warm-up", exit_on_error=False)

    def _build_next_view(self) -> None:
        for mode in self.MODES:
            if mode not in self._screen_stacks:
                self._init_mode(mode)  # Textual's own first step of switch_mode, without showing it
                self.set_timer(0.05, self._build_next_view)  # one at a time: keys between are not held up
                return
        # Everything built so far lives as long as the app: keep it out of the collector's full passes, which
        # otherwise stall a keypress now and then by 30-50 ms at 100k leads (bench/tui.py, p99).
        gc.freeze()
        self.warmed_up = True

    # -- follow-up reminders (issue 6) -------------------------------------------------------------
    reminders = True
    """Remind the acting user of their follow-ups: a notification on opening (overdue and due today) and when
    a timed one comes due, and the overdue count in the header."""

    remind_every = 20.0
    """Seconds between two looks for follow-ups that came due (and the header's overdue count)."""

    _sub_title = ""
    _reminded_until: str | None = None
    _overdue_shown: int | None = None

    def _check_reminders(self, opening: bool = False) -> None:
        """Ask the store (in a worker) for the acting user's overdue count and what came due since last time."""

        def check() -> None:
            desk = self.desk
            if desk is None:
                return
            try:
                found = desk.followup_reminders(None if opening else self._reminded_until)
            except LeadDeskError:
                return  # e.g. the user was deactivated meanwhile: the views say so
            self.call_from_thread(self._remind, found, opening)

        self.run_worker(check, thread=True, group="reminders", exclusive=not opening, exit_on_error=False)

    def _remind(self, found: dict[str, Any], opening: bool) -> None:
        from leaddesk.textsafe import safe_line

        self._reminded_until = found["until"]
        if opening and (found["overdue"] or found["today"]):
            parts = [f"{n} {what}" for n, what in ((found["overdue"], "overdue"), (found["today"], "due today")) if n]
            self.notify(f"{' and '.join(parts)} — 4 opens the agenda", title="Your follow-ups", timeout=10,
                        markup=False)
        for row in found["coming"]:
            who = row["contact_name"] or row["company"] or ""
            company = f" ({row['company']})" if row["company"] and row["contact_name"] else ""
            note = f" — {row['followup_note']}" if row["followup_note"] else ""
            self.notify(safe_line(f"{row['followup_time']} #{row['number']} {who}{company}{note}"),
                        title="Follow-up due", timeout=60, markup=False)
        if found["overdue"] != self._overdue_shown:
            self._overdue_shown = found["overdue"]
            self.sub_title = self._sub_title + (f" · ⚑ {found['overdue']} overdue" if found["overdue"] else "")

    _poll_worker: Worker[None] | None = None

    def _poll_other_writers(self) -> None:
        """Another process (a rep, a script) committed? Reload what is shown (Database.data_version)."""

        def check() -> None:
            if self.desk is None:
                return
            version = self.desk.db.data_version()
            if version != self._data_version:
                self._data_version = version
                self.call_from_thread(self.data_changed)

        if self._poll_worker is None or self._poll_worker.is_finished:  # a slow look is not cancelled: skip a tick
            self._poll_worker = self.run_worker(check, thread=True, group="poll", exit_on_error=False)
        if not self.is_partner:  # SLA escalations and notices are the team's
            self._poll_sla()

    # -- SLA breaches and notices (issue 6; store/sla.py, store/notices.py) ------------------------------
    sla_every = 30.0
    """Seconds between two looks for SLA breaches to escalate and for the acting user's new notices."""

    _sla_looked: float | None = None
    _notice_seen = 0
    """The highest notice id shown as a notification in this session."""

    def _poll_sla(self) -> None:
        """On the first poll tick and every `sla_every` seconds: escalate new breaches (a cheap indexed read when
        there are none), then show the acting user's unread notices not shown yet."""
        import time

        now = time.monotonic()
        if self._sla_looked is not None and now - self._sla_looked < self.sla_every:
            return
        self._sla_looked = now

        def look() -> None:
            desk = self.desk
            if desk is None:
                return
            try:
                found = desk.sla_poll(self._notice_seen)
            except LeadDeskError as exc:  # e.g. the database is busy: the next look tries again
                self.log.warning(f"SLA look: {exc}")
                return
            self.call_from_thread(self._show_notices, found)

        self.run_worker(look, thread=True, group="sla", exclusive=True, exit_on_error=False)

    def _show_notices(self, found: dict[str, Any]) -> None:
        from leaddesk.textsafe import safe_line

        if found["breaches"]:
            self.data_changed()  # the views show the new breaches' markers
        fresh = [n for n in found["notices"] if n["id"] > self._notice_seen]
        if not fresh:
            return
        self._notice_seen = fresh[-1]["id"]
        hint = "`leaddesk notices` lists them; palette: notices: mark read"
        if len(fresh) <= 3:
            for notice in fresh:
                title = "SLA breached" if notice["kind"] == "sla" else "Notice"
                self.notify(safe_line(notice["text"]), title=title, severity="warning", timeout=30, markup=False)
            return
        leads = ", ".join(f"#{n['lead']}" for n in fresh[:6] if n["lead"] is not None)
        more = "…" if len(fresh) > 6 else ""
        self.notify(safe_line(f"{found['unread']} unread notices, e.g. leads {leads}{more} — {hint}"),
                    title="SLA breached", severity="warning", timeout=30, markup=False)

    def mark_notices_read(self) -> None:
        """Mark the notices shown so far read (the palette's "notices: mark read")."""
        seen = self._notice_seen

        def job() -> None:
            desk = self.desk
            if desk is None:
                return
            try:
                marked = desk.mark_notices_read(seen or None)
            except LeadDeskError as exc:
                self.call_from_thread(self.notify, str(exc), severity="error", markup=False)
                return
            self.call_from_thread(self.notify, f"{marked} notice{'' if marked == 1 else 's'} marked read",
                                  markup=False)

        self.run_worker(job, thread=True, group="notices", exit_on_error=False)

    def _save_theme(self, theme: Any) -> None:
        name = getattr(theme, "name", str(theme))
        if name != self.settings.theme:
            try:
                save_setting("theme", name, self.settings.source_path)
            except OSError as exc:
                self.notify(f"could not save the theme: {exc}", severity="warning", markup=False)

    async def _shutdown(self) -> None:
        """Let a screen built off-screen (a spare card, a view of the warm-up) finish mounting before Textual
        (8.2.8) closes it: closed mid-build, it mounts none of its widgets and their `on_mount` handlers fail,
        a traceback on quit (caught by CI once)."""
        building = [node._mounted_event.wait() for node in list(self._registry)
                    if isinstance(node, Screen) and not node._mounted_event.is_set()]
        if building:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*building), SHUTDOWN_WAIT)
        await super()._shutdown()

    def on_unmount(self) -> None:
        if self.desk is not None and self._given_desk is None:
            self.desk.close()

    # -- shared navigation ---------------------------------------------------------------------
    data_generation = 0
    """Bumped on every change to the data; each view reloads when it is shown and behind."""

    def data_changed(self) -> None:
        """The data changed (a write here, or another process): the visible view reloads, others when shown."""
        self.data_generation += 1
        for screen in self.screen_stack:
            screen.post_message(DataChanged())
        if self.reminders and self._reminded_until is not None:
            self._check_reminders()  # the overdue count may have changed

    def open_lead(self, number: int, siblings: list[int] | None = None) -> None:
        """Show a lead's card; `siblings` are the numbers `[` and `]` step through."""
        from leaddesk.screens.lead_card import LeadCardScreen

        LeadCardScreen.open(self, number, siblings or [number])

    spare_cards = False
    """Build the next lead card ahead, off-screen, so that opening one only reads and shows the lead (turned on
    with the warm-up; screens/lead_card.py)."""

    spare_card: Screen[Any] | None = None
    """The lead card built ahead, waiting for the next `open_lead`."""

    spare_card_after = 0.1
    """Seconds after the first view has its data to build the first spare lead card (before the warm-up builds
    the other views)."""

    def _first_spare_card(self) -> None:
        def imports() -> None:  # in a thread, as the warm-up's: the first view keeps answering meanwhile
            import leaddesk.screens.lead_card  # noqa: F401

            self.call_from_thread(self._build_first_spare_card)

        self.run_worker(imports, thread=True, group="spare-card", exit_on_error=False)

    def _build_first_spare_card(self) -> None:
        from leaddesk.screens.lead_card import LeadCardScreen

        self.spare_cards = True
        LeadCardScreen.build_spare_when_idle(self)

    def open_deal(self, deal_id: int) -> None:
        """Show a deal's page."""
        from leaddesk.screens.deal import DealScreen

        self.push_screen(DealScreen(deal_id))

    def start_qualify(self, number: int) -> None:
        """Open the qualify wizard for a lead; it lands on the new deal's page."""
        from leaddesk.screens.qualify import QualifyScreen

        self.push_screen(QualifyScreen(number))

    def new_lead(self) -> None:
        """Ask for a new lead; open its card once created."""
        from leaddesk.screens.dialogs import NewLeadDialog

        def created(number: int | None) -> None:
            if number is not None:
                self.open_lead(number)

        self.push_screen(NewLeadDialog(), created)

    def open_import(self, path: str | None = None) -> None:
        """Show the import screen (on `path` if given)."""
        from leaddesk.screens.import_screen import ImportScreen

        if not isinstance(self.screen, ImportScreen):
            self.push_screen(ImportScreen(path))

    def open_dupes(self) -> None:
        """Show the likely duplicates, to compare and merge them."""
        from leaddesk.screens.dupes import DupesScreen

        if not isinstance(self.screen, DupesScreen):
            self.push_screen(DupesScreen())

    def action_open_import(self) -> None:
        self.open_import()

    def open_users(self) -> None:
        """Show the desk's users (managers and admins manage them there)."""
        from leaddesk.screens.users import UsersScreen

        if not isinstance(self.screen, UsersScreen):
            self.push_screen(UsersScreen())

    def open_queue(self) -> None:
        """Work the queue: the next lead due, why, and one key per outcome (screens/queue.py)."""
        from leaddesk.screens.queue import QueueScreen

        if not isinstance(self.screen, QueueScreen):
            self.push_screen(QueueScreen())

    def action_open_dupes(self) -> None:
        self.open_dupes()

    def action_open_users(self) -> None:
        self.open_users()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.offers(action):
            return False
        if action in ("open_import", "open_dupes", "open_users", "toggle_comarketing"):  # not from over a dialog
            return not isinstance(self.screen, ModalScreen)
        # `q` quits only from a top-level view; on a card, wizard or dialog `escape` goes back instead.
        return not (action == "quit" and len(self.screen_stack) > 1)

    def action_help(self) -> None:
        from leaddesk.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if self.is_partner:
            yield SystemCommand("help: keys", "Every key of this screen", self.action_help)
            return
        yield SystemCommand("view: comarketing", "Partners' ROCS and CAC and the leads they referred (P)",
                            self.action_toggle_comarketing)
        yield SystemCommand("view: board", "The kanban board of leads", lambda: self.switch_mode("board"))
        yield SystemCommand("view: list", "The lead list with filters", lambda: self.switch_mode("list"))
        yield SystemCommand("view: deals", "Deals by pipeline stage", lambda: self.switch_mode("deals"))
        yield SystemCommand("view: agenda", "Follow-ups by day: overdue, today, tomorrow, later",
                            lambda: self.switch_mode("agenda"))
        yield SystemCommand("view: reports", "Reports and charts: volume, sources, velocity, funnel, owners, lost,"
                            " pipeline", lambda: self.switch_mode("reports"))
        yield SystemCommand("lead: new", "Add a lead", self.new_lead)
        yield SystemCommand("import: leads from a file", "Import a CSV or XLSX file: mapping, dry run, undo",
                            self.open_import)
        yield SystemCommand("leads: duplicates", "Likely duplicate leads, side by side, to merge", self.open_dupes)
        yield SystemCommand("users: team and roles", "Users, roles and open leads; add, change role, deactivate",
                            self.open_users)
        yield SystemCommand("notices: mark read", "Mark the SLA escalations shown to you read",
                            self.mark_notices_read)
        yield SystemCommand("work: the queue", "The next lead due, one key per outcome: overdue follow-ups, today's,"
                            " SLA breaches, new leads, then by score", self.open_queue)
        yield SystemCommand("help: keys", "Every key of this screen", self.action_help)


def make_app(settings: Settings | None = None, *, db: str | None = None, login: str | None = None,
             desk: Desk | None = None) -> LeadDeskApp:
    """Build the app from settings and a database (or an open Desk, as tests do)."""
    from leaddesk.settings import load_settings

    return LeadDeskApp(settings or load_settings(), db=db, login=login, desk=desk)
