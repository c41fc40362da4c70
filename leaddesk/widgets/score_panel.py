"""A lead's score explained: the total, manual + the rules' points, and one line per rule that gave points
(from `Desk.explain_score`)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from leaddesk.textsafe import safe_line


def explanation_text(found: dict[str, Any] | None) -> Text:
    """The explanation as shown on the card (rule texts come from settings: shown literally)."""
    if found is None:
        return Text("")
    out = Text(no_wrap=True, overflow="ellipsis")
    out.append(f"Score {found['total']}", style="bold")
    out.append(f" = manual {found['manual']} + rules {found['auto']}", style="dim")
    for reason in found["reasons"]:
        points = int(reason["points"])
        out.append(f"\n{points:>+5}  ", style="bold green" if points > 0 else "bold red")
        out.append(safe_line(reason["text"]))
    if not found["rules"] and not found["decay_per_day"]:
        out.append("\nNo score rules in the settings ([score]): the score is the manual one.", style="dim")
    elif not found["reasons"]:
        out.append("\nNo rule gives this lead points.", style="dim")
    if found["stored_auto"] != found["auto"]:
        out.append(f"\nLists use {found['manual'] + found['stored_auto']} until today's recompute.", style="dim")
    return out


class ScorePanel(Static):
    """The score and its reasons; `show(explanation)` replaces them."""

    DEFAULT_CSS = """
    ScorePanel { height: auto; width: 100%; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._shown: dict[str, Any] | None = None

    def show(self, found: dict[str, Any] | None) -> None:
        """Show an explanation (None: nothing yet)."""
        if found != self._shown:
            self._shown = found
            self.update(explanation_text(found))
