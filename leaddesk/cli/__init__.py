"""The `leaddesk` command.

`main()` sends the quick commands (status, note, followup, show) to a lean
parser that imports neither Typer, Rich, SQLAlchemy nor Textual, so a status
update from the shell costs little more than starting Python; everything else
goes to the Typer application in `leaddesk.cli.app`.

The modules that define Typer commands keep their annotations as objects (no `from __future__ import
annotations`): Typer reads every command's type hints on each run, and evaluating some 1,400 annotation strings
cost ~40 ms of every `leaddesk --help` (tests/cli/test_startup_cost.py).
"""

from __future__ import annotations

import os
import sys

QUICK_COMMANDS = ("status", "note", "followup", "show")
GLOBAL_OPTIONS = ("--db", "--user")


OWN_USER_OPTION = (("partner", "add"), ("partner", "edit"))
"""Commands whose own `--user LOGIN` is the partner's login: for them the global options go before the command."""


def split_globals(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    """Take `--db X` / `--user X` (also `--db=X`) from anywhere before `--` (only from before the command for
    the OWN_USER_OPTION commands); return them and the rest."""
    found, rest = take_options(argv, GLOBAL_OPTIONS)
    words = [arg for arg in rest if not arg.startswith("-")][:2]
    if tuple(words) not in OWN_USER_OPTION:
        return found, rest
    start = 0  # where the command starts: after the global options (and their values) given before it
    while start < len(argv) and argv[start].startswith("-"):
        start += 1 if "=" in argv[start] or argv[start] not in GLOBAL_OPTIONS else 2
    found, before = take_options(argv[:start], GLOBAL_OPTIONS)
    return found, before + argv[start:]


def take_options(argv: list[str], names: tuple[str, ...], *, strict: bool = False) -> tuple[dict[str, str], list[str]]:
    """Take `--name VALUE` / `--name=VALUE` options among `names` from the arguments before a `--`; return
    {name without dashes: value} and the other arguments. `strict` (a command's own options) refuses with
    ValueError a missing value, an option given twice and any other `--option`; otherwise (the global options,
    before the command is known) those stay in the rest for the command to judge."""
    found: dict[str, str] = {}
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        name, eq, value = arg.partition("=")
        if name in names:
            if not eq:
                if i + 1 >= len(argv):
                    if strict:
                        raise ValueError(f"{name} needs a value")
                    rest.append(arg)
                    break
                value = argv[i + 1]
                i += 1
            if strict and name[2:] in found:
                raise ValueError(f"{name} is given twice")
            found[name[2:]] = value
        elif strict and arg.startswith("--") and len(arg) > 2:
            raise ValueError(f"no such option {name}")
        else:
            rest.append(arg)
        i += 1
    return found, rest


def command_of(argv: list[str]) -> str | None:
    """The command word: the first argument that is not an option."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg
        if arg == "--":
            return None
    return None


def on_terminal() -> bool:
    """True when the desk has a screen: both ends are a terminal, or textual-serve (`leaddesk web`) runs it for a
    browser over pipes with Textual's web driver; otherwise (a pipe, a script, cron) it prints the open leads."""
    if "WebDriver" in os.environ.get("TEXTUAL_DRIVER", ""):
        return True
    return sys.stdin.isatty() and sys.stdout.isatty()


def open_desk(*, db: str | None, user: str | None) -> int:
    """`leaddesk` alone on a terminal opens the full-screen desk (without loading the command-line machinery)."""
    from leaddesk.app import make_app
    from leaddesk.store.errors import LeadDeskError

    try:
        make_app(db=db, login=user).run()
    except LeadDeskError as exc:
        from leaddesk.textsafe import safe_line

        print(f"leaddesk: {safe_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    return 0


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `leaddesk` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    options, rest = split_globals(args)
    if command_of(rest) in QUICK_COMMANDS and "--help" not in rest and "-h" not in rest:
        from leaddesk.cli.quick import run

        sys.exit(run(rest, db=options.get("db"), user=options.get("user")))
    if not rest:
        if on_terminal():
            sys.exit(open_desk(db=options.get("db"), user=options.get("user")))
        rest = ["list", "--open"]
    from leaddesk.cli.app import run_app

    sys.exit(run_app(rest, db=options.get("db"), user=options.get("user")))
