"""A Footer that redraws only when the keys it shows change."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer


class QuietFooter(Footer):
    """A Footer that rebuilds its keys only when they change (Textual rebuilds it on every focus change, which
    costs more than the rest of a card refresh)."""

    _shown: tuple[tuple[str, str, bool], ...] | None = None

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if not getattr(screen, "keys_ready", True):
            return  # the card is still loading: its keys are about to change
        keys = tuple((b.key, b.description, enabled) for _n, b, enabled, _t in screen.active_bindings.values()
                     if b.show)
        if keys == self._shown:
            return
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self._shown = keys
        super().bindings_changed(screen)
