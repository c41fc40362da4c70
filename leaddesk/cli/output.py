"""Rich output for the full CLI: tables of user data, always as literal text (never markup)."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from leaddesk.cli.render import dumps
from leaddesk.textsafe import safe_line

# In a pipe there is no screen width to fit: do not wrap or squeeze (scripts should prefer --json/--csv).
console = Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 10_000)


def error(message: str) -> None:
    """A one-line refusal on stderr (never wrapped, never markup)."""
    sys.stderr.write(f"leaddesk: {safe_line(message)}\n")


def cell(value: Any) -> Text:
    """A table cell: user data shown literally, control characters made visible."""
    if value is None:
        return Text("")
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    return Text(safe_line(str(value)))


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print a table; `title` is ours (trusted), cells are user data."""
    heading = Text(safe_line(title)) if title else None
    out = Table(title=heading, title_justify="left", show_edge=False, pad_edge=False, header_style="bold")
    for name in columns:
        out.add_column(name, overflow="fold")
    count = 0
    for row in rows:
        out.add_row(*(cell(v) for v in row))
        count += 1
    if count == 0:
        console.print(Text("(nothing)", style="dim"))
        return
    console.print(out)


def say(message: str) -> None:
    """A one-line confirmation (already made safe by the caller)."""
    console.print(Text(message))


def note(message: str) -> None:
    """Progress or a remark on stderr, so stdout stays what a script captures."""
    sys.stderr.write(f"{message}\n")


def emit_json(value: Any) -> None:
    """JSON on stdout."""
    sys.stdout.write(dumps(value) + "\n")


def emit_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """CSV on stdout (values as stored; a spreadsheet, not a terminal, reads them)."""
    writer = csv.writer(sys.stdout)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
