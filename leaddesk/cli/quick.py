"""The quick path: `status`, `note`, `followup` and `show`, parsed by hand-rolled code.

Same service functions as everywhere else (`leaddesk.store`), opened on the raw
SQLite driver; only the argument parsing and printing are lean here.
"""

import sys

from leaddesk.cli import take_options
from leaddesk.store.errors import LeadDeskError

USAGE = {
    "status": "leaddesk status REF STATUS [--json]",
    "note": "leaddesk note REF TEXT... [--json]",
    "followup": "leaddesk followup REF WHEN... [--at TIME] [--note TEXT] [--json]   (WHEN: 2026-12-01, tomorrow,"
                " +3d, monday, fri 14:30, none, done)",
    "show": "leaddesk show REF [--json]",
}


def run(argv: list[str], *, db: str | None = None, user: str | None = None) -> int:
    """Run one quick command; return the exit code."""
    as_json = "--json" in argv
    words = [a for a in argv if a != "--json"]
    if words and words[0] == "--":
        words = words[1:]
    command, args = words[0], words[1:]
    options: dict[str, str] = {}
    if command == "followup":
        try:
            args, options = _options(args, ("--at", "--note"))
        except ValueError as exc:
            print(f"leaddesk: {exc}; usage: {USAGE[command]}", file=sys.stderr)
            return 1
    if args and args[0] == "--":
        args = args[1:]
    minimum = 1 if command == "show" else 2
    if len(args) < minimum or (command in ("status", "show") and len(args) > minimum):
        print(f"leaddesk: usage: {USAGE[command]}", file=sys.stderr)
        return 1
    try:
        from leaddesk.store.desk import Desk

        desk = Desk.open(db, login=user, origin="cli", create=command != "show")
        try:
            return _dispatch(desk, command, args, as_json, options)
        finally:
            desk.close()
    except LeadDeskError as exc:
        from leaddesk.textsafe import safe_line

        print(f"leaddesk: {safe_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def _options(args: list[str], names: tuple[str, ...]) -> tuple[list[str], dict[str, str]]:
    """Take a quick command's own `--name VALUE` / `--name=VALUE` options from its arguments (before a `--`)."""
    found, rest = take_options(args, names, strict=True)
    return rest, found


def _dispatch(desk: object, command: str, args: list[str], as_json: bool,
              options: dict[str, str] | None = None) -> int:
    from leaddesk.cli.render import dumps, lead_json, lead_text, one_line
    from leaddesk.store.desk import Desk

    assert isinstance(desk, Desk)
    ref = args[0]
    if command == "show":
        detail = desk.show(ref)
        print(dumps(lead_json(detail)) if as_json else lead_text(detail))
        return 0
    if command == "status":
        detail, action = desk.set_status(ref, args[1])
        message = one_line(detail) + {"unchanged": " (unchanged)", "reopen": " (reopened)"}.get(action, "")
    elif command == "note":
        detail = desk.add_activity(ref, "note", " ".join(args[1:]))
        message = f"{one_line(detail)} · note added"
    else:
        detail, message = followup(desk, ref, " ".join(args[1:]), options or {})
    print(dumps(lead_json(detail)) if as_json else message)
    return 0


def followup(desk: object, ref: str, when: str, options: dict[str, str]) -> tuple[dict[str, object], str]:
    """`followup REF WHEN|none|done [--at TIME] [--note TEXT]`: the lead's details and the confirmation.
    (The full CLI's `followup` calls this too: one wording for both paths.)"""
    from leaddesk.cli.render import followup_text, one_line
    from leaddesk.store.desk import Desk
    from leaddesk.store.errors import RuleError

    assert isinstance(desk, Desk)
    at, note = options.get("at"), options.get("note")
    if when.strip().casefold() == "done":
        if at is not None:
            raise RuleError("--at does not go with done: the follow-up is cleared")
        detail = desk.followup_done(ref, note)
        message = f"{one_line(detail)} · follow-up done"
        if detail["followup_on"]:  # a sequence scheduled the next one
            message += f" · next follow-up {followup_text(detail)}"
        return detail, message
    detail = desk.set_followup(ref, when, at=at, note=note)
    if not detail["followup_on"]:
        return detail, f"{one_line(detail)} · follow-up cleared"
    message = f"{one_line(detail)} · follow-up {followup_text(detail)}"
    if detail.get("followup_note"):
        from leaddesk.textsafe import safe_line

        message += f" · {safe_line(detail['followup_note'])}"
    return detail, message

