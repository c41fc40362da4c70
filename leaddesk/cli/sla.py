"""`leaddesk sla`: leads past their first-contact SLA, the time-to-first-contact report, the recompute;
`leaddesk notices`: the acting user's notices (SLA escalations...)."""

from typing import Annotated, Any

import typer

from leaddesk.cli import output
from leaddesk.cli.app import JsonOpt, app, desk, reader
from leaddesk.store.errors import LeadDeskError
from leaddesk.store.sla import hours_text


@app.command("sla")
def sla(
    report: Annotated[bool, typer.Option(
        "--report", help="Time to first contact in working hours: count, median, p90, share within the SLA,"
        " per owner.")] = False,
    since: Annotated[str | None, typer.Option(help="With --report: leads created on or after this date.")] = None,
    recompute: Annotated[bool, typer.Option(
        "--recompute", help="Managers: give open, uncontacted leads (e.g. from before the SLA) the due time of"
        " the current [sla] settings.")] = False,
    mine: Annotated[bool, typer.Option("--mine", help="Only my leads.")] = False,
    owner: Annotated[str | None, typer.Option(help="Only this owner's leads.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many (0: all).")] = 100,
    json_: JsonOpt = False,
) -> None:
    """Leads not contacted within the SLA ([sla] in the settings), longest overdue first; new breaches are
    escalated to the managers' desks as they are seen."""
    if report and recompute:
        raise LeadDeskError("--report and --recompute exclude each other")
    if since and not report:
        raise LeadDeskError("--since goes with --report")
    if recompute:
        _recompute(json_)
    elif report:
        _report(reader().sla_report(since), json_)
    else:
        d = reader()
        found = d.sla_breaches(owner, mine=mine, limit=limit or None)
        if json_:
            output.emit_json(found)
            return
        output.say(d.sla_policy())
        output.table(None, ["#", "Lead", "Owner", "Status", "Created", "Due", "Overdue"],
                     ([b["number"], b["name"], b["owner"], b["status"], b["created"], b["due"], b["overdue"]]
                      for b in found))
        if found:
            output.say(f"{len(found)} lead{'' if len(found) == 1 else 's'} past the SLA"
                       + (f" (at most {limit}: --limit 0 for all)" if limit and len(found) == limit else ""))


def _recompute(json_: bool) -> None:
    done = desk().sla_recompute()
    if json_:
        output.emit_json(done)
        return
    output.say(f"{done['due']} open lead{'' if done['due'] == 1 else 's'} given a due time;"
               f" {done['contacted']} first contact{'' if done['contacted'] == 1 else 's'} found;"
               f" {done['breached']} in breach; {done['notices']} notice{'' if done['notices'] == 1 else 's'} sent")


def _hours(value: float | None) -> str:
    return "-" if value is None else hours_text(value)


def _share(stats: dict[str, Any]) -> str:
    if not stats["contacted"]:
        return "-"
    return f"{stats['within_sla']} of {stats['contacted']} ({stats['share_within']:.0%})"


def _report(found: dict[str, Any], json_: bool) -> None:
    if json_:
        output.emit_json(found)
        return
    output.say(found["sla"] + (f" · leads created since {found['since']}" if found["since"] else ""))
    output.say(f"contacted {found['contacted']} · median {_hours(found['median_hours'])}"
               f" · p90 {_hours(found['p90_hours'])} · within the SLA {_share(found)}"
               f" · in breach now {found['breached']} · not yet due {found['pending']}")
    output.table("Per owner", ["Owner", "Contacted", "Median", "P90", "Within SLA", "In breach", "Not yet due"],
                 ([o["owner"] or "(unassigned)", o["contacted"], _hours(o["median_hours"]), _hours(o["p90_hours"]),
                   _share(o), o["breached"], o["pending"]] for o in found["owners"]))


@app.command("notices")
def notices(
    all_: Annotated[bool, typer.Option("--all", help="Read ones too.")] = False,
    read: Annotated[bool, typer.Option("--read", help="Mark my unread notices read.")] = False,
    json_: JsonOpt = False,
) -> None:
    """My notices (SLA breaches escalated to me...), oldest first; unread ones unless --all."""
    d = reader()
    d.sla_escalate()  # a breach nobody saw yet is a notice now
    if read:
        marked = d.mark_notices_read()
        if json_:
            output.emit_json({"marked_read": marked})
        else:
            output.say(f"{marked} notice{'' if marked == 1 else 's'} marked read")
        return
    found = d.notices(include_read=all_)
    if json_:
        output.emit_json(found)
        return
    output.table(None, ["When", "Kind", "Lead", "Notice"] + (["Read"] if all_ else []),
                 ([n["when"], n["kind"], n["lead"], n["text"]] + (["yes" if n["read_at"] else ""] if all_ else [])
                  for n in found))
