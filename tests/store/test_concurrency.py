"""Two users on one database: optimistic locking with expected versions, and who changed what."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from leaddesk import clock
from leaddesk.store.desk import Desk
from leaddesk.store.errors import Conflict, RuleError
from leaddesk.store.queries import LeadFilter

LATER = datetime(2026, 11, 26, 12, 7, 30, tzinfo=UTC)


@pytest.fixture
def lead(desk: Desk) -> dict[str, Any]:
    return desk.add_lead({"name": "Ann Lee", "company": "Acme", "city": "Rome"})


def bob_edits(bob: Desk) -> None:
    clock.freeze(LATER)
    bob.edit_lead("1", {"city": "Paris"})


def test_both_desks_see_each_others_changes(desk: Desk, bob: Desk, lead: dict[str, Any]) -> None:
    bob.edit_lead("1", {"zone": "North"})
    assert desk.show("1")["zone"] == "North"
    desk.add_lead({"name": "Second"})
    assert bob.show("2")["owner"] == "ann"
    assert bob.add_lead({"name": "Third"})["owner"] == "bob"
    assert [u["login"] for u in desk.users()] == ["ann", "bob"]


def test_a_stale_edit_is_a_conflict_naming_the_other_user(desk: Desk, bob: Desk, lead: dict[str, Any],
                                                          snapshot: Any) -> None:
    bob_edits(bob)
    before = snapshot(desk)
    with pytest.raises(Conflict) as err:
        desk.edit_lead("1", {"zone": "South"}, expected_version=1)
    assert str(err.value) == ("lead 1 was changed by bob at 2026-11-26 12:07:30 since you read it"
                              " (your version 1, now 2): city 'Rome' → 'Paris'")
    assert (err.value.by, err.value.at, err.value.exit_code) == ("bob", "2026-11-26T12:07:30", 4)
    assert err.value.fields == {"city": {"from": "Rome", "to": "Paris", "by": "bob", "at": "2026-11-26T12:07:30",
                                         "action": "edit"}}
    assert snapshot(desk) == before
    assert desk.show("1")["zone"] is None


def test_the_right_version_succeeds_and_bumps_it(desk: Desk, bob: Desk, lead: dict[str, Any]) -> None:
    bob_edits(bob)
    current = desk.show("1")["version"]
    assert current == 2
    updated = desk.edit_lead("1", {"zone": "South"}, expected_version=current)
    assert (updated["version"], updated["zone"], updated["city"]) == (3, "South", "Paris")
    with pytest.raises(Conflict, match=r"^lead 1 was changed by ann at 2026-11-26 12:07:30 since you read it"
                                       r" \(your version 2, now 3\): zone \(empty\) → 'South'$"):
        bob.edit_lead("1", {"zone": "East"}, expected_version=2)


def test_no_expected_version_means_last_writer_wins(desk: Desk, bob: Desk, lead: dict[str, Any]) -> None:
    bob_edits(bob)
    assert desk.edit_lead("1", {"city": "Oslo"})["city"] == "Oslo"


def test_the_version_moves_only_when_something_changes(desk: Desk, lead: dict[str, Any]) -> None:
    assert desk.edit_lead("1", {"city": "Rome"}, expected_version=1)["version"] == 1
    assert desk.set_status("1", "new", expected_version=1)[0]["version"] == 1
    assert desk.edit_lead("1", {"city": "Oslo"}, expected_version=1)["version"] == 2
    assert desk.add_activity("1", "note", "hi")["version"] == 2


OPERATIONS: dict[str, Callable[[Desk, int], Any]] = {
    "edit": lambda d, v: d.edit_lead("1", {"zone": "X"}, expected_version=v),
    "status": lambda d, v: d.set_status("1", "contacted", expected_version=v),
    "won": lambda d, v: d.mark_won("1", "10", expected_version=v),
    "lost": lambda d, v: d.mark_lost("1", "budget", expected_version=v),
    "followup": lambda d, v: d.set_followup("1", "tomorrow", expected_version=v),
    "qualify": lambda d, v: d.qualify("1", expected_version=v),
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_every_change_checks_the_version(desk: Desk, bob: Desk, lead: dict[str, Any], snapshot: Any,
                                         operation: str) -> None:
    bob_edits(bob)
    before = snapshot(desk)
    with pytest.raises(Conflict, match=r"^lead 1 was changed by bob at 2026-11-26 12:07:30 since you read it"):
        OPERATIONS[operation](desk, 1)
    assert snapshot(desk) == before
    OPERATIONS[operation](desk, 2)
    assert desk.show("1")["version"] == 3


def test_reopen_checks_the_version(desk: Desk, bob: Desk, lead: dict[str, Any]) -> None:
    desk.mark_won("1", "10")
    clock.freeze(LATER)
    bob.edit_lead("1", {"job_value": "20"})
    with pytest.raises(Conflict, match="changed by bob"):
        desk.reopen("1", expected_version=2)
    assert desk.reopen("1", expected_version=3)["status"] == "New"


def test_the_conflict_names_the_last_user_to_change_the_lead(desk: Desk, bob: Desk, open_desk: Any,
                                                             lead: dict[str, Any]) -> None:
    cat = open_desk(login="cat")
    bob.edit_lead("1", {"city": "Paris"})
    cat.set_status("1", "engaged")
    with pytest.raises(Conflict) as err:
        desk.edit_lead("1", {"zone": "S"}, expected_version=1)
    assert err.value.by == "cat"
    assert "(your version 1, now 3)" in str(err.value)


def test_each_users_changes_are_recorded_under_their_name(desk: Desk, bob: Desk, lead: dict[str, Any]) -> None:
    bob_edits(bob)
    desk.set_status("1", "contacted")
    rows = [(h["user"], h["action"], h["field"], h["at"]) for h in desk.history("1") if h["action"] != "create"]
    assert rows == [("bob", "edit", "city", "2026-11-26T12:07:30"), ("ann", "status", "status", "2026-11-26T12:07:30")]


def test_an_undo_by_one_user_does_not_touch_the_others_change(desk: Desk, bob: Desk, lead: dict[str, Any]) -> None:
    desk.edit_lead("1", {"zone": "North"})
    bob_edits(bob)
    lead_now = desk.undo("1")
    assert (lead_now["zone"], lead_now["city"]) == (None, "Paris")
    desk.edit_lead("1", {"city": "Oslo"})
    bob.edit_lead("1", {"city": "Lima"})
    with pytest.raises(Conflict, match=r"^cannot undo: city of lead 1 was changed since by bob"):
        desk.undo("1")


def test_a_user_acting_on_a_fresh_desk_is_created(desk: Desk, open_desk: Any) -> None:
    dan = open_desk(login="dan")
    dan.add_lead({"name": "Dan's lead"})
    assert {u["login"]: u["role"] for u in desk.users()} == {"ann": "admin", "dan": "rep"}


def test_add_user_rules(desk: Desk) -> None:
    assert desk.add_user("eve", "Eve Adams", "manager") > 0
    with pytest.raises(RuleError, match=r"^user 'eve' already exists$"):
        desk.add_user("eve")
    with pytest.raises(RuleError, match=r"^a login must be one word of printable characters, not 'eve adams'$"):
        desk.add_user("eve adams")
    with pytest.raises(RuleError, match=r"^role 'boss' must be rep, manager, partner or admin$"):
        desk.add_user("fay", role="boss")


def test_two_desks_adding_at_once_get_distinct_numbers(desk: Desk, bob: Desk) -> None:
    errors: list[BaseException] = []

    def add_many(who: Desk, name: str) -> None:
        try:
            for i in range(15):
                who.add_lead({"name": f"{name} {i}"})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add_many, args=(d, n)) for d, n in ((desk, "Ann"), (bob, "Bob"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    rows = desk.list_leads(LeadFilter(limit=None))
    assert [r["number"] for r in rows] == list(range(1, 31))
    assert sorted(r["owner"] for r in rows) == ["ann"] * 15 + ["bob"] * 15


def test_conflict_messages_are_one_line(desk: Desk, bob: Desk, lead: dict[str, Any]) -> None:
    bob_edits(bob)
    for operation in OPERATIONS.values():
        with pytest.raises(Conflict) as err:
            operation(desk, 1)
        assert "\n" not in str(err.value)


def test_changes_since_a_version_name_each_field_its_last_author_and_leave_out_notes(
        desk: Desk, bob: Desk, open_desk: Any, lead: dict[str, Any]) -> None:
    from leaddesk.settings import CustomField, Settings

    custom = {"seats": CustomField("seats", "number"), "vip": CustomField("vip", "bool")}
    cat = open_desk(login="cat", settings=Settings(custom_fields=custom))
    bob.edit_lead("1", {"city": "Paris", "name": "Anna Lee", "priority": "high"})  # version 2
    desk.add_activity("1", "note", "a note changes no field")  # no new version
    clock.freeze(LATER)
    cat.set_status("1", "contacted")  # 3
    cat.edit_lead("1", {"city": "Rome", "expected_revenue": "1200", "custom": {"seats": "12", "vip": "yes"}})  # 4
    assert desk.show("1")["version"] == 4
    early, late = "2026-11-26T12:00:00", "2026-11-26T12:07:30"
    assert desk.lead_changes_since("1", 1) == {  # city went to Paris and back: not a change
        "name": {"from": "Ann Lee", "to": "Anna Lee", "by": "bob", "at": early, "action": "edit"},
        "priority": {"from": "low", "to": "high", "by": "bob", "at": early, "action": "edit"},
        "status": {"from": "New", "to": "Contacted", "by": "cat", "at": late, "action": "status"},
        "expected_revenue": {"from": None, "to": "1,200.00", "by": "cat", "at": late, "action": "edit"},
        "custom:seats": {"from": None, "to": "12", "by": "cat", "at": late, "action": "edit"},
        "custom:vip": {"from": None, "to": "yes", "by": "cat", "at": late, "action": "edit"},
    }
    assert list(desk.lead_changes_since("1", 3)) == ["city", "expected_revenue", "custom:seats", "custom:vip"]
    assert desk.lead_changes_since("1", 3)["city"]["from"] == "Paris"
    assert desk.lead_changes_since("1", 4) == {}

    with pytest.raises(Conflict) as err:
        desk.edit_lead("1", {"zone": "S"}, expected_version=1)
    assert str(err.value) == (
        "lead 1 was changed by cat at 2026-11-26 12:07:30 since you read it (your version 1, now 4): name 'Ann Lee'"
        " → 'Anna Lee' by bob; priority 'low' → 'high' by bob; status 'New' → 'Contacted' by cat; expected_revenue"
        " (empty) → '1,200.00' by cat; seats (empty) → '12' by cat; and 1 more")
    assert err.value.fields == desk.lead_changes_since("1", 1)


def test_a_conflict_message_stays_one_short_line_whatever_the_values(desk: Desk, bob: Desk,
                                                                     lead: dict[str, Any]) -> None:
    bob.edit_lead("1", {"description": "line one\nline two", "city": "\x1b[2J" + "x" * 300})
    with pytest.raises(Conflict) as err:
        desk.edit_lead("1", {"zone": "S"}, expected_version=1)
    message = str(err.value)
    assert message.endswith(f"(your version 1, now 2): description edited; city 'Rome' → '\\x1b[2J{'x' * 35}…'")
    assert "\n" not in message and "\x1b" not in message


def test_the_board_reads_its_counts_and_first_pages_in_one_snapshot(desk: Desk, bob: Desk) -> None:
    """A lead another user adds between the board's counts and its pages is in neither (the page agrees with
    its count: the board waits for a card only while it is on its way)."""
    for i in range(3):
        desk.add_lead({"name": f"Lead {i}"})

    def pages_for(columns: list[dict[str, Any]]) -> dict[str, LeadFilter]:
        bob.add_lead({"name": "Meanwhile"})  # committed by another connection mid-read
        return {c["name"]: LeadFilter(statuses=[c["name"]], limit=50) for c in columns if c["count"]}

    columns, pages = desk.board_view(LeadFilter(), pages_for)
    assert {c["name"]: c["count"] for c in columns if c["count"]} == {name: len(rows) for name, rows in pages.items()}
    assert "Meanwhile" not in [r["contact_name"] for rows in pages.values() for r in rows]
    assert sum(c["count"] for c in desk.board(LeadFilter())) == 4  # visible to the next read


def test_the_board_gives_an_empty_column_an_empty_first_page(desk: Desk) -> None:
    desk.add_lead({"name": "Only one"})
    columns, pages = desk.board_view(LeadFilter(), lambda cols: {c["name"]: LeadFilter(statuses=[c["name"]], limit=50)
                                                                 for c in cols})
    assert {name: len(rows) for name, rows in pages.items()} == {c["name"]: c["count"] for c in columns}
    assert sorted(n for n, rows in pages.items() if rows) == ["New"]
