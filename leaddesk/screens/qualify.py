"""Placeholder for the qualify wizard (being built)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer, Header, Static

from leaddesk.screens.base import DeskScreen


class QualifyScreen(DeskScreen):
    """Qualify a lead."""

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Qualify {self.number}")
        yield Footer()
