"""Qualifying leads into customers and deals, and the deal's life (stages, won, lost)."""

from __future__ import annotations

from typing import Any

from leaddesk.store import catalog
from leaddesk.store.context import Ctx
from leaddesk.store.db import Tx
from leaddesk.store.errors import NeedsChoice, NotFound, RuleError
from leaddesk.store.fields import parse_date
from leaddesk.store.leads import _apply, _check_type, _status_of, check_version
from leaddesk.store.rules import check_qualify, first_of, parse_money, resolve_name


def matching_customers(tx: Tx, lead: dict[str, Any]) -> list[dict[str, Any]]:
    """Customers whose normalised phone or lower-cased email matches the lead's."""
    found: dict[int, dict[str, Any]] = {}
    if lead.get("phone_e164"):
        for row in tx.all("SELECT id, name, phone, email FROM customer WHERE phone_e164 = :p ORDER BY id",
                              {"p": lead["phone_e164"]}):
            found[row["id"]] = {"id": row["id"], "name": row["name"], "phone": row["phone"],
                                "email": row["email"], "matched": ["phone"]}
    if lead.get("email_lower"):
        for row in tx.all("SELECT id, name, phone, email FROM customer WHERE email_lower = :e ORDER BY id",
                              {"e": lead["email_lower"]}):
            entry = found.setdefault(row["id"], {"id": row["id"], "name": row["name"], "phone": row["phone"],
                                                 "email": row["email"], "matched": []})
            entry["matched"].append("email")
    return sorted(found.values(), key=lambda c: c["id"])


def create_customer(ctx: Ctx, lead: dict[str, Any]) -> int:
    """A customer (company or person) from the lead's data, with a contact person when the name is known."""
    company = lead.get("company")
    name = company or lead.get("contact_name")
    if not name:
        raise RuleError("the lead has neither a company nor a contact name to name a customer")
    customer = ctx.tx.insert(
        "INSERT INTO customer (name, kind, phone, phone_e164, email, email_lower, street, city, state, zip,"
        " country, website, created_at) VALUES (:name, :kind, :phone, :phone_e164, :email, :email_lower,"
        " :street, :city, :state, :zip, :country, :website, :at)",
        {"name": name, "kind": "company" if company else "person", "at": ctx.at,
         **{k: lead.get(k) for k in ("phone", "phone_e164", "email", "email_lower", "street", "city", "state",
                                     "zip", "country", "website")}},
    )
    if company and (lead.get("first_name") or lead.get("last_name") or lead.get("contact_name")):
        ctx.tx.execute(
            "INSERT INTO contact (customer_id, first_name, last_name, job_title, email, phone)"
            " VALUES (:c, :f, :l, :j, :e, :p)",
            {"c": customer, "f": lead.get("first_name") or lead.get("contact_name"), "l": lead.get("last_name"),
             "j": lead.get("job_title"), "e": lead.get("email"), "p": lead.get("phone")},
        )
    ctx.record("customer", customer, "customer", "name", None, name)
    return customer


def customer_from_lead(ctx: Ctx, lead: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Create a customer from a lead that has none, and link it (no deal)."""
    if lead.get("customer_id"):
        raise RuleError(f"lead {lead['number']} already has customer {lead['customer_id']}")
    customer = create_customer(ctx, lead)
    return _apply(ctx, lead, {"customer_id": customer}, "customer"), customer


def _insert_deal(ctx: Ctx, lead: dict[str, Any], customer: int | None, title: str | None,
                 value_cents: int | None, close: str | None) -> int:
    pipeline, stage, _stage_name = catalog.default_pipeline(ctx.tx)
    deal_title = (title or "").strip() or lead.get("company") or lead.get("contact_name") or f"Lead {lead['number']}"
    deal = ctx.tx.insert(
        "INSERT INTO deal (title, value_cents, expected_close, pipeline_id, stage_id, state, lead_id, customer_id,"
        " created_at) VALUES (:t, :v, :c, :p, :s, 'open', :l, :cu, :at)",
        {"t": deal_title, "v": value_cents, "c": close, "p": pipeline, "s": stage, "l": lead["id"],
         "cu": customer, "at": ctx.at},
    )
    ctx.record("deal", deal, "create", "title", None, deal_title)
    return deal


def qualify(ctx: Ctx, lead: dict[str, Any], *, customer_id: int | None = None, new_customer: bool = False,
            title: str | None = None, value: Any = None, close: Any = None, create_deal: bool = True,
            expected_version: int | None = None) -> dict[str, Any]:
    """Qualify a lead in one transaction: link or create its customer, open a deal, set it Qualified.

    Without a deal (`create_deal=False`, seed 003's "person only") the lead is Converted instead.
    Raises NeedsChoice listing matching customers when the caller must pick one.
    """
    check_version(ctx, lead, expected_version)
    all_statuses, current = _status_of(ctx, lead)
    check_qualify(current)
    open_deal = ctx.tx.scalar("SELECT id FROM deal WHERE lead_id = :l AND state = 'open'", {"l": lead["id"]})
    if open_deal is not None and create_deal:
        raise RuleError(f"lead {lead['number']} already has open deal {open_deal}; work the deal instead")
    value_cents = parse_money(value, "deal value")
    close_on = parse_date(close, "expected close")
    target = first_of("qualified" if create_deal else "won", all_statuses)
    if target is not None:
        _check_type(ctx, lead, target)
    created = False
    if lead.get("customer_id"):
        if customer_id is not None and customer_id != lead["customer_id"]:
            raise RuleError(f"lead {lead['number']} is already linked to customer {lead['customer_id']}")
        customer = int(lead["customer_id"])
    elif customer_id is not None:
        if ctx.tx.scalar("SELECT id FROM customer WHERE id = :i", {"i": customer_id}) is None:
            raise NotFound(f"there is no customer {customer_id}")
        customer = customer_id
    else:
        matches = [] if new_customer else matching_customers(ctx.tx, lead)
        if matches:
            raise NeedsChoice(
                f"lead {lead['number']} matches {len(matches)} existing customer(s): link one or create a new one",
                matches,
            )
        customer = create_customer(ctx, lead)
        created = True
    deal = _insert_deal(ctx, lead, customer, title, value_cents, close_on) if create_deal else None
    changes: dict[str, Any] = {"customer_id": customer}
    if target is not None:
        changes["status_id"] = target.id
    updated = _apply(ctx, lead, changes, "qualify" if create_deal else "convert")
    return {"lead": updated, "customer_id": customer, "customer_created": created, "deal_id": deal}


def load_deal(ctx: Ctx, deal_id: int) -> dict[str, Any]:
    """A deal by id."""
    row = ctx.tx.one("SELECT * FROM deal WHERE id = :i" + ctx.tx.lock_suffix, {"i": deal_id})
    if row is None:
        raise NotFound(f"there is no deal {deal_id}")
    return dict(row)


def _update_deal(ctx: Ctx, deal: dict[str, Any], changes: dict[str, Any], action: str) -> dict[str, Any]:
    diff = {k: v for k, v in changes.items() if deal.get(k) != v}
    if not diff:
        return deal
    sets = ", ".join(f"{col} = :{col}" for col in diff)
    ctx.tx.execute(f"UPDATE deal SET {sets}, version = version + 1 WHERE id = :_id", {**diff, "_id": deal["id"]})
    for col, value in diff.items():
        ctx.record("deal", deal["id"], action, col, deal.get(col), value)
    return {**deal, **diff, "version": deal["version"] + 1}


def set_stage(ctx: Ctx, deal: dict[str, Any], stage_text: str) -> dict[str, Any]:
    """Move an open deal to another stage of its pipeline."""
    if deal["state"] != "open":
        raise RuleError(f"deal {deal['id']} is {deal['state']}; only open deals move between stages")
    rows = ctx.tx.all("SELECT id, name FROM stage WHERE pipeline_id = :p ORDER BY position, id",
                      {"p": deal["pipeline_id"]})
    name = resolve_name(stage_text, [r["name"] for r in rows], "stage")
    stage = next(r["id"] for r in rows if r["name"] == name)
    return _update_deal(ctx, deal, {"stage_id": stage}, "stage")


def win_deal(ctx: Ctx, deal: dict[str, Any], value: Any = None) -> dict[str, Any]:
    """Win a deal; its lead becomes Converted (with the deal's value as job value)."""
    if deal["state"] == "won":
        raise RuleError(f"deal {deal['id']} is already won")
    cents = parse_money(value, "deal value") if value not in (None, "") else deal["value_cents"]
    if not cents:
        raise RuleError(f"deal {deal['id']} needs a value greater than 0 to be won (it becomes the job value)")
    updated = _update_deal(ctx, deal, {"state": "won", "value_cents": cents, "closed_at": ctx.at,
                                       "lost_reason_id": None, "lost_note": ""}, "won")
    if deal["lead_id"] is not None:
        from leaddesk.store.refs import load_lead

        lead = load_lead(ctx.tx, deal["lead_id"], lock=True)
        all_statuses, current = _status_of(ctx, lead)
        target = first_of("won", all_statuses)
        allowed = catalog.allowed_statuses(ctx.tx, lead["type_id"])
        if allowed and target is not None and target.id not in {st.id for st in allowed}:
            target = None  # the lead's type has no won status: the deal is won, the lead keeps its status
        if target is not None and current.category != "won":
            changes: dict[str, Any] = {"status_id": target.id, "lost_reason_id": None, "lost_note": ""}
            if cents:
                changes["job_value_cents"] = cents
            _apply(ctx, lead, changes, "convert")
    return updated


def lose_deal(ctx: Ctx, deal: dict[str, Any], reason: str, note: str | None = None) -> dict[str, Any]:
    """Close a deal as lost with a reason; its lead keeps its status."""
    if deal["state"] == "lost":
        raise RuleError(f"deal {deal['id']} is already lost")
    if not reason or not reason.strip():
        raise RuleError("a lost deal needs a reason")
    reason_id = catalog.find_id(ctx.tx, "lost_reason", reason, "lost reason")
    return _update_deal(ctx, deal, {"state": "lost", "lost_reason_id": reason_id, "lost_note": (note or "").strip(),
                                    "closed_at": ctx.at}, "lost")


def reopen_deal(ctx: Ctx, deal: dict[str, Any]) -> dict[str, Any]:
    """Reopen a closed deal."""
    if deal["state"] == "open":
        raise RuleError(f"deal {deal['id']} is already open")
    return _update_deal(ctx, deal, {"state": "open", "closed_at": None, "lost_reason_id": None, "lost_note": ""},
                        "reopen")


def add_quote_line(ctx: Ctx, deal: dict[str, Any], description: str, quantity: int, unit_price: Any) -> int:
    """Add a line to a deal's quotation."""
    text = (description or "").strip()
    if not text:
        raise RuleError("a quote line needs a description")
    if quantity <= 0:
        raise RuleError("a quote line needs a quantity above 0")
    cents = parse_money(unit_price, "unit price") or 0
    line = ctx.tx.insert(
        "INSERT INTO quote_line (deal_id, description, quantity, unit_price_cents) VALUES (:d, :t, :q, :p)",
        {"d": deal["id"], "t": text, "q": quantity, "p": cents},
    )
    ctx.record("deal", deal["id"], "quote", "quote_line", None, f"{quantity} x {text} @ {cents}")
    return line
