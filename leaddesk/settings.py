"""Typed settings read from the TOML settings file (see `leaddesk config path`).

Example::

    database = "/srv/sales/leaddesk.db"   # or an SQLAlchemy URL
    default_region = "GB"                 # phones without a country code
    currency = "USD"
    auto_create_users = false             # true: an unknown login acts as a new rep on first use

    [custom_fields.industry]
    type = "choice"                       # text, number, date, bool, choice
    label = "Industry"
    choices = ["Retail", "Software", "Health"]

    [assignment]                          # who gets a new lead nobody was named for
    enabled = true
    teams = { east = ["ann", "bob"], west = ["raj"] }
    by_zone = { North = "east", South = "raj" }   # zone -> team or login (tried first)
    by_source = { Referral = "ann" }              # source -> team or login (then)
    default_team = "east"                         # round-robin over its active reps (last)
    balance = "round-robin"                       # or "open": the rep with the fewest open leads
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leaddesk.store.errors import RuleError

FIELD_TYPES = ("text", "number", "date", "bool", "choice")


@dataclass(frozen=True)
class CustomField:
    """An extra lead field defined in settings."""

    name: str
    type: str = "text"
    label: str = ""
    choices: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        """The label shown to users."""
        return self.label or self.name.replace("_", " ").capitalize()


ASSIGNMENT_KEYS = ("enabled", "teams", "by_zone", "by_source", "default_team", "balance")
BALANCES = ("round-robin", "open")


@dataclass(frozen=True)
class Assignment:
    """Who gets a new lead when nobody is named (see `leaddesk.store.assignment`)."""

    enabled: bool = False
    teams: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Team name -> logins of its reps, in rotation order."""
    by_zone: dict[str, str] = field(default_factory=dict)
    """Zone -> team or login (a team name wins over a login of the same name)."""
    by_source: dict[str, str] = field(default_factory=dict)
    """Source name -> team or login."""
    default_team: str | None = None
    """The team that gets leads no zone or source rule took."""
    balance: str = "round-robin"
    """How a team's rep is picked: "round-robin" (strict rotation) or "open" (fewest open leads)."""


@dataclass(frozen=True)
class Settings:
    """All user settings, with their defaults."""

    database: str | None = None
    """SQLite path or SQLAlchemy URL of the database (LEADDESK_DB and --db override it)."""
    default_region: str = "US"
    """ISO country code used to read phones that carry no country code."""
    currency: str = "USD"
    """Currency code shown beside money amounts."""
    custom_fields: dict[str, CustomField] = field(default_factory=dict)
    """Extra lead fields, by name."""
    theme: str = "textual-dark"
    """The desk's Textual theme (changed from the palette, saved here)."""
    keymap: dict[str, str] = field(default_factory=dict)
    """Key overrides by binding id, e.g. {"board.move_right" = "ctrl+l"} (see the help screen for ids)."""
    animations: bool = False
    """Animations in the desk (off by default: they cost bandwidth over SSH)."""
    assignment: Assignment = field(default_factory=Assignment)
    """Assignment rules for new leads ([assignment] table)."""
    auto_create_users: bool = False
    """Let a login the desk does not know act as a new rep on first use (off: refused until `leaddesk user add`)."""
    source_path: Path | None = None
    """The file these settings were read from, if any."""


def _custom_fields(raw: Any, path: Path) -> dict[str, CustomField]:
    if not isinstance(raw, dict):
        raise RuleError(f"{path}: [custom_fields] must be a table of fields")
    fields: dict[str, CustomField] = {}
    for name, spec in raw.items():
        if not isinstance(spec, dict):
            raise RuleError(f"{path}: custom field '{name}' must be a table")
        kind = str(spec.get("type", "text"))
        if kind not in FIELD_TYPES:
            raise RuleError(f"{path}: custom field '{name}' has type '{kind}'; use one of {', '.join(FIELD_TYPES)}")
        choices = tuple(str(c) for c in spec.get("choices", ()))
        if kind == "choice" and not choices:
            raise RuleError(f"{path}: custom field '{name}' is a choice but lists no choices")
        fields[name] = CustomField(name=name, type=kind, label=str(spec.get("label", "")), choices=choices)
    return fields


def _names(raw: Any, path: Path, what: str) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(isinstance(v, str) and v.strip() for v in raw.values()):
        raise RuleError(f"{path}: [assignment] {what} must map names to a team or a login, e.g. {{ North = \"east\" }}")
    return {str(k).strip(): v.strip() for k, v in raw.items()}


def _assignment(raw: Any, path: Path) -> Assignment:
    if not isinstance(raw, dict):
        raise RuleError(f"{path}: [assignment] must be a table")
    unknown = sorted(set(raw) - set(ASSIGNMENT_KEYS))
    if unknown:
        raise RuleError(f"{path}: [assignment] has unknown key '{unknown[0]}'; use {', '.join(ASSIGNMENT_KEYS)}")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise RuleError(f"{path}: [assignment] enabled must be true or false")
    teams_raw = raw.get("teams", {})
    if not isinstance(teams_raw, dict):
        raise RuleError(f"{path}: [assignment] teams must be a table of lists of logins")
    teams: dict[str, tuple[str, ...]] = {}
    for name, members in teams_raw.items():
        if (not isinstance(members, list) or not members
                or not all(isinstance(m, str) and m.strip() for m in members)):
            raise RuleError(f"{path}: [assignment] team '{name}' must be a non-empty list of logins")
        teams[str(name)] = tuple(dict.fromkeys(m.strip() for m in members))
    by_zone = _names(raw.get("by_zone", {}), path, "by_zone")
    by_source = _names(raw.get("by_source", {}), path, "by_source")
    default_team = raw.get("default_team")
    if default_team is not None and (not isinstance(default_team, str) or default_team not in teams):
        raise RuleError(f"{path}: [assignment] default_team '{default_team}' is not a team"
                        f" (teams: {', '.join(teams) or 'none'})")
    balance = raw.get("balance", "round-robin")
    if balance not in BALANCES:
        raise RuleError(f"{path}: [assignment] balance '{balance}' must be one of {', '.join(BALANCES)}")
    if enabled and not (by_zone or by_source or default_team):
        raise RuleError(f"{path}: [assignment] is enabled but has no by_zone, by_source or default_team rule")
    return Assignment(enabled=enabled, teams=teams, by_zone=by_zone, by_source=by_source,
                      default_team=default_team, balance=balance)


def _flag(raw: dict[str, Any], key: str, path: Path) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise RuleError(f"{path}: {key} must be true or false")
    return value


def load_settings(path: Path | None = None) -> Settings:
    """Read the settings file if it exists (defaults otherwise); a broken file is a clear RuleError."""
    if path is None:
        from leaddesk.paths import config_path

        path = config_path()
    if not path.exists():
        return Settings()
    import tomllib

    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RuleError(f"settings file {path} is not valid TOML: {exc}") from None
    return Settings(
        database=raw.get("database"),
        default_region=str(raw.get("default_region", "US")),
        currency=str(raw.get("currency", "USD")),
        custom_fields=_custom_fields(raw.get("custom_fields", {}), path),
        theme=str(raw.get("theme", "textual-dark")),
        keymap={str(k): str(v) for k, v in dict(raw.get("keymap", {})).items()},
        animations=bool(raw.get("animations", False)),
        assignment=_assignment(raw["assignment"], path) if "assignment" in raw else Assignment(),
        auto_create_users=_flag(raw, "auto_create_users", path),
        source_path=path,
    )


def save_setting(key: str, value: str, path: Path | None = None) -> Path:
    """Set one top-level string setting in the settings file, keeping the rest of the file as it is."""
    import json
    import re

    if path is None:
        from leaddesk.paths import config_path

        path = config_path()
    line = f"{key} = {json.dumps(value)}"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    pattern = re.compile(rf"^{re.escape(key)}\s*=.*$", re.MULTILINE)
    table = re.search(r"^\[", text, re.MULTILINE)
    head, tail = (text[: table.start()], text[table.start():]) if table else (text, "")
    if pattern.search(head):
        head = pattern.sub(line, head, count=1)
    else:
        head = head + ("" if not head or head.endswith("\n") else "\n") + line + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + tail, encoding="utf-8")
    return path
