"""What every operation needs: a transaction, who acts, from where, and when."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from leaddesk import clock
from leaddesk.settings import Settings
from leaddesk.store.db import Tx


@dataclass
class Ctx:
    """One operation's context; its history rows share `change_id`."""

    tx: Tx
    user_id: int
    login: str
    origin: str
    settings: Settings
    at: str = field(default_factory=clock.stamp)
    change_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    role: str = "rep"
    """The acting user's role (see `permissions`)."""

    def record(self, entity: str, entity_id: int, action: str, field_name: str,
               old: Any, new: Any) -> None:
        """Write one history row of this change."""
        self.tx.execute(
            "INSERT INTO history (change_id, entity, entity_id, action, field, old, new, user_id, at, origin)"
            " VALUES (:c, :e, :eid, :a, :f, :o, :n, :u, :at, :origin)",
            {"c": self.change_id, "e": entity, "eid": entity_id, "a": action, "f": field_name,
             "o": as_text(old), "n": as_text(new), "u": self.user_id, "at": self.at, "origin": self.origin},
        )


def as_text(value: Any) -> str | None:
    """A column value as history stores it (None stays None; booleans as 1/0)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)
