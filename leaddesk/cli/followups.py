"""`leaddesk followup` (its --help; the command itself runs on the quick path) and `leaddesk followups`."""

from enum import StrEnum
from typing import Annotated, Any

import typer

from leaddesk.cli import output
from leaddesk.cli.app import JsonOpt, app, desk, reader
from leaddesk.store.queries import LeadFilter

OVERDUE_EXIT = 2


@app.command()
def followup(
    ref: Annotated[str, typer.Argument(help="Lead number, email or phone.")],
    when: Annotated[list[str], typer.Argument(
        help="2026-12-01, today, tomorrow, +3d, +2w, monday, next week, with a time if you like"
             " (tomorrow 14:30, fri at 2pm); `none` clears it; `done` marks it done.")],
    at: Annotated[str | None, typer.Option(
        "--at", help="The time: 14:30, 2pm (`none` clears it; without --at the time is kept).")] = None,
    note: Annotated[str | None, typer.Option(
        "--note", help="What to do (kept when not given; `none` clears it). With done: the outcome.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Set, clear or mark done a lead's follow-up, in the desk's time zone (the `timezone` setting).

    A new date keeps the time and note unless given. A past date is accepted (it is then overdue).
    `done` logs the note "follow-up done: NOTE" on the timeline and clears the follow-up.
    """
    from leaddesk.cli.quick import followup as run_followup
    from leaddesk.cli.render import lead_json

    options = {k: v for k, v in (("at", at), ("note", note)) if v is not None}
    detail, message = run_followup(desk(), ref, " ".join(when), options)
    output.emit_json(lead_json(detail)) if json_ else output.say(message)


class Due(StrEnum):
    today = "today"
    week = "week"
    overdue = "overdue"


DUE_FILTER = {None: "any", Due.today: "by-today", Due.week: "by-week", Due.overdue: "overdue"}


@app.command("followups")
def followups_(
    due: Annotated[Due | None, typer.Option(
        help="today: overdue and due today; week: overdue and due by Sunday; overdue: only those."
             " Default: every follow-up.")] = None,
    mine: Annotated[bool, typer.Option("--mine", help="Only my leads.")] = False,
    owner: Annotated[str | None, typer.Option(help="Only this owner's leads.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows (0: all).")] = 200,
    json_: JsonOpt = False,
) -> None:
    """Follow-ups of open leads by day (overdue first), in the desk's time zone.

    Exit code: 0 when none of the listed follow-ups is overdue, 2 when one is (also with --json), so that
    `leaddesk followups --due today --mine` works in a shell prompt or cron; 1 on an error.
    """
    from leaddesk.store import followups

    flt = LeadFilter(due=DUE_FILTER[due], mine=mine, owner=owner, limit=limit or None)
    d = reader()
    groups = d.agenda_groups(flt)
    rows = d.agenda(flt)
    total = sum(g["count"] for g in groups)
    overdue = sum(g["count"] for g in groups if g["bucket"] == "overdue")
    if json_:
        now = followups.local_now(d.settings)
        output.emit_json({
            "now": now.strftime("%Y-%m-%dT%H:%M"), "timezone": d.settings.timezone or str(now.tzname()),
            "total": total, "overdue": overdue,
            "groups": [{"day": g["label"], "bucket": g["bucket"], "count": g["count"]} for g in groups],
            "followups": [_json_row(r) for r in rows],
        })
    else:
        _print_groups(groups, rows)
        summary = f"{total} follow-up{'s' if total != 1 else ''}, {overdue} overdue"
        if total > len(rows):
            summary += f" (showing {len(rows)}; --limit 0 for all)"
        output.say(summary)
    if overdue:
        raise typer.Exit(OVERDUE_EXIT)


def _json_row(r: dict[str, Any]) -> dict[str, Any]:
    return {"number": r["number"], "contact": r["contact_name"], "company": r["company"], "status": r["status"],
            "owner": r["owner"], "date": r["followup_on"], "time": r["followup_time"], "note": r["followup_note"],
            "due": r["due"], "day": r["day"], "phone": r["phone"], "email": r["email"]}


def _print_groups(groups: list[dict[str, Any]], rows: list[dict[str, Any]]) -> None:
    columns = ["date", "time", "number", "contact", "company", "status", "owner", "note"]
    counts = {g["bucket"]: g["count"] for g in groups}
    shown: dict[str, list[list[Any]]] = {}
    labels: dict[str, str] = {}
    for r in rows:
        labels[r["bucket"]] = r["day"]
        shown.setdefault(r["bucket"], []).append(
            [r["followup_on"], r["followup_time"] or "", r["number"], r["contact_name"], r["company"], r["status"],
             r["owner"], r["followup_note"]])
    if not shown:
        output.table(None, columns, [])
        return
    for bucket, values in shown.items():
        output.table(f"{labels[bucket]} ({counts.get(bucket, len(values))})", columns, values)
