"""Placeholder for the Leads view (being built)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer, Header, Static

from leaddesk.screens.base import DeskScreen


class ListScreen(DeskScreen):
    """Leads."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Leads")
        yield Footer()
