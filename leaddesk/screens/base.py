"""What every leaddesk screen shares: calling the service layer in a worker, and refreshing on change."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from rich.text import Text
from textual import events
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Input

from leaddesk.store.errors import LeadDeskError
from leaddesk.textsafe import safe_line

if TYPE_CHECKING:
    from leaddesk.app import LeadDeskApp
    from leaddesk.store.desk import Desk

T = TypeVar("T")
OPEN_WAIT_S = 60.0  # how long work asked for while the desk opens waits for it


class DataChanged(Message):
    """The database changed (by this desk or, later, by another process): reload what is shown."""


def literal(value: Any, empty: str = "") -> Text:
    """User data as Rich Text: shown literally (no markup), control characters made visible, one line."""
    if value is None or value == "":
        return Text(empty)
    return Text(safe_line(str(value)))


class ServiceCalls:
    """Mixin for screens and widgets: run a service call in a thread worker, report refusals as notifications."""

    app: LeadDeskApp

    for_partners = False
    """Whether a partner's desk answers this screen's calls (the partner view); others' calls are not made."""

    @property
    def desk(self) -> Desk | None:
        """The service API, once the app has opened the database."""
        return self.app.desk

    def call(self, fn: Callable[[Desk], T], done: Callable[[T], Any] | None = None, *,
             failed: Callable[[LeadDeskError], None] | None = None, group: str = "db",
             exclusive: bool = False, changes: bool = False) -> None:
        """Run `fn(desk)` off the UI thread; then `done(result)` on it. A refusal becomes a notification
        (or goes to `failed`). `changes=True` tells every screen to reload after a successful write."""
        app = self.app

        async def finish(result: T) -> None:
            try:
                if done is not None:
                    outcome = done(result)
                    if inspect.isawaitable(outcome):  # a coroutine handler (e.g. one that mounts widgets)
                        await outcome
            except Exception as exc:  # a bug in a screen: say so, never fail silently
                app.log.error(exc)
                app.notify(f"internal error: {exc!r}", severity="error", markup=False)
            app.answers += 1  # the first one is the first view's data (App._when_first_view_shown)
            if changes:
                app.data_changed()

        def job() -> None:
            desk = app.desk
            if desk is None:  # still opening: wait for it (never forever)
                app.opened.wait(timeout=OPEN_WAIT_S)
                desk = app.desk
            if desk is None or (app.is_partner and not self.for_partners):  # e.g. the board a partner never sees
                return
            try:
                result = fn(desk)
            except LeadDeskError as exc:
                if failed is not None:
                    app.call_from_thread(failed, exc)
                else:
                    app.call_from_thread(app.notify, str(exc), severity="error", markup=False)
                return
            except Exception as exc:  # e.g. a database error: keep the desk running and tell the user
                app.call_from_thread(app.notify, f"{type(exc).__name__}: {exc}", title="Unexpected error",
                                     severity="error", markup=False)
                return
            app.call_from_thread(finish, result)

        self.run_worker(job, thread=True, group=group, exclusive=exclusive, exit_on_error=False)  # type: ignore[attr-defined]


class DeskScreen(ServiceCalls, Screen[Any]):
    """A top-level view. Override `reload()` to (re)query what it shows."""

    _seen_generation = -1

    lays_out_once = False
    """Skip the second layout Textual gives this screen as it first shows (see `_on_resize`). On for the lead card
    only: the board's start-up, without it, wrote 68.5 KB to the terminal instead of 63.7 KB (bench/terminal.py),
    its first full paint coming a frame later."""

    def _on_resize(self, event: events.Resize) -> None:
        """Textual (8.2.8) lays a screen out again on every Resize it gets, and every screen under it too. A
        screen's own first layout posts one to it, at the size it was just laid out at: that second layout of the
        screen and of the screens under it redid the first for nothing (a card's first show: two layouts of its
        ~140 widgets and one of the list under it). With `lays_out_once`, a Resize to the size this screen is
        laid out at skips Textual's handler (Textual calls each class's handler, subclass first, until one
        prevents the default); a screen under it whose size differs is laid out again when it shows (Textual's
        ScreenResume)."""
        if self.lays_out_once and self.outer_size == event.size and self.is_attached:
            event.prevent_default()
            event.stop()

    def on_mount(self) -> None:
        self._refresh_if_behind()  # before the desk is open too: the query waits for it in its worker (`call`)

    def on_data_changed(self, _message: DataChanged) -> None:
        if self.is_shown:
            self._refresh_if_behind()
        # A covered screen (under a card or a wizard) catches up when it shows again.

    @property
    def is_shown(self) -> bool:
        """On top, or under dialogs only (seen through them). Textual's `is_current` is also true for the
        screen right under a full-screen card, which would reload, unseen, on every change."""
        stack = self.app.screen_stack
        return self in stack and all(isinstance(s, ModalScreen) for s in stack[stack.index(self) + 1:])

    def on_screen_resume(self) -> None:
        if self.app.desk is not None:
            self._refresh_if_behind()

    def _refresh_if_behind(self) -> None:
        if self._seen_generation != self.app.data_generation:
            self._seen_generation = self.app.data_generation
            self.reload()

    def reload(self) -> None:
        """Query the data this screen shows (in a worker) and update the widgets."""


class SearchBoxScreen(DeskScreen):
    """A view with a `#search` box that `/` focuses: bound with priority, so that text typed right after it lands
    in the box even when the keys arrive together (see widgets/own_keys.py for the keys queued before it)."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "search":  # in the search box "/" is just a character
            return not isinstance(self.focused, Input)  # `focused` changes at once; `has_focus` a moment later
        return True

    def action_search(self) -> None:
        self.set_focus(self.query_one("#search", Input))  # at once, unlike focus(): the next key goes there


class DeskModal(ServiceCalls, ModalScreen[T]):
    """A question or form shown over the current screen; `dismiss(value)` answers it."""

    DEFAULT_CSS = """
    DeskModal { align: center middle; }
    DeskModal > Vertical { width: 64; max-width: 100%; height: auto; max-height: 100%;
                           border: thick $primary; background: $surface; padding: 0 1; }
    DeskModal .title { text-style: bold; margin-bottom: 1; }
    DeskModal .error { color: $error; height: auto; }
    DeskModal .buttons { height: auto; align-horizontal: right; margin-top: 1; }
    DeskModal .buttons Button { margin-left: 1; }
    """
