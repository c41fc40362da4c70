"""`leaddesk partner spend|report|list`: co-marketing spend, ROCS/CAC and the partner's status-only lead table
(issue 7; `partner` itself and `partner add` live in cli/app.py)."""

from __future__ import annotations

import html
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer

from leaddesk.cli import output
from leaddesk.cli.app import JsonOpt, desk, partner_app, reader
from leaddesk.cli.render import money
from leaddesk.store.rules import format_money
from leaddesk.textsafe import safe_line

DASH = "—"
FromOpt = Annotated[str | None, typer.Option("--from", help="First day of the period (leads by creation date).")]
ToOpt = Annotated[str | None, typer.Option("--to", help="Last day of the period (inclusive).")]


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
        output.emit_json([{"id": r["id"], "name": r["name"], "email": r["email"], **metrics_json(r)} for r in rows])
        return
    output.table(None, ["name", "email", "leads", "won", "spend", "ROCS", "CAC"],
                 [[r["name"], r["email"], r["leads"], r["won"], format_money(r["spend"]), rocs_text(r), cac_text(r)]
                  for r in rows])
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
    name: str,
    since: FromOpt = None,
    until: ToOpt = None,
    fmt: Annotated[Format, typer.Option("--format", help="table, json, csv (the lead table) or html.")
                   ] = Format.table,
) -> None:
    """A partner's ROCS, CAC and the status of the leads they referred (number, name, status, job value only)."""
    report = reader().partner_report(name, since, until)
    if fmt is Format.json:
        output.emit_json(report_json(report))
    elif fmt is Format.csv:
        output.emit_csv(["number", "name", "status", "job_value"],
                        ([r["number"], r["name"], r["status"], money(r["job_value"])] for r in report["leads"]))
    elif fmt is Format.html:
        sys.stdout.write(report_html(report))
    else:
        m = report["metrics"]
        output.say(f"partner {safe_line(report['partner']['name'])} · {period_text(report)}")
        output.say(f"leads {m['leads']} · won {m['won']} · won value {format_money(m['won_value'])}"
                   f" · spend {format_money(m['spend'])}")
        output.say(f"ROCS {rocs_text(m)}" + (f" ({m['why']['rocs']})" if m["why"]["rocs"] else "")
                   + f" · CAC {cac_text(m)}" + (f" ({m['why']['cac']})" if m["why"]["cac"] else ""))
        output.table(None, ["#", "Name", "Status", "Job value"],
                     ([r["number"], r["name"], r["status"], format_money(r["job_value"])] for r in report["leads"]))


def period_text(report: dict[str, Any]) -> str:
    """`2026-11-01 to 2026-11-30`, `from 2026-11-01`, `all time`."""
    since, until = report["since"], report["until"]
    if since and until:
        return f"{since} to {until}"
    if since:
        return f"from {since}"
    if until:
        return f"until {until}"
    return "all time"


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
