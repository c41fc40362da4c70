"""The duplicates screen: groups of likely duplicate leads (same phone or email, or names and companies alike
at a threshold the rep can change), then a group's leads side by side (fields as rows, one column per lead,
differing values highlighted) to choose the lead to keep, the leads that are not duplicates after all, and,
field by field, whose value the merged lead takes; merge, then land on the kept lead's card. The acting
user's last merge can be undone from here.

Everything goes through the Desk in a worker: `duplicate_groups`, `merge_plan` (writes nothing; the
side-by-side view), `merge` (one transaction), `merges`, `undo_merge`.

Keys (ids in brackets, remap them in the settings' [keymap]): enter compares a group [dupes.compare] ·
+ / - a stricter or looser name match, in steps of 5% from 70% to 100% [dupes.stricter/looser] ·
in a group: ←→ a lead, ↑↓ a field, enter takes that lead's value [dupes.take], K keeps the lead under the
cursor [dupes.keep], x leaves it out of the merge [dupes.exclude] or puts it back [dupes.include], M merges
(asks first) [dupes.merge], d only the fields that differ [dupes.differences], o opens the lead's card [dupes.open] ·
u undoes your last merge [dupes.undo] · escape back [dupes.back].
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.css.query import NoMatches
from textual.widgets import ContentSwitcher, DataTable, Header, Static

from leaddesk.screens.base import DeskScreen
from leaddesk.screens.dialogs import ConfirmDialog
from leaddesk.store.desk import Desk
from leaddesk.store.dupes import DEFAULT_THRESHOLD
from leaddesk.store.errors import LeadDeskError
from leaddesk.textsafe import safe_line, truncate
from leaddesk.widgets.quiet_footer import QuietFooter

MAX_GROUPS = 200  # groups listed (the CLI's `leaddesk dupes` lists them all)
MERGES = 50  # latest merges looked at for the acting user's last one
FIELD_WIDTH = 16
WHO_WIDTH = 36  # characters of a group's names in the list (the reasons need room too)
EMPTY = "—"
THRESHOLDS = (70, 100, 5)  # the name match the rep can ask for: lowest, highest, step (percent)


def plural(count: int, word: str) -> str:
    """`1 deal`, `2 deals`; `activity` -> `activities`."""
    if count == 1:
        return f"1 {word}"
    return f"{count} {word[:-1]}ies" if word.endswith("y") else f"{count} {word}s"


def lead_name(lead: dict[str, Any]) -> str:
    """`Ann Lee (Acme)`, or whichever of the two a lead has."""
    name, company = lead.get("name"), lead.get("company")
    if name and company:
        return f"{safe_line(name)} ({safe_line(company)})"
    return safe_line(name or company or "")


def why_text(reasons: list[dict[str, Any]]) -> str:
    """Why a group's leads are likely the same lead, e.g. "phone +14155550111 · name 93%"."""
    parts = []
    for reason in reasons:
        if reason["why"] == "name":
            parts.append(f"name and company {reason['score']}%")
        else:
            parts.append(f"{reason['why']} {safe_line(reason['value'])}")
    return " · ".join(dict.fromkeys(parts))


def last_merge_of(merges: list[dict[str, Any]], login: str) -> dict[str, Any] | None:
    """The acting user's latest merge not undone (the one `undo_merge()` undoes)."""
    return next((m for m in merges if m["user"] == login and not m["undone"]), None)


def merge_line(merge: dict[str, Any]) -> str:
    """`#221, #230 into #8 at 2026-11-26 12:00`."""
    merged = ", ".join(f"#{n}" for n in merge["merged"])
    return f"{merged} into #{merge['keep']} at {safe_line(str(merge['at'])[:16].replace('T', ' '))}"


class GroupsTable(DataTable[Any]):
    """One row per group of likely duplicates; enter compares its leads."""

    BINDINGS = [Binding("enter", "select_cursor", "Compare", id="dupes.compare",
                        tooltip="The group's leads side by side, to merge them")]


class CompareTable(DataTable[Any]):
    """Fields as rows, the group's leads as columns (the kept one first; those left out of the merge dimmed),
    the merged result last. The cursor moves over the leads' cells only; enter takes the value under it."""

    BINDINGS = [Binding("enter", "select_cursor", "Take value", id="dupes.take",
                        tooltip="The merged lead takes this lead's value for this field")]
    lead_columns = 1

    def action_cursor_left(self) -> None:
        if self.cursor_column > 1:
            super().action_cursor_left()

    def action_cursor_right(self) -> None:
        if self.cursor_column < self.lead_columns:
            super().action_cursor_right()


class DupesScreen(DeskScreen):
    """Likely duplicates: the groups, then one group side by side to merge."""

    TITLE = "Duplicates"
    BINDINGS = [
        Binding("K", "keep", "Keep this lead", id="dupes.keep",
                tooltip="Keep the lead under the cursor; the others merge into it"),
        Binding("x", "exclude", "Leave out", id="dupes.exclude",
                tooltip="Not a duplicate: leave the lead under the cursor out of the merge"),
        Binding("x", "include", "Put back", id="dupes.include",
                tooltip="Put the lead under the cursor, left out until now, back into the merge"),
        Binding("M", "merge", "Merge", id="dupes.merge", tooltip="Merge the group as shown (asks first)"),
        Binding("d", "differences", "Differences", id="dupes.differences",
                tooltip="Show only the fields whose values differ (again: every field)"),
        Binding("o", "open", "Open", id="dupes.open", tooltip="Open the card of the lead under the cursor"),
        Binding("u", "undo", "Undo merge", id="dupes.undo", tooltip="Undo your last merge (asks first)"),
        Binding("plus", f"threshold({THRESHOLDS[2]})", "Stricter", id="dupes.stricter", key_display="+",
                tooltip="Names and companies must be more alike to be listed"),
        Binding("minus", f"threshold(-{THRESHOLDS[2]})", "Looser", id="dupes.looser", key_display="-",
                tooltip="List names and companies that are less alike too"),
        Binding("escape", "back", "Back", id="dupes.back", tooltip="Back to the groups, or close the screen"),
    ]
    DEFAULT_CSS = """
    DupesScreen #dupes-head { height: auto; padding: 0 1; background: $boost; }
    DupesScreen #dupes-info, DupesScreen #last-merge { height: auto; text-wrap: nowrap; text-overflow: ellipsis; }
    DupesScreen #dupes-message { height: auto; color: $text-error; display: none; }
    DupesScreen #dupes-message.shown { display: block; }
    DupesScreen #views { height: 1fr; }
    DupesScreen #groups, DupesScreen #compare { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.groups: list[dict[str, Any]] = []
        self.total_groups = 0
        self.last_merge: dict[str, Any] | None = None
        self.group: dict[str, Any] | None = None  # the group compared
        self.keep: int | None = None
        self.take: dict[str, str] = {}
        self.excluded: set[int] = set()  # the group's leads left out of the merge
        self.columns: list[int] = []  # the lead numbers shown, in column order (the kept one first)
        self.threshold = DEFAULT_THRESHOLD
        self.plan: dict[str, Any] | None = None
        self._values: dict[int, dict[str, str | None]] = {}  # lead -> field -> value, from the plans shown
        self.busy = False
        self.searching = True
        self._plan_seq = 0
        self.rows: list[dict[str, Any]] = []  # the plan's fields shown, in order
        self.only_differences = False
        self._cursor_state = "kept"  # what the lead under the cursor is (see _cursor_lead)

    # -- layout ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="dupes-head"):
            yield Static(Text("Looking for duplicates…", style="dim"), id="dupes-info")
            yield Static("", id="last-merge")
            yield Static("", id="dupes-message")
        with ContentSwitcher(initial="groups", id="views"):
            yield GroupsTable(id="groups", cursor_type="row", zebra_stripes=True)
            yield CompareTable(id="compare", cursor_type="cell")
        yield QuietFooter()

    def on_mount(self) -> None:
        self.query_one("#groups", GroupsTable).add_columns("Leads", "Who", "Why")
        self.query_one("#groups", GroupsTable).focus()

    @property
    def comparing(self) -> bool:
        return self.group is not None

    # -- loading ---------------------------------------------------------------------------------
    def reload(self) -> None:
        threshold = self.threshold

        def fetch(desk: Desk) -> dict[str, Any]:
            return {"groups": desk.duplicate_groups(threshold), "merges": desk.merges(MERGES), "login": desk.login,
                    "threshold": threshold}

        self.call(fetch, self._show_groups, group="dupes-load", exclusive=True)
        if self.comparing:
            self._load_plan()

    def _show_groups(self, data: dict[str, Any]) -> None:
        if data["threshold"] != self.threshold:  # a search the rep has changed since
            return
        self.searching = False
        groups = data["groups"]
        self.total_groups = len(groups)
        self.groups = groups[:MAX_GROUPS]
        self.last_merge = last_merge_of(data["merges"], data["login"])
        table = self.query_one("#groups", GroupsTable)
        row = table.cursor_row
        table.clear()
        for group in self.groups:
            first = group["leads"][0]
            others = {lead_name(lead) for lead in group["leads"][1:]} - {lead_name(first)}
            who = lead_name(first) + (" / " + " / ".join(sorted(others)) if others else "")
            table.add_row(" ".join(f"#{n}" for n in group["numbers"]), Text(truncate(who, WHO_WIDTH)),
                          Text(why_text(group["reasons"])), key=",".join(map(str, group["numbers"])))
        if self.groups:
            table.move_cursor(row=min(row, len(self.groups) - 1))
        self._show_head()
        self.refresh_bindings()

    def _show_head(self) -> None:
        info = self.query_one("#dupes-info", Static)
        if self.comparing and self.plan is not None:
            info.update(self._plan_head(self.plan))
        elif self.comparing:
            info.update(Text("Reading the leads…", style="dim"))
        elif self.searching:
            info.update(Text(f"Looking for duplicates (names {self.threshold}% alike)…", style="dim"))
        elif not self.total_groups:
            looser = " (- looser)" if self.threshold > THRESHOLDS[0] else ""
            info.update(Text(f"No likely duplicates: no two leads share a phone or an email, or have names and"
                             f" companies {self.threshold}% alike{looser}."))
        else:
            shown = f", the first {MAX_GROUPS} listed" if self.total_groups > MAX_GROUPS else ""
            info.update(Text(f"{self.total_groups} groups of likely duplicates{shown} (names {self.threshold}%"
                             " alike, +/-) · enter compares a group"))
        last = self.query_one("#last-merge", Static)
        if self.last_merge is not None:
            last.update(Text(f"Your last merge: {merge_line(self.last_merge)} (u undoes it)", style="dim"))
        else:
            last.update("")

    # -- one group side by side ------------------------------------------------------------------
    @on(DataTable.RowSelected, "#groups")
    def _compare(self, event: DataTable.RowSelected) -> None:
        if event.cursor_row >= len(self.groups):
            return
        self.group = self.groups[event.cursor_row]
        self.keep = int(self.group["numbers"][0])
        self.take, self.excluded, self.columns, self._values = {}, set(), [], {}
        self.plan = None
        self._say("")
        self.query_one("#compare", CompareTable).clear(columns=True)
        self.query_one("#views", ContentSwitcher).current = "compare"
        self.query_one("#compare", CompareTable).focus()
        self._show_head()
        self._load_plan()

    def _others(self) -> list[int]:
        """The leads merged into the kept one: the group's others, less those left out."""
        assert self.group is not None
        return [int(n) for n in self.group["numbers"] if int(n) != self.keep and int(n) not in self.excluded]

    def _choices(self) -> tuple[int, dict[str, str], set[int]]:
        """(keep, take, excluded) as they are, to go back to if the service refuses a change."""
        assert self.keep is not None
        return self.keep, dict(self.take), set(self.excluded)

    def _load_plan(self, previous: tuple[int, dict[str, str], set[int]] | None = None) -> None:
        """Ask the service what the merge would do; `previous` is the (keep, take, excluded) to go back to if
        it refuses."""
        if self.group is None or self.keep is None:
            return
        self._plan_seq += 1
        seq, keep, others, take = self._plan_seq, str(self.keep), [str(n) for n in self._others()], dict(self.take)

        def done(plan: dict[str, Any]) -> None:
            if seq == self._plan_seq and self.comparing:
                self._show_plan(plan)

        def failed(exc: LeadDeskError) -> None:
            if seq != self._plan_seq or not self.comparing:
                return
            if previous is not None:  # the choice is refused (e.g. a type that does not allow the status)
                self.keep, self.take, self.excluded = previous
                self._say(str(exc))
                return
            self._back_to_groups()
            self._say(str(exc))

        self.call(lambda desk: desk.merge_plan(keep, others, take or None), done, failed=failed,
                  group="dupes-plan", exclusive=True)

    def _plan_head(self, plan: dict[str, Any]) -> Text:
        keep = plan["leads"][0]
        text = Text()
        text.append(f"Keep #{keep['number']} {lead_name(keep)}", style="bold")
        text.append(" ← merging " + ", ".join(f"#{n}" for n in plan["others"]))
        if self.excluded:
            text.append(" · left out: " + ", ".join(f"#{n}" for n in sorted(self.excluded)) + " (x puts back)",
                        style="italic")
        moves = plan["moves"]
        text.append(f"\nmoves {plural(moves['activities'], 'activity')}, {plural(moves['deals'], 'deal')},"
                    f" {plural(moves['history'], 'history row')}", style="dim")
        if self.only_differences:
            text.append(" · only the fields that differ (d: all)", style="dim italic")
        elif self.group is not None:
            text.append(" · matched on " + why_text(self.group["reasons"]), style="dim")
        return text

    def _show_plan(self, plan: dict[str, Any]) -> None:
        table = self.query_one("#compare", CompareTable)
        spot = self._cursor_spot()  # from the plan shown until now
        self.plan = plan
        assert self.group is not None and self.keep is not None
        merged = [lead["number"] for lead in plan["leads"]]
        for entry in plan["fields"]:
            for number, value in zip(merged, entry["values"], strict=True):
                self._values.setdefault(number, {})[entry["field"]] = value
        self.columns = [self.keep, *(int(n) for n in self.group["numbers"] if int(n) != self.keep)]
        table.clear(columns=True)
        count = len(self.columns)
        width = max(12, (self.size.width - FIELD_WIDTH - 2 * (count + 2) - 2) // (count + 1))
        table.add_column("Field", width=FIELD_WIDTH, key="field")
        for index, number in enumerate(self.columns):
            if number in self.excluded:
                label = Text(f"#{number} out", style="dim strike")
            else:
                label = Text(f"#{number}" + (" keep" if index == 0 else ""), style="bold" if index == 0 else "")
            table.add_column(label, width=width, key=str(number))
        table.add_column("Result", width=width, key="result")
        table.lead_columns = count
        self.rows = [entry for entry in plan["fields"]
                     if not self.only_differences or len(set(entry["values"])) > 1]
        for entry in self.rows:
            table.add_row(*self._row(entry, merged, width), key=entry["field"])
        self._show_head()
        self._restore_cursor(spot)
        self._cursor_state = self._cursor_lead()
        self.refresh_bindings()

    def _row(self, entry: dict[str, Any], merged: list[int], width: int) -> list[Text]:
        """A field's row: its label, each column's value (● on the one the result takes), the result."""
        values = entry["values"]
        differ = len(set(values)) > 1
        if entry["how"] == "union":
            chosen = {n for n, v in zip(merged, values, strict=True) if v is not None}
        else:
            chosen = {entry["from"] if entry["from"] in merged else merged[0]}
        warning = self.app.current_theme.warning or "yellow"
        cells = [Text(truncate(safe_line(entry["label"]), FIELD_WIDTH), style="bold" if differ else "")]
        for number in self.columns:
            if number in self.excluded:
                value = self._values.get(number, {}).get(entry["field"])
                cells.append(Text(truncate("  " + (EMPTY if value is None else safe_line(value)), width),
                                  style="dim strike"))
                continue
            value = values[merged.index(number)]
            mark = "● " if number in chosen and differ else "  "
            style = ("bold " if number in chosen else "") + (warning if differ else "")
            shown = EMPTY if value is None else safe_line(value)
            cells.append(Text(truncate(mark + shown, width), style=style.strip()))
        result = EMPTY if entry["result"] is None else safe_line(entry["result"])
        source = f" ← #{entry['from']}" if entry["how"] in ("taken", "filled") else (
            " (all)" if entry["how"] == "union" else "")
        cell = Text(truncate(result, max(width - len(source), 4)))
        cell.append(source, style="dim")
        cells.append(cell)
        return cells

    def _cursor_spot(self) -> tuple[str | None, int | None]:
        """(field, lead number) under the cursor, to put it back after a redraw."""
        table = self.query_one("#compare", CompareTable)
        if self.plan is None or not table.row_count:
            return None, None
        row, column = table.cursor_coordinate
        field = self.rows[row]["field"] if row < len(self.rows) else None
        number = self.columns[column - 1] if 1 <= column <= len(self.columns) else None
        return field, number

    def _restore_cursor(self, spot: tuple[str | None, int | None]) -> None:
        field, number = spot
        rows = [entry["field"] for entry in self.rows]
        row = rows.index(field) if field in rows else 0
        column = self.columns.index(number) + 1 if number in self.columns else 1
        self.query_one("#compare", CompareTable).cursor_coordinate = Coordinate(row, column)

    @on(DataTable.CellSelected, "#compare")
    def _take(self, event: DataTable.CellSelected) -> None:
        if self.plan is None or self.busy:
            return
        row, column = event.coordinate
        if not 1 <= column <= len(self.columns) or row >= len(self.rows):
            return
        field, number = self.rows[row]["field"], self.columns[column - 1]
        if number in self.excluded:
            self._say(f"#{number} is left out of this merge: x puts it back.")
            return
        previous = self._choices()
        if number == self.keep:
            self.take.pop(field, None)
        else:
            self.take[field] = str(number)
        if self.take != previous[1]:
            self._say("")
            self._load_plan(previous)

    # -- actions ---------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("keep", "exclude", "include", "merge", "open", "differences"):
            if not (self.comparing and self.plan is not None):
                return False
            if action in ("keep", "exclude", "include"):
                return self._cursor_lead() == ("out" if action == "include" else "in") and not self.busy
            return not self.busy
        if action == "undo":
            return self.last_merge is not None and not self.busy
        if action == "threshold":
            low, high, _step = THRESHOLDS
            wanted = self.threshold + int(str(parameters[0]))
            return not self.comparing and not self.busy and low <= wanted <= high
        return True

    def _lead_under_cursor(self) -> int | None:
        try:
            table = self.query_one("#compare", CompareTable)
        except NoMatches:
            return None
        if self.plan is None:
            return None
        column = table.cursor_column
        return self.columns[column - 1] if 1 <= column <= len(self.columns) else None

    def _cursor_lead(self) -> str:
        """What the lead under the cursor is: "kept" (or no lead), "in" the merge (K and x apply) or left "out"
        (x puts it back)."""
        number = self._lead_under_cursor()
        if number is None or number == self.keep:
            return "kept"
        return "out" if number in self.excluded else "in"

    @on(DataTable.CellHighlighted, "#compare")
    def _cell_moved(self) -> None:
        keys = self._cursor_lead()
        if keys != self._cursor_state:  # the footer is rebuilt only when K or x change
            self._cursor_state = keys
            self.refresh_bindings()

    def action_keep(self) -> None:
        number = self._lead_under_cursor()
        if number is None or number == self.keep or number in self.excluded or self.busy:
            return
        previous = self._choices()
        self.keep = number
        self.take = {f: n for f, n in self.take.items() if int(n) != number}
        self._say("")
        self._load_plan(previous)

    def action_exclude(self) -> None:
        """Leave the lead under the cursor out of the merge: not a duplicate (its values are not taken)."""
        number = self._lead_under_cursor()
        if number is None or number == self.keep or number in self.excluded or self.busy:
            return
        if self._others() == [number]:
            self._say(f"#{number} is the last lead to merge into #{self.keep}: a merge needs two leads.")
            return
        previous = self._choices()
        self.excluded.add(number)
        self.take = {f: n for f, n in self.take.items() if int(n) != number}
        self._say("")
        self._load_plan(previous)

    def action_include(self) -> None:
        """Put a lead left out back into the merge."""
        number = self._lead_under_cursor()
        if number is None or number not in self.excluded or self.busy:
            return
        previous = self._choices()
        self.excluded.discard(number)
        self._say("")
        self._load_plan(previous)

    def action_threshold(self, step: int) -> None:
        """A stricter (or looser) name match: the groups are searched again."""
        low, high, _step = THRESHOLDS
        wanted = self.threshold + step
        if self.comparing or not low <= wanted <= high:
            return
        self.threshold, self.searching = wanted, True
        self._show_head()
        self.refresh_bindings()
        self.reload()

    def action_differences(self) -> None:
        self.only_differences = not self.only_differences
        if self.plan is not None:
            self._show_plan(self.plan)

    def action_open(self) -> None:
        number = self._lead_under_cursor() or self.keep
        if number is not None:
            self.app.open_lead(number, [int(n) for n in self.group["numbers"]] if self.group else None)

    def action_merge(self) -> None:
        if self.plan is None or self.keep is None or self.busy:
            return
        keep, others, take = self.keep, self._others(), dict(self.take)
        merged = ", ".join(f"#{n}" for n in others)
        question = (f"Merge {merged} into #{keep}? The merged leads leave the lists; their activities, deals and"
                    " history move to the kept lead. You can undo it (u).")
        if self.excluded:
            question += " Left out, unchanged: " + ", ".join(f"#{n}" for n in sorted(self.excluded)) + "."

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            self.busy = True
            self.refresh_bindings()
            self.call(lambda desk: desk.merge(str(keep), [str(n) for n in others], take or None), self._merged,
                      failed=self._failed, changes=True)

        self.app.push_screen(ConfirmDialog(question, yes="Merge"), confirmed)

    def _merged(self, outcome: dict[str, Any]) -> None:
        self.busy = False
        moved = outcome["moved"]
        merged = ", ".join(f"#{n}" for n in outcome["merged"])
        self.notify(f"Merged {merged} into #{outcome['keep']} (moved {moved['activities']} activities,"
                    f" {moved['deals']} deals)", markup=False)
        self._back_to_groups()
        self.app.open_lead(int(outcome["keep"]))

    def _failed(self, exc: LeadDeskError) -> None:
        self.busy = False
        self._say(str(exc))
        self.refresh_bindings()

    def action_undo(self) -> None:
        merge = self.last_merge
        if merge is None or self.busy:
            return
        question = f"Undo your merge of {merge_line(merge)}? The merged leads come back with their activities."

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            self.busy = True
            self.refresh_bindings()
            self.call(lambda desk: desk.undo_merge(int(merge["id"])), self._undone, failed=self._failed,
                      changes=True)

        self.app.push_screen(ConfirmDialog(question, yes="Undo"), confirmed)

    def _undone(self, outcome: dict[str, Any]) -> None:
        self.busy = False
        restored = ", ".join(f"#{n}" for n in outcome["restored"])
        message = f"Merge {outcome['merge_id']} undone: {restored} back beside #{outcome['keep']}"
        if outcome.get("gone"):
            message += " (" + ", ".join(f"{n} {what} no longer exist" for what, n in outcome["gone"].items()) + ")"
        self.notify(message, markup=False)
        self._say("")
        self.refresh_bindings()

    def action_back(self) -> None:
        if self.comparing:
            self._back_to_groups()
            self._say("")
            return
        if not self.busy:
            self.app.pop_screen()

    def _back_to_groups(self) -> None:
        self.group, self.plan, self.keep, self.take, self.excluded = None, None, None, {}, set()
        self._plan_seq += 1
        self.query_one("#views", ContentSwitcher).current = "groups"
        self.query_one("#groups", GroupsTable).focus()
        self._show_head()
        self.refresh_bindings()

    def _say(self, message: str) -> None:
        widget = self.query_one("#dupes-message", Static)
        widget.update(Text(truncate(safe_line(message), 400)))
        widget.set_class(bool(message), "shown")
