"""Notices: messages for one user's desk (an SLA breach for a manager, ...) until they mark them read.

A notice is a row of `notice` (recipient, lead, kind, text, at, read_at). The desk shows a user's unread ones
as notifications when it opens and while it is open; `leaddesk notices` lists them and `--read` marks them read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from leaddesk.store.db import Tx
from leaddesk.store.permissions import MANAGERS

COLUMNS = (
    "n.id, n.kind, n.text, n.at, n.read_at, l.number AS lead"
    " FROM notice n LEFT JOIN lead l ON l.id = n.lead_id"
)


def recipients(tx: Tx, escalate_to: Sequence[str]) -> list[int]:
    """The ids of the active users `escalate_to` names: "managers" (every manager and admin) and logins
    (unknown or deactivated ones are left out)."""
    logins = [name for name in escalate_to if name != "managers"]
    clauses: list[str] = []
    params: dict[str, Any] = {"t": True}
    if "managers" in escalate_to:
        clauses.append("role IN (" + ", ".join(f"'{role}'" for role in MANAGERS) + ")")
    if logins:
        clauses.append("login IN (" + ", ".join(f":l{i}" for i in range(len(logins))) + ")")
        params.update({f"l{i}": login for i, login in enumerate(logins)})
    if not clauses:
        return []
    return [int(r[0]) for r in tx.all(
        f"SELECT id FROM \"user\" WHERE active = :t AND ({' OR '.join(clauses)}) ORDER BY id", params)]


def told(tx: Tx, kind: str) -> set[tuple[int, int]]:
    """(recipient, lead) of every notice of `kind`: who was already told about what."""
    return {(int(r[0]), int(r[1])) for r in tx.all(
        "SELECT user_id, lead_id FROM notice WHERE kind = :k AND lead_id IS NOT NULL", {"k": kind})}


def add(tx: Tx, rows: list[dict[str, Any]]) -> None:
    """Write notices: each row {u: recipient id, l: lead id, k: kind, t: text, at: stamp}."""
    if rows:
        tx.many("INSERT INTO notice (user_id, lead_id, kind, text, at) VALUES (:u, :l, :k, :t, :at)", rows)


def of_user(tx: Tx, user_id: int | None, *, unread_only: bool = True, after: int = 0,
            limit: int | None = None) -> list[dict[str, Any]]:
    """A user's notices, oldest first: id, kind, text, at, read_at, lead (its number; None if deleted);
    only unread ones unless told otherwise, only those with an id above `after`."""
    if user_id is None:
        return []
    sql = f"SELECT {COLUMNS} WHERE n.user_id = :u AND n.id > :after"
    if unread_only:
        sql += " AND n.read_at IS NULL"
    sql += " ORDER BY n.id"
    params: dict[str, Any] = {"u": user_id, "after": after}
    if limit:
        sql += " LIMIT :n"
        params["n"] = limit
    return [dict(r) for r in tx.all(sql, params)]


def unread_count(tx: Tx, user_id: int | None) -> int:
    """How many unread notices a user has."""
    if user_id is None:
        return 0
    return int(tx.scalar("SELECT count(*) FROM notice WHERE user_id = :u AND read_at IS NULL", {"u": user_id}))


def mark_read(tx: Tx, user_id: int, at: str, up_to: int | None = None) -> int:
    """Mark a user's unread notices read (only those with an id up to `up_to` when given: the ones they saw);
    how many were."""
    sql = "UPDATE notice SET read_at = :at WHERE user_id = :u AND read_at IS NULL"
    params: dict[str, Any] = {"u": user_id, "at": at}
    if up_to is not None:
        sql += " AND id <= :up_to"
        params["up_to"] = int(up_to)
    return tx.execute(sql, params)
