"""Every listing and `show` has --json, and it parses; `show --json` has the documented keys."""

from __future__ import annotations

import json

import pytest
from clisupport import ANN, BOB, Cli

SHOW_KEYS = {"number", "contact_name", "company", "email", "phone", "phone_e164", "source", "status",
             "status_category", "owner", "type", "priority", "job_value", "lost_reason", "followup", "customer_id",
             "deals", "activities", "version"}


@pytest.fixture
def busy(cli: Cli) -> Cli:
    """A desk with two leads, a customer, a deal with a quote line and some activities."""
    cli.add(**ANN, type="Inbound", followup="tomorrow")
    cli.add(**BOB)
    cli.ok("note", "1", "hello")
    cli.ok("log", "1", "call", "rang", "--at", "-1h")
    cli.ok("qualify", "1", "--value", "900")
    cli.ok("deal", "quote", "1", "Licence", "--price", "300", "--qty", "3")
    cli.ok("lost", "2", "--reason", "budget")
    return cli


LISTINGS = [
    ["list"], ["list", "--closed"], ["show", "1"], ["show", "2"], ["deal", "list"], ["deal", "show", "1"],
    ["customer", "list"], ["customer", "show", "1"], ["statuses"], ["types"], ["reasons"], ["sources"],
    ["methods"], ["items"], ["user", "list"], ["lookup", "ann@acme.example.com"], ["lookup", "212-555-0199"],
    ["history", "1"],
]


@pytest.mark.parametrize("args", LISTINGS, ids=" ".join)
def test_every_listing_has_json(busy: Cli, args: list[str]) -> None:
    result = busy.ok(*args, "--json")
    value = json.loads(result.out)
    assert value
    assert isinstance(value, list | dict)
    assert result.out.endswith("\n")
    plain = busy.ok(*args).out  # and the same listing without --json is not JSON
    with pytest.raises(ValueError):
        json.loads(plain)


ACTIONS = [
    ["status", "2", "contacted"], ["won", "2", "--value", "10"], ["lost", "1", "--reason", "budget"],
    ["reopen", "2"], ["note", "2", "hi"], ["followup", "2", "+2d"], ["copy", "2"], ["qualify", "3"],
    ["deal", "stage", "1", "proposal"], ["deal", "won", "1"], ["deal", "lost", "1", "--reason", "budget"],
    ["deal", "quote", "1", "Setup", "--price", "5"],
]


@pytest.mark.parametrize("args", ACTIONS, ids=" ".join)
def test_actions_with_json(busy: Cli, args: list[str]) -> None:
    if args[0] == "reopen":
        busy.ok("won", "2", "--value", "10")
    if args[0] == "qualify":
        busy.add(company="Third")
    assert isinstance(busy.ok(*args, "--json").json(), dict)


def test_show_json_keys_and_values(busy: Cli) -> None:
    lead = busy.show(1)
    assert set(lead) >= SHOW_KEYS
    assert {k: lead[k] for k in ("number", "contact_name", "company", "email", "phone", "phone_e164", "source",
                                 "status", "status_category", "owner", "type", "priority", "job_value",
                                 "lost_reason", "followup", "customer_id", "version")} == {
        "number": 1, "contact_name": "Ann Lee", "company": "Acme", "email": "ann@acme.example.com",
        "phone": "+1 212 555 0100", "phone_e164": "+12125550100", "source": "Referral", "status": "Qualified",
        "status_category": "qualified", "owner": "ann", "type": "Inbound", "priority": 0, "job_value": None,
        "lost_reason": None, "followup": "2026-03-05", "customer_id": 1, "version": 2}
    [deal] = lead["deals"]
    assert {k: deal[k] for k in ("id", "title", "value", "stage", "status")} == {
        "id": 1, "title": "Acme", "value": 900.0, "stage": "Prospecting", "status": "open"}
    assert [{k: a[k] for k in ("kind", "body", "at", "user")} for a in lead["activities"]] == [
        {"kind": "note", "body": "hello", "at": "2026-03-04T10:00:00", "user": "ann"},
        {"kind": "call", "body": "rang", "at": "2026-03-04T09:00:00", "user": "ann"},
    ]


def test_show_json_of_a_lost_and_a_won_lead(busy: Cli) -> None:
    lost = busy.show(2)
    assert (lost["status"], lost["status_category"], lost["lost_reason"], lost["job_value"]) == (
        "Disqualified", "lost", "Budget", None)
    busy.ok("reopen", "2")
    busy.ok("won", "2", "--value", "1,234.56")
    won = busy.show(2)
    assert (won["status"], won["status_category"], won["lost_reason"], won["job_value"]) == (
        "Converted", "won", None, 1234.56)


def test_json_is_the_same_on_both_paths(busy: Cli) -> None:
    """`show --json` (quick path) and `status --json` (quick) / `won --json` (Typer) render the same lead form."""
    shown = busy.show(2)
    via_status = busy.ok("status", "2", "Disqualified", "--json").json()  # unchanged: same lead
    assert via_status == shown
    assert set(busy.ok("copy", "2", "--json").json()) == set(shown)


def test_json_keeps_unicode(cli: Cli) -> None:
    cli.add(name="Zoë Ångström", company="Café 東京")
    out = cli.ok("show", "1", "--json").out
    assert "Zoë Ångström" in out and "Café 東京" in out
    assert cli.ok("list", "--json").json()[0]["contact"] == "Zoë Ångström"
