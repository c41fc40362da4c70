"""The conflict dialog: someone else changed a lead while the rep edited it; per field the rep changed it shows
what they read, what they typed and what is stored now (who changed it, when), and lets them keep theirs, take
the stored values, or choose field by field.

Fields only the other person changed are taken without a question, fields only the rep changed are kept, and a
field both changed to the same value needs nothing: the dialog asks only about real clashes (the card does not
open it when there are none). Keys (ids in brackets): space / enter switches the row between yours and theirs
[conflict.toggle] · s saves the choices [conflict.save] · m keeps all yours [conflict.mine] · t takes all
theirs, dropping your edits [conflict.theirs] · escape goes back to the card, edits kept, nothing saved
[conflict.back].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Footer, Static

from leaddesk import clock
from leaddesk.screens.base import DeskModal
from leaddesk.textsafe import safe_line

FIELD_WIDTH = 11
KEEP_WIDTH = 8
NOTHING = "—"


@dataclass(frozen=True)
class ConflictRow:
    """One field the rep changed: the values as text, and who changed it since (None: nobody did)."""

    name: str
    label: str
    base: str
    mine: str
    theirs: str
    by: str | None = None
    at: str | None = None

    @property
    def clash(self) -> bool:
        """Both changed it, to different values: the rep chooses."""
        return self.theirs != self.base and self.theirs != self.mine


@dataclass(frozen=True)
class Resolution:
    """The rep's answer: drop every edit (take theirs), or save with the fields in `theirs` taken from the
    stored lead and every other edit kept."""

    drop_edits: bool = False
    theirs: frozenset[str] = field(default_factory=frozenset)


def cut(text: str, style: str = "") -> Text:
    """A cell: its lines never wrap (a long value ends in an ellipsis)."""
    return Text(text, style=style, no_wrap=True, overflow="ellipsis")


def when_short(stamp: str | None) -> str:
    """A change's time, short: "12:07" today, "2026-11-25 12:07" before."""
    if not stamp:
        return ""
    day, _t, time = stamp.partition("T")
    return time[:5] if day == clock.today().isoformat() else f"{day} {time[:5]}".strip()


class ConflictDialog(DeskModal[Resolution | None]):
    """Lead `number` changed under the rep's edits: choose per clashing field (see the module's keys)."""

    CSS_PATH = "conflict.tcss"
    AUTO_FOCUS = "#conflict-table"
    BINDINGS = [
        Binding("space", "switch", "Yours/theirs", id="conflict.toggle",
                tooltip="Switch the field under the cursor between your value and the stored one (also enter)"),
        Binding("s", "save", "Save", id="conflict.save", tooltip="Save: each field as chosen"),
        Binding("m", "keep_mine", "Keep mine", id="conflict.mine",
                tooltip="Save all your values over the other changes to the same fields"),
        Binding("t", "take_theirs", "Take theirs", id="conflict.theirs",
                tooltip="Drop your edits and show the lead as stored now"),
        Binding("escape", "back", "Back", id="conflict.back",
                tooltip="Back to the card: your edits stay, nothing is saved"),
    ]

    def __init__(self, number: int, by: str, at: str, rows: list[ConflictRow],
                 also: list[tuple[str, str | None]] | None = None) -> None:
        super().__init__()
        self.number = number
        self.by, self.at = by, at
        self.rows = rows
        self.also = also or []  # (label, who) of the fields only the other person changed: taken
        self.choice = {r.name: "mine" for r in rows if r.clash}

    # -- layout ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Vertical(id="conflict"):
            title = Text(f"Lead #{self.number} was changed by {safe_line(self.by)} at"
                         f" {safe_line(self.at.replace('T', ' '))} since you read it", style="bold")
            yield Static(title, classes="title", id="conflict-title")
            yield DataTable(id="conflict-table", cursor_type="row", zebra_stripes=False, show_cursor=True)
            yield Static(self._also_text(), id="conflict-also")
            with Horizontal(classes="buttons"):
                yield Button("Back", id="back")
                yield Button("Take theirs (t)", id="theirs")
                yield Button("Keep mine (m)", id="mine")
                yield Button("Save (s)", id="save", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        value = self._value_width()
        table.add_column("Field", width=FIELD_WIDTH, key="field")
        table.add_column("You read", width=value, key="base")
        table.add_column("Yours", width=value, key="mine")
        table.add_column("Now", width=value, key="theirs")
        table.add_column("Keep", width=KEEP_WIDTH, key="keep")
        for row in sorted(self.rows, key=lambda r: not r.clash):  # the questions first
            table.add_row(*self._cells(row), key=row.name, height=2 if row.clash else 1)

    def _value_width(self) -> int:
        """Room for each of the three value columns: the dialog is at most 100 wide, 2 border, 2 padding, and
        every column has 1 cell of padding each side (and 2 for a scrollbar)."""
        inner = min(100, self.app.size.width) - 4
        return max(8, (inner - FIELD_WIDTH - KEEP_WIDTH - 5 * 2 - 2) // 3)

    def _cells(self, row: ConflictRow) -> tuple[Text, ...]:
        def value(text: str, style: str = "") -> Text:  # one line each, cut with an ellipsis
            return cut(text, style) if text else cut(NOTHING, "dim")

        label = cut(safe_line(row.label), "bold" if row.clash else "")
        if not row.clash:
            keep = "same" if row.mine == row.theirs else "yours"
            now = value(row.theirs, "dim") if row.mine == row.theirs else cut("unchanged", "dim")
            return label, value(row.base, "dim"), value(row.mine), now, cut(keep, "dim")
        chosen = self.choice[row.name]
        now = value(row.theirs, "bold" if chosen == "theirs" else "")
        who = " ".join(p for p in (safe_line(row.by or self.by), when_short(row.at or self.at)) if p)
        now.append("\n" + who, style="dim italic")
        mine = value(row.mine, "bold" if chosen == "mine" else "")
        marker = cut("▸ " + ("yours" if chosen == "mine" else "theirs"), "bold")
        return label, value(row.base, "dim"), mine, now, marker

    def _also_text(self) -> Text:
        clashes = sum(1 for r in self.rows if r.clash)
        text = Text()
        text.append(f"Both of you changed {clashes} field{'s' if clashes != 1 else ''}: space or enter switches"
                    " yours/theirs.")
        if self.also:
            names = ", ".join(f"{safe_line(label)} ({safe_line(who)})" if who else safe_line(label)
                              for label, who in self.also)
            text.append(f"\nTaken as they are now: {names}.", style="dim")
        return text

    # -- choosing --------------------------------------------------------------------------------
    def _row_under_cursor(self) -> ConflictRow | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((r for r in self.rows if r.name == key), None)

    def action_switch(self) -> None:
        row = self._row_under_cursor()
        if row is None:
            return
        if not row.clash:
            what = "both of you typed the same" if row.mine == row.theirs else "only you changed it: it is kept"
            self.notify(f"{row.label}: {what}", severity="information", markup=False)
            return
        self.choice[row.name] = "theirs" if self.choice[row.name] == "mine" else "mine"
        table = self.query_one(DataTable)
        for column, cell in zip(("field", "base", "mine", "theirs", "keep"), self._cells(row), strict=True):
            table.update_cell(row.name, column, cell)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_switch()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        action = {"back": self.action_back, "theirs": self.action_take_theirs, "mine": self.action_keep_mine,
                  "save": self.action_save}[str(event.button.id)]
        action()

    def action_save(self) -> None:
        self.dismiss(Resolution(theirs=frozenset(n for n, c in self.choice.items() if c == "theirs")))

    def action_keep_mine(self) -> None:
        self.dismiss(Resolution())

    def action_take_theirs(self) -> None:
        self.dismiss(Resolution(drop_edits=True))

    def action_back(self) -> None:
        self.dismiss(None)


def latest_change(changes: dict[str, dict[str, Any]], by: str, at: str) -> tuple[str, str]:
    """Who changed the lead last and when: the conflict's (`by`, `at`) unless a change read since is later."""
    for change in changes.values():
        if change.get("at") and change["at"] > at:
            by, at = change.get("by") or "someone", change["at"]
    return by, at


def conflict_rows(pending: list[tuple[Any, Any, Any]], theirs_of: Any, shown: Any,
                  changes: dict[str, dict[str, Any]]) -> list[ConflictRow]:
    """The dialog's rows for the form's pending edits [(field, read, typed)]: `theirs_of(field)` is the field's
    value in the lead as stored now, `shown(field, value)` its text; `changes` (Desk.lead_changes_since) say
    who changed each field and when."""
    rows = []
    for f, base, mine in pending:
        change = changes.get(f.name) or {}
        rows.append(ConflictRow(f.name, f.label, shown(f, base), shown(f, mine), shown(f, theirs_of(f)),
                                change.get("by"), change.get("at")))
    return rows
