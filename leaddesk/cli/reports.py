"""`leaddesk report NAME [filters] [--json|--csv] [--output FILE]`: the reports of issue 7 (store/reports.py) as
Rich tables, JSON or CSV; `leaddesk report` alone (or `report list`) lists them."""

import csv
import io
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from leaddesk.cli import output
from leaddesk.cli.app import JsonOpt, app, reader
from leaddesk.cli.render import dumps
from leaddesk.store.errors import LeadDeskError
from leaddesk.textsafe import safe_line

NUMERIC = ("int", "money", "percent", "duration")


@app.command("report")
def report_command(
    name: Annotated[str | None, typer.Argument(
        help="volume, sources, velocity, funnel, owners, lost or pipeline (or a unique prefix); none or 'list':"
             " list them.")] = None,
    since: Annotated[str | None, typer.Option("--from", help="First day of the period (leads by creation date).")
                     ] = None,
    until: Annotated[str | None, typer.Option("--to", help="Last day of the period (inclusive).")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Only the leads of this owner (login).")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Only the leads from this source.")] = None,
    type_: Annotated[str | None, typer.Option("--type", help="Only the leads of this lead type.")] = None,
    partner: Annotated[str | None, typer.Option("--partner", help="Only the leads this partner referred.")] = None,
    by: Annotated[str, typer.Option("--by", help="Volume per day, week (from Monday) or month.")] = "week",
    json_: JsonOpt = False,
    csv_: Annotated[bool, typer.Option("--csv", help="Print CSV (the rows, without the totals).")] = False,
    out: Annotated[Path | None, typer.Option("--output", "-o", help="Write to FILE instead of the screen.")
                   ] = None,
) -> None:
    """A report on the leads (created in the period, of the owner/source/type/partner given), as a table, JSON
    or CSV. Definitions (qualified, won, the period a lead belongs to): see the README."""
    from leaddesk.store.desk import Desk
    from leaddesk.store.reports import ReportFilters

    if json_ and csv_:
        raise LeadDeskError("choose one of --json and --csv")
    if name is None or name.strip().casefold() == "list":
        names = Desk.report_names()
        if json_:
            _emit(dumps([{"name": k, "title": v} for k, v in names.items()]) + "\n", out)
        elif csv_:
            _emit(_csv(["name", "title"], list(names.items())), out)
        else:
            _emit_table(_names_table(names), [], out)
        return
    filters = ReportFilters(since=since, until=until, owner=owner, source=source, type=type_, partner=partner,
                            by=by)
    report = reader().report(name, filters)
    if json_:
        _emit(dumps(report.as_json()) + "\n", out)
    elif csv_:
        from leaddesk.store.reports import json_value

        _emit(_csv([c.key for c in report.columns],
                   [[json_value(c.kind, row.get(c.key)) for c in report.columns] for row in report.rows]), out)
    else:
        _emit_table(_table(report), report.notes, out)


def _names_table(names: dict[str, str]) -> Table:
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("report")
    table.add_column("title")
    for key, title in names.items():
        table.add_row(key, title)
    return table


def _table(report: Any) -> Table:
    """The report as a Rich table: user data literal (Text), numbers right-aligned, the totals row in bold."""
    from leaddesk.store.reports import format_value

    words = [report.title, report.period]
    words += [f"{k} {v}" for k, v in report.filters.items() if v and k not in ("since", "until")]
    table = Table(title=Text(safe_line(" · ".join(str(w) for w in words))), title_justify="left", show_edge=False,
                  pad_edge=False, header_style="bold")
    for col in report.columns:
        table.add_column(col.label, justify="right" if col.kind in NUMERIC else "left", overflow="fold")

    def cells(row: dict[str, Any], style: str = "") -> list[Text]:
        return [Text(safe_line(format_value(c.kind, row.get(c.key))), style=style) for c in report.columns]

    for i, row in enumerate(report.rows):
        table.add_row(*cells(row), end_section=report.totals is not None and i == len(report.rows) - 1)
    if report.totals is not None:
        table.add_row(*cells(report.totals, "bold"))
    return table


def _csv(columns: list[str], rows: list[Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue()


def _emit_table(table: Table, notes: list[str], out: Path | None) -> None:
    """Print the table and its notes (user data already literal); to a file as plain text with --output."""
    if out is None:
        output.console.print(table)
        for note in notes:
            output.console.print(Text(safe_line(f"· {note}"), style="dim"))
        return
    buffer = io.StringIO()
    console = Console(file=buffer, width=10_000, no_color=True, highlight=False, soft_wrap=False,
                      force_terminal=False, color_system=None)
    console.print(table)
    for note in notes:
        console.print(Text(safe_line(f"· {note}")))
    _emit("\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n", out)


def _emit(text: str, out: Path | None) -> None:
    """Text to stdout, or to the file `out` (then a one-line confirmation, as `export` gives)."""
    if out is None or str(out) == "-":
        sys.stdout.write(text)
        return
    path = out.expanduser()
    try:
        path.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise LeadDeskError(f"cannot write {path}: {exc.strerror or exc}") from None
    output.say(f"wrote {safe_line(str(path))}")
