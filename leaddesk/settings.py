"""Typed settings read from the TOML settings file (see `leaddesk config path`).

Example::

    database = "/srv/sales/leaddesk.db"   # or an SQLAlchemy URL
    default_region = "GB"                 # phones without a country code
    currency = "USD"
    auto_create_users = false             # true: an unknown login acts as a new rep on first use
    timezone = "Europe/Rome"              # follow-up dates and times (default: the system's zone)

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

    [sla]                                 # a new lead's first contact is due within working hours
    contact_within_hours = 4              # 0 (or no [sla] table): no SLA
    working_days = ["mon", "tue", "wed", "thu", "fri"]
    working_hours = "09:00-17:00"         # in the top-level `timezone`
    escalate_to = "managers"              # every active manager and admin; or a list of logins, or "none"

    [score]                               # the automatic score (see leaddesk.store.scoring)
    decay_per_day = 1                     # an open lead loses a point a day without contact...
    decay_after = 7                       # ...after a week
    decay_max = 20
    [[score.rules]]
    points = 10
    field = "source"                      # any lead field, "status" or a custom field
    in = ["Referral", "Partner"]          # or is = "...", present = true, at_least / at_most = N
    [[score.rules]]
    points = 15
    bant = "budget"                       # budget, authority, need, timeline
    is = "yes"
    [[score.rules]]
    points = 5
    activity = "call"                     # call, email, email_in (a reply), email_out, meeting, note
    per = "each"                          # or "once" (with at_least = N)
    max = 15

    [sequences.nurture]                   # a nurture sequence (leaddesk.store.sequences)
    description = "Not ready yet: stay in touch"
    start_on_status = ["Attempted to contact"]    # entering one of these starts it (optional)
    [[sequences.nurture.steps]]           # each step: a follow-up after_days after the previous one
    after_days = 3
    note = "Call again"
    [[sequences.nurture.steps]]
    after_days = 7
    note = "Send the case study"
    subject = "For {company}"             # placeholders: {first_name} {last_name} {name} {company} {title}
    template = "Hello {first_name},\\n\\nhere is the case study.\\n{my_name}"  # {email} {phone} {city}
                                          # {owner_name} {my_name}; {{ and }} give braces

    [intake]                              # `leaddesk intake`, the web-form endpoint
    allow_origins = ["https://www.example.com"]   # pages that may post from a browser (CORS); none by default

    [files]                               # who may read the desk files leaddesk creates (SQLite)
    group = "sales"                       # new desks, their -wal/-shm and backups: 0660, this group (default 0600)
"""

from __future__ import annotations

from collections.abc import Callable
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


# -- automatic score ([score] table, issue 6; see leaddesk.store.scoring) -------------------------
SCORE_KEYS = ("rules", "decay_per_day", "decay_after", "decay_max")
SCORE_RULE_KEYS = ("points", "field", "bant", "activity", "is", "in", "present", "at_least", "at_most", "per", "max",
                   "label")
BANT_PARTS = ("budget", "authority", "need", "timeline")
SCORE_ACTIVITIES = ("call", "email", "email_in", "email_out", "meeting", "note")
"""What an activity rule counts: a logged call, any email, a reply (an email captured from the lead: inbound),
an email logged by a rep (outbound), a meeting, a note."""


@dataclass(frozen=True)
class ScoreRule:
    """One score rule of the [score] table (see `leaddesk.store.scoring`): points when a condition holds.

    `kind` is "field" (`target` a lead field name, "status" or "custom:NAME"; `value_type` how its value is
    compared), "bant" (`target` budget/authority/need/timeline) or "activity" (`target` one of
    SCORE_ACTIVITIES)."""

    points: int
    kind: str
    target: str
    value_type: str = "text"
    """field rules: text, name, tags, priority, number, money, bool, date or bant."""
    values: tuple[Any, ...] = ()
    """`is`/`in`: the wanted values, normalised (folded text, ints, cents, booleans)."""
    shown: tuple[str, ...] = ()
    """The wanted values as written in settings (for the explanation)."""
    present: bool | None = None
    at_least: float | None = None
    """field rules: the lowest value; activity rules: the count from which a "once" rule gives its points."""
    at_most: float | None = None
    per: str = "once"
    """activity rules: "once" (the points when counted at least `at_least` times) or "each" (per activity)."""
    most: int | None = None
    """activity rules with per = "each": at most this many points (`max` in settings)."""
    label: str = ""


@dataclass(frozen=True)
class Scoring:
    """The automatic score's rules ([score] table); no rules and no decay: every automatic score is 0."""

    rules: tuple[ScoreRule, ...] = ()
    decay_per_day: int = 0
    """Points lost per day without contact (call, email, meeting) on an open lead."""
    decay_after: int = 0
    """Days without contact before the decay starts."""
    decay_max: int | None = None
    """At most this many points lost to decay (None: no limit)."""

    @property
    def enabled(self) -> bool:
        """True when there is anything to compute."""
        return bool(self.rules) or self.decay_per_day > 0


def score_fold(value: Any) -> str:
    """Text as score rules compare it: case-folded, spaces collapsed."""
    return " ".join(str(value).casefold().split())


def _table(raw: Any, where: str, keys: tuple[str, ...] | list[str], *, shape: str = "a table",
           hint: Callable[[str], str] = lambda key: "") -> dict[str, Any]:
    """`raw` as a settings table with only `keys`: else a one-line RuleError naming `where` (`shape` says what
    it must be; `hint(key)` adds a word on an unknown key)."""
    if not isinstance(raw, dict):
        raise RuleError(f"{where} must be {shape}")
    unknown = sorted(set(raw) - set(keys))
    if unknown:
        raise RuleError(f"{where} has unknown key '{unknown[0]}'; use {', '.join(keys)}{hint(unknown[0])}")
    return raw


def _score_int(value: Any, what: str, path: Path, *, low: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or (low is not None and value < low):
        floor = "" if low is None else f" of at least {low}"
        raise RuleError(f"{path}: [score] {what} must be a whole number{floor}, not {value!r}")
    return value


def _score_value_type(name: str, custom: dict[str, CustomField], where: str) -> tuple[str, str, tuple[str, ...]]:
    """(field name as stored in the rule, how its values compare, allowed choices) of a rule's `field`."""
    from leaddesk.store.fields import FIELDS

    kinds = {"name": "text", "text": "text", "longtext": "text", "email": "text", "phone": "text", "note": "text",
             "time": "text", "user": "name", "customer": "name", "priority": "priority", "probability": "number",
             "int": "number", "money": "money", "date": "date", "bant": "bant", "tags": "tags"}
    if name == "status":
        return "status", "name", ()
    if name == "score":
        raise RuleError(f"{where}: the manual score is added to the total, it cannot be a rule's condition")
    spec = FIELDS.get(name)
    if spec is not None and name != "job_value":
        return name, "name" if spec.kind.startswith("ref:") else kinds.get(spec.kind, "text"), ()
    extra = custom.get(name.removeprefix("custom:"))
    if extra is not None:
        kind = {"number": "number", "bool": "bool", "date": "date", "choice": "choice"}.get(extra.type, "text")
        return f"custom:{extra.name}", kind, extra.choices
    known = ", ".join(n for n in FIELDS if n not in ("score", "job_value"))
    customs = f"; custom: {', '.join(custom)}" if custom else ""
    raise RuleError(f"{where}: unknown field '{name}' (fields: status, {known}{customs})")


def _score_values(raw: Any, value_type: str, choices: tuple[str, ...], where: str) -> tuple[tuple[Any, ...],
                                                                                           tuple[str, ...]]:
    from leaddesk.store.rules import parse_bant, parse_money, parse_priority

    items = raw if isinstance(raw, list) else [raw]
    if not items or not all(isinstance(v, str | int | float | bool) for v in items):
        raise RuleError(f"{where}: `is` takes a value and `in` a list of values")
    values: list[Any] = []
    for item in items:
        text = str(item).strip()
        if value_type == "priority":
            try:
                values.append(parse_priority(item if isinstance(item, int) and not isinstance(item, bool) else text))
            except RuleError as exc:
                raise RuleError(f"{where}: {exc}") from None
        elif value_type == "bant":
            values.append(parse_bant(text, where))
        elif value_type == "bool":
            if not isinstance(item, bool):
                raise RuleError(f"{where}: a yes/no field takes `is = true` or `is = false`")
            values.append(item)
        elif value_type in ("number", "money"):
            if isinstance(item, bool) or not isinstance(item, int | float):
                raise RuleError(f"{where}: a number field takes numbers, not {item!r}")
            values.append(parse_money(item) if value_type == "money" else float(item))
        elif value_type == "choice" and not any(c.casefold() == text.casefold() for c in choices):
            raise RuleError(f"{where}: '{text}' is not one of {', '.join(choices)}")
        else:
            values.append(score_fold(text))
    return tuple(values), tuple(("yes" if v else "no") if isinstance(v, bool) else str(v) for v in items)


def _score_rule(raw: Any, i: int, path: Path, custom: dict[str, CustomField]) -> ScoreRule:
    where = f"{path}: [score] rule {i}"
    raw = _table(raw, where, SCORE_RULE_KEYS,
                 shape="a table, e.g. { points = 10, field = \"source\", is = \"Referral\" }")
    if "points" not in raw:
        raise RuleError(f"{where} has no points")
    points = _score_int(raw["points"], f"rule {i} points", path)
    kinds = [k for k in ("field", "bant", "activity") if k in raw]
    if len(kinds) != 1:
        raise RuleError(f"{where} needs exactly one of field, bant or activity")
    kind = kinds[0]
    target = raw[kind]
    if not isinstance(target, str) or not target.strip():
        raise RuleError(f"{where}: {kind} must be a name")
    target = target.strip()
    label = raw.get("label", "")
    if not isinstance(label, str):
        raise RuleError(f"{where}: label must be text")
    tests = [k for k in ("is", "in", "present", "at_least", "at_most") if k in raw]
    if kind == "activity":
        if target not in SCORE_ACTIVITIES:
            raise RuleError(f"{where}: activity '{target}' must be one of {', '.join(SCORE_ACTIVITIES)}")
        if set(tests) - {"at_least"}:
            raise RuleError(f"{where}: an activity rule takes per, max and at_least, not {tests[0]}")
        per = raw.get("per", "once")
        if per not in ("once", "each"):
            raise RuleError(f"{where}: per must be \"once\" or \"each\", not {per!r}")
        most = _score_int(raw["max"], f"rule {i} max", path, low=0) if "max" in raw else None
        if most is not None and per != "each":
            raise RuleError(f"{where}: max goes with per = \"each\"")
        count = _score_int(raw.get("at_least", 1), f"rule {i} at_least", path, low=1)
        if per == "each" and count != 1:
            raise RuleError(f"{where}: at_least goes with per = \"once\"")
        return ScoreRule(points, kind, target, "count", per=per, most=most, at_least=count, label=label.strip())
    if "per" in raw or "max" in raw:
        raise RuleError(f"{where}: per and max go with activity rules")
    if kind == "bant":
        part = target.casefold().removeprefix("bant_")
        if part not in BANT_PARTS:
            raise RuleError(f"{where}: bant '{target}' must be one of {', '.join(BANT_PARTS)}")
        choices: tuple[str, ...] = ()
        kind, target, value_type = "field", f"bant_{part}", "bant"
        if tests not in (["is"], ["in"]):
            raise RuleError(f"{where}: a bant rule takes is = \"yes\" (or in = [...])")
    else:
        target, value_type, choices = _score_value_type(target, custom, where)
    if not tests or ("is" in tests and "in" in tests) or (len(tests) > 1 and set(tests) != {"at_least", "at_most"}):
        raise RuleError(f"{where} needs one condition: is, in, present, or at_least/at_most")
    if tests == ["present"]:
        if not isinstance(raw["present"], bool):
            raise RuleError(f"{where}: present must be true or false")
        return ScoreRule(points, "field", target, value_type, present=raw["present"], label=label.strip())
    if tests[0] in ("is", "in"):
        raw_values = raw[tests[0]]
        if tests[0] == "in" and (not isinstance(raw_values, list) or not raw_values):
            raise RuleError(f"{where}: in takes a non-empty list, e.g. in = [\"Referral\", \"Partner\"]")
        if tests[0] == "is" and isinstance(raw_values, list):
            raise RuleError(f"{where}: is takes one value (in takes a list)")
        values, shown = _score_values(raw_values, value_type, choices, where)
        return ScoreRule(points, "field", target, value_type, values, shown, label=label.strip())
    if value_type not in ("number", "money", "priority"):
        raise RuleError(f"{where}: at_least/at_most go with number fields, not {target}")
    bounds: dict[str, float] = {}
    for test in tests:
        value = raw[test]
        if value_type == "priority" and isinstance(value, str):
            value = _score_values(value, "priority", (), where)[0][0]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RuleError(f"{where}: {test} must be a number, not {value!r}")
        bounds[test] = float(value) * (100 if value_type == "money" else 1)
    return ScoreRule(points, "field", target, value_type, at_least=bounds.get("at_least"),
                     at_most=bounds.get("at_most"), label=label.strip())


def _score(raw: Any, path: Path, custom: dict[str, CustomField]) -> Scoring:
    raw = _table(raw, f"{path}: [score]", SCORE_KEYS, hint=lambda _key: " (rules as [[score.rules]] tables)")
    rules_raw = raw.get("rules", [])
    if not isinstance(rules_raw, list):
        raise RuleError(f"{path}: [score] rules must be a list of tables ([[score.rules]])")
    rules = tuple(_score_rule(rule, i, path, custom) for i, rule in enumerate(rules_raw, 1))
    per_day = _score_int(raw.get("decay_per_day", 0), "decay_per_day", path, low=0)
    after = _score_int(raw.get("decay_after", 0), "decay_after", path, low=0)
    most = _score_int(raw["decay_max"], "decay_max", path, low=0) if "decay_max" in raw else None
    return Scoring(rules=rules, decay_per_day=per_day, decay_after=after, decay_max=most)


# -- the first-contact SLA ([sla] table, issue 6; see leaddesk.store.sla) -------------------------------
SLA_KEYS = ("contact_within_hours", "working_days", "working_hours", "escalate_to")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SLA_MAX_HOURS = 1000


@dataclass(frozen=True)
class Sla:
    """How soon a new lead must be contacted, counted in working time (see `leaddesk.store.sla`)."""

    contact_within_hours: float = 0
    """Working hours from a lead's creation to its first contact; 0: no SLA."""
    working_days: tuple[str, ...] = WEEKDAYS[:5]
    """The working days, as "mon" .. "sun"."""
    working_hours: str = "09:00-17:00"
    """The working hours of a working day, "HH:MM-HH:MM" (the end may be 24:00), in the desk's `timezone`."""
    escalate_to: tuple[str, ...] = ("managers",)
    """Who is told of a breach: "managers" (every active manager and admin) and/or logins; () nobody."""

    @property
    def enabled(self) -> bool:
        """True when new leads get a due time."""
        return self.contact_within_hours > 0

    @property
    def minutes(self) -> tuple[int, int]:
        """The working hours as minutes after midnight: (start, end)."""
        return parse_working_hours(self.working_hours)


def parse_working_hours(text: str) -> tuple[int, int]:
    """ "09:00-17:00" as (540, 1020); ValueError when it is not a start before an end."""
    import re

    found = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
    if found is None:
        raise ValueError(f"working_hours '{text}' must look like \"09:00-17:00\"")
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if h1 > 23 or m1 > 59 or m2 > 59 or end > 24 * 60:
        raise ValueError(f"working_hours '{text}' is not a time of day (00:00 to 24:00)")
    if start >= end:
        raise ValueError(f"working_hours '{text}' must start before it ends, within one day")
    return start, end


def _sla(raw: Any, path: Path) -> Sla:
    raw = _table(raw, f"{path}: [sla]", SLA_KEYS, hint=lambda key: " (the time zone is the top-level `timezone`"
                 " setting)" if key == "timezone" else "")
    hours = raw.get("contact_within_hours", 0)
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 <= hours <= SLA_MAX_HOURS:
        raise RuleError(f"{path}: [sla] contact_within_hours must be a number of working hours from 0 (no SLA)"
                        f" to {SLA_MAX_HOURS}, not {hours!r}")
    days_raw = raw.get("working_days", list(WEEKDAYS[:5]))
    if not isinstance(days_raw, list) or not days_raw or not all(isinstance(d, str) for d in days_raw):
        raise RuleError(f"{path}: [sla] working_days must be a non-empty list such as [\"mon\", \"tue\"]")
    days: list[str] = []
    for day in days_raw:
        folded = day.strip().casefold()
        short = folded if folded in WEEKDAYS else folded[:3] if folded in DAY_NAMES else None
        if short is None:
            raise RuleError(f"{path}: [sla] working_days: '{day}' is not a day; use {', '.join(WEEKDAYS)}")
        if short not in days:
            days.append(short)
    working = raw.get("working_hours", "09:00-17:00")
    if not isinstance(working, str):
        raise RuleError(f"{path}: [sla] working_hours must be text such as \"09:00-17:00\"")
    try:
        parse_working_hours(working)
    except ValueError as exc:
        raise RuleError(f"{path}: [sla] {exc}") from None
    escalate = raw.get("escalate_to", "managers")
    if isinstance(escalate, str):
        escalate = [] if escalate.strip().casefold() == "none" else [escalate]
    if not isinstance(escalate, list) or not all(isinstance(e, str) and e.strip() for e in escalate):
        raise RuleError(f"{path}: [sla] escalate_to must be \"managers\", \"none\" or a list of logins")
    return Sla(contact_within_hours=hours, working_days=tuple(sorted(days, key=WEEKDAYS.index)),
               working_hours=working.strip(), escalate_to=tuple(dict.fromkeys(e.strip() for e in escalate)))


INTAKE_KEYS = ("allow_origins",)


@dataclass(frozen=True)
class Intake:
    """The web-form endpoint, `leaddesk intake` ([intake] table)."""

    allow_origins: tuple[str, ...] = ()
    """Browser origins ("https://www.example.com") whose pages may post to it (CORS); none by default."""


def web_origin(text: str) -> str:
    """A browser origin as browsers send it ("https://example.com", "http://localhost:8000"), normalised:
    lower case, no default port, no trailing slash. ValueError (one line) for anything else."""
    from urllib.parse import urlsplit

    given = text.strip()
    try:
        parts = urlsplit(given)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if (parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname
            or parts.username is not None or parts.path not in ("", "/") or parts.query or parts.fragment):
        raise ValueError(f"'{given}' is not an origin: give scheme and host (and port), e.g."
                         " \"https://www.example.com\"")
    scheme, host = parts.scheme.lower(), parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    default = {"http": 80, "https": 443}[scheme]
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != default else "")


def _intake(raw: Any, path: Path) -> Intake:
    raw = _table(raw, f"{path}: [intake]", INTAKE_KEYS)
    origins = raw.get("allow_origins", [])
    if not isinstance(origins, list) or not all(isinstance(o, str) for o in origins):
        raise RuleError(f"{path}: [intake] allow_origins must be a list of origins, e.g."
                        " [\"https://www.example.com\"]")
    try:
        return Intake(allow_origins=tuple(dict.fromkeys(web_origin(o) for o in origins)))
    except ValueError as exc:
        raise RuleError(f"{path}: [intake] allow_origins: {exc}") from None


FILES_KEYS = ("group",)


@dataclass(frozen=True)
class Files:
    """Who may read the files leaddesk creates ([files] table; see `leaddesk.store.filemodes`)."""

    group: str | None = None
    """The group a new SQLite desk, its -wal/-shm files and its backups belong to (then 0660); None: 0600."""
    gid: int | None = None
    """That group's id, looked up when the settings are read."""


def _files(raw: Any, path: Path) -> Files:
    raw = _table(raw, f"{path}: [files]", FILES_KEYS)
    group = raw.get("group")
    if group is None:
        return Files()
    if not isinstance(group, str) or not group.strip():
        raise RuleError(f"{path}: [files] group must be the name of a group, e.g. \"sales\"")
    try:
        import grp
    except ImportError:
        raise RuleError(f"{path}: [files] group needs a system with user groups (POSIX)") from None
    try:
        return Files(group=group.strip(), gid=grp.getgrnam(group.strip()).gr_gid)
    except KeyError:
        raise RuleError(f"{path}: [files] group '{group.strip()}' is not a group on this system") from None


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
    score: Scoring = field(default_factory=Scoring)
    """The automatic score's rules ([score] table)."""
    auto_create_users: bool = False
    """Let a login the desk does not know act as a new rep on first use (off: refused until `leaddesk user add`)."""
    sla: Sla = field(default_factory=Sla)
    """The first-contact SLA ([sla] table; see `leaddesk.store.sla`)."""
    timezone: str | None = None
    """IANA time zone of follow-up dates and times, e.g. "Europe/Rome" (default: the system's local zone)."""
    sequences: dict[str, NurtureSequence] = field(default_factory=dict)
    """Nurture sequences by name ([sequences.NAME] tables; see `leaddesk.store.sequences`)."""
    intake: Intake = field(default_factory=Intake)
    """The web-form endpoint ([intake] table)."""
    files: Files = field(default_factory=Files)
    """Who may read the desk files leaddesk creates ([files] table)."""
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
    raw = _table(raw, f"{path}: [assignment]", ASSIGNMENT_KEYS)
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


def _timezone(raw: Any, path: Path) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip():
        raise RuleError(f"{path}: timezone must be a time zone name such as \"Europe/Rome\"")
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(raw.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise RuleError(f"{path}: timezone '{raw.strip()}' is not a known time zone (e.g. \"Europe/Rome\")") from None
    return raw.strip()


# -- nurture sequences ([sequences.NAME] tables, issue 6) ------------------------------------------
SEQUENCE_KEYS = ("description", "start_on_status", "steps")
STEP_KEYS = ("after_days", "note", "template", "subject")
PLACEHOLDERS = ("first_name", "last_name", "name", "company", "title", "email", "phone", "city", "owner_name",
                "my_name")
"""What a step's template and subject may say in braces, e.g. "Hello {first_name}" ({{ and }} are braces)."""
MAX_AFTER_DAYS = 3650


@dataclass(frozen=True)
class NurtureStep:
    """One step of a sequence: a follow-up `after_days` after the previous step (or the start)."""

    after_days: int
    note: str = ""
    """The follow-up's note (what to do)."""
    template: str = ""
    """Text to send, with placeholders (see PLACEHOLDERS), filled literally."""
    subject: str = ""
    """The subject of the text to send (placeholders too)."""


@dataclass(frozen=True)
class NurtureSequence:
    """A named list of follow-up steps; entering one of `start_on_status` starts it on a lead."""

    name: str
    description: str = ""
    start_on_status: tuple[str, ...] = ()
    """Status names (matched ignoring case) that start the sequence when a lead enters them."""
    steps: tuple[NurtureStep, ...] = ()


def template_fields(text: str) -> list[str]:
    """The placeholder names a template uses ("{{" and "}}" are literal braces)."""
    import re

    return [m.group(1) for m in re.finditer(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}", text) if m.group(1)]


def _text_value(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str):
        raise RuleError(f"{where} {key} must be text")
    if "\x00" in value:
        raise RuleError(f"{where} {key} contains a NUL character")
    unknown = [name for name in template_fields(value) if name not in PLACEHOLDERS] if key in (
        "template", "subject") else []
    if unknown:
        raise RuleError(f"{where} {key} has unknown placeholder {{{unknown[0]}}}; use"
                        f" {', '.join('{' + p + '}' for p in PLACEHOLDERS)} ({{{{ and }}}} for braces)")
    return value


def _sequence_step(raw: Any, where: str) -> NurtureStep:
    raw = _table(raw, where, STEP_KEYS, shape="a table such as { after_days = 3, note = \"call again\" }")
    days = raw.get("after_days")
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_AFTER_DAYS:
        raise RuleError(f"{where} needs after_days, a whole number of days from 0 to {MAX_AFTER_DAYS}")
    note, template, subject = (_text_value(raw, key, where) for key in ("note", "template", "subject"))
    if not note.strip() and not template.strip():
        raise RuleError(f"{where} needs a note or a template")
    if "\n" in note or "\n" in subject:
        raise RuleError(f"{where} {'note' if chr(10) in note else 'subject'} must be one line")
    return NurtureStep(after_days=days, note=note.strip(), template=template, subject=subject.strip())


def _sequences(raw: Any, path: Path) -> dict[str, NurtureSequence]:
    if not isinstance(raw, dict):
        raise RuleError(f"{path}: [sequences] must hold tables such as [sequences.nurture]")
    found: dict[str, NurtureSequence] = {}
    starts: dict[str, str] = {}  # folded status name -> the sequence it starts
    for name, spec in raw.items():
        where = f"{path}: sequence '{name}'"
        if not name.strip() or len(name) > 60 or not name.isprintable():
            raise RuleError(f"{path}: sequence name '{name}' must be 1 to 60 printable characters")
        spec = _table(spec, where, SEQUENCE_KEYS, shape="a table with steps = [...]")
        description = _text_value(spec, "description", where)
        statuses = spec.get("start_on_status", [])
        if isinstance(statuses, str):
            statuses = [statuses]
        if not isinstance(statuses, list) or not all(isinstance(s, str) and s.strip() for s in statuses):
            raise RuleError(f"{where} start_on_status must be a list of status names")
        for status in statuses:
            folded = " ".join(status.replace("-", " ").replace("_", " ").casefold().split())
            if starts.get(folded, name) != name:
                raise RuleError(f"{where}: status '{status.strip()}' already starts sequence '{starts[folded]}'")
            starts[folded] = name
        steps = spec.get("steps")
        if not isinstance(steps, list) or not steps:
            raise RuleError(f"{where} needs steps = [{{ after_days = 3, note = \"...\" }}, ...]")
        found[name] = NurtureSequence(
            name=name, description=description.strip(),
            start_on_status=tuple(dict.fromkeys(s.strip() for s in statuses)),
            steps=tuple(_sequence_step(step, f"{where} step {i}") for i, step in enumerate(steps, 1)))
    return found


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
        score=_score(raw["score"], path, _custom_fields(raw.get("custom_fields", {}), path))
        if "score" in raw else Scoring(),
        auto_create_users=_flag(raw, "auto_create_users", path),
        timezone=_timezone(raw.get("timezone"), path),
        sla=_sla(raw["sla"], path) if "sla" in raw else Sla(),
        sequences=_sequences(raw.get("sequences", {}), path),
        intake=_intake(raw["intake"], path) if "intake" in raw else Intake(),
        files=_files(raw["files"], path) if "files" in raw else Files(),
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
