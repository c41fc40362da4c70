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
        source_path=path,
    )
