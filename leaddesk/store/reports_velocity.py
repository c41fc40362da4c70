"""Velocity (issue 7): how long leads take, from their status history. Definitions: see store/reports.py.

Status history: every change of a lead's status is a `history` row (entity 'lead', field 'status_id', `old` and
`new` the status ids as text, `at` when), written by creation ('create', old NULL), picks, reopen, won, lost,
qualify/convert and undo. An import writes no status row: its leads start in their status at `created_at`.

Measures (seconds; median and p90 over the leads that have the measure, in the filtered leads):
- created -> first contact: `lead.first_contact_at - created_at` (see store/sla.py for what a first contact is).
- created -> qualified: to the first of: entering a qualified-category status, its first deal's creation, or, for
  a lead won now, entering a won status. Only qualified leads (see the definitions) count; one that is
  qualified without any of those moments recorded (imported in a qualified or won status) is left out (noted).
- created -> won: for the leads won now, to the *last* time they entered a won status (the win that stands: a
  lead won, reopened and won again counts its second win). Won leads without such a row are left out (noted).
- time in each status: per lead, every stretch in the status added up (between the status history rows that
  enter and leave it; an imported or copied lead, which has no creation row, was in its first row's `old` status
  from `created_at`; the current status counts until now); statistics over the leads that were ever in it. Only
  open and qualified statuses are listed: a won or lost lead stays there until reopened, so its "time in Won" is
  only its age. A timeline that does not add up for a status (a merge moves the merged lead's history rows to
  the kept lead) leaves that status out for that lead.
Speed (100k leads, <= 1 s): a few queries, each aggregating in SQL and returning its durations joined into one
text per measure (a row per lead costs more than the SQL); on SQLite the time-in-status query (about half of the
report) runs on a second connection, on the same snapshot, while the others run (store/beside.py). Neither
measure reads `history`: the moments each lead entered each status and its time there are kept on write in
`lead_status_time` (migration 0006); reading and converting every status row took 1.3-2 s at 100k leads.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import replace
from typing import Any

from leaddesk.store.beside import in_parallel
from leaddesk.store.db import Tx
from leaddesk.store.reports import Column, Report, Scope, make, percentile, plural
from leaddesk.store.unmodelled import STATUS_TIME


def _seconds_list(text: str | None) -> list[int]:
    """Whole seconds aggregated by `Scope.joined` ("12,3600,...") as a sorted list, negatives as 0 (clock skew
    between an imported creation time and the history). Integers: parsing and sorting 250k of them is ~30% quicker
    than floats."""
    if not text:
        return []
    values = sorted(map(int, str(text).split(",")))
    below = bisect_left(values, 0)
    values[:below] = [0] * below
    return values


def _stat_row(label: str, ordered: list[int]) -> dict[str, Any]:
    return {"measure": label, "leads": len(ordered), "median": percentile(ordered, 50),
            "p90": percentile(ordered, 90)}


def velocity(tx: Tx, scope: Scope) -> Report:
    """Median and p90 of created -> first contact, -> qualified, -> won, and of the time in each open status."""
    columns = [Column("measure", "Measure", "text"), Column("leads", "Leads"),
               Column("median", "Median", "duration"), Column("p90", "p90", "duration")]
    if tx.dialect == "postgresql":  # the per-lead aggregates below spill to disk with the default 4 MB
        tx.execute("SET LOCAL work_mem = '64MB'")
    (milestones, first_contact), in_status = in_parallel(
        tx, lambda here: (_milestones(here, _own(scope)), _first_contacts(here, _own(scope))),
        lambda there: _time_in_status(there, _own(scope)))
    to_qualified, to_won, unknown_q, unknown_w = milestones
    rows = [_stat_row("Created → first contact", first_contact),
            _stat_row("Created → qualified", to_qualified),
            _stat_row("Created → won", to_won)]
    for status in scope.statuses:
        if status.category in ("open", "qualified"):
            rows.append(_stat_row(f"In {status.name}", in_status.get(str(status.id), [])))
    notes = ["durations from the lead's creation; time in a status: its stretches added up per lead, the current"
             " status until now (open and qualified statuses only)"]
    if unknown_q:
        notes.append(f"{plural(unknown_q, 'qualified lead')} without a recorded qualification time left out"
                     " (e.g. imported qualified)")
    if unknown_w:
        notes.append(f"{plural(unknown_w, 'won lead')} without a recorded win left out (e.g. imported as won)")
    return make("velocity", scope, columns, rows, notes=notes)


def _milestones(tx: Tx, scope: Scope) -> tuple[list[int], list[int], int, int]:
    """Seconds from creation to qualified and to won (see the module), and how many had no recorded moment.
    The moments a lead entered each status are kept per (lead, status) in `lead_status_time` (migration 0006): a
    lead was ever in a status when it has a row for it. Only the leads that may count are read (`ids`: those with
    a qualified or won row, a deal, or a qualified or won status now; ~20% of them in the bench desk), not every
    lead with two lookups each (at 100k leads, 25 runs interleaved with the old query on one host: median
    0.40 -> 0.34 s, best 0.30 -> 0.20 s; the whole report moves more with the host than with this)."""
    reached = scope.in_list("vq", scope.status_ids("qualified"))
    won = scope.in_list("vw", scope.status_ids("won"))
    either = scope.in_list("ve", scope.status_ids("qualified", "won"))
    seconds = scope.seconds
    qualified_at = scope.least(seconds("st.first_q", "l.created_at"), seconds("dl.first_deal", "l.created_at"),
                               f"CASE WHEN s.category = 'won' THEN {seconds('st.first_w', 'l.created_at')} END")
    row = tx.one(
        "WITH st AS (SELECT t.lead_id,"
        f" min(CASE WHEN t.status IN {reached} THEN t.first_in END) AS first_q,"
        f" min(CASE WHEN t.status IN {won} THEN t.first_in END) AS first_w,"
        f" max(CASE WHEN t.status IN {won} THEN t.last_in END) AS last_w,"
        f" max(CASE WHEN t.status IN {reached} THEN 1 ELSE 0 END) AS was_q"
        f" FROM {STATUS_TIME} t WHERE t.status IN {either} GROUP BY t.lead_id),"
        " dl AS (SELECT d.lead_id, min(d.created_at) AS first_deal FROM deal d WHERE d.lead_id IS NOT NULL"
        " GROUP BY d.lead_id),"
        " ids AS (SELECT lead_id AS id FROM st UNION SELECT lead_id FROM dl UNION SELECT lq.id FROM lead lq"
        " WHERE lq.status_id IN (SELECT id FROM status WHERE category IN ('qualified', 'won'))),"
        f" m AS (SELECT {qualified_at} AS q,"
        f" CASE WHEN s.category = 'won' THEN {seconds('st.last_w', 'l.created_at')} END AS w,"
        " CASE WHEN s.category = 'won' THEN 1 ELSE 0 END AS won_now"
        " FROM ids JOIN lead l ON l.id = ids.id JOIN status s ON s.id = l.status_id LEFT JOIN st ON st.lead_id = l.id"
        " LEFT JOIN dl ON dl.lead_id = l.id"
        " WHERE (st.was_q = 1 OR dl.lead_id IS NOT NULL OR s.category IN ('qualified', 'won'))"
        f" AND {scope.where})"
        f" SELECT {scope.joined('q')} AS q, {scope.joined('w')} AS w,"
        " coalesce(sum(CASE WHEN q IS NULL THEN 1 ELSE 0 END), 0) AS unknown_q,"
        " coalesce(sum(CASE WHEN won_now = 1 AND w IS NULL THEN 1 ELSE 0 END), 0) AS unknown_w FROM m",
        scope.params)
    assert row is not None  # an aggregate always has a row
    return (_seconds_list(row["q"]), _seconds_list(row["w"]), int(row["unknown_q"]), int(row["unknown_w"]))


def _own(scope: Scope) -> Scope:
    """The scope with a parameter dict of its own (the queries add to it, two of them at once)."""
    return replace(scope, params=dict(scope.params))


def _first_contacts(tx: Tx, scope: Scope) -> list[int]:
    """Seconds from creation to first contact, sorted, one per lead with a first contact."""
    moment = scope.epoch
    return _seconds_list(tx.scalar(
        f"SELECT {scope.joined(moment('l.first_contact_at') + ' - ' + moment('l.created_at'))} FROM lead l"
        f" WHERE {scope.where}", scope.params))


def _time_in_status(tx: Tx, scope: Scope) -> dict[str, list[int]]:
    """{status id (text): sorted seconds, one per lead that was ever in it} for the open and qualified statuses.

    A lead's time in S is the sum of the moments it left S (status rows with old = S, and now for its current
    status) minus the moments it entered S (rows with new = S). `lead_status_time` (migration 0006, kept by
    triggers on history) holds the history's part of that sum per (lead, status), and how many rows left S minus
    how many entered it; this adds now and 1 for the current status. When it left S once more than it entered, it
    was in S from its creation (an import or a copy writes no status row): minus `created_at`. Any other imbalance
    is a timeline this cannot follow (a merge moves another lead's rows in): that status is left out for that
    lead. Two sets, one pass: the leads in a measured status now (with their row for it, if any) and the rows of
    the other statuses they were in; each status's durations joined into one text (the creation time is read
    only where it counts: converting it on every row was ~15% of the query)."""
    ids = scope.status_ids("open", "qualified")
    wanted = scope.in_list("vs", ids)
    scope.params["v_now"] = scope.now
    moment = scope.epoch
    current = "CAST(l.status_id AS TEXT)"
    span = f"CASE WHEN b = 0 THEN v WHEN b = 1 THEN v - {moment('c')} END"
    rows = tx.all(
        f"SELECT status, {scope.joined(span)} AS spans"
        f" FROM (SELECT {current} AS status, coalesce(t.seconds, 0) + {moment(':v_now')} AS v,"
        " coalesce(t.balance, 0) + 1 AS b, l.created_at AS c"
        f" FROM lead l LEFT JOIN {STATUS_TIME} t ON t.lead_id = l.id AND t.status = {current}"
        f" WHERE {current} IN {wanted} AND {scope.where}"
        " UNION ALL SELECT t.status, t.seconds, t.balance, l.created_at"
        f" FROM {STATUS_TIME} t JOIN lead l ON l.id = t.lead_id"
        f" WHERE t.status IN {wanted} AND t.status <> {current} AND {scope.where}) x"
        " GROUP BY status", scope.params)
    spans = {str(r["status"]): _seconds_list(r["spans"]) for r in rows}
    return {status: spans.get(status, []) for status in ids}
