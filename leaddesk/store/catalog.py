"""The data-driven lists: statuses, lead types, lost reasons, sources, contact methods,
items, pipelines, users; the presets chosen at init; and lookups by name."""

from __future__ import annotations

from typing import Any

from leaddesk.store.db import Tx
from leaddesk.store.errors import NotFound, RuleError
from leaddesk.store.rules import StatusInfo, fold_name, resolve_name

# name, category, manual
PRESETS: dict[str, list[tuple[str, str, bool]]] = {
    "sales": [
        ("New", "open", True),
        ("Attempted to contact", "open", True),
        ("Contacted", "open", True),
        ("Engaged", "open", True),
        ("Qualified", "qualified", False),
        ("Converted", "won", False),
        ("Disqualified", "lost", False),
    ],
    "services": [
        ("Pending", "open", True),
        ("Attempted To Contact", "open", True),
        ("Contacted", "open", True),
        ("Estimating", "open", True),
        ("Scheduled", "open", True),
        ("Won", "won", False),
        ("Lost", "lost", False),
    ],
}

PRESET_LISTS: dict[str, dict[str, list[str]]] = {
    "sales": {
        "source": ["Inbound Email", "Website Form", "Social Media", "Referral", "Event", "Cold Outreach",
                   "Cold Call", "Advertisement", "Partner"],
        "item": ["Consulting", "Software license", "Support plan", "Training"],
        "stages": ["Prospecting", "Proposal", "Negotiation"],
        "types": ["Inbound", "Outbound"],
    },
    "services": {
        "source": ["Website Form", "Referral", "Partner", "Phone Call", "Social Media", "Advertisement",
                   "Event"],
        "item": ["Estimate", "Installation", "Repair", "Maintenance"],
        "stages": ["Estimate sent", "Scheduled", "In progress"],
        "types": ["Residential", "Commercial"],
    },
}
LOST_REASONS = ["Unable to reach", "Declined service", "Not a fit", "No response", "Chose another provider",
                "Budget"]
CONTACT_METHODS = ["Email", "Phone", "LinkedIn", "In-Person"]

# kind -> (table, what it is called, column on lead that uses it)
LISTS: dict[str, tuple[str, str, str]] = {
    "sources": ("source", "source", "source_id"),
    "reasons": ("lost_reason", "lost reason", "lost_reason_id"),
    "types": ("lead_type", "lead type", "type_id"),
    "methods": ("contact_method", "contact method", "contact_method_id"),
    "items": ("item", "item", "item_id"),
}


def is_initialised(tx: Tx) -> bool:
    """True once statuses exist."""
    return bool(tx.scalar("SELECT count(*) FROM status"))


def preset_of(tx: Tx) -> str | None:
    """The preset the desk was initialised with."""
    return tx.scalar("SELECT value FROM setting WHERE key = 'preset'")


def seed_preset(tx: Tx, preset: str) -> None:
    """Fill an empty desk with a preset's statuses, lists and default pipeline."""
    if preset not in PRESETS:
        raise RuleError(f"unknown preset '{preset}': choose sales or services")
    for position, (name, category, manual) in enumerate(PRESETS[preset]):
        tx.execute("INSERT INTO status (name, category, position, manual) VALUES (:n, :c, :p, :m)",
                   {"n": name, "c": category, "p": position, "m": manual})
    lists = PRESET_LISTS[preset]
    for name in lists["source"]:
        tx.execute("INSERT INTO source (name) VALUES (:n)", {"n": name})
    for name in lists["item"]:
        tx.execute("INSERT INTO item (name) VALUES (:n)", {"n": name})
    for name in lists["types"]:
        tx.execute("INSERT INTO lead_type (name) VALUES (:n)", {"n": name})
    for name in LOST_REASONS:
        tx.execute("INSERT INTO lost_reason (name) VALUES (:n)", {"n": name})
    for name in CONTACT_METHODS:
        tx.execute("INSERT INTO contact_method (name) VALUES (:n)", {"n": name})
    pipeline = tx.insert("INSERT INTO pipeline (name, is_default) VALUES (:n, :d)",
                         {"n": "Sales" if preset == "sales" else "Jobs", "d": True})
    for position, name in enumerate(lists["stages"]):
        tx.execute("INSERT INTO stage (pipeline_id, name, position) VALUES (:p, :n, :pos)",
                   {"p": pipeline, "n": name, "pos": position})
    tx.execute("INSERT INTO setting (key, value) VALUES ('preset', :p)", {"p": preset})


def statuses(tx: Tx) -> list[StatusInfo]:
    """Every status, in workflow order."""
    return [StatusInfo(r["id"], r["name"], r["category"], r["position"], bool(r["manual"]))
            for r in tx.all("SELECT id, name, category, position, manual FROM status ORDER BY position, id")]


def status_by_id(all_statuses: list[StatusInfo], status_id: int) -> StatusInfo:
    """The status with this id (it always exists: lead.status_id is a foreign key)."""
    return next(s for s in all_statuses if s.id == status_id)


def allowed_statuses(tx: Tx, type_id: int | None) -> list[StatusInfo]:
    """The statuses a lead type allows (empty: all)."""
    if type_id is None:
        return []
    rows = tx.all(
        "SELECT s.id, s.name, s.category, s.position, s.manual FROM lead_type_status lts"
        " JOIN status s ON s.id = lts.status_id WHERE lts.type_id = :t ORDER BY s.position",
        {"t": type_id},
    )
    return [StatusInfo(r["id"], r["name"], r["category"], r["position"], bool(r["manual"])) for r in rows]


def names(tx: Tx, table: str) -> list[str]:
    """The names in a list table, in order."""
    order = "position, id" if table == "status" else "id"
    return [r[0] for r in tx.all(f"SELECT name FROM {table} ORDER BY {order}")]


def find_id(tx: Tx, table: str, text: str, what: str) -> int:
    """The id of a list entry named by `text` (case-insensitive, or a unique prefix)."""
    name = resolve_name(text, names(tx, table), what)
    return int(tx.scalar(f"SELECT id FROM {table} WHERE name = :n", {"n": name}))


def name_of(tx: Tx, table: str, row_id: int | None) -> str | None:
    """The name of a list entry by id."""
    if row_id is None:
        return None
    return tx.scalar(f"SELECT name FROM {table} WHERE id = :i", {"i": row_id})


def list_entries(tx: Tx, kind: str, *, counts: bool = False) -> list[dict[str, Any]]:
    """A list's entries ({id, name}); with `counts`, how many leads use each (`leads`): a count walks the leads
    (84 ms for the sources at 100k leads), which a form's choices do not need."""
    table, _what, column = LISTS[kind]
    if not counts:
        out = [{"id": r["id"], "name": r["name"]} for r in tx.all(f"SELECT id, name FROM {table} ORDER BY id")]
    else:
        rows = tx.all(f"SELECT t.id, t.name, (SELECT count(*) FROM lead WHERE lead.{column} = t.id) AS used"
                      f" FROM {table} t ORDER BY t.id")
        out = [{"id": r["id"], "name": r["name"], "leads": r["used"]} for r in rows]
    if kind == "types":
        for entry in out:
            entry["statuses"] = [s.name for s in allowed_statuses(tx, entry["id"])]
    return out


def clean_name(text: str, what: str) -> str:
    """A list entry's or status's name with its runs of white space made one space; refused when blank or
    holding a NUL (which PostgreSQL cannot store)."""
    clean = " ".join(text.split())
    if not clean:
        raise RuleError(f"a {what} needs a name")
    if "\x00" in clean:
        raise RuleError(f"a {what} name contains a NUL character")
    return clean


def add_entry(tx: Tx, kind: str, name: str) -> int:
    """Add a name to a list; refuse an empty or duplicate name."""
    table, what, _column = LISTS[kind]
    clean = clean_name(name, what)
    if any(fold_name(n) == fold_name(clean) for n in names(tx, table)):
        raise RuleError(f"{what} '{clean}' already exists")
    return tx.insert(f"INSERT INTO {table} (name) VALUES (:n)", {"n": clean})


def rename_entry(tx: Tx, kind: str, old: str, new: str) -> tuple[str, str]:
    """Rename a list entry (leads keep pointing at it)."""
    table, what, _column = LISTS[kind]
    entry_id = find_id(tx, table, old, what)
    clean = clean_name(new, what)
    current = name_of(tx, table, entry_id) or old
    if any(fold_name(n) == fold_name(clean) and n != current for n in names(tx, table)):
        raise RuleError(f"{what} '{clean}' already exists")
    tx.execute(f"UPDATE {table} SET name = :n WHERE id = :i", {"n": clean, "i": entry_id})
    return current, clean


def remove_entry(tx: Tx, kind: str, name: str) -> str:
    """Remove a list entry that no lead (or deal) uses."""
    table, what, column = LISTS[kind]
    entry_id = find_id(tx, table, name, what)
    current = name_of(tx, table, entry_id) or name
    used = tx.scalar(f"SELECT count(*) FROM lead WHERE {column} = :i", {"i": entry_id})
    if kind == "reasons":
        used += tx.scalar("SELECT count(*) FROM deal WHERE lost_reason_id = :i", {"i": entry_id})
    if used:
        raise RuleError(f"{what} '{current}' is in use by {used} record(s); rename it instead")
    tx.execute(f"DELETE FROM {table} WHERE id = :i", {"i": entry_id})
    return current


def set_type_statuses(tx: Tx, type_name: str, status_names: list[str]) -> list[str]:
    """Set the statuses a lead type allows (an empty list allows all)."""
    type_id = find_id(tx, "lead_type", type_name, "lead type")
    all_statuses = statuses(tx)
    chosen: list[StatusInfo] = []
    for text in status_names:
        status = next(s for s in all_statuses
                      if s.name == resolve_name(text, [x.name for x in all_statuses], "status"))
        if status not in chosen:
            chosen.append(status)
    tx.execute("DELETE FROM lead_type_status WHERE type_id = :t", {"t": type_id})
    for status in chosen:
        tx.execute("INSERT INTO lead_type_status (type_id, status_id) VALUES (:t, :s)",
                   {"t": type_id, "s": status.id})
    return [s.name for s in sorted(chosen, key=lambda s: s.position)]


def add_status(tx: Tx, name: str, category: str, manual: bool | None) -> int:
    """Add a status at the end of its category."""
    from leaddesk.store.rules import CATEGORIES

    if category not in CATEGORIES:
        raise RuleError(f"category '{category}' must be one of {', '.join(CATEGORIES)}")
    clean = clean_name(name, "status")
    if any(fold_name(s.name) == fold_name(clean) for s in statuses(tx)):
        raise RuleError(f"status '{clean}' already exists")
    if manual is None:
        manual = category == "open"
    if manual and category != "open":
        raise RuleError(f"only open statuses can be picked by hand; '{category}' ones are reached by actions")
    order = {c: i for i, c in enumerate(CATEGORIES)}
    last = max((s.position for s in statuses(tx) if order[s.category] <= order[category]), default=-1)
    tx.execute("UPDATE status SET position = position + 1 WHERE position > :p", {"p": last})
    return tx.insert("INSERT INTO status (name, category, position, manual) VALUES (:n, :c, :p, :m)",
                     {"n": clean, "c": category, "p": last + 1, "m": manual})


def rename_status(tx: Tx, old: str, new: str) -> tuple[str, str]:
    """Rename a status."""
    all_statuses = statuses(tx)
    name = resolve_name(old, [s.name for s in all_statuses], "status")
    clean = clean_name(new, "status")
    if any(fold_name(s.name) == fold_name(clean) and s.name != name for s in all_statuses):
        raise RuleError(f"status '{clean}' already exists")
    tx.execute("UPDATE status SET name = :n WHERE name = :o", {"n": clean, "o": name})
    return name, clean


def remove_status(tx: Tx, text: str) -> str:
    """Remove an unused status; the workflow keeps at least one open status."""
    all_statuses = statuses(tx)
    name = resolve_name(text, [s.name for s in all_statuses], "status")
    status = next(s for s in all_statuses if s.name == name)
    used = tx.scalar("SELECT count(*) FROM lead WHERE status_id = :i", {"i": status.id})
    if used:
        raise RuleError(f"status '{name}' is in use by {used} lead(s); rename it instead")
    if status.category == "open" and sum(s.category == "open" for s in all_statuses) == 1:
        raise RuleError(f"'{name}' is the last open status; the workflow needs one")
    tx.execute("DELETE FROM lead_type_status WHERE status_id = :i", {"i": status.id})
    tx.execute("DELETE FROM status WHERE id = :i", {"i": status.id})
    return name


def check_login(login: str) -> None:
    """A login is one word of printable characters."""
    if not login or not login.isprintable() or any(ch.isspace() for ch in login) or len(login) > 64:
        raise RuleError(f"a login must be one word of printable characters, not '{login}'")


def user_id(tx: Tx, login: str, *, create: bool = False, at: str = "") -> int:
    """The id of a user by login; created on first use when `create` is set."""
    found = tx.scalar("SELECT id FROM \"user\" WHERE login = :l", {"l": login})
    if found is not None:
        return int(found)
    if not create:
        known = ", ".join(r[0] for r in tx.all("SELECT login FROM \"user\" ORDER BY login"))
        raise NotFound(f"unknown user '{login}' (known: {known or 'none'}); add them with `leaddesk user add`")
    check_login(login)
    return tx.insert("INSERT INTO \"user\" (login, name, created_at) VALUES (:l, :n, :at)",
                     {"l": login, "n": login, "at": at})


def default_pipeline(tx: Tx) -> tuple[int, int, str]:
    """The default pipeline's id and its first stage (id, name)."""
    row = tx.one(
        "SELECT p.id AS pipeline, s.id AS stage, s.name FROM pipeline p JOIN stage s ON s.pipeline_id = p.id"
        " WHERE p.is_default ORDER BY s.position, s.id LIMIT 1"
    )
    if row is None:
        raise RuleError("there is no default pipeline with stages to open a deal in")
    return int(row["pipeline"]), int(row["stage"]), str(row["name"])
