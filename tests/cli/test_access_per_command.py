"""Access, command by command (issue 9): a partner and a deactivated user can neither read nor change what they must
not through any `leaddesk` command.

Every command of the real command tree (walked from the Typer app, so a new command fails
`test_every_command_has_an_access_case` until it gets a row in CASES) is run through the real entry point
(`leaddesk.cli.main`, in-process) with representative arguments, on copies of one prepared desk:
- as pat, a partner user (linked to the partner Northwind), and as dee, a deactivated rep: refused with the store's
  one-line refusal on stderr, nothing on stdout, exit 1, and the desk (row counts of every table, the last history
  id, every lead's version) and the folder (no file written) exactly as before, unless the case says that user may
  run it (`partner=`/`deactivated="allowed"`, with the reason beside it; ALLOWED_* sums them up);
- as a control, on a copy of its own, bob (a rep) or mia (a manager, for what only managers do), with the same
  arguments: they work (or fail for a reason that is not who asks), so the refusals are about who asks.
`--help` of every command works for everyone and reads nothing.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from clisupport import ANN, NOW, Cli, Result

from leaddesk import clock
from leaddesk.store.permissions import PARTNER_REFUSAL

MAIL = Path(__file__).parents[1] / "fixtures" / "mail"
PARTNER = "pat"
DEACTIVATED = "dee"
DEACTIVATED_REFUSAL = f"user '{DEACTIVATED}' is deactivated on this desk: ask a manager to run" \
                      f" `leaddesk user activate {DEACTIVATED}`"
SECRETS = ("ann@acme.example.com", "555 0100", "private note", "Bolt Ltd")
"""Lead details (contact, notes, another lead's company) a partner must never be shown, even where allowed."""
TOKEN = "a-token-long-enough-for-intake"

SETTINGS = """
[assignment]
teams = { east = ["bob"] }
default_team = "east"

[sla]
contact_within_hours = 4

[score]
[[score.rules]]
points = 10
field = "source"
in = ["Referral"]

[sequences.nurture]
description = "three touches"
[[sequences.nurture.steps]]
after_days = 3
note = "call again"
subject = "Still interested, {first_name}?"
template = "Hello {first_name}"
"""


# -- the prepared desk ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Prepared:
    """The desk every test copies, and the files its commands name (outside the copy: read only)."""

    db: Path
    backup: Path
    new_mail: Path
    import_file: Path


def build(folder: Path, template: Path) -> Prepared:
    """ann (admin) sets up a desk with something for every command to find: leads of bob's (one referred by
    Northwind, with a follow-up, a note and a running sequence), two duplicates, a qualified lead with an open deal
    and one with a lost deal, an import batch and a merge by bob, a captured email, spend, spare list entries,
    and the users bob (rep), cy (rep), mia (manager), pat (Northwind's partner user) and dee (deactivated)."""
    from leaddesk.settings import load_settings
    from leaddesk.store.desk import Desk
    from leaddesk.store.migrate import backup_sqlite

    (folder / "config.toml").write_text(SETTINGS, encoding="utf-8")
    settings = load_settings(folder / "config.toml")
    db = folder / "desk.db"
    shutil.copyfile(template, db)
    clock.freeze(datetime.fromisoformat(NOW).replace(tzinfo=UTC))
    opened: list[Desk] = []

    def as_(login: str) -> Desk:
        opened.append(Desk.open(str(db), login=login, settings=settings))
        return opened[-1]

    try:
        ann = as_("ann")
        for login, role in (("bob", "rep"), ("cy", "rep"), ("mia", "manager"), ("dee", "rep")):
            ann.add_user(login, role=role)
        ann.add_partner("Northwind", "nw@example.com", PARTNER)
        ann.add_partner("Southwind", "sw@example.com")
        bob = as_("bob")
        bob.add_lead({**ANN, "partner": "Northwind"})  # 1
        bob.add_lead({"name": "Bob Stone", "company": "Bolt Ltd", "email": "bob@bolt.example.com"})  # 2
        bob.add_lead({"name": "Cy Dup", "company": "Dup Co", "email": "dup@dup.example.com"})  # 3
        bob.add_lead({"name": "Cy Dup", "company": "Dup Co", "email": "dup@dup.example.com"}, force=True)  # 4
        bob.add_lead({"name": "Di Qual", "company": "Qual Co", "email": "di@qual.example.com"})  # 5
        bob.add_lead({"name": "Ed Lost", "company": "Lost Co", "email": "ed@lost.example.com"})  # 6
        bob.add_lead({"name": "Fay Merge", "company": "Merge Co", "email": "fay@merge.example.com"})  # 7
        bob.add_lead({"name": "Fay Merge", "company": "Merge Co", "email": "fay@merge.example.com"}, force=True)  # 8
        bob.add_lead({"name": "Gus South", "company": "South Co", "partner": "Southwind"})  # 9
        ann.qualify("5", new_customer=True, value="1000")  # customer 1, deal 1
        ann.qualify("6", new_customer=True, value="500")  # deal 2, then lost
        ann.deal_action(2, "lost", reason="Budget")
        ann.add_activity("1", "note", "private note")
        ann.start_sequence("1", "nurture")
        bob.edit_lead("2", {"city": "Oslo"})  # bob's last change of lead 2, for `undo`
        bob.merge("7", ["8"])  # merge 1, bob's
        rows = folder / "batch.csv"
        rows.write_text("name,email\nHal Batch,hal@batch.example.com\n", encoding="utf-8")
        bob.import_leads(str(rows))  # batch 1, bob's
        ann.capture_email((MAIL / "plain.eml").read_bytes())  # captured once: a second time is a duplicate
        ann.add_partner_spend("Northwind", "600")
        for kind, name in (("statuses", "Waiting"), ("types", "Spare"), ("reasons", "Spare reason"),
                           ("sources", "Spare source"), ("methods", "Fax"), ("items", "Spare item")):
            ann.catalog_change(kind, "add", name, *(("open", None) if kind == "statuses" else ()))
        ann.set_user_active(DEACTIVATED, False)
    finally:
        for desk in opened:
            desk.close()
        clock.freeze(None)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    backup = backup_sqlite(db, folder / "desk.bak")
    new_mail = folder / "new.eml"
    new_mail.write_bytes((MAIL / "plain.eml").read_bytes().replace(b"Message-ID: <", b"Message-ID: <other-"))
    import_file = folder / "more.csv"
    import_file.write_text("name,email\nIda Import,ida@import.example.com\n", encoding="utf-8")
    return Prepared(db, backup, new_mail, import_file)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory, templates: dict[str, Path]) -> Prepared:
    return build(tmp_path_factory.mktemp("access"), templates["sales"])


@pytest.fixture
def desk_copy(prepared: Prepared, tmp_path: Path, capsys: pytest.CaptureFixture[str],
              monkeypatch: pytest.MonkeyPatch) -> Cli:
    """A runner on this test's copy of the prepared desk, with its settings; the servers never serve."""
    work = tmp_path / "work"
    work.mkdir()
    shutil.copyfile(prepared.db, work / "desk.db")
    config = tmp_path / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(SETTINGS, encoding="utf-8")
    monkeypatch.setenv("LEADDESK_INTAKE_TOKEN", TOKEN)
    never_serve(monkeypatch)
    return Cli(work / "desk.db", capsys)


def never_serve(monkeypatch: pytest.MonkeyPatch) -> None:
    """`intake` and `web` return once they would serve (their access checks come before)."""
    from leaddesk import intake
    from leaddesk.cli import web

    def serve(server: Any, on_ready: Callable[[], None] | None = None) -> None:
        server.server_close()

    class Server:
        def __init__(self, *_args: Any, **_kwargs: Any) -> None:
            pass

        def serve(self) -> None:
            pass

    monkeypatch.setattr(intake, "serve", serve)
    monkeypatch.setattr(web, "desk_server_class", lambda: Server)


def fingerprint(db: Path) -> dict[str, Any]:
    """What a refused command must leave as it was: every table's row count, the last history id, each lead's
    version, and the files beside the desk (its -wal and -shm aside)."""
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                             " AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        state: dict[str, Any] = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        state["max history id"] = conn.execute("SELECT max(id) FROM history").fetchone()[0]
        state["lead versions"] = conn.execute("SELECT id, version FROM lead ORDER BY id").fetchall()
    finally:
        conn.close()
    state["files"] = sorted(p.name for p in db.parent.iterdir() if not p.name.endswith(("-wal", "-shm")))
    return state


# -- the cases --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One way to run a command: its arguments ({db}, {backup}, {mail}, {import_file} and {dir} are filled in),
    who runs the control, the exit codes the control may give, and what the partner and the deactivated user get:
    "refused" (with `partner_says`, default PARTNER_REFUSAL) or "allowed" (exit 0, nothing changed)."""

    argv: tuple[str, ...]
    control: str = "bob"
    control_codes: tuple[int, ...] = (0,)
    partner: str = "refused"
    deactivated: str = "refused"
    partner_says: str = PARTNER_REFUSAL
    prefix: str = ""
    """What the command puts before a refusal (e.g. the message file it was reading)."""


def case(*argv: str, **options: Any) -> Case:
    return Case(tuple(argv), **options)


def manager(*argv: str, **options: Any) -> Case:
    """A command only managers and admins may run: mia runs the control."""
    return Case(tuple(argv), control="mia", **options)


def no_desk_data(*argv: str) -> Case:
    """A command that shows no desk data (help, paths, fixed lists, the caller's own file): everyone may run it."""
    return Case(tuple(argv), partner="allowed", deactivated="allowed")


def list_cases(kind: str, used: str, spare: str) -> dict[str, list[Case]]:
    """The cases of a list (sources, reasons, ...): show it (anyone who reads), add/rename/remove (managers)."""
    return {kind: [case(kind), case(kind, "--json")],
            f"{kind} add": [manager(kind, "add", "Brand new")],
            f"{kind} rename": [manager(kind, "rename", used, "Renamed")],
            f"{kind} remove": [manager(kind, "remove", spare)]}


CASES: dict[str, list[Case]] = {
    "": [case()],  # no command, off a terminal: the open leads
    "init": [case("init"), case("init", "--preset", "services", control_codes=(1,))],
    "demo": [no_desk_data("demo")],  # on a desk that is no demo it only says one is there
    "add": [case("add", "--name", "Zed", "--company", "Zed Co"), case("add", "--name", "Zed", "--json")],
    "edit": [case("edit", "2", "--city", "Rome"), case("edit", "1", "--owner", "mia")],
    "list": [case("list"), case("list", "--json", "--partner", "Northwind"), case("list", "--csv")],
    "show": [case("show", "1"), case("show", "1", "--json"), case("show", "ann@acme.example.com")],
    "status": [case("status", "2", "contacted")],
    "won": [case("won", "2", "--value", "100")],
    "lost": [case("lost", "2", "--reason", "Budget")],
    "reopen": [case("reopen", "6")],
    "note": [case("note", "1", "called", "back")],
    "log": [case("log", "1", "call", "talked", "budget")],
    "followup": [case("followup", "1", "tomorrow", "--at", "2pm"), case("followup", "1", "done")],
    "followups": [case("followups"), case("followups", "--json", "--due", "week")],
    "qualify": [case("qualify", "2", "--new-customer", "--value", "100")],
    "customer-from-lead": [case("customer-from-lead", "2")],
    "copy": [case("copy", "1")],
    "delete": [case("delete", "2", "--force")],
    "lookup": [case("lookup", "ann@acme.example.com"), case("lookup", "+1 212 555 0100", "--json")],
    "history": [case("history", "1"), case("history", "1", "--json")],
    "undo": [case("undo", "2")],
    "deal": [no_desk_data("deal")],  # a group without a command of its own prints its help
    "deal list": [case("deal", "list"), case("deal", "list", "--json")],
    "deal show": [case("deal", "show", "1")],
    "deal stage": [case("deal", "stage", "1", "Proposal")],
    "deal won": [case("deal", "won", "1", "--value", "900")],
    "deal lost": [case("deal", "lost", "1", "--reason", "Budget")],
    "deal reopen": [case("deal", "reopen", "2")],
    "deal quote": [case("deal", "quote", "1", "Audit", "--price", "100")],
    "customer": [no_desk_data("customer")],
    "customer list": [case("customer", "list"), case("customer", "list", "--json")],
    "customer show": [case("customer", "show", "1")],
    "statuses": [case("statuses"), case("statuses", "--json")],
    "statuses add": [manager("statuses", "add", "Holding")],
    "statuses rename": [manager("statuses", "rename", "Waiting", "Holding")],
    "statuses remove": [manager("statuses", "remove", "Waiting")],
    **list_cases("types", "Inbound", "Spare"),
    "types statuses": [manager("types", "statuses", "Inbound", "New", "Contacted")],
    **list_cases("reasons", "Budget", "Spare reason"),
    **list_cases("sources", "Event", "Spare source"),
    **list_cases("methods", "Email", "Fax"),
    **list_cases("items", "Consulting", "Spare item"),
    "partner": [case("partner"), case("partner", "--json")],
    "partner list": [case("partner", "list", "--from", "2026-01-01")],
    "partner add": [manager("partner", "add", "Eastwind"), manager("partner", "add", "Westwind", "--user", "quin")],
    "partner edit": [manager("partner", "edit", "Northwind", "--email", "new@nw.example.com"),
                     manager("partner", "edit", "Southwind", "--user", "quin")],
    "partner spend": [manager("partner", "spend", "Northwind", "100", "--note", "flyers")],
    "partner report": [
        # pat's own partner: the one thing a partner may read (status-only rows and the metrics)
        case("partner", "report", "Northwind", partner="allowed"),
        case("partner", "report", "Northwind", "--format", "json", partner="allowed"),
        case("partner", "report", "Southwind",
             partner_says="you see only the leads of your own partner, 'Northwind'"),
        case("partner", "report", "Northwind", "--output", "{dir}/report.csv", "--force", partner="allowed"),
    ],
    "user": [no_desk_data("user")],
    "user add": [manager("user", "add", "zed"), manager("user", "add", "boss", "--role", "manager")],
    "user deactivate": [manager("user", "deactivate", "cy")],
    "user activate": [manager("user", "activate", DEACTIVATED)],
    "user role": [manager("user", "role", "cy", "manager"), manager("user", "role", PARTNER, "rep")],
    "user list": [case("user", "list"), case("user", "list", "--json")],
    "user history": [case("user", "history", PARTNER)],
    "db": [no_desk_data("db")],
    "db path": [no_desk_data("db", "path")],
    "db backup": [case("db", "backup", "{dir}/copy.bak")],
    "db restore": [manager("db", "restore", "{backup}"), manager("db", "restore", "{backup}", "--force")],
    "db upgrade": [case("db", "upgrade")],
    "db copy": [manager("db", "copy", "--to", "{dir}/copy.db")],
    "config": [no_desk_data("config")],
    "config path": [no_desk_data("config", "path")],
    "assign": [case("assign"), case("assign", "--rerun", "--dry-run"), manager("assign", "--rerun")],
    "capture-email": [
        case("capture-email", "{mail}", prefix="{mail}: "),
        case("capture-email", str(MAIL / "plain.eml"), prefix=f"{MAIL / 'plain.eml'}: "),  # captured before
        case("capture-email", str(MAIL / "three.mbox"), control_codes=(1,)),  # one message of it has no From
    ],
    "intake": [case("intake", "--port", "0")],
    "dupes": [case("dupes"), case("dupes", "--exact", "--json")],
    "merge": [case("merge", "3", "4", "--dry-run"), case("merge", "3", "4"), case("merge", "--list"),
              case("merge", "--undo"), case("merge", "--undo", "1")],
    "report": [no_desk_data("report"), case("report", "volume"), case("report", "sources", "--json"),
               case("report", "owners", "--output", "{dir}/owners.txt")],
    "score": [case("score", "1"), case("score", "--rules"), case("score", "--recompute")],
    "sequence": [no_desk_data("sequence")],
    "sequence list": [case("sequence", "list")],
    "sequence show": [case("sequence", "show", "nurture")],
    "sequence status": [case("sequence", "status", "1")],
    "sequence start": [case("sequence", "start", "2", "nurture")],
    "sequence stop": [case("sequence", "stop", "1")],
    "sequence text": [case("sequence", "text", "1"), case("sequence", "text", "1", "--mailto")],
    "sla": [case("sla"), case("sla", "--report", "--json"), manager("sla", "--recompute")],
    "notices": [case("notices", "--all"), case("notices", "--read")],
    "import": [case("import", "{import_file}"), case("import", "{import_file}", "--dry-run"),
               case("import", "--list"), case("import", "--undo", "1"),
               no_desk_data("import", "{import_file}", "--preview")],  # the caller's own file, no desk data
    "export": [case("export", "-o", "{dir}/out.csv"), case("export", "-o", "-", "--open")],
    "web": [case("web", "--port", "8999")],
    "work": [case("work"), case("work", "--list"), case("work", "no-answer", "1", "--note", "voicemail"),
             case("work", "skip", "1")],
}
ALLOWED_FOR_PARTNERS = {path for path, cases in CASES.items() if any(c.partner == "allowed" for c in cases)}
"""Commands a partner may run (with some arguments): their own partner report, and what shows no desk data."""
ALLOWED_FOR_DEACTIVATED = {path for path, cases in CASES.items() if any(c.deactivated == "allowed" for c in cases)}


def command_paths() -> set[str]:
    """Every command of the real command tree: its leaves, and the groups that do something without a
    subcommand (list their entries) or print their help; "" is `leaddesk` alone."""
    import typer.main

    from leaddesk.cli.app import app

    found: set[str] = set()

    def walk(command: Any, path: tuple[str, ...]) -> None:
        found.add(" ".join(path))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


def test_every_command_has_an_access_case() -> None:
    paths = command_paths()
    missing = sorted(paths - set(CASES))
    assert not missing, f"these commands have no access case in CASES: {missing}"
    assert not sorted(set(CASES) - paths), "CASES names commands that no longer exist"
    assert all(cases for cases in CASES.values())
    for path, cases in CASES.items():
        assert all(" ".join(c.argv).startswith(path) for c in cases), path


def test_the_allowed_commands_are_exactly_these() -> None:
    """What a partner and a deactivated user may run, spelled out: a change here is a decision, not a side
    effect of editing a case."""
    shows_nothing = {"demo", "report", "import", "db path", "config path", "deal", "customer", "user", "db",
                     "config", "sequence"}
    partners_may = ALLOWED_FOR_PARTNERS
    assert partners_may == shows_nothing | {"partner report"}
    deactivated_may = ALLOWED_FOR_DEACTIVATED
    assert deactivated_may == shows_nothing


# -- running them -----------------------------------------------------------------------------------------------
def filled(text: str, cli: Cli, prepared: Prepared) -> str:
    """A case's argument (or prefix) with the test's paths filled in."""
    fill = {"{dir}": str(cli.db.parent), "{backup}": str(prepared.backup), "{mail}": str(prepared.new_mail),
            "{import_file}": str(prepared.import_file)}
    for key, value in fill.items():
        text = text.replace(key, value)
    return text


def argv_of(c: Case, cli: Cli, prepared: Prepared) -> list[str]:
    return [filled(arg, cli, prepared) for arg in c.argv]


def without_outputs(state: dict[str, Any], argv: list[str]) -> dict[str, Any]:
    """A fingerprint without the files an allowed command was asked to write (`--output FILE`)."""
    asked = {Path(arg).name for arg in argv if "/" in arg}
    return {**state, "files": [name for name in state["files"] if name not in asked]}


def run_as(cli: Cli, login: str, argv: list[str]) -> Result:
    return cli("--user", login, *argv)


def check_refused(result: Result, says: str) -> str | None:
    """Why `result` is not the one-line refusal `says` with nothing on stdout (None: it is)."""
    if result.code != 1:
        return f"exit {result.code}, not 1"
    if result.out:
        return f"printed {result.out[:200]!r}"
    if result.err != f"leaddesk: {says}\n":
        return f"said {result.err[:300]!r}"
    return None


def check_allowed(result: Result) -> str | None:
    """Why an allowed run did not work or showed a lead's details (None: it worked)."""
    if result.code != 0 or "Traceback" in result.err:
        return f"exit {result.code}: {result.err[:300]!r}"
    shown = [s for s in SECRETS if s in result.out + result.err]
    return f"showed {shown}" if shown else None


@pytest.mark.parametrize("path", sorted(CASES), ids=lambda path: path or "(no command)")
def test_a_partner_and_a_deactivated_user_are_refused(path: str, desk_copy: Cli, prepared: Prepared) -> None:
    wrong: list[str] = []
    for c in CASES[path]:
        argv = argv_of(c, desk_copy, prepared)
        for login, expected, says in ((PARTNER, c.partner, c.partner_says),
                                      (DEACTIVATED, c.deactivated, DEACTIVATED_REFUSAL)):
            before = fingerprint(desk_copy.db)
            result = run_as(desk_copy, login, argv)
            said = filled(c.prefix, desk_copy, prepared) + says
            why = check_refused(result, said) if expected == "refused" else check_allowed(result)
            after = fingerprint(desk_copy.db)
            if (after if expected == "refused" else without_outputs(after, argv)) != before:
                why = (why + "; " if why else "") + "it changed the desk or wrote a file"
            if why:
                wrong.append(f"{login}: leaddesk {' '.join(c.argv)}: {why}")
    assert wrong == []


@pytest.mark.parametrize("path", sorted(CASES), ids=lambda path: path or "(no command)")
def test_the_control_user_may_run_the_same_arguments(path: str, desk_copy: Cli, prepared: Prepared) -> None:
    """The arguments of each case are valid: run by a rep (a manager for managers' commands) on a fresh copy,
    the command works, so the refusals above are about who asks."""
    wrong: list[str] = []
    for c in CASES[path]:
        result = run_as(desk_copy, c.control, argv_of(c, desk_copy, prepared))
        refused_for_who = any(words in result.err for words in (PARTNER_REFUSAL, "deactivated", "only a manager",
                                                                 "only an admin", "not a user of this desk"))
        if result.code not in c.control_codes or refused_for_who or "Traceback" in result.err:
            wrong.append(f"{c.control}: leaddesk {' '.join(c.argv)}: exit {result.code}: {result.err[:300]!r}")
    assert wrong == []


def test_help_of_every_command_reads_nothing_and_is_for_everyone(desk_copy: Cli) -> None:
    before = fingerprint(desk_copy.db)
    wrong: list[str] = []
    for path in sorted(command_paths()):
        for login in (PARTNER, DEACTIVATED):
            result = run_as(desk_copy, login, [*path.split(), "--help"])
            if result.code != 0 or "Usage:" not in result.out or result.err:
                wrong.append(f"{login}: leaddesk {path} --help: exit {result.code} {result.err[:200]!r}")
    assert wrong == []
    assert fingerprint(desk_copy.db) == before


def test_a_deactivated_partner_loses_their_report_too(desk_copy: Cli) -> None:
    desk_copy.ok("--user", "mia", "user", "deactivate", PARTNER)
    before = fingerprint(desk_copy.db)
    result = run_as(desk_copy, PARTNER, ["partner", "report"])
    assert check_refused(result, DEACTIVATED_REFUSAL.replace(DEACTIVATED, PARTNER)) is None, str(result)
    assert fingerprint(desk_copy.db) == before
