"""Errors the service layer raises; each carries the CLI exit code it maps to."""

from __future__ import annotations

from typing import Any


class LeadDeskError(Exception):
    """A refusal the user can understand; the message is one line.

    User text quoted in a message may hold newlines or control characters: they are
    made visible here, so every message stays one printable line.
    """

    exit_code = 1

    def __init__(self, message: str = "", *args: Any) -> None:
        super().__init__(one_line(message), *args)


def one_line(message: object) -> str:
    """A message as one printable line: control characters made visible, a newline as ``\\n``."""
    from leaddesk.textsafe import safe_line

    return safe_line(str(message)).replace("⏎ ", "\\n")


class RuleError(LeadDeskError):
    """A workflow rule or validation refused the change."""


class NotFound(LeadDeskError):
    """The lead, deal, customer or other record does not exist."""

    exit_code = 3


class Conflict(LeadDeskError):
    """Someone else changed the record since it was read (optimistic locking)."""

    exit_code = 4

    def __init__(self, message: str, *, by: str | None = None, at: str | None = None,
                 fields: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.by = by
        self.at = at
        self.fields = fields or {}


class NeedsChoice(RuleError):
    """The action needs the caller to choose between candidates (e.g. matching customers)."""

    def __init__(self, message: str, choices: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.choices = choices


class PossibleDuplicate(RuleError):
    """A new lead's phone or email is already on a lead or customer; `force` creates it anyway.

    `matches` lists them (see `dupes.find_matches`), for a dialog that offers to confirm.
    """

    def __init__(self, message: str, matches: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.matches = matches
