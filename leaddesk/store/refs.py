"""Finding a lead from what a user typed: its number, or an exact email or phone in any format."""

from __future__ import annotations

from typing import Any

from leaddesk.store.contactinfo import looks_like_email, normalise_phone
from leaddesk.store.db import Tx
from leaddesk.store.errors import NotFound, RuleError

LEAD_COLUMNS = (
    "id, number, title, item_id, first_name, last_name, contact_name, company, job_title, email, email_lower,"
    " phone, phone_e164, street, city, state, zip, country, website, zone, source_id, source_detail, campaign,"
    " medium, contact_method_id, type_id, status_id, priority, tags, description, owner_id, partner_id,"
    " customer_id, expected_revenue_cents, probability, expected_close, followup_on, followup_time, followup_note,"
    " score, bant_budget,"
    " bant_budget_note, bant_authority, bant_authority_note, bant_need, bant_need_note, bant_timeline,"
    " bant_timeline_note, job_value_cents, lost_reason_id, lost_note, custom, search_text, created_at, updated_at,"
    " version"
)


def load_lead(tx: Tx, lead_id: int, *, lock: bool = False) -> dict[str, Any]:
    """Every column of a lead by id, as a dict."""
    row = tx.one(f"SELECT {LEAD_COLUMNS} FROM lead WHERE id = :i" + (tx.lock_suffix if lock else ""),
                 {"i": lead_id})
    if row is None:
        raise NotFound(f"lead id {lead_id} does not exist")
    return dict(row)


def find_leads(tx: Tx, ref: str, region: str) -> list[int]:
    """Ids of the leads a reference names (several for a shared email or phone)."""
    text = ref.strip().lstrip("#")
    if text.isascii() and text.isdigit():
        found = tx.scalar("SELECT id FROM lead WHERE number = :n", {"n": int(text)})
        if found is not None or len(text) < 7:
            return [] if found is None else [int(found)]
    if looks_like_email(text):
        rows = tx.all("SELECT id FROM lead WHERE email_lower = :e ORDER BY number", {"e": text.casefold()})
        return [int(r[0]) for r in rows]
    e164 = normalise_phone(text, region)
    if e164:
        rows = tx.all("SELECT id FROM lead WHERE phone_e164 = :p ORDER BY number", {"p": e164})
    else:
        rows = tx.all("SELECT id FROM lead WHERE phone = :p ORDER BY number", {"p": text})
    return [int(r[0]) for r in rows]


def resolve_lead(tx: Tx, ref: str, region: str, *, lock: bool = False) -> dict[str, Any]:
    """The one lead a reference names; NotFound or a RuleError listing the candidates."""
    ids = find_leads(tx, ref, region)
    if not ids:
        text = ref.strip().lstrip("#")
        merged = merged_into(tx, int(text)) if text.isascii() and text.isdigit() and len(text) < 12 else None
        if merged is not None:
            raise NotFound(f"lead #{int(text)} was merged into #{merged[1]} (merge {merged[0]})")
        raise NotFound(f"no lead matches '{ref}'")
    if len(ids) > 1:
        numbers = [str(tx.scalar("SELECT number FROM lead WHERE id = :i", {"i": i})) for i in ids[:10]]
        raise RuleError(f"'{ref}' matches several leads ({', '.join(numbers)}): use the lead number")
    return load_lead(tx, ids[0], lock=lock)


def merged_into(tx: Tx, number: int) -> tuple[int, int] | None:
    """(merge id, number of the lead it is in now) for a lead number that was merged away, else None."""
    row = tx.one("SELECT m.id, l.number FROM lead_merge m JOIN lead l ON l.id = m.keep_id"
                 " WHERE NOT m.undone AND (',' || m.merged_numbers || ',') LIKE :p ORDER BY m.id DESC LIMIT 1",
                 {"p": f"%,{int(number)},%"})
    return None if row is None else (int(row[0]), int(row[1]))
