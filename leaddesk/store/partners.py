"""Partners' spend and metrics (issue 7): ROCS, CAC and the status-only table of the leads a partner referred.

Definitions (over a period [since, until], both dates inclusive, either open):
- leads: the partner's leads *created* in the period (by `lead.created_at`, a UTC timestamp);
- won: those of them whose status is in the 'won' category *now* (a lead won and then reopened is not won;
  its job value was cleared by the reopen), and won_value the sum of their job values;
- spend: the partner's spend entries dated in the period;
- ROCS = won_value / spend x 100 (a percent), CAC = spend / leads; None, with the reason in `why`, when the
  divisor is zero instead of a division error.
Without a partner the metrics are over all partners: every lead with a partner and every spend entry.

Partner users: a partner may be linked to one login (`partner.user_id`; `add`, `edit`), and a login to one
partner. That user has the `partner` role and sees only `view` of their own partner (`own_partner`): the status
table and the metrics, spend, ROCS and CAC included (seed 000: "both you and your partner can clearly see what's
working"), never an email, owner, note or history. Comarketing mode (`comarketing`, `referred_leads`) is the
desk's side of the same numbers.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from leaddesk.store import catalog, permissions
from leaddesk.store.context import Ctx
from leaddesk.store.db import Tx
from leaddesk.store.errors import RuleError
from leaddesk.store.fields import parse_date
from leaddesk.store.rules import parse_money

NO_SPEND = "no spend in the period"
NO_LEADS = "no leads in the period"


def find(tx: Tx, name: str) -> dict[str, Any]:
    """A partner by name (case-insensitive or a unique prefix): {id, name, email}; unknown is refused."""
    partner_id = catalog.find_id(tx, "partner", name, "partner")
    row = tx.one("SELECT id, name, email FROM partner WHERE id = :i", {"i": partner_id})
    assert row is not None
    return dict(row)


def period(since: Any = None, until: Any = None) -> tuple[str | None, str | None]:
    """The period's first and last day as ISO dates (None: open), checked."""
    first = parse_date(since, "from")
    last = parse_date(until, "to")
    if first and last and first > last:
        raise RuleError(f"the period starts ({first}) after it ends ({last})")
    return first, last


def add_spend(ctx: Ctx, partner: str, amount: Any, on: Any = None, note: str = "") -> dict[str, Any]:
    """Record money spent on a partner (managers only): {id, partner, amount_cents, spent_on, note}."""
    permissions.check_manager(ctx.role, "record partner spend")
    cents = parse_money(amount, "amount")
    if cents is None:
        raise RuleError("a spend entry needs an amount")
    if cents == 0:
        raise RuleError("a spend amount must be more than 0")
    found = find(ctx.tx, partner)
    spent_on = parse_date(on, "date") or ctx.at[:10]
    clean_note = " ".join((note or "").split())
    spend_id = ctx.tx.insert(
        "INSERT INTO partner_spend (partner_id, spent_on, amount_cents, note) VALUES (:p, :d, :a, :n)",
        {"p": found["id"], "d": spent_on, "a": cents, "n": clean_note})
    ctx.record("partner_spend", spend_id, "create", "amount_cents", None, cents)
    return {"id": spend_id, "partner": found["name"], "amount_cents": cents, "spent_on": spent_on,
            "note": clean_note}


def created_in(since: str | None, until: str | None, prefix: str = "") -> tuple[list[str], dict[str, Any]]:
    """SQL clauses over `lead l` for the leads created in a period (dates as `period` gives them, `until`
    inclusive), with their params named `{prefix}since` and `{prefix}after`."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if since:
        clauses.append(f"l.created_at >= :{prefix}since")  # "2026-03-01" sorts before "2026-03-01T00:00:00"
        params[f"{prefix}since"] = since
    if until:
        clauses.append(f"l.created_at < :{prefix}after")
        params[f"{prefix}after"] = (date.fromisoformat(until) + timedelta(days=1)).isoformat()
    return clauses, params


def _lead_where(partner_id: int | None, since: str | None, until: str | None) -> tuple[str, dict[str, Any]]:
    period_clauses, params = created_in(since, until)
    clauses = ["l.partner_id = :p" if partner_id is not None else "l.partner_id IS NOT NULL", *period_clauses]
    params["p"] = partner_id
    return " AND ".join(clauses), params


def metrics(tx: Tx, partner_id: int | None, since: str | None = None, until: str | None = None) -> dict[str, Any]:
    """{leads, won, won_value (cents), spend (cents), rocs (percent or None), cac (cents or None),
    why {rocs, cac}: the reason a metric is None}; see the module's definitions."""
    where, params = _lead_where(partner_id, since, until)
    row = tx.one(
        "SELECT count(*) AS leads,"
        " coalesce(sum(CASE WHEN s.category = 'won' THEN 1 ELSE 0 END), 0) AS won,"
        " coalesce(sum(CASE WHEN s.category = 'won' THEN coalesce(l.job_value_cents, 0) ELSE 0 END), 0)"
        " AS won_value"
        f" FROM lead l JOIN status s ON s.id = l.status_id WHERE {where}", params)
    assert row is not None  # an aggregate always has a row
    spend_clauses = ["1 = 1" if partner_id is None else "partner_id = :p"]
    spend_params: dict[str, Any] = {"p": partner_id}
    if since:
        spend_clauses.append("spent_on >= :since")
        spend_params["since"] = since
    if until:
        spend_clauses.append("spent_on <= :until")
        spend_params["until"] = until
    spend = int(tx.scalar("SELECT coalesce(sum(amount_cents), 0) FROM partner_spend WHERE "
                          + " AND ".join(spend_clauses), spend_params) or 0)
    leads, won, won_value = int(row["leads"]), int(row["won"]), int(row["won_value"])
    rocs = round(won_value / spend * 100, 2) if spend else None
    cac = round(spend / leads) if leads else None
    return {"leads": leads, "won": won, "won_value": won_value, "spend": spend, "rocs": rocs, "cac": cac,
            "why": {"rocs": None if spend else NO_SPEND, "cac": None if leads else NO_LEADS}}


def status_table(tx: Tx, partner_id: int, since: str | None = None, until: str | None = None) -> list[dict[str, Any]]:
    """The partner's leads (created in the period), status only: {number, name (the contact's name, else the
    company), status, job_value (cents; None unless won)}, newest first. Nothing else: no notes, history or
    contact details."""
    where, params = _lead_where(partner_id, since, until)
    rows = tx.all(
        "SELECT l.number, l.contact_name, l.company, s.name AS status, s.category, l.job_value_cents"
        f" FROM lead l JOIN status s ON s.id = l.status_id WHERE {where} ORDER BY l.number DESC", params)
    return [{"number": r["number"], "name": r["contact_name"] or r["company"] or "", "status": r["status"],
             "job_value": r["job_value_cents"] if r["category"] == "won" else None} for r in rows]


def overview(tx: Tx, since: str | None = None, until: str | None = None) -> list[dict[str, Any]]:
    """Every partner with its metrics over the period: {id, name, email, user (the linked login or None),
    **metrics}, by name."""
    rows = tx.all("SELECT p.id, p.name, p.email, u.login FROM partner p LEFT JOIN \"user\" u ON u.id = p.user_id"
                  " ORDER BY p.name")
    return [{"id": r["id"], "name": r["name"], "email": r["email"], "user": r["login"],
             **metrics(tx, r["id"], since, until)} for r in rows]


# -- partners and their logins ---------------------------------------------------------------------------
def _login_of(tx: Tx, user_id: int | None) -> str | None:
    return None if user_id is None else tx.scalar("SELECT login FROM \"user\" WHERE id = :i", {"i": user_id})


def _check_name(tx: Tx, name: str, partner_id: int | None = None) -> str:
    """A partner name, trimmed; refused when empty or when another partner has it (folded)."""
    from leaddesk.store.rules import fold_name

    clean = " ".join((name or "").split())
    if not clean:
        raise RuleError("a partner needs a name")
    if "\x00" in clean:
        raise RuleError("a partner name contains a NUL character")
    for row in tx.all("SELECT id, name FROM partner"):
        if fold_name(row["name"]) == fold_name(clean) and row["id"] != partner_id:
            raise RuleError(f"partner '{row['name']}' already exists")
    return clean


def _partner_user(ctx: Ctx, partner_id: int, login: str) -> tuple[int, str | None]:
    """The id of the user `login` to link to a partner, and what happened to them (None, "created" or the role
    they had): an unknown login is created as a partner user; a rep is given the partner role; a partner user is
    taken as is. A manager or an admin is refused (their role is changed on purpose, with `user role`), and so is
    a login already linked to another partner: one login sees one partner."""
    from leaddesk.store import users

    clean = login.strip()
    catalog.check_login(clean)
    row = ctx.tx.one("SELECT id, role FROM \"user\" WHERE login = :l", {"l": clean})
    if row is None:
        return users.add(ctx, clean, None, "partner"), "created"
    other = ctx.tx.one("SELECT name FROM partner WHERE user_id = :u AND id <> :p", {"u": row["id"], "p": partner_id})
    if other is not None:
        raise RuleError(f"user '{clean}' is already linked to partner '{other['name']}': one login sees one partner")
    if row["role"] == "partner":
        return int(row["id"]), None
    if row["role"] != "rep":
        raise RuleError(f"user '{clean}' is a {row['role']}: a partner's login sees only the partner view;"
                        f" change their role on purpose first (`leaddesk user role {clean} partner`)")
    users.set_role(ctx, clean, "partner")  # checks the acting user may, and records it in the user's history
    return int(row["id"]), "rep"


def add(ctx: Ctx, name: str, email: str | None = None, user: str | None = None) -> dict[str, Any]:
    """Add a partner (managers), optionally linked to a login (see `_partner_user`); one transaction:
    {id, name, email, user, user_was (None, "created" or the role they had)}."""
    from leaddesk.store.contactinfo import check_email

    permissions.check_manager(ctx.role, "add partners")
    clean = _check_name(ctx.tx, name)
    checked = check_email(email)
    partner_id = ctx.tx.insert("INSERT INTO partner (name, email, created_at) VALUES (:n, :e, :at)",
                               {"n": clean, "e": checked, "at": ctx.at})
    ctx.record("partner", partner_id, "create", "name", None, clean)
    if checked:
        ctx.record("partner", partner_id, "create", "email", None, checked)
    done = {"id": partner_id, "name": clean, "email": checked, "user": None, "user_was": None}
    if user is not None and user.strip():
        user_id, was = _partner_user(ctx, partner_id, user)
        ctx.tx.execute("UPDATE partner SET user_id = :u WHERE id = :p", {"u": user_id, "p": partner_id})
        ctx.record("partner", partner_id, "create", "user", None, user.strip())
        done.update(user=user.strip(), user_was=was)
    return done


def edit(ctx: Ctx, partner: str, *, name: str | None = None, email: str | None = None, user: str | None = None,
         unlink: bool = False) -> dict[str, Any]:
    """Change a partner's name, email ("" clears it) or login (`user`; `unlink` removes it: that login then sees
    nothing until linked again); each change in the partner's history. Returns the partner as `add` does, with
    `changed` (the fields that changed) and `unlinked` (the login no longer linked, if any)."""
    from leaddesk.store.contactinfo import check_email

    permissions.check_manager(ctx.role, "change partners")
    if unlink and user is not None:
        raise RuleError("link a login or unlink it, not both")
    found = find(ctx.tx, partner)
    row = ctx.tx.one("SELECT id, name, email, user_id FROM partner WHERE id = :i", {"i": found["id"]})
    assert row is not None
    changes: dict[str, tuple[Any, Any]] = {}
    if name is not None and " ".join(name.split()) != row["name"]:
        changes["name"] = (row["name"], _check_name(ctx.tx, name, row["id"]))
    if email is not None and (check_email(email) or None) != row["email"]:
        changes["email"] = (row["email"], check_email(email))
    old_login = _login_of(ctx.tx, row["user_id"])
    was = None
    new_user_id = row["user_id"]
    if unlink and old_login is not None:
        changes["user"] = (old_login, None)
        new_user_id = None
    elif user is not None and user.strip() != old_login:
        new_user_id, was = _partner_user(ctx, row["id"], user)
        changes["user"] = (old_login, user.strip())
    if "name" in changes:
        ctx.tx.execute("UPDATE partner SET name = :n WHERE id = :i", {"n": changes["name"][1], "i": row["id"]})
    if "email" in changes:
        ctx.tx.execute("UPDATE partner SET email = :e WHERE id = :i", {"e": changes["email"][1], "i": row["id"]})
    if "user" in changes:
        ctx.tx.execute("UPDATE partner SET user_id = :u WHERE id = :i", {"u": new_user_id, "i": row["id"]})
    for field_name, (old, new) in changes.items():
        ctx.record("partner", row["id"], "edit", field_name, old, new)
    current = {k: v[1] for k, v in changes.items()}
    return {"id": row["id"], "name": current.get("name", row["name"]),
            "email": current.get("email", row["email"]), "user": current.get("user", old_login), "user_was": was,
            "changed": list(changes), "unlinked": old_login if "user" in changes and old_login else None}


# -- the partner view (what a partner user sees) and comarketing (what the desk sees) -------------------------
def own_partner(tx: Tx, actor: permissions.Actor) -> dict[str, Any]:
    """The partner a partner user's login is linked to: {id, name}. Anyone else, or a partner user nobody linked
    yet, is refused in one line."""
    if actor.role != "partner":
        article = "an" if actor.role[:1] in ("a", "e", "i", "o", "u") else "a"
        raise permissions.Forbidden(f"the partner view is for partner users; you are {article} {actor.role}"
                                    " (`leaddesk partner report NAME` shows any partner's)")
    row = tx.one("SELECT id, name FROM partner WHERE user_id = :u ORDER BY id LIMIT 1", {"u": actor.id})
    if row is None:
        raise permissions.Forbidden(f"no partner is linked to your login '{actor.login}' yet: ask a manager to run"
                                    f" `leaddesk partner edit NAME --login {actor.login}`")
    return {"id": int(row["id"]), "name": row["name"]}


def check_own_name(own: dict[str, Any], name: str | None) -> None:
    """A partner user who names a partner must name their own (exactly, folded, or by a prefix of it)."""
    from leaddesk.store.rules import resolve_name

    if name is None or not name.strip():
        return
    try:
        resolve_name(name, [own["name"]], "partner")
    except RuleError:
        raise permissions.Forbidden(f"you see only the leads of your own partner, '{own['name']}'") from None


def view(tx: Tx, partner: dict[str, Any], since: str | None, until: str | None) -> dict[str, Any]:
    """What a partner sees: {partner {name}, since, until, metrics (with spend, ROCS and CAC: seed 000 wants both
    sides to see what works), leads (the status-only table)}: no email, owner, notes or history."""
    return {"partner": {"name": partner["name"]}, "since": since, "until": until,
            "metrics": metrics(tx, partner["id"], since, until),
            "leads": status_table(tx, partner["id"], since, until)}


def comarketing(tx: Tx, since: str | None, until: str | None) -> dict[str, Any]:
    """Comarketing mode's head: every partner's metrics over the period (`overview`) and the total over all
    partners (`metrics` without a partner: every lead with a partner, every spend entry)."""
    return {"since": since, "until": until, "partners": overview(tx, since, until),
            "total": metrics(tx, None, since, until)}


def referred_leads(tx: Tx, since: str | None, until: str | None, offset: int = 0,
                   limit: int | None = None) -> list[dict[str, Any]]:
    """A page of the leads partners referred (created in the period), newest first: {number, name, partner,
    status, job_value (cents; None unless won)}."""
    where, params = _lead_where(None, since, until)
    page = ""
    if limit is not None:
        page = " LIMIT :limit OFFSET :offset"
        params.update(limit=int(limit), offset=max(0, int(offset)))
    rows = tx.all(
        "SELECT l.number, l.contact_name, l.company, p.name AS partner, s.name AS status, s.category,"
        " l.job_value_cents FROM lead l JOIN status s ON s.id = l.status_id JOIN partner p ON p.id = l.partner_id"
        f" WHERE {where} ORDER BY l.number DESC{page}", params)
    return [{"number": r["number"], "name": r["contact_name"] or r["company"] or "", "partner": r["partner"],
             "status": r["status"], "job_value": r["job_value_cents"] if r["category"] == "won" else None}
            for r in rows]
