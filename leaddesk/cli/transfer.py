"""`leaddesk import` and `leaddesk export`: leads in and out of CSV, JSON and Excel."""

import os
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Any

import typer

from leaddesk.cli import output
from leaddesk.cli.app import JsonOpt, app, desk, reader, with_filters
from leaddesk.store.errors import LeadDeskError
from leaddesk.store.queries import LeadFilter
from leaddesk.textsafe import safe_line

KILL_HOOK = "LEADDESK_TEST_KILL_AFTER_ROWS"  # tests only: SIGKILL this process once that many rows are read
PROGRESS_FROM = 2000  # rows: smaller files import before a bar would be worth drawing


def plural(count: int, word: str) -> str:
    """'1 lead', '3 leads'."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def parse_map(pairs: list[str] | None) -> dict[str, str]:
    """--map "Header=field" pairs (the last '=' separates: headers may contain one)."""
    overrides: dict[str, str] = {}
    for pair in pairs or []:
        header, eq, target = pair.rpartition("=")
        if not eq or not header.strip() or not target.strip():
            raise LeadDeskError(f"--map takes \"Header=field\" (field '-' skips the column), not '{pair}'")
        overrides[header.strip()] = target.strip()
    return overrides


def _progress(total_hint: int) -> tuple[Callable[[int, int], None] | None, Callable[[], None]]:
    """A progress callback (a Rich bar on a terminal's stderr for large files) and its closer."""
    kill_after = int(os.environ.get(KILL_HOOK) or 0)
    bar: Any = None
    task: Any = None
    if sys.stderr.isatty() and total_hint >= PROGRESS_FROM:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        # auto_refresh off: no refresh thread, so the import may fork its helper process (see importing.use_worker)
        bar = Progress(TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                       console=Console(stderr=True), transient=True, auto_refresh=False)
        bar.start()
        task = bar.add_task("import", total=total_hint)

    def step(done: int, total: int) -> None:
        if bar is not None:
            bar.update(task, completed=done, total=max(total, done), refresh=True)
        if kill_after and done >= kill_after:
            import signal

            os.kill(os.getpid(), signal.SIGKILL)

    def close() -> None:
        if bar is not None:
            bar.stop()

    return (step if bar is not None or kill_after else None), close


@app.command("import")
def import_(
    file: Annotated[str | None, typer.Argument(help="A .csv or .xlsx file.")] = None,
    map_: Annotated[list[str] | None, typer.Option(
        "--map", help="Map a column to a field: \"Header=field\" ('-' skips it). Repeatable.")] = None,
    on_duplicate: Annotated[str, typer.Option(
        help="A row with the phone or email of a lead (or of an earlier row): skip, update or create.")] = "skip",
    unknown: Annotated[str, typer.Option(
        help="Columns that match no field: keep (in the description) or ignore.")] = "keep",
    sheet: Annotated[str | None, typer.Option(help="The sheet of an .xlsx file (default: the first).")] = None,
    require: Annotated[str | None, typer.Option(
        help="Fields every row must have, comma-separated, or 'none' (default: seed 001 files need"
             " contact_name, phone and source).")] = None,
    errors: Annotated[str | None, typer.Option(
        help="Where to write the rows not imported (default: FILE.errors.csv next to FILE).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check everything, write nothing.")] = False,
    preview: Annotated[bool, typer.Option("--preview", help="Show the column mapping and the first rows.")] = False,
    list_: Annotated[bool, typer.Option("--list", help="List the import batches.")] = False,
    undo: Annotated[int | None, typer.Option(
        "--undo", metavar="BATCH", help="Remove the leads a batch created (those untouched since).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Import leads from a CSV or Excel file: every row checked like a lead typed by hand, all or nothing."""
    if list_:
        _list_batches(json_)
        return
    if undo is not None:
        _undo(undo, json_)
        return
    if not file:
        raise LeadDeskError("give a file to import (or --list, or --undo BATCH)")
    overrides = parse_map(map_)
    if preview:
        _print_preview(_preview(file, overrides, sheet), json_)
        return
    required = None
    if require is not None:
        required = [] if require.strip().casefold() in ("", "none", "-") else [
            p.strip() for p in require.split(",") if p.strip()]
    d = desk()
    step, close = _progress(_estimate(file))
    try:
        summary = d.import_leads(file, overrides=overrides, on_duplicate=on_duplicate, unknown=unknown,
                                 sheet=sheet, require=required, errors_path=errors, dry_run=dry_run, progress=step)
    finally:
        close()
    if json_:
        output.emit_json(summary)
        return
    _print_summary(summary)


def _preview(file: str, overrides: dict[str, str], sheet: str | None) -> dict[str, Any]:
    """The preview, with the desk's custom fields when there is a desk (it needs no database otherwise)."""
    from pathlib import Path

    from leaddesk.settings import load_settings
    from leaddesk.store import importing

    try:
        return dict(reader().preview_import(file, overrides, sheet))
    except LeadDeskError as exc:
        if not str(exc).startswith("there is no desk"):
            raise
    options = importing.ImportOptions(overrides=overrides, sheet=sheet)
    return importing.preview(importing.plan_import(Path(file), load_settings(), options))


def _estimate(file: str) -> int:
    """Rows to expect, from the file size (a bar is only drawn for large files)."""
    try:
        return max(os.path.getsize(file) // 120, 1)
    except OSError:
        return 0


def _print_preview(shown: dict[str, Any], json_: bool) -> None:
    if json_:
        output.emit_json(shown)
        return
    read_as = shown["kind"] if shown["kind"] == "xlsx" else (
        f"csv, {shown['encoding']}, delimiter {shown['delimiter']!r}")
    output.say(safe_line(f"{shown['file']} ({read_as}), about {plural(shown['rows'], 'row')}"))
    output.table(None, ["column", "field"], [
        (m["column"], m["field"] or "(unknown: kept in the description)" if m["field"] != "-" else "(skipped)")
        for m in shown["mapping"]])
    for note in shown["notes"]:
        output.say(safe_line(f"note: {note}"))
    for row in shown["sample"]:
        values = ", ".join(f"{k}={v}" for k, v in row["values"].items())
        output.say(safe_line(f"line {row['line']}: {values}"))


def _print_summary(summary: dict[str, Any]) -> None:
    for note in summary["notes"]:
        output.say(safe_line(f"note: {note}"))
    for problem in summary["problems"]:
        where = f", column '{problem['column']}'" if problem["column"] else ""
        output.say(safe_line(f"{problem['kind']}: line {problem['line']}{where}: {problem['reason']}"))
    if summary["more_problems"]:
        output.say(f"... and {summary['more_problems']} more")
    dup = {"skip": "skipped", "update": "updated", "create": "created anyway"}[summary["on_duplicate"]]
    head = "dry run, nothing written: would import" if summary["dry_run"] else "imported"
    batch = f" (batch {summary['batch']})" if summary["batch"] else ""
    output.say(safe_line(
        f"{head} {summary['imported']} of {plural(summary['read'], 'row')} from {summary['file']}{batch}:"
        f" {summary['updated']} updated, {plural(summary['duplicates'], 'duplicate')} {dup},"
        f" {summary['rejected']} rejected, {plural(summary['warnings'], 'warning')}"))
    if summary["error_file"]:
        output.say(safe_line(f"rows not imported, with the reason, are in {summary['error_file']}"
                             " (fix them and import that file)"))


def _list_batches(json_: bool) -> None:
    batches = reader().import_batches()
    if json_:
        output.emit_json(batches)
        return
    output.table(None, ["batch", "at", "user", "file", "state", "read", "imported", "updated", "duplicates",
                        "rejected", "leads now"],
                 [(b["id"], b["at"].replace("T", " "), b["user"], b["file"], b["state"], b["rows_read"], b["imported"],
                   b["updated"], b["duplicates"], b["rejected"], b["leads"]) for b in batches])


def _undo(batch: int, json_: bool) -> None:
    done = desk().undo_import(batch)
    if json_:
        output.emit_json(done)
        return
    output.say(f"import batch {batch}: removed {plural(done['removed'], 'lead')}")
    if done["kept"]:
        numbers = ", ".join(str(n) for n in done["kept_numbers"])
        more = "" if done["kept"] <= len(done["kept_numbers"]) else ", ..."
        output.say(f"kept {plural(done['kept'], 'lead')} changed since the import: {numbers}{more}")
    if done["updated"]:
        output.say(f"{plural(done['updated'], 'existing lead')} it updated are left as they are"
                   " (see their history; `leaddesk undo REF` reverts your last change)")


@app.command("export")
@with_filters
def export(
    flt: LeadFilter,
    out: Annotated[str, typer.Option("-o", "--output", help="FILE.csv, FILE.json or FILE.xlsx ('-': stdout).")],
    fmt: Annotated[str | None, typer.Option("--format", help="csv, json or xlsx (default: by extension).")] = None,
) -> None:
    """Export leads (any list filter) in the columns `leaddesk import` reads back."""
    flt = replace(flt, limit=None)
    d = reader()
    if out == "-":
        d.export_leads(flt, sys.stdout, fmt or "csv")
        return
    count = d.export_leads(flt, out, fmt)
    output.say(safe_line(f"exported {plural(count, 'lead')} to {out}"))
