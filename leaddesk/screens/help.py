"""`?`: every key of the screen you came from and of the app, with its binding id (for `[keymap]`)."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static


class HelpScreen(ModalScreen[None]):
    """A table of keys: key, what it does, binding id."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90; max-width: 100%; height: 90%; border: thick $primary;
                                  background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")]

    def __init__(self, underneath: Screen[Any]) -> None:
        super().__init__()
        self.underneath = underneath

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(self._table(), id="keys")
        yield Footer()

    def key_rows(self) -> list[tuple[str, str, str, str]]:
        """(group, key, what it does, binding id) for the screen underneath, its focused widget and the app."""
        seen: set[tuple[str, str]] = set()
        groups: list[tuple[str, list[Binding]]] = []
        focused = self.underneath.focused
        if focused is not None:
            groups.append((type(focused).__name__, [b for _k, b in focused._bindings]))
        groups.append((type(self.underneath).__name__, [b for _k, b in self.underneath._bindings]))
        offers = getattr(self.app, "offers", lambda _action: True)  # a partner is offered help and quit only
        groups.append(("App", [b for _k, b in self.app._bindings if offers(b.action.split("(")[0])]))
        rows: list[tuple[str, str, str, str]] = []
        for title, bindings in groups:
            keys_of: dict[tuple[str, str], list[str]] = {}  # one row per action: all its keys together
            for b in bindings:
                if not b.description or (b.key, b.action) in seen:
                    continue
                seen.add((b.key, b.action))
                does = b.description + (f" — {b.tooltip}" if b.tooltip else "")
                keys = keys_of.setdefault((does, b.id or ""), [])
                if (shown := self.app.get_key_display(b)) not in keys:
                    keys.append(shown)
            rows.extend((title, " ".join(keys), does, binding_id) for (does, binding_id), keys in keys_of.items())
        if getattr(self.app, "is_partner", False):
            rows.append(("Palette", "ctrl+p", "Commands: theme, keys, quit", ""))
        else:
            rows.append(("Palette", "ctrl+p", "Commands, and find leads by number, name, phone or email", ""))
        return rows

    def _table(self) -> Table:
        table = Table(title="Keys", title_justify="left", expand=True, show_edge=False)
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("does")
        table.add_column(Text("id (remap in settings [keymap])"), style="dim")
        group = None
        for title, key, does, binding_id in self.key_rows():
            if title != group:
                table.add_row(Text(title, style="italic"), "", "")
                group = title
            table.add_row(Text(key), Text(does), Text(binding_id))
        return table
