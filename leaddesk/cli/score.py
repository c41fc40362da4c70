"""`leaddesk score`: why a lead has its score, the [score] rules, and recomputing the automatic scores."""

from typing import Annotated, Any

import typer

from leaddesk.cli import output
from leaddesk.cli.app import JsonOpt, app, desk, reader
from leaddesk.store.errors import LeadDeskError
from leaddesk.textsafe import safe_line


@app.command("score")
def score(
    ref: Annotated[str | None, typer.Argument(help="Lead number, email or phone: explain its score.")] = None,
    recompute: Annotated[bool, typer.Option(
        "--recompute", help="Recompute every lead's automatic score now (cron: decay depends on the date).")
                         ] = False,
    rules: Annotated[bool, typer.Option("--rules", help="Show the [score] rules of the settings.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Explain a lead's score: manual + the [score] rules that gave points (see --rules).

    The total (manual + automatic) is what `list --sort score` and `--min-score` use. The desk recomputes the
    automatic scores on every change, and the day's decay when it opens; --recompute does it from a script.
    """
    if sum((ref is not None, recompute, rules)) != 1:
        raise LeadDeskError("give one of: a lead (leaddesk score 12), --rules or --recompute")
    if recompute:
        done = desk().recompute_scores()
        if json_:
            output.emit_json(done)
        else:
            output.say(f"recomputed {done['leads']} lead{'' if done['leads'] == 1 else 's'}:"
                       f" {done['changed']} changed")
        return
    if rules:
        _show_rules(reader().score_rules(), json_)
        return
    assert ref is not None
    _show_score(reader().explain_score(ref), json_)


def _show_score(found: dict[str, Any], json_: bool) -> None:
    if json_:
        output.emit_json(found)
        return
    output.say(f"#{found['number']} {safe_line(found['name'])}")
    output.say(f"score {found['total']} = manual {found['manual']} + rules {found['auto']}")
    for reason in found["reasons"]:
        output.say(f"  {reason['points']:>+5}  {safe_line(reason['text'])}")
    if not found["rules"] and not found["decay_per_day"]:
        output.note("no score rules in the settings ([score]): the score is the manual one")
    elif not found["reasons"]:
        output.say("  no rule gives this lead points")
    if found["stored_auto"] != found["auto"]:
        output.note(f"lists still use {found['stored_auto']} for the rules until the day's recompute"
                    " (leaddesk score --recompute)")


def _show_rules(found: dict[str, Any], json_: bool) -> None:
    if json_:
        output.emit_json(found)
        return
    if not found["rules"]:
        output.say("no score rules: every automatic score is 0 (see [score] in the settings)")
        return
    output.table("Score rules, in order", ["#", "Points", "Kind", "When"],
                 ([r["n"] or "", f"{r['points']:+d}", r["kind"], r["what"]] for r in found["rules"]))
    output.say(f"last recomputed {found['recomputed_on'] or 'never'}"
               + (f"; stale: {found['stale']} leads (leaddesk score --recompute)" if found["stale"] else ""))
    for warning in found["warnings"]:
        output.note(f"warning: {safe_line(warning)}")
