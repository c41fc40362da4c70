"""`leaddesk assign`: show the assignment rules, or apply them to unassigned leads (`--rerun`)."""

from typing import Annotated, Any

import typer

from leaddesk.cli import output
from leaddesk.cli.app import JsonOpt, app, desk, reader
from leaddesk.textsafe import safe_line


@app.command("assign")
def assign(
    rerun: Annotated[bool, typer.Option(
        "--rerun", help="Give every unassigned open lead an owner by the [assignment] rules.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="With --rerun: show who would get what, write nothing.")
                       ] = False,
    json_: JsonOpt = False,
) -> None:
    """Show the assignment rules and their problems, or apply them to unassigned leads with --rerun."""
    if not rerun:
        _show(reader().assignment_rules(), json_)
        return
    done = desk().assign_rerun(dry_run=dry_run)
    if json_:
        output.emit_json({"dry_run": dry_run, "leads": done})
        return
    _print_rerun(done, dry_run)


def _print_rerun(done: list[dict[str, Any]], dry_run: bool) -> None:
    if not done:
        output.say("no unassigned open leads")
        return
    output.table(None, ["#", "Lead", "Owner", "Rule"],
                 ([row["number"], row["name"], row["owner"] or "(unassigned)", row["rule"]] for row in done))
    given = sum(1 for row in done if row["owner"])
    verb = "would assign" if dry_run else "assigned"
    output.say(f"{verb} {given} of {len(done)} unassigned lead{'' if len(done) == 1 else 's'}")
    seen: set[str] = set()
    for row in done:
        for problem in row["problems"]:
            if problem not in seen:
                seen.add(problem)
                output.note(f"warning: {safe_line(problem)}")


def _show(rules: dict[str, Any], json_: bool) -> None:
    if json_:
        output.emit_json(rules)
        return
    if not rules["enabled"]:
        output.say("assignment is off (new leads go to whoever adds them); see [assignment] in the settings")
    else:
        how = "fewest open leads" if rules["balance"] == "open" else "turns (round-robin)"
        output.say(f"assignment is on; a team's lead goes to its active rep with the {how}"
                   if rules["balance"] == "open" else f"assignment is on; a team's reps take {how}")
    rows: list[list[Any]] = [[f"zone {k}", v] for k, v in rules["by_zone"].items()]
    rows += [[f"source {k}", v] for k, v in rules["by_source"].items()]
    if rules["default_team"]:
        rows.append(["otherwise", rules["default_team"]])
    output.table("Rules, in order", ["When", "Goes to"], rows)
    output.table("Teams", ["Team", "Reps", "Last served"],
                 ([team, ", ".join(t["members"]), t["last"] or ""] for team, t in rules["teams"].items()))
    for problem in rules["problems"]:
        output.note(f"warning: {safe_line(problem)}")
