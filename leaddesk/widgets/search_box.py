"""The views' search box: an Input that keeps the focus through a stale Hide.

Textual (8.2.8) blurs a focused widget when it gets a `Hide` event (`Widget._on_hide`), and the screen then
focuses the widget before it in the focus chain: for the list's box, the table, so that the rest of a word typed
into the box runs as list commands (space marks, `a` marks all, `b` opens the bulk dialog). A Hide is posted by a
layout that left the widget out; handled after a later layout has put it back (a busy machine, a screen switch
racing the keys), it is stale. The box ignores a Hide while it is laid out on its screen.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class SearchBox(Input):
    """A view's `/` search box (see the module)."""

    def _on_hide(self, event: events.Hide) -> None:
        if self.region:  # on the screen's current layout: the Hide came from an earlier one
            event.prevent_default()  # Textual would call Widget._on_hide next (each class's handler, in MRO order)
