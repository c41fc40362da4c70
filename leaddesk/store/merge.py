"""Merging duplicate leads into one lead, and undoing a merge.

`merge_leads(ctx, keep, others, take)` merges the OTHER leads into KEEP in the caller's transaction:

- fields: KEEP's values stay; a field empty on KEEP is filled from the first OTHER (in the order
  given) that has it; `take={"phone": "12"}` takes a field from lead #12. A field moves with its
  derived columns (phone with phone_e164, name with first and last name); "status" moves with its
  job value and lost reason, and is never filled (KEEP's status stays unless taken). Tags are the
  union of all the leads' tags; custom fields are merged key by key like fields.
- activities, history rows, deals and earlier merges kept by an OTHER move to KEEP.
- the OTHER leads leave the lead table; a `lead_merge` row keeps a JSON snapshot of each (its row and
  the ids of everything that moved) and KEEP's old values, so `show 12` can say where #12 went and
  `undo_merge` can put everything back with the same ids and numbers.
- a note on KEEP's timeline lists the OTHER leads' values that were not kept, so nothing is out of sight.

Every change is a history row under the merge's one change_id (action "merge", "unmerge" for an undo).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from leaddesk.settings import Settings
from leaddesk.store import catalog, queries
from leaddesk.store.context import Ctx, as_text
from leaddesk.store.db import Tx
from leaddesk.store.derived import lead_changed
from leaddesk.store.errors import Conflict, NotFound, RuleError
from leaddesk.store.fields import FIELDS, dump_custom, load_custom
from leaddesk.store.leads import _apply, check_version
from leaddesk.store.refs import load_lead, merged_into
from leaddesk.store.rules import PRIORITY_NAMES, fold_name, format_money, parse_tags
from leaddesk.textsafe import safe_line

CHUNK = 500


@dataclass(frozen=True)
class Part:
    """What `--take` names and a merge moves as one: a field with the columns that go with it."""

    name: str
    label: str
    columns: tuple[str, ...]
    kind: str


def _parts() -> list[Part]:
    together = {"name": ("contact_name", "first_name", "last_name"), "email": ("email", "email_lower"),
                "phone": ("phone", "phone_e164"), "followup": ("followup_on", "followup_time", "followup_note")}
    parts = []
    for spec in FIELDS.values():
        if spec.name in ("first_name", "last_name", "job_value", "followup_time", "followup_note"):
            continue
        parts.append(Part(spec.name, spec.label, together.get(spec.name, (spec.column,)), spec.kind))
        if spec.name == "type":
            parts.append(Part("status", "Status", ("status_id", "job_value_cents", "lost_reason_id", "lost_note"),
                              "status"))
    return parts


PARTS = _parts()
PART_BY_NAME = {p.name: p for p in PARTS}
ALIASES = {"first_name": "name", "last_name": "name", "contact_name": "name", "job_value": "status",
           "lost_reason": "status", "followup_on": "followup", "followup_time": "followup",
           "followup_note": "followup"}
COLUMN_PART = {column: part for part in PARTS for column in part.columns}
REF_COLUMNS = {"status_id": "status", "source_id": "source", "type_id": "lead_type", "item_id": "item",
               "contact_method_id": "contact_method", "lost_reason_id": "lost_reason", "partner_id": "partner",
               "owner_id": "user", "customer_id": "customer", "import_batch_id": "import_batch"}


def _empty(part: Part, value: Any) -> bool:
    """No value to keep: none, blank, or an unanswered BANT question (priority and score always have one)."""
    return value is None or value == "" or (part.kind == "bant" and value == "unknown")


def display(part: Part, detail: dict[str, Any]) -> str | None:
    """A field of a lead (from `queries.lead_detail`) as a person reads it; None when empty."""
    column = part.columns[0]
    value: Any
    if part.kind.startswith("ref:") or part.kind in ("user", "customer"):
        value = detail.get(part.name)
    elif part.kind == "money":
        value = format_money(detail[column])
    elif part.kind == "status":
        value = detail["status"]
        if detail["job_value_cents"] is not None:
            value += f" ({format_money(detail['job_value_cents'])})"
        if detail["lost_reason"]:
            value += f" — {detail['lost_reason']}" + (f": {detail['lost_note']}" if detail["lost_note"] else "")
    elif part.kind == "priority":
        value = PRIORITY_NAMES.get(detail[column], str(detail[column]))
    elif part.kind == "tags":
        value = detail[column].replace(",", ", ")
    else:
        value = detail[column]
    if value is None or value == "" or (part.kind == "bant" and value == "unknown"):
        return None
    return str(value)


@dataclass
class Plan:
    """What a merge would do: KEEP's column changes and, per field, every lead's value and the result."""

    keep: dict[str, Any]
    others: list[dict[str, Any]]
    changes: dict[str, Any] = field(default_factory=dict)
    fields: list[dict[str, Any]] = field(default_factory=list)
    not_kept: dict[int, list[str]] = field(default_factory=dict)  # lead id -> "phone (212) 555-0199", ...

    def public(self, tx: Tx) -> dict[str, Any]:
        """The plan as plain data (the side-by-side view of a merge screen, `merge --dry-run`)."""
        leads = [self.keep, *self.others]
        return {
            "keep": self.keep["number"], "others": [o["number"] for o in self.others],
            "leads": [{"number": lead["number"], "name": lead["contact_name"], "company": lead["company"],
                       "status": catalog.name_of(tx, "status", lead["status_id"])} for lead in leads],
            "fields": self.fields,
            "moves": {what: sum(_count(tx, what, o["id"]) for o in self.others)
                      for what in ("activities", "deals", "history")},
        }


def _count(tx: Tx, what: str, lead_id: int) -> int:
    sql = {"activities": "SELECT count(*) FROM activity WHERE lead_id = :i",
           "deals": "SELECT count(*) FROM deal WHERE lead_id = :i",
           "history": "SELECT count(*) FROM history WHERE entity = 'lead' AND entity_id = :i"}[what]
    return int(tx.scalar(sql, {"i": lead_id}) or 0)


def resolve_take(settings: Settings, take: dict[str, str], numbers: list[int]) -> dict[str, int]:
    """`{"phone": "#12"}` -> `{"phone": 12}`: a field (or custom field) and the number of a lead being merged."""
    chosen: dict[str, int] = {}
    known = {fold_name(p.name): p.name for p in PARTS}
    known.update({fold_name(a): target for a, target in ALIASES.items()})
    known.update({fold_name(name): name for name in settings.custom_fields})
    for field_text, ref in take.items():
        name = known.get(fold_name(field_text))
        if name is None:
            raise RuleError(f"--take: unknown field '{field_text}' (fields: {', '.join(p.name for p in PARTS)}"
                            f"{', ' if settings.custom_fields else ''}{', '.join(settings.custom_fields)})")
        text = str(ref).strip().lstrip("#")
        if not (text.isascii() and text.isdigit()) or int(text) not in numbers:
            listed = ", ".join(f"#{n}" for n in numbers)
            raise RuleError(f"--take {field_text}={ref}: name one of the leads being merged by number ({listed})")
        if name in chosen and chosen[name] != int(text):
            raise RuleError(f"--take: {name} is taken from two leads (#{chosen[name]} and #{text})")
        chosen[name] = int(text)
    return chosen


def plan_merge(tx: Tx, settings: Settings, keep: dict[str, Any], others: list[dict[str, Any]],
               take: dict[str, str] | None = None) -> Plan:
    """Work out a merge without writing anything; refuse a merge that cannot be done."""
    check_leads(keep, others)
    leads = [keep, *others]
    by_number = {lead["number"]: lead for lead in leads}
    chosen = resolve_take(settings, take or {}, list(by_number))
    details = {lead["id"]: queries.lead_detail(tx, lead["id"]) for lead in leads}
    plan = Plan(keep, others)
    for part in PARTS:
        source, how = keep, "kept"
        if part.name in chosen:
            source, how = by_number[chosen[part.name]], "taken"
        elif part.name == "tags":
            union = parse_tags(",".join(lead["tags"] for lead in leads if lead["tags"]))
            if union != keep["tags"]:
                plan.changes["tags"] = union
                how = "union"
        elif part.name != "status" and _empty(part, keep[part.columns[0]]):
            source = next((o for o in others if not _empty(part, o[part.columns[0]])), keep)
            how = "filled" if source is not keep else "kept"
        if source is not keep:
            plan.changes.update({column: source[column] for column in part.columns})
        values = [display(part, details[lead["id"]]) for lead in leads]
        result = (display(part, {**details[keep["id"]], "tags": plan.changes["tags"]}) if how == "union"
                  else display(part, details[source["id"]]))
        if any(v is not None for v in values):
            plan.fields.append({"field": part.name, "label": part.label, "values": values, "result": result,
                                "from": source["number"] if how in ("taken", "filled") else None, "how": how})
    _check_type_and_status(tx, plan, chosen)
    _plan_custom(settings, plan, chosen, by_number)
    for position, other in enumerate(others, start=1):
        plan.not_kept[other["id"]] = _not_kept(plan, other, position)
    plan.changes = {k: v for k, v in plan.changes.items() if as_text(keep.get(k)) != as_text(v)}
    return plan


def _not_kept(plan: Plan, other: dict[str, Any], position: int) -> list[str]:
    """The values of `other` (at `position` among the leads) that the merged lead does not have, as
    "label value"; a phone or email counts as kept when it is the same number or address written differently."""
    by_number = {lead["number"]: lead for lead in (plan.keep, *plan.others)}
    lost = []
    for entry in plan.fields:
        value = entry["values"][position]
        if value is None or value == entry["result"]:
            continue
        part = PART_BY_NAME.get(entry["field"])
        if part is not None and part.name in ("phone", "email"):
            derived = part.columns[1]
            if other[derived] and other[derived] == by_number[entry["from"] or plan.keep["number"]][derived]:
                continue
        if part is not None and part.name == "title" and value in (other["company"], other["contact_name"]):
            continue  # a title made from the company or the name
        if entry["field"] == "tags":
            have = {t.casefold() for t in (entry["result"] or "").split(", ")}
            value = ", ".join(t for t in value.split(", ") if t.casefold() not in have)
            if not value:
                continue
        lost.append(f"{entry['label'].lower()} {value}")
    return lost


def _check_type_and_status(tx: Tx, plan: Plan, chosen: dict[str, int]) -> None:
    """The merged lead's status must be one its type allows: a filled-in type gives way, a taken one refuses."""
    keep = plan.keep
    type_id = plan.changes.get("type_id", keep["type_id"])
    status_id = plan.changes.get("status_id", keep["status_id"])
    allowed = catalog.allowed_statuses(tx, type_id)
    if not allowed or status_id in {s.id for s in allowed}:
        return
    if "type" not in chosen and "type_id" in plan.changes:
        del plan.changes["type_id"]
        for entry in plan.fields:
            if entry["field"] == "type":
                entry.update(result=entry["values"][0], how="kept", **{"from": None})
        return
    raise RuleError(f"lead type '{catalog.name_of(tx, 'lead_type', type_id)}' does not allow status"
                    f" '{catalog.name_of(tx, 'status', status_id)}': take the type and the status from one lead")


def _plan_custom(settings: Settings, plan: Plan, chosen: dict[str, int],
                 by_number: dict[int, dict[str, Any]]) -> None:
    leads = [plan.keep, *plan.others]
    customs = [load_custom(lead["custom"]) for lead in leads]
    merged = dict(customs[0])
    names = list(dict.fromkeys(name for custom in customs for name in custom))
    for name in names:
        how, source = "kept", plan.keep
        if name in chosen:
            how, source = "taken", by_number[chosen[name]]
            value = load_custom(source["custom"]).get(name)
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = value
        elif name not in merged:
            source = next(lead for lead, custom in zip(leads, customs, strict=True) if name in custom)
            merged[name] = load_custom(source["custom"])[name]
            how = "filled"
        spec = settings.custom_fields.get(name)
        values = [None if custom.get(name) is None else str(custom[name]) for custom in customs]
        result = None if merged.get(name) is None else str(merged[name])
        plan.fields.append({"field": name, "label": spec.title if spec else name, "values": values,
                            "result": result, "from": source["number"] if how != "kept" else None, "how": how})
    if merged != customs[0]:
        plan.changes["custom"] = dump_custom(merged)


def check_leads(keep: dict[str, Any], others: list[dict[str, Any]]) -> None:
    """Refuse merging nothing, a lead into itself, or a lead twice."""
    if not others:
        raise RuleError("name the leads to merge into the kept one: leaddesk merge KEEP OTHER...")
    seen: set[int] = set()
    for other in others:
        if other["id"] == keep["id"]:
            raise RuleError(f"cannot merge lead #{keep['number']} into itself")
        if other["id"] in seen:
            raise RuleError(f"lead #{other['number']} is named twice")
        seen.add(other["id"])


def _whole_row(tx: Tx, lead_id: int) -> dict[str, Any]:
    """Every column of a lead, including any a later migration adds (what a snapshot keeps)."""
    row = tx.one("SELECT * FROM lead WHERE id = :i", {"i": lead_id})
    assert row is not None
    return dict(row)


def _ids(tx: Tx, sql: str, lead_id: int) -> list[int]:
    return [int(r[0]) for r in tx.all(sql, {"i": lead_id})]


def _in_chunks(tx: Tx, sql: str, ids: list[int], params: dict[str, Any]) -> int:
    """Run `sql` (with `{ids}` where the IN list goes) over ids in chunks; the rows touched."""
    touched = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        marks = ", ".join(f":id{n}" for n in range(len(chunk)))
        touched += tx.execute(sql.format(ids=marks), {**params, **{f"id{n}": v for n, v in enumerate(chunk)}})
    return touched


def merge_leads(ctx: Ctx, keep: dict[str, Any], others: list[dict[str, Any]],
                take: dict[str, str] | None = None, expected_version: int | None = None) -> dict[str, Any]:
    """Merge `others` into `keep` (see the module's docstring); returns the merge's id and what moved."""
    tx = ctx.tx
    check_version(ctx, keep, expected_version)
    plan = plan_merge(tx, ctx.settings, keep, others, take)
    before = {column: keep[column] for column in plan.changes}
    merged_snapshots: list[dict[str, Any]] = []
    for other in others:
        merged_snapshots.append({
            "row": _whole_row(tx, other["id"]),
            "activities": _ids(tx, "SELECT id FROM activity WHERE lead_id = :i ORDER BY id", other["id"]),
            "history": _ids(tx, "SELECT id FROM history WHERE entity = 'lead' AND entity_id = :i ORDER BY id",
                            other["id"]),
            "deals": _ids(tx, "SELECT id FROM deal WHERE lead_id = :i ORDER BY id", other["id"]),
            "merges": _ids(tx, "SELECT id FROM lead_merge WHERE keep_id = :i ORDER BY id", other["id"]),
        })
    kept = _apply(ctx, keep, plan.changes, "merge")
    ids = {"i": keep["id"], "o": 0}
    for other, snap in zip(others, merged_snapshots, strict=True):
        ids["o"] = other["id"]
        tx.execute("UPDATE activity SET lead_id = :i WHERE lead_id = :o", ids)
        tx.execute("UPDATE deal SET lead_id = :i WHERE lead_id = :o", ids)
        tx.execute("UPDATE history SET entity_id = :i WHERE entity = 'lead' AND entity_id = :o", ids)
        tx.execute("UPDATE lead_merge SET keep_id = :i WHERE keep_id = :o", ids)
        tx.execute("DELETE FROM lead WHERE id = :o", ids)
        for activity in snap["activities"]:
            ctx.record("activity", activity, "merge", "lead_id", other["id"], keep["id"])
        for deal in snap["deals"]:
            ctx.record("deal", deal, "merge", "lead_id", other["id"], keep["id"])
        for earlier in snap["merges"]:
            ctx.record("lead_merge", earlier, "merge", "keep_id", other["id"], keep["id"])
        ctx.record("lead", other["id"], "merge", "merged_into", None, keep["number"])
        ctx.record("lead", keep["id"], "merge", "merged", None,
                   f"#{other['number']} (moved: {len(snap['activities'])} activity rows, {len(snap['deals'])} deal"
                   f" rows, {len(snap['history'])} history rows)")
    note = _note(ctx, keep, others, plan)
    tx.execute("UPDATE lead SET updated_at = :at WHERE id = :i", {"at": ctx.at, "i": keep["id"]})
    lead_changed(ctx, keep["id"], "merge")  # again: the kept lead has the merged leads' activities now
    counts = {what: sum(len(s[what]) for s in merged_snapshots) for what in ("activities", "deals", "history")}
    snapshot = {"keep": {"id": keep["id"], "number": keep["number"], "before": before,
                         "after": {column: kept[column] for column in before}},
                "merged": merged_snapshots, "note": note, "counts": counts}
    merge_id = tx.insert(
        "INSERT INTO lead_merge (keep_id, merged_numbers, snapshot, change_id, user_id, at)"
        " VALUES (:k, :n, :s, :c, :u, :at)",
        {"k": keep["id"], "n": ",".join(str(o["number"]) for o in others),
         "s": json.dumps(snapshot, ensure_ascii=False, default=str), "c": ctx.change_id, "u": ctx.user_id,
         "at": ctx.at})
    return {"merge_id": merge_id, "keep": keep["number"], "merged": [o["number"] for o in others],
            "moved": counts, "changed": [e["field"] for e in plan.fields if e["how"] != "kept"
                                         and e["result"] != e["values"][0]]}


def _note(ctx: Ctx, keep: dict[str, Any], others: list[dict[str, Any]], plan: Plan) -> int:
    """A note on KEEP's timeline: which leads were merged in, and their values that were not kept."""
    lines = []
    for other in others:
        who = other["contact_name"] or other["company"] or other["title"]
        lost = plan.not_kept.get(other["id"]) or []
        lines.append(f"merged lead #{other['number']} {who} into this lead;"
                     + (f" its values not kept: {'; '.join(lost)}" if lost else " every value it had is kept"))
    body = "\n".join(lines)
    note = ctx.tx.insert(
        "INSERT INTO activity (lead_id, kind, body, at, user_id, created_at) VALUES (:l, 'note', :b, :at, :u, :at)",
        {"l": keep["id"], "b": body, "at": ctx.at, "u": ctx.user_id})
    summary = f"note: {body}"
    ctx.record("lead", keep["id"], "merge", f"activity:{note}", None,
               summary if len(summary) <= 500 else summary[:499] + "…")
    return note


# -- undo ------------------------------------------------------------------------------------------
def _merge_row(ctx: Ctx, merge_id: int | None) -> dict[str, Any]:
    if merge_id is None:
        row = ctx.tx.one("SELECT * FROM lead_merge WHERE user_id = :u AND NOT undone ORDER BY id DESC LIMIT 1",
                         {"u": ctx.user_id})
        if row is None:
            raise RuleError("you have no merge to undo (leaddesk merge --list shows every merge)")
        return dict(row)
    row = ctx.tx.one("SELECT * FROM lead_merge WHERE id = :i", {"i": merge_id})
    if row is None:
        raise NotFound(f"there is no merge {merge_id}")
    if row["undone"]:
        raise RuleError(f"merge {merge_id} was already undone")
    return dict(row)


def _changed_since(ctx: Ctx, merge: dict[str, Any], keep: dict[str, Any], column: str) -> str:
    later = ctx.tx.one(
        "SELECT u.login, h.at FROM history h LEFT JOIN \"user\" u ON u.id = h.user_id WHERE h.entity = 'lead'"
        " AND h.entity_id = :l AND h.field = :f AND h.change_id <> :c ORDER BY h.id DESC LIMIT 1",
        {"l": keep["id"], "f": column, "c": merge["change_id"]})
    who = f" by {later['login']} at {later['at'].replace('T', ' ')}" if later else ""
    part = COLUMN_PART.get(column)
    label = part.name if part else ("custom fields" if column == "custom" else column)
    return (f"cannot undo merge {merge['id']}: the {label} of lead #{keep['number']} was changed since{who};"
            " change it back first, or fix the leads by hand")


def _check_undo(ctx: Ctx, merge: dict[str, Any], snapshot: dict[str, Any]) -> dict[str, Any]:
    """KEEP as it is now, if the merge can be undone safely; a Conflict saying why not otherwise."""
    tx = ctx.tx
    info = snapshot["keep"]
    if tx.scalar("SELECT id FROM lead WHERE id = :i", {"i": info["id"]}) is None:
        later = merged_into(tx, info["number"])
        if later is not None:
            raise Conflict(f"cannot undo merge {merge['id']}: lead #{info['number']} was merged into #{later[1]}"
                           f" since (merge {later[0]}); undo that merge first")
        raise Conflict(f"cannot undo merge {merge['id']}: lead #{info['number']} no longer exists")
    keep = load_lead(tx, info["id"], lock=True)
    current = _whole_row(tx, info["id"])
    for column, after in info["after"].items():
        if as_text(current.get(column)) != as_text(after):
            raise Conflict(_changed_since(ctx, merge, keep, column))
    for snap in snapshot["merged"]:
        row = snap["row"]
        taken = tx.one("SELECT number FROM lead WHERE id = :i OR number = :n", {"i": row["id"], "n": row["number"]})
        if taken is not None:
            raise Conflict(f"cannot undo merge {merge['id']}: lead #{row['number']} exists again")
        for column, table in REF_COLUMNS.items():
            if row.get(column) is not None and tx.scalar(
                    f"SELECT id FROM \"{table}\" WHERE id = :i", {"i": row[column]}) is None:
                what = COLUMN_PART[column].name if column in COLUMN_PART else table.replace("_", " ")
                raise Conflict(f"cannot undo merge {merge['id']}: the {what} lead #{row['number']} had"
                               f" (id {row[column]}) was removed since")
    return keep


def undo_merge(ctx: Ctx, merge_id: int | None = None) -> dict[str, Any]:
    """Put the merged leads back (same ids and numbers, their activities, history, deals) and KEEP's old
    values; whatever was added to KEEP since stays on KEEP. Refused (Conflict) when KEEP itself was merged
    away since, or a field the merge set on KEEP has been changed since."""
    tx = ctx.tx
    merge = _merge_row(ctx, merge_id)
    snapshot = json.loads(merge["snapshot"])
    keep = _check_undo(ctx, merge, snapshot)
    back = {"activities": 0, "deals": 0, "history": 0}
    for snap in snapshot["merged"]:
        row = snap["row"]
        columns = list(row)
        tx.execute(f"INSERT INTO lead ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})", row)
        params = {"k": keep["id"], "o": row["id"]}
        back["activities"] += _in_chunks(
            tx, "UPDATE activity SET lead_id = :o WHERE lead_id = :k AND id IN ({ids})", snap["activities"], params)
        back["deals"] += _in_chunks(
            tx, "UPDATE deal SET lead_id = :o WHERE lead_id = :k AND id IN ({ids})", snap["deals"], params)
        back["history"] += _in_chunks(
            tx, "UPDATE history SET entity_id = :o WHERE entity = 'lead' AND entity_id = :k AND id IN ({ids})",
            snap["history"], params)
        _in_chunks(tx, "UPDATE lead_merge SET keep_id = :o WHERE keep_id = :k AND id IN ({ids})", snap["merges"],
                   params)
        for activity in snap["activities"]:
            ctx.record("activity", activity, "unmerge", "lead_id", keep["id"], row["id"])
        for deal in snap["deals"]:
            ctx.record("deal", deal, "unmerge", "lead_id", keep["id"], row["id"])
        ctx.record("lead", row["id"], "unmerge", "merged_into", keep["number"], None)
        ctx.record("lead", keep["id"], "unmerge", "merged", f"#{row['number']}", None)
    if tx.execute("DELETE FROM activity WHERE id = :i AND lead_id = :k", {"i": snapshot["note"], "k": keep["id"]}):
        ctx.record("lead", keep["id"], "unmerge", f"activity:{snapshot['note']}", "note", None)
    _apply(ctx, keep, snapshot["keep"]["before"], "unmerge")
    tx.execute("UPDATE history SET undone = :t WHERE change_id = :c", {"t": True, "c": merge["change_id"]})
    tx.execute("UPDATE lead_merge SET undone = :t WHERE id = :i", {"t": True, "i": merge["id"]})
    expected = {what: sum(len(s[what]) for s in snapshot["merged"]) for what in back}
    return {"merge_id": merge["id"], "keep": keep["number"],
            "restored": [s["row"]["number"] for s in snapshot["merged"]], "moved_back": back,
            "gone": {what: expected[what] - back[what] for what in back if expected[what] != back[what]}}


def forget_kept_merges(ctx: Ctx, lead: dict[str, Any]) -> list[int]:
    """Before a lead is deleted: drop the merge records it keeps (lead_merge.keep_id references it, so the
    DELETE would fail otherwise); the leads merged into it go with it. Returns the merge ids dropped."""
    dropped = [int(r[0]) for r in ctx.tx.all("SELECT id FROM lead_merge WHERE keep_id = :i ORDER BY id",
                                             {"i": lead["id"]})]
    for merge_id in dropped:
        ctx.record("lead_merge", merge_id, "delete", "keep_id", lead["id"], None)
    ctx.tx.execute("DELETE FROM lead_merge WHERE keep_id = :i", {"i": lead["id"]})
    return dropped


def list_merges(tx: Tx, limit: int | None = None) -> list[dict[str, Any]]:
    """Merges, newest first: id, when, who, the kept lead's number, the merged numbers, undone, what moved."""
    rows = tx.all(
        "SELECT m.id, m.at, u.login AS user, m.merged_numbers, m.undone, m.snapshot FROM lead_merge m"
        " LEFT JOIN \"user\" u ON u.id = m.user_id ORDER BY m.id DESC" + (" LIMIT :n" if limit else ""),
        {"n": limit})
    merges = []
    for row in rows:
        snapshot = json.loads(row["snapshot"] or "{}")
        merges.append({"id": row["id"], "at": row["at"], "user": row["user"],
                       "keep": snapshot.get("keep", {}).get("number"),
                       "merged": [int(n) for n in row["merged_numbers"].split(",") if n],
                       "undone": bool(row["undone"]), "moved": snapshot.get("counts", {})})
    return merges


def describe_lead(lead: dict[str, Any]) -> str:
    """`#12 Ann Lee (Acme)` for messages."""
    who = safe_line(lead["contact_name"] or lead["company"] or lead["title"])
    company = f" ({safe_line(lead['company'])})" if lead["company"] and lead["contact_name"] else ""
    return f"#{lead['number']} {who}{company}"
