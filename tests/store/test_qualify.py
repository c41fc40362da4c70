"""Qualifying leads (customer matching, deal, rollback), customer-from-lead, for both presets."""

from __future__ import annotations

from typing import Any

import pytest

from leaddesk.store.desk import Desk
from leaddesk.store.errors import NeedsChoice, NotFound, RuleError

PRESETS = {
    # preset: (qualified status, won status, first open status, pipeline, first stage)
    "sales": ("Qualified", "Converted", "New", "Sales", "Prospecting"),
    "services": (None, "Won", "Pending", "Jobs", "Estimate sent"),
}


@pytest.fixture(params=["sales", "services"])
def pdesk(request: pytest.FixtureRequest, open_desk: Any) -> Desk:
    desk = open_desk(preset=request.param)
    desk.preset = request.param  # type: ignore[attr-defined]
    return desk


def info(desk: Desk) -> tuple[str | None, str, str, str, str]:
    return PRESETS[desk.preset]  # type: ignore[attr-defined]


def customers(desk: Desk, query: Any) -> list[dict[str, Any]]:
    return query(desk, "SELECT id, name, kind, phone, phone_e164, email, email_lower, city FROM customer ORDER BY id")


def existing_customer(desk: Desk, **values: Any) -> int:
    """A customer made from a throw-away lead (the service API has no direct 'add customer')."""
    lead = desk.add_lead({"company": "Existing Co", **values}, force=True)
    return int(desk.customer_from_lead(str(lead["number"]))["customer_id"])


# --- the happy path ----------------------------------------------------------------------------


def test_qualify_creates_customer_deal_and_qualifies(pdesk: Desk, query: Any, count: Any) -> None:
    qualified, _won, first_open, pipeline, stage = info(pdesk)
    pdesk.add_lead({"name": "Ann Lee", "company": "Acme", "job_title": "CTO", "phone": "(212) 555-0123",
                    "email": "Ann@Acme.com", "city": "Springfield"})
    outcome = pdesk.qualify("1")
    assert outcome["customer_created"] is True
    assert outcome["customer_id"] == 1
    lead = outcome["lead"]
    assert lead["customer_id"] == 1 and lead["customer"] == "Acme"
    assert lead["status"] == (qualified or first_open)
    assert customers(pdesk, query) == [{"id": 1, "name": "Acme", "kind": "company", "phone": "(212) 555-0123",
                                        "phone_e164": "+12125550123", "email": "Ann@Acme.com",
                                        "email_lower": "ann@acme.com", "city": "Springfield"}]
    assert query(pdesk, "SELECT first_name, last_name, job_title, email, phone FROM contact") == [
        {"first_name": "Ann", "last_name": "Lee", "job_title": "CTO", "email": "Ann@Acme.com",
         "phone": "(212) 555-0123"}]
    deal = pdesk.deal(outcome["deal_id"])
    assert (deal["title"], deal["pipeline"], deal["stage"], deal["state"], deal["lead_number"],
            deal["customer_id"], deal["value_cents"], deal["expected_close"]) == (
        "Acme", pipeline, stage, "open", 1, 1, None, None)
    assert [d["id"] for d in lead["deals"]] == [outcome["deal_id"]]
    assert count(pdesk, "deal") == 1


def test_qualify_history(desk: Desk) -> None:
    desk.add_lead({"company": "Acme"})
    desk.qualify("1")
    rows = [(h["action"], h["field"], h["old"], h["new"], h["user"]) for h in desk.history("1")
            if h["action"] != "create"]
    assert rows == [("qualify", "customer", None, "1", "ann"), ("qualify", "status", "New", "Qualified", "ann")]


def test_deal_title_defaults_to_company_then_contact_name(pdesk: Desk) -> None:
    pdesk.add_lead({"name": "Bo Diddley", "company": "Acme"})
    pdesk.add_lead({"name": "Cy Young"})
    assert pdesk.deal(pdesk.qualify("1")["deal_id"])["title"] == "Acme"
    assert pdesk.deal(pdesk.qualify("2")["deal_id"])["title"] == "Cy Young"


def test_deal_title_value_and_close_can_be_given(pdesk: Desk) -> None:
    pdesk.add_lead({"company": "Acme"})
    outcome = pdesk.qualify("1", title="  Big rollout ", value="5,000.50", close="2026-12-31")
    deal = pdesk.deal(outcome["deal_id"])
    assert (deal["title"], deal["value_cents"], deal["expected_close"]) == ("Big rollout", 500050, "2026-12-31")


def test_deal_close_may_be_relative(pdesk: Desk) -> None:
    pdesk.add_lead({"company": "Acme"})
    assert pdesk.deal(pdesk.qualify("1", close="tomorrow")["deal_id"])["expected_close"] == "2026-11-27"


def test_a_blank_title_falls_back_to_the_default(pdesk: Desk) -> None:
    pdesk.add_lead({"company": "Acme"})
    assert pdesk.deal(pdesk.qualify("1", title="   ")["deal_id"])["title"] == "Acme"


def test_a_person_lead_becomes_a_person_customer_without_contacts(pdesk: Desk, query: Any, count: Any) -> None:
    pdesk.add_lead({"name": "Cy Young", "email": "cy@example.com"})
    pdesk.qualify("1")
    assert [(c["name"], c["kind"], c["email"]) for c in customers(pdesk, query)] == [
        ("Cy Young", "person", "cy@example.com")]
    assert count(pdesk, "contact") == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"value": "lots"}, "deal value 'lots' is not a number"),
        ({"value": "-1"}, "deal value cannot be negative"),
        ({"close": "someday"}, "expected close: "),
    ],
)
def test_bad_deal_values_are_refused_before_anything_is_written(pdesk: Desk, snapshot: Any,
                                                                 options: dict[str, Any], message: str) -> None:
    pdesk.add_lead({"company": "Acme"})
    before = snapshot(pdesk)
    with pytest.raises(RuleError) as err:
        pdesk.qualify("1", **options)
    assert str(err.value).startswith(message)
    assert snapshot(pdesk) == before


# --- matching customers ------------------------------------------------------------------------


@pytest.mark.parametrize("phone", ["212-555-0123", "+1 212 555 0123", "2125550123", "(212)555.0123", "+12125550123"])
def test_matches_an_existing_customer_by_phone_in_any_format(pdesk: Desk, snapshot: Any, phone: str) -> None:
    customer = existing_customer(pdesk, phone="(212) 555-0123")
    pdesk.add_lead({"name": "New Person", "phone": phone}, force=True)
    assert pdesk.matching_customers("2") == [{"id": customer, "name": "Existing Co", "phone": "(212) 555-0123",
                                              "email": None, "matched": ["phone"]}]
    before = snapshot(pdesk)
    with pytest.raises(NeedsChoice) as err:
        pdesk.qualify("2")
    assert str(err.value) == "lead 2 matches 1 existing customer(s): link one or create a new one"
    assert err.value.exit_code == 1
    assert [(c["id"], c["matched"]) for c in err.value.choices] == [(customer, ["phone"])]
    assert snapshot(pdesk) == before


@pytest.mark.parametrize("email", ["INFO@EXISTING.COM", "info@existing.com", "Info@Existing.Com"])
def test_matches_an_existing_customer_by_email_in_any_case(pdesk: Desk, email: str) -> None:
    customer = existing_customer(pdesk, email="Info@existing.com")
    pdesk.add_lead({"name": "New Person", "email": email}, force=True)
    with pytest.raises(NeedsChoice) as err:
        pdesk.qualify("2")
    assert err.value.choices == [{"id": customer, "name": "Existing Co", "phone": None,
                                  "email": "Info@existing.com", "matched": ["email"]}]


def test_matches_list_what_matched_for_each_customer(pdesk: Desk) -> None:
    both = existing_customer(pdesk, phone="212 555 0123", email="a@b.com")
    by_phone = existing_customer(pdesk, phone="+1 (212) 555-0123")
    by_email = existing_customer(pdesk, email="A@B.COM")
    existing_customer(pdesk, phone="212 555 0199", email="other@b.com")
    lead = pdesk.add_lead({"name": "New Person", "phone": "2125550123", "email": "a@B.com"}, force=True)
    with pytest.raises(NeedsChoice) as err:
        pdesk.qualify(str(lead["number"]))
    assert str(err.value) == f"lead {lead['number']} matches 3 existing customer(s): link one or create a new one"
    assert [(c["id"], c["matched"]) for c in err.value.choices] == [
        (both, ["phone", "email"]), (by_phone, ["phone"]), (by_email, ["email"])]


def test_link_a_matching_customer(pdesk: Desk, count: Any) -> None:
    qualified, _won, first_open, _p, _s = info(pdesk)
    customer = existing_customer(pdesk, phone="(212) 555-0123")
    pdesk.add_lead({"name": "New Person", "phone": "212.555.0123"}, force=True)
    outcome = pdesk.qualify("2", customer_id=customer)
    assert (outcome["customer_id"], outcome["customer_created"]) == (customer, False)
    assert (outcome["lead"]["customer_id"], outcome["lead"]["status"]) == (customer, qualified or first_open)
    assert pdesk.deal(outcome["deal_id"])["customer_id"] == customer
    assert count(pdesk, "customer") == 1


def test_link_any_customer_even_without_a_match(pdesk: Desk) -> None:
    customer = existing_customer(pdesk)
    pdesk.add_lead({"name": "Unrelated"})
    assert pdesk.qualify("2", customer_id=customer)["customer_id"] == customer


def test_link_an_unknown_customer(pdesk: Desk, snapshot: Any) -> None:
    pdesk.add_lead({"name": "Ann"})
    before = snapshot(pdesk)
    with pytest.raises(NotFound) as err:
        pdesk.qualify("1", customer_id=42)
    assert (str(err.value), err.value.exit_code) == ("there is no customer 42", 3)
    assert snapshot(pdesk) == before


def test_create_a_new_customer_despite_matches(pdesk: Desk, query: Any) -> None:
    existing_customer(pdesk, phone="(212) 555-0123")
    pdesk.add_lead({"name": "New Person", "company": "Fresh Inc", "phone": "212 555 0123"}, force=True)
    outcome = pdesk.qualify("2", new_customer=True)
    assert (outcome["customer_id"], outcome["customer_created"]) == (2, True)
    assert [c["name"] for c in customers(pdesk, query)] == ["Existing Co", "Fresh Inc"]


def test_without_matches_the_customer_is_created_automatically(pdesk: Desk, count: Any) -> None:
    existing_customer(pdesk, phone="(212) 555-0100", email="x@existing.com")
    pdesk.add_lead({"name": "New Person", "phone": "(212) 555-0123", "email": "y@existing.com"})
    assert pdesk.matching_customers("2") == []
    outcome = pdesk.qualify("2")
    assert outcome["customer_created"] is True
    assert count(pdesk, "customer") == 2


def test_an_unparseable_phone_never_matches(pdesk: Desk) -> None:
    existing_customer(pdesk, phone="ask at desk")
    pdesk.add_lead({"name": "New Person", "phone": "ask at desk"})
    assert pdesk.matching_customers("2") == []


def test_a_lead_already_linked_skips_the_customer_step(pdesk: Desk, count: Any) -> None:
    qualified, _won, first_open, _p, _s = info(pdesk)
    pdesk.add_lead({"company": "Acme", "phone": "(212) 555-0123"})
    pdesk.customer_from_lead("1")
    existing_customer(pdesk, phone="(212) 555-0123")  # would match, but the step is skipped
    outcome = pdesk.qualify("1")
    assert (outcome["customer_id"], outcome["customer_created"]) == (1, False)
    assert outcome["lead"]["status"] == (qualified or first_open)
    assert count(pdesk, "customer") == 2
    pdesk.add_lead({"name": "Colleague"})
    assert pdesk.qualify("3", customer_id=1)["customer_id"] == 1  # another lead may link customer 1 too


def test_a_linked_lead_refuses_another_customer(pdesk: Desk, snapshot: Any) -> None:
    pdesk.add_lead({"company": "Acme"})
    pdesk.customer_from_lead("1")
    other = existing_customer(pdesk)
    before = snapshot(pdesk)
    with pytest.raises(RuleError, match=r"^lead 1 is already linked to customer 1$"):
        pdesk.qualify("1", customer_id=other)
    assert snapshot(pdesk) == before
    assert pdesk.qualify("1", customer_id=1)["customer_id"] == 1


# --- without a deal ----------------------------------------------------------------------------


def test_without_a_deal_the_lead_is_converted(pdesk: Desk, count: Any) -> None:
    _qualified, won, _open, _p, _s = info(pdesk)
    pdesk.add_lead({"name": "Ann Lee", "company": "Acme"})
    outcome = pdesk.qualify("1", create_deal=False)
    assert (outcome["deal_id"], outcome["customer_created"], outcome["customer_id"]) == (None, True, 1)
    lead = outcome["lead"]
    assert (lead["status"], lead["status_category"], lead["customer"], lead["deals"]) == (won, "won", "Acme", [])
    assert count(pdesk, "deal") == 0
    assert {h["action"] for h in pdesk.history("1") if h["action"] != "create"} == {"convert"}


# --- only open leads, and nothing half-done ----------------------------------------------------


def test_only_an_open_lead_can_be_qualified(desk: Desk, snapshot: Any) -> None:
    desk.add_lead({"company": "Acme"})
    desk.qualify("1")
    before = snapshot(desk)
    with pytest.raises(RuleError) as err:
        desk.qualify("1")
    assert str(err.value) == "only an open lead can be qualified; this one is 'Qualified' (reopen it first)"
    assert snapshot(desk) == before


@pytest.mark.parametrize("closing", ["won", "lost"])
def test_a_closed_lead_cannot_be_qualified(pdesk: Desk, snapshot: Any, closing: str) -> None:
    pdesk.add_lead({"company": "Acme"})
    if closing == "won":
        pdesk.mark_won("1", "10")
    else:
        pdesk.mark_lost("1", "budget")
    before = snapshot(pdesk)
    with pytest.raises(RuleError, match=r"^only an open lead can be qualified; this one is '(Converted|Won|"
                                        r"Disqualified|Lost)' \(reopen it first\)$"):
        pdesk.qualify("1")
    assert snapshot(pdesk) == before
    pdesk.reopen("1")
    assert pdesk.qualify("1")["customer_created"] is True


def test_qualify_rolls_back_when_the_deal_cannot_be_opened(pdesk: Desk, snapshot: Any, count: Any) -> None:
    pdesk.add_lead({"name": "Ann Lee", "company": "Acme", "phone": "(212) 555-0123"})
    with pdesk.db.write() as tx:
        tx.execute("DELETE FROM stage")
    before = snapshot(pdesk)
    with pytest.raises(RuleError) as err:
        pdesk.qualify("1")
    assert str(err.value) == "there is no default pipeline with stages to open a deal in"
    assert snapshot(pdesk) == before
    assert count(pdesk, "customer") == 0 and count(pdesk, "contact") == 0
    lead = pdesk.show("1")
    assert (lead["status"], lead["customer_id"], lead["version"]) == (info(pdesk)[2], None, 1)


def test_qualify_without_a_deal_needs_no_pipeline(pdesk: Desk) -> None:
    pdesk.add_lead({"company": "Acme"})
    with pdesk.db.write() as tx:
        tx.execute("DELETE FROM stage")
    assert pdesk.qualify("1", create_deal=False)["lead"]["status"] == info(pdesk)[1]


def test_qualify_refused_by_the_lead_type(desk: Desk, snapshot: Any) -> None:
    desk.catalog_change("types", "statuses", "Inbound", ["New", "Contacted", "Disqualified"])
    desk.add_lead({"company": "Acme", "type": "inbound"})
    before = snapshot(desk)
    with pytest.raises(RuleError, match=r"^status 'Qualified' is not allowed for lead type 'Inbound'"):
        desk.qualify("1")
    with pytest.raises(RuleError, match=r"^status 'Converted' is not allowed for lead type 'Inbound'"):
        desk.qualify("1", create_deal=False)
    assert snapshot(desk) == before


def test_qualify_a_stale_version_is_a_conflict(desk: Desk, snapshot: Any) -> None:
    from leaddesk.store.errors import Conflict

    desk.add_lead({"company": "Acme"})
    desk.edit_lead("1", {"city": "Rome"})
    before = snapshot(desk)
    with pytest.raises(Conflict):
        desk.qualify("1", expected_version=1)
    assert snapshot(desk) == before
    assert desk.qualify("1", expected_version=2)["lead"]["version"] == 3


# --- customer from lead ------------------------------------------------------------------------


def test_customer_from_lead_creates_and_links_a_customer(pdesk: Desk, query: Any, count: Any) -> None:
    pdesk.add_lead({"name": "Ann Lee", "company": "Acme", "email": "ann@acme.com", "phone": "(212) 555-0123",
                    "job_title": "CEO"})
    lead = pdesk.customer_from_lead("1")
    assert (lead["customer_id"], lead["customer"], lead["status"], lead["deals"]) == (1, "Acme", info(pdesk)[2], [])
    assert [(c["name"], c["kind"], c["phone_e164"]) for c in customers(pdesk, query)] == [
        ("Acme", "company", "+12125550123")]
    assert query(pdesk, "SELECT customer_id, first_name, last_name, job_title, email FROM contact") == [
        {"customer_id": 1, "first_name": "Ann", "last_name": "Lee", "job_title": "CEO", "email": "ann@acme.com"}]
    assert count(pdesk, "deal") == 0
    assert pdesk.customer(1)["leads"] == [{"number": 1, "contact_name": "Ann Lee", "status": info(pdesk)[2]}]
    assert [(h["action"], h["field"]) for h in pdesk.history("1")][-1] == ("customer", "customer")


def test_customer_from_lead_refuses_a_linked_lead(pdesk: Desk, snapshot: Any) -> None:
    pdesk.add_lead({"company": "Acme"})
    pdesk.customer_from_lead("1")
    before = snapshot(pdesk)
    with pytest.raises(RuleError) as err:
        pdesk.customer_from_lead("1")
    assert str(err.value) == "lead 1 already has customer 1"
    assert snapshot(pdesk) == before


def test_customer_from_a_qualified_lead_is_refused(desk: Desk) -> None:
    desk.add_lead({"company": "Acme"})
    desk.qualify("1")
    with pytest.raises(RuleError, match=r"^lead 1 already has customer 1$"):
        desk.customer_from_lead("1")


def test_qualify_messages_are_one_line(desk: Desk) -> None:
    existing_customer(desk, phone="(212) 555-0123")
    desk.add_lead({"name": "Ann", "phone": "212 555 0123"}, force=True)
    desk.add_lead({"company": "Closed"})
    desk.mark_lost("3", "budget")
    attempts = [lambda: desk.qualify("2"), lambda: desk.qualify("2", customer_id=9),
                lambda: desk.qualify("3"), lambda: desk.qualify("2", value="x"),
                lambda: desk.qualify("2", close="never"), lambda: desk.customer_from_lead("1")]
    for attempt in attempts:
        with pytest.raises((RuleError, NotFound)) as err:
            attempt()
        assert str(err.value) and "\n" not in str(err.value)
