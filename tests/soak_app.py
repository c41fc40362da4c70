"""`leaddesk` as the soak runs it (tests/test_soak.py): the real command line, with a log of every key the app
receives and every focus change (with where it came from), written to $LEADDESK_SOAK_LOG. A failing soak prints
the end of it: twice a key went to the wrong widget in CI, once after an hour of passes, and the log says which
key went where and what moved the focus."""

from __future__ import annotations

import os
import sys
import time
import traceback
from typing import Any, TextIO


def install(log: TextIO) -> None:
    """Log keys (with the focus they met) and focus changes (with the calls that made them)."""
    from textual import events
    from textual.app import App
    from textual.screen import Screen

    started = time.monotonic()

    def write(line: str) -> None:
        log.write(f"{time.monotonic() - started:9.3f} {line}\n")

    set_focus = Screen.set_focus

    def logged_set_focus(self: Screen[Any], widget: Any, scroll_visible: bool = True,
                         from_app_focus: bool = False) -> None:
        if widget is not self.focused:
            calls = " < ".join(f"{f.name}:{f.lineno}" for f in reversed(traceback.extract_stack(limit=9)[:-1]))
            write(f"focus {type(self).__name__}: {self.focused!r} -> {widget!r} ({calls})")
        set_focus(self, widget, scroll_visible, from_app_focus)

    on_event = App.on_event

    async def logged_on_event(self: App[Any], event: events.Event) -> None:
        if isinstance(event, events.Key):
            try:
                where = f"{type(self.screen).__name__} {self.screen.focused!r}"
            except Exception:  # no screen yet
                where = "-"
            write(f"key {event.key!r} -> {where}")
        await on_event(self, event)

    Screen.set_focus = logged_set_focus  # type: ignore[method-assign]
    App.on_event = logged_on_event  # type: ignore[method-assign]


if __name__ == "__main__":
    install(open(os.environ["LEADDESK_SOAK_LOG"], "a", buffering=1))  # noqa: SIM115 (open for the process)
    sys.argv[0] = "leaddesk"
    from leaddesk.cli import main

    main()
