"""Typed settings read from the TOML settings file (see `leaddesk config path`).

Example::

    database = "/srv/sales/leaddesk.db"   # or an SQLAlchemy URL
    default_region = "GB"                 # phones without a country code
    currency = "USD"

    [custom_fields.industry]
    type = "choice"                       # text, number, date, bool, choice
    label = "Industry"
    choices = ["Retail", "Software", "Health"]
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
