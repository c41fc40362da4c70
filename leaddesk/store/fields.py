"""The editable lead fields: their names, columns, and how user text becomes a stored value.

`add`, `edit`, import and the TUI forms all go through `prepare()`, so a field
is validated the same way whatever the entry point.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from leaddesk import clock
from leaddesk.settings import CustomField, Settings
from leaddesk.store import catalog
from leaddesk.store.contactinfo import check_email, normalise_phone
from leaddesk.store.db import Tx
from leaddesk.store.errors import NotFound, RuleError
from leaddesk.store.rules import (
    parse_bant,
    parse_money,
    parse_priority,
    parse_probability,
    parse_tags,
    split_name,
)

MAX_TEXT = 100_000
TEXT_LIMIT = 1000
"""The longest value of a short text field (a name, a city...)."""


@dataclass(frozen=True)
class LeadField:
    """An editable lead field: its public name, its column and its kind of value."""

    name: str
    column: str
    kind: str
    label: str


def _f(name: str, kind: str = "text", column: str | None = None, label: str | None = None) -> LeadField:
    return LeadField(name, column or name, kind, label or name.replace("_", " ").capitalize())


FIELDS: dict[str, LeadField] = {f.name: f for f in [
    _f("name", "name", "contact_name", "Contact name"),
    _f("first_name"), _f("last_name"),
    _f("title"), _f("item", "ref:item", "item_id"),
    _f("company"), _f("job_title"),
    _f("email", "email"), _f("phone", "phone"),
    _f("street"), _f("city"), _f("state"), _f("zip", label="ZIP"), _f("country"), _f("website"),
    _f("zone"),
    _f("source", "ref:source", "source_id"), _f("source_detail"), _f("campaign"), _f("medium"),
    _f("contact_method", "ref:contact_method", "contact_method_id"),
    _f("type", "ref:lead_type", "type_id", "Lead type"),
    _f("priority", "priority"), _f("tags", "tags"), _f("description", "longtext"),
    _f("owner", "user", "owner_id"), _f("partner", "ref:partner", "partner_id"),
    _f("customer", "customer", "customer_id"),
    _f("expected_revenue", "money", "expected_revenue_cents"),
    _f("probability", "probability"), _f("expected_close", "date"),
    _f("followup", "date", "followup_on", "Follow-up"),
    _f("followup_time", "time", label="Follow-up time"), _f("followup_note", "note", label="Follow-up note"),
    _f("score", "int"),
    _f("bant_budget", "bant"), _f("bant_budget_note"),
    _f("bant_authority", "bant"), _f("bant_authority_note"),
    _f("bant_need", "bant"), _f("bant_need_note"),
    _f("bant_timeline", "bant"), _f("bant_timeline_note"),
    _f("job_value", "money", "job_value_cents"),
]}

COLUMN_TO_FIELD = {f.column: f for f in FIELDS.values()}
# Columns derived from others: written with them, never edited directly.
DERIVED = {"contact_name": ("first_name", "last_name"), "phone_e164": ("phone",), "email_lower": ("email",)}


SEARCH_SOURCES = ("contact_name", "company", "title", "email_lower")


def search_text(row: dict[str, Any]) -> str:
    """The case-folded text the lead list searches (any script, not only ASCII)."""
    get = row.get  # SEARCH_SOURCES, spelled out: the import builds this for every row
    name, company, title, email = get("contact_name"), get("company"), get("title"), get("email_lower")
    return f"{name or ''} {company or ''} {title or ''} {email or ''}".casefold()


def _text(value: Any, label: str, limit: int = TEXT_LIMIT) -> str | None:
    text = "" if value is None else str(value)
    if "\x00" in text:
        raise RuleError(f"{label} contains a NUL character")
    text = text.strip()
    if len(text) > limit:
        raise RuleError(f"{label} is too long ({len(text)} characters; the limit is {limit})")
    return text or None


def parse_date(value: Any, label: str, today: date | None = None) -> str | None:
    """A user date (ISO or relative to `today`, default `clock.today()`: tomorrow, +3d, monday) as ISO text;
    empty is None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, date):
        return value.isoformat()
    from leaddesk.dates import parse_when

    try:
        return parse_when(str(value), today or clock.today()).isoformat()
    except ValueError as exc:
        raise RuleError(f"{label}: {exc}") from None


def parse_custom_value(spec: CustomField, value: Any) -> Any:
    """A custom field value read by its type; None for empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip()
    if spec.type == "number":
        try:
            number = float(text)
        except ValueError:
            raise RuleError(f"{spec.title} must be a number, not '{text}'") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise RuleError(f"{spec.title} must be a finite number, not '{text}'")
        return int(number) if number.is_integer() else number
    if spec.type == "date":
        return parse_date(text, spec.title)
    if spec.type == "bool":
        folded = text.casefold()
        if folded in ("yes", "y", "true", "1", "on"):
            return True
        if folded in ("no", "n", "false", "0", "off"):
            return False
        raise RuleError(f"{spec.title} must be yes or no, not '{text}'")
    if spec.type == "choice":
        match = [c for c in spec.choices if c.casefold() == text.casefold()]
        if not match:
            raise RuleError(f"{spec.title} must be one of {', '.join(spec.choices)}, not '{text}'")
        return match[0]
    return _text(text, spec.title)


def prepare_custom(settings: Settings, current: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Merge validated custom field values into the current ones (None removes a value)."""
    merged = dict(current)
    for name, value in given.items():
        spec = settings.custom_fields.get(name)
        if spec is None:
            known = ", ".join(settings.custom_fields) or "none are defined in settings"
            raise RuleError(f"unknown custom field '{name}' (known: {known})")
        parsed = parse_custom_value(spec, value)
        if parsed is None:
            merged.pop(name, None)
        else:
            merged[name] = parsed
    return merged


def load_custom(raw: str | None) -> dict[str, Any]:
    """Custom values as stored (JSON text) to a dict."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def dump_custom(values: dict[str, Any]) -> str:
    """Custom values to stored JSON text (stable key order)."""
    return json.dumps(values, sort_keys=True, ensure_ascii=False)


def prepare(tx: Tx, settings: Settings, given: dict[str, Any]) -> dict[str, Any]:
    """Turn user values keyed by field name into column values; refuse anything invalid.

    `given` may hold any of FIELDS (None or "" clears a field) and `custom`
    (a dict handled by `prepare_custom` by the caller).
    """
    columns: dict[str, Any] = {}
    for name, value in given.items():
        if name == "custom":
            continue
        spec = FIELDS.get(name)
        if spec is None:
            raise RuleError(f"unknown field '{name}'")
        columns.update(prepare_field(tx, settings, spec, value))
    return columns


def prepare_field(tx: Tx, settings: Settings, spec: LeadField, value: Any) -> dict[str, Any]:
    """One field's column values (as `prepare`, for a field already looked up: the import's hot path)."""
    kind, label = spec.kind, spec.label
    empty = value is None or (isinstance(value, str) and not value.strip())
    if kind == "name":
        text = _text(value, label)
        first, last = split_name(text or "")
        return {"contact_name": text or "", "first_name": first, "last_name": last}
    if kind == "text":
        return {spec.column: _text(value, label)}
    if kind == "longtext":
        return {spec.column: _text(value, label, MAX_TEXT) or ""}
    if kind == "email":
        email = check_email(_text(value, label))
        return {"email": email, "email_lower": email.casefold() if email else None}
    if kind == "phone":
        phone = _text(value, label, 100)
        return {"phone": phone, "phone_e164": normalise_phone(phone, settings.default_region)}
    if kind == "priority":
        return {spec.column: 0 if empty else parse_priority(value)}
    if kind == "probability":
        return {spec.column: None if empty else parse_probability(value)}
    if kind == "money":
        return {spec.column: parse_money(value, label.lower())}
    if kind == "date":
        return {spec.column: parse_date(value, label, clock.local_now(settings.timezone).date())}
    if kind == "time":
        from leaddesk.store.followups import parse_time

        return {spec.column: None if empty else parse_time(str(value), label)}
    if kind == "note":
        return {spec.column: _text(value, label) or ""}
    if kind == "int":
        try:
            return {spec.column: 0 if empty else int(str(value).strip())}
        except ValueError:
            raise RuleError(f"{label} must be a whole number, not '{value}'") from None
    if kind == "bant":
        return {spec.column: parse_bant("" if empty else str(value), label)}
    if kind == "tags":
        return {spec.column: "" if empty else parse_tags(_text(value, label, MAX_TEXT) or "")}
    if kind == "user":
        if empty:
            return {spec.column: None}
        try:
            return {spec.column: catalog.user_id(tx, str(value).strip())}
        except NotFound as exc:
            raise RuleError(str(exc)) from None
    if kind == "customer":
        if empty:
            return {spec.column: None}
        try:
            customer = int(str(value).strip())
        except ValueError:
            raise RuleError(f"customer must be a customer id, not '{value}'") from None
        if tx.scalar("SELECT id FROM customer WHERE id = :i", {"i": customer}) is None:
            raise RuleError(f"there is no customer {customer}")
        return {spec.column: customer}
    if kind.startswith("ref:"):
        table = kind[4:]
        if empty:
            return {spec.column: None}
        return {spec.column: catalog.find_id(tx, table, str(value), label.lower())}
    raise AssertionError(kind)  # pragma: no cover
