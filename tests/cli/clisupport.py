"""Helpers for the CLI tests: run `leaddesk` in-process or as a real process, check refusals."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from leaddesk.cli import main

# A Wednesday: tomorrow is 2026-03-05, monday is 2026-03-09, this week ends on 2026-03-08.
NOW = "2026-03-04T10:00:00"
TODAY = "2026-03-04"

ANN = {"name": "Ann Lee", "company": "Acme", "phone": "+1 212 555 0100", "email": "ann@acme.example.com",
       "source": "Referral"}
BOB = {"name": "Bob Stone", "company": "Bolt Ltd", "phone": "+1 212 555 0199", "email": "bob@bolt.example.com",
       "source": "Event"}


@dataclass
class Result:
    """What one command did: its exit code, stdout and stderr."""

    code: int
    out: str
    err: str
    argv: list[str]

    def json(self) -> Any:
        """Stdout parsed as JSON."""
        return json.loads(self.out)

    def __str__(self) -> str:
        return f"$ leaddesk {' '.join(self.argv)}\n[exit {self.code}]\n--- stdout\n{self.out}--- stderr\n{self.err}"


def exit_code(exc: SystemExit) -> int:
    """The process exit status a SystemExit stands for."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    return 1  # sys.exit("message") prints the message and exits 1


def assert_one_line_refusal(result: Result, code: int = 1) -> str:
    """The command refused with `code` and exactly one 'leaddesk: ...' line on stderr; return that line."""
    assert result.code == code, str(result)
    assert "Traceback" not in result.err, str(result)
    lines = result.err.splitlines()
    assert len(lines) == 1, str(result)
    assert result.err.endswith("\n"), str(result)
    assert lines[0].startswith("leaddesk: "), str(result)
    assert "\x1b" not in result.err, str(result)
    return lines[0]


def header(line: str) -> list[str]:
    """The column names of a Rich table's header line (or of the first line of `line`)."""
    return [name.strip() for name in line.splitlines()[0].split("┃")]


def flags(**fields: str) -> list[str]:
    """`name="Ann"` -> ["--name", "Ann"] (underscores become hyphens)."""
    argv: list[str] = []
    for key, value in fields.items():
        argv += [f"--{key.replace('_', '-')}", value]
    return argv


class Cli:
    """Runs `leaddesk` in-process on one database, capturing its output."""

    def __init__(self, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.db = db
        self.capsys = capsys

    def raw(self, *args: str) -> Result:
        """Run `leaddesk ARGS` exactly as given (no --db added)."""
        argv = [str(a) for a in args]
        self.capsys.readouterr()
        try:
            main(argv)
        except SystemExit as exc:
            code = exit_code(exc)
        else:
            code = 0
        out, err = self.capsys.readouterr()
        return Result(code, out, err, argv)

    def __call__(self, *args: str) -> Result:
        """Run `leaddesk --db <db> ARGS`."""
        return self.raw("--db", str(self.db), *args)

    def ok(self, *args: str) -> Result:
        """Run a command that must succeed (exit 0, nothing on stderr)."""
        result = self(*args)
        assert result.code == 0, str(result)
        assert result.err == "", str(result)
        return result

    def refused(self, *args: str, code: int = 1) -> Result:
        """Run a command that must be refused with `code` and a one-line message."""
        result = self(*args)
        assert_one_line_refusal(result, code)
        return result

    def add(self, **fields: str) -> int:
        """Add a lead; its number."""
        result = self.ok("add", *flags(**fields))
        match = re.search(r"#(\d+)", result.out)
        assert match, str(result)
        return int(match.group(1))

    def show(self, ref: str | int) -> dict[str, Any]:
        """`show REF --json`, parsed."""
        return self.ok("show", str(ref), "--json").json()


def run_process(*args: str, cwd: Path, env: dict[str, str] | None = None, script: bool = False) -> Result:
    """Run `python -m leaddesk ARGS` (or the installed `leaddesk` script) in a real process."""
    argv = [str(a) for a in args]
    if script:
        command = [str(Path(sys.executable).with_name("leaddesk")), *argv]
    elif Path(__file__).parents[2].joinpath("leaddesk", "__main__.py").exists():
        command = [sys.executable, "-m", "leaddesk", *argv]
    else:
        command = [sys.executable, "-c", "from leaddesk.cli import main; main()", *argv]
    done = subprocess.run(command, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=60, check=False)
    return Result(done.returncode, done.stdout, done.stderr, argv)
