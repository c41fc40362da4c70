"""`leaddesk partner spend|report|list|edit`: co-marketing spend, ROCS/CAC, the partner's status-only lead table
and the login that sees it (issue 7; `partner` itself and `partner add` live in cli/app.py).

A partner's login is `--user LOGIN` (as the issue names it; `--login` too): after `partner add|edit` it is the
partner's login, so the global `--user` naming who acts goes before `partner` there. A partner user
may run `leaddesk partner report` for their own partner (the name is optional for them), and nothing else."""

import html
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from leaddesk.cli import output
from leaddesk.cli.app import JsonOpt, desk, partner_app, reader
from leaddesk.cli.render import dumps, money
from leaddesk.store.errors import LeadDeskError
from leaddesk.store.rules import format_money
from leaddesk.textsafe import safe_line

DASH = "—"
FromOpt = Annotated[str | None, typer.Option("--from", help="First day of the period (leads by creation date).")]
ToOpt = Annotated[str | None, typer.Option("--to", help="Last day of the period (inclusive).")]
LoginOpt = Annotated[str | None, typer.Option(
    "--user", "--login",
    help="The partner's login: it sees only the partner view (created if unknown; a rep becomes one).")]


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    html = "html"


def rocs_text(m: dict[str, Any]) -> str:
    """ROCS as `250.0%`, or the dash when undefined."""
    return DASH if m["rocs"] is None else f"{m['rocs']:.1f}%"


def cac_text(m: dict[str, Any]) -> str:
    """CAC as money, or the dash when undefined."""
    return DASH if m["cac"] is None else format_money(m["cac"])


def metrics_json(m: dict[str, Any]) -> dict[str, Any]:
    """The metrics with money as currency units (like the rest of the CLI's JSON), null where undefined."""
    return {"leads": m["leads"], "won": m["won"], "won_value": money(m["won_value"]), "spend": money(m["spend"]),
            "rocs": m["rocs"], "cac": money(m["cac"]), "why": m["why"]}


def list_partners(json_: bool, since: str | None = None, until: str | None = None) -> None:
    """Partners with leads, won, spend, ROCS and CAC (the `partner` / `partner list` output)."""
    rows = reader().partner_overview(since, until)
    if json_:
        output.emit_json([{"id": r["id"], "name": r["name"], "email": r["email"], "login": r["user"],
                           **metrics_json(r)} for r in rows])
        return
    output.table(None, ["name", "email", "login", "leads", "won", "spend", "ROCS", "CAC"],
                 [[r["name"], r["email"], r["user"], r["leads"], r["won"], format_money(r["spend"]), rocs_text(r),
                   cac_text(r)] for r in rows])
    reasons = sorted({why for r in rows for why in r["why"].values() if why})
    if rows and reasons:
        output.say(f"{DASH}: " + "; ".join(reasons))


@partner_app.command("list")
def partner_list_command(since: FromOpt = None, until: ToOpt = None, json_: JsonOpt = False) -> None:
    """List partners with their leads, won leads, spend, ROCS and CAC over the period."""
    list_partners(json_, since, until)


@partner_app.command("spend")
def partner_spend(
    name: str,
    amount: str,
    date: Annotated[str | None, typer.Option("--date", help="When the money was spent (default today).")] = None,
    note: Annotated[str, typer.Option("--note", help="What it was for.")] = "",
    json_: JsonOpt = False,
) -> None:
    """Record co-marketing spend on a partner (managers)."""
    done = desk().add_partner_spend(name, amount, date, note)
    if json_:
        output.emit_json({"id": done["id"], "partner": done["partner"], "amount": money(done["amount_cents"]),
                          "date": done["spent_on"], "note": done["note"]})
        return
    output.say(f"spent {format_money(done['amount_cents'])} on partner '{safe_line(done['partner'])}'"
               f" on {done['spent_on']}")


@partner_app.command("report")
def partner_report(
    name: Annotated[str | None, typer.Argument(help="The partner (a partner user may leave it out).")] = None,
    since: FromOpt = None,
    until: ToOpt = None,
    fmt: Annotated[Format | None, typer.Option(
        "--format", help="table, json, csv (the lead table) or html; with --output, by default the file's extension.")
                   ] = None,
    out: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write the report to this file (csv, json or html) instead of printing it.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the --output file if it exists.")] = False,
) -> None:
    """A partner's ROCS, CAC and the status of the leads they referred (number, name, status, job value only).
    A partner user sees their own partner's."""
    chosen = file_format(out, fmt) if out is not None else fmt or Format.table
    if out is not None and out.exists() and not force:  # before reading: nothing is done for nothing
        raise LeadDeskError(f"{out} already exists: --force replaces it")
    report = reader().partner_report_for(name, since, until)
    if out is not None:
        write_file(out, render(report, chosen))
        output.say(f"wrote {len(report['leads'])} lead{'' if len(report['leads']) == 1 else 's'} of partner"
                   f" '{safe_line(report['partner']['name'])}' to {safe_line(str(out))} ({chosen.value})")
    elif chosen is Format.table:
        m = report["metrics"]
        output.say(f"partner {safe_line(report['partner']['name'])} · {period_text(report)}")
        output.say(f"leads {m['leads']} · won {m['won']} · won value {format_money(m['won_value'])}"
                   f" · spend {format_money(m['spend'])}")
        output.say(f"ROCS {rocs_text(m)}" + (f" ({m['why']['rocs']})" if m["why"]["rocs"] else "")
                   + f" · CAC {cac_text(m)}" + (f" ({m['why']['cac']})" if m["why"]["cac"] else ""))
        output.table(None, ["#", "Name", "Status", "Job value"],
                     ([r["number"], r["name"], r["status"], format_money(r["job_value"])] for r in report["leads"]))
    else:
        sys.stdout.write(render(report, chosen))


EXTENSIONS = {".csv": Format.csv, ".json": Format.json, ".html": Format.html, ".htm": Format.html}


def file_format(path: Path, fmt: Format | None) -> Format:
    """The format a report file is written in: --format, else the file's extension; a table is for a terminal."""
    chosen = fmt or EXTENSIONS.get(path.suffix.casefold())
    if chosen is None:
        raise LeadDeskError(f"which format for {path}? --format csv, json or html (or name it .csv, .json, .html)")
    if chosen is Format.table:
        raise LeadDeskError("--output writes csv, json or html; a table is for the terminal")
    return chosen


def render(report: dict[str, Any], fmt: Format) -> str:
    """The report as the text of a csv, json or html file."""
    if fmt is Format.json:
        return dumps(report_json(report)) + "\n"
    if fmt is Format.html:
        return report_html(report)
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["number", "name", "status", "job_value"])
    for r in report["leads"]:
        value = money(r["job_value"])
        writer.writerow([r["number"], r["name"], r["status"], "" if value is None else value])
    return buffer.getvalue()


def write_file(path: Path, text: str) -> None:
    """Write `text` to `path` whole or not at all (a temporary file beside it, then renamed over it)."""
    import os
    import tempfile

    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise LeadDeskError(f"cannot write {path}: there is no folder {folder}")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        os.replace(temporary, path)
    except OSError as exc:
        raise LeadDeskError(f"cannot write {path}: {exc.strerror or exc}") from None


@partner_app.command("edit")
def partner_edit(
    partner: str,
    name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="A new contact email (\"\" clears it).")] = None,
    login: LoginOpt = None,
    unlink: Annotated[bool, typer.Option("--unlink", help="Unlink the partner's login (it then sees nothing).")
                      ] = False,
    json_: JsonOpt = False,
) -> None:
    """Rename a partner, change its email, link its login or unlink it (managers); each change in history."""
    done = desk().edit_partner(partner, name=name, email=email, user=login, unlink=unlink)
    if json_:
        output.emit_json({k: done[k] for k in ("name", "email", "user", "changed")})
        return
    if not done["changed"]:
        output.say(f"partner '{safe_line(done['name'])}' unchanged")
        return
    output.say(f"partner '{safe_line(done['name'])}': changed {', '.join(done['changed'])}")
    if done["unlinked"]:
        output.say(f"user '{safe_line(done['unlinked'])}' no longer sees partner '{safe_line(done['name'])}'")
    if "user" in done["changed"]:
        say_linked(done)


def say_linked(done: dict[str, Any]) -> None:
    """What linking a login did: `user 'pat' sees partner 'X' (created as a partner user)`."""
    if not done.get("user"):
        return
    how = {None: "", "created": " (created as a partner user)"}.get(
        done["user_was"], f" (was a {done['user_was']}, now a partner user)")
    output.say(f"user '{safe_line(done['user'])}' sees partner '{safe_line(done['name'])}'{how}")


def period_text(report: dict[str, Any]) -> str:
    """`2026-11-01 to 2026-11-30`, `from 2026-11-01`, `all time`."""
    from leaddesk.store.reports import period_words

    return period_words(report["since"], report["until"])


def report_json(report: dict[str, Any]) -> dict[str, Any]:
    """The JSON report: the partner, the period, the metrics at top level and the status-only lead table."""
    return {"partner": report["partner"]["name"], "from": report["since"], "to": report["until"],
            **metrics_json(report["metrics"]),
            "lead_table": [{"number": r["number"], "name": r["name"], "status": r["status"],
                            "job_value": money(r["job_value"])} for r in report["leads"]]}


def report_html(report: dict[str, Any]) -> str:
    """A small standalone HTML page; every value escaped."""
    def e(value: Any) -> str:
        return html.escape("" if value is None else str(value), quote=True)

    m = report["metrics"]
    name = e(report["partner"]["name"])
    rows = "\n".join(
        f"<tr><td>{e(r['number'])}</td><td>{e(r['name'])}</td><td>{e(r['status'])}</td>"
        f"<td class=\"n\">{e(format_money(r['job_value']))}</td></tr>" for r in report["leads"])
    rocs = rocs_text(m) + (f" ({m['why']['rocs']})" if m["why"]["rocs"] else "")
    cac = cac_text(m) + (f" ({m['why']['cac']})" if m["why"]["cac"] else "")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Leads from {name}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }}
th, td {{ border-bottom: 1px solid #ccc; padding: 0.3em 0.8em; text-align: left; }}
td.n {{ text-align: right; }}
</style>
</head>
<body>
<h1>Leads from {name}</h1>
<p>{e(period_text(report))}</p>
<dl>
<dt>Leads</dt><dd>{e(m['leads'])}</dd>
<dt>Won</dt><dd>{e(m['won'])}</dd>
<dt>Won value</dt><dd>{e(format_money(m['won_value']))}</dd>
<dt>Spend</dt><dd>{e(format_money(m['spend']))}</dd>
<dt>ROCS</dt><dd>{e(rocs)}</dd>
<dt>CAC</dt><dd>{e(cac)}</dd>
</dl>
<table>
<thead><tr><th>#</th><th>Name</th><th>Status</th><th>Job value</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""
