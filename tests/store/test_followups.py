"""Follow-ups (issue 6, store/followups.py): dates, times and notes, time zones, overdue by the minute,
done and none, history and undo, the edit path, the agenda and the reminders. The clock is fixed at
2026-11-26 12:00 UTC, a Thursday (tests/store/conftest.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from leaddesk import clock
from leaddesk.settings import Settings, load_settings
from leaddesk.store import followups
from leaddesk.store.desk import Desk
from leaddesk.store.errors import Conflict, RuleError
from leaddesk.store.queries import LeadFilter

from .conftest import DeskFactory


def numbers(desk: Desk, **options: Any) -> list[int]:
    return [r["number"] for r in desk.list_leads(LeadFilter(limit=None, **options))]


def followup_of(desk: Desk, ref: str = "1") -> tuple[str | None, str | None, str]:
    lead = desk.show(ref)
    return lead["followup_on"], lead["followup_time"], lead["followup_note"]


@pytest.fixture
def lead(desk: Desk) -> dict[str, Any]:
    return desk.add_lead({"name": "Ann Lee", "company": "Acme"})


# -- reading times -------------------------------------------------------------------------------
@pytest.mark.parametrize(("typed", "stored"), [
    ("14:30", "14:30"), ("9:05", "09:05"), ("0930", "09:30"), ("2pm", "14:00"), ("2:30 PM", "14:30"),
    ("12am", "00:00"), ("12pm", "12:00"), ("14h", "14:00"), ("noon", "12:00"), ("9.15", "09:15"), ("7", "07:00"),
])
def test_times_are_read_in_the_usual_forms(typed: str, stored: str) -> None:
    assert followups.parse_time(typed) == stored


@pytest.mark.parametrize("typed", ["24:00", "13pm", "0am", "2:3", "14:60", "soon", "", "٢:٣٠", "1:30:00"])
def test_a_time_that_is_not_one_is_refused_in_one_line(typed: str) -> None:
    with pytest.raises(RuleError) as err:
        followups.parse_time(typed)
    assert str(err.value).startswith("follow-up time: can't read time") and "\n" not in str(err.value)


@pytest.mark.parametrize(("typed", "split"), [
    ("tomorrow 14:30", ("tomorrow", "14:30")), ("fri at 2pm", ("fri", "2pm")), ("14:30", ("today", "14:30")),
    ("next week", ("next week", None)), ("+3d", ("+3d", None)), ("2026-12-01", ("2026-12-01", None)),
])
def test_a_date_may_end_with_a_time(typed: str, split: tuple[str, str | None]) -> None:
    assert followups.split_when(typed) == split


# -- setting, keeping, clearing ------------------------------------------------------------------
def test_date_time_and_note_are_set_together_and_the_result_says_how_it_stands(desk: Desk, lead: Any) -> None:
    detail = desk.set_followup("1", "tomorrow", at="2pm", note="  call about the quote ")
    assert followup_of(desk) == ("2026-11-27", "14:00", "call about the quote")
    assert (detail["followup_due"], detail["followup_words"]) == ("upcoming", "tomorrow")
    detail = desk.set_followup("1", "monday 9:30")  # the time typed with the date; the note is kept
    assert followup_of(desk) == ("2026-11-30", "09:30", "call about the quote")
    assert detail["followup_words"] == "in 4 days"


def test_a_new_date_keeps_time_and_note_unless_given(desk: Desk, lead: Any) -> None:
    desk.set_followup("1", "tomorrow", at="14:30", note="quote")
    desk.set_followup("1", "+1w")
    assert followup_of(desk) == ("2026-12-03", "14:30", "quote")
    desk.set_followup("1", "+1w", at="none", note="")
    assert followup_of(desk) == ("2026-12-03", None, "")


def test_a_past_date_is_accepted_and_said_to_be_overdue(desk: Desk, lead: Any) -> None:
    detail = desk.set_followup("1", "2026-11-20")
    assert detail["followup_on"] == "2026-11-20"
    assert (detail["followup_due"], detail["followup_words"]) == ("overdue", "6 days overdue")
    detail = desk.set_followup("1", "today", at="11:00")
    assert (detail["followup_due"], detail["followup_words"]) == ("overdue", "today, overdue")


@pytest.mark.parametrize("word", [None, "", "none", "NONE", "clear", "-"])
def test_none_clears_date_time_and_note(desk: Desk, lead: Any, word: str | None) -> None:
    desk.set_followup("1", "tomorrow", at="14:30", note="quote")
    detail = desk.set_followup("1", word)
    assert followup_of(desk) == (None, None, "")
    assert (detail["followup_due"], detail["followup_words"]) == (None, "no follow-up")


@pytest.mark.parametrize(("when", "options", "message"), [
    ("whenever", {}, "follow-up: can't read date 'whenever'"),
    ("tomorrow", {"at": "25:00"}, "follow-up time: can't read time '25:00'"),
    ("tomorrow 14:30", {"at": "15:00"}, "give the follow-up time once: '14:30' in the date, or --at"),
    ("none", {"note": "call"}, "a follow-up time or note needs a follow-up date"),
    ("none", {"at": "14:00"}, "a follow-up time or note needs a follow-up date"),
    ("tomorrow", {"note": "x" * 1001}, "the follow-up note is too long (1001 characters; the limit is 1000)"),
    ("tomorrow", {"note": "a\x00b"}, "the follow-up note contains a NUL character"),
])
def test_refusals_change_nothing(desk: Desk, lead: Any, when: str, options: dict[str, str], message: str) -> None:
    desk.set_followup("1", "2026-12-01", at="10:00", note="keep me")
    with pytest.raises(RuleError) as err:
        desk.set_followup("1", when, **options)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)
    assert followup_of(desk) == ("2026-12-01", "10:00", "keep me")


def test_a_stale_version_is_a_conflict(desk: Desk, lead: Any) -> None:
    desk.set_followup("1", "tomorrow")
    with pytest.raises(Conflict):
        desk.set_followup("1", "+2d", expected_version=1)
    with pytest.raises(Conflict):
        desk.followup_done("1", expected_version=1)


# -- history and undo ------------------------------------------------------------------------------
def test_history_records_every_change(desk: Desk, lead: Any) -> None:
    desk.set_followup("1", "tomorrow", at="14:30", note="quote")
    desk.set_followup("1", "+2d")
    desk.set_followup("1", "none")
    rows = [(h["action"], h["field"], h["old"], h["new"]) for h in desk.history("1") if h["action"] == "followup"]
    assert rows == [
        ("followup", "followup", None, "2026-11-27"), ("followup", "followup_time", None, "14:30"),
        ("followup", "followup_note", "", "quote"),
        ("followup", "followup", "2026-11-27", "2026-11-28"),
        ("followup", "followup", "2026-11-28", None), ("followup", "followup_time", "14:30", None),
        ("followup", "followup_note", "quote", ""),
    ]
    assert desk.undo("1")["followup_on"] == "2026-11-28"  # the clearing, undone as one change
    assert followup_of(desk) == ("2026-11-28", "14:30", "quote")


# -- done ------------------------------------------------------------------------------------------
def test_done_logs_a_note_clears_the_follow_up_and_calls_the_sequences(desk: Desk, lead: Any,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from leaddesk.store import sequences

    called: list[tuple[int, Any]] = []

    def followup_done(ctx: Any, lead: dict[str, Any]) -> dict[str, Any]:
        called.append((lead["number"], lead["followup_on"]))  # after the clearing, in the same change
        return lead

    monkeypatch.setattr(sequences, "followup_done", followup_done)
    desk.set_followup("1", "today", at="9am", note="call about the quote")
    detail = desk.followup_done("1", "reached her, quote sent")
    assert called == [(1, None)]
    assert followup_of(desk) == (None, None, "")
    assert detail["followup_due"] is None
    assert [(a["kind"], a["body"]) for a in detail["activities"]] == [
        ("note", "follow-up done: reached her, quote sent")]
    rows = [(h["action"], h["field"]) for h in desk.history("1")][-4:]
    assert rows == [("note", "activity"), ("followup", "followup"), ("followup", "followup_time"),
                    ("followup", "followup_note")]
    assert len({h["change_id"] for h in desk.history("1")[-4:]}) == 1  # one change
    undone = desk.undo("1")  # brings the follow-up back and takes the note away
    assert (undone["followup_on"], undone["followup_time"], undone["activities"]) == ("2026-11-26", "09:00", [])


def test_done_without_a_note_says_the_follow_ups_own(desk: Desk, lead: Any) -> None:
    desk.set_followup("1", "tomorrow", note="send the brochure")
    assert desk.followup_done("1")["activities"][0]["body"] == "follow-up done: send the brochure"
    desk.set_followup("1", "tomorrow")
    assert desk.followup_done("1", "  ")["activities"][0]["body"] == "follow-up done"


def test_done_needs_a_follow_up(desk: Desk, lead: Any) -> None:
    with pytest.raises(RuleError, match=r"^lead 1 has no follow-up to mark done$"):
        desk.followup_done("1")
    assert desk.show("1")["activities"] == []


# -- the edit path (card form, `edit`, import) -------------------------------------------------------
def test_edits_follow_the_same_rules(desk: Desk, lead: Any) -> None:
    desk.edit_lead("1", {"followup": "+2d", "followup_time": "2pm", "followup_note": "demo"})
    assert followup_of(desk) == ("2026-11-28", "14:00", "demo")
    desk.edit_lead("1", {"followup": ""})  # no date: no time, no note
    assert followup_of(desk) == (None, None, "")
    with pytest.raises(RuleError, match="a follow-up time or note needs a follow-up date"):
        desk.edit_lead("1", {"followup_time": "9:00"})
    with pytest.raises(RuleError, match=r"^Follow-up time: can't read time 'lunch'"):
        desk.edit_lead("1", {"followup": "tomorrow", "followup_time": "lunch"})
    with pytest.raises(RuleError, match="a follow-up time or note needs a follow-up date"):
        desk.add_lead({"name": "Bob", "followup_note": "call"})
    added = desk.add_lead({"name": "Cy", "followup": "friday", "followup_time": "8:15"})
    assert (added["followup_on"], added["followup_time"]) == ("2026-11-27", "08:15")


# -- time zones and the minute -------------------------------------------------------------------
@pytest.mark.parametrize(("zone", "tomorrow", "due_today"), [
    (None, "2026-11-27", "2026-11-26"),  # fixed clock, no zone: UTC
    ("Pacific/Auckland", "2026-11-28", "2026-11-27"),  # 01:00 on Friday 27th there
    ("America/Los_Angeles", "2026-11-27", "2026-11-26"),  # 04:00 on Thursday 26th there
])
def test_dates_are_the_desks_local_dates(open_desk: DeskFactory, zone: str | None, tomorrow: str,
                                         due_today: str) -> None:
    desk = open_desk(preset="sales", settings=Settings(timezone=zone))
    desk.add_lead({"name": "Ann"})
    assert desk.set_followup("1", "tomorrow")["followup_on"] == tomorrow
    desk.set_followup("1", due_today)
    assert numbers(desk, due="today") == [1] and numbers(desk, due="overdue") == []
    assert desk.show("1")["followup_due"] == "today"


def test_the_time_of_day_is_in_the_desks_zone(open_desk: DeskFactory) -> None:
    desk = open_desk(preset="sales", settings=Settings(timezone="Europe/Rome"))  # 13:00 there
    for name in ("Early", "Now", "Later"):
        desk.add_lead({"name": name})
    desk.set_followup("1", "today", at="12:59")
    desk.set_followup("2", "today", at="13:00")
    desk.set_followup("3", "today", at="13:01")
    assert [desk.show(n)["followup_due"] for n in "123"] == ["overdue", "today", "today"]
    assert numbers(desk, due="overdue") == [1]
    assert numbers(desk, due="today") == [1, 2, 3]
    clock.freeze(datetime(2026, 11, 26, 12, 1, tzinfo=UTC))
    assert numbers(desk, due="overdue") == [1, 2]


def test_a_closed_lead_is_never_overdue(desk: Desk, lead: Any) -> None:
    desk.set_followup("1", "2026-11-01", at="9:00")
    desk.mark_lost("1", "budget")
    assert numbers(desk, due="overdue") == [] and numbers(desk, due="by-today") == []
    assert desk.show("1")["followup_due"] is None
    assert desk.agenda(LeadFilter()) == []


def test_an_unknown_time_zone_is_refused_in_one_line(tmp_path: Any) -> None:
    config = tmp_path / "c.toml"
    config.write_text('timezone = "Mars/Olympus"\n')
    with pytest.raises(RuleError) as err:
        load_settings(config)
    assert "timezone 'Mars/Olympus' is not a known time zone" in str(err.value) and "\n" not in str(err.value)
    config.write_text('timezone = "Asia/Tokyo"\n')
    assert load_settings(config).timezone == "Asia/Tokyo"


# -- the agenda --------------------------------------------------------------------------------------
@pytest.fixture
def agenda_desk(desk: Desk, open_desk: DeskFactory) -> Desk:
    """Follow-ups of ann (1-7) and bob (8) around Thursday 26 November 12:00, and a lead without one (9)."""
    desk.add_user("bob")
    plan = [("2026-11-20", None), ("today", "9:00"), ("today", "15:00"), ("today", None), ("tomorrow", "8:00"),
            ("monday", None), ("2026-12-24", "10:00"), ("today", "10:00"), (None, None)]
    for i, (when, at) in enumerate(plan, start=1):
        desk.add_lead({"name": f"Lead {i}", **({"owner": "bob"} if i == 8 else {})})
        if when:
            desk.set_followup(str(i), when, at=at, note=f"note {i}")
    return desk


def test_the_agenda_is_in_time_order_under_day_groups(agenda_desk: Desk) -> None:
    desk = agenda_desk
    rows = desk.agenda(LeadFilter(limit=None))
    assert [(r["number"], r["bucket"], r["due"]) for r in rows] == [
        (1, "overdue", "overdue"), (2, "overdue", "overdue"), (8, "overdue", "overdue"),
        (3, "2026-11-26", "today"), (4, "2026-11-26", "today"),
        (5, "2026-11-27", "upcoming"), (6, "2026-11-30", "upcoming"), (7, "later", "upcoming")]
    assert rows[3]["followup_time"] == "15:00" and rows[3]["followup_note"] == "note 3"
    groups = desk.agenda_groups(LeadFilter())
    assert [(g["label"], g["count"], g["offset"]) for g in groups] == [
        ("Overdue", 3, 0), ("Today", 2, 3), ("Tomorrow", 1, 5), ("Monday 30 Nov", 1, 6), ("Later", 1, 7)]
    assert [r["day"] for r in rows][3:] == ["Today", "Today", "Tomorrow", "Monday 30 Nov", "Later"]
    # a page starts where the offsets say
    page = desk.agenda(LeadFilter(limit=2, offset=3))
    assert [r["number"] for r in page] == [3, 4]
    # mine, and the due windows
    assert [r["number"] for r in desk.agenda(LeadFilter(mine=True, limit=None))] == [1, 2, 3, 4, 5, 6, 7]
    assert [g["count"] for g in desk.agenda_groups(LeadFilter(mine=True))] == [2, 2, 1, 1, 1]
    assert [r["number"] for r in desk.agenda(LeadFilter(due="by-today", limit=None))] == [1, 2, 8, 3, 4]
    assert [r["number"] for r in desk.agenda(LeadFilter(due="by-week", limit=None))] == [1, 2, 8, 3, 4, 5]
    assert [r["number"] for r in desk.agenda(LeadFilter(due="overdue", limit=None))] == [1, 2, 8]
    assert desk.count_leads(LeadFilter(due="any")) == 8


# -- reminders ---------------------------------------------------------------------------------------
def test_reminders_count_mine_and_report_what_came_due(agenda_desk: Desk) -> None:
    desk = agenda_desk
    first = desk.followup_reminders()
    assert (first["overdue"], first["today"], first["coming"], first["until"]) == (2, 2, [], "2026-11-26T12:00")
    clock.freeze(datetime(2026, 11, 26, 15, 0, 30, tzinfo=UTC))
    later = desk.followup_reminders(first["until"])
    assert [(r["number"], r["followup_time"], r["followup_note"]) for r in later["coming"]] == [(3, "15:00", "note 3")]
    assert (later["overdue"], later["today"], later["until"]) == (2, 2, "2026-11-26T15:00")
    assert desk.followup_reminders(later["until"])["coming"] == []  # told once
    clock.freeze(datetime(2026, 11, 26, 15, 1, tzinfo=UTC))
    assert desk.followup_reminders(later["until"])["overdue"] == 3
    # across midnight, into tomorrow's 08:00
    clock.freeze(datetime(2026, 11, 27, 8, 0, tzinfo=UTC))
    overnight = desk.followup_reminders("2026-11-26T23:59")
    assert [r["number"] for r in overnight["coming"]] == [5]


def test_the_reminders_of_someone_unknown_are_empty(desk: Desk, open_desk: DeskFactory) -> None:
    other = open_desk(login="zed", settings=replace(Settings(), auto_create_users=True))
    assert other.followup_reminders()["overdue"] == 0
