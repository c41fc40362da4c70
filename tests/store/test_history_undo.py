"""History rows for every change, and undo of the acting user's last change."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from leaddesk import clock
from leaddesk.store.desk import Desk
from leaddesk.store.errors import Conflict, NotFound, RuleError


def changes(desk: Desk, ref: str = "1") -> list[tuple[str, str, Any, Any, str]]:
    """(action, field, old, new, user) of a lead's history after its creation."""
    return [(h["action"], h["field"], h["old"], h["new"], h["user"]) for h in desk.history(ref)
            if h["action"] != "create"]


def raw_history(desk: Desk, query: Any) -> list[dict[str, Any]]:
    return query(desk, "SELECT h.change_id, h.entity, h.entity_id, h.action, h.field, h.old, h.new, h.at, h.origin,"
                       " h.undone, u.login FROM history h LEFT JOIN \"user\" u ON u.id = h.user_id ORDER BY h.id")


@pytest.fixture
def lead(desk: Desk) -> dict[str, Any]:
    return desk.add_lead({"name": "Ann Lee", "company": "Acme", "city": "Rome", "zone": "South"})


# --- history -----------------------------------------------------------------------------------


def test_creating_a_lead_records_its_fields(desk: Desk, lead: dict[str, Any], query: Any) -> None:
    rows = raw_history(desk, query)
    assert {r["action"] for r in rows} == {"create"}
    assert {(r["entity"], r["entity_id"], r["login"], r["origin"], r["at"]) for r in rows} == {
        ("lead", 1, "ann", "cli", "2026-11-26T12:00:00")}
    assert len({r["change_id"] for r in rows}) == 1
    fields = {r["field"]: r["new"] for r in rows}
    assert fields["contact_name"] == "Ann Lee" and fields["company"] == "Acme" and fields["city"] == "Rome"
    assert fields["number"] == "1" and "created_at" not in fields and "updated_at" not in fields
    assert all(r["old"] is None for r in rows)


def test_the_origin_is_recorded(open_desk: Any, query: Any) -> None:
    tui = open_desk(preset="sales", origin="tui")
    tui.add_lead({"name": "Ann"})
    tui.set_status("1", "contacted")
    assert {r["origin"] for r in raw_history(tui, query)} == {"tui"}
    assert {h["origin"] for h in tui.history("1")} == {"tui"}


def test_an_edit_records_each_changed_field_once(desk: Desk, lead: dict[str, Any], query: Any) -> None:
    before = len(raw_history(desk, query))
    updated = desk.edit_lead("1", {"city": "Milan", "zone": "South", "company": "Acme", "tags": "b, a"})
    assert updated["version"] == 2
    assert changes(desk) == [("edit", "city", "Rome", "Milan", "ann"), ("edit", "tags", "", "b,a", "ann")]
    rows = raw_history(desk, query)[before:]
    assert len({r["change_id"] for r in rows}) == 1


def test_an_edit_that_changes_nothing_writes_nothing(desk: Desk, lead: dict[str, Any], snapshot: Any) -> None:
    before = snapshot(desk)
    assert desk.edit_lead("1", {"city": " Rome ", "name": "Ann Lee", "company": "Acme"})["version"] == 1
    assert snapshot(desk) == before


def test_each_operation_is_its_own_change(desk: Desk, lead: dict[str, Any]) -> None:
    desk.set_status("1", "contacted")
    desk.set_followup("1", "tomorrow")
    desk.add_activity("1", "call", "left a message")
    desk.mark_won("1", "100")
    desk.reopen("1")
    desk.mark_lost("1", "budget", "pricey")
    rows = [h for h in desk.history("1") if h["action"] != "create"]
    assert [h["action"] for h in rows] == ["status", "followup", "log", "won", "won", "reopen", "reopen", "lost",
                                           "lost", "lost"]
    assert len({h["change_id"] for h in rows}) == 6
    assert [h["new"] for h in rows[:3]] == ["Contacted", "2026-11-27", "call: left a message"]


def test_history_names_references_and_user(desk: Desk, lead: dict[str, Any]) -> None:
    desk.add_user("bob")
    desk.edit_lead("1", {"source": "referral", "owner": "bob", "type": "inbound"})
    assert changes(desk) == [("edit", "source", None, "Referral", "ann"), ("edit", "owner", "ann", "bob", "ann"),
                             ("edit", "type", None, "Inbound", "ann")]


def test_history_of_notes(desk: Desk, lead: dict[str, Any]) -> None:
    desk.add_activity("1", "note", "  likes blue  ")
    desk.add_activity("1", "meeting", "demo", at="-2h")
    assert changes(desk) == [("note", "activity", None, "note: likes blue", "ann"),
                             ("log", "activity", None, "meeting: demo", "ann")]
    assert [(a["kind"], a["body"], a["at"], a["user"]) for a in desk.show("1")["activities"]] == [
        ("note", "likes blue", "2026-11-26T12:00:00", "ann"), ("meeting", "demo", "2026-11-26T10:00:00", "ann")]


def test_history_is_per_lead(desk: Desk, lead: dict[str, Any]) -> None:
    desk.add_lead({"name": "Other"})
    desk.edit_lead("2", {"city": "Oslo"})
    desk.add_activity("2", "note", "hi")
    assert changes(desk, "1") == []
    assert [c[0] for c in changes(desk, "2")] == ["edit", "note"]


def test_history_times_follow_the_clock(desk: Desk, lead: dict[str, Any]) -> None:
    clock.freeze(datetime(2026, 11, 27, 9, 30, tzinfo=UTC))
    desk.set_status("1", "contacted")
    assert desk.history("1")[-1]["at"] == "2026-11-27T09:30:00"
    assert desk.show("1")["updated_at"] == "2026-11-27T09:30:00"


def test_a_new_lead_does_not_inherit_a_deleted_leads_history(desk: Desk, lead: dict[str, Any]) -> None:
    desk.add_lead({"name": "Gone"})
    desk.edit_lead("2", {"city": "Oslo"})
    desk.delete_lead("2")
    fresh = desk.add_lead({"name": "Fresh"})
    assert {h["action"] for h in desk.history(str(fresh["number"]))} == {"create"}


def test_undo_never_reaches_a_deleted_lead(desk: Desk, bob: Desk, lead: dict[str, Any]) -> None:
    desk.add_lead({"name": "Gone"})
    desk.add_user("bob")
    desk.edit_lead("2", {"city": "Oslo", "owner": "bob"})  # a rep deletes only their own leads
    bob.delete_lead("2")
    fresh = bob.add_lead({"name": "Fresh", "city": "Oslo"})
    assert fresh["number"] == 3  # numbers are never reused
    with pytest.raises(NotFound):
        desk.undo("2")
    with pytest.raises(RuleError, match="you have no change to lead 3 to undo"):
        desk.undo("3")
    assert desk.show("3")["city"] == "Oslo"


# --- undo --------------------------------------------------------------------------------------


def test_undo_a_status_change(desk: Desk, lead: dict[str, Any]) -> None:
    desk.set_status("1", "engaged")
    undone = desk.undo("1")
    assert (undone["status"], undone["version"]) == ("New", 3)
    assert changes(desk)[-1] == ("undo", "status", "Engaged", "New", "ann")


def test_undo_an_edit_of_several_fields(desk: Desk, lead: dict[str, Any]) -> None:
    desk.edit_lead("1", {"city": "Milan", "zone": "North", "priority": "high", "expected_revenue": "1,000"})
    undone = desk.undo("1")
    assert (undone["city"], undone["zone"], undone["priority"], undone["expected_revenue_cents"]) == (
        "Rome", "South", 0, None)
    assert sorted(c[1] for c in changes(desk) if c[0] == "undo") == ["city", "expected_revenue", "priority", "zone"]


def test_undo_a_name_edit_restores_the_derived_columns(desk: Desk, lead: dict[str, Any]) -> None:
    desk.edit_lead("1", {"name": "Bea Cruz", "phone": "(212) 555-0123", "email": "B@X.com"})
    undone = desk.undo("1")
    assert (undone["contact_name"], undone["first_name"], undone["last_name"], undone["phone"],
            undone["phone_e164"], undone["email"], undone["email_lower"]) == (
        "Ann Lee", "Ann", "Lee", None, None, None, None)


def test_undo_a_note(desk: Desk, lead: dict[str, Any], count: Any, query: Any) -> None:
    desk.add_activity("1", "note", "wrong lead")
    undone = desk.undo("1")
    assert undone["activities"] == []
    assert count(desk, "activity") == 0
    undo_rows = [r for r in raw_history(desk, query) if r["action"] == "undo"]
    assert [(r["entity"], r["field"].partition(":")[0], r["old"], r["login"]) for r in undo_rows] == [
        ("lead", "activity", "note: wrong lead", "ann")]


def test_undo_of_a_note_shows_in_the_lead_history(desk: Desk, lead: dict[str, Any]) -> None:
    desk.add_activity("1", "note", "wrong lead")
    desk.undo("1")
    assert "undo" in [h["action"] for h in desk.history("1")]


def test_undo_won_lost_reopen_and_followup(desk: Desk, lead: dict[str, Any]) -> None:
    desk.set_followup("1", "2026-12-01")
    desk.mark_won("1", "100")
    desk.reopen("1", "contacted")
    desk.mark_lost("1", "budget", "pricey")
    lead = desk.undo("1")
    assert (lead["status"], lead["lost_reason"], lead["lost_note"]) == ("Contacted", None, "")
    lead = desk.undo("1")
    assert (lead["status"], lead["job_value_cents"]) == ("Converted", 10000)
    lead = desk.undo("1")
    assert (lead["status"], lead["job_value_cents"]) == ("New", None)
    lead = desk.undo("1")
    assert lead["followup_on"] is None


def test_a_second_undo_undoes_the_next_older_change(desk: Desk, lead: dict[str, Any]) -> None:
    desk.edit_lead("1", {"city": "Milan"})
    desk.edit_lead("1", {"city": "Paris"})
    desk.set_status("1", "contacted")
    assert desk.undo("1")["status"] == "New"
    assert desk.undo("1")["city"] == "Milan"
    assert desk.undo("1")["city"] == "Rome"
    with pytest.raises(RuleError) as err:
        desk.undo("1")
    assert str(err.value) == "your last change to lead 1 created it; delete the lead instead"
    assert [c[0] for c in changes(desk)].count("undo") == 3


def test_undone_changes_are_marked(desk: Desk, lead: dict[str, Any]) -> None:
    desk.edit_lead("1", {"city": "Milan"})
    desk.undo("1")
    flags = [(h["action"], h["undone"]) for h in desk.history("1") if h["field"] == "city"]
    assert flags == [("create", 0), ("edit", 1), ("undo", 0)]


def test_undo_refused_right_after_creation(desk: Desk, lead: dict[str, Any], snapshot: Any) -> None:
    before = snapshot(desk)
    with pytest.raises(RuleError, match=r"^your last change to lead 1 created it; delete the lead instead$"):
        desk.undo("1")
    assert snapshot(desk) == before


def test_undo_refused_after_a_copy(desk: Desk, lead: dict[str, Any]) -> None:
    desk.copy_lead("1")
    with pytest.raises(RuleError, match=r"^your last change to lead 2 created it; delete the lead instead$"):
        desk.undo("2")


def test_undo_refused_after_qualify(desk: Desk, lead: dict[str, Any], snapshot: Any) -> None:
    desk.qualify("1")
    before = snapshot(desk)
    with pytest.raises(RuleError) as err:
        desk.undo("1")
    assert str(err.value) == "your last change to lead 1 was a qualify: reopen the lead instead"
    assert snapshot(desk) == before


def test_undo_refused_after_convert_and_customer(desk: Desk, lead: dict[str, Any]) -> None:
    desk.add_lead({"name": "Person"})
    desk.customer_from_lead("2")
    with pytest.raises(RuleError, match=r"^your last change to lead 2 was a customer: reopen the lead instead$"):
        desk.undo("2")
    desk.qualify("1", create_deal=False)
    with pytest.raises(RuleError, match=r"^your last change to lead 1 was a convert: reopen the lead instead$"):
        desk.undo("1")


def test_undo_refused_after_the_deal_was_won(desk: Desk, lead: dict[str, Any]) -> None:
    deal_id = desk.qualify("1")["deal_id"]
    desk.deal_action(deal_id, "won", value="50")
    with pytest.raises(RuleError, match="was a convert: reopen the lead instead"):
        desk.undo("1")


def test_undo_only_my_changes(desk: Desk, bob: Desk, lead: dict[str, Any]) -> None:
    desk.edit_lead("1", {"city": "Milan"})
    bob.edit_lead("1", {"zone": "North"})
    undone = desk.undo("1")
    assert (undone["city"], undone["zone"]) == ("Rome", "North")
    assert changes(desk)[-1] == ("undo", "city", "Milan", "Rome", "ann")


def test_undo_with_no_change_of_mine(desk: Desk, bob: Desk, lead: dict[str, Any]) -> None:
    with pytest.raises(RuleError) as err:
        bob.undo("1")
    assert str(err.value) == "you have no change to lead 1 to undo"


def test_undo_refused_when_someone_else_changed_the_field_since(desk: Desk, bob: Desk, lead: dict[str, Any],
                                                                snapshot: Any) -> None:
    desk.edit_lead("1", {"city": "Milan"})
    clock.freeze(datetime(2026, 11, 26, 12, 5, tzinfo=UTC))
    bob.edit_lead("1", {"city": "Paris"})
    before = snapshot(desk)
    with pytest.raises(Conflict) as err:
        desk.undo("1")
    assert str(err.value) == "cannot undo: city of lead 1 was changed since by bob at 2026-11-26 12:05:00"
    assert err.value.exit_code == 4
    assert snapshot(desk) == before
    assert desk.show("1")["city"] == "Paris"


def test_undo_a_status_refused_when_someone_else_changed_it(desk: Desk, bob: Desk, lead: dict[str, Any]) -> None:
    desk.set_status("1", "contacted")
    bob.set_status("1", "engaged")
    with pytest.raises(Conflict, match=r"^cannot undo: status of lead 1 was changed since by bob at "):
        desk.undo("1")


def test_undo_unknown_lead(desk: Desk) -> None:
    from leaddesk.store.errors import NotFound

    with pytest.raises(NotFound, match=r"^no lead matches '5'$"):
        desk.undo("5")


def test_undo_messages_are_one_line(desk: Desk, bob: Desk, lead: dict[str, Any]) -> None:
    desk.edit_lead("1", {"city": "Milan"})
    bob.edit_lead("1", {"city": "Paris"})
    desk.add_lead({"name": "Two"})
    desk.add_lead({"name": "Three"})
    desk.qualify("3")
    for who, ref in ((desk, "1"), (desk, "2"), (desk, "3"), (bob, "2")):
        with pytest.raises((RuleError, Conflict)) as err:
            who.undo(ref)
        assert str(err.value) and "\n" not in str(err.value)
