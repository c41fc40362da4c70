"""What an imported row may carry beyond the fields of a new lead: a closed or qualified status with
what that status needs, its customer (by name) and when it was created. This is what lets an
export be imported back without losing a lead.

A lead typed by hand starts in an open status; the other statuses are reached by actions, and an
imported row may start in one of them when it carries what the action needs, checked by the same
rule functions (`rules.check_won`, `check_lost`, `check_qualify`, `check_allowed_for_type`):
- won (Won, Converted): a job value > 0 (as `leads.mark_won`), or, without a job value, a customer
  (a lead converted without a deal, as `qualify(create_deal=False)` does);
- lost (Lost, Disqualified): a lost reason from the list (as `leads.mark_lost`), and its note;
- qualified: a customer, named in the `customer` column, linked or created (see `link_customer`).
  No deal is created: deals are not part of a lead export.
A job value, lost reason or lost note on a row of another status is refused, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leaddesk.store import catalog
from leaddesk.store.context import Ctx
from leaddesk.store.errors import RuleError
from leaddesk.store.import_checks import FieldError
from leaddesk.store.rules import (
    StatusInfo,
    check_allowed_for_type,
    check_lost,
    check_qualify,
    check_won,
    fold_name,
    parse_money,
    resolve_status,
)

CLOSING = ("job_value", "lost_reason", "lost_note", "customer", "created")


@dataclass(frozen=True)
class Closing:
    """A row's values beyond a new lead's fields (most rows have none: they share `NO_CLOSING`)."""

    job_value: str = ""
    lost_reason: str = ""
    lost_note: str = ""
    customer: str = ""
    created: str = ""


NO_CLOSING = Closing()


def split_closing(given: dict[str, Any]) -> tuple[dict[str, Any], Closing]:
    """(the new lead's values, the rest) from a row's mapped values."""
    rest = {k: str(v or "").strip() for k, v in given.items() if k in CLOSING}
    return {k: v for k, v in given.items() if k not in CLOSING}, Closing(**rest)


def target_status(ctx: Ctx, status: str | None) -> StatusInfo | None:
    """The status a row names when it is not an open one (those follow the rules of a new lead)."""
    if not status:
        return None
    target = resolve_status(status, catalog.statuses(ctx.tx))
    return None if target.category == "open" else target


def created_at(ctx: Ctx, text: str) -> str | None:
    """A `created` value as a stored timestamp; never in the future."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise FieldError("created", f"created '{text}' is not a date and time like 2026-03-04T10:00:00") from None
    if moment.tzinfo is not None:
        from datetime import UTC

        moment = moment.astimezone(UTC).replace(tzinfo=None)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if stamp > ctx.at:
        raise FieldError("created", f"created '{text}' is in the future")
    return stamp


def apply(ctx: Ctx, row: dict[str, Any], target: StatusInfo | None, closing: Closing) -> None:
    """Put a checked row (in its first open status) into `target` with what it needs; FieldError when it
    lacks something, naming the column."""
    if (target is None or target.category != "won") and closing.job_value:
        raise FieldError("job_value", "the job value can be entered only on a won lead")
    if target is None or target.category != "lost":
        for name in ("lost_reason", "lost_note"):
            if getattr(closing, name):
                raise FieldError(name, f"a {name.replace('_', ' ')} is only for a lost lead")
    if target is None:
        return
    current = catalog.status_by_id(catalog.statuses(ctx.tx), row["status_id"])
    changes: dict[str, Any] = {"status_id": target.id}
    try:
        if target.category == "won":
            cents = parse_money(closing.job_value or None, "job value")
            if cents is None and closing.customer:
                check_qualify(current)  # converted without a deal
            else:
                check_won(current, cents)
                changes["job_value_cents"] = cents
        elif target.category == "lost":
            check_lost(current, closing.lost_reason)
            changes["lost_reason_id"] = catalog.find_id(ctx.tx, "lost_reason", closing.lost_reason, "lost reason")
            changes["lost_note"] = closing.lost_note
        else:
            check_qualify(current)
            if not closing.customer:
                raise FieldError("customer", f"status '{target.name}' needs the customer the lead was qualified"
                                 " into: give its name in a customer column, or import the lead in an open status")
    except FieldError:
        raise
    except RuleError as exc:
        raise FieldError("lost_reason" if target.category == "lost" else "job_value", str(exc)) from None
    allowed = catalog.allowed_statuses(ctx.tx, row.get("type_id"))
    try:
        check_allowed_for_type(target, catalog.name_of(ctx.tx, "lead_type", row.get("type_id")), allowed)
    except RuleError as exc:
        raise FieldError("status", str(exc)) from None
    row.update(changes)


def link_customer(ctx: Ctx, row: dict[str, Any], name: str) -> int:
    """The customer named `name` for a new lead row, by the qualify matching rules: a customer with
    that name whose phone or email matches the lead's, else the only customer with that name, else
    a new customer made from the lead (as qualifying creates one). RuleError when it is ambiguous."""
    from leaddesk.store.qualify import create_customer, matching_customers

    wanted = fold_name(name)
    matched = [c for c in matching_customers(ctx.tx, row) if fold_name(c["name"]) == wanted]
    if len(matched) == 1:
        return int(matched[0]["id"])
    named = [r for r in ctx.tx.all("SELECT id, name FROM customer WHERE lower(name) = lower(:n) ORDER BY id",
                                   {"n": name.strip()}) if fold_name(r["name"]) == wanted]
    if len(matched) > 1 or len(named) > 1:
        raise FieldError("customer", f"customer '{name}' is ambiguous: {max(len(matched), len(named))} customers"
                         " have that name; import the lead without it and link it by hand")
    if named:
        return int(named[0]["id"])
    natural = row.get("company") or row.get("contact_name") or ""
    lead = dict(row) if fold_name(natural) == wanted else {**row, "company": name.strip()}
    return create_customer(ctx, lead)
