"""The reports (issue 7) on hand-built desks whose answers are known: the definitions of qualified and won
(reopened leads, leads won then reset), period boundaries, leads with no source or owner, each filter, the
velocity measures from the status history, the pipeline, and an empty desk (no division errors)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from leaddesk import clock
from leaddesk.store.desk import Desk
from leaddesk.store.errors import RuleError
from leaddesk.store.permissions import Forbidden
from leaddesk.store.reports import REPORTS, Report, ReportFilters, duration_text, format_value

from .conftest import NOW, DeskFactory

HOUR = 3600.0


@contextmanager
def at(stamp: str) -> Iterator[None]:
    """Act at `stamp` (UTC), then back to the tests' fixed now."""
    clock.freeze(datetime.fromisoformat(stamp).replace(tzinfo=UTC))
    try:
        yield
    finally:
        clock.freeze(NOW)


def lead_at(desk: Desk, stamp: str, name: str, **values: Any) -> str:
    """Add a lead created at `stamp`; its number as text."""
    with at(stamp):
        fields = {"name": name, "company": f"{name} Co", **values}
        return str(desk.add_lead(fields, force=True)["number"])


def rows_by(report: Report, key: str) -> dict[Any, dict[str, Any]]:
    return {r[key]: r for r in report.rows}


def pct(values: list[float], p: float) -> float:
    """The percentile as the reports define it (linear between the closest ranks), written out independently."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def deal_of(desk: Desk, number: str) -> int:
    return int(desk.show(number)["deals"][0]["id"])


# -- names, refusals, the empty desk -----------------------------------------------------------------------
def test_the_names_in_order_a_prefix_and_an_unknown_name(desk: Desk) -> None:
    assert list(desk.report_names()) == ["volume", "sources", "velocity", "funnel", "owners", "lost", "pipeline"]
    assert desk.report_names() == REPORTS
    assert desk.report("vel").name == "velocity"
    with pytest.raises(RuleError, match="unknown report 'nope': choose from volume, sources, velocity"):
        desk.report("nope")


def test_every_report_on_an_empty_desk_has_no_division_error(desk: Desk) -> None:
    for name in REPORTS:
        report = desk.report(name)
        assert report.name == name and report.period == "all time"
        assert report.as_json()["name"] == name
    sources = desk.report("sources")
    assert sources.rows == [] and sources.totals is not None
    assert (sources.totals["leads"], sources.totals["conversion"], sources.totals["cost_per_lead"]) == (0, None, None)
    assert "no leads in the period" in sources.notes
    funnel = desk.report("funnel")
    assert [(r["leads"], r["of_first"]) for r in funnel.rows] == [(0, None)] * 4
    assert [r["of_previous"] for r in funnel.rows] == [None] * 4
    velocity = desk.report("velocity")
    assert all(r["leads"] == 0 and r["median"] is None and r["p90"] is None for r in velocity.rows)
    lost = desk.report("lost")
    assert lost.rows == [] and lost.totals == {"reason": "Total", "leads": 0, "share": None}
    owners = desk.report("owners")
    assert owners.rows == [] and owners.totals is not None and owners.totals["conversion"] is None
    assert desk.report("volume").rows == []
    pipeline = desk.report("pipeline")
    assert [r["stage"] for r in pipeline.rows] == ["Prospecting", "Proposal", "Negotiation"]
    assert all(r["deals"] == 0 and r["weighted"] is None for r in pipeline.rows)


def test_partners_are_refused(desk: Desk, open_desk: DeskFactory) -> None:
    desk.add_user("pat", role="partner")
    with pytest.raises(Forbidden):
        open_desk(login="pat", auto_create=False).report("volume")


def test_bad_filters_are_one_line_refusals(desk: Desk) -> None:
    for filters, message in (
        (ReportFilters(by="year"), "--by must be day, week or month, not 'year'"),
        (ReportFilters(owner="zed"), "unknown owner 'zed'"),
        (ReportFilters(source="Nowhere"), "unknown source 'Nowhere'"),
        (ReportFilters(type="Nope"), "unknown lead type 'Nope'"),
        (ReportFilters(partner="Nobody"), "unknown partner 'Nobody'"),
        (ReportFilters(since="2026-12-01", until="2026-11-01"), "starts"),
        (ReportFilters(since="someday"), "from:"),
    ):
        with pytest.raises(RuleError, match=message) as caught:
            desk.report("sources", filters)
        assert "\n" not in str(caught.value)


# -- volume and period boundaries --------------------------------------------------------------------------
@pytest.fixture
def edges(desk: Desk) -> Desk:
    """Leads just outside and just inside November 2026 (UTC)."""
    lead_at(desk, "2026-10-31T23:59:59", "Before Edge")
    first = lead_at(desk, "2026-11-01T00:00:00", "First Day")
    last = lead_at(desk, "2026-11-30T23:59:59", "Last Day")
    lead_at(desk, "2026-12-01T00:00:00", "After Edge")
    desk.mark_won(first, "250")
    desk.mark_lost(last, "Budget")
    return desk


def test_the_period_is_the_creation_day_both_ends_inclusive(edges: Desk) -> None:
    november = ReportFilters(since="2026-11-01", until="2026-11-30", by="day")
    report = edges.report("volume", november)
    assert report.period == "2026-11-01 to 2026-11-30"
    assert (report.filters["since"], report.filters["until"], report.filters["by"]) == ("2026-11-01", "2026-11-30",
                                                                                        "day")
    days = rows_by(report, "period")
    assert len(days) == 30 and min(days) == "2026-11-01" and max(days) == "2026-11-30"  # filled with zeros
    assert days["2026-11-01"] == {"period": "2026-11-01", "leads": 1, "open": 0, "qualified": 0, "won": 1,
                                  "lost": 0}
    assert (days["2026-11-30"]["leads"], days["2026-11-30"]["lost"]) == (1, 1)
    assert days["2026-11-15"]["leads"] == 0
    assert report.totals == {"period": "Total", "leads": 2, "open": 0, "qualified": 0, "won": 1, "lost": 1}
    assert edges.report("funnel", ReportFilters(since="2026-11-30")).rows[0]["leads"] == 2  # Nov 30, Dec 1
    assert edges.report("funnel", ReportFilters(until="2026-10-31")).rows[0]["leads"] == 1
    assert edges.report("sources", november).totals["won_value"] == 25_000  # type: ignore[index]


def test_volume_by_iso_week_from_monday_and_by_month(edges: Desk) -> None:
    weeks = edges.report("volume", ReportFilters(since="2026-11-01", until="2026-11-30", by="week"))
    # 2026-11-01 is a Sunday: its week starts on Monday 2026-10-26; 2026-11-30 is a Monday
    assert [r["period"] for r in weeks.rows] == ["2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16",
                                                 "2026-11-23", "2026-11-30"]
    assert [r["leads"] for r in weeks.rows] == [1, 0, 0, 0, 0, 1]
    months = edges.report("volume", ReportFilters(by="month"))
    assert [(r["period"], r["leads"]) for r in months.rows] == [("2026-10", 1), ("2026-11", 2), ("2026-12", 1)]
    assert months.chart is not None and (months.chart.kind, months.chart.label, months.chart.value) == (
        "bar", "period", "leads")
    everything = edges.report("volume", ReportFilters(by="week"))
    assert everything.rows[0]["period"] == "2026-10-26" and everything.rows[-1]["period"] == "2026-11-30"
    assert sum(r["leads"] for r in everything.rows) == 4


# -- qualified, won, reopened, won then reset: sources, owners, funnel -------------------------------------
@pytest.fixture
def outcomes(desk: Desk) -> dict[str, str]:
    """One lead per outcome; owners ann, bob and nobody; sources Referral, Event and none."""
    desk.add_user("bob")
    day = "2026-11-02T09:00:00"
    made = {
        "qualified": lead_at(desk, day, "Quinn Open", source="Referral"),
        "deal_won": lead_at(desk, day, "Dora Deal", source="Referral", owner="bob"),
        "won": lead_at(desk, day, "Walt Won", source="Event", owner="bob"),
        "won_reset": lead_at(desk, day, "Rita Reset", source="Event"),
        "reopened": lead_at(desk, day, "Otto Reopened", owner=""),
        "lost": lead_at(desk, day, "Lou Lost", source="Event", owner=""),
        "new": lead_at(desk, day, "Ned New", source="Referral"),
        "contacted": lead_at(desk, day, "Cora Called", source="Referral"),
    }
    desk.qualify(made["qualified"], new_customer=True)
    desk.qualify(made["deal_won"], new_customer=True, value="1000")
    desk.deal_action(deal_of(desk, made["deal_won"]), "won")
    desk.mark_won(made["won"], "300")
    desk.mark_won(made["won_reset"], "700")
    desk.reopen(made["won_reset"])
    desk.qualify(made["reopened"], new_customer=True)
    desk.reopen(made["reopened"])  # back to open, but qualified once (and its deal stays)
    desk.mark_lost(made["lost"], "Budget")
    desk.add_activity(made["contacted"], "call", "rang them")
    return made


def test_sources_count_qualified_won_and_value_by_the_definitions(desk: Desk, outcomes: dict[str, str]) -> None:
    report = desk.report("sources")
    rows = rows_by(report, "source")
    assert list(rows) == ["Referral", "Event", "(no source)"]  # by leads, "(no source)" last
    assert {k: rows["Referral"][k] for k in ("leads", "qualified", "won", "conversion", "won_value")} == {
        "leads": 4, "qualified": 2, "won": 1, "conversion": 25.0, "won_value": 100_000}
    # Event: won (qualified: won now), won then reset (neither), lost (neither)
    assert {k: rows["Event"][k] for k in ("leads", "qualified", "won", "conversion", "won_value")} == {
        "leads": 3, "qualified": 1, "won": 1, "conversion": round(100 / 3, 1), "won_value": 30_000}
    assert (rows["(no source)"]["leads"], rows["(no source)"]["qualified"]) == (1, 1)  # the reopened lead
    assert report.totals is not None
    assert {k: report.totals[k] for k in ("source", "leads", "qualified", "won", "won_value", "spend")} == {
        "source": "Total", "leads": 8, "qualified": 4, "won": 2, "won_value": 130_000, "spend": None}
    assert "1 lead with no source" in report.notes
    assert any("spend is recorded per partner" in n for n in report.notes)


def test_owners_with_nobody_last(desk: Desk, outcomes: dict[str, str]) -> None:
    report = desk.report("owners")
    rows = rows_by(report, "owner")
    assert list(rows) == ["ann", "bob", "(nobody)"]
    assert {k: rows["ann"][k] for k in ("leads", "open", "qualified", "won", "lost", "conversion", "won_value")} == {
        "leads": 4, "open": 4, "qualified": 1, "won": 0, "lost": 0, "conversion": 0.0, "won_value": 0}
    assert {k: rows["bob"][k] for k in ("leads", "open", "qualified", "won", "conversion", "won_value")} == {
        "leads": 2, "open": 0, "qualified": 2, "won": 2, "conversion": 100.0, "won_value": 130_000}
    assert {k: rows["(nobody)"][k] for k in ("leads", "open", "qualified", "lost")} == {
        "leads": 2, "open": 1, "qualified": 1, "lost": 1}
    assert report.totals is not None and report.totals["conversion"] == 25.0
    assert "2 leads with no owner" in report.notes


def test_the_funnel_steps_and_their_shares(desk: Desk, outcomes: dict[str, str]) -> None:
    report = desk.report("funnel")
    # contacted: the call, the qualified/won/lost ones (closing statuses count as a contact), the reset one
    # (reaching won set its first contact); not the new one
    assert [(r["step"], r["leads"]) for r in report.rows] == [
        ("All leads", 8), ("Contacted", 7), ("Qualified", 4), ("Won", 2)]
    assert [r["of_previous"] for r in report.rows] == [None, 87.5, round(4 / 7 * 100, 1), 50.0]
    assert [r["of_first"] for r in report.rows] == [100.0, 87.5, 50.0, 25.0]
    assert report.chart is not None and report.chart.kind == "funnel"
    assert "1 lead lost now" in report.notes


def test_lost_reasons_and_their_share(desk: Desk) -> None:
    day = "2026-11-03T10:00:00"
    for name, reason in (("Al One", "Budget"), ("Bea Two", "budget"), ("Cy Three", "Not a fit")):
        desk.mark_lost(lead_at(desk, day, name), reason)
    back = lead_at(desk, day, "Di Back")
    desk.mark_lost(back, "Budget")
    desk.reopen(back)  # lost then reopened: not lost now
    report = desk.report("lost")
    assert [(r["reason"], r["leads"], r["share"]) for r in report.rows] == [
        ("Budget", 2, round(200 / 3, 1)), ("Not a fit", 1, round(100 / 3, 1))]
    assert report.totals == {"reason": "Total", "leads": 3, "share": 100.0}


# -- filters ----------------------------------------------------------------------------------------------
def test_each_filter_narrows_the_leads_and_names_are_resolved(desk: Desk, outcomes: dict[str, str]) -> None:
    desk.add_partner("Northwind")
    desk.edit_lead(outcomes["won"], {"partner": "Northwind", "type": "Inbound"})

    def leads(**given: str) -> int:
        return int(desk.report("funnel", ReportFilters(**given)).rows[0]["leads"])

    assert leads() == 8
    assert leads(owner="BOB") == 2
    assert leads(source="refer") == 4
    assert leads(type="inbound") == 1
    assert leads(partner="north") == 1
    assert leads(source="Event", owner="bob") == 1
    assert leads(since="2026-11-03") == 0
    applied = desk.report("owners", ReportFilters(owner="BOB", source="refer", partner="north")).filters
    assert (applied["owner"], applied["source"], applied["partner"]) == ("bob", "Referral", "Northwind")
    assert rows_by(desk.report("owners", ReportFilters(source="Event")), "owner")["(nobody)"]["lost"] == 1


def test_cost_per_lead_only_for_one_partner_alone(desk: Desk) -> None:
    desk.add_partner("Northwind")
    day = "2026-11-10T10:00:00"
    qualified = lead_at(desk, day, "Ann Lead", partner="Northwind", source="Referral")
    lead_at(desk, day, "Ben Lead", partner="Northwind")
    lead_at(desk, day, "Cid Lead", partner="Northwind", source="Event")
    lead_at(desk, day, "Dan Other")
    desk.qualify(qualified, new_customer=True)
    desk.add_partner_spend("Northwind", "300", on="2026-11-01")
    desk.add_partner_spend("Northwind", "1000", on="2026-12-01")  # outside the period below
    report = desk.report("sources", ReportFilters(partner="Northwind", since="2026-11-01", until="2026-11-30"))
    assert report.totals is not None
    assert (report.totals["leads"], report.totals["qualified"]) == (3, 1)
    assert (report.totals["spend"], report.totals["cost_per_lead"], report.totals["cost_per_qualified"]) == (
        30_000, 10_000, 30_000)
    assert all(r["spend"] is None and r["cost_per_lead"] is None for r in report.rows)
    narrowed = desk.report("sources", ReportFilters(partner="Northwind", source="Referral"))
    assert narrowed.totals is not None and narrowed.totals["cost_per_lead"] is None
    assert any("not split by owner, source or type" in n for n in narrowed.notes)
    nobody = desk.report("sources", ReportFilters(partner="Northwind", since="2026-12-01"))
    assert nobody.totals is not None
    assert (nobody.totals["spend"], nobody.totals["cost_per_lead"], nobody.totals["cost_per_qualified"]) == (
        100_000, None, None)
    assert "cost per lead: no leads in the period" in nobody.notes


# -- velocity ---------------------------------------------------------------------------------------------
def test_velocity_from_the_status_history(desk: Desk) -> None:
    start = "2026-11-02T00:00:00"
    a, b, _idle, d = (lead_at(desk, start, n) for n in ("Ann Fast", "Bob Twice", "Cy Idle", "Di Reset"))
    with at("2026-11-02T01:00:00"):
        desk.add_activity(a, "call", "first call")  # first contact after 1 h
    with at("2026-11-02T03:00:00"):
        desk.qualify(a, new_customer=True, value="500")  # qualified after 3 h
    with at("2026-11-02T10:00:00"):
        desk.deal_action(deal_of(desk, a), "won")  # won after 10 h
    with at("2026-11-02T02:00:00"):
        desk.set_status(b, "Contacted")  # a move out of the first status: first contact after 2 h
    with at("2026-11-02T05:00:00"):
        desk.mark_won(b, "100")  # won now counts as qualified: first entered won after 5 h
    with at("2026-11-02T06:00:00"):
        desk.reopen(b)
    with at("2026-11-02T08:00:00"):
        desk.mark_won(b, "100")  # the win that stands: after 8 h
    with at("2026-11-02T04:00:00"):
        desk.mark_won(d, "100")  # reaching won is a first contact (4 h)
    with at("2026-11-02T05:00:00"):
        desk.reopen(d)  # won then reset: neither qualified nor won
    with at("2026-11-03T00:00:00"):  # now: the current statuses count until here
        report = desk.report("velocity")
    rows = rows_by(report, "measure")
    expected = {
        "Created → first contact": [1, 2, 4],
        "Created → qualified": [3, 5],
        "Created → won": [10, 8],
        "In New": [3, 2 + 2, 24, 4 + 19],  # a: until qualified; b: twice; c: all day; d: before and after
        "In Contacted": [3],
        "In Qualified": [7],
    }
    for measure, hours in expected.items():
        seconds = [h * HOUR for h in hours]
        assert rows[measure] == {"measure": measure, "leads": len(hours), "median": pytest.approx(pct(seconds, 50)),
                                 "p90": pytest.approx(pct(seconds, 90))}, measure
    for measure in ("In Attempted to contact", "In Engaged"):
        assert rows[measure] == {"measure": measure, "leads": 0, "median": None, "p90": None}
    assert "In Converted" not in rows and "In Disqualified" not in rows  # closed statuses are not measured
    assert report.chart is None
    assert [r["leads"] for r in desk.report("velocity", ReportFilters(since="2026-11-03")).rows] == [0] * 8


def test_velocity_counts_a_lead_qualified_by_its_deal_alone(services_desk: Desk) -> None:
    """The services preset has no qualified status: qualifying opens a deal and leaves the status open, so the
    deal's creation is the moment the lead was qualified (its only trace)."""
    start = "2026-11-02T00:00:00"
    quick, slow, _idle = (lead_at(services_desk, start, n) for n in ("Ann Deal", "Bob Deal", "Cy Idle"))
    for number, stamp in ((quick, "2026-11-02T03:00:00"), (slow, "2026-11-02T09:00:00")):
        with at(stamp):
            services_desk.qualify(number, new_customer=True, value="100")
    with at("2026-11-03T00:00:00"):
        rows = rows_by(services_desk.report("velocity"), "measure")
    assert rows["Created → qualified"] == {"measure": "Created → qualified", "leads": 2,
                                           "median": pytest.approx(6 * HOUR), "p90": pytest.approx(8.4 * HOUR)}
    assert rows["Created → won"]["leads"] == 0


def test_velocity_of_imported_leads(desk: Desk, tmp_path: Path) -> None:
    path = tmp_path / "old.csv"
    path.write_text("name,status,customer,job_value,created\n"
                    "Ivy Imported,New,,,2026-11-02T00:00:00\n"
                    "Quin Qualified,Qualified,Acme Corp,,2026-11-02T00:00:00\n"
                    "Walt Won,Converted,,500,2026-11-02T00:00:00\n", encoding="utf-8")
    with at("2026-11-02T12:00:00"):
        assert desk.import_leads(str(path))["imported"] == 3
    with at("2026-11-02T14:00:00"):
        desk.set_status("1", "Contacted")  # no status row before: it was New from its creation (14 h)
    with at("2026-11-02T16:00:00"):
        desk.reopen("2")  # it left Qualified, so it was qualified (the time of that is unknown)
    with at("2026-11-03T00:00:00"):
        report = desk.report("velocity")
        funnel = desk.report("funnel")
    rows = rows_by(report, "measure")
    assert rows["In New"]["leads"] == 2 and rows["In New"]["median"] == pytest.approx(pct([14 * HOUR, 8 * HOUR], 50))
    assert rows["In Contacted"]["median"] == pytest.approx(10 * HOUR)
    assert rows["In Qualified"]["median"] == pytest.approx(16 * HOUR)  # from its creation until it left
    assert rows["Created → qualified"]["leads"] == 0 and rows["Created → won"]["leads"] == 0
    assert "2 qualified leads without a recorded qualification time left out (e.g. imported qualified)" in report.notes
    assert "1 won lead without a recorded win left out (e.g. imported as won)" in report.notes
    assert rows_by(funnel, "step")["Qualified"]["leads"] == 2  # the reopened one was qualified once


# -- pipeline ---------------------------------------------------------------------------------------------
def test_pipeline_value_by_stage_with_weighted_value(desk: Desk) -> None:
    day = "2026-11-05T10:00:00"
    numbers = [lead_at(desk, day, f"Deal {i}", source="Referral" if i < 3 else "Event") for i in range(6)]
    desk.edit_lead(numbers[0], {"expected_revenue": "1000", "probability": "50"})
    desk.edit_lead(numbers[1], {"expected_revenue": "1000", "probability": "20"})
    values = ["1000", "400", None, "600", "900", "50"]
    for number, value in zip(numbers, values, strict=True):
        desk.qualify(number, new_customer=True, value=value)
    desk.deal_action(deal_of(desk, numbers[1]), "stage", stage="Proposal")
    desk.deal_action(deal_of(desk, numbers[3]), "stage", stage="Proposal")
    desk.deal_action(deal_of(desk, numbers[4]), "won")
    desk.deal_action(deal_of(desk, numbers[5]), "lost", reason="Budget")
    report = desk.report("pipeline")
    rows = rows_by(report, "stage")
    assert rows["Prospecting"] == {"pipeline": "Sales", "stage": "Prospecting", "deals": 2, "value": 100_000,
                                   "weighted": 50_000}
    assert rows["Proposal"] == {"pipeline": "Sales", "stage": "Proposal", "deals": 2, "value": 100_000,
                                "weighted": 8_000}  # 400 x 20%; the 600 deal's lead has no probability
    assert rows["Negotiation"] == {"pipeline": "Sales", "stage": "Negotiation", "deals": 0, "value": 0,
                                   "weighted": None}
    assert report.totals == {"pipeline": "Total", "stage": "", "deals": 4, "value": 200_000, "weighted": 58_000}
    assert "2 open deals left out of the weighted value: their leads have no probability" in report.notes
    assert "1 open deal without a value (counted as 0)" in report.notes
    assert "won: 1 deal, value 900.00" in report.notes and "lost: 1 deal, value 50.00" in report.notes
    event = desk.report("pipeline", ReportFilters(source="Event"))
    assert rows_by(event, "stage")["Proposal"]["deals"] == 1 and event.totals["deals"] == 1  # type: ignore[index]
    assert "won: 1 deal, value 900.00" in event.notes


# -- presentation helpers -----------------------------------------------------------------------------------
def test_values_are_formatted_for_tables_and_json() -> None:
    assert [duration_text(s) for s in (0, 59.4, 60, 3599, 3600 * 5 + 7 * 60, 86_400 * 3 + 3600 * 4)] == [
        "0s", "59s", "1m", "59m", "5h 07m", "3d 4h"]
    assert [format_value(k, v) for k, v in (("money", 123_456), ("percent", 12.34), ("int", 3), ("text", None),
                                             ("duration", 90))] == ["1,234.56", "12.3%", "3", "—", "1m"]
    report = Report(name="x", title="X", filters={}, period="all time", columns=[], rows=[])
    assert report.as_json()["totals"] is None and report.as_json()["chart"] is None


def test_the_status_history_is_read_through_its_partial_index(desk: Desk) -> None:
    """The funnel's qualified test reads the lead status rows of history through the partial index
    `ix_history_lead_status` (SQLite's planner otherwise takes the index on `entity` and reads every lead history
    row: 0.7 s instead of 0.09 s at 100k leads); the velocity report reads no history at all, only the sums kept
    in `lead_status_time` (reading every status row took 1.3-2 s)."""
    conn = desk.db._conn
    if conn is None:
        pytest.skip("the plan is SQLite's")
    number = lead_at(desk, "2026-03-02T10:00:00+00:00", "Ada")
    desk.set_status(number, "Contacted")
    desk.report("velocity", ReportFilters())  # opens the side reader (store/beside.py) it uses
    side = desk.db._side._reader if desk.db._side is not None else None
    assert side is not None
    statements: dict[str, list[str]] = {}
    beside: list[str] = []
    for name in ("funnel", "velocity"):
        conn.set_trace_callback(statements.setdefault(name, []).append)
        side.set_trace_callback(beside.append)
        try:
            desk.report(name, ReportFilters())
        finally:
            conn.set_trace_callback(None)
            side.set_trace_callback(None)
    # the time in each status is read on the side reader, at the same time as the rest
    assert [sql for sql in beside if "lead_status_time" in sql] == [
        sql for sql in beside if sql.startswith("SELECT status, ")], beside
    assert len([sql for sql in beside if "lead_status_time" in sql]) == 1, beside
    statements["velocity"] += beside
    reading = [sql for sql in statements["funnel"] if "h.field = 'status_id'" in sql]
    assert len(reading) == 1, statements["funnel"]
    for sql in reading:
        plan = " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql))
        assert "USING INDEX ix_history_lead_status" in plan or "USING COVERING INDEX ix_history_lead_status" in plan
        assert "ix_history_entity" not in plan, plan
    velocity = " ".join(statements["velocity"])
    assert "history" not in velocity and velocity.count("lead_status_time") == 3, statements["velocity"]
