"""A widget keeps the focus through a stale Hide.

Textual (8.2.8) blurs a focused widget when it gets a `Hide` event (`Widget._on_hide`), and the screen then
focuses the widget before it in the focus chain: for the list's search box, the table, so that the rest of a word
typed into the box runs as list commands (space marks, `a` marks all, `b` opens the bulk dialog: the soak's
symptom in one CI run). A Hide is posted by a layout that left the widget out; handled after a later layout has
put it back (a busy machine, a screen switch racing the keys), it is stale, and Textual acts on it anyway.

`ignore_stale_hides` makes every widget of the process ignore a Hide while it is laid out on its screen (its
`region` in the screen's current layout is not empty); a widget really hidden has left the layout and is blurred
as before.
"""

from __future__ import annotations

from textual import events
from textual.widget import Widget

_ON_HIDE = vars(Widget)["_on_hide"]
_PATCHED = "_leaddesk_stale_hides"


def _on_hide_unless_laid_out(self: Widget, event: events.Hide) -> None:
    if self.region:  # on its screen's current layout: the Hide came from an earlier one
        return
    _ON_HIDE(self, event)


def ignore_stale_hides() -> None:
    """Make every widget of the process ignore a Hide while it is on its screen's layout (idempotent)."""
    if not getattr(Widget, _PATCHED, False):
        Widget._on_hide = _on_hide_unless_laid_out  # type: ignore[method-assign]
        setattr(Widget, _PATCHED, True)
