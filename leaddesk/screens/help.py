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

    def _table(self) -> Table:
        table = Table(title="Keys", title_justify="left", expand=True, show_edge=False)
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("does")
        table.add_column("id (remap in settings [keymap])", style="dim")
        seen: set[tuple[str, str]] = set()
        groups: list[tuple[str, list[Binding]]] = []
        focused = self.underneath.focused
        if focused is not None:
            groups.append((type(focused).__name__, [b for _k, b in focused._bindings]))
        groups.append((type(self.underneath).__name__, [b for _k, b in self.underneath._bindings]))
        groups.append(("App", [b for _k, b in self.app._bindings]))
        for title, bindings in groups:
            rows = [b for b in bindings if b.description and (b.key, b.action) not in seen]
            if not rows:
                continue
            table.add_row(Text(title, style="italic"), "", "")
            for b in rows:
                seen.add((b.key, b.action))
                table.add_row(self.app.get_key_display(b), b.description + (f" — {b.tooltip}" if b.tooltip else ""),
                              b.id or "")
        table.add_row(Text("Palette", style="italic"), "", "")
        table.add_row("ctrl+p", "Command palette: commands, and find leads by number, name, phone, email", "")
        return table
