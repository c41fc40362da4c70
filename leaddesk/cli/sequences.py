"""`leaddesk sequence list|show|status|start|stop|text`: nurture sequences (issue 6).

Definitions live in the settings ([sequences.NAME]); a lead runs at most one at a time. `text` prints the current
step's text to send (only the text on stdout, so it can be piped to a clipboard tool; `--mailto` prints a mailto:
URL instead).
"""

import sys
from datetime import date
from typing import Annotated, Any

import typer

from leaddesk.cli import output
from leaddesk.cli.app import JsonOpt, app, desk, reader
from leaddesk.textsafe import safe, safe_line, truncate

sequence_app = typer.Typer(help="Nurture sequences: follow-up steps from the settings, run on a lead.",
                           no_args_is_help=True)
app.add_typer(sequence_app, name="sequence")


def _lead(state: dict[str, Any]) -> str:
    name = safe_line(state["name"])
    return f"lead #{state['number']}" + (f" {name}" if name else "")


def _when(day: str | None, today: date) -> str:
    if not day:
        return "no follow-up set"
    from leaddesk.dates import format_relative

    return f"{day} ({format_relative(date.fromisoformat(day), today)})"


def _today(d: Any) -> date:
    from leaddesk import clock

    return clock.local_now(d.settings.timezone).date()


def _progress(run: dict[str, Any]) -> str:
    name = safe_line(run["sequence"])
    return f"{name}: step {run['step']} of {run['steps']}" if run["steps"] else f"{name}: step {run['step']}"


@sequence_app.command("list")
def list_(json_: JsonOpt = False) -> None:
    """The sequences defined in the settings and how many leads run each."""
    rows = reader().sequences()
    if json_:
        output.emit_json(rows)
        return
    if not rows:
        output.say("no sequences are defined: add [sequences.NAME] tables to the settings file"
                   " (`leaddesk config path` shows where it is)")
        return
    output.table(None, ["Sequence", "Steps", "Starts on", "Running", "Description"],
                 ([r["name"], len(r["steps"]) if r["defined"] else "(not defined)", ", ".join(r["start_on_status"]),
                   r["running"], r["description"]] for r in rows))
    for row in rows:
        for problem in row["problems"]:
            output.note(f"warning: {safe_line(problem)}")


@sequence_app.command("show")
def show(name: Annotated[str, typer.Argument(help="The sequence (a unique prefix is enough).")],
         json_: JsonOpt = False) -> None:
    """One sequence's steps: when each follow-up falls, its note and its text to send."""
    seq = reader().sequence(name)
    if json_:
        output.emit_json(seq)
        return
    head = safe_line(seq["name"]) + (f" — {safe_line(seq['description'])}" if seq["description"] else "")
    output.say(head)
    starts = ", ".join(safe_line(s) for s in seq["start_on_status"]) or "nothing (start it by hand)"
    output.say(f"starts on: {starts} · running on {seq['running']} lead{'' if seq['running'] == 1 else 's'}")
    day, rows = 0, []
    for step in seq["steps"]:
        day += step["after_days"]
        text = step["template"].strip().splitlines()[0] if step["template"].strip() else ""
        rows.append([step["step"], f"+{step['after_days']}d", f"day {day}", step["note"], step["subject"],
                     truncate(text, 50)])
    output.table(None, ["#", "After", "When", "Note", "Subject", "Text"], rows)
    for problem in seq["problems"]:
        output.note(f"warning: {safe_line(problem)}")


@sequence_app.command("status")
def status(ref: Annotated[str, typer.Argument(help="Lead number, phone or email.")], json_: JsonOpt = False) -> None:
    """A lead's running sequence (step k of n, next date, the step's note) and the ones it ran before."""
    d = reader()
    state = d.lead_sequence(ref)
    if json_:
        output.emit_json(state)
        return
    run = state["current"]
    if run is None:
        output.say(f"{_lead(state)} runs no sequence")
    else:
        note = f" · {safe_line(run['note'])}" if run["note"] else ""
        output.say(f"{_lead(state)} · {_progress(run)} · next {_when(run['next_at'], _today(d))}{note}")
    past = [r for r in state["history"] if r["state"] != "running"]
    if past:
        output.table("Earlier", ["Sequence", "State", "Step", "Started", "By", "Ended"],
                     ([r["sequence"], r["state"], f"{r['step']} of {r['steps']}" if r["steps"] else r["step"],
                       r["started_at"].replace("T", " "), r["started_by"], r["updated_at"].replace("T", " ")]
                      for r in past))


@sequence_app.command("start")
def start(ref: Annotated[str, typer.Argument(help="Lead number, phone or email.")],
          name: Annotated[str, typer.Argument(help="The sequence (a unique prefix is enough).")],
          replace: Annotated[bool, typer.Option("--replace", help="Stop the lead's running sequence first.")
                             ] = False,
          json_: JsonOpt = False) -> None:
    """Start a sequence on an open lead: its first step becomes the lead's follow-up."""
    d = desk()
    state = d.start_sequence(ref, name, replace=replace)
    if json_:
        output.emit_json(state)
        return
    run = state["current"]
    note = f": {safe_line(run['note'])}" if run["note"] else ""
    output.say(f"{_lead(state)} · sequence {_progress(run)} started · follow-up {_when(run['next_at'], _today(d))}"
               f"{note}")


@sequence_app.command("stop")
def stop(ref: Annotated[str, typer.Argument(help="Lead number, phone or email.")], json_: JsonOpt = False) -> None:
    """Stop the lead's running sequence (its follow-up stays as it is)."""
    state = desk().stop_sequence(ref)
    if json_:
        output.emit_json(state)
        return
    last = state["history"][0]
    output.say(f"{_lead(state)} · sequence {_progress(last)} stopped (the follow-up stays)")


@sequence_app.command("text")
def text(ref: Annotated[str, typer.Argument(help="Lead number, phone or email.")],
         mailto: Annotated[bool, typer.Option("--mailto", help="Print a mailto: URL (to, subject, body).")] = False,
         json_: JsonOpt = False) -> None:
    """Print the current step's text to send, filled for the lead (sending it is up to you)."""
    filled = reader().sequence_text(ref, mailto=mailto)
    if json_:
        output.emit_json(filled)
        return
    if mailto:
        sys.stdout.write(filled["mailto"] + "\n")
        return
    to = f" · to {safe_line(filled['to'])}" if filled["to"] else " · no email address"
    subject = f" · subject: {safe_line(filled['subject'])}" if filled["subject"] else ""
    output.note(f"lead #{filled['number']} · {safe_line(filled['sequence'])} step {filled['step']} of"
                f" {filled['steps']}{to}{subject}")
    sys.stdout.write(safe(filled["body"]).rstrip("\n") + "\n")
