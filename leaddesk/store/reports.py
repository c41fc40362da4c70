"""Reports (issue 7): lead volume, source performance, velocity, the conversion funnel, owners, lost reasons and
pipeline value by stage, each as a `Report` (columns, rows, totals, a chart hint and notes) that the CLI prints
and the TUI draws. Everything is read in one transaction and aggregated in SQL (GROUP BY); nothing runs a query
per lead. The builders live in `reports_leads.py`, `reports_velocity.py` and `reports_pipeline.py`.

Definitions (the README says the same):
- A lead belongs to the period it was *created* in: `lead.created_at` (UTC) within [from, to], both dates
  inclusive, either open (as for partners). Every report honours the filters: period, owner (login), source,
  lead type and partner (names matched case-insensitively or by a unique prefix); for the pipeline report they
  select the deals whose lead matches (with no filter at all, deals without a lead count too).
- Categories are the statuses' categories *now*: open, qualified, won, lost.
- Qualified: the lead ever reached a status of the 'qualified' category (its status now, or its status history:
  it entered one, or left one it was imported in), or has a deal (qualifying opens one), or is won now. A lead
  won and then reopened is not qualified unless one of the other conditions holds.
- Won (converted): in a 'won' category status now; its job value is the won value. A lead won then reopened is
  not won (the reopen cleared its job value). Lost: in a 'lost' category status now.
- Contacted (funnel): a first contact is recorded (`lead.first_contact_at`: a call, email or meeting logged, a
  move out of the first status; see store/sla.py) or the lead is qualified.
- Conversion % = won / leads x 100. Percentages are None ("—") where the divisor is zero, never an error.
- Spend is only known per partner (partner spend entries, dated). So cost per lead (spend / leads) and cost per
  qualified lead (spend / qualified) are given on the sources report's totals row only when the report is
  filtered to one partner and by nothing else than the period: spend = that partner's spend entries dated in
  the period (as in partners.metrics). Otherwise they are None and a note says why: spend is not attributed to
  sources, owners or types.
- Velocity (see reports_velocity.py): durations in seconds from the lead's creation; median and p90 (linear
  between the closest ranks, as the SLA report) over the leads that have the measure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from leaddesk import clock
from leaddesk.store import catalog
from leaddesk.store.db import Tx
from leaddesk.store.errors import RuleError
from leaddesk.store.rules import StatusInfo, format_money, resolve_name

REPORTS: dict[str, str] = {
    "volume": "Lead volume",
    "sources": "Source performance",
    "velocity": "Velocity",
    "funnel": "Conversion funnel",
    "owners": "Owners",
    "lost": "Lost reasons",
    "pipeline": "Pipeline value by stage",
}
BY = ("day", "week", "month")
KINDS = ("text", "int", "money", "percent", "duration")
DASH = "—"
NO_SOURCE = "(no source)"
NOBODY = "(nobody)"
NO_REASON = "(no reason)"
TOTAL = "Total"


@dataclass(frozen=True)
class ReportFilters:
    """What a report covers: leads created in [since, until] (ISO dates, inclusive, UTC; None: open), of an
    owner (login), a source, a lead type, a partner (names; case-insensitive or a unique prefix); `by` groups the
    volume report (day, week (ISO, from Monday) or month)."""

    since: str | None = None
    until: str | None = None
    owner: str | None = None
    source: str | None = None
    type: str | None = None
    partner: str | None = None
    by: str = "week"


@dataclass(frozen=True)
class Column:
    """A report column: `kind` is text, int, money (cents), percent (float) or duration (seconds)."""

    key: str
    label: str
    kind: str = "int"


@dataclass(frozen=True)
class Chart:
    """How to chart a report: `kind` bar or funnel, the label and value column keys."""

    kind: str
    label: str
    value: str


@dataclass(frozen=True)
class Report:
    """A computed report. Row values are keyed by column key; None is undefined (shown "—"). The totals row has
    the same keys, with "Total" in the first column (other text columns "")."""

    name: str
    title: str
    filters: dict[str, Any]
    period: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    totals: dict[str, Any] | None = None
    chart: Chart | None = None
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """JSON-ready: money as currency units (like the rest of the CLI's JSON), durations in seconds."""
        def values(row: dict[str, Any]) -> dict[str, Any]:
            return {c.key: json_value(c.kind, row.get(c.key)) for c in self.columns}

        return {"name": self.name, "title": self.title, "period": self.period, "filters": dict(self.filters),
                "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in self.columns],
                "rows": [values(r) for r in self.rows],
                "totals": values(self.totals) if self.totals is not None else None,
                "chart": ({"kind": self.chart.kind, "label": self.chart.label, "value": self.chart.value}
                          if self.chart else None),
                "notes": list(self.notes)}


def json_value(kind: str, value: Any) -> Any:
    """A value for JSON: money in currency units, durations as whole seconds."""
    if value is None:
        return None
    if kind == "money":
        return round(value / 100, 2)
    if kind == "duration":
        return round(value)
    return value


def format_value(kind: str, value: Any) -> str:
    """A value as a table shows it: money `1,234.50`, percent `12.5%`, duration `3d 4h`; "—" for None."""
    if value is None:
        return DASH
    if kind == "money":
        return format_money(int(value))
    if kind == "percent":
        return f"{value:.1f}%"
    if kind == "duration":
        return duration_text(float(value))
    return str(value)


def duration_text(seconds: float) -> str:
    """`45s`, `12m`, `5h 07m`, `3d 4h`."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


# -- the scope: filters resolved into SQL over the lead alias `l` ------------------------------------------
@dataclass
class Scope:
    """Filters as applied: `where` (SQL over `lead l`) and its `params`, the resolved names (`applied`), the
    statuses, now."""

    where: str
    params: dict[str, Any]
    applied: dict[str, Any]
    statuses: list[StatusInfo]
    now: str
    since: str | None
    until: str | None
    partner_id: int | None
    by: str
    dialect: str

    @property
    def filtered(self) -> bool:
        """Whether any filter (period included) narrows the leads."""
        return any(self.applied.get(k) for k in ("since", "until", "owner", "source", "type", "partner"))

    def status_ids(self, *categories: str) -> list[str]:
        """The ids (as history stores them: text) of the statuses in these categories."""
        return [str(s.id) for s in self.statuses if s.category in categories]

    def in_list(self, prefix: str, values: list[str]) -> str:
        """`(:prefix0, :prefix1)` with the values added to params; `(NULL)` when empty (matches nothing)."""
        if not values:
            return "(NULL)"
        for i, value in enumerate(values):
            self.params[f"{prefix}{i}"] = value
        return "(" + ", ".join(f":{prefix}{i}" for i in range(len(values))) + ")"

    @property
    def status_moves(self) -> str:
        """SQL: the lead status rows of history as `h` (`FROM {scope.status_moves} WHERE ...`, the WHERE saying
        h.entity = 'lead' AND h.field = 'status_id'). On SQLite the partial index of those rows is named: the
        planner prefers the index on `entity`, which reads every lead history row (funnel at 100k leads: the
        qualified subquery 0.7 s -> 0.09 s)."""
        if self.dialect == "sqlite":
            return "history h INDEXED BY ix_history_lead_status"
        return "history h"

    def qualified_sql(self) -> str:
        """SQL true for a qualified lead (see the definitions); needs `status s` joined on the lead."""
        parts = ["s.category IN ('qualified', 'won')",
                 "l.id IN (SELECT d.lead_id FROM deal d WHERE d.lead_id IS NOT NULL)"]
        reached = self.status_ids("qualified")
        if reached:  # entered one, or left one it was imported in
            listed = self.in_list("rq", reached)
            parts.append(f"l.id IN (SELECT h.entity_id FROM {self.status_moves} WHERE h.entity = 'lead'"
                         f" AND h.field = 'status_id' AND (h.new IN {listed} OR h.old IN {listed}))")
        return "(" + " OR ".join(parts) + ")"

    def epoch(self, stamp: str) -> str:
        """SQL: a timestamp (text) as Unix seconds, on either database (as `lead_status_time` holds them)."""
        if self.dialect == "sqlite":
            return f"((julianday({stamp}) - 2440587.5) * 86400.0)"
        return f"date_part('epoch', CAST({stamp} AS timestamp))"  # double precision (EXTRACT gives numeric)

    def joined(self, seconds: str) -> str:
        """SQL aggregate: the non-NULL values of `seconds`, rounded to whole seconds (a negative one may be one
        off: callers read negatives as 0), as one text "3600,12,..." (parsed by the caller: far cheaper than a row
        per value): whole numbers in decimal on both databases."""
        if self.dialect == "sqlite":  # a cast, not round(): ~15% of the velocity report's time at 100k leads
            return f"group_concat(CAST(({seconds}) + 0.5 AS INTEGER), ',')"  # (a negative is read as 0 anyway)
        return f"string_agg(CAST(CAST(round({seconds}) AS BIGINT) AS TEXT), ',')"  # a float8 prints 1e+06

    def least(self, *values: str) -> str:
        """SQL: the smallest of numeric `values`, ignoring NULLs (NULL when all are)."""
        if self.dialect == "sqlite":  # min(a, b) is NULL when any is: a sentinel stands in for NULL
            return "NULLIF(min(" + ", ".join(f"coalesce({v}, 1e18)" for v in values) + "), 1e18)"
        return "LEAST(" + ", ".join(values) + ")"

    def seconds(self, later: str, earlier: str) -> str:
        """SQL: seconds from one timestamp (text) to another, on either database."""
        if self.dialect == "sqlite":
            return f"((julianday({later}) - julianday({earlier})) * 86400.0)"
        return f"EXTRACT(EPOCH FROM (CAST({later} AS timestamp) - CAST({earlier} AS timestamp)))"


def _given(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def resolve(tx: Tx, filters: ReportFilters) -> Scope:
    """Check the filters and resolve their names; a bad one is a one-line RuleError."""
    from leaddesk.store.partners import created_in, period

    since, until = period(_given(filters.since), _given(filters.until))
    by = (filters.by or "week").strip().lower()
    if by not in BY:
        raise RuleError(f"--by must be day, week or month, not '{filters.by}'")
    clauses, params = created_in(since, until, "f_")
    applied: dict[str, Any] = {"since": since, "until": until, "owner": None, "source": None, "type": None,
                               "partner": None}
    owner = _given(filters.owner)
    if owner:
        logins = [r[0] for r in tx.all("SELECT login FROM \"user\" ORDER BY login")]
        login = resolve_name(owner, logins, "owner")
        applied["owner"] = login
        clauses.append("l.owner_id = :f_owner")
        params["f_owner"] = tx.scalar("SELECT id FROM \"user\" WHERE login = :l", {"l": login})
    partner_id = None
    for key, table, what in (("source", "source", "source"), ("type", "lead_type", "lead type"),
                             ("partner", "partner", "partner")):
        text = _given(getattr(filters, key))
        if text:
            found = catalog.find_id(tx, table, text, what)
            applied[key] = catalog.name_of(tx, table, found)
            clauses.append(f"l.{key}_id = :f_{key}")
            params[f"f_{key}"] = found
            if key == "partner":
                partner_id = found
    return Scope(where=" AND ".join(clauses) or "1 = 1", params=params, applied=applied,
                 statuses=catalog.statuses(tx), now=clock.stamp(), since=since, until=until,
                 partner_id=partner_id, by=by, dialect=tx.dialect)


def period_words(since: str | None, until: str | None) -> str:
    """`2026-11-01 to 2026-11-30`, `from 2026-11-01`, `until 2026-11-30`, `all time`."""
    if since and until:
        return f"{since} to {until}"
    if since:
        return f"from {since}"
    if until:
        return f"until {until}"
    return "all time"


def percent(part: int | float, whole: int | float) -> float | None:
    """part / whole x 100, to 0.1; None when whole is 0."""
    return round(part / whole * 100, 1) if whole else None


def percentile(ordered: Sequence[float], p: float) -> float | None:
    """The p-th percentile of sorted values (linear between the closest ranks; the median for 50); None if empty."""
    if not ordered:
        return None
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def lead_counts(tx: Tx, scope: Scope, key_sql: str, *, qualified: bool = True) -> list[dict[str, Any]]:
    """Per value of `key_sql` (over `lead l`, `status s`): leads; by category now (open, qualified_now, won,
    lost); qualified (ever, see the definitions; 0 with `qualified` off); won_value (cents). One GROUP BY query."""
    ever = scope.qualified_sql() if qualified else "1 = 0"
    rows = tx.all(
        f"SELECT {key_sql} AS k, count(*) AS leads,"
        " sum(CASE WHEN s.category = 'open' THEN 1 ELSE 0 END) AS open_now,"
        " sum(CASE WHEN s.category = 'qualified' THEN 1 ELSE 0 END) AS qualified_now,"
        " sum(CASE WHEN s.category = 'won' THEN 1 ELSE 0 END) AS won,"
        " sum(CASE WHEN s.category = 'lost' THEN 1 ELSE 0 END) AS lost,"
        f" sum(CASE WHEN {ever} THEN 1 ELSE 0 END) AS qualified,"
        " sum(CASE WHEN s.category = 'won' THEN coalesce(l.job_value_cents, 0) ELSE 0 END) AS won_value"
        f" FROM lead l JOIN status s ON s.id = l.status_id WHERE {scope.where} GROUP BY {key_sql}",
        scope.params)
    keys = ("leads", "open_now", "qualified_now", "won", "lost", "qualified", "won_value")
    return [{"k": r["k"], **{k: int(r[k] or 0) for k in keys}} for r in rows]


def summed(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[str, int]:
    """The column sums of `rows` for `keys`."""
    return {k: sum(int(r[k] or 0) for r in rows) for k in keys}


def totals_row(columns: list[Column], values: dict[str, Any]) -> dict[str, Any]:
    """A totals row: "Total" in the first column, "" in other text columns, `values` elsewhere (None if absent)."""
    row: dict[str, Any] = {}
    for i, col in enumerate(columns):
        if col.kind == "text":
            row[col.key] = TOTAL if i == 0 else ""
        else:
            row[col.key] = values.get(col.key)
    return row


def plural(n: int, word: str) -> str:
    """`1 lead`, `3 leads`."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# -- entry point -------------------------------------------------------------------------------------------
def report_name(name: str) -> str:
    """A report name (exact, case-insensitive, or a unique prefix); unknown ones are refused listing the names."""
    return resolve_name(name or "", list(REPORTS), "report")


RUN_BESIDE = frozenset({"velocity"})
"""The reports that run two queries at once, on a side reader (store/beside.py); the others read alone."""


def runs_beside(name: str) -> bool:
    """Whether report `name` wants a side reader (False for a name `build` will refuse)."""
    try:
        return report_name(name) in RUN_BESIDE
    except RuleError:
        return False


def build(tx: Tx, name: str, filters: ReportFilters | None = None) -> Report:
    """Compute report `name` under `filters` (see the module's definitions)."""
    chosen = report_name(name)
    scope = resolve(tx, filters or ReportFilters())
    if chosen == "velocity":
        from leaddesk.store.reports_velocity import velocity

        return velocity(tx, scope)
    if chosen == "pipeline":
        from leaddesk.store.reports_pipeline import pipeline

        return pipeline(tx, scope)
    from leaddesk.store import reports_leads

    builder = {"volume": reports_leads.volume, "sources": reports_leads.sources, "funnel": reports_leads.funnel,
               "owners": reports_leads.owners, "lost": reports_leads.lost}[chosen]
    return builder(tx, scope)


def make(name: str, scope: Scope, columns: list[Column], rows: list[dict[str, Any]], *,
         totals: dict[str, Any] | None = None, chart: Chart | None = None, notes: list[str] | None = None,
         extra_filters: dict[str, Any] | None = None) -> Report:
    """A Report with the scope's applied filters and period words."""
    return Report(name=name, title=REPORTS[name], filters={**scope.applied, **(extra_filters or {})},
                  period=period_words(scope.since, scope.until), columns=columns, rows=rows, totals=totals,
                  chart=chart, notes=notes or [])
