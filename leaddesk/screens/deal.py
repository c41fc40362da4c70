"""Placeholder for the deal views (being built)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer, Header, Static

from leaddesk.screens.base import DeskScreen


class DealsScreen(DeskScreen):
    """Deals by stage."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Deals")
        yield Footer()


class DealScreen(DeskScreen):
    """One deal."""

    def __init__(self, deal_id: int) -> None:
        super().__init__()
        self.deal_id = deal_id

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Deal {self.deal_id}")
        yield Footer()
