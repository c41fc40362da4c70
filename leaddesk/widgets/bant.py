"""The BANT checklist of the lead card's Score tab: budget, authority, need and timeline, each answered yes, no
or unknown, with a note; and the tab itself (`ScorePane`: the checklist above the score's explanation).

The checklist is dumb: `show(detail)` shows a lead's answers; keys post what the user wants
(`CycleRequested`, `NoteRequested`, `ScoreRequested`) and the screen saves through the service layer.
Keys (ids in brackets): up/down or k/j move · space cycles the answer unknown → yes → no [bant.answer] ·
enter writes the note [bant.note] · = sets the manual score [bant.score].
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from leaddesk.textsafe import safe_line
from leaddesk.widgets.score_panel import ScorePanel

PARTS = ("budget", "authority", "need", "timeline")
QUESTIONS = {"budget": "Can they afford it?", "authority": "Do they decide?", "need": "Do we solve a problem?",
             "timeline": "When do they need it?"}
NEXT_ANSWER = {"unknown": "yes", "yes": "no", "no": "unknown"}  # as the store cycles (scoring.next_answer)
LABEL_WIDTH = 11
ANSWER_WIDTH = 9


class BantChecklist(Widget, can_focus=True):
    """Four rows, one per BANT question: the answer and its note; a cursor row while focused."""

    DEFAULT_CSS = """
    BantChecklist { height: 4; width: 100%; }
    BantChecklist > .bant--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
    BantChecklist > .bant--yes { color: $text-success; text-style: bold; }
    BantChecklist > .bant--no { color: $text-error; text-style: bold; }
    BantChecklist > .bant--unknown { color: $text-muted; }
    BantChecklist > .bant--note { color: $text; }
    BantChecklist > .bant--question { color: $text-muted; text-style: italic; }
    """
    COMPONENT_CLASSES = {"bant--cursor", "bant--yes", "bant--no", "bant--unknown", "bant--note", "bant--question"}
    BINDINGS = [
        Binding("space", "cycle", "Answer", id="bant.answer", tooltip="Cycle the answer: unknown → yes → no"),
        Binding("enter", "note", "Note", id="bant.note", tooltip="Write the note of this question"),
        Binding("equals_sign", "score", "Manual score", id="bant.score",
                tooltip="Set the manual score (added to the rules' points)"),
        Binding("up,k", "move(-1)", "Up", show=False, id="bant.up"),
        Binding("down,j", "move(1)", "Down", show=False, id="bant.down"),
    ]

    cursor: reactive[int] = reactive(0)

    class CycleRequested(Message):
        """The user wants the next answer of `part`."""

        def __init__(self, checklist: BantChecklist, part: str) -> None:
            super().__init__()
            self.checklist = checklist
            self.part = part

        @property
        def control(self) -> BantChecklist:
            return self.checklist

    class NoteRequested(Message):
        """The user wants to write the note of `part` (now `note`)."""

        def __init__(self, checklist: BantChecklist, part: str, note: str) -> None:
            super().__init__()
            self.checklist = checklist
            self.part = part
            self.note = note

        @property
        def control(self) -> BantChecklist:
            return self.checklist

    class ScoreRequested(Message):
        """The user wants to set the lead's manual score."""

        def __init__(self, checklist: BantChecklist) -> None:
            super().__init__()
            self.checklist = checklist

        @property
        def control(self) -> BantChecklist:
            return self.checklist

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.answers: dict[str, str] = dict.fromkeys(PARTS, "unknown")
        self.notes: dict[str, str] = dict.fromkeys(PARTS, "")

    def show(self, detail: dict[str, Any]) -> None:
        """Show a lead's answers and notes (as in its details: bant_budget, bant_budget_note, ...)."""
        answers = {p: str(detail.get(f"bant_{p}") or "unknown") for p in PARTS}
        notes = {p: str(detail.get(f"bant_{p}_note") or "") for p in PARTS}
        if (answers, notes) != (self.answers, self.notes):
            self.answers, self.notes = answers, notes
            self.refresh()

    @property
    def part(self) -> str:
        """The question under the cursor."""
        return PARTS[self.cursor]

    def render(self) -> Text:
        lines = []
        for i, part in enumerate(PARTS):
            answer = self.answers[part]
            line = Text(no_wrap=True, overflow="ellipsis", end="")
            line.append("› " if i == self.cursor and self.has_focus else "  ")
            line.append(f"{part.capitalize():<{LABEL_WIDTH}}")
            line.append(f"{answer:<{ANSWER_WIDTH}}", style=self.get_component_rich_style(f"bant--{answer}",
                                                                                        partial=True))
            if self.notes[part]:
                line.append(safe_line(self.notes[part]), style=self.get_component_rich_style("bant--note",
                                                                                             partial=True))
            else:
                line.append(QUESTIONS[part], style=self.get_component_rich_style("bant--question", partial=True))
            if i == self.cursor and self.has_focus:
                line.pad_right(max(0, self.size.width - line.cell_len))  # the cursor spans the row
                line.stylize(self.get_component_rich_style("bant--cursor", partial=True))
            lines.append(line)
        return Text("\n", end="").join(lines)

    def watch_cursor(self) -> None:
        self.refresh()

    def on_focus(self, _event: events.Focus) -> None:
        self.refresh()

    def on_blur(self, _event: events.Blur) -> None:
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        if 0 <= event.y < len(PARTS):
            self.cursor = event.y

    def action_move(self, step: int) -> None:
        self.cursor = max(0, min(len(PARTS) - 1, self.cursor + step))

    def action_cycle(self) -> None:
        part = self.part
        self.answers[part] = NEXT_ANSWER.get(self.answers[part], "yes")  # shown at once; the reload confirms
        self.refresh()
        self.post_message(self.CycleRequested(self, part))

    def action_note(self) -> None:
        self.post_message(self.NoteRequested(self, self.part, self.notes[self.part]))

    def action_score(self) -> None:
        self.post_message(self.ScoreRequested(self))


class ScorePane(VerticalScroll, can_focus=False):
    """The card's Score tab: the BANT checklist, then the score and the rules that gave its points."""

    DEFAULT_CSS = """
    ScorePane { height: 1fr; padding: 0 1; }
    ScorePane > .score-pane--title { color: $text-muted; text-style: bold; height: 1; }
    ScorePane > .score-pane--hint { color: $text-muted; height: auto; }
    ScorePane > ScorePanel { margin-top: 1; }
    """
    HINT = "tab: to the list · space answers · enter writes a note · = manual score"

    def compose(self) -> ComposeResult:
        yield Static(Text("BANT qualification"), classes="score-pane--title")
        yield BantChecklist(id="bant")
        yield Static(Text(self.HINT), classes="score-pane--hint")
        yield ScorePanel(id="score-panel")

    def show(self, detail: dict[str, Any], explanation: dict[str, Any] | None) -> None:
        """Show a lead's answers and its score's explanation (`Desk.explain_score`)."""
        self.query_one(BantChecklist).show(detail)
        self.query_one(ScorePanel).show(explanation)
