"""The quick path: `status`, `note`, `followup` and `show`, parsed by hand-rolled code.

Same service functions as everywhere else (`leaddesk.store`), opened on the raw
SQLite driver; only the argument parsing and printing are lean here.
"""

from __future__ import annotations

import sys

from leaddesk.store.errors import LeadDeskError

USAGE = {
    "status": "leaddesk status REF STATUS [--json]",
    "note": "leaddesk note REF TEXT... [--json]",
    "followup": "leaddesk followup REF WHEN... [--json]   (2026-12-01, tomorrow, +3d, monday, none)",
    "show": "leaddesk show REF [--json]",
}


def run(argv: list[str], *, db: str | None = None, user: str | None = None) -> int:
    """Run one quick command; return the exit code."""
    as_json = "--json" in argv
    words = [a for a in argv if a != "--json"]
    if words and words[0] == "--":
        words = words[1:]
    command, args = words[0], words[1:]
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
            return _dispatch(desk, command, args, as_json)
        finally:
            desk.close()
    except LeadDeskError as exc:
        from leaddesk.textsafe import safe_line

        print(f"leaddesk: {safe_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def _dispatch(desk: object, command: str, args: list[str], as_json: bool) -> int:
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
        when = " ".join(args[1:])
        detail = desk.set_followup(ref, None if when.casefold() in ("none", "clear", "-") else when)
        followup = detail["followup_on"]
        if followup:
            from datetime import date

            from leaddesk import clock
            from leaddesk.dates import format_relative

            relative = format_relative(date.fromisoformat(followup), clock.today())
            message = f"{one_line(detail)} · follow-up {followup} ({relative})"
        else:
            message = f"{one_line(detail)} · follow-up cleared"
    print(dumps(lead_json(detail)) if as_json else message)
    return 0

