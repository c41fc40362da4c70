"""The workflow rules, as pure functions over plain values.

Every status change, whatever its origin (TUI, CLI, import), is checked here.
No database access and no heavy imports: the quick CLI path loads this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from leaddesk.store.errors import RuleError

CATEGORIES = ("open", "qualified", "won", "lost")
BANT_ANSWERS = ("yes", "no", "unknown")
ACTIVITY_KINDS = ("note", "call", "email", "meeting")
PRIORITY_NAMES = {0: "low", 1: "medium", 2: "high", 3: "urgent"}


@dataclass(frozen=True)
class StatusInfo:
    """A status as the rules see it."""

    id: int
    name: str
    category: str
    position: int
    manual: bool

    @property
    def closed(self) -> bool:
        """True for won and lost statuses."""
        return self.category in ("won", "lost")


def fold_name(text: str) -> str:
    """Fold a name for matching: case-insensitive, spaces, hyphens and underscores alike."""
    return " ".join(text.replace("-", " ").replace("_", " ").casefold().split())


def resolve_name(text: str, names: Iterable[str], what: str) -> str:
    """Find `text` among `names` exactly (folded) or by a unique prefix; refuse clearly otherwise."""
    options = list(names)
    if not options:
        raise RuleError(f"unknown {what} '{text}': there are none yet")
    wanted = fold_name(text)
    if not wanted:
        raise RuleError(f"no {what} given: choose from {', '.join(options)}")
    exact = [n for n in options if fold_name(n) == wanted]
    if exact:
        return exact[0]
    prefixed = [n for n in options if fold_name(n).startswith(wanted)]
    if len(prefixed) == 1:
        return prefixed[0]
    if prefixed:
        raise RuleError(f"{what} '{text}' is ambiguous: it could be {', '.join(prefixed)}")
    raise RuleError(f"unknown {what} '{text}': choose from {', '.join(options)}")


def resolve_status(text: str, statuses: Sequence[StatusInfo]) -> StatusInfo:
    """The status named by `text` (see `resolve_name`)."""
    name = resolve_name(text, [s.name for s in statuses], "status")
    return next(s for s in statuses if s.name == name)


def first_of(category: str, statuses: Sequence[StatusInfo]) -> StatusInfo | None:
    """The first status (by position) of a category, or None when the workflow has none."""
    found = sorted((s for s in statuses if s.category == category), key=lambda s: s.position)
    return found[0] if found else None


def check_allowed_for_type(target: StatusInfo, type_name: str | None, allowed: Sequence[StatusInfo]) -> None:
    """Refuse a status the lead's type does not allow (an empty list allows all)."""
    if allowed and target.id not in {s.id for s in allowed}:
        names = ", ".join(s.name for s in allowed)
        raise RuleError(f"status '{target.name}' is not allowed for lead type '{type_name}' (allowed: {names})")


def why_not_by_hand(target: StatusInfo) -> str:
    """The message for a status that is reached by an action, not picked."""
    if target.category == "qualified":
        return f"'{target.name}' is reached only by qualifying the lead (it links a customer and opens a deal)"
    if target.category == "won":
        return f"'{target.name}' needs a job value: mark the lead won with its value, or win its deal"
    if target.category == "lost":
        return f"'{target.name}' needs a reason: mark the lead lost with a reason"
    return f"'{target.name}' cannot be picked by hand"


def check_pick(current: StatusInfo, target: StatusInfo) -> str:
    """Check a hand-picked status change; return the action it is ("status" or "reopen")."""
    if not target.manual:
        raise RuleError(why_not_by_hand(target))
    if target.category != "open":
        raise RuleError(why_not_by_hand(target))
    return "reopen" if current.category != "open" else "status"


def check_reopen(current: StatusInfo, target: StatusInfo) -> None:
    """A lead can be reset to any open status at any time; only open statuses are reopen targets."""
    if target.category != "open":
        raise RuleError(f"a lead is reopened to an open status, not '{target.name}'")
    if current.id == target.id:
        raise RuleError(f"the lead is already '{target.name}'")


def check_won(current: StatusInfo, value_cents: int | None) -> None:
    """Won needs a job value greater than zero."""
    if value_cents is None or value_cents <= 0:
        raise RuleError("a won lead needs a job value greater than 0")
    if current.category == "won":
        raise RuleError(f"the lead is already '{current.name}'; edit its job value instead")


def check_lost(current: StatusInfo, reason: str | None) -> None:
    """Lost needs a reason; a lost lead is reopened before being lost again."""
    if not reason or not reason.strip():
        raise RuleError("a lost lead needs a reason")
    if current.category == "lost":
        raise RuleError(f"the lead is already '{current.name}'")


def check_qualify(current: StatusInfo) -> None:
    """Only an open lead can be qualified."""
    if current.category != "open":
        raise RuleError(f"only an open lead can be qualified; this one is '{current.name}' (reopen it first)")


def check_job_value_edit(current: StatusInfo, value_cents: int | None) -> None:
    """The job value can be entered only on a won lead, and stays above zero there."""
    if current.category != "won":
        raise RuleError("the job value can be entered only on a won lead")
    if value_cents is None or value_cents <= 0:
        raise RuleError("a won lead needs a job value greater than 0")


def parse_money(text: str | int | float | Decimal | None, what: str = "amount") -> int | None:
    """Parse a money amount ("1,200.50", "$900", "1200") into integer cents; None/"" is None."""
    if text is None:
        return None
    if isinstance(text, int | float | Decimal):
        raw = str(text)
    else:
        raw = text.strip().replace(",", "").replace("_", "").lstrip("$€£").strip()
        if raw == "":
            return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise RuleError(f"{what} '{text}' is not a number") from None
    if not value.is_finite():
        raise RuleError(f"{what} '{text}' is not a number")
    if value < 0:
        raise RuleError(f"{what} cannot be negative")
    if value >= Decimal(10) ** 13:
        raise RuleError(f"{what} '{text}' is too large")
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_money(cents: int | None) -> str:
    """Cents as `12,345.67` (empty for None)."""
    if cents is None:
        return ""
    return f"{Decimal(cents) / 100:,.2f}"


def parse_priority(text: str | int) -> int:
    """A priority 0–3, by number or name (low, medium, high, urgent)."""
    if isinstance(text, int):
        value = text
    else:
        folded = text.strip().casefold()
        names = {v: k for k, v in PRIORITY_NAMES.items()}
        if folded in names:
            return names[folded]
        try:
            value = int(folded)
        except ValueError:
            raise RuleError(f"priority '{text}' must be 0-3 or low, medium, high, urgent") from None
    if not 0 <= value <= 3:
        raise RuleError(f"priority {value} must be between 0 and 3")
    return value


def parse_probability(text: str | int) -> int:
    """A probability in percent, 0–100."""
    try:
        value = int(str(text).strip().rstrip("%"))
    except ValueError:
        raise RuleError(f"probability '{text}' must be a whole percentage 0-100") from None
    if not 0 <= value <= 100:
        raise RuleError(f"probability {value} must be between 0 and 100")
    return value


def parse_bant(text: str, what: str) -> str:
    """A BANT answer: yes, no or unknown (y/n/? accepted)."""
    folded = text.strip().casefold()
    aliases = {"y": "yes", "n": "no", "?": "unknown", "": "unknown", "true": "yes", "false": "no"}
    folded = aliases.get(folded, folded)
    if folded not in BANT_ANSWERS:
        raise RuleError(f"{what} must be yes, no or unknown, not '{text}'")
    return folded


def parse_tags(text: str) -> str:
    """Tags as a normalised comma list: trimmed, de-duplicated case-insensitively, order kept."""
    seen: dict[str, str] = {}
    for tag in text.split(","):
        tag = " ".join(tag.split())
        if tag and tag.casefold() not in seen:
            seen[tag.casefold()] = tag
    return ",".join(seen.values())


def split_name(name: str) -> tuple[str | None, str | None]:
    """Split a contact name into first and last name (last word is the last name)."""
    parts = name.split()
    if len(parts) < 2:
        return (parts[0] if parts else None), None
    return " ".join(parts[:-1]), parts[-1]
