"""Keys that stay with the widget they were sent to, when a priority key moves the focus ahead of them.

Textual forwards a key to the focused widget, then resolves bindings at the app once the key has bubbled up,
against the focus *of that moment*. A priority binding (the list's and the board's `/`, which must put the text
typed right after it into the search box) runs as soon as it arrives, ahead of keys queued before it: in a burst
("down down / acme", a fast typist or a slow SSH link) the arrows then reach the app when the search box has the
focus, and run what it binds to them (the list's "down" goes back to the table, mid-word) or nothing.
"""

from __future__ import annotations

from textual import events
from textual.widget import Widget


class KeepsItsKeys(Widget):
    """A focusable widget whose bindings answer the keys sent to it, even after the focus has moved on."""

    async def on_key(self, event: events.Key) -> None:
        """A key that reaches this widget when it no longer has the focus: run its binding here."""
        if self.screen.focused is self:
            return  # the usual way: bound at the app
        bindings = self._bindings.key_to_bindings.get(event.key)
        if bindings:
            event.stop()
            event.prevent_default()
            await self.run_action(bindings[0].action)
