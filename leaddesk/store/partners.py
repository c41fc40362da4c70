"""Partners' spend and metrics (issue 7): ROCS, CAC and the status-only table of the leads a partner referred.

Definitions (over a period [since, until], both dates inclusive, either open):
- leads: the partner's leads *created* in the period (by `lead.created_at`, a UTC timestamp);
- won: those of them whose status is in the 'won' category *now* (a lead won and then reopened is not won;
  its job value was cleared by the reopen), and won_value the sum of their job values;
- spend: the partner's spend entries dated in the period;
- ROCS = won_value / spend x 100 (a percent), CAC = spend / leads; None, with the reason in `why`, when the
  divisor is zero instead of a division error.
Without a partner the metrics are over all partners: every lead with a partner and every spend entry.
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


def _lead_where(partner_id: int | None, since: str | None, until: str | None) -> tuple[str, dict[str, Any]]:
    clauses = ["l.partner_id = :p" if partner_id is not None else "l.partner_id IS NOT NULL"]
    params: dict[str, Any] = {"p": partner_id}
    if since:
        clauses.append("l.created_at >= :since")  # "2026-03-01" sorts before "2026-03-01T00:00:00"
        params["since"] = since
    if until:
        clauses.append("l.created_at < :after")
        params["after"] = (date.fromisoformat(until) + timedelta(days=1)).isoformat()
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
    """The partner's leads (created in the period), status only: {number, name (the contact's name), status,
    job_value (cents; None unless won)}, newest first. Nothing else: no notes, history or contact details."""
    where, params = _lead_where(partner_id, since, until)
    rows = tx.all(
        "SELECT l.number, l.contact_name, s.name AS status, s.category, l.job_value_cents"
        f" FROM lead l JOIN status s ON s.id = l.status_id WHERE {where} ORDER BY l.number DESC", params)
    return [{"number": r["number"], "name": r["contact_name"] or "", "status": r["status"],
             "job_value": r["job_value_cents"] if r["category"] == "won" else None} for r in rows]


def overview(tx: Tx, since: str | None = None, until: str | None = None) -> list[dict[str, Any]]:
    """Every partner with its metrics over the period: {id, name, email, **metrics}, by name."""
    rows = tx.all("SELECT id, name, email FROM partner ORDER BY name")
    return [{"id": r["id"], "name": r["name"], "email": r["email"], **metrics(tx, r["id"], since, until)}
            for r in rows]
