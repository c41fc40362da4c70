"""The lead list (filters, search, sort, paging, counts), lookups, and finding a lead from a reference."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from leaddesk import clock
from leaddesk.settings import CustomField, Settings
from leaddesk.store.desk import Desk
from leaddesk.store.errors import NotFound, RuleError
from leaddesk.store.queries import SORTABLE, LeadFilter

CUSTOM = {
    "industry": CustomField("industry", "choice", "Industry", ("Retail", "Software")),
    "employees": CustomField("employees", "number"),
    "vip": CustomField("vip", "bool"),
}

# Four leads; each sortable key orders them differently from their numbers (see `board`).
EXPECTED_ORDER = {
    "number": [1, 2, 3, 4],
    "contact": [2, 4, 3, 1],
    "company": [3, 4, 2, 1],
    "phone": [3, 1, 4, 2],
    "email": [4, 3, 2, 1],
    "source": [3, 2, 1, 4],
    "status": [4, 2, 1, 3],
    "priority": [2, 4, 1, 3],
    "deals": [1, 2, 4, 3],
    "owner": [3, 4, 1, 2],
    "followup": [3, 2, 4, 1],
    "created": [4, 2, 1, 3],
    "updated": [4, 1, 3, 2],
    "score": [1, 3, 2, 4],
    "value": [1, 4, 3, 2],
    "zone": [2, 1, 4, 3],
}


def at(hour: int, minute: int = 0) -> None:
    clock.freeze(datetime(2026, 11, 26, hour, minute, tzinfo=UTC))


@pytest.fixture
def board(open_desk: Any) -> Desk:
    """Ann's sales desk with four leads owned by cat, dan, ann and bob."""
    desk = open_desk(preset="sales", settings=Settings(custom_fields=CUSTOM))
    for login in ("bob", "cat", "dan"):
        desk.add_user(login)
    at(10)
    desk.add_lead({"name": "Dana Young", "company": "Gamma", "phone": "(212) 555-0102", "email": "zed@x.com",
                   "source": "referral", "priority": "2", "owner": "cat", "followup": "2026-12-05", "score": "10",
                   "expected_revenue": "100", "zone": "North", "type": "inbound",
                   "custom": {"industry": "retail", "vip": "yes"}}, status="engaged")
    at(9)
    desk.add_lead({"name": "alice Brown", "company": "delta", "phone": "(212) 555-0104", "email": "Mia@x.com",
                   "source": "event", "priority": "0", "owner": "dan", "followup": "2026-11-26", "score": "30",
                   "expected_revenue": "400", "type": "outbound", "custom": {"industry": "Software",
                                                                             "employees": "50"}},
                  status="attempted")
    at(11)
    desk.add_lead({"name": "Carl Smith", "company": "Alpha", "phone": "(212) 555-0101", "email": "kai@x.com",
                   "source": "cold call", "priority": "3", "owner": "ann", "followup": "2026-11-20", "score": "20",
                   "expected_revenue": "300", "zone": "West"})
    at(8)
    desk.add_lead({"name": "Bob Jones", "company": "beta", "phone": "(212) 555-0103", "email": "ada@x.com",
                   "source": "website", "priority": "1", "owner": "bob", "followup": "2026-11-29", "score": "40",
                   "expected_revenue": "200", "zone": "South", "type": "inbound",
                   "custom": {"industry": "RETAIL", "vip": "no"}})
    at(12)
    desk.qualify("3")
    at(12, 30)
    desk.edit_lead("2", {"zone": "East"})
    at(12)
    return desk


def numbers(desk: Desk, **options: Any) -> list[int]:
    return [row["number"] for row in desk.list_leads(LeadFilter(**options))]


# --- the list ----------------------------------------------------------------------------------


def test_list_rows(board: Desk) -> None:
    rows = board.list_leads(LeadFilter())
    assert [r["number"] for r in rows] == [1, 2, 3, 4]
    first = rows[0]
    assert {k: first[k] for k in ("contact_name", "company", "phone", "phone_e164", "email", "source", "status",
                                  "status_category", "owner", "type", "deals", "followup_on", "version")} == {
        "contact_name": "Dana Young", "company": "Gamma", "phone": "(212) 555-0102", "phone_e164": "+12125550102",
        "email": "zed@x.com", "source": "Referral", "status": "Engaged", "status_category": "open", "owner": "cat",
        "type": "Inbound", "deals": 0, "followup_on": "2026-12-05", "version": 1}
    assert (rows[2]["status"], rows[2]["status_category"], rows[2]["deals"]) == ("Qualified", "qualified", 1)


def test_an_empty_desk_lists_nothing(desk: Desk) -> None:
    assert desk.list_leads(LeadFilter()) == []
    assert desk.count_leads(LeadFilter()) == 0


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"statuses": ["new"]}, [4]),
        ({"statuses": ["NEW", "engaged"]}, [1, 4]),
        ({"statuses": ["attempted-to-contact"]}, [2]),
        ({"statuses": ["qual"]}, [3]),
        ({"statuses": ["converted"]}, []),
        ({"source": "referral"}, [1]),
        ({"source": "web"}, [4]),
        ({"zone": "north"}, [1]),
        ({"zone": "SOUTH"}, [4]),
        ({"zone": "Nowhere"}, []),
        ({"type": "inbound"}, [1, 4]),
        ({"type": "OUT"}, [2]),
        ({"owner": "bob"}, [4]),
        ({"owner": "nobody"}, []),
        ({"mine": True}, [3]),
        ({"mine": True, "owner": "bob"}, [3]),
        ({"state": "open"}, [1, 2, 3, 4]),
        ({"state": "closed"}, []),
        ({"due": "today"}, [2]),
        ({"due": "week"}, [2, 4]),
        ({"due": "overdue"}, [3]),
        ({"type": "inbound", "source": "web"}, [4]),
        ({"type": "inbound", "statuses": ["new", "engaged"], "zone": "north"}, [1]),
    ],
)
def test_filters(board: Desk, options: dict[str, Any], expected: list[int]) -> None:
    assert numbers(board, **options) == expected
    assert board.count_leads(LeadFilter(**options)) == len(expected)


def test_state_open_and_closed(board: Desk) -> None:
    board.mark_won("2", "10")
    board.mark_lost("4", "budget")
    assert numbers(board, state="open") == [1, 3]
    assert numbers(board, state="closed") == [2, 4]
    assert numbers(board, due="overdue") == [3]
    board.mark_lost("3", "budget")
    assert numbers(board, due="overdue") == []  # a closed lead is never overdue
    assert numbers(board, due="today") == [2]  # but its follow-up still shows on the day


def test_due_follows_the_clock(board: Desk) -> None:
    clock.freeze(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))  # the Monday after
    assert numbers(board, due="today") == []
    assert numbers(board, due="overdue") == [2, 3, 4]
    assert numbers(board, due="week") == [1]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"statuses": ["con"]}, "status 'con' is ambiguous: it could be Contacted, Converted"),
        ({"statuses": ["gone"]}, "unknown status 'gone': choose from "),
        ({"source": "tv"}, "unknown source 'tv': choose from "),
        ({"type": "walk-in"}, "unknown lead type 'walk-in': choose from Inbound, Outbound"),
        ({"state": "pending"}, "state 'pending' must be open or closed"),
        ({"due": "tomorrow"}, "due 'tomorrow' must be one of today, week, overdue"),
        ({"custom": {"colour": "red"}}, "unknown custom field 'colour'"),
        ({"sort": "colour"}, "unknown sort column 'colour': choose from number, contact, company,"),
        ({"sort": "s"}, "sort column 's' is ambiguous: it could be source, status, score"),
    ],
)
def test_bad_filters_are_refused(board: Desk, options: dict[str, Any], message: str) -> None:
    with pytest.raises(RuleError) as err:
        board.list_leads(LeadFilter(**options))
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)
    if "sort" not in options:
        with pytest.raises(RuleError):
            board.count_leads(LeadFilter(**options))


# --- search ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dana", [1]),
        ("ALICE", [2]),
        ("  smith ", [3]),
        ("gam", [1]),
        ("DELTA", [2]),
        ("0103", [4]),
        ("555-0104", [2]),
        ("(212) 555-0101", [3]),
        ("+1 212 555 0102", [1]),
        ("kai@", [3]),
        ("MIA@X", [2]),
        ("x.com", [1, 2, 3, 4]),
        ("#2", [2]),
        ("4", [4]),
        ("zzz", []),
        ("%", []),
        ("_", []),
        ("", [1, 2, 3, 4]),
        ("   ", [1, 2, 3, 4]),
    ],
)
def test_search(board: Desk, text: str, expected: list[int]) -> None:
    assert numbers(board, search=text) == expected
    assert board.count_leads(LeadFilter(search=text)) == len(expected)


def test_search_combines_with_filters(board: Desk) -> None:
    assert numbers(board, search="x.com", type="inbound") == [1, 4]
    assert numbers(board, search="555", statuses=["new"]) == [4]


def test_search_finds_the_title(desk: Desk) -> None:
    desk.add_lead({"name": "Ann", "title": "Roof repair"})
    desk.add_lead({"name": "Bo", "item": "training"})
    assert numbers(desk, search="roof") == [1]
    assert numbers(desk, search="TRAIN") == [2]


def test_search_is_case_insensitive_for_non_ascii_names(desk: Desk) -> None:
    desk.add_lead({"name": "Élodie Durand", "company": "Ölwerk"})
    assert numbers(desk, search="élodie") == [1]
    assert numbers(desk, search="ölwerk") == [1]


# --- custom fields -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("custom", "expected"),
    [
        ({"industry": "retail"}, [1, 4]),
        ({"industry": "SOFTWARE"}, [2]),
        ({"employees": "50"}, [2]),
        ({"industry": "retail", "employees": "50"}, []),
    ],
)
def test_custom_field_filters(board: Desk, custom: dict[str, str], expected: list[int]) -> None:
    assert numbers(board, custom=custom) == expected
    assert board.count_leads(LeadFilter(custom=custom)) == len(expected)


def test_a_custom_filter_value_is_read_by_the_field_type(board: Desk) -> None:
    with pytest.raises(RuleError, match="Industry must be one of Retail, Software, not 'Health'"):
        numbers(board, custom={"industry": "Health"})


def test_custom_bool_filter_takes_yes_and_no(board: Desk) -> None:
    assert numbers(board, custom={"vip": "yes"}) == [1]
    assert numbers(board, custom={"vip": "no"}) == [4]


# --- sort and pages ----------------------------------------------------------------------------


def test_every_sortable_key_is_covered() -> None:
    assert set(EXPECTED_ORDER) == set(SORTABLE)


@pytest.mark.parametrize("key", list(SORTABLE))
def test_sort_by_each_key_both_ways(board: Desk, key: str) -> None:
    assert numbers(board, sort=key) == EXPECTED_ORDER[key]
    assert numbers(board, sort=key, descending=True) == EXPECTED_ORDER[key][::-1]


def test_sort_key_by_prefix_or_case(board: Desk) -> None:
    assert numbers(board, sort="comp") == EXPECTED_ORDER["company"]
    assert numbers(board, sort="FOLLOW") == EXPECTED_ORDER["followup"]


def test_ties_are_broken_by_number(desk: Desk) -> None:
    for name in ("A", "B", "C"):
        desk.add_lead({"name": name, "zone": "Same"})
    assert numbers(desk, sort="zone") == [1, 2, 3]
    assert numbers(desk, sort="zone", descending=True) == [3, 2, 1]


def test_empty_values_sort_first_ascending(desk: Desk) -> None:
    desk.add_lead({"name": "A", "company": "Beta"})
    desk.add_lead({"name": "B"})
    desk.add_lead({"name": "C", "company": "alpha"})
    assert numbers(desk, sort="company") == [2, 3, 1]


@pytest.mark.parametrize(
    ("limit", "offset", "descending", "expected"),
    [
        (2, 0, False, [1, 2]),
        (2, 2, False, [3, 4]),
        (3, 2, False, [3, 4]),
        (2, 4, False, []),
        (None, 0, False, [1, 2, 3, 4]),
        (1, 0, True, [4]),
        (2, 1, True, [3, 2]),
    ],
)
def test_pages(board: Desk, limit: int | None, offset: int, descending: bool, expected: list[int]) -> None:
    assert numbers(board, limit=limit, offset=offset, descending=descending) == expected
    assert board.count_leads(LeadFilter(limit=limit, offset=offset)) == 4


def test_pages_follow_the_sort_and_filters(board: Desk) -> None:
    assert numbers(board, sort="contact", limit=2) == [2, 4]
    assert numbers(board, sort="contact", limit=2, offset=2) == [3, 1]
    assert numbers(board, type="inbound", limit=1, offset=1) == [4]


def test_the_default_page_is_100(desk: Desk) -> None:
    with desk.db.write() as tx:
        status = tx.scalar("SELECT id FROM status WHERE name = 'New'")
        for n in range(1, 106):
            tx.execute("INSERT INTO lead (number, contact_name, status_id) VALUES (:n, :c, :s)",
                       {"n": n, "c": f"Lead {n}", "s": status})
    assert len(desk.list_leads(LeadFilter())) == 100
    assert desk.count_leads(LeadFilter()) == 105
    assert numbers(desk, offset=100) == [101, 102, 103, 104, 105]


# --- lead references ---------------------------------------------------------------------------


@pytest.mark.parametrize("ref", ["2", "#2", " 2 ", "MIA@X.COM", "mia@x.com", "212-555-0104", "+1 212 555 0104",
                                 "2125550104", "(212)555.0104"])
def test_a_lead_by_number_email_or_phone(board: Desk, ref: str) -> None:
    assert board.show(ref)["number"] == 2


@pytest.mark.parametrize("ref", ["99", "#7", "nobody@x.com", "(212) 555-0199", "gamma", "+44 20 7946 0018"])
def test_an_unknown_reference(board: Desk, ref: str) -> None:
    with pytest.raises(NotFound) as err:
        board.show(ref)
    assert (str(err.value), err.value.exit_code) == (f"no lead matches '{ref}'", 3)
    with pytest.raises(NotFound):
        board.set_status(ref, "contacted")


def test_a_shared_phone_asks_for_the_number(board: Desk, snapshot: Any) -> None:
    board.add_lead({"name": "Colleague", "phone": "212.555.0101"}, force=True)
    before = snapshot(board)
    with pytest.raises(RuleError) as err:
        board.set_status("(212) 555-0101", "contacted")
    assert str(err.value) == "'(212) 555-0101' matches several leads (3, 5): use the lead number"
    assert err.value.exit_code == 1
    assert snapshot(board) == before
    assert board.show("5")["contact_name"] == "Colleague"


def test_a_shared_email_asks_for_the_number(board: Desk) -> None:
    board.add_lead({"name": "Colleague", "email": "KAI@x.com"}, force=True)
    with pytest.raises(RuleError, match=r"^'kai@X.com' matches several leads \(3, 5\): use the lead number$"):
        board.show("kai@X.com")
    with pytest.raises(RuleError, match=r"matches several leads \(3, 5\)"):
        board.history("kai@x.com")


def test_an_unparseable_phone_is_found_as_typed(desk: Desk) -> None:
    desk.add_lead({"name": "Ann", "phone": "ask reception"})
    assert desk.show("ask reception")["number"] == 1
    with pytest.raises(NotFound):
        desk.show("ASK RECEPTION")


def test_a_long_number_that_is_not_a_lead_is_read_as_a_phone(board: Desk) -> None:
    assert board.show("2125550103")["number"] == 4
    with pytest.raises(NotFound, match=r"^no lead matches '12'$"):
        board.show("12")


@pytest.mark.parametrize("ref", ["²", "#³"])
def test_a_non_decimal_digit_reference_is_not_found(board: Desk, ref: str) -> None:
    with pytest.raises(NotFound):
        board.show(ref)


def test_search_for_a_non_decimal_digit(board: Desk) -> None:
    assert numbers(board, search="²") == []


# --- lookup ------------------------------------------------------------------------------------


def test_lookup_by_phone_or_email(board: Desk) -> None:
    found = board.lookup("212 555 0101")
    assert [r["number"] for r in found["leads"]] == [3]
    assert [c["name"] for c in found["customers"]] == ["Alpha"]
    found = board.lookup("  ADA@X.COM ")
    assert ([r["number"] for r in found["leads"]], found["customers"]) == ([4], [])
    assert board.lookup("(212) 555-0199") == {"leads": [], "customers": []}


def test_lookup_refuses_what_it_cannot_read(board: Desk) -> None:
    with pytest.raises(RuleError) as err:
        board.lookup("hello")
    assert str(err.value) == "'hello' is neither an email nor a phone number I can read"
