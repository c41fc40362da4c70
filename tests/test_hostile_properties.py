"""Hostile text through every way in (issue 9): property tests with hypothesis.

Arbitrary Unicode mixed with terminal escapes (CSI clear screen and colour, OSC window title, OSC 8 hyperlinks,
8-bit CSI), other C0/C1 controls, NUL, right-to-left overrides and isolates, zero-width characters, Rich markup
and very long values go through the command line (in-process, through the real entry point), CSV and XLSX
imports, email capture (`capture-email FILE.eml`) and the web intake (a real socket). For every input:

- nothing crashes: no traceback, no 500;
- the input is refused with a clear reason (one `leaddesk: ...` line and exit 1 on the command line, a row in the
  error file, a 4xx answer), or it is stored and comes back exactly (`show --json`);
- what a terminal is shown carries no raw ESC, BEL, C1 or bidi control: they are made visible (textsafe).

What storing does to text, as the store decides it (these tests hold it to that):
- text fields are trimmed (`str.strip()`), nothing else; a partner name also has its runs of whitespace made one
  space; an email's subject and sender name are unfolded the same way and NULs are dropped from mail;
- a NUL is refused wherever text is typed, imported or posted;
- a lone surrogate (what bytes that are not UTF-8 become in a command-line argument, or a JSON `\\udXXX` escape)
  is refused ("not valid Unicode"): the database could not store it;
- lengths: 1000 characters for a text field, 100,000 for a description; a note has no limit;
- zero-width characters and Rich markup are ordinary text: kept, and shown as they are (never as markup).
"""

from __future__ import annotations

import contextlib
import csv
import email.utils
import http.client
import importlib.util
import io
import itertools
import json
import re
import shutil
import sys
import threading
from base64 import b64encode
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st

from leaddesk.cli import main
from leaddesk.settings import Settings
from leaddesk.store.desk import Desk
from leaddesk.store.rules import fold_name
from leaddesk.textsafe import safe_line


def _clisupport() -> Any:
    """tests/cli/clisupport.py (the CLI tests' helpers), loaded from here, where tests/cli is not on sys.path."""
    if "clisupport" not in sys.modules:
        spec = importlib.util.spec_from_file_location("clisupport", Path(__file__).parent / "cli" / "clisupport.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["clisupport"] = module
        spec.loader.exec_module(module)
    return sys.modules["clisupport"]


Result = _clisupport().Result
assert_one_line_refusal = _clisupport().assert_one_line_refusal

NOW = "2026-03-04T10:00:00"
# The tests share one desk across their examples on purpose (each example makes its own lead): the fixture is
# function-scoped, which hypothesis warns of.
SHARED = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
FEW = settings(max_examples=15, deadline=None, suppress_health_check=SHARED)
SOME = settings(max_examples=25, deadline=None, suppress_health_check=SHARED)

# -- hostile text --------------------------------------------------------------------------------------------
NASTY = [
    "\x1b[2J", "\x1b[H", "\x1b[31m", "\x1b[0m", "\x1b]0;pwned\x07", "\x1b]2;title\x1b\\",
    "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\", "\x9b2J", "\x9d0;x\x9c", "\x1bP+q\x1b\\",
    "\x07", "\x08", "\x00", "\r", "\n", "\r\n", "\t", "\x0b", "\x0c", "\x1c", "\x7f", "\x85", "\xa0",
    "\u202e", "\u202d", "\u202a", "\u202b", "\u202c", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f",
    "\u061c", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u2028", "\u2029", "\u3000",
    "[red]", "[/red]", "[/]", "[bold", "[link=https://evil.example]", "[/link]", "\\[", "[@click=app.quit]",
    ":smile:", "%s", "{0}", "é", "e\u0301", "東京", "👨\u200d👩\u200d👧", "مرحبا", " ", "-", "=", "\"", "'", ",", ";",
]
SURROGATES = ["\udcff", "\udc80", "\ud800", "\udfff"]

_piece = st.one_of(st.sampled_from(NASTY), st.text(max_size=4), st.characters(codec="utf-8"))
hostile = st.lists(_piece, max_size=10).map("".join)
"""Short hostile text (valid Unicode: what a file, a mail or a form can carry)."""
with_surrogate = st.tuples(hostile, st.sampled_from(SURROGATES), hostile).map("".join)
"""Hostile text with a lone surrogate (what bytes that are not UTF-8 become in a command-line argument)."""
LENGTHS = [999, 1000, 1001, 100_000, 100_001, 1 << 20]
long_text = st.tuples(st.sampled_from(LENGTHS), st.sampled_from(["\x1b[2J", "é\u202e", "x", "[b]"])).map(
    lambda spec: (spec[1] * spec[0])[: spec[0]])
"""Long text (up to 1 MB) around the limits."""


def field(*, surrogates: bool) -> st.SearchStrategy[str]:
    """Mostly short hostile text; one value in ten long, and (with `surrogates`) one in ten with a lone surrogate,
    so that most values are stored and each refusal still comes up."""
    rare = [long_text, with_surrogate if surrogates else hostile]
    return st.integers(0, 9).flatmap(lambda k: rare[k] if k < len(rare) else hostile)


arg_text = field(surrogates=True)
"""A command-line argument or a JSON string."""
file_text = field(surrogates=False)
"""A cell of a CSV or XLSX file (valid Unicode)."""
MEGABYTE = ("\x1b[31m" * (1 << 20))[: 1 << 20]

UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
SURROGATE = re.compile(r"[\ud800-\udfff]")


def assert_terminal_safe(text: str) -> None:
    """Nothing a terminal would obey: no C0 (bar tab and newline), DEL, C1, bidi control or lone surrogate."""
    found = UNSAFE.search(text)
    assert found is None, f"raw {found.group()!r} in output: {text[max(0, found.start() - 40):found.end() + 40]!r}"


# -- what the store does with a value --------------------------------------------------------------------------
@dataclass(frozen=True)
class Refused:
    """The value is refused; the refusal names `reason`."""

    reason: str


NUL_REASON = "contains a NUL character"
LONG_REASON = "is too long"
UNICODE_REASON = "not valid Unicode"
NO_NAME = "a lead needs a contact name or a company"


def stored_text(value: str, limit: int | None = 1000) -> str | Refused:
    """What a text field stores for `value` (trimmed; "" when blank), or why it is refused."""
    if "\x00" in value:
        return Refused(NUL_REASON)
    kept = value.strip()
    if limit is not None and len(kept) > limit:
        return Refused(LONG_REASON)
    if SURROGATE.search(kept):
        return Refused(UNICODE_REASON)
    return kept


def refusals(*verdicts: str | Refused) -> list[str]:
    """The reasons among `verdicts`: a refusal may name any of them."""
    return [v.reason for v in verdicts if isinstance(v, Refused)]


def lead_refusals(name: str | Refused, company: str | Refused, *others: str | Refused) -> list[str]:
    """The reasons a lead with these field verdicts may be refused for ([]: it is stored). Without a name and a
    company the lead is refused for that (before the database could find a lone surrogate elsewhere)."""
    reasons = refusals(name, company, *others)
    if not name and not company:
        reasons.append(NO_NAME)
    return reasons


def xlsx_cell(text: str) -> str:
    """`text` as an .xlsx cell can hold it: without C0 controls but tab and newline (openpyxl refuses them; a CR
    would come back as a newline from the XML), U+FFFE/U+FFFF and surrogates (not XML characters), cut at 32,767
    characters (Excel's limit, which openpyxl applies)."""
    return re.sub(r"[\x00-\x08\x0b-\x1f\ufffe\uffff\ud800-\udfff]", "", text)[:32_767]


# -- running the command line in-process -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sales desk (ann its admin), initialised once for the module and copied by each test."""
    path = tmp_path_factory.mktemp("hostile") / "sales.db"
    desk = Desk.open(str(path), login="ann", settings=Settings())
    try:
        desk.init("sales")
    finally:
        desk.close()
    return path


@pytest.fixture(scope="module", autouse=True)
def command_tree_built_once() -> Iterator[None]:
    """Build the Typer command tree once for the module (as tests/cli/conftest.py does): an in-process call
    otherwise spends 30 ms building it."""
    import typer.main

    original = typer.main.get_command
    cache: dict[int, Any] = {}

    def get_command(typer_instance: Any) -> Any:
        if id(typer_instance) not in cache:
            cache[id(typer_instance)] = (typer_instance, original(typer_instance))
        return cache[id(typer_instance)][1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.main, "get_command", get_command)
        yield


@pytest.fixture(autouse=True)
def frozen_now(isolated_environment: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADDESK_NOW", NOW)
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)


class Runner:
    """`leaddesk --db DB ARGS` in-process, its output captured (no pytest fixture: hypothesis calls it many times
    in one test)."""

    def __init__(self, db: Path) -> None:
        self.db = db

    def __call__(self, *args: str) -> Any:
        out, err = io.StringIO(), io.StringIO()
        argv = ["--db", str(self.db), *args]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(argv)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            else:
                code = 0
        return Result(code, out.getvalue(), err.getvalue(), argv)

    def ok(self, *args: str) -> Any:
        result = self(*args)
        assert result.code == 0 and result.err == "", str(result)
        assert_terminal_safe(result.out)
        return result

    def show(self, ref: int | str) -> dict[str, Any]:
        return json.loads(self.ok("show", str(ref), "--json").out)

    def last_number(self) -> int:
        return max((row["number"] for row in json.loads(self.ok("list", "--json", "--limit", "0").out)), default=0)

    def add(self, name: str = "Plain Lead") -> int:
        self.ok("add", f"--name={name}")
        return self.last_number()


@pytest.fixture
def cli(template: Path, tmp_path: Path) -> Runner:
    db = tmp_path / "t.db"
    shutil.copyfile(template, db)
    return Runner(db)


def assert_refused(result: Any, reasons: list[str]) -> str:
    """A one-line refusal (exit 1) naming one of `reasons`, shown literally."""
    line = assert_one_line_refusal(result)
    assert_terminal_safe(result.err)
    assert_terminal_safe(result.out)
    assert any(reason in line for reason in reasons), (reasons, line)
    return str(line)


def confirmation(number: int, name: str, company: str, status: str) -> str:
    """The `added` / `saved` line as the CLI shows it (user text made visible)."""
    who = safe_line(name or company)
    return f"#{number} {who}" + (f" ({safe_line(company)})" if company and name else "") + f" · {status}"


# -- 1. command-line arguments -------------------------------------------------------------------------------------
@SOME
@given(name=arg_text, company=arg_text, description=arg_text)
@example(name="Evil\x1b[2J [red]x[/red]", company="Co\x1b]0;pwned\x07 \u202eInc", description="a\x00b")
@example(name=MEGABYTE, company="Acme", description="")
@example(name="Ann", company="Acme", description=MEGABYTE)
@example(name="x\udcffy", company="", description="")
@example(name=" \t\u3000", company="\u2028", description="")
def test_add_stores_exactly_or_refuses_in_one_line(cli: Runner, name: str, company: str, description: str) -> None:
    before = cli.last_number()
    verdicts = (stored_text(name), stored_text(company), stored_text(description, 100_000))
    result = cli("add", f"--name={name}", f"--company={company}", f"--description={description}")
    reasons = lead_refusals(*verdicts)
    event(f"refused: {sorted(set(reasons))}" if reasons else "stored")
    if reasons:
        assert_refused(result, reasons)
        assert cli.last_number() == before  # nothing half-written
        return
    assert result.code == 0 and result.err == "", str(result)
    assert_terminal_safe(result.out)
    number = before + 1
    if len(result.out) < 9_000:  # longer lines are folded by Rich at the pipe width (10,000)
        assert result.out == f"added {confirmation(number, str(verdicts[0]), str(verdicts[1]), 'New')}\n"
    lead = cli.show(number)
    assert (lead["contact_name"] or "", lead["company"] or "", lead["description"] or "") == verdicts
    shown = cli.ok("show", str(number)).out
    if verdicts[0]:
        assert f"  Contact         {safe_line(str(verdicts[0]))}\n" in shown


@FEW
@given(name=arg_text, company=arg_text, description=arg_text)
@example(name="", company="", description="x")
@example(name="\x1b[2J", company="a\x00", description="")
def test_edit_stores_exactly_or_changes_nothing(cli: Runner, name: str, company: str, description: str) -> None:
    number = cli.add("Before Edit")
    before = cli.show(number)
    verdicts = (stored_text(name), stored_text(company), stored_text(description, 100_000))
    result = cli("edit", str(number), f"--name={name}", f"--company={company}", f"--description={description}")
    reasons = lead_refusals(*verdicts)
    event(f"refused: {sorted(set(reasons))}" if reasons else "stored")
    if reasons:
        assert_refused(result, reasons)
        assert cli.show(number) == before
        return
    assert result.code == 0 and result.err == "", str(result)
    assert_terminal_safe(result.out)
    lead = cli.show(number)
    assert (lead["contact_name"] or "", lead["company"] or "", lead["description"] or "") == verdicts
    assert_terminal_safe(cli.ok("show", str(number)).out)
    assert_terminal_safe(cli.ok("history", str(number)).out)


def _cli_word(text: str) -> bool:
    """Text the command line reads as an option, not as words: `--json` and `--help` anywhere, the global
    `--db`/`--user`."""
    return text in ("--json", "--help", "-h", "--db", "--user") or text.startswith(("--db=", "--user="))


@SOME
@given(text=arg_text)
@example(text="ping \x1b[5m[blink]now[/blink] \x1b]8;;https://evil.example/\x1b\\x\x1b]8;;\x1b\\")
@example(text="\x00")
@example(text=MEGABYTE)
def test_note_stores_exactly_or_refuses(cli: Runner, text: str) -> None:
    assume(not _cli_word(text))
    number = cli.add()
    result = cli("note", str(number), text)
    verdict = stored_text(text, None)
    if verdict == "":
        verdict = Refused("needs some text")
    event(f"refused: {verdict.reason}" if isinstance(verdict, Refused) else "stored")
    if isinstance(verdict, Refused):
        assert_refused(result, [verdict.reason])
        assert cli.show(number)["activities"] == []
        return
    assert result.code == 0 and result.err == "", str(result)
    assert result.out == f"#{number} Plain Lead · New · note added\n"
    assert [a["body"] for a in cli.show(number)["activities"]] == [verdict]
    shown = cli.ok("show", str(number)).out
    assert f"ann: {safe_line(verdict)}" in shown
    assert_terminal_safe(cli.ok("history", str(number)).out)


@FEW
@given(note=arg_text, status=arg_text)
@example(note="went \x1b[2Jin-house \u202e", status="\x1b[2J[red]x")
@example(note="n\x00", status="New\x00")
def test_lost_note_and_status_names(cli: Runner, note: str, status: str) -> None:
    """`lost --reason R --note N` keeps the note exactly; a hostile status name is refused in one line (or,
    being a unique prefix of a status, picks it)."""
    assume(not _cli_word(status))
    number = cli.add()
    result = cli("status", str(number), status)
    if result.code == 0:
        assert cli.show(number)["status"] in ("New", "Attempted to contact", "Contacted", "Engaged")
        assert_terminal_safe(result.out)
    else:
        assert_refused(result, ["status", UNICODE_REASON, NUL_REASON])
    before = cli.show(number)
    verdict = stored_text(note, None)
    event(f"lost note refused: {verdict.reason}" if isinstance(verdict, Refused) else "lost note stored")
    result = cli("lost", str(number), "--reason", "Not a fit", f"--note={note}")
    if isinstance(verdict, Refused):
        assert_refused(result, [verdict.reason, "lost note"])
        assert cli.show(number) == before
        return
    assert result.code == 0 and result.err == "", str(result)
    assert_terminal_safe(result.out)
    lead = cli.show(number)
    assert (lead["status"], lead["lost_reason"], lead["lost_note"]) == ("Disqualified", "Not a fit", verdict)
    assert_terminal_safe(cli.ok("show", str(number)).out)


@FEW
@given(name=arg_text, email=st.one_of(st.just(""), st.just("nw@partner.example"), arg_text))
@example(name="North\x1b]0;pwned\x07wind [b]x[/b] \u202e", email="")
@example(name="P\x00", email="")
@example(name="Q\udcff", email="")
@example(name="   ", email="")
def test_partner_add_stores_the_name_or_refuses(cli: Runner, name: str, email: str) -> None:
    before = json.loads(cli.ok("partner", "list", "--json").out)
    collapsed = " ".join(name.split())
    result = cli("partner", "add", f"--email={email}", "--", name)
    if not collapsed:
        reasons = ["a partner needs a name"]
    elif "\x00" in collapsed:
        reasons = ["a partner name contains a NUL character"]
    elif any(fold_name(p["name"]) == fold_name(collapsed) for p in before):
        reasons = ["already exists"]
    elif email.strip():
        reasons = ["not valid", UNICODE_REASON, NUL_REASON]  # mostly; a valid one is stored below
    else:
        reasons = [UNICODE_REASON] if SURROGATE.search(collapsed) else []
    after = json.loads(cli.ok("partner", "list", "--json").out)
    event("refused" if result.code else "stored")
    if result.code != 0:
        assert reasons, str(result)
        assert_refused(result, reasons)
        assert after == before
        return
    assert result.err == "", str(result)
    assert_terminal_safe(result.out)
    assert not reasons or reasons[0] == "not valid", str(result)
    added = [p for p in after if p not in before]
    assert [(p["name"], p["email"] or "") for p in added] == [(collapsed, email.strip())]
    assert_terminal_safe(cli.ok("partner", "list").out)


def test_undecodable_argument_bytes_in_a_real_process_are_refused(cli: Runner, tmp_path: Path) -> None:
    """A real `leaddesk` process given bytes that are not UTF-8 (Python reads them as lone surrogates) refuses
    them in one line instead of a traceback; the other commands go on working."""
    import os
    import subprocess

    argv = [sys.executable, "-m", "leaddesk", "--db", str(cli.db)]
    env = {**os.environ, "LC_ALL": "C.UTF-8", "PYTHONUTF8": "1"}
    for args in ([b"add", b"--name", b"Bad \xff\xfe \x1b[2J"], [b"note", b"1", b"\xc3("], [b"show", b"\xff"]):
        cli.add()
        done = subprocess.run([*map(os.fsencode, argv), *args], capture_output=True, env=env, timeout=60,
                              check=False, cwd=tmp_path)
        result = Result(done.returncode, done.stdout.decode(), done.stderr.decode(),
                        [a.decode(errors="backslashreplace") for a in args])
        line = assert_refused(result, [UNICODE_REASON])
        assert "\\udc" in line  # the bad byte named, made visible
    assert cli.show(1)["activities"] == []


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(st.one_of(hostile, with_surrogate), st.lists(st.one_of(hostile, with_surrogate), max_size=3)))
@example({"name": ["\x1b[2J\x9b2J\x85\x7f\u202e\u2066\u2028\udcff é 東"]})
def test_json_output_is_the_same_value_with_nothing_raw(value: dict[str, list[str]]) -> None:
    """What `--json` prints (render.dumps): JSON of the very value, with every character a terminal obeys written
    as an escape (JSON leaves DEL, C1, bidi controls and line separators raw; textsafe.safe_json escapes them)."""
    from leaddesk.cli.render import dumps

    text = dumps(value)
    assert json.loads(text) == value
    assert_terminal_safe(text)


# -- 2. import files -------------------------------------------------------------------------------------------------
HEADERS = ["Name", "Company", "Description", "City"]


@dataclass
class Row:
    """One data row of an import file (its City, `row-N`, tells which lead it became)."""

    name: str
    company: str
    description: str

    def cells(self, index: int) -> list[str]:
        return [self.name, self.company, self.description, f"row-{index}"]

    def expected(self) -> tuple[str, str, str] | list[str]:
        """The stored (name, company, description), or the reasons it may be rejected for."""
        verdicts = (stored_text(self.name), stored_text(self.company), stored_text(self.description, 100_000))
        return lead_refusals(*verdicts) or (str(verdicts[0]), str(verdicts[1]), str(verdicts[2]))


rows = st.lists(st.builds(Row, file_text, file_text, file_text), min_size=1, max_size=4)


def imported_by_city(cli: Runner, after: int) -> dict[str, dict[str, Any]]:
    """The leads numbered above `after`, by city."""
    numbers = [row["number"] for row in json.loads(cli.ok("list", "--json", "--limit", "0").out)]
    return {lead["city"]: lead for lead in map(cli.show, (n for n in numbers if n > after))}


def csv_lines(cells: list[str]) -> int:
    """How many lines of a CSV file a row written by csv.writer takes (quoted line breaks included)."""
    return 1 + sum(len(re.findall(r"\r\n|\r|\n", cell)) for cell in cells)


def check_import(cli: Runner, path: Path, data: list[Row], read_back: list[list[str]], lines: list[int]) -> None:
    """Import `path` (rows `data`, which the file holds as `read_back`, starting on `lines`); each row is
    imported exactly or in the error file with its reason, and the report shown is literal."""
    before = cli.last_number()
    result = cli("import", str(path))
    assert result.code == 0 and result.err == "", str(result)
    assert_terminal_safe(result.out)
    expected = [row.expected() for row in data]
    rejected = [i for i, e in enumerate(expected) if isinstance(e, list)]
    event(f"rows rejected: {len(rejected)} of {len(data)}")
    assert f"imported {len(data) - len(rejected)} of {len(data)} row" in result.out
    assert f" {len(rejected)} rejected," in result.out
    leads = imported_by_city(cli, before)
    assert sorted(leads) == sorted(f"row-{i}" for i, e in enumerate(expected) if not isinstance(e, list))
    for index, verdict in enumerate(expected):
        if isinstance(verdict, tuple):
            lead = leads[f"row-{index}"]
            assert (lead["contact_name"] or "", lead["company"] or "", lead["description"] or "") == verdict
    errors = path.with_name(f"{path.stem}.errors.csv")
    if not rejected:
        assert not errors.exists()
        return
    with errors.open(encoding="utf-8", newline="") as handle:
        written = list(csv.reader(handle))
    assert written[0] == [*HEADERS, "error"]
    assert [r[:4] for r in written[1:]] == [read_back[i] for i in rejected]  # the cells as they were
    for line, index in zip(written[1:], rejected, strict=True):
        reasons = expected[index]
        assert isinstance(reasons, list) and any(reason in line[4] for reason in reasons), (reasons, line[4])
        assert re.search(rf"^rejected: line {lines[index]}[,:] ", result.out, re.M), result.out  # reported


@FEW
@given(data=rows)
@example(data=[Row("Evil\x1b[2J [red]x[/red]", "Co\x1b]0;t\x07 \u202eInc", "line\r\nnext\x00"),
               Row("Fine \u200bZero", "[link=https://evil.example]y[/link]", "\x9b2J"),
               Row(MEGABYTE, "Big", ""), Row("", "", "nobody")])
def test_csv_import_keeps_rows_exactly_or_reports_them(cli: Runner, tmp_path_factory: pytest.TempPathFactory,
                                                       data: list[Row]) -> None:
    path = tmp_path_factory.mktemp("csv") / "hostile.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([HEADERS, *(row.cells(i) for i, row in enumerate(data))])
    cells = [row.cells(i) for i, row in enumerate(data)]
    starts = [2 + sum(csv_lines(c) for c in cells[:i]) for i in range(len(cells))]
    check_import(cli, path, data, cells, starts)


@FEW
@given(data=rows)
@example(data=[Row("Evil\x85\x9b2J [red]x[/red]", "Co \u202eInc\u2066", "a\tb\nc"), Row("=1+1", "@x", "")])
def test_xlsx_import_keeps_rows_exactly_or_reports_them(cli: Runner, tmp_path_factory: pytest.TempPathFactory,
                                                        data: list[Row]) -> None:
    from openpyxl import Workbook

    data = [Row(xlsx_cell(r.name), xlsx_cell(r.company), xlsx_cell(r.description)) for r in data]
    path = tmp_path_factory.mktemp("xlsx") / "hostile.xlsx"
    book = Workbook(write_only=False)
    sheet = book.active
    assert sheet is not None
    for y, cells in enumerate([HEADERS, *(row.cells(i) for i, row in enumerate(data))], start=1):
        for x, value in enumerate(cells, start=1):
            cell = sheet.cell(row=y, column=x, value=value)
            cell.data_type = "s"  # text, also when it starts with "=" (openpyxl would write a formula)
    book.save(path)
    check_import(cli, path, data, [row.cells(i) for i, row in enumerate(data)], [i + 2 for i in range(len(data))])


def test_an_xlsx_that_is_not_well_formed_is_refused_in_one_line(cli: Runner, tmp_path: Path) -> None:
    """openpyxl writes U+FFFF into a sheet's XML, where it is not allowed: reading that sheet is refused with the
    reason, not a traceback, and nothing is imported."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADERS)
    sheet.append(["Fine", "Acme", "", "row-0"])
    sheet.append(["Bad \uffff", "Acme", "", "row-1"])
    book.save(tmp_path / "broken.xlsx")
    line = assert_refused(cli("import", str(tmp_path / "broken.xlsx")), ["is not a readable .xlsx file"])
    assert line.startswith("leaddesk: broken.xlsx is not a readable .xlsx file: not well-formed")
    assert cli.last_number() == 0


def test_hostile_headers_are_reported_and_kept_literally(cli: Runner, tmp_path: Path) -> None:
    header = "\x1b]0;pwned\x07[red]Budget[/red] \u202e"
    path = tmp_path / "headers.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["Name", header], ["Ann \x1b[2J", "10k \x1b[31m"]])
    result = cli.ok("import", str(path))
    assert safe_line(header) in result.out
    assert cli.show(1)["description"] == f"{header.strip()}: 10k \x1b[31m"
    assert cli.show(1)["contact_name"] == "Ann \x1b[2J"


# -- 3. email capture and the web intake ----------------------------------------------------------------------------
mail_text = st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=4)),
                     max_size=10).map("".join)


def encoded_word(text: str) -> str:
    """`text` as one RFC 2047 encoded word (how a mail program sends any character in a header)."""
    return f"=?utf-8?b?{b64encode(text.encode()).decode()}?="


def clean_body(text: str) -> str:
    """The body as capture keeps it (store/mail.py): NULs dropped, CR LF and CR as LF, lines right-trimmed."""
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def one_line_header(text: str, limit: int, strip: str = "") -> str:
    """A subject or sender name as capture keeps it: NULs dropped, whitespace runs made one space, `strip`
    taken off both ends, clipped to `limit`."""
    text = " ".join(text.replace("\x00", "").split()).strip(strip or None)
    return text if len(text) <= limit else text[: limit - 1] + "…"


MESSAGES = itertools.count(1)


@FEW
@given(name=mail_text, subject=mail_text, body=st.one_of(mail_text, long_text))
@example(name="Evil \x1b]0;pwned\x07 \x1b[2J", subject="[red]Quote[/red] \u202egpj.exe \x9b2J",
         body="line\r\n\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\\x00 end")
def test_captured_email_keeps_what_was_sent(cli: Runner, tmp_path_factory: pytest.TempPathFactory, name: str,
                                            subject: str, body: str) -> None:
    """A new sender's mail with hostile display name, subject and body (encoded as mail programs do) becomes a lead
    whose name and first email are what was sent (unfolded as documented), shown literally. A line break in the
    display name makes the email package refuse the From: header: the message is refused in one line."""
    path = tmp_path_factory.mktemp("mail") / "hostile.eml"
    sender = f"s{next(MESSAGES)}@hostile.example"
    raw = (f"From: {encoded_word(name)} <{sender}>\r\nTo: sales@desk.example\r\nSubject: {encoded_word(subject)}"
           f"\r\nMessage-ID: {email.utils.make_msgid(domain='hostile.example')}\r\nMIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           f"{b64encode(body.encode()).decode()}\r\n").encode()
    path.write_bytes(raw)
    before = cli.last_number()
    result = cli("capture-email", str(path))
    if "\r" in name or "\n" in name:  # the email package refuses a line break in a display name
        line = assert_refused(result, ["address parts cannot contain CR or LF"])
        assert line.startswith(f"leaddesk: {path}: the message cannot be read: ")
        assert cli.last_number() == before
        return
    assert result.code == 0 and result.err == "", str(result)
    assert_terminal_safe(result.out)
    shown_name = one_line_header(name, 200, "'\" ")
    if not shown_name or "@" in shown_name:
        shown_name = sender.split("@")[0]
    kept_body = clean_body(body)
    if len(kept_body) > 50_000:
        kept_body = kept_body[:50_000].rstrip() + f"\n[… {len(kept_body) - 50_000} more characters not kept]"
    kept_subject = one_line_header(subject, 500) or "(no subject)"
    timeline = f"{kept_subject}\n\n{kept_body}".strip() if kept_body else kept_subject
    assert result.out == f"lead #{before + 1} {safe_line(shown_name)} · new lead from email\n"
    lead = cli.show(before + 1)
    assert (lead["contact_name"], lead["email"]) == (shown_name, sender)
    assert [(a["kind"], a["body"]) for a in lead["activities"]] == [("email", timeline)]
    assert_terminal_safe(cli.ok("show", str(before + 1)).out)


@FEW
@given(sender=hostile, subject=hostile)
@example(sender="\x1b[31m <nobody>", subject="x")
@example(sender="\u202e@\x1b[2J.example", subject="\x00")
def test_a_hostile_from_header_never_crashes(cli: Runner, tmp_path_factory: pytest.TempPathFactory, sender: str,
                                              subject: str) -> None:
    """Raw (unencoded) hostile From: and Subject: headers: captured, or refused in one line naming the file."""
    path = tmp_path_factory.mktemp("mail") / "raw.eml"
    head = f"From: {sender}\r\nSubject: {subject}".replace("\r", " ").replace("\n", " ")
    path.write_bytes(f"{head}\r\nMessage-ID: <raw-{next(MESSAGES)}@hostile.example>\r\n\r\nbody\r\n".encode())
    before = cli.last_number()
    result = cli("capture-email", str(path))
    assert_terminal_safe(result.out)
    event("captured" if result.code == 0 else "refused")
    if result.code == 0:
        assert result.err == "", str(result)
        assert re.fullmatch(r"lead #\d+ .* · (new lead from email|email added)\n", result.out), result.out
        assert_terminal_safe(cli.ok("show", str(cli.last_number())).out)
    else:
        line = assert_one_line_refusal(result)
        assert_terminal_safe(result.err)
        assert line.startswith(f"leaddesk: {path}: ")
        assert cli.last_number() == before


TOKEN = "s3cret-token-for-hostile-tests-0123"
ODD_KEY = "\x1b]0;pwned\x07 [red]Budget[/red]"


class Intake:
    """The intake endpoint on a real socket, served in a thread on its own desk."""

    def __init__(self, desk: Desk) -> None:
        from leaddesk.intake import make_server

        self.desk = desk
        self.log = io.StringIO()
        self.server = make_server(desk, "127.0.0.1", 0, TOKEN, rate=0, log=self.log)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def post(self, body: bytes, content_type: str) -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            conn.request("POST", "/leads", body=body, headers={"Content-Type": content_type,
                                                               "Authorization": f"Bearer {TOKEN}"})
            response = conn.getresponse()
            data = response.read()
            return response.status, json.loads(data) if data else None
        finally:
            conn.close()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture(scope="module")
def intake(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Intake]:
    path = tmp_path_factory.mktemp("intake") / "intake.db"
    shutil.copyfile(template, path)
    desk = Desk.open(str(path), login="ann", settings=Settings())
    running = Intake(desk)
    yield running
    running.stop()
    desk.close()


@SOME
@given(name=arg_text, company=arg_text, message=arg_text, odd=st.none() | hostile,
       as_json=st.booleans())
@example(name="Gina \x1b[2J\x1b]0;pwned\x07", company="[link=https://evil.example]Holt[/link] \u202e",
         message="call me\r\n\x9b2J", odd="\x1b[31mred", as_json=False)
@example(name="\ud800", company="Acme", message="", odd=None, as_json=True)
@example(name="Nul\x00", company="Acme", message="", odd=None, as_json=False)
def test_intake_stores_exactly_or_answers_4xx(intake: Intake, name: str, company: str, message: str,
                                              odd: str | None, as_json: bool) -> None:
    fields = {"Name": name, "Company": company, "Message": message}
    if odd is not None:
        fields[ODD_KEY] = odd
    if as_json or any(SURROGATE.search(v) for v in fields.values()):  # a form is percent-encoded UTF-8
        body, kind = json.dumps(fields).encode(), "application/json"  # lone surrogates travel as \udXXX
    else:
        body, kind = urlencode(fields).encode(), "application/x-www-form-urlencoded"
    status, answer = intake.post(body, kind)
    assert status != 500, answer
    kept = f"{ODD_KEY}: {odd.strip()}" if odd is not None and odd.strip() else ""
    description = "\n\n".join(p for p in (message.strip(), kept) if p)
    verdicts = (stored_text(name), stored_text(company), stored_text(description, 100_000))
    reasons = [NUL_REASON] if any("\x00" in v for v in fields.values()) else lead_refusals(*verdicts)
    event(f"answered {status}")
    if len(body) > 64 * 1024:
        assert status == 413, answer
        return
    if reasons:
        assert status == 400, answer
        assert any(reason in error for error in answer["errors"] for reason in reasons), (reasons, answer)
        for error in answer["errors"]:
            assert_terminal_safe(error)
        return
    assert status == 201, answer
    lead = intake.desk.show(str(answer["number"]))
    assert (lead["contact_name"] or "", lead["company"] or "", lead["description"] or "") == verdicts
    assert lead["source"] == "Website Form"
    assert_terminal_safe(intake.log.getvalue())
