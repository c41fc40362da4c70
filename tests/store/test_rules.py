"""The pure workflow rules in `leaddesk.store.rules`: names, parsing of user values, status checks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from leaddesk.store.errors import Conflict, LeadDeskError, NeedsChoice, NotFound, RuleError
from leaddesk.store.rules import (
    StatusInfo,
    check_allowed_for_type,
    check_job_value_edit,
    check_lost,
    check_pick,
    check_qualify,
    check_reopen,
    check_won,
    first_of,
    fold_name,
    format_money,
    parse_bant,
    parse_money,
    parse_priority,
    parse_probability,
    parse_tags,
    resolve_name,
    resolve_status,
    split_name,
    why_not_by_hand,
)

SALES = ["New", "Attempted to contact", "Contacted", "Engaged", "Qualified", "Converted", "Disqualified"]

NEW = StatusInfo(1, "New", "open", 0, True)
CONTACTED = StatusInfo(2, "Contacted", "open", 1, True)
QUALIFIED = StatusInfo(3, "Qualified", "qualified", 2, False)
CONVERTED = StatusInfo(4, "Converted", "won", 3, False)
DISQUALIFIED = StatusInfo(5, "Disqualified", "lost", 4, False)
HIDDEN = StatusInfo(6, "Hidden", "open", 5, False)
STATUSES = [NEW, CONTACTED, QUALIFIED, CONVERTED, DISQUALIFIED]


# --- errors -----------------------------------------------------------------------------------


def test_error_exit_codes() -> None:
    assert RuleError("x").exit_code == 1
    assert NotFound("x").exit_code == 3
    assert Conflict("x").exit_code == 4
    assert issubclass(NeedsChoice, RuleError)
    assert NeedsChoice("x", [{"id": 1}]).exit_code == 1
    assert all(issubclass(cls, LeadDeskError) for cls in (RuleError, NotFound, Conflict))


def test_conflict_carries_who_when_and_fields() -> None:
    exc = Conflict("changed", by="bob", at="2026-11-26T12:00:00", fields={"city": "Paris"})
    assert (exc.by, exc.at, exc.fields, str(exc)) == ("bob", "2026-11-26T12:00:00", {"city": "Paris"}, "changed")
    assert Conflict("changed").fields == {}


# --- fold_name / resolve_name -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Attempted to contact", "attempted to contact"),
        ("attempted-to-contact", "attempted to contact"),
        ("ATTEMPTED_TO_CONTACT", "attempted to contact"),
        ("  Attempted   to\tcontact  ", "attempted to contact"),
        ("attempted_-_contact", "attempted contact"),
        ("Straße", "strasse"),
        ("", ""),
        ("--__  ", ""),
    ],
)
def test_fold_name(text: str, folded: str) -> None:
    assert fold_name(text) == folded


@pytest.mark.parametrize(
    "text",
    ["Attempted to contact", "attempted to contact", "attempted-to-contact", "ATTEMPTED_TO_CONTACT",
     "attempted", "Attempted_to", "att", "  ATT  "],
)
def test_resolve_name_exact_folded_or_unique_prefix(text: str) -> None:
    assert resolve_name(text, SALES, "status") == "Attempted to contact"


def test_resolve_name_exact_match_beats_a_longer_name_with_the_same_prefix() -> None:
    assert resolve_name("new", ["New", "Newsletter"], "source") == "New"
    assert resolve_name("news", ["New", "Newsletter"], "source") == "Newsletter"


def test_resolve_name_ambiguous_prefix_lists_the_candidates() -> None:
    with pytest.raises(RuleError) as info:
        resolve_name("con", SALES, "status")
    assert str(info.value) == "status 'con' is ambiguous: it could be Contacted, Converted"


def test_resolve_name_unknown_lists_every_option() -> None:
    with pytest.raises(RuleError) as info:
        resolve_name("won", SALES, "status")
    assert str(info.value) == ("unknown status 'won': choose from New, Attempted to contact, Contacted, Engaged,"
                               " Qualified, Converted, Disqualified")


@pytest.mark.parametrize("text", ["", "   ", "-_-"])
def test_resolve_name_nothing_given(text: str) -> None:
    with pytest.raises(RuleError, match=r"^no lost reason given: choose from Budget, Not a fit$"):
        resolve_name(text, ["Budget", "Not a fit"], "lost reason")


def test_resolve_name_prefix_must_start_at_the_beginning() -> None:
    with pytest.raises(RuleError, match="unknown status 'tacted'"):
        resolve_name("tacted", SALES, "status")


def test_resolve_status_returns_the_status() -> None:
    assert resolve_status("dis", STATUSES) is DISQUALIFIED
    assert resolve_status("NEW", STATUSES) is NEW


# --- status checks ----------------------------------------------------------------------------


def test_first_of_each_category_by_position() -> None:
    later_open = StatusInfo(9, "Later", "open", -1, True)
    assert first_of("open", STATUSES) is NEW
    assert first_of("open", [*STATUSES, later_open]) is later_open
    assert first_of("won", STATUSES) is CONVERTED
    assert first_of("qualified", [NEW, CONVERTED]) is None


def test_closed_is_won_or_lost() -> None:
    assert [s.closed for s in STATUSES] == [False, False, False, True, True]


def test_check_pick_open_status_is_a_status_change_or_a_reopen() -> None:
    assert check_pick(NEW, CONTACTED) == "status"
    assert check_pick(QUALIFIED, CONTACTED) == "reopen"
    assert check_pick(CONVERTED, NEW) == "reopen"
    assert check_pick(DISQUALIFIED, NEW) == "reopen"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (QUALIFIED, "'Qualified' is reached only by qualifying the lead (it links a customer and opens a deal)"),
        (CONVERTED, "'Converted' needs a job value: mark the lead won with its value, or win its deal"),
        (DISQUALIFIED, "'Disqualified' needs a reason: mark the lead lost with a reason"),
        (HIDDEN, "'Hidden' cannot be picked by hand"),
    ],
)
def test_check_pick_refuses_statuses_reached_by_actions(target: StatusInfo, message: str) -> None:
    with pytest.raises(RuleError) as info:
        check_pick(NEW, target)
    assert str(info.value) == message
    assert why_not_by_hand(target) == message


def test_check_reopen() -> None:
    check_reopen(CONVERTED, NEW)
    check_reopen(DISQUALIFIED, CONTACTED)
    check_reopen(NEW, CONTACTED)  # "at any time"
    with pytest.raises(RuleError, match=r"^a lead is reopened to an open status, not 'Qualified'$"):
        check_reopen(CONVERTED, QUALIFIED)
    with pytest.raises(RuleError, match=r"^the lead is already 'New'$"):
        check_reopen(NEW, NEW)


@pytest.mark.parametrize("cents", [None, 0, -1])
def test_check_won_needs_a_positive_value(cents: int | None) -> None:
    with pytest.raises(RuleError, match=r"^a won lead needs a job value greater than 0$"):
        check_won(NEW, cents)


def test_check_won() -> None:
    check_won(NEW, 1)
    check_won(DISQUALIFIED, 100)
    with pytest.raises(RuleError, match=r"^the lead is already 'Converted'; edit its job value instead$"):
        check_won(CONVERTED, 100)


def test_check_lost() -> None:
    check_lost(NEW, "Budget")
    check_lost(CONVERTED, "Budget")
    for reason in (None, "", "   "):
        with pytest.raises(RuleError, match=r"^a lost lead needs a reason$"):
            check_lost(NEW, reason)
    with pytest.raises(RuleError, match=r"^the lead is already 'Disqualified'$"):
        check_lost(DISQUALIFIED, "Budget")


def test_check_qualify_only_open() -> None:
    check_qualify(NEW)
    for current in (QUALIFIED, CONVERTED, DISQUALIFIED):
        with pytest.raises(RuleError) as info:
            check_qualify(current)
        assert str(info.value) == (f"only an open lead can be qualified; this one is '{current.name}'"
                                   " (reopen it first)")


def test_check_job_value_edit() -> None:
    check_job_value_edit(CONVERTED, 5)
    for current in (NEW, QUALIFIED, DISQUALIFIED):
        with pytest.raises(RuleError, match=r"^the job value can be entered only on a won lead$"):
            check_job_value_edit(current, 5)
    for cents in (None, 0, -5):
        with pytest.raises(RuleError, match="greater than 0"):
            check_job_value_edit(CONVERTED, cents)


def test_check_allowed_for_type() -> None:
    check_allowed_for_type(CONVERTED, "Inbound", [])  # no list: every status
    check_allowed_for_type(NEW, "Inbound", [NEW, CONTACTED])
    with pytest.raises(RuleError) as info:
        check_allowed_for_type(CONVERTED, "Inbound", [NEW, CONTACTED])
    assert str(info.value) == "status 'Converted' is not allowed for lead type 'Inbound' (allowed: New, Contacted)"


# --- parse_money / format_money ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1200", 120000),
        ("1,200.50", 120050),
        ("$900", 90000),
        ("€5", 500),
        ("£0.99", 99),
        (" $ 12.30 ", 1230),
        ("1_000", 100000),
        ("0", 0),
        ("0.01", 1),
        ("1e3", 100000),
        ("9999999999999.99", 999999999999999),
        (7, 700),
        (2.5, 250),
        (Decimal("3.10"), 310),
        ("", None),
        ("   ", None),
        ("$", None),
        (None, None),
    ],
)
def test_parse_money(text: str | int | float | Decimal | None, cents: int | None) -> None:
    assert parse_money(text) == cents


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "job value 'abc' is not a number"),
        ("12abc", "job value '12abc' is not a number"),
        ("1.2.3", "job value '1.2.3' is not a number"),
        ("nan", "job value 'nan' is not a number"),
        ("NaN", "job value 'NaN' is not a number"),
        ("inf", "job value 'inf' is not a number"),
        ("-Infinity", "job value '-Infinity' is not a number"),
        ("-5", "job value cannot be negative"),
        ("$-0.01", "job value cannot be negative"),
        (-3, "job value cannot be negative"),
        ("10000000000000", "job value '10000000000000' is too large"),
        ("1e20", "job value '1e20' is too large"),
    ],
)
def test_parse_money_refusals(text: str | int, message: str) -> None:
    with pytest.raises(RuleError) as info:
        parse_money(text, "job value")
    assert str(info.value) == message


def test_parse_money_default_label() -> None:
    with pytest.raises(RuleError, match=r"^amount 'x' is not a number$"):
        parse_money("x")


@pytest.mark.parametrize(("cents", "text"), [(None, ""), (0, "0.00"), (5, "0.05"), (123456789, "1,234,567.89")])
def test_format_money(cents: int | None, text: str) -> None:
    assert format_money(cents) == text


def test_money_round_trip() -> None:
    for text in ("0.05", "12.30", "1,234,567.89"):
        assert format_money(parse_money(text)) == text


# --- priority, probability, BANT, tags, names -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("3", 3), (" 2 ", 2), (1, 1), ("low", 0), ("Medium", 1), ("HIGH", 2), (" urgent ", 3)],
)
def test_parse_priority(text: str | int, value: int) -> None:
    assert parse_priority(text) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("4", "priority 4 must be between 0 and 3"),
        ("-1", "priority -1 must be between 0 and 3"),
        (7, "priority 7 must be between 0 and 3"),
        ("top", "priority 'top' must be 0-3 or low, medium, high, urgent"),
        ("1.5", "priority '1.5' must be 0-3 or low, medium, high, urgent"),
        ("", "priority '' must be 0-3 or low, medium, high, urgent"),
    ],
)
def test_parse_priority_refusals(text: str | int, message: str) -> None:
    with pytest.raises(RuleError) as info:
        parse_priority(text)
    assert str(info.value) == message


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("100", 100), ("50%", 50), (" 75 ", 75), (20, 20)])
def test_parse_probability(text: str | int, value: int) -> None:
    assert parse_probability(text) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("101", "probability 101 must be between 0 and 100"),
        ("-1", "probability -1 must be between 0 and 100"),
        ("50.5", "probability '50.5' must be a whole percentage 0-100"),
        ("half", "probability 'half' must be a whole percentage 0-100"),
        ("", "probability '' must be a whole percentage 0-100"),
    ],
)
def test_parse_probability_refusals(text: str, message: str) -> None:
    with pytest.raises(RuleError) as info:
        parse_probability(text)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("text", "answer"),
    [("yes", "yes"), ("Y", "yes"), ("true", "yes"), ("No", "no"), ("n", "no"), ("FALSE", "no"),
     ("unknown", "unknown"), ("?", "unknown"), ("", "unknown"), ("  ", "unknown"), (" YES ", "yes")],
)
def test_parse_bant(text: str, answer: str) -> None:
    assert parse_bant(text, "Budget") == answer


def test_parse_bant_refusal() -> None:
    with pytest.raises(RuleError) as info:
        parse_bant("maybe", "Bant budget")
    assert str(info.value) == "Bant budget must be yes, no or unknown, not 'maybe'"


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("vip, hot", "vip,hot"),
        (" a , b ,A,, c   d ", "a,b,c d"),
        ("Hot,hot,HOT", "Hot"),
        ("", ""),
        (",, ,", ""),
        ("x", "x"),
    ],
)
def test_parse_tags(text: str, tags: str) -> None:
    assert parse_tags(text) == tags


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("Ann Smith", ("Ann", "Smith")),
        ("Mary Ann  Smith", ("Mary Ann", "Smith")),
        ("  Cher ", ("Cher", None)),
        ("", (None, None)),
        ("   ", (None, None)),
    ],
)
def test_split_name(name: str, parts: tuple[str | None, str | None]) -> None:
    assert split_name(name) == parts


# --- messages are one line --------------------------------------------------------------------


def test_rule_messages_are_one_line() -> None:
    attempts = [
        lambda: resolve_name("con", SALES, "status"),
        lambda: resolve_name("zzz", SALES, "status"),
        lambda: resolve_name("", SALES, "status"),
        lambda: parse_money("12abc"),
        lambda: parse_money("-1"),
        lambda: parse_money("1e30"),
        lambda: parse_priority("x"),
        lambda: parse_priority(9),
        lambda: parse_probability("x"),
        lambda: parse_probability(200),
        lambda: parse_bant("perhaps", "Need"),
        lambda: check_pick(NEW, QUALIFIED),
        lambda: check_pick(NEW, CONVERTED),
        lambda: check_pick(NEW, DISQUALIFIED),
        lambda: check_reopen(NEW, NEW),
        lambda: check_won(NEW, None),
        lambda: check_lost(NEW, None),
        lambda: check_qualify(CONVERTED),
        lambda: check_job_value_edit(NEW, 5),
        lambda: check_allowed_for_type(CONVERTED, "Inbound", [NEW]),
    ]
    for attempt in attempts:
        with pytest.raises(RuleError) as info:
            attempt()
        message = str(info.value)
        assert message and "\n" not in message, message


def test_rule_messages_stay_one_line_when_the_input_has_a_newline() -> None:
    for attempt in (lambda: parse_money("12\nabc"), lambda: parse_priority("hi\ngh"),
                    lambda: resolve_name("new\nstatus", SALES, "status")):
        with pytest.raises(RuleError) as info:
            attempt()
        assert "\n" not in str(info.value)
