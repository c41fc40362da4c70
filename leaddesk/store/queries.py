"""Read-only queries: the lead list (filter, sort, page in SQL), lead details, lookups, history."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from leaddesk import clock
from leaddesk.settings import Settings
from leaddesk.store import catalog, search
from leaddesk.store.contactinfo import looks_like_email, normalise_phone
from leaddesk.store.db import Tx
from leaddesk.store.errors import RuleError
from leaddesk.store.fields import load_custom, parse_custom_value
from leaddesk.store.rules import PRIORITY_NAMES, format_money, resolve_name

SORTABLE = {
    "number": "l.number", "contact": "lower(l.contact_name)", "company": "lower(l.company)", "phone": "l.phone",
    "email": "l.email_lower", "source": "src.name", "status": "s.position", "priority": "l.priority",
    "deals": "deals", "owner": "u.login", "followup": "l.followup_on", "created": "l.created_at",
    "updated": "l.updated_at", "value": "l.expected_revenue_cents", "zone": "l.zone",
    "score": "(l.score + l.auto_score)",  # the total: manual + automatic (store/scoring.py)
}
DUE = ("today", "week", "overdue", "by-today", "by-week", "any")


@dataclass
class LeadFilter:
    """What the lead list shows: filters, search, sort and page."""

    statuses: list[str] = field(default_factory=list)
    source: str | None = None
    zone: str | None = None
    type: str | None = None
    owner: str | None = None
    partner: str | None = None
    mine: bool = False
    state: str | None = None  # "open" or "closed"
    search: str | None = None
    due: str | None = None
    custom: dict[str, str] = field(default_factory=dict)
    min_score: int | None = None  # the total score (manual + automatic, store/scoring.py) at least this
    sla: str | None = None  # first-contact SLA: breached, pending, met or missed (store/sla.py)
    sort: str = "number"
    descending: bool = False
    limit: int | None = 100
    offset: int = 0


LIST_COLUMNS = (
    "l.id, l.number, l.title, l.contact_name, l.company, l.phone, l.phone_e164, l.email, l.zone, l.priority,"
    " l.tags, l.followup_on, l.score, l.auto_score, (l.score + l.auto_score) AS total_score,"
    " l.expected_revenue_cents, l.job_value_cents, l.created_at, l.updated_at,"
    " l.version, l.custom, src.name AS source, s.name AS status, s.category AS status_category, u.login AS owner,"
    " t.name AS type, p.name AS partner,"
    " l.sla_due_at, l.first_contact_at,"  # list_leads adds `sla_breached` (store/sla.py)
    " (SELECT count(*) FROM deal d WHERE d.lead_id = l.id) AS deals"
)
JOINS = (
    ("s", " JOIN status s ON s.id = l.status_id"),
    ("src", " LEFT JOIN source src ON src.id = l.source_id"),
    ("u", " LEFT JOIN \"user\" u ON u.id = l.owner_id"),
    ("t", " LEFT JOIN lead_type t ON t.id = l.type_id"),
    ("p", " LEFT JOIN partner p ON p.id = l.partner_id"),
)
LIST_JOINS = " FROM lead l" + "".join(join for _, join in JOINS)


def _from(*sql: str) -> str:
    """`FROM lead l` with only the joins that `sql` refers to: a count over 100k leads reads no other table.

    Every join is on a key (status_id is never null), so leaving one out never changes which leads match.
    """
    text = " ".join(sql)
    return " FROM lead l" + "".join(join for alias, join in JOINS if re.search(rf"\b{alias}\.", text))


def _where(tx: Tx, settings: Settings, flt: LeadFilter, login: str, found: search.Search | None = None,
           search_plan: str = "in") -> tuple[str, dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if flt.statuses:
        all_names = catalog.names(tx, "status")
        wanted = [resolve_name(s, all_names, "status") for s in flt.statuses]
        keys = []
        for i, name in enumerate(wanted):
            params[f"st{i}"] = name
            keys.append(f":st{i}")
        clauses.append(f"s.name IN ({', '.join(keys)})")
    for attr, table, column, what in (("source", "source", "l.source_id", "source"),
                                      ("type", "lead_type", "l.type_id", "lead type"),
                                      ("partner", "partner", "l.partner_id", "partner")):
        value = getattr(flt, attr)
        if value:
            params[attr] = catalog.find_id(tx, table, value, what)
            clauses.append(f"{column} = :{attr}")
    if flt.zone:
        params["zone"] = flt.zone.casefold()
        clauses.append("lower(l.zone) = :zone")
    owner = login if flt.mine else flt.owner
    if owner:
        params["owner"] = owner
        clauses.append("u.login = :owner")
    if flt.state == "open":
        clauses.append("s.category IN ('open', 'qualified')")
    elif flt.state == "closed":
        clauses.append("s.category IN ('won', 'lost')")
    elif flt.state:
        raise RuleError(f"state '{flt.state}' must be open or closed")
    if flt.due:
        clauses.append(_due_clause(flt.due, settings, params))
    if flt.min_score is not None:  # the total score, as sorted by (see SORTABLE)
        params["min_score"] = int(flt.min_score)
        clauses.append("(l.score + l.auto_score) >= :min_score")
    if flt.sla:
        from leaddesk.store import sla

        clauses.append(sla.filter_clause(flt.sla, params))
    if flt.search and flt.search.strip():
        found = found or search.prepare(tx, flt.search, settings.default_region)
        clauses.append(search.clause(found, params, search_plan))
    for i, (name, value) in enumerate(flt.custom.items()):
        clauses.append(_custom_clause(tx, settings, name, value, i, params))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _due_clause(due: str, settings: Settings, params: dict[str, Any]) -> str:
    """The follow-up filters, in the desk's time zone (see `store/followups.py`): `today` (dated today),
    `week` (today to Sunday), `overdue` (open leads whose follow-up's day, or time today, has passed),
    `by-today` and `by-week` (open leads due by the end of today / of Sunday, overdue ones included),
    `any` (a follow-up is set). Every one is a range on the indexed followup_on."""
    now = clock.local_now(settings.timezone)
    today = now.date()
    params["today"] = today.isoformat()
    params["now_hm"] = now.strftime("%H:%M")
    params["week_end"] = (today + timedelta(days=6 - today.weekday())).isoformat()
    open_ = "s.category IN ('open', 'qualified')"
    if due == "today":
        return "l.followup_on = :today"
    if due == "week":
        return "l.followup_on >= :today AND l.followup_on <= :week_end"
    if due == "overdue":
        return f"l.followup_on <= :today AND (l.followup_on < :today OR l.followup_time < :now_hm) AND {open_}"
    if due == "by-today":
        return f"l.followup_on <= :today AND {open_}"
    if due == "by-week":
        return f"l.followup_on <= :week_end AND {open_}"
    if due == "any":
        return "l.followup_on IS NOT NULL"
    raise RuleError(f"due '{due}' must be one of {', '.join(DUE)}")


def _custom_clause(tx: Tx, settings: Settings, name: str, value: str, i: int, params: dict[str, Any]) -> str:
    """A filter on a custom field, reading the value by the field's type (yes/no, numbers, dates, choices)."""
    spec = settings.custom_fields.get(name)
    if spec is None:
        known = ", ".join(settings.custom_fields) or "none are defined in settings"
        raise RuleError(f"unknown custom field '{name}' (known: {known})")
    wanted = parse_custom_value(spec, value)
    if tx.dialect == "sqlite":
        params[f"cf{i}"] = f'$."{name}"'
        raw = f"json_extract(l.custom, :cf{i})"
    else:
        params[f"cf{i}"] = name
        raw = f"(CAST(l.custom AS json) ->> :cf{i})"
    if wanted is None:
        return f"{raw} IS NULL"
    if spec.type == "bool":
        params[f"cv{i}"] = (1 if wanted else 0) if tx.dialect == "sqlite" else ("true" if wanted else "false")
        return f"{raw} = :cv{i}"
    if spec.type == "number":
        params[f"cv{i}"] = float(wanted)
        return f"CAST({raw} AS REAL) = :cv{i}" if tx.dialect == "sqlite" else f"CAST({raw} AS float) = :cv{i}"
    params[f"cv{i}"] = str(wanted).casefold()
    return f"lower(CAST({raw} AS TEXT)) = :cv{i}"


def _search_only(flt: LeadFilter) -> bool:
    """Whether a search is the filter's only condition (its sort and page aside)."""
    return bool(flt.search and flt.search.strip()) and flt == LeadFilter(
        search=flt.search, sort=flt.sort, descending=flt.descending, limit=flt.limit, offset=flt.offset)


def _order(tx: Tx, key: str, direction: str) -> str:
    """A sort column with SQLite's order of empty values on every database: first ascending, last descending
    (PostgreSQL's default is the other way round)."""
    if tx.dialect == "sqlite":
        return f"{SORTABLE[key]} {direction}"
    return f"{SORTABLE[key]} {direction} NULLS {'FIRST' if direction == 'ASC' else 'LAST'}"


def list_leads(tx: Tx, settings: Settings, flt: LeadFilter, login: str) -> list[dict[str, Any]]:
    """One page of leads matching a filter, sorted in SQL."""
    return _page(tx, settings, flt, login, _prepared(tx, settings, flt))[0]


def lead_page(tx: Tx, settings: Settings, flt: LeadFilter, login: str) -> tuple[int, list[dict[str, Any]]]:
    """How many leads match a filter and its page of them (none when `flt.limit` is 0), in one transaction: a
    search is prepared once and the matches the index gives are collected once for both (the list's query when
    its search text changes)."""
    found = _prepared(tx, settings, flt)
    rows, found = _page(tx, settings, flt, login, found) if flt.limit != 0 else ([], found)
    return _count(tx, settings, flt, login, found), rows


def _prepared(tx: Tx, settings: Settings, flt: LeadFilter) -> search.Search | None:
    """The search of the list's instant search or the palette's finder (the filter's only condition), ready."""
    if _search_only(flt) and flt.search:
        return search.prepare(tx, flt.search, settings.default_region)
    return None


def _page(tx: Tx, settings: Settings, flt: LeadFilter, login: str,
          found: search.Search | None) -> tuple[list[dict[str, Any]], search.Search | None]:
    """The page of `list_leads` and the search as run (carrying its collected matches, see `search.plan`)."""
    key = resolve_name(flt.sort, list(SORTABLE), "sort column")
    direction = "DESC" if flt.descending else "ASC"
    order = f"{_order(tx, key, direction)}, l.number {direction}"
    plan = "in"
    if found is not None:  # store/search.py: the cheapest way to the page
        plan, found = search.plan(tx, found, key, order, None if flt.limit is None else flt.offset + flt.limit)
    where, params = _where(tx, settings, flt, login, found, plan)
    sql = f"SELECT {LIST_COLUMNS}{LIST_JOINS}{where} ORDER BY {order}"
    if flt.limit is not None:
        sql += " LIMIT :limit OFFSET :offset"
        params.update(limit=flt.limit, offset=flt.offset)
    from leaddesk.store.sla import is_breached

    now = clock.stamp()
    rows = _dicts(tx.all(sql, params))
    for row in rows:
        row["sla_breached"] = is_breached(row, now)
    return rows, found


def _dicts(rows: list[Any]) -> list[dict[str, Any]]:
    """Rows as dicts: sqlite3.Row by zipping the column names once (3x faster than dict(row) for a page)."""
    if rows and isinstance(rows[0], sqlite3.Row):
        keys = rows[0].keys()
        return [dict(zip(keys, row, strict=True)) for row in rows]
    return [dict(row) for row in rows]


def board_columns(tx: Tx, settings: Settings, flt: LeadFilter, login: str) -> list[dict[str, Any]]:
    """The board's columns: every status in order (only the type's allowed ones when a type is chosen),
    each with its lead count and value (job value for won columns, expected revenue otherwise)."""
    column_filter = LeadFilter(**{**flt.__dict__, "statuses": [], "sort": "number", "limit": None, "offset": 0})
    where, params = _where(tx, settings, column_filter, login)
    totals = {r["status_id"]: (r["n"], r["value"]) for r in tx.all(
        "SELECT l.status_id, count(*) AS n, sum(CASE WHEN s.category = 'won' THEN l.job_value_cents"
        f" ELSE l.expected_revenue_cents END) AS value{_from('s.', where)}{where} GROUP BY l.status_id", params)}
    statuses = catalog.statuses(tx)
    if flt.type:
        allowed = catalog.allowed_statuses(tx, catalog.find_id(tx, "lead_type", flt.type, "lead type"))
        if allowed:
            statuses = allowed
    return [{"id": s.id, "name": s.name, "category": s.category, "manual": s.manual,
             "count": totals.get(s.id, (0, 0))[0], "value_cents": totals.get(s.id, (0, 0))[1] or 0}
            for s in statuses]


def lead_position(tx: Tx, settings: Settings, flt: LeadFilter, login: str, number: int) -> int | None:
    """Where lead `number` sits (0-based) in the filter's sort order, or None when it does not match."""
    where, params = _where(tx, settings, flt, login)
    key = resolve_name(flt.sort, list(SORTABLE), "sort column")
    direction = "DESC" if flt.descending else "ASC"
    if key == "priority":  # the board's order: two counts on indexed columns, cheap in a 100k column
        params["pos_n"] = number
        conj = " AND " if where else " WHERE "
        priority = tx.scalar(f"SELECT l.priority{_from(where)}{where}{conj}l.number = :pos_n", params)
        if priority is None:
            return None
        params["pos_p"] = priority
        before = ">" if flt.descending else "<"
        return int(tx.scalar(
            f"SELECT count(*){_from(where)}{where}{conj}(l.priority {before} :pos_p"
            f" OR (l.priority = :pos_p AND l.number {before} :pos_n))", params))
    params["pos_n"] = number
    row = tx.scalar(
        f"SELECT rn FROM (SELECT l.number AS n, row_number() OVER (ORDER BY {_order(tx, key, direction)},"
        f" l.number {direction}) - 1 AS rn{_from(SORTABLE[key], where)}{where}) ranked WHERE n = :pos_n", params)
    return None if row is None else int(row)


def count_leads(tx: Tx, settings: Settings, flt: LeadFilter, login: str) -> int:
    """How many leads match a filter."""
    return _count(tx, settings, flt, login, _prepared(tx, settings, flt))


def _count(tx: Tx, settings: Settings, flt: LeadFilter, login: str, found: search.Search | None) -> int:
    if found is not None:
        total = search.count(tx, found)
        if total is not None:
            return total
    where, params = _where(tx, settings, flt, login)
    return int(tx.scalar(f"SELECT count(*){_from(where)}{where}", params))


def lead_detail(tx: Tx, lead_id: int) -> dict[str, Any]:
    """Everything about one lead: fields with names resolved, deals, activities, custom fields."""
    row = tx.one(
        "SELECT l.*, s.name AS status, s.category AS status_category, src.name AS source, u.login AS owner,"
        " t.name AS type, p.name AS partner, i.name AS item, cm.name AS contact_method,"
        " lr.name AS lost_reason, c.name AS customer"
        " FROM lead l JOIN status s ON s.id = l.status_id LEFT JOIN source src ON src.id = l.source_id"
        " LEFT JOIN \"user\" u ON u.id = l.owner_id LEFT JOIN lead_type t ON t.id = l.type_id"
        " LEFT JOIN partner p ON p.id = l.partner_id LEFT JOIN item i ON i.id = l.item_id"
        " LEFT JOIN contact_method cm ON cm.id = l.contact_method_id"
        " LEFT JOIN lost_reason lr ON lr.id = l.lost_reason_id LEFT JOIN customer c ON c.id = l.customer_id"
        " WHERE l.id = :i",
        {"i": lead_id},
    )
    assert row is not None
    detail = dict(row)
    detail["custom"] = load_custom(detail["custom"])
    detail["deals"] = [dict(d) for d in tx.all(
        "SELECT d.id, d.title, d.value_cents, st.name AS stage, d.state AS status, d.expected_close"
        " FROM deal d JOIN stage st ON st.id = d.stage_id WHERE d.lead_id = :i ORDER BY d.id", {"i": lead_id})]
    detail["activities"] = [dict(a) for a in tx.all(
        "SELECT a.id, a.kind, a.body, a.at, u.login AS user FROM activity a"
        " LEFT JOIN \"user\" u ON u.id = a.user_id WHERE a.lead_id = :i ORDER BY a.at DESC, a.id DESC",
        {"i": lead_id})]
    return detail


def lookup(tx: Tx, settings: Settings, text: str) -> dict[str, list[dict[str, Any]]]:
    """Leads and customers with this phone (any format) or email (any case)."""
    text = text.strip()
    if looks_like_email(text):
        key, value = "email_lower", text.casefold()
    else:
        e164 = normalise_phone(text, settings.default_region)
        if not e164:
            raise RuleError(f"'{text}' is neither an email nor a phone number I can read")
        key, value = "phone_e164", e164
    leads = tx.all(
        f"SELECT l.number, l.contact_name, l.company, l.phone, l.email, s.name AS status FROM lead l"
        f" JOIN status s ON s.id = l.status_id WHERE l.{key} = :v ORDER BY l.number", {"v": value})
    customers = tx.all(f"SELECT id, name, phone, email FROM customer WHERE {key} = :v ORDER BY id", {"v": value})
    return {"leads": [dict(r) for r in leads], "customers": [dict(r) for r in customers]}


REF_TABLES = {"status_id": "status", "source_id": "source", "type_id": "lead_type", "item_id": "item",
              "contact_method_id": "contact_method", "lost_reason_id": "lost_reason", "partner_id": "partner",
              "owner_id": "user", "stage_id": "stage"}


# Derived columns (written alongside the field a user edits) are left out of the history view.
HIDDEN_HISTORY_FIELDS = {"phone_e164", "email_lower", "search_text"}


def history_of(tx: Tx, entity: str, entity_id: int) -> list[dict[str, Any]]:
    """The history of a record, oldest first, with ids shown as names."""
    rows = [dict(r) for r in tx.all(
        "SELECT h.id, h.change_id, h.action, h.field, h.old, h.new, h.at, h.origin, h.undone, u.login AS user"
        " FROM history h LEFT JOIN \"user\" u ON u.id = h.user_id"
        " WHERE h.entity = :e AND h.entity_id = :i ORDER BY h.id", {"e": entity, "i": entity_id})]
    rows = [r for r in rows if r["field"] not in HIDDEN_HISTORY_FIELDS]
    names: dict[tuple[str, str], str | None] = {}
    for row in rows:
        table = REF_TABLES.get(row["field"])
        if table is None:
            continue
        for side in ("old", "new"):
            value = row[side]
            if value is None:
                continue
            if (table, value) not in names:
                column = "login" if table == "user" else "name"
                names[(table, value)] = tx.scalar(f"SELECT {column} FROM \"{table}\" WHERE id = :i",
                                                  {"i": int(value)})
            row[side] = names[(table, value)] or value
    for row in rows:
        row["field"] = row["field"].partition(":")[0]
        if row["field"].endswith("_cents"):
            for side in ("old", "new"):
                if row[side] is not None:
                    row[side] = format_money(int(row[side]))
        row["field"] = row["field"].removesuffix("_id").removesuffix("_cents").removesuffix("_on")
    return rows


# History rows that are not a field of the lead changing (notes, merges, the number of a copy or a delete).
NOT_FIELD_ROWS = {"activity", "merged", "merged_into", "number"}


def lead_changes_since(tx: Tx, lead_id: int, since: int, now: int) -> dict[str, dict[str, Any]]:
    """What changed on a lead after version `since` (it is at version `now`), per field, oldest change first:
    {field: {"from", "to", "by", "at", "action"}} with history's text (ids as names, money formatted),
    "from" as of version `since`, "to", "by", "at" and "action" of the field's latest change. Fields are the
    public names (`name`, `followup`, `expected_revenue`, `custom:NAME`, plus `status`, `lost_reason`...).
    A field changed and changed back is left out.

    Every version bump is one change (one `change_id`) writing at least one field row, so the changes
    since are the newest `now - since` change ids among the field rows."""
    wanted = now - since
    if wanted <= 0:
        return {}
    rows = [r for r in history_of(tx, "lead", lead_id)
            if r["field"] not in NOT_FIELD_ROWS and r["action"] not in ("create", "copy", "delete")]
    seen: list[str] = []
    picked: list[dict[str, Any]] = []
    for row in reversed(rows):
        if row["change_id"] not in seen:
            if len(seen) == wanted:
                break
            seen.append(row["change_id"])
        picked.append(row)
    renamed = {r["change_id"] for r in picked if r["field"] == "contact_name"}
    changes: dict[str, dict[str, Any]] = {}
    for row in reversed(picked):
        if row["field"] in ("first_name", "last_name") and row["change_id"] in renamed:
            continue  # parts of the name change
        for name, old, new in _field_changes(row):
            entry = changes.setdefault(name, {"from": old})
            entry.update({"to": new, "by": row["user"], "at": row["at"], "action": row["action"]})
    return {name: change for name, change in changes.items() if change["from"] != change["to"]}


def _field_changes(row: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    """One history row as (public field name, old, new); the custom fields' JSON split by field."""
    if row["field"] == "custom":
        old, new = load_custom(row["old"]), load_custom(row["new"])
        return [(f"custom:{key}", _custom_text(old.get(key)), _custom_text(new.get(key)))
                for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key)]
    if row["field"] == "priority":  # as the CLI takes it: "high", not "2"
        return [("priority", _priority_text(row["old"]), _priority_text(row["new"]))]
    name = "name" if row["field"] == "contact_name" else row["field"]
    return [(name, row["old"], row["new"])]


def _priority_text(value: str | None) -> str | None:
    return None if value is None else PRIORITY_NAMES.get(int(value), value)


def _custom_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
