"""Managing the desk's users: add, deactivate, activate, change role; each change in history (entity "user")."""

from __future__ import annotations

from typing import Any

from leaddesk.store import permissions
from leaddesk.store.context import Ctx
from leaddesk.store.errors import NotFound, RuleError

USER_COLUMNS = "id, login, name, role, active, created_at"


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
