"""`leaddesk dupes` and `leaddesk merge`: find likely duplicate leads and merge them."""

from typing import Annotated, Any

import typer

from leaddesk.cli import output
from leaddesk.cli.app import JsonOpt, app, desk, reader
from leaddesk.cli.render import lead_json, one_line
from leaddesk.store.errors import LeadDeskError
from leaddesk.textsafe import safe_line


def _reason(reason: dict[str, Any]) -> str:
    numbers = ", ".join(f"#{n}" for n in reason["numbers"])
    if reason["why"] == "name":
        return f"similar name and company {numbers} ({reason['score']})"
    return f"same {reason['why']} {reason['value']} ({numbers})"


@app.command()
def dupes(
    threshold: Annotated[int, typer.Option(
        help="How similar names and companies must be, 50-100 (rapidfuzz token-sort ratio).")] = 90,
    exact: Annotated[bool, typer.Option("--exact", help="Only leads sharing a phone or email.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many groups (0: all).")] = 100,
    json_: JsonOpt = False,
) -> None:
    """List groups of likely duplicate leads: the same phone (in any format) or email, or a similar name and
    a similar company. Merge a group with `leaddesk merge KEEP OTHER...`."""
    groups = reader().duplicate_groups(threshold, fuzzy=not exact)
    shown = groups[:limit] if limit else groups
    if json_:
        output.emit_json(shown)
        return
    if not groups:
        output.say("no likely duplicates")
        return
    columns = ["number", "name", "company", "phone", "email", "status", "owner", "updated"]
    for position, group in enumerate(shown, start=1):
        why = " · ".join(_reason(r) for r in group["reasons"])
        output.table(f"Group {position}: {why}", columns,
                     [[x["number"], x["name"], x["company"], x["phone"], x["email"], x["status"], x["owner"],
                       (x["updated"] or "")[:16].replace("T", " ")] for x in group["leads"]])
        output.say(f"  leaddesk merge {' '.join(str(n) for n in group['numbers'])}")
    leads = sum(len(g["leads"]) for g in groups)
    more = f" (showing {len(shown)}; use --limit 0 for all)" if len(shown) < len(groups) else ""
    output.say(f"{len(groups)} group{'s' if len(groups) != 1 else ''} of likely duplicates, {leads} leads{more}")


def _takes(pairs: list[str]) -> dict[str, str]:
    take: dict[str, str] = {}
    for pair in pairs:
        name, eq, ref = pair.partition("=")
        if not eq or not name.strip() or not ref.strip():
            raise LeadDeskError(f"--take takes FIELD=REF (e.g. phone=12), not '{pair}'")
        take[name.strip()] = ref.strip()
    return take


def _counted(moved: dict[str, int]) -> str:
    words = {"activities": ("activity", "activities"), "deals": ("deal", "deals"),
             "history": ("history row", "history rows")}
    return ", ".join(f"{n} {words[k][n != 1]}" for k, n in moved.items() if n) or "nothing"


@app.command()
def merge(
    refs: Annotated[list[str] | None, typer.Argument(
        metavar="KEEP OTHER", help="The lead to keep, then the leads to merge into it (numbers, emails or"
                                      " phones); with --undo, the merge's id.")] = None,
    take: Annotated[list[str] | None, typer.Option(
        "--take", metavar="FIELD=REF", help="Take this field from lead REF, one of the merged leads by number"
                                            " (repeatable), e.g. --take phone=12 --take status=12.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the fields side by side; change nothing.")
                       ] = False,
    undo: Annotated[bool, typer.Option(
        "--undo", help="Undo a merge (default: your latest one): the merged leads come back with their numbers.")
                    ] = False,
    list_: Annotated[bool, typer.Option("--list", help="List merges, newest first.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Merge duplicate leads into one, in one step that can be undone.

    KEEP keeps its own values; a field that is empty on KEEP is filled from the first OTHER that has it (in
    the order given), and --take FIELD=REF takes a field from lead REF. KEEP's status (with its job value or
    lost reason) and its follow-up stay unless taken or, for the follow-up, empty. Tags are combined; custom
    fields merge like fields. Activities, history, deals and follow-ups move to KEEP, a note on KEEP lists
    the values not kept, and the OTHER leads are kept as merged-into records: `leaddesk show OTHER` says
    where they went and `leaddesk merge --undo` puts them back.
    """
    refs = refs or []
    if list_:
        if refs or undo or take or dry_run:
            raise LeadDeskError("--list takes no leads and no other option")
        _list_merges(json_)
        return
    if undo:
        _undo(refs, take, dry_run, json_)
        return
    if len(refs) < 2:
        raise LeadDeskError("name the lead to keep and the leads to merge into it: leaddesk merge KEEP OTHER...")
    keep, others = refs[0], refs[1:]
    if dry_run:
        _show_plan(reader().merge_plan(keep, others, _takes(take or [])), json_)
        return
    outcome = desk().merge(keep, others, _takes(take or []))
    if json_:
        output.emit_json({**{k: v for k, v in outcome.items() if k != "lead"}, "lead": lead_json(outcome["lead"])})
        return
    merged = ", ".join(f"#{n}" for n in outcome["merged"])
    filled = f"; changed {', '.join(outcome['changed'])}" if outcome["changed"] else ""
    output.say(f"merged {merged} into {one_line(outcome['lead'])} — moved {_counted(outcome['moved'])}{filled}"
               f" (merge {outcome['merge_id']}; undo with: leaddesk merge --undo {outcome['merge_id']})")


def _undo(refs: list[str], take: list[str] | None, dry_run: bool, json_: bool) -> None:
    if take or dry_run or len(refs) > 1:
        raise LeadDeskError("--undo takes at most a merge id (see leaddesk merge --list)")
    merge_id = None
    if refs:
        text = refs[0].strip()
        if not (text.isascii() and text.isdigit()):
            raise LeadDeskError(f"--undo takes a merge id (see leaddesk merge --list), not '{text}'")
        merge_id = int(text)
    outcome = desk().undo_merge(merge_id)
    if json_:
        output.emit_json(outcome)
        return
    restored = ", ".join(f"#{n}" for n in outcome["restored"])
    gone = f"; no longer there: {_counted(outcome['gone'])}" if outcome["gone"] else ""
    output.say(f"undid merge {outcome['merge_id']}: {restored} restored from #{outcome['keep']}"
               f" — moved back {_counted(outcome['moved_back'])}{gone}")


def _list_merges(json_: bool) -> None:
    rows = reader().merges()
    if json_:
        output.emit_json(rows)
        return
    output.table(None, ["id", "at", "user", "kept", "merged", "moved", "undone"],
                 [[r["id"], r["at"].replace("T", " "), r["user"], f"#{r['keep']}",
                   ", ".join(f"#{n}" for n in r["merged"]), _counted(r["moved"]), r["undone"]] for r in rows])


def _show_plan(plan: dict[str, Any], json_: bool) -> None:
    if json_:
        output.emit_json(plan)
        return
    leads = plan["leads"]
    columns = ["field", *(f"#{x['number']}" + (" (keep)" if i == 0 else "") for i, x in enumerate(leads)),
               "result"]
    rows = []
    for entry in plan["fields"]:
        how = {"kept": "", "filled": f"  ← #{entry['from']}", "taken": f"  ← #{entry['from']}",
               "union": "  (all)"}[entry["how"]]
        rows.append([entry["label"], *entry["values"], f"{safe_line(entry['result'] or '')}{how}"])
    output.table("Merge into #" + str(plan["keep"]) + " (dry run: nothing changed)", columns, rows)
    output.say(f"would move {_counted(plan['moves'])} from {', '.join(f'#{n}' for n in plan['others'])}")
