"""Status rules of the service layer, for both presets: hand-picked, won, lost, reopen, lead types."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from leaddesk.store.desk import Desk
from leaddesk.store.errors import NotFound, RuleError
from leaddesk.store.rules import format_money


@dataclass(frozen=True)
class Preset:
    name: str
    opens: tuple[str, ...]
    qualified: str | None
    won: str
    lost: str
    attempted: str
    types: tuple[str, str]
    pipeline: str
    first_stage: str


SALES = Preset("sales", ("New", "Attempted to contact", "Contacted", "Engaged"), "Qualified", "Converted",
               "Disqualified", "Attempted to contact", ("Inbound", "Outbound"), "Sales", "Prospecting")
SERVICES = Preset("services", ("Pending", "Attempted To Contact", "Contacted", "Estimating", "Scheduled"), None,
                  "Won", "Lost", "Attempted To Contact", ("Residential", "Commercial"), "Jobs", "Estimate sent")
PRESETS = {p.name: p for p in (SALES, SERVICES)}


@pytest.fixture(params=["sales", "services"])
def preset(request: pytest.FixtureRequest) -> Preset:
    return PRESETS[request.param]


@pytest.fixture
def pdesk(open_desk: Any, preset: Preset) -> Desk:
    """Ann's desk initialised with the preset under test."""
    return open_desk(preset=preset.name)


def add(desk: Desk, name: str = "Ann Lee", **values: Any) -> dict[str, Any]:
    status = values.pop("status", None)
    return desk.add_lead({"name": name, **values}, status=status)


def actions(desk: Desk, ref: str = "1") -> list[tuple[str, str, Any, Any]]:
    return [(h["action"], h["field"], h["old"], h["new"]) for h in desk.history(ref) if h["action"] != "create"]


# --- init and the workflow ---------------------------------------------------------------------


def test_init_seeds_the_preset_statuses(pdesk: Desk, preset: Preset) -> None:
    rows = pdesk.statuses()
    expected = [*preset.opens, *([preset.qualified] if preset.qualified else []), preset.won, preset.lost]
    assert [r["name"] for r in rows] == expected
    by_name = {r["name"]: r for r in rows}
    assert all(by_name[n]["category"] == "open" and by_name[n]["manual"] for n in preset.opens)
    assert by_name[preset.won]["category"] == "won" and not by_name[preset.won]["manual"]
    assert by_name[preset.lost]["category"] == "lost" and not by_name[preset.lost]["manual"]
    if preset.qualified:
        assert by_name[preset.qualified]["category"] == "qualified" and not by_name[preset.qualified]["manual"]
    assert [r["position"] for r in rows] == sorted(r["position"] for r in rows)


def test_init_is_idempotent_but_the_preset_is_chosen_once(pdesk: Desk, preset: Preset) -> None:
    assert pdesk.init(preset.name) == f"already initialised with the '{preset.name}' preset"
    other = "services" if preset.name == "sales" else "sales"
    with pytest.raises(RuleError) as info:
        pdesk.init(other)
    assert str(info.value) == (f"this desk is already set up with the '{preset.name}' preset;"
                               " a preset is chosen once, on a new database")


def test_init_makes_the_user_an_admin_and_refuses_an_unknown_preset(open_desk: Any) -> None:
    desk = open_desk()
    with pytest.raises(RuleError, match=r"^unknown preset 'retail': choose sales or services$"):
        desk.init("retail")
    assert desk.init("services") == "initialised with the 'services' preset"
    assert [(u["login"], u["role"]) for u in desk.users()] == [("ann", "admin")]


def test_init_on_an_initialised_desk_does_not_promote_the_user(desk: Desk, open_desk: Any) -> None:
    bob = open_desk(login="bob")
    bob.add_lead({"name": "Bob's lead"})
    assert bob.init("sales") == "already initialised with the 'sales' preset"
    assert {u["login"]: u["role"] for u in desk.users()} == {"ann": "admin", "bob": "rep"}


def test_an_uninitialised_desk_gets_the_sales_preset_on_first_write(open_desk: Any) -> None:
    desk = open_desk()
    assert desk.add_lead({"name": "Ann"})["status"] == "New"
    assert desk.init("sales") == "already initialised with the 'sales' preset"


def test_new_lead_starts_in_the_first_open_status(pdesk: Desk, preset: Preset) -> None:
    lead = add(pdesk)
    assert (lead["number"], lead["status"], lead["status_category"], lead["version"]) == (1, preset.opens[0],
                                                                                          "open", 1)


def test_new_lead_may_start_in_another_open_status(pdesk: Desk, preset: Preset) -> None:
    assert add(pdesk, status="contacted")["status"] == "Contacted"


def test_new_lead_cannot_start_closed_or_qualified(pdesk: Desk, preset: Preset, count: Any) -> None:
    with pytest.raises(RuleError, match=f"^'{preset.won}' needs a job value"):
        add(pdesk, status=preset.won)
    with pytest.raises(RuleError, match=f"^'{preset.lost}' needs a reason"):
        add(pdesk, status=preset.lost)
    if preset.qualified:
        with pytest.raises(RuleError, match="is reached only by qualifying the lead"):
            add(pdesk, status=preset.qualified)
    assert count(pdesk, "lead") == 0


# --- picking statuses by hand ------------------------------------------------------------------


def test_every_open_status_can_be_picked_by_hand(pdesk: Desk, preset: Preset) -> None:
    add(pdesk)
    for name in [*preset.opens[1:], preset.opens[0]]:
        lead, action = pdesk.set_status("1", name)
        assert (lead["status"], action) == (name, "status")
    assert pdesk.show("1")["version"] == len(preset.opens) + 1


def test_picking_a_status_writes_history(pdesk: Desk, preset: Preset) -> None:
    add(pdesk)
    pdesk.set_status("1", "contacted")
    assert actions(pdesk) == [("status", "status", preset.opens[0], "Contacted")]
    row = pdesk.history("1")[-1]
    assert (row["user"], row["origin"], row["at"]) == ("ann", "cli", "2026-11-26T12:00:00")


def test_picking_the_current_status_changes_nothing(pdesk: Desk, preset: Preset) -> None:
    add(pdesk)
    lead, action = pdesk.set_status("1", preset.opens[0].upper())
    assert (action, lead["version"]) == ("unchanged", 1)
    assert actions(pdesk) == []


def test_qualified_cannot_be_picked(desk: Desk) -> None:
    add(desk)
    with pytest.raises(RuleError) as info:
        desk.set_status("1", "qualified")
    assert str(info.value) == ("'Qualified' is reached only by qualifying the lead"
                               " (it links a customer and opens a deal)")
    assert info.value.exit_code == 1
    assert desk.show("1")["status"] == "New"


def test_won_and_lost_cannot_be_picked(pdesk: Desk, preset: Preset) -> None:
    add(pdesk)
    with pytest.raises(RuleError) as info:
        pdesk.set_status("1", preset.won)
    assert str(info.value) == f"'{preset.won}' needs a job value: mark the lead won with its value, or win its deal"
    with pytest.raises(RuleError) as info:
        pdesk.set_status("1", preset.lost.lower())
    assert str(info.value) == f"'{preset.lost}' needs a reason: mark the lead lost with a reason"
    assert (pdesk.show("1")["status"], pdesk.show("1")["version"]) == (preset.opens[0], 1)


@pytest.mark.parametrize(
    "text",
    ["Attempted to contact", "attempted", "attempted-to-contact", "ATTEMPTED_TO_CONTACT", "attempted to",
     "  attempted   TO contact ", "att", "Attempted_To-Contact"],
)
def test_status_names_are_folded_and_may_be_a_unique_prefix(pdesk: Desk, preset: Preset, text: str) -> None:
    add(pdesk)
    assert pdesk.set_status("1", text)[0]["status"] == preset.attempted


def test_ambiguous_status_prefix_is_refused(desk: Desk) -> None:
    add(desk)
    with pytest.raises(RuleError) as info:
        desk.set_status("1", "con")
    assert str(info.value) == "status 'con' is ambiguous: it could be Contacted, Converted"
    assert desk.show("1")["version"] == 1


def test_ambiguous_status_prefix_is_refused_in_services(services_desk: Desk) -> None:
    services_desk.catalog_change("statuses", "add", "Callback", "open", None)
    add(services_desk)
    with pytest.raises(RuleError, match=r"^status 'c' is ambiguous: it could be Contacted, Callback$"):
        services_desk.set_status("1", "c")
    assert services_desk.set_status("1", "ca")[0]["status"] == "Callback"


def test_unknown_status_is_refused_with_the_choices(pdesk: Desk, preset: Preset) -> None:
    add(pdesk)
    with pytest.raises(RuleError) as info:
        pdesk.set_status("1", "frozen")
    assert str(info.value).startswith(f"unknown status 'frozen': choose from {preset.opens[0]}, ")
    assert str(info.value).endswith(f"{preset.won}, {preset.lost}")


def test_set_status_on_an_unknown_lead(pdesk: Desk) -> None:
    with pytest.raises(NotFound) as info:
        pdesk.set_status("7", "contacted")
    assert (str(info.value), info.value.exit_code) == ("no lead matches '7'", 3)


# --- won ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "cents"), [("1,200.50", 120050), ("$900", 90000), (15, 1500), ("0.01", 1)])
def test_mark_won_with_a_job_value(pdesk: Desk, preset: Preset, value: Any, cents: int) -> None:
    add(pdesk)
    lead = pdesk.mark_won("1", value)
    assert (lead["status"], lead["status_category"], lead["job_value_cents"]) == (preset.won, "won", cents)
    assert actions(pdesk) == [("won", "status", preset.opens[0], preset.won),
                              ("won", "job_value", None, format_money(cents))]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "a won lead needs a job value greater than 0"),
        ("", "a won lead needs a job value greater than 0"),
        ("0", "a won lead needs a job value greater than 0"),
        ("0.001", "a won lead needs a job value greater than 0"),
        ("-5", "job value cannot be negative"),
        ("lots", "job value 'lots' is not a number"),
    ],
)
def test_won_needs_a_job_value_above_zero(pdesk: Desk, preset: Preset, snapshot: Any, value: Any,
                                          message: str) -> None:
    add(pdesk)
    before = snapshot(pdesk)
    with pytest.raises(RuleError) as info:
        pdesk.mark_won("1", value)
    assert str(info.value) == message
    assert snapshot(pdesk) == before


def test_a_won_lead_is_not_won_again(pdesk: Desk, preset: Preset) -> None:
    add(pdesk)
    pdesk.mark_won("1", "100")
    with pytest.raises(RuleError) as info:
        pdesk.mark_won("1", "200")
    assert str(info.value) == f"the lead is already '{preset.won}'; edit its job value instead"


def test_a_lost_lead_can_be_marked_won_and_loses_its_reason(pdesk: Desk, preset: Preset) -> None:
    add(pdesk)
    pdesk.mark_lost("1", "budget", "too dear")
    lead = pdesk.mark_won("1", "300")
    assert (lead["status"], lead["job_value_cents"], lead["lost_reason"], lead["lost_note"]) == (
        preset.won, 30000, None, "")


# --- job value ---------------------------------------------------------------------------------


def test_job_value_is_editable_only_on_a_won_lead(pdesk: Desk, preset: Preset, snapshot: Any) -> None:
    add(pdesk)
    before = snapshot(pdesk)
    with pytest.raises(RuleError, match=r"^the job value can be entered only on a won lead$"):
        pdesk.edit_lead("1", {"job_value": "500"})
    assert snapshot(pdesk) == before
    pdesk.mark_won("1", "100")
    lead = pdesk.edit_lead("1", {"job_value": "2,500"})
    assert (lead["job_value_cents"], lead["status"]) == (250000, preset.won)
    assert actions(pdesk)[-1] == ("edit", "job_value", "100.00", "2,500.00")
    for bad in ("0", ""):
        with pytest.raises(RuleError, match=r"^a won lead needs a job value greater than 0$"):
            pdesk.edit_lead("1", {"job_value": bad})
    assert pdesk.show("1")["job_value_cents"] == 250000


def test_job_value_cannot_be_given_when_adding(pdesk: Desk, count: Any) -> None:
    with pytest.raises(RuleError, match=r"^the job value can be entered only on a won lead$"):
        pdesk.add_lead({"name": "Ann", "job_value": "10"})
    assert count(pdesk, "lead") == 0
    assert pdesk.add_lead({"name": "Ann", "job_value": ""})["job_value_cents"] is None


def test_job_value_refused_on_a_lost_lead(pdesk: Desk) -> None:
    add(pdesk)
    pdesk.mark_lost("1", "Budget")
    with pytest.raises(RuleError, match="only on a won lead"):
        pdesk.edit_lead("1", {"job_value": "5"})


# --- lost --------------------------------------------------------------------------------------


def test_mark_lost_with_a_reason_from_the_list(pdesk: Desk, preset: Preset) -> None:
    add(pdesk)
    lead = pdesk.mark_lost("1", "not a fit", "  wants something else  ")
    assert (lead["status"], lead["status_category"], lead["lost_reason"], lead["lost_note"]) == (
        preset.lost, "lost", "Not a fit", "wants something else")
    assert [a[:2] for a in actions(pdesk)] == [("lost", "status"), ("lost", "lost_reason"), ("lost", "lost_note")]


def test_lost_reason_may_be_a_unique_prefix(pdesk: Desk) -> None:
    add(pdesk)
    assert pdesk.mark_lost("1", "BUDG")["lost_reason"] == "Budget"


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        (None, "a lost lead needs a reason"),
        ("", "a lost lead needs a reason"),
        ("  ", "a lost lead needs a reason"),
        ("Too expensive", "unknown lost reason 'Too expensive': choose from Unable to reach, Declined service,"
                          " Not a fit, No response, Chose another provider, Budget"),
        ("no", "lost reason 'no' is ambiguous: it could be Not a fit, No response"),
    ],
)
def test_lost_needs_a_known_reason(pdesk: Desk, snapshot: Any, reason: str | None, message: str) -> None:
    add(pdesk)
    before = snapshot(pdesk)
    with pytest.raises(RuleError) as info:
        pdesk.mark_lost("1", reason)  # type: ignore[arg-type]
    assert str(info.value) == message
    assert snapshot(pdesk) == before


def test_a_lost_lead_is_not_lost_again(pdesk: Desk, preset: Preset) -> None:
    add(pdesk)
    pdesk.mark_lost("1", "Budget")
    with pytest.raises(RuleError, match=f"^the lead is already '{preset.lost}'$"):
        pdesk.mark_lost("1", "Not a fit")


def test_a_won_lead_marked_lost_loses_its_job_value(pdesk: Desk, preset: Preset) -> None:
    add(pdesk)
    pdesk.mark_won("1", "100")
    lead = pdesk.mark_lost("1", "Budget")
    assert (lead["status"], lead["job_value_cents"], lead["lost_reason"]) == (preset.lost, None, "Budget")


# --- reopen ------------------------------------------------------------------------------------


def test_reopen_a_won_lead_clears_the_job_value(pdesk: Desk, preset: Preset) -> None:
    add(pdesk)
    pdesk.mark_won("1", "100")
    lead = pdesk.reopen("1")
    assert (lead["status"], lead["job_value_cents"]) == (preset.opens[0], None)
    assert actions(pdesk)[-2:] == [("reopen", "status", preset.won, preset.opens[0]),
                                   ("reopen", "job_value", "100.00", None)]


def test_reopen_a_lost_lead_clears_the_reason_and_note(pdesk: Desk, preset: Preset) -> None:
    add(pdesk)
    pdesk.mark_lost("1", "Budget", "too dear")
    lead = pdesk.reopen("1", "contacted")
    assert (lead["status"], lead["lost_reason"], lead["lost_reason_id"], lead["lost_note"]) == (
        "Contacted", None, None, "")
    assert {(a[0], a[1]) for a in actions(pdesk)[-3:]} == {("reopen", "status"), ("reopen", "lost_reason"),
                                                            ("reopen", "lost_note")}


def test_reopen_works_at_any_time(desk: Desk) -> None:
    add(desk)
    desk.mark_won("1", "100")
    desk.reopen("1")
    desk.mark_lost("1", "Budget")
    desk.reopen("1", "engaged")
    desk.mark_won("1", "5")
    assert desk.reopen("1", "attempted")["status"] == "Attempted to contact"
    assert desk.reopen("1")["status"] == "New"  # an open lead can be reset too


def test_reopen_a_qualified_lead(desk: Desk) -> None:
    add(desk, company="Acme")
    desk.qualify("1")
    lead = desk.reopen("1")
    assert (lead["status"], lead["customer_id"]) == ("New", 1)


def test_reopen_refusals(pdesk: Desk, preset: Preset) -> None:
    add(pdesk)
    with pytest.raises(RuleError, match=f"^the lead is already '{preset.opens[0]}'$"):
        pdesk.reopen("1")
    pdesk.mark_won("1", "100")
    with pytest.raises(RuleError, match=f"^a lead is reopened to an open status, not '{preset.lost}'$"):
        pdesk.reopen("1", preset.lost)
    with pytest.raises(RuleError, match=f"^a lead is reopened to an open status, not '{preset.won}'$"):
        pdesk.reopen("1", preset.won)
    assert pdesk.show("1")["status"] == preset.won


@pytest.mark.parametrize("closing", ["won", "lost"])
def test_picking_an_open_status_on_a_closed_lead_is_a_reopen(pdesk: Desk, preset: Preset, closing: str) -> None:
    add(pdesk)
    if closing == "won":
        pdesk.mark_won("1", "100")
    else:
        pdesk.mark_lost("1", "Budget", "note")
    lead, action = pdesk.set_status("1", "contacted")
    assert action == "reopen"
    assert (lead["status"], lead["job_value_cents"], lead["lost_reason"], lead["lost_note"]) == (
        "Contacted", None, None, "")
    assert {a[0] for a in actions(pdesk)[-2:]} == {"reopen"}


def test_picking_an_open_status_on_a_qualified_lead_is_a_reopen(desk: Desk) -> None:
    add(desk, company="Acme")
    desk.qualify("1")
    lead, action = desk.set_status("1", "engaged")
    assert (lead["status"], action) == ("Engaged", "reopen")


# --- converted through the deal ----------------------------------------------------------------


def test_winning_the_deal_converts_the_lead(pdesk: Desk, preset: Preset) -> None:
    add(pdesk, company="Acme")
    outcome = pdesk.qualify("1", value="2,000")
    deal = pdesk.deal_action(outcome["deal_id"], "won")
    assert (deal["state"], deal["value_cents"], deal["closed_at"]) == ("won", 200000, "2026-11-26T12:00:00")
    lead = pdesk.show("1")
    assert (lead["status"], lead["status_category"], lead["job_value_cents"]) == (preset.won, "won", 200000)
    assert [a[:2] for a in actions(pdesk) if a[0] == "convert"] == [("convert", "status"),
                                                                    ("convert", "job_value")]


def test_winning_the_deal_with_a_value_sets_the_job_value(pdesk: Desk, preset: Preset) -> None:
    add(pdesk, company="Acme")
    deal_id = pdesk.qualify("1")["deal_id"]
    assert pdesk.deal_action(deal_id, "won", value="750")["value_cents"] == 75000
    assert (pdesk.show("1")["status"], pdesk.show("1")["job_value_cents"]) == (preset.won, 75000)


def test_losing_the_deal_keeps_the_lead_status(desk: Desk) -> None:
    add(desk, company="Acme")
    deal_id = desk.qualify("1")["deal_id"]
    deal = desk.deal_action(deal_id, "lost", reason="budget", note="later")
    assert (deal["state"], deal["lost_reason"], deal["lost_note"]) == ("lost", "Budget", "later")
    assert desk.show("1")["status"] == "Qualified"
    desk.deal_action(deal_id, "reopen")
    with pytest.raises(RuleError, match=r"^a lost deal needs a reason$"):
        desk.deal_action(deal_id, "lost")


def test_deal_actions_refusals(desk: Desk) -> None:
    add(desk, company="Acme")
    deal_id = desk.qualify("1")["deal_id"]
    with pytest.raises(RuleError, match=r"^unknown deal action 'burn'$"):
        desk.deal_action(deal_id, "burn")
    with pytest.raises(NotFound, match=r"^there is no deal 99$"):
        desk.deal_action(99, "won")
    with pytest.raises(RuleError, match=rf"^deal {deal_id} is already open$"):
        desk.deal_action(deal_id, "reopen")
    desk.deal_action(deal_id, "won", value="10")
    with pytest.raises(RuleError, match=rf"^deal {deal_id} is already won$"):
        desk.deal_action(deal_id, "won")
    with pytest.raises(RuleError, match=rf"^deal {deal_id} is won; only open deals move between stages$"):
        desk.deal_action(deal_id, "stage", stage="proposal")


def test_deal_moves_between_stages(desk: Desk) -> None:
    add(desk, company="Acme")
    deal_id = desk.qualify("1")["deal_id"]
    deal = desk.deal_action(deal_id, "stage", stage="nego")
    assert (deal["stage"], deal["stages"]) == ("Negotiation", ["Prospecting", "Proposal", "Negotiation"])
    with pytest.raises(RuleError, match=r"^unknown stage 'closing': choose from Prospecting, Proposal, Negotiation$"):
        desk.deal_action(deal_id, "stage", stage="closing")


# --- lead types --------------------------------------------------------------------------------


def restrict(desk: Desk, preset: Preset) -> list[str]:
    """Restrict the preset's first type to its first and third open status, qualified (if any) and lost."""
    names = [preset.opens[0], preset.opens[2], *([preset.qualified] if preset.qualified else []), preset.lost]
    return desk.catalog_change("types", "statuses", preset.types[0], names)


def test_restricting_a_type_lists_its_statuses(pdesk: Desk, preset: Preset) -> None:
    allowed = restrict(pdesk, preset)
    assert allowed == [preset.opens[0], preset.opens[2], *([preset.qualified] if preset.qualified else []),
                       preset.lost]
    types = {t["name"]: t for t in pdesk.catalog_list("types")}
    assert types[preset.types[0]]["statuses"] == allowed
    assert types[preset.types[1]]["statuses"] == []


def test_sales_inbound_restriction_from_the_issue(desk: Desk) -> None:
    assert desk.catalog_change("types", "statuses", "Inbound", ["New", "Contacted", "Qualified", "Disqualified"]) \
        == ["New", "Contacted", "Qualified", "Disqualified"]
    add(desk, type="inbound")
    with pytest.raises(RuleError) as info:
        desk.set_status("1", "engaged")
    assert str(info.value) == ("status 'Engaged' is not allowed for lead type 'Inbound'"
                               " (allowed: New, Contacted, Qualified, Disqualified)")
    with pytest.raises(RuleError, match=r"^status 'Converted' is not allowed for lead type 'Inbound'"):
        desk.mark_won("1", "100")
    assert desk.set_status("1", "contacted")[0]["status"] == "Contacted"
    assert desk.mark_lost("1", "budget")["status"] == "Disqualified"
    with pytest.raises(RuleError, match=r"^status 'Attempted to contact' is not allowed for lead type 'Inbound'"):
        desk.reopen("1", "attempted")
    assert desk.reopen("1")["status"] == "New"


def test_a_restricted_type_refuses_other_statuses(pdesk: Desk, preset: Preset, snapshot: Any) -> None:
    restrict(pdesk, preset)
    add(pdesk, type=preset.types[0])
    before = snapshot(pdesk)
    with pytest.raises(RuleError) as info:
        pdesk.set_status("1", preset.opens[1])
    assert str(info.value).startswith(f"status '{preset.opens[1]}' is not allowed for lead type"
                                      f" '{preset.types[0]}' (allowed: {preset.opens[0]}, {preset.opens[2]}")
    with pytest.raises(RuleError, match=f"^status '{preset.won}' is not allowed"):
        pdesk.mark_won("1", "10")
    assert snapshot(pdesk) == before
    assert pdesk.set_status("1", preset.opens[2])[0]["status"] == preset.opens[2]


def test_a_restricted_type_refuses_a_starting_status(pdesk: Desk, preset: Preset, count: Any) -> None:
    restrict(pdesk, preset)
    with pytest.raises(RuleError, match=f"^status '{preset.opens[1]}' is not allowed for lead type"):
        add(pdesk, type=preset.types[0], status=preset.opens[1])
    assert count(pdesk, "lead") == 0


def test_a_new_lead_starts_in_the_first_open_status_its_type_allows(pdesk: Desk, preset: Preset) -> None:
    pdesk.catalog_change("types", "statuses", preset.types[0], [preset.lost, preset.opens[2], preset.opens[3]])
    assert add(pdesk, type=preset.types[0])["status"] == preset.opens[2]


def test_a_type_allowing_no_open_status_cannot_start_a_lead(pdesk: Desk, preset: Preset) -> None:
    pdesk.catalog_change("types", "statuses", preset.types[0], [preset.won, preset.lost])
    with pytest.raises(RuleError, match=r"^the lead type allows no open status to start in$"):
        add(pdesk, type=preset.types[0])


def test_a_type_with_no_list_allows_every_status(pdesk: Desk, preset: Preset) -> None:
    restrict(pdesk, preset)
    add(pdesk, type=preset.types[1])
    for name in preset.opens:
        pdesk.set_status("1", name)
    assert pdesk.mark_won("1", "1")["status"] == preset.won


def test_an_empty_list_lifts_the_restriction(pdesk: Desk, preset: Preset) -> None:
    restrict(pdesk, preset)
    add(pdesk, type=preset.types[0])
    assert pdesk.catalog_change("types", "statuses", preset.types[0], []) == []
    assert pdesk.set_status("1", preset.opens[1])[0]["status"] == preset.opens[1]


def test_changing_the_type_resets_a_status_it_does_not_allow(pdesk: Desk, preset: Preset) -> None:
    restrict(pdesk, preset)
    add(pdesk, type=preset.types[1], status=preset.opens[3])
    lead = pdesk.edit_lead("1", {"type": preset.types[0]})
    assert (lead["type"], lead["status"]) == (preset.types[0], preset.opens[0])
    assert {(a[1], a[2], a[3]) for a in actions(pdesk)} == {
        ("type", preset.types[1], preset.types[0]), ("status", preset.opens[3], preset.opens[0])}


def test_changing_the_type_keeps_an_allowed_status(pdesk: Desk, preset: Preset) -> None:
    restrict(pdesk, preset)
    add(pdesk, type=preset.types[1], status=preset.opens[2])
    lead = pdesk.edit_lead("1", {"type": preset.types[0]})
    assert (lead["type"], lead["status"]) == (preset.types[0], preset.opens[2])


def test_clearing_the_type_lifts_its_restriction(pdesk: Desk, preset: Preset) -> None:
    restrict(pdesk, preset)
    add(pdesk, type=preset.types[0])
    assert pdesk.edit_lead("1", {"type": ""})["type"] is None
    assert pdesk.set_status("1", preset.opens[1])[0]["status"] == preset.opens[1]


def test_a_type_change_that_reopens_a_won_lead_clears_its_job_value(pdesk: Desk, preset: Preset) -> None:
    add(pdesk, type=preset.types[0])
    pdesk.mark_won("1", "100")
    restrict(pdesk, preset)
    lead = pdesk.edit_lead("1", {"type": preset.types[1]})
    lead = pdesk.edit_lead("1", {"type": preset.types[0]})
    assert lead["status_category"] == "open"
    assert lead["job_value_cents"] is None


def test_a_type_change_never_reaches_a_status_reserved_for_actions(desk: Desk) -> None:
    desk.catalog_change("types", "statuses", "Inbound", ["Qualified", "Disqualified"])
    add(desk)
    try:
        lead = desk.edit_lead("1", {"type": "inbound"})
    except RuleError:
        lead = desk.show("1")
    assert lead["status_category"] == "open"


# --- messages ----------------------------------------------------------------------------------


def test_status_refusals_are_one_line(desk: Desk) -> None:
    add(desk)
    desk.catalog_change("types", "statuses", "Inbound", ["New", "Contacted"])
    add(desk, "Bo", type="inbound")
    attempts = [
        lambda: desk.set_status("1", "qualified"), lambda: desk.set_status("1", "converted"),
        lambda: desk.set_status("1", "disq"), lambda: desk.set_status("1", "con"),
        lambda: desk.set_status("1", "zzz"), lambda: desk.mark_won("1", "0"), lambda: desk.mark_lost("1", ""),
        lambda: desk.mark_lost("1", "zzz"), lambda: desk.reopen("1"), lambda: desk.set_status("2", "engaged"),
        lambda: desk.edit_lead("1", {"job_value": "5"}), lambda: desk.set_status("9", "new"),
    ]
    for attempt in attempts:
        with pytest.raises((RuleError, NotFound)) as info:
            attempt()
        assert str(info.value) and "\n" not in str(info.value)


def test_a_status_pick_that_would_reopen_is_refused_when_reopening_is_off(open_desk) -> None:  # type: ignore[no-untyped-def]
    desk = open_desk(auto_create=False)
    desk.add_lead({"name": "Closed One"})
    desk.mark_lost("1", "not a fit")
    with pytest.raises(RuleError, match=r"^lead 1 is Disqualified: reopen it first$"):
        desk.set_status("1", "contacted", reopen=False)
    assert desk.show("1")["status"] == "Disqualified"
    assert desk.set_status("1", "contacted")[1] == "reopen"
