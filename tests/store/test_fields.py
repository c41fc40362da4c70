"""Lead fields: validation and normalisation (email, phone, names, typed fields, custom fields),
nothing half-written on refusal, and the lead's life: copy, delete, follow-ups, activities."""

from __future__ import annotations

from typing import Any

import pytest

from leaddesk.settings import CustomField, Settings
from leaddesk.store.desk import Desk
from leaddesk.store.errors import NotFound, RuleError
from leaddesk.store.leads import COPY_COLUMNS

CUSTOM = {
    "employees": CustomField("employees", "number", "Employees"),
    "renewal": CustomField("renewal", "date", "Renewal"),
    "vip": CustomField("vip", "bool"),
    "industry": CustomField("industry", "choice", "Industry", ("Retail", "Software", "Health")),
    "notes": CustomField("notes", "text"),
}


@pytest.fixture
def cdesk(open_desk: Any) -> Desk:
    """A sales desk whose settings define custom fields."""
    return open_desk(preset="sales", settings=Settings(custom_fields=CUSTOM))


# --- email -------------------------------------------------------------------------------------


def test_email_is_kept_as_typed_and_matched_lower_case(desk: Desk) -> None:
    lead = desk.add_lead({"name": "Ann", "email": "  Ann.Lee@Example.COM "})
    assert (lead["email"], lead["email_lower"]) == ("Ann.Lee@Example.COM", "ann.lee@example.com")


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("not-an-email", "email 'not-an-email' is not valid: An email address must have an @-sign."),
        ("ann@example", "email 'ann@example' is not valid: The part after the @-sign is not valid."),
        ("a@@b.com", "email 'a@@b.com' is not valid: "),
        ("ann lee@example.com", "email 'ann lee@example.com' is not valid: "),
    ],
)
def test_a_bad_email_is_refused_and_nothing_written(desk: Desk, snapshot: Any, count: Any, email: str,
                                                    message: str) -> None:
    before = snapshot(desk)
    with pytest.raises(RuleError) as err:
        desk.add_lead({"name": "Ann", "email": email})
    assert str(err.value).startswith(message)
    assert count(desk, "lead") == 0
    assert snapshot(desk) == before


def test_a_bad_email_edit_is_refused_and_nothing_written(desk: Desk, snapshot: Any) -> None:
    desk.add_lead({"name": "Ann", "email": "ann@example.com"})
    before = snapshot(desk)
    with pytest.raises(RuleError, match=r"^email 'ann@' is not valid"):
        desk.edit_lead("1", {"email": "ann@", "city": "Rome"})
    assert snapshot(desk) == before
    assert desk.show("1")["version"] == 1


def test_clearing_the_email(desk: Desk) -> None:
    desk.add_lead({"name": "Ann", "email": "ann@example.com"})
    lead = desk.edit_lead("1", {"email": ""})
    assert (lead["email"], lead["email_lower"]) == (None, None)


# --- phone -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "e164"),
    [
        ("(212) 555-0123", "+12125550123"),
        ("212.555.0123", "+12125550123"),
        ("212 555 0123", "+12125550123"),
        ("+1 212-555-0123", "+12125550123"),
        ("+44 20 7946 0018", "+442079460018"),
    ],
)
def test_phones_are_normalised_in_the_us_by_default(desk: Desk, phone: str, e164: str) -> None:
    lead = desk.add_lead({"name": "Ann", "phone": phone})
    assert (lead["phone"], lead["phone_e164"]) == (phone, e164)


@pytest.mark.parametrize(
    ("phone", "e164"),
    [("020 7946 0018", "+442079460018"), ("07700 900123", "+447700900123"), ("+1 212 555 0123", "+12125550123")],
)
def test_phones_are_normalised_in_the_configured_region(open_desk: Any, phone: str, e164: str) -> None:
    desk = open_desk(preset="sales", settings=Settings(default_region="GB"))
    assert desk.add_lead({"name": "Ann", "phone": phone})["phone_e164"] == e164


def test_the_region_decides_how_a_national_number_is_read(open_desk: Any) -> None:
    us = open_desk(preset="sales")
    gb = open_desk(login="ann", settings=Settings(default_region="GB"))
    assert us.add_lead({"name": "Ann", "phone": "020 7946 0018"})["phone_e164"] != "+442079460018"
    assert gb.add_lead({"name": "Bo", "phone": "020 7946 0018"})["phone_e164"] == "+442079460018"


@pytest.mark.parametrize("phone", ["ask reception", "123", "+999 12"])
def test_an_unparseable_phone_is_kept_as_entered(desk: Desk, phone: str) -> None:
    lead = desk.add_lead({"name": "Ann", "phone": phone})
    assert (lead["phone"], lead["phone_e164"]) == (phone, None)


def test_editing_the_phone_updates_the_normalised_form(desk: Desk) -> None:
    desk.add_lead({"name": "Ann", "phone": "(212) 555-0123"})
    assert desk.edit_lead("1", {"phone": "212 555 0199"})["phone_e164"] == "+12125550199"
    lead = desk.edit_lead("1", {"phone": ""})
    assert (lead["phone"], lead["phone_e164"]) == (None, None)


# --- names and titles --------------------------------------------------------------------------


def test_the_contact_name_is_split(desk: Desk) -> None:
    lead = desk.add_lead({"name": "Mary Ann Smith"})
    assert (lead["contact_name"], lead["first_name"], lead["last_name"]) == ("Mary Ann Smith", "Mary Ann", "Smith")
    lead = desk.add_lead({"name": "Cher"})
    assert (lead["contact_name"], lead["first_name"], lead["last_name"]) == ("Cher", "Cher", None)


def test_first_and_last_name_make_the_contact_name(desk: Desk) -> None:
    assert desk.add_lead({"first_name": "Ann", "last_name": "Lee"})["contact_name"] == "Ann Lee"
    lead = desk.edit_lead("1", {"last_name": "Smith"})
    assert (lead["contact_name"], lead["first_name"], lead["last_name"]) == ("Ann Smith", "Ann", "Smith")


def test_a_lead_needs_a_contact_name_or_a_company(desk: Desk, snapshot: Any) -> None:
    before = snapshot(desk)
    for values in ({}, {"name": "  "}, {"city": "Rome"}, {"company": "", "name": ""}):
        with pytest.raises(RuleError, match=r"^a lead needs a contact name or a company$"):
            desk.add_lead(values)
    assert snapshot(desk) == before
    assert desk.add_lead({"company": "Acme"})["contact_name"] == ""
    with pytest.raises(RuleError, match=r"^a lead needs a contact name or a company$"):
        desk.edit_lead("1", {"company": ""})
    assert desk.edit_lead("1", {"company": "", "name": "Ann"})["company"] is None


def test_the_title_defaults_to_item_then_company_then_contact(desk: Desk) -> None:
    assert desk.add_lead({"name": "Ann", "company": "Acme", "item": "consult"})["title"] == "Consulting"
    assert desk.add_lead({"name": "Ann", "company": "Acme"})["title"] == "Acme"
    assert desk.add_lead({"name": "Ann"})["title"] == "Ann"
    assert desk.add_lead({"name": "Ann", "title": "Roof repair"})["title"] == "Roof repair"
    assert desk.edit_lead("4", {"title": ""})["title"] == "Ann"


# --- typed fields ------------------------------------------------------------------------------


def test_typed_fields_are_parsed(desk: Desk) -> None:
    desk.add_user("bob")
    lead = desk.add_lead({
        "name": "Ann", "priority": "urgent", "probability": "40%", "expected_revenue": "$1,250.50",
        "expected_close": "2027-01-15", "followup": "+3d", "score": " 17 ", "tags": "vip, hot, VIP",
        "bant_budget": "y", "bant_need": "no", "bant_timeline": "?", "source": "web", "type": "out",
        "contact_method": "linked", "owner": "bob", "description": "  long text  ", "zone": "North",
    })
    assert {k: lead[k] for k in ("priority", "probability", "expected_revenue_cents", "expected_close",
                                 "followup_on", "score", "tags", "bant_budget", "bant_authority", "bant_need",
                                 "bant_timeline", "source", "type", "contact_method", "owner", "description",
                                 "zone")} == {
        "priority": 3, "probability": 40, "expected_revenue_cents": 125050, "expected_close": "2027-01-15",
        "followup_on": "2026-11-29", "score": 17, "tags": "vip,hot", "bant_budget": "yes",
        "bant_authority": "unknown", "bant_need": "no", "bant_timeline": "unknown", "source": "Website Form",
        "type": "Outbound", "contact_method": "LinkedIn", "owner": "bob", "description": "long text",
        "zone": "North"}


def test_the_owner_defaults_to_the_acting_user(desk: Desk) -> None:
    assert desk.add_lead({"name": "Ann"})["owner"] == "ann"


def test_empty_values_clear_fields(desk: Desk) -> None:
    desk.add_lead({"name": "Ann", "priority": "high", "probability": "10", "source": "referral", "tags": "a",
                   "expected_revenue": "5", "score": "3", "followup": "tomorrow", "owner": "ann"})
    lead = desk.edit_lead("1", {"priority": "", "probability": "", "source": "", "tags": "", "expected_revenue": "",
                                "score": "", "followup": "", "owner": ""})
    assert (lead["priority"], lead["probability"], lead["source"], lead["tags"], lead["expected_revenue_cents"],
            lead["score"], lead["followup_on"], lead["owner"]) == (0, None, None, "", None, 0, None, None)


@pytest.mark.parametrize(
    ("values", "error", "message"),
    [
        ({"colour": "red"}, RuleError, "unknown field 'colour'"),
        ({"priority": "top"}, RuleError, "priority 'top' must be 0-3 or low, medium, high, urgent"),
        ({"priority": "5"}, RuleError, "priority 5 must be between 0 and 3"),
        ({"probability": "120"}, RuleError, "probability 120 must be between 0 and 100"),
        ({"expected_revenue": "a lot"}, RuleError, "expected revenue 'a lot' is not a number"),
        ({"expected_revenue": "-1"}, RuleError, "expected revenue cannot be negative"),
        ({"score": "high"}, RuleError, "Score must be a whole number, not 'high'"),
        ({"bant_budget": "maybe"}, RuleError, "Bant budget must be yes, no or unknown, not 'maybe'"),
        ({"followup": "someday"}, RuleError, "Follow-up: can't read date 'someday': use YYYY-MM-DD"),
        ({"expected_close": "2026-02-30"}, RuleError,
         "Expected close: no such date '2026-02-30': day is out of range for month"),
        ({"source": "carrier pigeon"}, RuleError, "unknown source 'carrier pigeon': choose from Inbound Email,"),
        ({"source": "co"}, RuleError, "source 'co' is ambiguous: it could be Cold Outreach, Cold Call"),
        ({"type": "walk-in"}, RuleError, "unknown lead type 'walk-in': choose from Inbound, Outbound"),
        ({"item": "widgets"}, RuleError, "unknown item 'widgets': choose from Consulting,"),
        ({"owner": "zed"}, RuleError, "unknown user 'zed' (known: ann); add them with `leaddesk user add`"),
        ({"customer": "acme"}, RuleError, "customer must be a customer id, not 'acme'"),
        ({"customer": "9"}, RuleError, "there is no customer 9"),
        ({"city": "x" * 1001}, RuleError, "City is too long (1001 characters; the limit is 1000)"),
        ({"city": "Ro\x00me"}, RuleError, "City contains a NUL character"),
        ({"description": "x" * 100_001}, RuleError, "Description is too long (100001 characters; the limit is 100000)"),
        ({"phone": "1" * 101}, RuleError, "Phone is too long (101 characters; the limit is 100)"),
    ],
)
def test_invalid_values_are_refused_on_add_and_edit(desk: Desk, snapshot: Any, values: dict[str, Any],
                                                    error: type[Exception], message: str) -> None:
    before = snapshot(desk)
    with pytest.raises(error) as err:
        desk.add_lead({"name": "Ann", **values})
    assert str(err.value).startswith(message)
    assert snapshot(desk) == before
    desk.add_lead({"name": "Ann", "city": "Rome"})
    before = snapshot(desk)
    with pytest.raises(error) as err:
        desk.edit_lead("1", {"city": "Paris", "zone": "N", **values})
    assert str(err.value).startswith(message)
    assert snapshot(desk) == before
    assert (desk.show("1")["version"], desk.show("1")["city"]) == (1, "Rome")


def test_link_a_customer_by_id(desk: Desk) -> None:
    desk.add_lead({"company": "Acme"})
    desk.customer_from_lead("1")
    assert desk.add_lead({"name": "Bo", "customer": " 1 "})["customer"] == "Acme"


# --- custom fields -----------------------------------------------------------------------------


def test_custom_fields_are_typed_and_stored(cdesk: Desk) -> None:
    lead = cdesk.add_lead({"name": "Ann", "custom": {"employees": "120", "renewal": "tomorrow", "vip": "Yes",
                                                     "industry": "software", "notes": "  big  "}})
    assert lead["custom"] == {"employees": 120, "renewal": "2026-11-27", "vip": True, "industry": "Software",
                              "notes": "big"}
    assert cdesk.show("1")["custom"] == lead["custom"]


@pytest.mark.parametrize(
    ("value", "stored"),
    [("2.5", 2.5), ("-3", -3), ("1e3", 1000), ("0", 0)],
)
def test_custom_numbers(cdesk: Desk, value: str, stored: float) -> None:
    assert cdesk.add_lead({"name": "Ann", "custom": {"employees": value}})["custom"] == {"employees": stored}


@pytest.mark.parametrize(("value", "stored"), [("y", True), ("true", True), ("on", True), ("1", True),
                                               ("NO", False), ("off", False), ("0", False), ("n", False)])
def test_custom_bools(cdesk: Desk, value: str, stored: bool) -> None:
    assert cdesk.add_lead({"name": "Ann", "custom": {"vip": value}})["custom"] == {"vip": stored}


@pytest.mark.parametrize(
    ("custom", "message"),
    [
        ({"employees": "many"}, "Employees must be a number, not 'many'"),
        ({"renewal": "soon"}, "Renewal: can't read date 'soon'"),
        ({"vip": "maybe"}, "Vip must be yes or no, not 'maybe'"),
        ({"industry": "Mining"}, "Industry must be one of Retail, Software, Health, not 'Mining'"),
        ({"colour": "red"}, "unknown custom field 'colour' (known: employees, renewal, vip, industry, notes)"),
    ],
)
def test_custom_fields_are_validated(cdesk: Desk, snapshot: Any, custom: dict[str, str], message: str) -> None:
    before = snapshot(cdesk)
    with pytest.raises(RuleError) as err:
        cdesk.add_lead({"name": "Ann", "custom": custom})
    assert str(err.value).startswith(message)
    assert snapshot(cdesk) == before
    cdesk.add_lead({"name": "Ann", "custom": {"vip": "yes"}})
    before = snapshot(cdesk)
    with pytest.raises(RuleError) as err:
        cdesk.edit_lead("1", {"city": "Rome", "custom": custom})
    assert str(err.value).startswith(message)
    assert snapshot(cdesk) == before


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity"])
def test_custom_number_refuses_nan_and_infinity(cdesk: Desk, value: str) -> None:
    with pytest.raises(RuleError, match="Employees must be a finite number"):
        cdesk.add_lead({"name": "Ann", "custom": {"employees": value}})


def test_no_custom_fields_defined(desk: Desk) -> None:
    with pytest.raises(RuleError) as err:
        desk.add_lead({"name": "Ann", "custom": {"vip": "yes"}})
    assert str(err.value) == "unknown custom field 'vip' (known: none are defined in settings)"


def test_custom_field_edits_merge_and_empty_removes(cdesk: Desk) -> None:
    cdesk.add_lead({"name": "Ann", "custom": {"employees": "10", "vip": "yes"}})
    assert cdesk.edit_lead("1", {"custom": {"industry": "health"}})["custom"] == {
        "employees": 10, "vip": True, "industry": "Health"}
    assert cdesk.edit_lead("1", {"custom": {"vip": "", "employees": None}})["custom"] == {"industry": "Health"}
    history = [(h["action"], h["field"]) for h in cdesk.history("1") if h["action"] == "edit"]
    assert history == [("edit", "custom"), ("edit", "custom")]


def test_a_lead_without_custom_values_shows_an_empty_dict(cdesk: Desk) -> None:
    assert cdesk.add_lead({"name": "Ann"})["custom"] == {}


# --- copy --------------------------------------------------------------------------------------


def test_copy_lead_copies_the_main_fields(desk: Desk, query: Any) -> None:
    desk.add_user("bob")
    desk.add_lead({"name": "Ann Lee", "company": "Acme", "job_title": "CTO", "email": "ann@acme.com",
                   "phone": "(212) 555-0123", "street": "1 Main St", "city": "Rome", "state": "RM", "zip": "00100",
                   "country": "IT", "website": "acme.example", "zone": "South", "source": "referral",
                   "source_detail": "Bo", "campaign": "spring", "medium": "email", "contact_method": "phone",
                   "type": "inbound", "priority": "high", "tags": "a,b", "description": "desc", "owner": "bob",
                   "expected_revenue": "100", "probability": "20", "item": "training", "title": "Training deal",
                   "followup": "tomorrow", "expected_close": "2027-01-01", "score": "9", "bant_need": "yes"})
    desk.add_activity("1", "note", "hello")
    desk.mark_won("1", "300")
    copy = desk.copy_lead("1")
    original = desk.show("1")
    assert copy["number"] == 2 and copy["id"] != original["id"]
    assert {c: copy[c] for c in COPY_COLUMNS} == {c: original[c] for c in COPY_COLUMNS}
    assert copy["owner"] == "bob" and copy["title"] == "Training deal" and copy["phone_e164"] == "+12125550123"
    assert (copy["status"], copy["version"], copy["activities"], copy["deals"]) == ("New", 1, [], [])
    assert (copy["followup_on"], copy["expected_close"], copy["score"], copy["bant_need"], copy["job_value_cents"],
            copy["lost_reason_id"]) == (None, None, 0, "unknown", None, None)
    rows = query(desk, "SELECT action, field, new FROM history WHERE entity = 'lead' AND entity_id = :i",
                 {"i": copy["id"]})
    assert rows == [{"action": "copy", "field": "number", "new": "2 (copy of 1)"}]


def test_copy_takes_the_next_number_and_the_first_status_the_type_allows(desk: Desk) -> None:
    desk.catalog_change("types", "statuses", "Inbound", ["Contacted", "Disqualified"])
    desk.add_lead({"name": "A"})
    desk.add_lead({"name": "B", "type": "inbound"})
    desk.add_lead({"name": "C"})
    copy = desk.copy_lead("2")
    assert (copy["number"], copy["status"], copy["type"]) == (4, "Contacted", "Inbound")


def test_copy_keeps_custom_values_and_customer(cdesk: Desk) -> None:
    cdesk.add_lead({"company": "Acme", "custom": {"vip": "yes"}})
    cdesk.qualify("1")
    copy = cdesk.copy_lead("1")
    assert (copy["custom"], copy["customer"], copy["status"], copy["deals"]) == ({"vip": True}, "Acme", "New", [])


# --- delete ------------------------------------------------------------------------------------


def test_delete_a_lead(desk: Desk, query: Any) -> None:
    desk.add_lead({"name": "Ann"})
    assert desk.delete_lead("1") == 1
    with pytest.raises(NotFound):
        desk.show("1")
    assert query(desk, "SELECT action, field, old FROM history WHERE action = 'delete'") == [
        {"action": "delete", "field": "number", "old": "1"}]


def test_delete_refused_with_activities_unless_forced(desk: Desk, snapshot: Any, count: Any) -> None:
    desk.add_lead({"name": "Ann"})
    desk.add_activity("1", "call", "no answer")
    before = snapshot(desk)
    with pytest.raises(RuleError) as err:
        desk.delete_lead("1")
    assert str(err.value) == ("lead 1 has 0 deal(s) and 1 activity: close it as lost instead,"
                              " or delete with --force")
    assert snapshot(desk) == before
    assert desk.delete_lead("1", force=True) == 1
    assert (count(desk, "lead"), count(desk, "activity")) == (0, 0)


def test_delete_refused_with_deals_unless_forced(desk: Desk, count: Any, query: Any) -> None:
    desk.add_lead({"company": "Acme"})
    desk.add_activity("1", "note", "a")
    desk.add_activity("1", "note", "b")
    deal_id = desk.qualify("1")["deal_id"]
    with pytest.raises(RuleError, match=r"^lead 1 has 1 deal\(s\) and 2 activities: close it as lost instead"):
        desk.delete_lead("1")
    desk.delete_lead("1", force=True)
    assert count(desk, "lead") == 0
    assert desk.deal(deal_id)["lead_id"] is None and desk.deal(deal_id)["customer"] == "Acme"


def test_delete_unknown_lead(desk: Desk) -> None:
    with pytest.raises(NotFound, match=r"^no lead matches '3'$"):
        desk.delete_lead("3")


# --- follow-ups and activities -----------------------------------------------------------------


@pytest.mark.parametrize(("when", "stored"), [("tomorrow", "2026-11-27"), ("2020-01-01", "2020-01-01"),
                                              ("monday", "2026-11-30"), ("", None), (None, None)])
def test_set_followup(desk: Desk, when: Any, stored: str | None) -> None:
    desk.add_lead({"name": "Ann", "followup": "today"})
    assert desk.set_followup("1", when)["followup_on"] == stored


def test_bad_followup_refused(desk: Desk, snapshot: Any) -> None:
    desk.add_lead({"name": "Ann"})
    before = snapshot(desk)
    with pytest.raises(RuleError, match=r"^follow-up: can't read date 'whenever'"):
        desk.set_followup("1", "whenever")
    assert snapshot(desk) == before


def test_activities(desk: Desk) -> None:
    desk.add_lead({"name": "Ann"})
    desk.add_activity("1", "call", "left message", at="yesterday 15:00")
    lead = desk.add_activity("1", "email", "sent brochure")
    assert [(a["kind"], a["body"], a["at"]) for a in lead["activities"]] == [
        ("email", "sent brochure", "2026-11-26T12:00:00"), ("call", "left message", "2026-11-25T15:00:00")]
    assert lead["version"] == 1  # an activity does not change the lead's fields


@pytest.mark.parametrize(
    ("kind", "body", "at", "message"),
    [
        ("fax", "x", None, "activity kind 'fax' must be one of note, call, email, meeting"),
        ("note", "   ", None, "a note needs some text"),
        ("call", "a\x00b", None, "the call contains a NUL character"),
        ("note", "x", "whenever", "--at: can't read time 'whenever'"),
    ],
)
def test_bad_activities_refused(desk: Desk, snapshot: Any, kind: str, body: str, at: str | None,
                                message: str) -> None:
    desk.add_lead({"name": "Ann"})
    before = snapshot(desk)
    with pytest.raises(RuleError) as err:
        desk.add_activity("1", kind, body, at=at)
    assert str(err.value).startswith(message)
    assert snapshot(desk) == before


# --- messages ----------------------------------------------------------------------------------


def test_field_refusals_are_one_line(cdesk: Desk) -> None:
    cdesk.add_lead({"name": "Ann"})
    attempts = [
        {"email": "bad"}, {"email": "a@b"}, {"priority": "x"}, {"followup": "x"}, {"source": "x"}, {"owner": "x"},
        {"custom": {"employees": "x"}}, {"custom": {"renewal": "x"}}, {"custom": {"industry": "x"}},
        {"custom": {"nope": "x"}}, {"colour": "x"}, {"city": "x" * 2000},
    ]
    for values in attempts:
        with pytest.raises((RuleError, NotFound)) as err:
            cdesk.edit_lead("1", values)
        assert str(err.value) and "\n" not in str(err.value), values
