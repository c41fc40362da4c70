"""Placeholder for the Board view (being built)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer, Header, Static

from leaddesk.screens.base import DeskScreen


class BoardScreen(DeskScreen):
    """Board."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Board")
        yield Footer()
