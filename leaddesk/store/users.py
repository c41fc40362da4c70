"""Managing the desk's users: add, deactivate, activate, change role; each change in history (entity "user")."""

from __future__ import annotations

from typing import Any

from leaddesk.store import permissions
from leaddesk.store.context import Ctx
from leaddesk.store.db import Tx
from leaddesk.store.errors import NotFound, RuleError

USER_COLUMNS = "id, login, name, role, active, created_at"
OPEN_CATEGORIES = "('open', 'qualified')"  # a lead still being worked (the list's "open" filter)


def overview(tx: Tx) -> list[dict[str, Any]]:
    """Every user by login, with how many open leads they own (`open_leads`); `active` as a bool."""
    rows = tx.all(
        "SELECT u.id, u.login, u.name, u.role, u.active, u.created_at, coalesce(o.n, 0) AS open_leads"
        " FROM \"user\" u LEFT JOIN (SELECT l.owner_id, count(*) AS n FROM lead l"
        f" JOIN status s ON s.id = l.status_id WHERE s.category IN {OPEN_CATEGORIES} GROUP BY l.owner_id) o"
        " ON o.owner_id = u.id ORDER BY u.login")
    return [{**dict(r), "active": bool(r["active"]), "open_leads": int(r["open_leads"])} for r in rows]


def describe_actor(tx: Tx, actor: permissions.Actor) -> dict[str, Any]:
    """The acting user for a screen: login, name, role, `known` (False: not a user yet; created on their
    first write) and `manage_users`, the refusal they would get managing users (None: they may)."""
    name = tx.scalar("SELECT name FROM \"user\" WHERE id = :i", {"i": actor.id}) if actor.id is not None else None
    return {"login": actor.login, "name": name or actor.login, "role": actor.role, "known": actor.id is not None,
            "manage_users": permissions.refusal(permissions.check_user_change, actor.role, "rep")}


def load(ctx: Ctx, login: str) -> dict[str, Any]:
    """A user by login (exact), or NotFound naming the known ones."""
    row = ctx.tx.one(f"SELECT {USER_COLUMNS} FROM \"user\" WHERE login = :l", {"l": login.strip()})
    if row is None:
        known = ", ".join(r[0] for r in ctx.tx.all("SELECT login FROM \"user\" ORDER BY login"))
        raise NotFound(f"there is no user '{login.strip()}' (users: {known or 'none'})")
    return {**dict(row), "active": bool(row["active"])}


def active_admins(ctx: Ctx) -> int:
    """How many active admins the desk has."""
    return int(ctx.tx.scalar("SELECT count(*) FROM \"user\" WHERE role = 'admin' AND active = :t", {"t": True}))


def add(ctx: Ctx, login: str, name: str | None, role: str) -> int:
    """Add a user (managers and admins; an admin to add an admin)."""
    from leaddesk.store.catalog import check_login

    clean = login.strip()
    check_login(clean)
    permissions.check_role(role)
    permissions.check_user_change(ctx.role, role)
    if ctx.tx.scalar("SELECT id FROM \"user\" WHERE login = :l", {"l": clean}) is not None:
        raise RuleError(f"user '{clean}' already exists")
    display = " ".join((name or "").split()) or clean
    user = ctx.tx.insert("INSERT INTO \"user\" (login, name, role, active, created_at)"
                         " VALUES (:l, :n, :r, :a, :at)",
                         {"l": clean, "n": display, "r": role, "a": True, "at": ctx.at})
    ctx.record("user", user, "create", "login", None, clean)
    ctx.record("user", user, "create", "role", None, role)
    return user


def set_active(ctx: Ctx, login: str, active: bool) -> tuple[dict[str, Any], bool]:
    """Deactivate or activate a user; returns (user, changed). The last active admin stays active."""
    user = load(ctx, login)
    permissions.check_user_change(ctx.role, user["role"])
    if user["active"] == active:
        return user, False
    if not active:
        permissions.check_not_last_admin(active_admins(ctx), user["role"], user["active"], user["login"])
    ctx.tx.execute("UPDATE \"user\" SET active = :a WHERE id = :i", {"a": active, "i": user["id"]})
    ctx.record("user", user["id"], "activate" if active else "deactivate", "active", user["active"], active)
    return {**user, "active": active}, True


def set_role(ctx: Ctx, login: str, role: str) -> tuple[dict[str, Any], bool]:
    """Change a user's role; returns (user, changed). The last active admin keeps the admin role."""
    permissions.check_role(role)
    user = load(ctx, login)
    permissions.check_user_change(ctx.role, user["role"], role)
    if user["role"] == role:
        return user, False
    permissions.check_not_last_admin(active_admins(ctx), user["role"], user["active"], user["login"])
    ctx.tx.execute("UPDATE \"user\" SET role = :r WHERE id = :i", {"r": role, "i": user["id"]})
    ctx.record("user", user["id"], "role", "role", user["role"], role)
    return {**user, "role": role}, True
