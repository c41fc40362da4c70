"""Lead operations: create, edit, status changes, follow-ups, activities, copy, delete, undo.

Each function runs inside the caller's write transaction (`Ctx`), checks the
rules, writes the change and its history rows, and returns what it did.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from leaddesk.settings import Settings
from leaddesk.store import catalog, derived
from leaddesk.store.context import Ctx, as_text
from leaddesk.store.db import Tx
from leaddesk.store.errors import Conflict, RuleError
from leaddesk.store.fields import (
    COLUMN_TO_FIELD,
    SEARCH_SOURCES,
    dump_custom,
    load_custom,
    prepare,
    prepare_custom,
    search_text,
)
from leaddesk.store.refs import load_lead
from leaddesk.store.rules import (
    ACTIVITY_KINDS,
    StatusInfo,
    check_allowed_for_type,
    check_job_value_edit,
    check_lost,
    check_pick,
    check_reopen,
    check_won,
    first_of,
    parse_money,
    resolve_status,
)

# Columns copied by "copy lead" (seed 002's list: name, type, customer, sales person,
# description, priority, tags, expected revenue and probability, contacts and address).
COPY_COLUMNS = (
    "title", "item_id", "type_id", "customer_id", "owner_id", "description", "priority", "tags",
    "expected_revenue_cents", "probability", "first_name", "last_name", "contact_name", "company",
    "job_title", "email", "email_lower", "phone", "phone_e164", "street", "city", "state", "zip",
    "country", "website", "zone", "source_id", "source_detail", "campaign", "medium", "contact_method_id",
    "partner_id", "custom",
)
UNDOABLE = {"edit", "status", "reopen", "won", "lost", "followup", "note", "log", "undo-free"}


def next_number(ctx: Ctx) -> int:
    """The next lead number; numbers are never reused, even after a delete."""
    counter = ctx.tx.scalar("SELECT value FROM setting WHERE key = 'last_lead_number'")
    highest = ctx.tx.scalar("SELECT max(number) FROM lead") or 0
    number = max(int(counter or 0), int(highest)) + 1
    if counter is None:
        ctx.tx.execute("INSERT INTO setting (key, value) VALUES ('last_lead_number', :n)", {"n": str(number)})
    else:
        ctx.tx.execute("UPDATE setting SET value = :n WHERE key = 'last_lead_number'", {"n": str(number)})
    return number


def check_version(ctx: Ctx, lead: dict[str, Any], expected: int | None) -> None:
    """Refuse a change based on a stale read: say who changed the lead, when, and what (`.fields`)."""
    if expected is None or expected == lead["version"]:
        return
    from leaddesk.store.queries import lead_changes_since  # only on a conflict

    changes = lead_changes_since(ctx.tx, lead["id"], expected, lead["version"])
    last = ctx.tx.one(
        "SELECT u.login, h.at FROM history h LEFT JOIN \"user\" u ON u.id = h.user_id"
        " WHERE h.entity = 'lead' AND h.entity_id = :i ORDER BY h.id DESC LIMIT 1",
        {"i": lead["id"]},
    )
    by, at = (last["login"] or "someone", last["at"]) if last else ("someone", lead["updated_at"])
    what = f": {describe_changes(changes)}" if changes else ""
    raise Conflict(
        f"lead {lead['number']} was changed by {by} at {at.replace('T', ' ')} since you read it"
        f" (your version {expected}, now {lead['version']}){what}",
        by=by, at=at, fields=changes,
    )


def describe_changes(changes: dict[str, dict[str, Any]], most: int = 5) -> str:
    """Changes (see `queries.lead_changes_since`) for a one-line message: "city 'Rome' → 'Paris'; ..."
    naming who made each when more than one user did."""
    several = len({c["by"] for c in changes.values()}) > 1
    parts = []
    for name, change in list(changes.items())[:most]:
        if name == "description":
            part = "description edited"
        else:
            part = f"{name.removeprefix('custom:')} {_quoted(change['from'])} → {_quoted(change['to'])}"
        parts.append(part + (f" by {change['by']}" if several else ""))
    if len(changes) > most:
        parts.append(f"and {len(changes) - most} more")
    return "; ".join(parts)


def _quoted(value: str | None, width: int = 40) -> str:
    if value in (None, ""):
        return "(empty)"
    text = str(value)
    return f"'{text if len(text) <= width else text[:width - 1] + '…'}'"


def _apply(ctx: Ctx, lead: dict[str, Any], changes: dict[str, Any], action: str) -> dict[str, Any]:
    """Write the columns that really change, bump the version, record history; return the new lead."""
    diff = {k: v for k, v in changes.items() if as_text(lead.get(k)) != as_text(v)}
    if not diff:
        return lead
    if any(col in diff for col in SEARCH_SOURCES):
        diff["search_text"] = search_text({**lead, **diff})
    sets = ", ".join(f"{col} = :{col}" for col in diff)
    params = {**diff, "_id": lead["id"], "_v": lead["version"], "_at": ctx.at}
    touched = ctx.tx.execute(
        f"UPDATE lead SET {sets}, version = version + 1, updated_at = :_at WHERE id = :_id AND version = :_v",
        params,
    )
    if touched != 1:
        raise Conflict(f"lead {lead['number']} was changed by someone else meanwhile; try again")
    for col, value in diff.items():
        if col != "search_text":
            ctx.record("lead", lead["id"], action, col, lead.get(col), value)
    derived.lead_changed(ctx, lead["id"], action, diff)
    return {**lead, **diff, "version": lead["version"] + 1, "updated_at": ctx.at}


def _status_of(ctx: Ctx, lead: dict[str, Any]) -> tuple[list[StatusInfo], StatusInfo]:
    all_statuses = catalog.statuses(ctx.tx)
    return all_statuses, catalog.status_by_id(all_statuses, lead["status_id"])


def _check_type(ctx: Ctx, lead: dict[str, Any], target: StatusInfo) -> None:
    allowed = catalog.allowed_statuses(ctx.tx, lead["type_id"])
    check_allowed_for_type(target, catalog.name_of(ctx.tx, "lead_type", lead["type_id"]), allowed)


def _required_target(all_statuses: list[StatusInfo], category: str) -> StatusInfo:
    target = first_of(category, all_statuses)
    if target is None:
        raise RuleError(f"this workflow has no {category} status")
    return target


def _fill_title(ctx: Ctx, row: dict[str, Any]) -> None:
    if not row.get("title"):
        item = catalog.name_of(ctx.tx, "item", row.get("item_id"))
        row["title"] = item or row.get("company") or row.get("contact_name") or ""


def _initial_status(ctx: Ctx, row: dict[str, Any], status_text: str | None) -> int:
    all_statuses = catalog.statuses(ctx.tx)
    allowed = catalog.allowed_statuses(ctx.tx, row.get("type_id"))
    if status_text:
        target = resolve_status(status_text, all_statuses)
        if target.category != "open" or not target.manual:
            check_pick(target, target)
    else:
        pool = [s for s in (allowed or all_statuses) if s.category == "open"]
        if not pool:
            raise RuleError("the lead type allows no open status to start in")
        target = pool[0]
    check_allowed_for_type(target, catalog.name_of(ctx.tx, "lead_type", row.get("type_id")), allowed)
    return target.id


def new_lead_row(ctx: Ctx, given: dict[str, Any], *, status: str | None = None,
                 prepare_values: Callable[[Tx, Settings, dict[str, Any]], dict[str, Any]] = prepare,
                 initial_status: Callable[[Ctx, dict[str, Any], str | None], int] | None = None,
                 ) -> dict[str, Any]:
    """The column values of a new lead (without number and timestamps), checked by every creation rule.

    `add_lead` and the bulk import both build their rows here; the import passes memoising
    `prepare_values` and `initial_status` (same rules, each distinct value checked once).
    """
    values = dict(given)
    if values.get("job_value") not in (None, ""):
        raise RuleError("the job value can be entered only on a won lead")
    values.pop("job_value", None)
    row = prepare_values(ctx.tx, ctx.settings, values)
    if "contact_name" not in row and ("first_name" in row or "last_name" in row):
        row["contact_name"] = " ".join(p for p in (row.get("first_name"), row.get("last_name")) if p)
    if not (row.get("contact_name") or row.get("company")):
        raise RuleError("a lead needs a contact name or a company")
    if not row.get("followup_on") and (row.get("followup_time") or row.get("followup_note")):
        raise RuleError("a follow-up time or note needs a follow-up date")
    row.setdefault("contact_name", "")
    if "owner_id" not in row:  # with assignment rules on, `assignment.assign_owners` picks the owner
        row["owner_id"] = None if ctx.settings.assignment.enabled else ctx.user_id
    custom = given.get("custom")
    row["custom"] = dump_custom(prepare_custom(ctx.settings, {}, custom)) if custom else "{}"
    row["status_id"] = (initial_status or _initial_status)(ctx, row, status)
    _fill_title(ctx, row)
    row["search_text"] = search_text(row)
    return row


def add_lead(ctx: Ctx, given: dict[str, Any], *, status: str | None = None) -> dict[str, Any]:
    """Create a lead from user values; the owner defaults to the acting user (or the assignment rules')."""
    row = new_lead_row(ctx, given, status=status)
    if row["owner_id"] is None and "owner" not in given:
        from leaddesk.store import assignment

        assignment.assign_owners(ctx, [row])
    row["number"] = next_number(ctx)
    row["created_at"] = row["updated_at"] = ctx.at
    columns = ", ".join(row)
    lead_id = ctx.tx.insert(f"INSERT INTO lead ({columns}) VALUES ({', '.join(':' + c for c in row)})", row)
    for col, value in row.items():
        if value not in (None, "", "{}") and col not in ("created_at", "updated_at", "search_text"):
            ctx.record("lead", lead_id, "create", col, None, value)
    derived.lead_changed(ctx, lead_id, "create", row)
    return load_lead(ctx.tx, lead_id)


def edit_lead(ctx: Ctx, lead: dict[str, Any], given: dict[str, Any],
              expected_version: int | None = None) -> dict[str, Any]:
    """Change fields of a lead; type changes reset a status the new type does not allow."""
    check_version(ctx, lead, expected_version)
    values = dict(given)
    custom = values.pop("custom", None) or {}
    job_value = values.pop("job_value", None)
    changes = prepare(ctx.tx, ctx.settings, values)
    _statuses, current = _status_of(ctx, lead)
    if job_value is not None:
        cents = parse_money(job_value, "job value")
        check_job_value_edit(current, cents)
        changes["job_value_cents"] = cents
    if ("first_name" in changes or "last_name" in changes) and "contact_name" not in changes:
        first = changes.get("first_name", lead["first_name"])
        last = changes.get("last_name", lead["last_name"])
        changes["contact_name"] = " ".join(p for p in (first, last) if p)
    merged = {**lead, **changes}
    if not (merged.get("contact_name") or merged.get("company")):
        raise RuleError("a lead needs a contact name or a company")
    if custom:
        changes["custom"] = dump_custom(prepare_custom(ctx.settings, load_custom(lead["custom"]), custom))
    if "type_id" in changes and changes["type_id"] != lead["type_id"]:
        changes.update(_status_for_new_type(ctx, lead, current, changes["type_id"]))
    if "title" in changes and not changes["title"]:
        _fill_title(ctx, merged)
        changes["title"] = merged["title"]
    if "followup_on" in changes or "followup_time" in changes or "followup_note" in changes:
        from leaddesk.store.followups import settle_edit

        settle_edit(lead, changes)
    return _apply(ctx, lead, changes, "edit")


def _status_for_new_type(ctx: Ctx, lead: dict[str, Any], current: StatusInfo,
                         type_id: int | None) -> dict[str, Any]:
    """Changing the type keeps an allowed status; otherwise it resets to the type's first open status."""
    allowed = catalog.allowed_statuses(ctx.tx, type_id)
    if not allowed or current.id in {s.id for s in allowed}:
        return {}
    target = first_of("open", allowed)
    if target is None:
        name = catalog.name_of(ctx.tx, "lead_type", type_id)
        raise RuleError(f"lead type '{name}' allows no open status to reset the lead to")
    changes: dict[str, Any] = {"status_id": target.id}
    if current.closed:
        changes.update(job_value_cents=None, lost_reason_id=None, lost_note="")
    return changes


def set_status(ctx: Ctx, lead: dict[str, Any], status_text: str,
               expected_version: int | None = None, *, reopen: bool = True) -> tuple[dict[str, Any], str]:
    """Pick a status by hand (open statuses only); from a closed status this is a reopen
    (refused with `reopen=False`, as bulk changes do: a reopen is done lead by lead).

    Returns the lead and the action taken: "status", "reopen" or "unchanged".
    """
    check_version(ctx, lead, expected_version)
    all_statuses, current = _status_of(ctx, lead)
    target = resolve_status(status_text, all_statuses)
    if target.id == current.id:
        return lead, "unchanged"
    action = check_pick(current, target)
    if action == "reopen" and not reopen:
        raise RuleError(f"lead {lead['number']} is {current.name}: reopen it first")
    _check_type(ctx, lead, target)
    changes: dict[str, Any] = {"status_id": target.id}
    if action == "reopen":
        changes.update(job_value_cents=None, lost_reason_id=None, lost_note="")
    return _apply(ctx, lead, changes, action), action


def reopen(ctx: Ctx, lead: dict[str, Any], status_text: str | None = None,
           expected_version: int | None = None) -> dict[str, Any]:
    """Reset a lead to an open status (the first allowed one unless named), at any time."""
    check_version(ctx, lead, expected_version)
    all_statuses, current = _status_of(ctx, lead)
    if status_text:
        target = resolve_status(status_text, all_statuses)
    else:
        allowed = catalog.allowed_statuses(ctx.tx, lead["type_id"]) or all_statuses
        target = _required_target([s for s in allowed], "open")
    check_reopen(current, target)
    _check_type(ctx, lead, target)
    changes = {"status_id": target.id, "job_value_cents": None, "lost_reason_id": None, "lost_note": ""}
    return _apply(ctx, lead, changes, "reopen")


def mark_won(ctx: Ctx, lead: dict[str, Any], value: Any,
             expected_version: int | None = None) -> dict[str, Any]:
    """Mark a lead won with its job value (> 0)."""
    check_version(ctx, lead, expected_version)
    all_statuses, current = _status_of(ctx, lead)
    cents = parse_money(value, "job value")
    check_won(current, cents)
    target = _required_target(all_statuses, "won")
    _check_type(ctx, lead, target)
    changes = {"status_id": target.id, "job_value_cents": cents, "lost_reason_id": None, "lost_note": ""}
    return _apply(ctx, lead, changes, "won")


def mark_lost(ctx: Ctx, lead: dict[str, Any], reason: str | None, note: str | None = None,
              expected_version: int | None = None) -> dict[str, Any]:
    """Mark a lead lost/disqualified with a reason from the reasons list (+ optional note)."""
    check_version(ctx, lead, expected_version)
    all_statuses, current = _status_of(ctx, lead)
    check_lost(current, reason)
    assert reason is not None
    if note and "\x00" in note:
        raise RuleError("the lost note contains a NUL character")
    reason_id = catalog.find_id(ctx.tx, "lost_reason", reason, "lost reason")
    target = _required_target(all_statuses, "lost")
    _check_type(ctx, lead, target)
    changes = {"status_id": target.id, "lost_reason_id": reason_id, "lost_note": (note or "").strip(),
               "job_value_cents": None}
    return _apply(ctx, lead, changes, "lost")


def set_followup(ctx: Ctx, lead: dict[str, Any], when: Any, expected_version: int | None = None, *,
                 at: str | None = None, note: str | None = None) -> dict[str, Any]:
    """Set (or clear, with None/"") the follow-up date, time and note (see `followups.set_followup`);
    past dates are accepted."""
    from leaddesk.store import followups

    return followups.set_followup(ctx, lead, when, at=at, note=note, expected_version=expected_version)


def add_activity(ctx: Ctx, lead: dict[str, Any], kind: str, body: str, at: str | None = None, *,
                 message_id: str | None = None) -> int:
    """Log a note, call, email or meeting on a lead's timeline (`message_id`: a captured email's, which
    makes it inbound; the derived hooks already see it)."""
    if kind not in ACTIVITY_KINDS:
        raise RuleError(f"activity kind '{kind}' must be one of {', '.join(ACTIVITY_KINDS)}")
    text = (body or "").strip()
    if not text:
        raise RuleError(f"a {kind} needs some text")
    if "\x00" in text:
        raise RuleError(f"the {kind} contains a NUL character")
    activity = ctx.tx.insert(
        "INSERT INTO activity (lead_id, kind, body, at, user_id, created_at, message_id)"
        " VALUES (:l, :k, :b, :at, :u, :c, :m)",
        {"l": lead["id"], "k": kind, "b": text, "at": at or ctx.at, "u": ctx.user_id, "c": ctx.at, "m": message_id},
    )
    summary = f"{kind}: {text}"
    ctx.record("lead", lead["id"], "note" if kind == "note" else "log", f"activity:{activity}", None,
               summary if len(summary) <= 500 else summary[:499] + "…")
    ctx.tx.execute("UPDATE lead SET updated_at = :at WHERE id = :i", {"at": ctx.at, "i": lead["id"]})
    derived.lead_changed(ctx, lead["id"], f"activity:{kind}")
    return activity


def copy_lead(ctx: Ctx, lead: dict[str, Any]) -> dict[str, Any]:
    """A new lead with the main fields of this one, in the first open status."""
    row = {col: lead[col] for col in COPY_COLUMNS}
    row["search_text"] = search_text(row)
    row["status_id"] = _initial_status(ctx, row, None)
    row["number"] = next_number(ctx)
    row["created_at"] = row["updated_at"] = ctx.at
    new_id = ctx.tx.insert(
        f"INSERT INTO lead ({', '.join(row)}) VALUES ({', '.join(':' + c for c in row)})", row)
    ctx.record("lead", new_id, "copy", "number", None, f"{row['number']} (copy of {lead['number']})")
    derived.lead_changed(ctx, new_id, "create", row)
    return load_lead(ctx.tx, new_id)


def delete_lead(ctx: Ctx, lead: dict[str, Any], force: bool = False) -> None:
    """Delete a lead; one with deals or activities only when forced (closing it as lost is advised)."""
    deals = ctx.tx.scalar("SELECT count(*) FROM deal WHERE lead_id = :i", {"i": lead["id"]})
    activities = ctx.tx.scalar("SELECT count(*) FROM activity WHERE lead_id = :i", {"i": lead["id"]})
    if (deals or activities) and not force:
        raise RuleError(
            f"lead {lead['number']} has {deals} deal(s) and {activities} activit{'y' if activities == 1 else 'ies'}:"
            " close it as lost instead, or delete with --force")
    from leaddesk.store.merge import forget_kept_merges  # only when deleting: keeps the quick path lean

    ctx.tx.execute("UPDATE deal SET lead_id = NULL WHERE lead_id = :i", {"i": lead["id"]})
    ctx.tx.execute("DELETE FROM activity WHERE lead_id = :i", {"i": lead["id"]})
    forget_kept_merges(ctx, lead)  # the leads merged into this one go with it
    ctx.tx.execute("DELETE FROM lead WHERE id = :i", {"i": lead["id"]})
    ctx.record("lead", lead["id"], "delete", "number", lead["number"], None)


def undo_last(ctx: Ctx, lead: dict[str, Any]) -> dict[str, Any]:
    """Revert the acting user's last change to a lead (field edits, status, notes), recorded as a change."""
    rows = ctx.tx.all(
        "SELECT id, change_id, entity, entity_id, action, field, old, new FROM history"
        " WHERE user_id = :u AND NOT undone AND action <> 'undo' AND entity = 'lead' AND entity_id = :l"
        " ORDER BY id DESC",
        {"u": ctx.user_id, "l": lead["id"]},
    )
    if not rows:
        raise RuleError(f"you have no change to lead {lead['number']} to undo")
    change = rows[0]["change_id"]
    action = rows[0]["action"]
    if action in ("create", "copy"):
        raise RuleError(f"your last change to lead {lead['number']} created it; delete the lead instead")
    if action in ("qualify", "convert", "customer"):
        raise RuleError(f"your last change to lead {lead['number']} was a {action}: reopen the lead instead")
    if action not in UNDOABLE:
        raise RuleError(f"your last change to lead {lead['number']} ({action}) cannot be undone")
    part = [r for r in rows if r["change_id"] == change]
    restore: dict[str, Any] = {}
    for row in part:
        if row["field"].startswith("activity:"):
            activity = int(row["field"].removeprefix("activity:"))
            ctx.tx.execute("DELETE FROM activity WHERE id = :i AND lead_id = :l", {"i": activity, "l": lead["id"]})
            ctx.record("lead", lead["id"], "undo", row["field"], row["new"], None)
            continue
        if as_text(lead.get(row["field"])) != row["new"]:
            later = ctx.tx.one(
                "SELECT u.login, h.at FROM history h LEFT JOIN \"user\" u ON u.id = h.user_id"
                " WHERE h.entity = 'lead' AND h.entity_id = :l AND h.field = :f ORDER BY h.id DESC LIMIT 1",
                {"l": lead["id"], "f": row["field"]},
            )
            who = f" by {later['login']} at {later['at'].replace('T', ' ')}" if later else ""
            label = COLUMN_TO_FIELD[row["field"]].name if row["field"] in COLUMN_TO_FIELD else row["field"]
            raise Conflict(f"cannot undo: {label.removesuffix('_id')} of lead {lead['number']} was changed since{who}")
        restore[row["field"]] = _typed(row["field"], row["old"])
    ctx.tx.execute("UPDATE history SET undone = :t WHERE change_id = :c", {"t": True, "c": change})
    if not restore:  # an activity undone: what derives from the timeline (score, first contact) follows
        derived.lead_changed(ctx, lead["id"], "undo")
    return _apply(ctx, lead, restore, "undo") if restore else load_lead(ctx.tx, lead["id"])


INT_COLUMNS = {"item_id", "source_id", "contact_method_id", "type_id", "status_id", "priority", "owner_id",
               "partner_id", "customer_id", "expected_revenue_cents", "probability", "score",
               "job_value_cents", "lost_reason_id"}


def _typed(column: str, text: str | None) -> Any:
    if text is None:
        return None
    return int(text) if column in INT_COLUMNS else text
