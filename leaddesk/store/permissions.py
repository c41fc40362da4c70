"""Who may do what: the roles' rules, checked by every `Desk` method (CLI and TUI alike).

Roles: `rep` works all leads; `manager` also manages users, settings lists, reassignment and deletion;
`admin` is a manager who may also create, promote, demote and deactivate admins; `partner` sees only the
partner view: the status-only table and the metrics of the one partner their login is linked to
(`partners.own_partner`, `Desk.my_partner_view`), and is refused (`PartnerOnly`) everything else: leads, notes,
history, other partners, reports, exports, search. The `check_*` functions are pure (role and ids in,
`Forbidden` out); `acting_user` and `reader` look the acting user up (and create them on first use where allowed)
and refuse partners; `reader(..., partner_ok=True)` lets them through, for the partner view's reads only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from leaddesk.settings import Settings
from leaddesk.store.db import Tx
from leaddesk.store.errors import RuleError

ROLES = ("rep", "manager", "partner", "admin")
MANAGERS = ("manager", "admin")
PARTNER_REFUSAL = ("a partner sees only the status of the leads they referred:"
                   " open `leaddesk` for the partner view, or run `leaddesk partner report`")


class Forbidden(RuleError):
    """The acting user's role (or state) does not allow the action; exit 1 like any other refusal."""


class PartnerOnly(Forbidden):
    """A partner user asked for something outside the partner view (the desk opens the partner view instead)."""


@dataclass(frozen=True)
class Actor:
    """The acting user as the desk knows them (id None: not a user yet, allowed to read)."""

    id: int | None
    login: str
    role: str
    active: bool = True


# -- pure rules --------------------------------------------------------------------------------------
def check_role(role: str) -> str:
    """A role name, checked."""
    if role not in ROLES:
        raise RuleError(f"role '{role}' must be rep, manager, partner or admin")
    return role


def check_active(actor: Actor) -> None:
    """Deactivated users cannot act or read."""
    if not actor.active:
        raise Forbidden(f"user '{actor.login}' is deactivated on this desk:"
                        f" ask a manager to run `leaddesk user activate {actor.login}`")


def check_not_partner(role: str) -> None:
    """Partners neither read nor change leads through the desk: only the partner view (see PARTNER_REFUSAL)."""
    if role == "partner":
        raise PartnerOnly(PARTNER_REFUSAL)


def check_manager(role: str, what: str) -> None:
    """Only managers and admins may `what` (e.g. "change the statuses")."""
    if role not in MANAGERS:
        raise Forbidden(f"only a manager or an admin may {what}; you are a {role}")


def check_reassign(role: str, user_id: int, old_owner: int | None, new_owner: int | None) -> None:
    """Changing a lead's owner: managers and admins always; a rep may take an unassigned lead,
    or give their own lead to anyone (or leave it unassigned)."""
    if old_owner == new_owner or role in MANAGERS:
        return
    if old_owner is None and new_owner == user_id:
        return
    if old_owner == user_id:
        return
    raise Forbidden("only a manager or an admin may reassign a lead someone else owns;"
                    " a rep may take an unassigned lead or give away their own")


def check_delete(role: str, user_id: int, owner: int | None, number: int) -> None:
    """Deleting (or merging away) a lead: managers and admins; a rep only a lead they own."""
    if role in MANAGERS or owner == user_id:
        return
    raise Forbidden(f"lead {number} is not yours: only its owner, a manager or an admin may delete it")


def check_own_or_manager(role: str, user_id: int, done_by: int | None, what: str) -> None:
    """Undoing a bulk change (an import, a merge): the user who made it, a manager or an admin."""
    if role in MANAGERS or done_by == user_id:
        return
    raise Forbidden(f"only the user who made {what}, a manager or an admin may undo it")


def check_user_change(role: str, target_role: str, new_role: str | None = None) -> None:
    """Managing users: managers and admins; an admin is needed when an admin is involved
    (creating, promoting, demoting or deactivating one)."""
    check_manager(role, "manage users")
    if role != "admin" and "admin" in (target_role, new_role):
        raise Forbidden("only an admin may create, promote, demote or deactivate an admin")


def check_assign_rerun(role: str, dry_run: bool) -> None:
    """Applying the assignment rules to the unassigned leads is a manager's job (the rules are theirs);
    anyone may preview it with a dry run, which writes nothing."""
    if not dry_run and role not in MANAGERS:
        raise Forbidden(f"only a manager or an admin may apply the assignment rules; you are a {role}"
                        " (a dry run shows what they would do)")


def refusal(check: Callable[..., None], *args: Any) -> str | None:
    """The one-line refusal a pure check gives for these arguments, or None when it allows them
    (for screens that say up front what the acting user may not do)."""
    try:
        check(*args)
    except Forbidden as exc:
        return str(exc)
    return None


def check_not_last_admin(active_admins: int, target_role: str, target_active: bool, login: str) -> None:
    """The desk keeps at least one active admin."""
    if target_role == "admin" and target_active and active_admins <= 1:
        raise RuleError(f"'{login}' is the last active admin of this desk: make another user an admin first")


# -- looking the acting user up ------------------------------------------------------------------------
def find_actor(tx: Tx, login: str) -> Actor | None:
    """The user with this login, if any."""
    row = tx.one("SELECT id, role, active FROM \"user\" WHERE login = :l", {"l": login})
    if row is None:
        return None
    return Actor(int(row["id"]), login, str(row["role"]), bool(row["active"]))


def unknown_user(login: str) -> Forbidden:
    """The refusal for a login the desk does not know."""
    return Forbidden(f"'{login}' is not a user of this desk: ask a manager to run `leaddesk user add {login}`")


def reader(tx: Tx, login: str, settings: Settings, *, partner_ok: bool = False) -> Actor:
    """Who reads: a known active non-partner user (a partner too with `partner_ok`, for the partner view's reads
    only); an unknown one only on a desk without users yet or with `auto_create_users` on (they are created on
    their first write)."""
    actor = find_actor(tx, login)
    if actor is None:
        if settings.auto_create_users or not tx.scalar("SELECT count(*) FROM \"user\""):
            return Actor(None, login, "rep")
        raise unknown_user(login)
    check_active(actor)
    if not partner_ok:
        check_not_partner(actor.role)
    return actor


def acting_user(tx: Tx, login: str, settings: Settings, at: str) -> tuple[Actor, bool]:
    """Who writes, and whether they were created just now: the first user of a desk becomes its admin;
    other unknown logins become reps only with `auto_create_users` on, and are refused otherwise."""
    from leaddesk.store import catalog

    actor = find_actor(tx, login)
    if actor is None:
        first = not tx.scalar("SELECT count(*) FROM \"user\"")
        if not first and not settings.auto_create_users:
            raise unknown_user(login)
        role = "admin" if first else "rep"
        user = catalog.user_id(tx, login, create=True, at=at)
        if first:
            tx.execute("UPDATE \"user\" SET role = 'admin' WHERE id = :i", {"i": user})
        return Actor(user, login, role), True
    check_active(actor)
    check_not_partner(actor.role)
    return actor, False
