"""The data-driven lists (sources, lost reasons, lead types, ...) and the statuses of the workflow."""

from __future__ import annotations

from typing import Any

import pytest

from leaddesk.store.desk import Desk
from leaddesk.store.errors import RuleError

LISTS = {
    # kind: (what it is called, the lead field that uses it, a seeded entry)
    "sources": ("source", "source", "Referral"),
    "reasons": ("lost reason", None, "Budget"),
    "types": ("lead type", "type", "Inbound"),
    "methods": ("contact method", "contact_method", "Phone"),
    "items": ("item", "item", "Training"),
}


def names(desk: Desk, kind: str) -> list[str]:
    return [e["name"] for e in desk.catalog_list(kind)]


def use(desk: Desk, kind: str, entry: str) -> dict[str, Any]:
    """A lead using `entry` of list `kind`."""
    field = LISTS[kind][1]
    if field is None:
        lead = desk.add_lead({"name": "User"})
        return desk.mark_lost(str(lead["number"]), entry)
    return desk.add_lead({"name": "User", field: entry})


# --- seeded lists ------------------------------------------------------------------------------


def test_sales_lists(desk: Desk) -> None:
    assert names(desk, "sources") == ["Inbound Email", "Website Form", "Social Media", "Referral", "Event",
                                      "Cold Outreach", "Cold Call", "Advertisement", "Partner"]
    assert names(desk, "reasons") == ["Unable to reach", "Declined service", "Not a fit", "No response",
                                      "Chose another provider", "Budget"]
    assert names(desk, "types") == ["Inbound", "Outbound"]
    assert names(desk, "methods") == ["Email", "Phone", "LinkedIn", "In-Person"]
    assert names(desk, "items") == ["Consulting", "Software license", "Support plan", "Training"]


def test_services_lists(services_desk: Desk) -> None:
    assert names(services_desk, "sources") == ["Website Form", "Referral", "Partner", "Phone Call", "Social Media",
                                               "Advertisement", "Event"]
    assert names(services_desk, "types") == ["Residential", "Commercial"]
    assert names(services_desk, "items") == ["Estimate", "Installation", "Repair", "Maintenance"]


def test_lists_count_the_leads_using_each_entry(desk: Desk) -> None:
    desk.add_lead({"name": "A", "source": "referral", "type": "inbound"})
    desk.add_lead({"name": "B", "source": "referral"})
    desk.mark_lost("2", "budget")
    sources = {e["name"]: e["leads"] for e in desk.catalog_list("sources", counts=True)}
    assert (sources["Referral"], sources["Event"]) == (2, 0)
    assert {e["name"]: e["leads"] for e in desk.catalog_list("types", counts=True)} == {"Inbound": 1, "Outbound": 0}
    assert {e["name"]: e["leads"] for e in desk.catalog_list("reasons", counts=True)}["Budget"] == 1


@pytest.mark.parametrize("kind", list(LISTS))
def test_lists_without_counts_are_the_same_entries(desk: Desk, kind: str) -> None:
    """A form's choices need no counts (they walk every lead: 84 ms for the sources at 100k leads)."""
    desk.add_lead({"name": "A", "source": "referral", "type": "inbound"})
    desk.catalog_change("types", "statuses", "Outbound", ["New", "Contacted", "Disqualified"])
    counted = desk.catalog_list(kind, counts=True)
    assert desk.catalog_list(kind) == [{k: v for k, v in e.items() if k != "leads"} for e in counted]


# --- add / rename / remove ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(LISTS))
def test_add_an_entry(desk: Desk, kind: str) -> None:
    new_id = desk.catalog_change(kind, "add", "  Trade   Show ")
    assert names(desk, kind)[-1] == "Trade Show"
    assert desk.catalog_list(kind, counts=True)[-1] == {"id": new_id, "name": "Trade Show", "leads": 0,
                                           **({"statuses": []} if kind == "types" else {})}
    assert use(desk, kind, "trade")  # usable at once, by prefix too


@pytest.mark.parametrize("kind", list(LISTS))
def test_add_refuses_duplicates_and_empty_names(desk: Desk, snapshot: Any, kind: str) -> None:
    what, _field, seeded = LISTS[kind]
    before = snapshot(desk)
    variant = seeded.upper().replace(" ", "_")
    with pytest.raises(RuleError) as err:
        desk.catalog_change(kind, "add", variant)
    assert str(err.value) == f"{what} '{variant}' already exists"
    with pytest.raises(RuleError, match=f"^a {what} needs a name$"):
        desk.catalog_change(kind, "add", "   ")
    assert snapshot(desk) == before


@pytest.mark.parametrize("kind", list(LISTS))
def test_rename_an_entry_keeps_its_leads(desk: Desk, kind: str) -> None:
    _what, field, seeded = LISTS[kind]
    lead = use(desk, kind, seeded)
    assert desk.catalog_change(kind, "rename", seeded.lower(), "Renamed  Entry") == (seeded, "Renamed Entry")
    assert "Renamed Entry" in names(desk, kind) and seeded not in names(desk, kind)
    shown = desk.show(str(lead["number"]))
    assert shown["lost_reason" if field is None else field] == "Renamed Entry"


def test_rename_may_change_only_the_case(desk: Desk) -> None:
    assert desk.catalog_change("sources", "rename", "referral", "REFERRAL") == ("Referral", "REFERRAL")


@pytest.mark.parametrize("kind", list(LISTS))
def test_rename_refusals(desk: Desk, snapshot: Any, kind: str) -> None:
    what, _field, seeded = LISTS[kind]
    other = names(desk, kind)[0] if names(desk, kind)[0] != seeded else names(desk, kind)[1]
    before = snapshot(desk)
    with pytest.raises(RuleError) as err:
        desk.catalog_change(kind, "rename", seeded, other.lower())
    assert str(err.value) == f"{what} '{other.lower()}' already exists"
    with pytest.raises(RuleError, match=f"^a {what} needs a name$"):
        desk.catalog_change(kind, "rename", seeded, " ")
    with pytest.raises(RuleError, match=f"^unknown {what} 'zzz': choose from "):
        desk.catalog_change(kind, "rename", "zzz", "Anything")
    assert snapshot(desk) == before


@pytest.mark.parametrize("kind", list(LISTS))
def test_remove_an_unused_entry(desk: Desk, kind: str) -> None:
    _what, _field, seeded = LISTS[kind]
    assert desk.catalog_change(kind, "remove", seeded.upper()) == seeded
    assert seeded not in names(desk, kind)


@pytest.mark.parametrize("kind", list(LISTS))
def test_remove_refused_while_in_use(desk: Desk, snapshot: Any, kind: str) -> None:
    what, _field, seeded = LISTS[kind]
    use(desk, kind, seeded)
    use(desk, kind, seeded)
    before = snapshot(desk)
    with pytest.raises(RuleError) as err:
        desk.catalog_change(kind, "remove", seeded)
    assert str(err.value) == f"{what} '{seeded}' is in use by 2 record(s); rename it instead"
    assert snapshot(desk) == before


def test_a_reason_used_by_a_lost_deal_is_in_use(desk: Desk) -> None:
    desk.add_lead({"company": "Acme"})
    deal_id = desk.qualify("1")["deal_id"]
    desk.deal_action(deal_id, "lost", reason="not a fit")
    with pytest.raises(RuleError, match=r"^lost reason 'Not a fit' is in use by 1 record\(s\); rename it instead$"):
        desk.catalog_change("reasons", "remove", "not a fit")


def test_removing_a_type_drops_its_status_list(desk: Desk, count: Any) -> None:
    desk.catalog_change("types", "statuses", "Inbound", ["New", "Contacted"])
    assert count(desk, "lead_type_status") == 2
    desk.catalog_change("types", "remove", "inbound")
    assert count(desk, "lead_type_status") == 0


def test_catalog_changes_are_recorded(desk: Desk, query: Any) -> None:
    desk.catalog_change("sources", "add", "Trade Show")
    desk.catalog_change("sources", "rename", "trade show", "Fair")
    desk.catalog_change("sources", "remove", "fair")
    rows = query(desk, "SELECT h.entity, h.action, h.field, h.old, h.new, h.origin, u.login FROM history h"
                       " JOIN \"user\" u ON u.id = h.user_id ORDER BY h.id")
    assert [(r["entity"], r["action"], r["field"], r["origin"], r["login"]) for r in rows] == [
        ("catalog", action, "sources", "cli", "ann") for action in ("add", "rename", "remove")]
    assert [(r["old"], r["new"]) for r in rows] == [(None, "Trade Show"), ("Trade Show", "Fair"), ("Fair", None)]


def test_setting_a_type_status_list_is_recorded(desk: Desk, count: Any) -> None:
    desk.catalog_change("types", "statuses", "Inbound", ["New", "Contacted"])
    assert count(desk, "history", "entity = 'catalog'") == 1


# --- a type's allowed statuses -----------------------------------------------------------------


def test_type_statuses_are_resolved_deduplicated_and_ordered(desk: Desk) -> None:
    allowed = desk.catalog_change("types", "statuses", "in", ["disq", "CONTACTED", "new", "contacted"])
    assert allowed == ["New", "Contacted", "Disqualified"]
    assert {t["name"]: t["statuses"] for t in desk.catalog_list("types")} == {
        "Inbound": ["New", "Contacted", "Disqualified"], "Outbound": []}


def test_type_statuses_refusals(desk: Desk, snapshot: Any) -> None:
    desk.catalog_change("types", "statuses", "Inbound", ["New"])
    before = snapshot(desk)
    with pytest.raises(RuleError, match=r"^unknown status 'closed': choose from "):
        desk.catalog_change("types", "statuses", "Inbound", ["New", "closed"])
    with pytest.raises(RuleError, match=r"^status 'con' is ambiguous"):
        desk.catalog_change("types", "statuses", "Inbound", ["con"])
    with pytest.raises(RuleError, match=r"^unknown lead type 'Walk-in': choose from Inbound, Outbound$"):
        desk.catalog_change("types", "statuses", "Walk-in", ["New"])
    assert snapshot(desk) == before


# --- statuses ----------------------------------------------------------------------------------


def test_add_an_open_status_goes_after_the_open_ones_and_is_manual(desk: Desk) -> None:
    desk.catalog_change("statuses", "add", "  Nurturing ", "open", None)
    rows = desk.statuses()
    assert [r["name"] for r in rows] == ["New", "Attempted to contact", "Contacted", "Engaged", "Nurturing",
                                         "Qualified", "Converted", "Disqualified"]
    assert [r["position"] for r in rows] == list(range(8))
    assert next(r for r in rows if r["name"] == "Nurturing")["manual"] is True
    desk.add_lead({"name": "Ann"})
    assert desk.set_status("1", "nurt")[0]["status"] == "Nurturing"


@pytest.mark.parametrize(("category", "after"), [("qualified", "Qualified"), ("won", "Converted"),
                                                 ("lost", "Disqualified")])
def test_add_a_closed_status_is_reached_by_actions(desk: Desk, category: str, after: str) -> None:
    desk.catalog_change("statuses", "add", "Extra", category, None)
    rows = desk.statuses()
    order = [r["name"] for r in rows]
    assert order.index("Extra") == order.index(after) + 1
    extra = next(r for r in rows if r["name"] == "Extra")
    assert (extra["category"], extra["manual"]) == (category, False)
    desk.add_lead({"name": "Ann"})
    with pytest.raises(RuleError, match=r"^'Extra' "):
        desk.set_status("1", "extra")


def test_a_non_manual_open_status_cannot_be_picked(desk: Desk) -> None:
    desk.catalog_change("statuses", "add", "Auto", "open", False)
    desk.add_lead({"name": "Ann"})
    with pytest.raises(RuleError, match=r"^'Auto' cannot be picked by hand$"):
        desk.set_status("1", "auto")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("Closed Won", "won", True), "only open statuses can be picked by hand; 'won' ones are reached by actions"),
        (("Limbo", "pending", None), "category 'pending' must be one of open, qualified, won, lost"),
        (("contacted", "open", None), "status 'contacted' already exists"),
        (("ATTEMPTED-TO-CONTACT", "open", None), "status 'ATTEMPTED-TO-CONTACT' already exists"),
        (("   ", "open", None), "a status needs a name"),
    ],
)
def test_add_status_refusals(desk: Desk, snapshot: Any, args: tuple[Any, ...], message: str) -> None:
    before = snapshot(desk)
    with pytest.raises(RuleError) as err:
        desk.catalog_change("statuses", "add", *args)
    assert str(err.value) == message
    assert snapshot(desk) == before


def test_rename_a_status_keeps_its_leads(desk: Desk) -> None:
    desk.add_lead({"name": "Ann"}, status="contacted")
    assert desk.catalog_change("statuses", "rename", "contacted", "Reached") == ("Contacted", "Reached")
    assert desk.show("1")["status"] == "Reached"
    assert desk.set_status("1", "new")[0]["status"] == "New"
    assert desk.set_status("1", "reach")[0]["status"] == "Reached"


def test_rename_status_refusals(desk: Desk, snapshot: Any) -> None:
    before = snapshot(desk)
    with pytest.raises(RuleError, match=r"^status 'new' already exists$"):
        desk.catalog_change("statuses", "rename", "contacted", "new")
    with pytest.raises(RuleError, match=r"^a status needs a name$"):
        desk.catalog_change("statuses", "rename", "contacted", "")
    with pytest.raises(RuleError, match=r"^unknown status 'gone'"):
        desk.catalog_change("statuses", "rename", "gone", "Here")
    assert snapshot(desk) == before
    assert desk.catalog_change("statuses", "rename", "new", "NEW") == ("New", "NEW")


def test_remove_an_unused_status(desk: Desk) -> None:
    desk.catalog_change("types", "statuses", "Inbound", ["New", "Engaged"])
    assert desk.catalog_change("statuses", "remove", "engaged") == "Engaged"
    assert "Engaged" not in [s["name"] for s in desk.statuses()]
    assert {t["name"]: t["statuses"] for t in desk.catalog_list("types")}["Inbound"] == ["New"]


def test_remove_a_status_in_use_is_refused(desk: Desk, snapshot: Any) -> None:
    desk.add_lead({"name": "Ann"})
    before = snapshot(desk)
    with pytest.raises(RuleError) as err:
        desk.catalog_change("statuses", "remove", "new")
    assert str(err.value) == "status 'New' is in use by 1 lead(s); rename it instead"
    assert snapshot(desk) == before


def test_the_last_open_status_cannot_be_removed(services_desk: Desk) -> None:
    for name in ("Attempted To Contact", "Contacted", "Estimating", "Scheduled"):
        services_desk.catalog_change("statuses", "remove", name)
    with pytest.raises(RuleError) as err:
        services_desk.catalog_change("statuses", "remove", "pending")
    assert str(err.value) == "'Pending' is the last open status; the workflow needs one"
    assert services_desk.catalog_change("statuses", "remove", "lost") == "Lost"
    assert [s["name"] for s in services_desk.statuses()] == ["Pending", "Won"]


def test_statuses_report_lead_counts(desk: Desk) -> None:
    desk.add_lead({"name": "A"})
    desk.add_lead({"name": "B"})
    desk.mark_won("2", "5")
    counts = {s["name"]: s["leads"] for s in desk.statuses()}
    assert (counts["New"], counts["Converted"], counts["Engaged"]) == (1, 1, 0)


def test_catalog_refusals_are_one_line(desk: Desk) -> None:
    desk.add_lead({"name": "A", "source": "referral"})
    attempts = [
        lambda: desk.catalog_change("sources", "add", "referral"),
        lambda: desk.catalog_change("sources", "remove", "referral"),
        lambda: desk.catalog_change("sources", "rename", "co", "x"),
        lambda: desk.catalog_change("statuses", "add", "X", "won", True),
        lambda: desk.catalog_change("statuses", "remove", "new"),
        lambda: desk.catalog_change("types", "statuses", "inbound", ["zzz"]),
    ]
    for attempt in attempts:
        with pytest.raises(RuleError) as err:
            attempt()
        assert str(err.value) and "\n" not in str(err.value)
