"""Capture: leads from email messages and from web-form posts.

Email (`capture_message`): a message is captured once, by its Message-ID (stored in
`activity.message_id`, unique). The sender is matched by email (case-insensitive)
against the leads that are not closed (open or qualified); with several, the most
recently updated one gets the email. A sender with no such lead becomes a new lead
(source "Inbound Email"), also when only closed (won/lost) leads have that email: a
closed lead's timeline is where nobody looks, and a new inquiry from a past contact is
a new opportunity; the outcome names the latest closed lead so the user can merge.
Machine-sent mail (bounces, auto-replies, mailing lists) is skipped unless asked for.

Web forms (`intake_lead`): the post's fields are mapped like an import's columns
(`mapping.map_record`); only fields a visitor may fill are taken (contact, address,
what they want), anything else is kept in the description, never dropped. The source
is "Website Form" unless the post names an existing source; a source the desk does not
know is kept as the source detail (a public form never grows the catalog).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from leaddesk.store import catalog, leads
from leaddesk.store.context import Ctx
from leaddesk.store.db import Tx
from leaddesk.store.errors import RuleError, one_line
from leaddesk.store.refs import load_lead
from leaddesk.store.rules import fold_name

if TYPE_CHECKING:
    from leaddesk.store.mail import MailRecord

INBOUND_EMAIL = "Inbound Email"
WEBSITE_FORM = "Website Form"

# What a web form may set. Internal fields (owner, status, priority, score, partner, customer, money,
# follow-up, BANT, ...) are not a visitor's to choose: posted, they are kept in the description.
INTAKE_FIELDS = frozenset({
    "name", "first_name", "last_name", "title", "company", "job_title", "email", "phone", "street", "city",
    "state", "zip", "country", "website", "source", "source_detail", "campaign", "medium", "description",
    "item", "contact_method",
})
MAX_FORM_FIELDS = 100


class FormRejected(RuleError):
    """A web-form post that cannot become a lead: every reason found, by field where there is one."""

    def __init__(self, errors: list[str], fields: dict[str, str] | None = None) -> None:
        super().__init__("; ".join(errors))
        # One printable line each, as every refusal's message (a posted field name may hold control characters).
        self.errors = [one_line(error) for error in errors]
        self.fields = {name: one_line(error) for name, error in (fields or {}).items()}


def ensure_source(ctx: Ctx, name: str) -> str:
    """The source named `name` (matched like any list entry), added to the catalog if missing."""
    for existing in catalog.names(ctx.tx, "source"):
        if fold_name(existing) == fold_name(name):
            return existing
    catalog.add_entry(ctx.tx, "sources", name)
    ctx.record("catalog", 0, "add", "sources", None, name)
    return name


# -- email -------------------------------------------------------------------------------------------
def captured(tx: Tx, message_id: str) -> dict[str, Any] | None:
    """The lead a message was captured on (number, name), or None."""
    row = tx.one("SELECT l.number, l.contact_name, l.company FROM activity a JOIN lead l ON l.id = a.lead_id"
                 " WHERE a.message_id = :m", {"m": message_id})
    return None if row is None else dict(row)


def duplicate(message_id: str, before: dict[str, Any]) -> dict[str, Any]:
    """The outcome for a message captured before (`before` from `captured`)."""
    return {"message_id": message_id, "result": "duplicate", "number": before["number"],
            "name": before["contact_name"] or before["company"]}


def sender_lead(tx: Tx, email: str) -> tuple[int | None, int | None]:
    """(id of the lead an email from `email` goes to, number of the latest closed lead with it).

    The lead is the most recently updated one that is not closed (open or qualified).
    """
    rows = tx.all(
        "SELECT l.id, l.number, s.category FROM lead l JOIN status s ON s.id = l.status_id"
        " WHERE l.email_lower = :e ORDER BY l.updated_at DESC, l.id DESC", {"e": email.casefold()})
    for row in rows:
        if row["category"] not in ("won", "lost"):
            return int(row["id"]), None
    return None, (int(rows[0]["number"]) if rows else None)


def _customer_for(tx: Tx, email: str) -> int | None:
    """The one customer with this email (a returning customer's new inquiry is linked to them)."""
    rows = tx.all("SELECT id FROM customer WHERE email_lower = :e ORDER BY id LIMIT 2", {"e": email.casefold()})
    return int(rows[0]["id"]) if len(rows) == 1 else None


def capture_message(ctx: Ctx, record: MailRecord, *, known_only: bool = False,
                    automated: bool = False) -> dict[str, Any]:
    """Put one parsed message on a lead's timeline (a new lead for a new sender); return the outcome.

    Outcome `result`: "created" (new lead), "added" (to an existing lead), "duplicate" (captured
    before), "skipped" (not a lead with `known_only`, or machine-sent mail without `automated`).
    """
    before = captured(ctx.tx, record.message_id)
    if before is not None:
        return duplicate(record.message_id, before)
    outcome: dict[str, Any] = {"message_id": record.message_id, "synthetic_id": record.synthetic_id,
                               "email": record.email, "subject": record.subject, "at": record.at,
                               "truncated": record.truncated}
    if record.automated and not automated:
        return {**outcome, "result": "skipped", "reason": f"machine-sent ({record.automated})",
                "number": None, "name": record.name}
    lead_id, closed = sender_lead(ctx.tx, record.email)
    if lead_id is not None:
        lead = load_lead(ctx.tx, lead_id, lock=True)
        result = "added"
    elif known_only:
        return {**outcome, "result": "skipped", "reason": "the sender is not a lead", "number": None,
                "name": record.name}
    else:
        values: dict[str, Any] = {"name": record.name, "email": record.email,
                                  "source": ensure_source(ctx, INBOUND_EMAIL)}
        customer = _customer_for(ctx.tx, record.email)
        if customer is not None:
            values["customer"] = str(customer)
        lead = leads.add_lead(ctx, values)
        result = "created"
        if closed is not None:
            outcome["closed_lead"] = closed
    leads.add_activity(ctx, lead, "email", record.timeline_text(), record.at, message_id=record.message_id)
    return {**outcome, "result": result, "number": lead["number"], "name": lead["contact_name"] or lead["company"]}


# -- web forms ---------------------------------------------------------------------------------------
def _known_source(tx: Tx, text: str) -> str | None:
    for existing in catalog.names(tx, "source"):
        if fold_name(existing) == fold_name(text):
            return existing
    return None


def _custom_ok(ctx: Ctx, target: str) -> bool:
    from leaddesk.store.mapping import CUSTOM

    return target.startswith(CUSTOM) and target[len(CUSTOM):] in ctx.settings.custom_fields


def form_values(ctx: Ctx, record: dict[str, str]) -> dict[str, Any]:
    """A post's fields as `add_lead` values (every field validated; FormRejected lists all the reasons)."""
    from leaddesk.store.fields import prepare
    from leaddesk.store.mapping import CUSTOM, map_columns, map_record

    errors: list[str] = []
    by_field: dict[str, str] = {}
    if len(record) > MAX_FORM_FIELDS:
        raise FormRejected([f"too many fields ({len(record)}; the limit is {MAX_FORM_FIELDS})"])
    for key, value in record.items():
        if "\x00" in key or "\x00" in value:
            errors.append(f"field '{key}' contains a NUL character")
    if errors:
        raise FormRejected(errors)
    # Fields a visitor may not set are kept under the name they were posted with, like unknown ones.
    keys = list(record)
    columns = map_columns(keys, None, ctx.settings)
    allowed: dict[str, str] = {}
    kept: dict[str, str] = {}
    for index, key in enumerate(keys):
        target = columns.fields.get(index)
        if target is None or target in INTAKE_FIELDS or _custom_ok(ctx, target):
            allowed[key] = record[key]
        elif record[key].strip():
            kept[key] = record[key]
    mapped, unknown = map_record(allowed, None, ctx.settings)
    kept.update(unknown)
    values: dict[str, Any] = {}
    custom: dict[str, str] = {}
    for target, value in mapped.items():
        if target.startswith(CUSTOM):
            custom[target[len(CUSTOM):]] = value
        else:
            values[target] = value
    posted_source = (values.pop("source", None) or "").strip()
    source = _known_source(ctx.tx, posted_source) if posted_source else None
    if posted_source and source is None:
        if values.get("source_detail"):
            kept["Source"] = posted_source
        else:
            values["source_detail"] = posted_source
    values["source"] = source or ensure_source(ctx, WEBSITE_FORM)
    if kept:
        lines = [f"{key}: {value}" for key, value in kept.items() if value.strip()]
        if lines:
            values["description"] = "\n\n".join(p for p in (values.get("description", "").strip(),
                                                            "\n".join(lines)) if p)
    for name, value in values.items():
        try:
            prepare(ctx.tx, ctx.settings, {name: value})
        except RuleError as exc:
            errors.append(str(exc))
            by_field[name] = str(exc)
    if custom:
        from leaddesk.store.fields import prepare_custom

        for name, value in custom.items():
            try:
                prepare_custom(ctx.settings, {}, {name: value})
            except RuleError as exc:
                errors.append(str(exc))
                by_field[CUSTOM + name] = str(exc)
        values["custom"] = custom
    if errors:
        raise FormRejected(errors, by_field)
    return values


def intake_lead(ctx: Ctx, record: dict[str, str]) -> dict[str, Any]:
    """Create a lead from a web-form post; FormRejected with the reasons when it cannot be one.

    A post from someone who already has an open lead (same email, else same normalised phone) is not a new
    lead: it goes on that lead's timeline as a note, and the lead comes back with `intake: "added"`.
    """
    values = form_values(ctx, record)
    known = _open_lead_of(ctx, values)
    if known is not None:
        lead = load_lead(ctx.tx, known, lock=True)
        posted = "\n".join(f"{key}: {value}" for key, value in record.items() if str(value).strip())
        leads.add_activity(ctx, lead, "note", f"Web form posted again:\n{posted}")
        return {**lead, "intake": "added"}
    try:
        return {**leads.add_lead(ctx, values), "intake": "created"}
    except FormRejected:
        raise
    except RuleError as exc:
        raise FormRejected([str(exc)]) from None


def _open_lead_of(ctx: Ctx, values: dict[str, Any]) -> int | None:
    """The open lead (not won or lost) of the post's email, else of its phone; the latest updated one."""
    from leaddesk.store.contactinfo import normalise_phone

    email = str(values.get("email") or "").strip()
    if email:
        lead_id, _closed = sender_lead(ctx.tx, email)
        if lead_id is not None:
            return lead_id
    phone = normalise_phone(str(values.get("phone") or ""), ctx.settings.default_region)
    if phone:
        row = ctx.tx.one(
            "SELECT l.id FROM lead l JOIN status s ON s.id = l.status_id WHERE l.phone_e164 = :p"
            " AND s.category NOT IN ('won', 'lost') ORDER BY l.updated_at DESC, l.id DESC LIMIT 1", {"p": phone})
        if row is not None:
            return int(row["id"])
    return None
