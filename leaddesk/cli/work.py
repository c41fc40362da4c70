"""`leaddesk work`: the work queue from the command line (issue 6).

    leaddesk work                         the next lead to work, why, and the outcome keys
                                          (on a terminal: a loop, one key per lead; see `_loop`)
    leaddesk work --list                  the queue as a table
    leaddesk work OUTCOME REF [--note ..] [--date ..] [--reason ..]
                                          record an outcome (no-answer, reached, emailed, meeting, lost,
                                          qualify, skip; or its key 1-7), then show the next lead

`--all` works everyone's queue (managers). Every rule lives in the store (`Desk.work_outcome`, `queue.py`).
"""

import sys
from typing import Annotated, Any

import typer

from leaddesk.cli import output
from leaddesk.cli.app import JsonOpt, app, desk, reader
from leaddesk.cli.render import lead_json, one_line
from leaddesk.store.errors import LeadDeskError, NeedsChoice
from leaddesk.textsafe import safe_line

ACTIVITIES_SHOWN = 3


def _interactive() -> bool:
    """A person at a terminal (both ends), who can answer one key per lead."""
    return sys.stdin.isatty() and sys.stdout.isatty()


@app.command("work")
def work(
    outcome: Annotated[str | None, typer.Argument(
        help="no-answer, reached, emailed, meeting, lost, qualify or skip (or its key 1-7); none: show the next"
             " lead.")] = None,
    ref: Annotated[str | None, typer.Argument(help="The lead worked: number, email or phone.")] = None,
    note: Annotated[str | None, typer.Option(help="What happened (added to the activity; lost: the note).")] = None,
    date: Annotated[str | None, typer.Option(
        help="reached: the next follow-up; meeting: its date (tomorrow 10:00, friday, +3d, 2026-12-01).")] = None,
    reason: Annotated[str | None, typer.Option(help="lost: a reason from `leaddesk reasons`.")] = None,
    everyone: Annotated[bool, typer.Option("--all", help="Everyone's queue, not only yours (managers).")] = False,
    after: Annotated[str | None, typer.Option(help="Show the lead after this one in the queue.")] = None,
    list_: Annotated[bool, typer.Option("--list", help="The queue as a table.")] = False,
    limit: Annotated[int, typer.Option(help="With --list: how many leads.", min=1)] = 50,
    json_: JsonOpt = False,
) -> None:
    """Work the queue: overdue follow-ups, today's, SLA breaches, never-contacted leads, then by score.

    Without OUTCOME it shows the next lead, why it is due and the outcome keys; on a terminal (without --json or
    --list) it loops: one key per lead records the outcome and moves on. With OUTCOME REF it records the outcome
    (logs the activity, applies the status, schedules the next follow-up) and shows the next lead.
    """
    if outcome is not None and ref is None:
        raise LeadDeskError(f"which lead? leaddesk work {safe_line(outcome)} REF")
    if list_:
        _list(reader().work_queue(everyone=everyone, limit=limit, after=after), json_)
    elif outcome is None:
        looping = _interactive() and not json_
        d = desk() if looping else reader()
        item = d.next_in_queue(after, everyone=everyone)
        if looping:
            _loop(d, item, everyone)
        else:
            _show(item, d.work_outcomes(), json_)
    else:
        assert ref is not None
        _record(outcome, ref, note=note, date=date, reason=reason, everyone=everyone, json_=json_)


# -- showing -----------------------------------------------------------------------------------------------
def item_json(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """The public JSON form of a queue item."""
    if item is None:
        return None
    return {
        "number": item["number"], "name": item["contact_name"], "company": item["company"], "title": item["title"],
        "phone": item["phone"], "email": item["email"], "status": item["status"], "owner": item["owner"],
        "followup": {"on": item["followup_on"], "time": item["followup_time"], "note": item["followup_note"],
                     "words": item["followup"]},
        "sla": {"due_at": item["sla_due_at"], "first_contact_at": item["first_contact_at"], "words": item["sla"]},
        "score": {"total": item["total_score"], "auto": item["auto_score"], "manual": item["score"]},
        "bucket": item["bucket"], "reasons": item["reasons"], "cursor": item["cursor"],
        "position": item.get("position"), "total": item.get("total"), "version": item["version"],
        "activities": [{"kind": a["kind"], "body": a["body"], "at": a["at"], "user": a["user"]}
                       for a in item.get("activities", [])],
    }


def item_text(item: dict[str, Any]) -> list[str]:
    """A queue item as a compact card, one safe line each."""
    who = safe_line(item["contact_name"] or item["company"] or item["title"] or "")
    company = f" ({safe_line(item['company'])})" if item["company"] and item["contact_name"] else ""
    where = f"  {item['position']} of {item['total']}" if item.get("total") else ""
    owner = f" · {safe_line(item['owner'])}" if item["owner"] else " · unassigned"
    lines = [f"#{item['number']} {who}{company} · {safe_line(item['status'])}{owner}{where}"]

    def row(label: str, value: Any) -> None:
        if value not in (None, ""):
            lines.append(f"  {label:<10} {safe_line(str(value))}")

    row("why", "; ".join(item["reasons"]))
    row("phone", item["phone"])
    row("email", item["email"])
    followup = item["followup"] if item["followup_on"] else ""
    if followup and item["followup_note"]:
        followup += f": {item['followup_note']}"
    row("follow-up", followup)
    row("SLA", item["sla"])
    row("score", f"{item['total_score']} (auto {item['auto_score']}, manual {item['score']})")
    for i, activity in enumerate(item.get("activities", [])):
        when = activity["at"][:16].replace("T", " ")
        row("recent" if i == 0 else "", f"{when} {activity['kind']} {activity['user'] or ''}: {activity['body']}")
    return lines


def _keys(outcomes: list[dict[str, Any]]) -> str:
    return " · ".join(f"{o['key']} {o['name']}" for o in outcomes)


def _show(item: dict[str, Any] | None, outcomes: list[dict[str, Any]], json_: bool) -> None:
    if json_:
        output.emit_json({"lead": item_json(item), "outcomes": outcomes})
        return
    if item is None:
        output.say("nothing to work: the queue is empty")
        return
    for line in item_text(item):
        print(line)
    print(f"outcomes: {_keys(outcomes)}")
    print(f"record one: leaddesk work OUTCOME {item['number']} [--note TEXT] [--date WHEN] [--reason REASON]")


def _list(items: list[dict[str, Any]], json_: bool) -> None:
    if json_:
        output.emit_json([item_json(i) for i in items])
        return
    output.table(None, ["#", "Lead", "Company", "Status", "Owner", "Why"],
                 ([i["number"], i["contact_name"], i["company"], i["status"], i["owner"], "; ".join(i["reasons"])]
                  for i in items))


# -- recording ---------------------------------------------------------------------------------------------
def _summary(done: dict[str, Any]) -> str:
    parts = [f"{one_line(done['lead'])} · {done['label']}"]
    if done["status"]:
        parts.append(f"status {done['status']['from']} → {done['status']['to']}")
    if done["followup"]:
        follow = done["followup"]
        parts.append(f"follow-up {follow['on']}" + (f" {follow['time']}" if follow["time"] else ""))
    return safe_line(" · ".join(parts))


def _qualify(d: Any, ref: str) -> dict[str, Any]:
    """The qualify outcome: `leaddesk qualify REF` with its defaults (a new customer unless one matches)."""
    try:
        return dict(d.qualify(ref))
    except NeedsChoice as exc:
        raise LeadDeskError(f"{exc}: run leaddesk qualify {safe_line(ref)} --customer ID or --new-customer"
                            ) from None


def _record(outcome: str, ref: str, *, note: str | None, date: str | None, reason: str | None, everyone: bool,
            json_: bool) -> None:
    d = desk()
    chosen = next((o for o in d.work_outcomes() if outcome.strip() in (o["key"], o["name"])), None)
    if chosen is not None and chosen["action"] == "qualify":
        cursor = d.work_outcome(ref, "skip", everyone=everyone)["cursor"]  # where it was: the next comes after
        qualified = _qualify(d, ref)
        item = d.next_in_queue(cursor, everyone=everyone, wrap=True)
        if json_:
            output.emit_json({"outcome": "qualify", "lead": lead_json(qualified["lead"]),
                              "deal_id": qualified["deal_id"], "next": item_json(item)})
            return
        deal = f", deal {qualified['deal_id']} opened" if qualified["deal_id"] else ""
        output.say(f"{one_line(qualified['lead'])} · qualified{deal}")
        _next_line(item)
        return
    done = d.work_outcome(ref, outcome, note=note, date=date, reason=reason, everyone=everyone)
    item = d.next_in_queue(done["cursor"], everyone=everyone, wrap=True)  # None: from the top
    if json_:
        output.emit_json({**{k: v for k, v in done.items() if k != "lead"}, "lead": lead_json(done["lead"]),
                          "next": item_json(item)})
        return
    if done["outcome"] != "skip":
        output.say(_summary(done))
    for line in done["notes"]:
        output.note(f"note: {safe_line(line)}")
    _next_line(item)


def _next_line(item: dict[str, Any] | None) -> None:
    if item is None:
        output.say("next: nothing, the queue is done")
    else:
        who = safe_line(item["contact_name"] or item["company"] or "")
        output.say(f"next: #{item['number']} {who} · {safe_line('; '.join(item['reasons']))}")


# -- the loop ----------------------------------------------------------------------------------------------
def _ask(prompt: str) -> str:
    return input(prompt).strip()


def _loop(d: Any, item: dict[str, Any] | None, everyone: bool) -> None:
    """One lead at a time: show it, read a key (an outcome's key or name; n next, p back, q quit), ask what the
    outcome needs, record it, go to the next. A refusal is said and the same lead asked again."""
    outcomes = d.work_outcomes()
    by_key = {o["key"]: o for o in outcomes} | {o["name"]: o for o in outcomes}
    try:
        while item is not None:
            print()
            for line in item_text(item):
                print(line)
            answer = _ask(f"{_keys(outcomes)} · n next · p back · q quit > ").casefold()
            if answer in ("q", "quit"):
                return
            if answer in ("n", "p", "") or by_key.get(answer, {}).get("action") == "skip":
                back = answer == "p"
                step = d.next_in_queue(item["cursor"], everyone=everyone, back=back)
                if step is None:
                    output.note(f"that is the {'first' if back else 'last'} lead of the queue")
                item = step or item
                continue
            chosen = by_key.get(answer)
            if chosen is None:
                output.error(f"'{answer}' is not a key: choose {', '.join(o['key'] for o in outcomes)}, n, p or q")
                continue
            try:
                if chosen["action"] == "qualify":
                    qualified = _qualify(d, str(item["number"]))
                    output.say(f"{one_line(qualified['lead'])} · qualified")
                else:
                    options = _answers(d, chosen)
                    done = d.work_outcome(str(item["number"]), chosen["name"], everyone=everyone,
                                          expected_version=item["version"], **options)
                    output.say(_summary(done))
                    for line in done["notes"]:
                        output.note(f"note: {safe_line(line)}")
            except LeadDeskError as exc:
                output.error(str(exc))
                item = _again(d, item, everyone)  # as it is now (a conflict: someone changed it meanwhile)
                continue
            item = d.next_in_queue(item["cursor"], everyone=everyone, wrap=True)
        output.say("nothing left to work: the queue is done")
    except (EOFError, KeyboardInterrupt):
        print()


def _again(d: Any, item: dict[str, Any], everyone: bool) -> dict[str, Any] | None:
    """The queue's lead at `item`'s place, read again (the next one if it has left the queue)."""
    before = d.next_in_queue(item["cursor"], everyone=everyone, back=True)
    return d.next_in_queue(before["cursor"] if before else None, everyone=everyone)


def _answers(d: Any, outcome: dict[str, Any]) -> dict[str, str | None]:
    """Ask what the outcome asks for: a date, a reason (from the list), a note."""
    answers: dict[str, str | None] = {}
    if "date" in outcome["asks"]:
        needed = "date" in outcome["needs"]
        answers["date"] = _ask("date (tomorrow 10:00, friday, +3d)" + (": " if needed else ", or enter: ")) or None
    if "reason" in outcome["asks"]:
        reasons = [r["name"] for r in d.catalog_list("reasons")]
        for i, name in enumerate(reasons, 1):
            print(f"  {i} {safe_line(name)}")
        picked = _ask("reason (number or name): ")
        answers["reason"] = reasons[int(picked) - 1] if picked.isdigit() and 0 < int(picked) <= len(reasons) \
            else picked or None
    if "note" in outcome["asks"]:
        answers["note"] = _ask("note, or enter: ") or None
    return answers
