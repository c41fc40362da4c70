"""Placeholder for the lead card (being built)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer, Header, Static

from leaddesk.screens.base import DeskScreen


class LeadCardScreen(DeskScreen):
    """One lead."""

    def __init__(self, number: int, siblings: list[int]) -> None:
        super().__init__()
        self.number = number
        self.siblings = siblings

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Lead {self.number}")
        yield Footer()
