"""`leaddesk report NAME [filters] [--json|--csv] [--output FILE]` (issue 7) through the real entry point: the
list of reports, tables with literal user data, JSON, CSV, files, and one-line refusals."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from clisupport import ANN, BOB, Cli, header

HOSTILE = "[bold red]Ads[/] \x1b[31m"


@pytest.fixture
def desk_with_leads(cli: Cli) -> dict[str, int]:
    """Ann (Referral, won 1,500), Bob (Event, open) and Cy (a hostile source name, lost)."""
    cli.ok("sources", "add", HOSTILE)
    ann = cli.add(**ANN)
    bob = cli.add(**BOB)
    cy = cli.add(name="Cy Nobody", company="Cyco", source=HOSTILE)
    cli.ok("won", str(ann), "--value", "1500")
    cli.ok("lost", str(cy), "--reason", "Budget")
    return {"ann": ann, "bob": bob, "cy": cy}


def test_report_alone_or_list_lists_the_reports(cli: Cli) -> None:
    for argv in (("report",), ("report", "list")):
        out = cli.ok(*argv).out
        assert header(out) == ["report", "title"]
        assert [line.split("│")[0].strip() for line in out.splitlines()[2:]] == [
            "volume", "sources", "velocity", "funnel", "owners", "lost", "pipeline"]
        assert "Pipeline value by stage" in out
    listed = cli.ok("report", "--json").json()
    assert listed[0] == {"name": "volume", "title": "Lead volume"} and len(listed) == 7


def test_a_table_with_totals_notes_and_literal_user_data(cli: Cli, desk_with_leads: dict[str, int]) -> None:
    out = cli.ok("report", "sources").out
    lines = out.splitlines()
    assert lines[0].startswith("Source performance · all time")
    assert header(lines[1]) == ["Source", "Leads", "Qualified", "Won", "Conversion", "Won value", "Spend",
                                "Cost/lead", "Cost/qualified"]
    assert "[bold red]Ads[/] \\x1b[31m" in out  # shown literally, the escape character made visible
    assert "\x1b" not in out
    referral = next(line for line in lines if line.startswith("Referral"))
    assert [c.strip() for c in referral.split("│")] == ["Referral", "1", "1", "1", "100.0%", "1,500.00", "—", "—",
                                                         "—"]
    total = next(line for line in lines if line.startswith("Total"))
    assert [c.strip() for c in total.split("│")][:6] == ["Total", "3", "1", "1", "33.3%", "1,500.00"]
    assert any(line.startswith("· cost per lead and per qualified lead") for line in lines)


def test_durations_and_filters_in_the_title(cli: Cli, desk_with_leads: dict[str, int]) -> None:
    out = cli.ok("report", "vel", "--source", "refer", "--from", "2026-03-01").out
    assert out.splitlines()[0].startswith("Velocity · from 2026-03-01 · source Referral")
    first_contact = next(line for line in out.splitlines() if line.startswith("Created → first contact"))
    assert [c.strip() for c in first_contact.split("│")] == ["Created → first contact", "1", "0s", "0s"]


def test_json_has_columns_rows_totals_notes_and_money_in_units(cli: Cli, desk_with_leads: dict[str, int]) -> None:
    got = cli.ok("report", "owners", "--owner", "ANN", "--json").json()
    assert (got["name"], got["title"], got["period"]) == ("owners", "Owners", "all time")
    assert got["filters"]["owner"] == "ann"
    assert got["columns"][0] == {"key": "owner", "label": "Owner", "kind": "text"}
    assert got["rows"] == [{"owner": "ann", "leads": 3, "open": 1, "qualified": 1, "won": 1, "lost": 1,
                            "conversion": 33.3, "won_value": 1500.0}]
    assert got["totals"]["owner"] == "Total" and got["chart"] == {"kind": "bar", "label": "owner", "value": "leads"}
    assert isinstance(got["notes"], list)
    funnel = cli.ok("report", "funnel", "--json").json()
    assert [(r["step"], r["leads"], r["of_previous"]) for r in funnel["rows"]] == [
        ("All leads", 3, None), ("Contacted", 2, 66.7), ("Qualified", 1, 50.0), ("Won", 1, 100.0)]


def test_csv_has_the_keys_and_the_rows_only(cli: Cli, desk_with_leads: dict[str, int]) -> None:
    rows = list(csv.reader(io.StringIO(cli.ok("report", "lost", "--csv").out)))
    assert rows == [["reason", "leads", "share"], ["Budget", "1", "100.0"]]
    volume = list(csv.DictReader(io.StringIO(cli.ok("report", "volume", "--by", "day", "--csv").out)))
    assert volume == [{"period": "2026-03-04", "leads": "3", "open": "1", "qualified": "0", "won": "1",
                       "lost": "1"}]
    sources = list(csv.DictReader(io.StringIO(cli.ok("report", "sources", "--csv").out)))
    assert {r["source"] for r in sources} == {"Referral", "Event", HOSTILE}  # literal in a file, as stored
    assert next(r for r in sources if r["source"] == "Referral")["won_value"] == "1500.0"


def test_output_writes_the_file(cli: Cli, desk_with_leads: dict[str, int], tmp_path: Path) -> None:
    for flag, name in (("--json", "r.json"), ("--csv", "r.csv"), (None, "r.txt")):
        target = tmp_path / name
        argv = ["report", "pipeline", "--output", str(target)] + ([flag] if flag else [])
        assert cli.ok(*argv).out == f"wrote {target}\n"
        text = target.read_text(encoding="utf-8")
        if flag == "--json":
            assert json.loads(text)["name"] == "pipeline"
        elif flag == "--csv":
            assert text.splitlines()[0] == "pipeline,stage,deals,value,weighted"
        else:
            assert text.splitlines()[0] == "Pipeline value by stage · all time"
            assert "\x1b" not in text and "Prospecting" in text and "· won: 0 deals, value 0.00" in text


@pytest.mark.parametrize(("argv", "message"), [
    (("report", "nope"), "unknown report 'nope': choose from volume, sources"),
    (("report", "volume", "--by", "year"), "--by must be day, week or month, not 'year'"),
    (("report", "owners", "--owner", "zed"), "unknown owner 'zed'"),
    (("report", "sources", "--source", "Nowhere"), "unknown source 'Nowhere'"),
    (("report", "funnel", "--from", "someday"), "from:"),
    (("report", "funnel", "--from", "2026-03-05", "--to", "2026-03-01"), "the period starts (2026-03-05)"),
    (("report", "funnel", "--json", "--csv"), "choose one of --json and --csv"),
    (("report", "funnel", "--output", "/nonexistent/dir/r.txt"), "cannot write /nonexistent/dir/r.txt"),
])
def test_bad_input_is_a_one_line_refusal(cli: Cli, argv: tuple[str, ...], message: str) -> None:
    line = cli.refused(*argv).err
    assert message in line


def test_a_partner_is_refused(cli: Cli) -> None:
    cli.ok("user", "add", "pat", "--role", "partner")
    result = cli("--user", "pat", "report", "volume")
    assert result.code != 0 and "Traceback" not in result.err and len(result.err.splitlines()) == 1
