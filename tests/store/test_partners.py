"""Partner spend and metrics (issue 7): leads, won, won value, spend, ROCS and CAC on hand-built desks whose
answers are known; zero spend, no leads, a lead won then reset, period boundaries, the status-only table."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from leaddesk import clock
from leaddesk.store.desk import Desk
from leaddesk.store.errors import RuleError
from leaddesk.store.partners import NO_LEADS, NO_SPEND
from leaddesk.store.permissions import Forbidden

from .conftest import DeskFactory


def lead_on(desk: Desk, day: str, name: str, partner: str | None = "Northwind", **values: Any) -> int:
    """Add a lead created at noon UTC on `day`; its number."""
    clock.freeze(datetime.fromisoformat(f"{day}T12:00:00").replace(tzinfo=UTC))
    try:
        fields = {"name": name, "company": f"{name} Co", "email": f"{name.split()[0].lower()}@x.example.com",
                  **values}
        if partner:
            fields["partner"] = partner
        return int(desk.add_lead(fields)["number"])
    finally:
        clock.freeze(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))


@pytest.fixture
def partnered(desk: Desk) -> Desk:
    desk.add_partner("Northwind", "nw@example.com")
    desk.add_partner("Southwind")
    return desk


def test_each_metric_on_a_known_desk(partnered: Desk) -> None:
    d = partnered
    won_a = lead_on(d, "2026-11-02", "Ann Lee")
    won_b = lead_on(d, "2026-11-03", "Bob Stone")
    lead_on(d, "2026-11-04", "Cy Open")
    lead_on(d, "2026-11-05", "Di Other", partner="Southwind")
    lead_on(d, "2026-11-05", "Ed Nobody", partner=None)
    d.mark_won(str(won_a), "1,500.00")
    d.mark_won(str(won_b), "500")
    d.add_partner_spend("Northwind", "$400", on="2026-11-01", note="flyers")
    d.add_partner_spend("north", "100.50", on="2026-11-10")
    d.add_partner_spend("Southwind", "50", on="2026-11-10")

    m = d.partner_metrics("Northwind")
    assert m == {"leads": 3, "won": 2, "won_value": 200_000, "spend": 50_050,
                 "rocs": round(200_000 / 50_050 * 100, 2), "cac": round(50_050 / 3),
                 "why": {"rocs": None, "cac": None}}
    overall = d.partner_metrics(None)
    assert (overall["leads"], overall["won"], overall["spend"]) == (4, 2, 55_050)  # Ed has no partner
    assert overall["cac"] == round(55_050 / 4)


def test_zero_spend_and_no_leads_give_none_with_a_reason(partnered: Desk) -> None:
    lead_on(partnered, "2026-11-02", "Ann Lee")
    m = partnered.partner_metrics("Northwind")
    assert (m["leads"], m["spend"], m["rocs"], m["cac"]) == (1, 0, None, 0)
    assert m["why"] == {"rocs": NO_SPEND, "cac": None}
    partnered.add_partner_spend("Southwind", "80")
    s = partnered.partner_metrics("Southwind")
    assert (s["leads"], s["spend"], s["rocs"], s["cac"]) == (0, 8000, 0.0, None)
    assert s["why"] == {"rocs": None, "cac": NO_LEADS}


def test_a_lead_won_then_reset_is_not_won(partnered: Desk) -> None:
    number = lead_on(partnered, "2026-11-02", "Ann Lee")
    partnered.add_partner_spend("Northwind", "100", on="2026-11-02")
    partnered.mark_won(str(number), "900")
    assert partnered.partner_metrics("Northwind")["won_value"] == 90_000
    partnered.reopen(str(number))
    m = partnered.partner_metrics("Northwind")
    assert (m["leads"], m["won"], m["won_value"], m["rocs"]) == (1, 0, 0, 0.0)
    row = partnered.partner_report("Northwind")["leads"][0]
    assert row["job_value"] is None and row["status"] != "Won"


def test_period_boundaries_are_inclusive_days(partnered: Desk) -> None:
    lead_on(partnered, "2026-10-31", "Before Edge")
    lead_on(partnered, "2026-11-01", "First Day")
    lead_on(partnered, "2026-11-30", "Last Day")
    lead_on(partnered, "2026-12-01", "After Edge")
    for day, amount in (("2026-10-31", "1"), ("2026-11-01", "10"), ("2026-11-30", "100"), ("2026-12-01", "1000")):
        partnered.add_partner_spend("Northwind", amount, on=day)
    m = partnered.partner_metrics("Northwind", "2026-11-01", "2026-11-30")
    assert (m["leads"], m["spend"]) == (2, 11_000)
    assert partnered.partner_metrics("Northwind", since="2026-11-30")["leads"] == 2
    assert partnered.partner_metrics("Northwind", until="2026-10-31")["spend"] == 100
    report = partnered.partner_report("Northwind", "2026-11-01", "2026-11-30")
    assert [r["name"] for r in report["leads"]] == ["Last Day", "First Day"]
    with pytest.raises(RuleError, match="starts"):
        partnered.partner_metrics("Northwind", "2026-12-01", "2026-11-01")


def test_status_table_carries_only_number_name_status_value(partnered: Desk) -> None:
    number = lead_on(partnered, "2026-11-02", "Ann Lee", phone="+1 212 555 0100", description="secret")
    partnered.add_activity(str(number), "note", "private note")
    report = partnered.partner_report("Northwind")
    assert report["partner"] == {"name": "Northwind", "email": "nw@example.com"}
    assert report["leads"] == [{"number": number, "name": "Ann Lee", "status": "New", "job_value": None}]
    assert "secret" not in repr(report) and "private" not in repr(report) and "555" not in repr(report)


def test_spend_is_recorded_with_history_and_defaults_to_today(partnered: Desk,
                                                               query: Callable[..., list[dict[str, Any]]]) -> None:
    done = partnered.add_partner_spend("Northwind", "12.345", note="  ads \n online ")
    assert done == {"id": done["id"], "partner": "Northwind", "amount_cents": 1235, "spent_on": "2026-11-26",
                    "note": "ads online"}
    assert query(partnered, "SELECT entity, action, new FROM history WHERE entity = 'partner_spend'") == [
        {"entity": "partner_spend", "action": "create", "new": "1235"}]


@pytest.mark.parametrize(("amount", "partner", "message"), [
    ("abc", "Northwind", "amount 'abc' is not a number"),
    ("-5", "Northwind", "amount cannot be negative"),
    ("0", "Northwind", "a spend amount must be more than 0"),
    ("", "Northwind", "a spend entry needs an amount"),
    ("10", "Nobody", "unknown partner 'Nobody'"),
])
def test_bad_spend_is_refused_and_writes_nothing(partnered: Desk, amount: str, partner: str, message: str,
                                                 count: Callable[..., int]) -> None:
    with pytest.raises(RuleError, match=message):
        partnered.add_partner_spend(partner, amount)
    assert count(partnered, "partner_spend") == 0


def test_a_rep_may_not_add_spend(partnered: Desk, open_desk: DeskFactory, count: Callable[..., int]) -> None:
    rep = open_desk(login="bob")
    with pytest.raises(Forbidden, match="only a manager or an admin may record partner spend"):
        rep.add_partner_spend("Northwind", "10")
    assert count(partnered, "partner_spend") == 0
    assert rep.partner_metrics("Northwind")["spend"] == 0  # reading is allowed


def test_unknown_partner_in_metrics_is_refused(partnered: Desk) -> None:
    with pytest.raises(RuleError, match="unknown partner 'Zed'"):
        partnered.partner_report("Zed")
