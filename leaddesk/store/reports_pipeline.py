"""Pipeline value by deal stage (issue 7). Definitions: see store/reports.py.

- Rows: every stage of every pipeline (the default pipeline first, then by name; stages in their order) with its
  open deals: how many, their value (deals without a value count as 0, noted) and their weighted value.
- Weighted value: neither stages nor deals carry a probability in this schema; a deal's lead does (the lead's
  `probability`, in percent, set with its expected revenue). Weighted = the sum of value x probability / 100 over
  the stage's open deals whose lead has a probability; None when none has one (the notes count the deals left
  out).
- Filters select the deals whose lead matches them (the lead's creation period, owner, source, type, partner);
  with no filter at all, deals without a lead (their lead was deleted) count too.
- Won and lost deals are summed in the notes (count and value).
"""

from __future__ import annotations

from typing import Any

from leaddesk.store.db import Tx
from leaddesk.store.reports import Chart, Column, Report, Scope, make, plural, summed, totals_row
from leaddesk.store.rules import format_money


def pipeline(tx: Tx, scope: Scope) -> Report:
    """Open deals per stage: deals, value, weighted value; won and lost deal totals in the notes."""
    stages = tx.all("SELECT s.id, s.name, p.name AS pipeline FROM stage s JOIN pipeline p ON p.id = s.pipeline_id"
                    " ORDER BY CASE WHEN p.is_default THEN 0 ELSE 1 END, p.name, p.id, s.position, s.id")
    per_stage = {int(r["stage_id"]): r for r in tx.all(
        "SELECT d.stage_id, count(*) AS deals, coalesce(sum(d.value_cents), 0) AS value,"
        " sum(CASE WHEN l.probability IS NOT NULL THEN coalesce(d.value_cents, 0) * l.probability ELSE 0 END)"
        " AS weighted100,"
        " sum(CASE WHEN l.probability IS NOT NULL THEN 1 ELSE 0 END) AS with_probability,"
        " sum(CASE WHEN d.value_cents IS NULL THEN 1 ELSE 0 END) AS no_value"
        f" FROM deal d LEFT JOIN lead l ON l.id = d.lead_id WHERE d.state = 'open' AND {scope.where}"
        " GROUP BY d.stage_id", scope.params)}
    columns = [Column("pipeline", "Pipeline", "text"), Column("stage", "Stage", "text"),
               Column("deals", "Deals"), Column("value", "Value", "money"),
               Column("weighted", "Weighted", "money")]
    rows: list[dict[str, Any]] = []
    no_probability = no_value = 0
    for stage in stages:
        found = per_stage.get(int(stage["id"]))
        deals = int(found["deals"]) if found else 0
        probable = int(found["with_probability"] or 0) if found else 0
        no_probability += deals - probable
        no_value += int(found["no_value"] or 0) if found else 0
        rows.append({"pipeline": stage["pipeline"], "stage": stage["name"], "deals": deals,
                     "value": int(found["value"] or 0) if found else 0,
                     "weighted": round(int(found["weighted100"] or 0) / 100) if probable and found else None})
    sums: dict[str, Any] = summed(rows, ("deals", "value"))
    weighted = [r["weighted"] for r in rows if r["weighted"] is not None]
    sums["weighted"] = sum(weighted) if weighted else None
    notes = ["open deals by stage; weighted: value x the probability of the deal's lead"]
    if no_probability:
        notes.append(f"{plural(no_probability, 'open deal')} left out of the weighted value: its lead has no"
                     " probability" if no_probability == 1 else
                     f"{no_probability} open deals left out of the weighted value: their leads have no probability")
    if no_value:
        notes.append(f"{plural(no_value, 'open deal')} without a value (counted as 0)")
    closed = {r["state"]: r for r in tx.all(
        "SELECT d.state, count(*) AS deals, coalesce(sum(d.value_cents), 0) AS value"
        f" FROM deal d LEFT JOIN lead l ON l.id = d.lead_id WHERE d.state IN ('won', 'lost') AND {scope.where}"
        " GROUP BY d.state", scope.params)}
    for state in ("won", "lost"):
        found = closed.get(state)
        count, value = (int(found["deals"]), int(found["value"] or 0)) if found else (0, 0)
        notes.append(f"{state}: {plural(count, 'deal')}, value {format_money(value)}")
    if scope.filtered:
        notes.append("deals of the leads that match the filters (a deal without a lead is left out)")
    return make("pipeline", scope, columns, rows, totals=totals_row(columns, sums),
                chart=Chart("bar", "stage", "value"), notes=notes)
