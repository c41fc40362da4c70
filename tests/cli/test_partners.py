"""`leaddesk partner spend|report|list` (issue 7): metrics and the status-only table as table, JSON, CSV and HTML;
hostile names shown literally or escaped; refusals as one-line errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from clisupport import ANN, BOB, Cli, header

HOSTILE = '<script>alert("x")</script> & =1+1'


@pytest.fixture
def referred(cli: Cli) -> dict[str, int]:
    """Northwind referred Ann (won, 1,500) and Bob (open); 600 spent on it; Southwind has nothing."""
    cli.ok("partner", "add", "Northwind")
    cli.ok("partner", "add", "Southwind")
    ann = cli.add(**ANN, partner="Northwind")
    bob = cli.add(**BOB, partner="Northwind")
    cli.ok("won", str(ann), "--value", "1500")
    cli.ok("partner", "spend", "Northwind", "$600", "--date", "2026-03-01", "--note", "flyers")
    return {"ann": ann, "bob": bob}


def test_spend_confirms_in_one_line(cli: Cli) -> None:
    cli.ok("partner", "add", "Northwind")
    out = cli.ok("partner", "spend", "north", "1,234.5").out
    assert out == "spent 1,234.50 on partner 'Northwind' on 2026-03-04\n"
    done = cli.ok("partner", "spend", "Northwind", "10", "--date", "yesterday", "--json").json()
    assert (done["amount"], done["date"], done["partner"]) == (10.0, "2026-03-03", "Northwind")


def test_report_json_carries_the_metrics_and_the_status_table(cli: Cli, referred: dict[str, int]) -> None:
    got = cli.ok("partner", "report", "Northwind", "--format", "json").json()
    assert {k: got[k] for k in ("leads", "won", "won_value", "spend", "rocs", "cac")} == {
        "leads": 2, "won": 1, "won_value": 1500.0, "spend": 600.0, "rocs": 250.0, "cac": 300.0}
    assert got["lead_table"] == [
        {"number": referred["bob"], "name": "Bob Stone", "status": "New", "job_value": None},
        {"number": referred["ann"], "name": "Ann Lee", "status": "Converted", "job_value": 1500.0}]
    assert "ann@acme" not in cli.ok("partner", "report", "Northwind", "--format", "json").out


def test_report_json_is_null_with_a_reason_where_undefined(cli: Cli, referred: dict[str, int]) -> None:
    got = cli.ok("partner", "report", "Southwind", "--format", "json").json()
    assert (got["leads"], got["spend"], got["rocs"], got["cac"]) == (0, 0.0, None, None)
    assert got["why"] == {"rocs": "no spend in the period", "cac": "no leads in the period"}
    out = cli.ok("partner", "report", "Southwind").out
    assert "ROCS — (no spend in the period) · CAC — (no leads in the period)" in out


def test_report_period(cli: Cli, referred: dict[str, int]) -> None:
    got = cli.ok("partner", "report", "Northwind", "--from", "2026-03-02", "--to", "2026-03-04",
                 "--format", "json").json()
    assert (got["from"], got["to"], got["leads"], got["spend"], got["rocs"]) == (
        "2026-03-02", "2026-03-04", 2, 0.0, None)
    got = cli.ok("partner", "report", "Northwind", "--to", "2026-03-03", "--format", "json").json()
    assert (got["leads"], got["spend"], got["cac"], got["lead_table"]) == (0, 600.0, None, [])


def test_report_table(cli: Cli, referred: dict[str, int]) -> None:
    out = cli.ok("partner", "report", "Northwind").out
    assert "leads 2 · won 1 · won value 1,500.00 · spend 600.00" in out
    assert "ROCS 250.0% · CAC 300.00" in out
    table = out.splitlines()[3:]
    assert header(table[0]) == ["#", "Name", "Status", "Job value"]
    assert any("Ann Lee" in line and "1,500.00" in line for line in table)


def test_report_csv_is_the_lead_table_with_names_literal(cli: Cli) -> None:
    cli.ok("partner", "add", "Northwind")
    number = cli.add(name=HOSTILE, company="Evil", partner="Northwind")
    rows = list(csv.reader(io.StringIO(cli.ok("partner", "report", "Northwind", "--format", "csv").out)))
    assert rows == [["number", "name", "status", "job_value"], [str(number), HOSTILE, "New", ""]]


def test_report_html_escapes_every_value(cli: Cli) -> None:
    cli.ok("partner", "add", "<b>Bad & Co</b>")
    cli.add(name=HOSTILE, company="Evil", partner="<b>Bad & Co</b>")
    page = cli.ok("partner", "report", "<b>Bad", "--format", "html").out
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script>" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; =1+1" in page
    assert "<h1>Leads from &lt;b&gt;Bad &amp; Co&lt;/b&gt;</h1>" in page
    assert "no spend in the period" in page


def test_partner_list_shows_metrics_and_dashes(cli: Cli, referred: dict[str, int]) -> None:
    out = cli.ok("partner").out
    assert header(out) == ["name", "email", "login", "leads", "won", "spend", "ROCS", "CAC"]
    north = next(line for line in out.splitlines() if "Northwind" in line)
    assert "600.00" in north and "250.0%" in north and "300.00" in north
    south = next(line for line in out.splitlines() if "Southwind" in line)
    assert south.count("—") == 2
    assert "—: no leads in the period; no spend in the period" in out
    rows = {r["name"]: r for r in cli.ok("partner", "list", "--json").json()}
    assert (rows["Northwind"]["rocs"], rows["Northwind"]["cac"], rows["Northwind"]["won"]) == (250.0, 300.0, 1)
    assert (rows["Southwind"]["rocs"], rows["Southwind"]["cac"]) == (None, None)
    assert rows["Southwind"]["why"]["cac"] == "no leads in the period"
    assert cli.ok("partner", "--json").json() == list(rows.values())


@pytest.mark.parametrize(("argv", "message"), [
    (["partner", "spend", "Nobody", "10"], "unknown partner 'Nobody'"),
    (["partner", "spend", "Northwind", "lots"], "amount 'lots' is not a number"),
    (["partner", "spend", "Northwind", "0"], "a spend amount must be more than 0"),
    (["partner", "spend", "Northwind", "10", "--date", "someday"], "date:"),
    (["partner", "report", "Nobody"], "unknown partner 'Nobody'"),
    (["partner", "report", "Northwind", "--from", "2026-03-05", "--to", "2026-03-01"], "starts"),
])
def test_refusals_are_one_line(cli: Cli, argv: list[str], message: str) -> None:
    cli.ok("partner", "add", "Northwind")
    assert message in cli.refused(*argv).err


def test_a_rep_may_not_record_spend(cli: Cli) -> None:
    cli.ok("partner", "add", "Northwind")
    cli.ok("user", "add", "bob", "--role", "rep")
    err = cli("--user", "bob", "partner", "spend", "Northwind", "10")
    assert err.code == 1 and err.err == ("leaddesk: only a manager or an admin may record partner spend;"
                                         " you are a rep\n")
    assert cli.ok("partner", "report", "Northwind", "--format", "json").json()["spend"] == 0.0


# -- partner logins, edit, report files, the partner user's own report -----------------------------------------
REFUSAL = ("leaddesk: a partner sees only the status of the leads they referred: open `leaddesk` for the partner"
           " view, or run `leaddesk partner report`\n")


def test_add_with_a_login_creates_or_converts_the_partner_user(cli: Cli) -> None:
    out = cli.ok("partner", "add", "Northwind", "--email", "nw@example.com", "--login", "pat").out
    assert out == "partner 'Northwind' added\nuser 'pat' sees partner 'Northwind' (created as a partner user)\n"
    cli.ok("user", "add", "bob")
    out = cli.ok("partner", "add", "Southwind", "--user", "bob").out  # the spelling; --login too
    assert out.splitlines()[-1] == "user 'bob' sees partner 'Southwind' (was a rep, now a partner user)"
    roles = {u["login"]: u["role"] for u in cli.ok("user", "list", "--json").json()}
    assert (roles["pat"], roles["bob"]) == ("partner", "partner")
    assert [(p["name"], p["login"]) for p in cli.ok("partner", "--json").json()] == [
        ("Northwind", "pat"), ("Southwind", "bob")]
    # after `partner add` --user is the partner's login; the global --user (who acts) goes before the command
    assert cli.raw("--user", "pat", "--db", str(cli.db), "partner", "add", "Eastwind").err == REFUSAL
    assert "one login sees one partner" in cli.refused("partner", "add", "Eastwind", "--user", "pat").err
    assert "one login sees one partner" in cli.refused("partner", "add", "Eastwind", "--login", "pat").err
    cli.ok("user", "add", "mia", "--role", "manager")
    assert "user 'mia' is a manager" in cli.refused("partner", "add", "Eastwind", "--login", "mia").err
    assert [p["name"] for p in cli.ok("partner", "--json").json()] == ["Northwind", "Southwind"]


def test_edit_renames_changes_the_email_relinks_and_unlinks(cli: Cli) -> None:
    cli.ok("partner", "add", "Northwind", "--email", "nw@example.com", "--login", "pat")
    out = cli.ok("partner", "edit", "north", "--name", "North Wind", "--email", "", "--login", "quin").out
    assert out.splitlines() == ["partner 'North Wind': changed name, email, user",
                                "user 'pat' no longer sees partner 'North Wind'",
                                "user 'quin' sees partner 'North Wind' (created as a partner user)"]
    assert cli.ok("partner", "edit", "North Wind", "--login", "quin").out == "partner 'North Wind' unchanged\n"
    got = cli.ok("partner", "edit", "North Wind", "--unlink", "--json").json()
    assert got == {"name": "North Wind", "email": None, "user": None, "changed": ["user"]}
    cli.ok("user", "add", "bob")
    assert "only a manager or an admin may change partners; you are a rep" in cli.refused(
        "--user", "bob", "partner", "edit", "North Wind", "--name", "X").err
    assert cli.refused("--user", "quin", "partner", "edit", "North Wind", "--name", "X").err == REFUSAL
    assert [p["name"] for p in cli.ok("partner", "--json").json()] == ["North Wind"]


def test_a_leads_partner_is_set_and_changed_on_add_and_edit(cli: Cli) -> None:
    cli.ok("partner", "add", "Northwind")
    cli.ok("partner", "add", "Southwind")
    number = cli.add(**ANN, partner="north")
    assert cli.show(number)["partner"] == "Northwind"
    cli.ok("edit", str(number), "--partner", "South")
    assert cli.show(number)["partner"] == "Southwind"
    assert "unknown partner 'Zed'" in cli.refused("edit", str(number), "--partner", "Zed").err
    assert cli.show(number)["partner"] == "Southwind"
    assert [r["number"] for r in cli.ok("partner", "report", "Southwind", "--format", "json").json()["lead_table"]
            ] == [number]


def test_report_output_writes_the_file_and_never_overwrites_without_force(cli: Cli, referred: dict[str, int],
                                                                          tmp_path: Path) -> None:
    target = tmp_path / "northwind.csv"
    out = cli.ok("partner", "report", "Northwind", "--output", str(target)).out
    assert out == f"wrote 2 leads of partner 'Northwind' to {target} (csv)\n"
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert rows == [["number", "name", "status", "job_value"], [str(referred["bob"]), "Bob Stone", "New", ""],
                    [str(referred["ann"]), "Ann Lee", "Converted", "1500.0"]]
    target.write_text("keep me", encoding="utf-8")
    err = cli.refused("partner", "report", "Northwind", "--output", str(target)).err
    assert err == f"leaddesk: {target} already exists: --force replaces it\n"
    assert target.read_text(encoding="utf-8") == "keep me"
    cli.ok("partner", "report", "Northwind", "--output", str(target), "--format", "json", "--force")
    assert json.loads(target.read_text(encoding="utf-8"))["rocs"] == 250.0
    page = tmp_path / "report.HTML"
    cli.ok("partner", "report", "Northwind", "-o", str(page))
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary file left


@pytest.mark.parametrize(("argv", "message"), [
    (["--output", "{tmp}/report.txt"], "which format for"),
    (["--output", "{tmp}/r.csv", "--format", "table"], "--output writes csv, json or html"),
    (["--output", "{tmp}/missing/r.csv"], "there is no folder"),
])
def test_report_output_refusals(cli: Cli, referred: dict[str, int], tmp_path: Path, argv: list[str],
                                message: str) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert message in cli.refused("partner", "report", "Northwind", *args).err
    assert [p.name for p in tmp_path.iterdir() if p.name != "t.db" and not p.name.startswith("t.db")] == []


def test_a_partner_user_runs_their_own_report_and_nothing_else(cli: Cli, referred: dict[str, int],
                                                                tmp_path: Path) -> None:
    cli.ok("partner", "edit", "Northwind", "--login", "pat")
    got = cli.ok("--user", "pat", "partner", "report", "--format", "json").json()
    assert (got["partner"], got["leads"], got["rocs"], got["cac"]) == ("Northwind", 2, 250.0, 300.0)
    assert [r["name"] for r in got["lead_table"]] == ["Bob Stone", "Ann Lee"]
    out = cli.ok("--user", "pat", "partner", "report").out
    assert "partner Northwind · all time" in out and "ROCS 250.0% · CAC 300.00" in out
    target = tmp_path / "mine.html"
    cli.ok("--user", "pat", "partner", "report", "north", "--output", str(target))
    assert "Leads from Northwind" in target.read_text(encoding="utf-8")
    assert cli.refused("--user", "pat", "partner", "report", "Southwind").err == (
        "leaddesk: you see only the leads of your own partner, 'Northwind'\n")
    for argv in (["partner"], ["partner", "list"], ["list"], ["show", "1"], ["history", "1"], ["export", "-o", "-"],
                 ["status", "1", "contacted"], ["note", "1", "hi"], ["partner", "spend", "Northwind", "5"]):
        assert cli("--user", "pat", *argv).err == REFUSAL, argv
    assert cli.refused("partner", "report").err == (
        "leaddesk: which partner? `leaddesk partner report NAME` (see `leaddesk partner list`)\n")
