"""Nurture sequences (issue 6): a named list of follow-up steps from the settings, running on a lead.

A running sequence owns the lead's follow-up: starting it sets the follow-up to today + the first step's
`after_days` (with the step's note); each time a rep marks that follow-up done (`followup_done`, called by the
follow-ups code) the next step is scheduled the same way, and after the last one the sequence is done.

Rules (one place, here):
- One running sequence per lead. Starting another by hand is refused unless `replace` is given; entering a
  status that starts a different sequence replaces the running one (the status change says what is wanted).
- Sequences start by hand (`start`) on an open lead, or when an existing lead enters a status listed in a
  sequence's `start_on_status` (`lead_changed`, from `derived.lead_changed`). A lead created or imported in
  such a status does not start one: creation is not a move, and an import would schedule thousands at once.
- A running sequence stops by hand (`stop`) or when its lead becomes qualified, won or lost.
- Every start, step, stop and finish writes a history row on the lead (action "sequence", field "sequence:ID",
  ID the lead_sequence row's; history shows the field as "sequence", like "activity:ID");
  the follow-up columns it sets are recorded with action "sequence" too. One change bumps the lead's version
  once: when the change that calls us already bumped it (a status change that starts a sequence, a follow-up
  marked done), our writes ride along in it (`_write_lead`), so callers holding the lead they just wrote keep
  a valid version.
- Templates are filled literally (`fill`): a placeholder's value is never read as a placeholder, markup or
  format string.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from leaddesk import clock
from leaddesk.settings import PLACEHOLDERS, NurtureSequence, Settings
from leaddesk.store import catalog
from leaddesk.store.context import Ctx, as_text
from leaddesk.store.db import Tx
from leaddesk.store.errors import RuleError
from leaddesk.store.refs import load_lead
from leaddesk.store.rules import fold_name, resolve_name

STATES = ("running", "done", "stopped")
ROW_COLUMNS = "id, lead_id, sequence, step, state, next_at, started_at, updated_at, user_id"


# -- definitions ---------------------------------------------------------------------------------
def find(settings: Settings, text: str) -> NurtureSequence:
    """The sequence a user named (exactly or by a unique prefix, ignoring case)."""
    if not settings.sequences:
        raise RuleError("no sequences are defined: add [sequences.NAME] tables to the settings file"
                        " (`leaddesk config path` shows where it is)")
    return settings.sequences[resolve_name(text, list(settings.sequences), "sequence")]


def starting(settings: Settings, status_name: str) -> NurtureSequence | None:
    """The sequence that entering this status starts, if any."""
    folded = fold_name(status_name)
    for sequence in settings.sequences.values():
        if any(fold_name(name) == folded for name in sequence.start_on_status):
            return sequence
    return None


def today(settings: Settings) -> date:
    """Today where the desk is (the follow-ups' time zone)."""
    return clock.local_now(settings.timezone).date()


# -- templates -----------------------------------------------------------------------------------
def fill(template: str, values: dict[str, str]) -> str:
    """`template` with each {placeholder} replaced by its value, in one pass: values are inserted as they are
    (never read again as placeholders, markup or escapes); "{{" and "}}" give braces; an unknown {name} stays."""
    import re

    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1)
        return values.get(name, "") if name in PLACEHOLDERS else token

    return re.sub(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}", one, template)


def placeholder_values(tx: Tx, lead: dict[str, Any], login: str) -> dict[str, str]:
    """What each placeholder stands for on this lead, for the acting user `login`. {first_name} falls back to
    the contact name's first word (leads often have only a contact name), {last_name} to the rest of it."""
    contact = (lead.get("contact_name") or "").split()
    first = lead.get("first_name") or (contact[0] if contact else "")
    last = lead.get("last_name") or (" ".join(contact[1:]) if not lead.get("first_name") else "")
    owner = tx.one('SELECT login, name FROM "user" WHERE id = :i', {"i": lead.get("owner_id")}) \
        if lead.get("owner_id") is not None else None
    me = tx.one('SELECT login, name FROM "user" WHERE login = :l', {"l": login})
    return {
        "first_name": first, "last_name": last, "name": lead.get("contact_name") or "",
        "company": lead.get("company") or "", "title": lead.get("title") or "", "email": lead.get("email") or "",
        "phone": lead.get("phone") or "", "city": lead.get("city") or "",
        "owner_name": (owner["name"] or owner["login"]) if owner else "",
        "my_name": (me["name"] or me["login"]) if me else login,
    }


def mailto(to: str, subject: str, body: str) -> str:
    """A mailto: URL (RFC 6068): address, subject and body percent-encoded, line breaks as CRLF."""
    from urllib.parse import quote

    query = []
    if subject:
        query.append("subject=" + quote(subject, safe=""))
    if body:
        lines = body.replace("\r\n", "\n").replace("\r", "\n")
        query.append("body=" + quote(lines.replace("\n", "\r\n"), safe=""))
    return "mailto:" + quote(to, safe="@") + ("?" + "&".join(query) if query else "")


# -- reading -------------------------------------------------------------------------------------
def current(tx: Tx, lead_id: int) -> dict[str, Any] | None:
    """The lead's running sequence row, if any."""
    row = tx.one(f"SELECT {ROW_COLUMNS} FROM lead_sequence WHERE lead_id = :l AND state = 'running'"
                 " ORDER BY id DESC LIMIT 1", {"l": lead_id})
    return dict(row) if row is not None else None


def describe(tx: Tx, settings: Settings, row: dict[str, Any]) -> dict[str, Any]:
    """A lead_sequence row for people: name, state, step k of n, next date, the current step's note."""
    sequence = settings.sequences.get(row["sequence"])
    total = len(sequence.steps) if sequence else None
    index = row["step"] - 1
    step = sequence.steps[index] if sequence and row["state"] == "running" and 0 <= index < len(
        sequence.steps) else None
    who = tx.scalar('SELECT login FROM "user" WHERE id = :i', {"i": row["user_id"]}) \
        if row["user_id"] is not None else None
    return {
        "id": row["id"], "sequence": row["sequence"], "defined": sequence is not None,
        "description": sequence.description if sequence else "", "state": row["state"], "step": row["step"],
        "steps": total, "next_at": row["next_at"], "note": step.note if step else "",
        "has_text": bool(step and step.template.strip()), "started_at": row["started_at"],
        "updated_at": row["updated_at"], "started_by": who,
    }


def lead_status(tx: Tx, settings: Settings, lead: dict[str, Any]) -> dict[str, Any]:
    """A lead's sequences: `current` (the running one, or None), `history` (all, newest first), whether one
    may start (`open`) and the names of the defined sequences (`available`)."""
    rows = [dict(r) for r in tx.all(f"SELECT {ROW_COLUMNS} FROM lead_sequence WHERE lead_id = :l ORDER BY id DESC",
                                    {"l": lead["id"]})]
    described = [describe(tx, settings, r) for r in rows]
    status = catalog.status_by_id(catalog.statuses(tx), lead["status_id"])
    return {
        "number": lead["number"], "name": lead["contact_name"] or lead["company"] or "",
        "status": status.name, "open": status.category == "open",
        "current": next((d for d in described if d["state"] == "running"), None),
        "history": described, "available": list(settings.sequences),
    }


def _step_rows(sequence: NurtureSequence) -> list[dict[str, Any]]:
    return [{"step": i, "after_days": s.after_days, "note": s.note, "subject": s.subject, "template": s.template}
            for i, s in enumerate(sequence.steps, 1)]


def overview(tx: Tx, settings: Settings) -> list[dict[str, Any]]:
    """Every defined sequence with its steps, how many leads run it and what is wrong with it (one line each);
    then the sequences leads still run that the settings no longer define (`defined` false)."""
    running = {r["sequence"]: int(r["n"]) for r in tx.all(
        "SELECT sequence, count(*) AS n FROM lead_sequence WHERE state = 'running' GROUP BY sequence")}
    statuses = {fold_name(s.name): s for s in catalog.statuses(tx)}
    out = []
    for sequence in settings.sequences.values():
        problems = []
        for name in sequence.start_on_status:
            status = statuses.get(fold_name(name))
            if status is None:
                problems.append(f"sequence '{sequence.name}': start_on_status '{name}' is not a status of this desk")
            elif status.category != "open":
                problems.append(f"sequence '{sequence.name}': '{status.name}' is a {status.category} status;"
                                " sequences run only on open leads, so it starts nothing")
        out.append({"name": sequence.name, "defined": True, "description": sequence.description,
                     "start_on_status": list(sequence.start_on_status), "steps": _step_rows(sequence),
                     "running": running.get(sequence.name, 0), "problems": problems})
    for name, count in sorted(running.items()):
        if name not in settings.sequences:
            out.append({"name": name, "defined": False, "description": "", "start_on_status": [], "steps": [],
                        "running": count, "problems": [f"sequence '{name}' runs on {count} lead(s) but is no"
                                                       " longer in the settings: it stops at their next step"]})
    return out


def definition(tx: Tx, settings: Settings, text: str) -> dict[str, Any]:
    """One sequence (see `overview`), named as a user types it."""
    name = find(settings, text).name
    return next(s for s in overview(tx, settings) if s["name"] == name)


def step_text(tx: Tx, settings: Settings, lead: dict[str, Any], login: str, *,
              need_address: bool = False) -> dict[str, Any]:
    """The current step's text to send, filled for this lead: to, subject, body and a mailto: URL (None when
    the lead has no email; refused then with `need_address`)."""
    number = lead["number"]
    row = current(tx, lead["id"])
    if row is None:
        raise RuleError(f"lead {number} runs no sequence")
    sequence = settings.sequences.get(row["sequence"])
    if sequence is None:
        raise RuleError(f"lead {number} runs sequence '{row['sequence']}', which is no longer in the settings")
    index = min(max(row["step"], 1), len(sequence.steps)) - 1
    step = sequence.steps[index]
    if not step.template.strip():
        raise RuleError(f"step {index + 1} of sequence '{sequence.name}' has no text to send, only a note:"
                        f" {step.note}")
    to = lead.get("email") or ""
    if need_address and not to:
        raise RuleError(f"lead {number} has no email address to write to")
    values = placeholder_values(tx, lead, login)
    subject, body = fill(step.subject, values), fill(step.template, values)
    return {"number": number, "sequence": sequence.name, "step": index + 1, "steps": len(sequence.steps),
            "to": to, "subject": subject, "body": body, "mailto": mailto(to, subject, body) if to else None}


# -- writing -------------------------------------------------------------------------------------
def _bumped(ctx: Ctx, lead_id: int) -> bool:
    """Whether this change already bumped the lead's version (it wrote a field row on the lead: every
    `leads._apply` does; activities write `activity:N` rows without a bump)."""
    return ctx.tx.scalar(
        "SELECT count(*) FROM history WHERE change_id = :c AND entity = 'lead' AND entity_id = :l"
        " AND field NOT LIKE 'activity:%'", {"c": ctx.change_id, "l": lead_id}) > 0


def _touch(ctx: Ctx, lead_id: int) -> None:
    """Bump the lead's version once for this change (a stop changes no column but is a change of the lead)."""
    if not _bumped(ctx, lead_id):
        ctx.tx.execute("UPDATE lead SET version = version + 1, updated_at = :at WHERE id = :i",
                       {"at": ctx.at, "i": lead_id})


def _write_lead(ctx: Ctx, lead_id: int, changes: dict[str, Any]) -> None:
    """Set lead columns with action "sequence": through `leads._apply` (history, version, derived hooks), or,
    when this change already bumped the version, riding along in it (same history and hooks, no second bump)."""
    from leaddesk.store import derived, leads

    lead = load_lead(ctx.tx, lead_id)
    if not _bumped(ctx, lead_id):
        leads._apply(ctx, lead, changes, "sequence")
        return
    diff = {k: v for k, v in changes.items() if as_text(lead.get(k)) != as_text(v)}
    if not diff:
        return
    sets = ", ".join(f"{col} = :{col}" for col in diff)
    ctx.tx.execute(f"UPDATE lead SET {sets}, updated_at = :_at WHERE id = :_id",
                   {**diff, "_at": ctx.at, "_id": lead_id})
    for col, value in diff.items():
        ctx.record("lead", lead_id, "sequence", col, lead.get(col), value)
    derived.lead_changed(ctx, lead_id, "sequence", diff)


def _progress(name: str, step: int, total: int | None) -> str:
    return f"{name}: step {step} of {total}" if total else f"{name}: step {step}"


def _schedule(ctx: Ctx, lead_id: int, row: dict[str, Any], sequence: NurtureSequence, index: int) -> None:
    """Make step `index` (0-based) the lead's follow-up and the row's current step."""
    step, total = sequence.steps[index], len(sequence.steps)
    day = (today(ctx.settings) + timedelta(days=step.after_days)).isoformat()
    note = step.note or _progress(sequence.name, index + 1, total)
    _write_lead(ctx, lead_id, {"followup_on": day, "followup_note": note, "followup_time": None})
    ctx.tx.execute("UPDATE lead_sequence SET step = :s, next_at = :d, updated_at = :at WHERE id = :i",
                   {"s": index + 1, "d": day, "at": ctx.at, "i": row["id"]})
    _touch(ctx, lead_id)  # when the follow-up was already that day and note
    old = _progress(row["sequence"], row["step"], total) if row["step"] else None
    new = f"{_progress(sequence.name, index + 1, total)}, due {day}"
    ctx.record("lead", lead_id, "sequence", f"sequence:{row['id']}", old, new)


def _end(ctx: Ctx, lead_id: int, row: dict[str, Any], state: str, why: str = "") -> None:
    """Finish a running sequence as done or stopped (the lead's follow-up stays as it is)."""
    _touch(ctx, lead_id)
    ctx.tx.execute("UPDATE lead_sequence SET state = :s, next_at = NULL, updated_at = :at WHERE id = :i",
                   {"s": state, "at": ctx.at, "i": row["id"]})
    sequence = ctx.settings.sequences.get(row["sequence"])
    old = _progress(row["sequence"], row["step"], len(sequence.steps) if sequence else None)
    new = f"{row['sequence']}: {state}" + (f" ({why})" if why else "")
    ctx.record("lead", lead_id, "sequence", f"sequence:{row['id']}", old, new)


def start(ctx: Ctx, lead: dict[str, Any], sequence: NurtureSequence, *, replace: bool = False) -> None:
    """Start `sequence` on an open lead: its first step becomes the follow-up. A running sequence is refused,
    or stopped first with `replace`."""
    number = lead["number"]
    status = catalog.status_by_id(catalog.statuses(ctx.tx), lead["status_id"])
    if status.category != "open":
        raise RuleError(f"lead {number} is {status.name}: a sequence runs only on an open lead")
    running = current(ctx.tx, lead["id"])
    if running is not None:
        if not replace:
            defined = ctx.settings.sequences.get(running["sequence"])
            where = f"'{running['sequence']}' (step {running['step']}" + (
                f" of {len(defined.steps)})" if defined else ")")
            if running["sequence"] == sequence.name:
                raise RuleError(f"lead {number} already runs sequence {where}")
            raise RuleError(f"lead {number} already runs sequence {where}: stop it first, or replace it")
        _end(ctx, lead["id"], running, "stopped", f"replaced by '{sequence.name}'")
    row_id = ctx.tx.insert(
        "INSERT INTO lead_sequence (lead_id, sequence, step, state, next_at, started_at, updated_at, user_id)"
        " VALUES (:l, :s, 0, 'running', NULL, :at, :at, :u)",
        {"l": lead["id"], "s": sequence.name, "at": ctx.at, "u": ctx.user_id})
    row = {"id": row_id, "sequence": sequence.name, "step": 0}
    _schedule(ctx, lead["id"], row, sequence, 0)


def stop(ctx: Ctx, lead: dict[str, Any], why: str = "") -> None:
    """Stop the lead's running sequence (refused when none runs); its follow-up stays."""
    running = current(ctx.tx, lead["id"])
    if running is None:
        raise RuleError(f"lead {lead['number']} runs no sequence")
    _end(ctx, lead["id"], running, "stopped", why or f"by {ctx.login}")


def followup_done(ctx: Ctx, lead: dict[str, Any]) -> dict[str, Any]:
    """A lead's follow-up was done: schedule the next step of its running sequence, or finish it after the last
    step (a sequence the settings no longer define stops); the lead as it is now (as given when no sequence
    runs). Call it after clearing the done follow-up, in the same transaction: the next step's date and note
    replace it."""
    running = current(ctx.tx, lead["id"])
    if running is None:
        return lead
    sequence = ctx.settings.sequences.get(running["sequence"])
    if sequence is None:
        _end(ctx, lead["id"], running, "stopped", "no longer in the settings")
    elif running["step"] >= len(sequence.steps):
        _end(ctx, lead["id"], running, "done")
    else:
        _schedule(ctx, lead["id"], running, sequence, running["step"])
    return load_lead(ctx.tx, lead["id"])


def lead_changed(ctx: Ctx, lead_id: int, what: str, changes: dict[str, Any]) -> None:
    """From `derived.lead_changed`: keep a running sequence's next date on the lead's follow-up date when
    someone moves it; on a status change, stop the running sequence when the lead is qualified, won or lost,
    or start the sequence the new status starts (replacing a different running one)."""
    if "followup_on" in changes and what != "sequence":
        ctx.tx.execute("UPDATE lead_sequence SET next_at = :d, updated_at = :at WHERE lead_id = :l"
                       " AND state = 'running'", {"d": changes["followup_on"], "at": ctx.at, "l": lead_id})
    if "status_id" not in changes:
        return
    status = catalog.status_by_id(catalog.statuses(ctx.tx), changes["status_id"])
    running = current(ctx.tx, lead_id)
    if status.category != "open":
        if running is not None:
            _end(ctx, lead_id, running, "stopped", f"lead {status.category}")
        return
    sequence = starting(ctx.settings, status.name)
    if sequence is None or (running is not None and running["sequence"] == sequence.name):
        return
    start(ctx, load_lead(ctx.tx, lead_id), sequence, replace=True)
