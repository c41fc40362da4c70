"""The lead reports (issue 7): volume, sources, funnel, owners, lost reasons. Definitions: see store/reports.py."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from leaddesk.store.db import Tx
from leaddesk.store.reports import (
    NO_REASON,
    NO_SOURCE,
    NOBODY,
    Chart,
    Column,
    Report,
    Scope,
    lead_counts,
    make,
    percent,
    plural,
    summed,
    totals_row,
)

MAX_BUCKETS = 3700
"""The volume report fills periods without leads with zeros up to this many rows (ten years of days)."""
COUNTS = ("leads", "open_now", "qualified_now", "won", "lost", "qualified", "won_value")


def _names(tx: Tx, sql: str) -> dict[Any, str]:
    return {r[0]: r[1] for r in tx.all(sql)}


def _by_size(rows: list[dict[str, Any]], label: str, missing: str) -> list[dict[str, Any]]:
    """Rows by leads (most first) then name; the row for "no value" last."""
    return sorted(rows, key=lambda r: (r[label] == missing, -r["leads"], str(r[label]).casefold()))


# -- volume ------------------------------------------------------------------------------------------------
def bucket_of(day: str, by: str) -> str:
    """The period a day (ISO) falls in: the day, the Monday of its ISO week, or `YYYY-MM`."""
    if by == "day":
        return day
    if by == "month":
        return day[:7]
    d = date.fromisoformat(day)
    return (d - timedelta(days=d.weekday())).isoformat()


def _step(d: date, by: str) -> date:
    if by == "day":
        return d + timedelta(days=1)
    if by == "week":
        return d + timedelta(days=7)
    return (d.replace(day=1) + timedelta(days=32)).replace(day=1)


def _fill(lo: str, hi: str, by: str) -> list[str] | None:
    """Every period from the one of day `lo` to the one of day `hi`; None when there would be too many."""
    current = date.fromisoformat(bucket_of(lo, by) if by != "month" else lo[:7] + "-01")
    end = date.fromisoformat(hi)
    out: list[str] = []
    while current <= end:
        out.append(bucket_of(current.isoformat(), by))
        if len(out) > MAX_BUCKETS:
            return None
        current = _step(current, by)
    return out


def volume(tx: Tx, scope: Scope) -> Report:
    """Leads created per day, ISO week (from Monday) or month, with their status category now."""
    by = scope.by
    per_day = lead_counts(tx, scope, "substr(l.created_at, 1, 10)", qualified=False)
    keys = ("leads", "open_now", "qualified_now", "won", "lost")
    buckets: dict[str, dict[str, int]] = {}
    odd = 0
    for r in per_day:
        try:
            key = bucket_of(str(r["k"]), by)
        except ValueError:  # a lead without a creation date (not written by leaddesk)
            odd += r["leads"]
            continue
        into = buckets.setdefault(key, dict.fromkeys(keys, 0))
        for k in keys:
            into[k] += r[k]
    days = sorted(str(r["k"]) for r in per_day if r["k"])
    today = scope.now[:10]
    notes = []
    lo = hi = None
    if scope.since or scope.until:  # the whole period; an open end is today
        last = max(today, days[-1]) if days else today
        lo, hi = scope.since or (days[0] if days else None), min(scope.until, last) if scope.until else last
    elif days:
        lo, hi = days[0], days[-1]
    if lo and hi and lo <= hi:
        filled = _fill(lo, hi, by)
        if filled is None:
            notes.append(f"only the {by}s with leads are listed (the period has more than {MAX_BUCKETS})")
        else:
            for key in filled:
                buckets.setdefault(key, dict.fromkeys(keys, 0))
    label = {"day": "Day", "week": "Week (Mon)", "month": "Month"}[by]
    columns = [Column("period", label, "text"), Column("leads", "Leads"), Column("open", "Open"),
               Column("qualified", "Qualified"), Column("won", "Won"), Column("lost", "Lost")]
    rows = [{"period": key, "leads": v["leads"], "open": v["open_now"], "qualified": v["qualified_now"],
             "won": v["won"], "lost": v["lost"]} for key, v in sorted(buckets.items())]
    sums = summed(rows, ("leads", "open", "qualified", "won", "lost"))
    notes.insert(0, "open, qualified, won, lost: the leads' status category now (they add up to the leads)")
    if not sums["leads"]:
        notes.append("no leads in the period")
    if odd:
        notes.append(f"{plural(odd, 'lead')} without a creation date left out")
    return make("volume", scope, columns, rows, totals=totals_row(columns, sums),
                chart=Chart("bar", "period", "leads"), notes=notes, extra_filters={"by": by})


# -- sources -----------------------------------------------------------------------------------------------
def sources(tx: Tx, scope: Scope) -> Report:
    """Per source (and "(no source)"): leads, qualified, won, conversion, won value; spend and costs on the totals
    row when filtered by one partner alone (see the definitions in store/reports.py)."""
    names = _names(tx, "SELECT id, name FROM source")
    counts = lead_counts(tx, scope, "l.source_id")
    columns = [Column("source", "Source", "text"), Column("leads", "Leads"), Column("qualified", "Qualified"),
               Column("won", "Won"), Column("conversion", "Conversion", "percent"),
               Column("won_value", "Won value", "money"), Column("spend", "Spend", "money"),
               Column("cost_per_lead", "Cost/lead", "money"),
               Column("cost_per_qualified", "Cost/qualified", "money")]
    rows = [{"source": NO_SOURCE if r["k"] is None else names.get(r["k"], f"#{r['k']}"), "leads": r["leads"],
             "qualified": r["qualified"], "won": r["won"], "conversion": percent(r["won"], r["leads"]),
             "won_value": r["won_value"], "spend": None, "cost_per_lead": None, "cost_per_qualified": None}
            for r in counts]
    rows = _by_size(rows, "source", NO_SOURCE)
    sums: dict[str, Any] = summed(rows, ("leads", "qualified", "won", "won_value"))
    sums["conversion"] = percent(sums["won"], sums["leads"])
    notes = []
    unsourced = sum(r["leads"] for r in counts if r["k"] is None)
    if unsourced:
        notes.append(f"{plural(unsourced, 'lead')} with no source")
    notes += _spend(tx, scope, sums)
    if not sums["leads"]:
        notes.append("no leads in the period")
    return make("sources", scope, columns, rows, totals=totals_row(columns, sums),
                chart=Chart("bar", "source", "leads"), notes=notes)


def _spend(tx: Tx, scope: Scope, sums: dict[str, Any]) -> list[str]:
    """Put spend, cost per lead and per qualified lead on the totals when they are defined; the notes why not."""
    if scope.partner_id is None:
        return ["cost per lead and per qualified lead: spend is recorded per partner, not per source;"
                " filter by one partner (--partner) to see them on the totals row"]
    if any(scope.applied[k] for k in ("owner", "source", "type")):
        return ["cost per lead and per qualified lead: a partner's spend is not split by owner, source or type;"
                " filter by the partner and the period alone to see them"]
    from leaddesk.store.partners import metrics

    spend = int(metrics(tx, scope.partner_id, scope.since, scope.until)["spend"])
    sums["spend"] = spend
    sums["cost_per_lead"] = round(spend / sums["leads"]) if sums["leads"] else None
    sums["cost_per_qualified"] = round(spend / sums["qualified"]) if sums["qualified"] else None
    notes = [f"spend: partner {scope.applied['partner']}'s spend entries dated in the period;"
             " cost per lead = spend / leads, per qualified lead = spend / qualified leads"]
    if not sums["leads"]:
        notes.append("cost per lead: no leads in the period")
    if not sums["qualified"]:
        notes.append("cost per qualified lead: no qualified leads in the period")
    return notes


# -- funnel ------------------------------------------------------------------------------------------------
def funnel(tx: Tx, scope: Scope) -> Report:
    """All leads -> contacted -> qualified (ever) -> won (now), with % of the previous step and of the first."""
    qualified = scope.qualified_sql()
    row = tx.one(
        "SELECT count(*) AS leads,"
        f" sum(CASE WHEN l.first_contact_at IS NOT NULL OR {qualified} THEN 1 ELSE 0 END) AS contacted,"
        f" sum(CASE WHEN {qualified} THEN 1 ELSE 0 END) AS qualified,"
        " sum(CASE WHEN s.category = 'won' THEN 1 ELSE 0 END) AS won,"
        " sum(CASE WHEN s.category = 'lost' THEN 1 ELSE 0 END) AS lost"
        f" FROM lead l JOIN status s ON s.id = l.status_id WHERE {scope.where}", scope.params)
    assert row is not None  # an aggregate always has a row
    values = {k: int(row[k] or 0) for k in ("leads", "contacted", "qualified", "won", "lost")}
    steps = [("All leads", "leads"), ("Contacted", "contacted"), ("Qualified", "qualified"), ("Won", "won")]
    columns = [Column("step", "Step", "text"), Column("leads", "Leads"),
               Column("of_previous", "% of previous", "percent"), Column("of_first", "% of all", "percent")]
    rows = []
    for i, (label, key) in enumerate(steps):
        previous = values[steps[i - 1][1]] if i else None
        rows.append({"step": label, "leads": values[key],
                     "of_previous": percent(values[key], previous) if previous is not None else None,
                     "of_first": percent(values[key], values["leads"])})
    notes = ["contacted: a first contact is recorded (a call, email or meeting; a move out of the first status)"
             " or the lead is qualified; qualified: ever reached a qualified status, has a deal, or is won now;"
             " won: won now",
             f"{plural(values['lost'], 'lead')} lost now"]
    if not values["leads"]:
        notes.append("no leads in the period")
    return make("funnel", scope, columns, rows, chart=Chart("funnel", "step", "leads"), notes=notes)


# -- owners ------------------------------------------------------------------------------------------------
def owners(tx: Tx, scope: Scope) -> Report:
    """Per owner (and "(nobody)"): leads, open (not closed), qualified, won, lost, conversion, won value."""
    logins = _names(tx, "SELECT id, login FROM \"user\"")
    counts = lead_counts(tx, scope, "l.owner_id")
    columns = [Column("owner", "Owner", "text"), Column("leads", "Leads"), Column("open", "Open"),
               Column("qualified", "Qualified"), Column("won", "Won"), Column("lost", "Lost"),
               Column("conversion", "Conversion", "percent"), Column("won_value", "Won value", "money")]
    rows = [{"owner": NOBODY if r["k"] is None else logins.get(r["k"], f"#{r['k']}"), "leads": r["leads"],
             "open": r["open_now"] + r["qualified_now"], "qualified": r["qualified"], "won": r["won"],
             "lost": r["lost"], "conversion": percent(r["won"], r["leads"]), "won_value": r["won_value"]}
            for r in counts]
    rows = _by_size(rows, "owner", NOBODY)
    sums: dict[str, Any] = summed(rows, ("leads", "open", "qualified", "won", "lost", "won_value"))
    sums["conversion"] = percent(sums["won"], sums["leads"])
    notes = ["open: not won or lost now (open and qualified statuses)"]
    unowned = sum(r["leads"] for r in counts if r["k"] is None)
    if unowned:
        notes.append(f"{plural(unowned, 'lead')} with no owner")
    if not sums["leads"]:
        notes.append("no leads in the period")
    return make("owners", scope, columns, rows, totals=totals_row(columns, sums),
                chart=Chart("bar", "owner", "leads"), notes=notes)


# -- lost reasons ------------------------------------------------------------------------------------------
def lost(tx: Tx, scope: Scope) -> Report:
    """Per lost reason (and "(no reason)") of the leads lost now: leads and share of the lost leads."""
    names = _names(tx, "SELECT id, name FROM lost_reason")
    counts = tx.all(
        "SELECT l.lost_reason_id AS k, count(*) AS leads FROM lead l JOIN status s ON s.id = l.status_id"
        f" WHERE s.category = 'lost' AND {scope.where} GROUP BY l.lost_reason_id", scope.params)
    total = sum(int(r["leads"]) for r in counts)
    columns = [Column("reason", "Reason", "text"), Column("leads", "Leads"), Column("share", "Share", "percent")]
    rows = [{"reason": NO_REASON if r["k"] is None else names.get(r["k"], f"#{r['k']}"), "leads": int(r["leads"]),
             "share": percent(int(r["leads"]), total)} for r in counts]
    rows = _by_size(rows, "reason", NO_REASON)
    notes = ["the leads lost now (a lost status), by their lost reason; share: of the lost leads"]
    if not total:
        notes.append("no lost leads in the period")
    return make("lost", scope, columns, rows, totals=totals_row(columns, {"leads": total,
                                                                           "share": percent(total, total)}),
                chart=Chart("bar", "reason", "leads"), notes=notes)
