"""Keys that stay with the widget they were sent to, when a priority key moves the focus around them.

Textual forwards a key to the focused widget, then resolves bindings at the app once the key has bubbled up,
against the focus *of that moment*. A priority binding (the list's and the board's `/`, which must put the text
typed right after it into the search box) runs as soon as it reaches the app, ahead of keys queued before it. In a
burst ("down down / acme", a fast typist or a slow SSH link) an arrow then meets the search box at the app, and runs
what the box binds to it (the list's "down" goes back to the table, mid-word, and the rest of the word runs as
commands). Two orders lead there, both seen: the arrow reaches the table after `/` moved the focus (tests:
`test_keys_typed_before_slash_do_not_pull_the_focus_out_of_the_search`), or the table handles the arrow while it
still has the focus and `/` runs while the arrow bubbles up (CI's soak of 8bd77ef; test:
`test_an_arrow_bubbling_up_while_slash_moves_the_focus_stays_with_the_table`). So a key sent to such a widget runs
the widget's own binding where it is handled, never later at the app.
"""

from __future__ import annotations

from textual import events
from textual.widget import Widget


class KeepsItsKeys(Widget):
    """A focusable widget whose bindings answer the keys sent to it, wherever the focus is by the time they would
    have bubbled up to the app."""

    async def on_key(self, event: events.Key) -> None:
        """Run this widget's (non-priority) binding for the key here, as the app would with the focus unchanged:
        the first one whose action runs (`check_action` may refuse it); other keys bubble up as usual."""
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if binding.priority:
                continue  # the app ran its priority bindings before it sent the key here
            if await self.app.run_action(binding.action, self):
                event.stop()
                event.prevent_default()
                return
