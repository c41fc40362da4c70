"""Work-the-queue mode (issue 6): the queue's order and paging, and each one-key outcome through the rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from leaddesk import clock
from leaddesk.settings import NurtureSequence, NurtureStep, Settings, Sla
from leaddesk.store.desk import Desk
from leaddesk.store.errors import Conflict, NotFound, RuleError
from leaddesk.store.permissions import Forbidden

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday, noon (the store tests' frozen clock)
SLA = Settings(sla=Sla(contact_within_hours=4), auto_create_users=True)  # 09:00-17:00 UTC, Monday to Friday


def at(text: str) -> None:
    """Move the frozen clock ("2026-11-23T09:00")."""
    clock.freeze(datetime.fromisoformat(text).replace(tzinfo=UTC))


def add(desk: Desk, name: str, *, followup: str | None = None, time: str | None = None, contacted: bool = False,
        score: int | None = None, status: str | None = None) -> int:
    values: dict[str, Any] = {"name": name}
    if score is not None:
        values["score"] = str(score)
    number = int(desk.add_lead(values, status=status)["number"])
    if contacted:
        desk.add_activity(str(number), "call", "spoke to them")
    if followup:
        desk.set_followup(str(number), f"{followup} {time}" if time else followup)
    return number


def names(items: list[dict[str, Any]]) -> list[str]:
    return [i["contact_name"] for i in items]


@pytest.fixture
def sla_desk(open_desk: Callable[..., Desk]) -> Desk:
    """Ann's sales desk with a 4 working-hour first-contact SLA."""
    return open_desk(preset="sales", settings=SLA)


@pytest.fixture
def queued(desk: Desk, sla_desk: Desk, bob: Desk) -> dict[str, int]:
    """Leads of every queue category (and some that are not queued), created at their own moments."""
    n: dict[str, int] = {}
    at("2026-11-23T09:00")  # Monday: due 13:00, breached by now
    n["sla_old"] = add(sla_desk, "SLA Monday")
    at("2026-11-24T09:00")  # Tuesday
    n["sla_new"] = add(sla_desk, "SLA Tuesday")
    n["sla_planned"] = add(sla_desk, "SLA but planned", followup="2026-11-30")
    at("2026-11-25T08:00")  # no SLA on these two: never contacted, oldest first
    n["new_old"] = add(desk, "New Wednesday")
    at("2026-11-26T11:00")
    n["new_today"] = add(sla_desk, "New today")  # due 15:00 today: not in breach yet
    at("2026-11-26T11:30")
    n["score_low"] = add(desk, "Score 5", contacted=True, score=5)
    n["score_first"] = add(desk, "Score 30 first", contacted=True, score=30)
    n["score_second"] = add(desk, "Score 30 second", contacted=True, score=30)
    n["overdue_24"] = add(desk, "Overdue 24", followup="2026-11-24", contacted=True)
    n["overdue_20"] = add(desk, "Overdue 20", followup="2026-11-20", time="16:00", contacted=True)
    n["overdue_0900"] = add(desk, "Overdue 09:00", followup="today", time="09:00", contacted=True)
    n["today_1500"] = add(desk, "Today 15:00", followup="today", time="15:00", contacted=True)
    n["today_1300"] = add(desk, "Today 13:00", followup="today", time="13:00", contacted=True)
    n["today_any"] = add(desk, "Today any time", followup="today")
    n["later"] = add(desk, "Later", followup="2026-11-27", contacted=True)
    n["lost"] = add(desk, "Lost one", followup="2026-11-20")
    desk.mark_lost(str(n["lost"]), "Budget")
    n["qualified_due"] = add(desk, "Qualified due", followup="2026-11-25", contacted=True)
    n["qualified_quiet"] = add(desk, "Qualified quiet", contacted=True)
    for key in ("qualified_due", "qualified_quiet"):
        desk.qualify(str(n[key]), new_customer=True)
    n["bobs"] = add(bob, "Bob's overdue", followup="2026-11-19")
    at("2026-11-26T12:00")
    return n


ORDER = ["Overdue 20", "Overdue 24", "Qualified due", "Overdue 09:00", "Today 13:00", "Today 15:00",
         "Today any time", "SLA Monday", "SLA Tuesday", "New Wednesday", "New today", "Score 30 first",
         "Score 30 second", "Score 5"]


def test_the_queue_orders_each_category(desk: Desk, queued: dict[str, int]) -> None:
    items = desk.work_queue()
    assert names(items) == ORDER
    buckets = {i["contact_name"]: i["bucket"] for i in items}
    assert [buckets[name] for name in ORDER] == ["overdue"] * 4 + ["today"] * 3 + ["sla"] * 2 + ["new"] * 2 + [
        "score"] * 3
    assert items[-3]["number"] < items[-2]["number"], "equal scores: the lower number first"
    assert desk.queue_count() == len(ORDER)


def test_each_item_says_why_it_is_in_the_queue(desk: Desk, queued: dict[str, int]) -> None:
    why = {i["contact_name"]: i["reasons"] for i in desk.work_queue()}
    assert why["Overdue 20"] == ["follow-up overdue since Nov 20 16:00"]
    assert why["Overdue 24"] == ["follow-up overdue since Nov 24"]
    assert why["Overdue 09:00"] == ["follow-up overdue since 09:00"]
    assert why["Today 13:00"] == ["follow-up due today at 13:00"]
    assert why["Today any time"] == ["follow-up due today", "never contacted (added Nov 26)"]
    assert why["SLA Monday"] == ["SLA breached 2d ago", "never contacted (added Nov 23)"]
    assert why["SLA Tuesday"] == ["SLA breached 47h ago", "never contacted (added Nov 24)"]
    assert why["New today"] == ["never contacted (added Nov 26)"]
    assert why["Score 30 second"] == ["nothing planned, score 30"]


def test_next_in_queue_steps_forward_and_back_with_positions(desk: Desk, queued: dict[str, int]) -> None:
    first = desk.next_in_queue()
    assert first is not None
    assert (first["contact_name"], first["position"], first["total"]) == ("Overdue 20", 1, len(ORDER))
    seen, item = [first["contact_name"]], first
    while (item := desk.next_in_queue(after=item["cursor"])) is not None:
        seen.append(item["contact_name"])
        assert item["position"] == len(seen)
    assert seen == ORDER
    last = desk.next_in_queue(after=str(queued["score_low"]), back=True)
    assert last is not None and (last["contact_name"], last["position"]) == ("Score 30 second", len(ORDER) - 1)
    assert desk.next_in_queue(after=str(queued["overdue_20"]), back=True) is None


def test_a_page_continues_after_a_cursor(desk: Desk, queued: dict[str, int]) -> None:
    pages, after = [], None
    while page := desk.work_queue(limit=4, after=after):
        pages.append(names(page))
        after = page[-1]["cursor"]
    assert [len(p) for p in pages] == [4, 4, 4, 2]
    assert [name for page in pages for name in page] == ORDER


def test_the_queue_moves_on_past_a_lead_that_left_it(desk: Desk, queued: dict[str, int]) -> None:
    first = desk.next_in_queue()
    assert first is not None
    done = desk.work_outcome(str(first["number"]), "emailed")
    assert done["cursor"] == first["cursor"]
    after = desk.next_in_queue(after=done["cursor"])
    assert after is not None and (after["contact_name"], after["position"]) == ("Overdue 24", 1)
    assert after["total"] == len(ORDER) - 1


def test_past_the_end_the_queue_can_start_again_from_the_top(desk: Desk, queued: dict[str, int]) -> None:
    last = str(queued["score_low"])
    assert desk.next_in_queue(after=last) is None
    again = desk.next_in_queue(after=last, wrap=True)
    assert again is not None and (again["contact_name"], again["position"]) == ("Overdue 20", 1)


def test_the_last_three_activities_come_with_the_item(desk: Desk, queued: dict[str, int]) -> None:
    number = queued["overdue_24"]
    for text in ("one", "two", "three"):
        desk.add_activity(str(number), "note", text)
    item = desk.next_in_queue(after=str(queued["overdue_20"]))
    assert item is not None and item["number"] == number
    assert [a["body"] for a in item["activities"]] == ["three", "two", "one"]
    assert (item["status"], item["owner"], item["followup"]) == ("New", "ann", "2 days overdue")


def test_everyone_s_queue_is_for_managers(desk: Desk, bob: Desk, queued: dict[str, int]) -> None:
    everyone = names(desk.work_queue(everyone=True))
    assert everyone[0] == "Bob's overdue" and "Bob's overdue" not in names(desk.work_queue())
    assert names(bob.work_queue()) == ["Bob's overdue"]
    with pytest.raises(Forbidden, match="only a manager or an admin may work everyone's queue"):
        bob.work_queue(everyone=True)
    with pytest.raises(RuleError, match="is not in your work queue"):
        desk.next_in_queue(after=str(queued["later"]))


def test_an_sla_breach_with_a_follow_up_planned_waits_for_it(sla_desk: Desk, queued: dict[str, int]) -> None:
    at("2026-11-30T08:00")
    item = sla_desk.next_in_queue(after=str(queued["sla_planned"]), back=True)
    assert item is not None
    planned = [i for i in sla_desk.work_queue(limit=100) if i["number"] == queued["sla_planned"]]
    assert planned and planned[0]["bucket"] == "today"
    assert "SLA breached" in " ".join(planned[0]["reasons"])


# -- outcomes -------------------------------------------------------------------------------------------
def changes_of(desk: Desk, number: int) -> list[list[tuple[str, str, Any, Any]]]:
    """The lead's history after its creation, grouped by change."""
    groups: dict[str, list[tuple[str, str, Any, Any]]] = {}
    for row in desk.history(str(number)):
        if row["action"] != "create":
            groups.setdefault(row["change_id"], []).append((row["action"], row["field"], row["old"], row["new"]))
    return list(groups.values())


def test_no_answer_logs_a_call_marks_attempted_and_retries_next_working_day(desk: Desk) -> None:
    number = add(desk, "Ann Lee", followup="2026-11-24")
    before = desk.show(str(number))["version"]
    done = desk.work_outcome(str(number), "no-answer", note="voicemail")
    lead = done["lead"]
    assert done["activity"] == "call: no answer: voicemail"
    assert done["status"] == {"from": "New", "to": "Attempted to contact"}
    assert done["followup"] == {"on": "2026-11-27", "time": None, "note": "call again"}
    assert (lead["status"], lead["followup_on"], lead["followup_note"]) == ("Attempted to contact", "2026-11-27",
                                                                           "call again")
    assert lead["activities"][0]["kind"] == "call" and lead["activities"][0]["body"] == "no answer: voicemail"
    assert lead["version"] == before + 1, "one outcome is one change"
    assert changes_of(desk, number)[-1] == [
        ("log", "activity", None, "call: no answer: voicemail"),
        ("status", "status", "New", "Attempted to contact"),
        ("followup", "followup", "2026-11-24", "2026-11-27"),
        ("followup", "followup_note", "", "call again"),
    ]


def test_no_answer_on_a_friday_retries_on_monday_and_keeps_a_later_status(desk: Desk) -> None:
    at("2026-11-27T10:00")
    number = add(desk, "Ann Lee", status="Contacted")
    done = desk.work_outcome(str(number), "1")
    assert done["followup"]["on"] == "2026-11-30"
    assert done["status"] is None and done["lead"]["status"] == "Contacted"
    assert done["notes"] == []


def test_working_days_come_from_the_sla_settings(open_desk: Callable[..., Desk]) -> None:
    six_days = open_desk(preset="sales", settings=Settings(sla=Sla(working_days=("mon", "tue", "wed", "thu",
                                                                                 "fri", "sat"))))
    at("2026-11-27T10:00")
    number = add(six_days, "Ann Lee")
    assert six_days.work_outcome(str(number), "emailed")["followup"]["on"] == "2026-11-30"  # Sat, then Mon


def test_an_outcome_whose_status_the_desk_lacks_still_logs_and_schedules(desk: Desk) -> None:
    desk.catalog_change("statuses", "rename", "Attempted to contact", "Tried")
    number = add(desk, "Ann Lee")
    done = desk.work_outcome(str(number), "no-answer")
    assert done["notes"] == ["this desk has no 'Attempted to contact' status: the status stays New"]
    assert done["status"] is None and done["activity"] == "call: no answer"
    assert done["followup"]["on"] == "2026-11-27"


def test_the_status_goes_through_the_lead_type_rules(desk: Desk) -> None:
    desk.catalog_change("types", "statuses", "Inbound", ["New", "Engaged"])
    number = int(desk.add_lead({"name": "Ann Lee", "type": "Inbound"})["number"])
    done = desk.work_outcome(str(number), "reached")
    assert done["notes"][0] == "lead type 'Inbound' does not allow 'Contacted': the status stays New"
    assert done["lead"]["status"] == "New" and done["activity"] == "call: reached"


def test_the_services_preset_finds_its_own_spelling(services_desk: Desk) -> None:
    number = add(services_desk, "Ann Lee")
    assert services_desk.work_outcome(str(number), "no-answer")["status"] == {"from": "Pending",
                                                                             "to": "Attempted To Contact"}


def test_reached_moves_to_contacted_and_sets_the_date_given(desk: Desk) -> None:
    number = add(desk, "Ann Lee", followup="today")
    done = desk.work_outcome(str(number), "reached", date="friday 10:30", note="wants a quote")
    assert done["status"] == {"from": "New", "to": "Contacted"}
    assert done["followup"] == {"on": "2026-11-27", "time": "10:30", "note": "wants a quote"}
    assert done["activity"] == "call: reached: wants a quote"
    assert done["lead"]["first_contact_at"] == "2026-11-26T12:00:00"


def test_reached_without_a_date_clears_the_due_follow_up(desk: Desk) -> None:
    number = add(desk, "Ann Lee", status="Engaged", followup="2026-11-25")
    done = desk.work_outcome(str(number), "reached")
    assert done["status"] is None, "Contacted comes before Engaged: not a step back"
    assert done["followup"] is None and done["lead"]["followup_on"] is None
    assert done["notes"] == ["no follow-up planned"]


def test_reached_keeps_a_follow_up_that_is_not_due(desk: Desk) -> None:
    number = add(desk, "Ann Lee", followup="2026-12-04")
    done = desk.work_outcome(str(number), "reached")
    assert done["followup"] == {"on": "2026-12-04", "time": None, "note": ""}


def test_a_past_date_is_taken_with_a_note(desk: Desk) -> None:
    number = add(desk, "Ann Lee")
    done = desk.work_outcome(str(number), "reached", date="2026-11-20")
    assert done["followup"]["on"] == "2026-11-20"
    assert "the follow-up 2026-11-20 is in the past: it is overdue" in done["notes"]


def test_emailed_follows_up_in_two_working_days(desk: Desk) -> None:
    number = add(desk, "Ann Lee")
    done = desk.work_outcome(str(number), "emailed", note="sent the brochure")
    assert done["activity"] == "email: emailed: sent the brochure"
    assert done["followup"] == {"on": "2026-11-30", "time": None, "note": "check for a reply"}
    assert done["status"] is None


def test_meeting_needs_its_date_and_becomes_the_follow_up(desk: Desk, snapshot: Callable[[Desk], Any]) -> None:
    number = add(desk, "Ann Lee")
    state = snapshot(desk)
    with pytest.raises(RuleError, match="'Meeting booked' needs a date"):
        desk.work_outcome(str(number), "meeting")
    assert snapshot(desk) == state
    done = desk.work_outcome(str(number), "meeting", date="2026-12-02 14:00")
    assert done["activity"] == "meeting: meeting booked for 2026-12-02 14:00"
    assert done["followup"] == {"on": "2026-12-02", "time": "14:00", "note": "meeting"}


def test_a_date_that_cannot_be_read_writes_nothing(desk: Desk, snapshot: Callable[[Desk], Any]) -> None:
    number = add(desk, "Ann Lee")
    state = snapshot(desk)
    with pytest.raises(RuleError, match="follow-up"):
        desk.work_outcome(str(number), "reached", date="someday")
    with pytest.raises(RuleError, match="time"):
        desk.work_outcome(str(number), "meeting", date="friday 25:99")
    with pytest.raises(RuleError, match="takes no date"):
        desk.work_outcome(str(number), "emailed", date="friday")
    assert snapshot(desk) == state


def test_lost_needs_a_reason_from_the_list(desk: Desk, snapshot: Callable[[Desk], Any]) -> None:
    number = add(desk, "Ann Lee", followup="today")
    state = snapshot(desk)
    with pytest.raises(RuleError, match="needs a reason: Unable to reach, Declined service"):
        desk.work_outcome(str(number), "lost")
    with pytest.raises(RuleError, match="lost reason"):
        desk.work_outcome(str(number), "lost", reason="no idea")
    assert snapshot(desk) == state
    done = desk.work_outcome(str(number), "lost", reason="budget", note="next year maybe")
    assert done["status"] == {"from": "New", "to": "Disqualified"}
    assert (done["lead"]["lost_reason"], done["lead"]["lost_note"]) == ("Budget", "next year maybe")
    assert number not in [i["number"] for i in desk.work_queue()]


def test_a_closed_lead_is_not_worked(desk: Desk) -> None:
    number = add(desk, "Ann Lee")
    desk.mark_lost(str(number), "Budget")
    with pytest.raises(RuleError, match="is Disqualified: reopen it before working it"):
        desk.work_outcome(str(number), "emailed")


def test_skip_changes_nothing_and_qualify_is_the_wizard(desk: Desk) -> None:
    number = add(desk, "Ann Lee")
    before = desk.show(str(number))
    done = desk.work_outcome(str(number), "skip")
    assert done["cursor"] is not None and done["activity"] is None
    assert desk.show(str(number)) == before
    with pytest.raises(RuleError, match=f"qualify is `leaddesk qualify {number}`"):
        desk.work_outcome(str(number), "qualify")
    with pytest.raises(RuleError, match="unknown outcome 'dance'"):
        desk.work_outcome(str(number), "dance")
    with pytest.raises(NotFound):
        desk.work_outcome("999", "emailed")


def test_an_outcome_on_a_stale_version_is_a_conflict(desk: Desk, bob: Desk) -> None:
    number = add(desk, "Ann Lee")
    version = desk.show(str(number))["version"]
    bob.edit_lead(str(number), {"company": "Acme"})
    with pytest.raises(Conflict, match="company"):
        desk.work_outcome(str(number), "emailed", expected_version=version)


def test_undo_reverts_the_whole_outcome(desk: Desk) -> None:
    number = add(desk, "Ann Lee", followup="2026-11-24")
    desk.work_outcome(str(number), "no-answer")
    lead = desk.undo(str(number))
    assert (lead["status"], lead["followup_on"], lead["followup_note"]) == ("New", "2026-11-24", "")
    assert lead["activities"] == []


def test_a_done_follow_up_moves_a_running_sequence_on(open_desk: Callable[..., Desk]) -> None:
    steps = (NurtureStep(3, "first check-in"), NurtureStep(7, "second check-in"))
    settings = replace(Settings(), sequences={"warm": NurtureSequence("warm", steps=steps)})
    desk = open_desk(preset="sales", settings=settings)
    number = add(desk, "Ann Lee")
    desk.start_sequence(str(number), "warm")
    at("2026-11-29T12:00")  # the first step is due today
    done = desk.work_outcome(str(number), "emailed")
    assert done["followup"] == {"on": "2026-12-06", "time": None, "note": "second check-in"}
    assert done["notes"] == ["sequence 'warm' scheduled its next step"]
    again = desk.work_outcome(str(number), "no-answer")  # not done: the sequence waits, the retry is tomorrow
    assert again["followup"]["on"] == "2026-11-30"
    assert desk.lead_sequence(str(number))["current"]["step"] == 2


def test_the_outcomes_are_data(desk: Desk) -> None:
    outcomes = desk.work_outcomes()
    assert [(o["key"], o["name"]) for o in outcomes] == [
        ("1", "no-answer"), ("2", "reached"), ("3", "emailed"), ("4", "meeting"), ("5", "lost"), ("6", "qualify"),
        ("7", "skip")]
    assert outcomes[4]["needs"] == ["reason"] and outcomes[3]["needs"] == ["date"]


def test_the_sla_in_words(sla_desk: Desk, desk: Desk) -> None:
    at("2026-11-26T11:00")
    pending = add(sla_desk, "Pending")
    at("2026-11-23T09:00")
    late = add(sla_desk, "Late")
    at("2026-11-26T12:00")
    sla_desk.add_activity(str(late), "email", "sorry for the wait")
    met = add(sla_desk, "Met", contacted=True)
    none = add(desk, "No SLA", contacted=True)
    words = {i["contact_name"]: i["sla"] for i in sla_desk.work_queue(limit=10)}
    assert words == {"Pending": "due in 3h", "Late": "late (contacted 2d after)", "Met": "met", "No SLA": ""}
    assert {pending, late, met, none} == {i["number"] for i in sla_desk.work_queue(limit=10)}
