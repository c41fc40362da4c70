"""qualify, customer-from-lead, `deal ...` and `customer ...`."""

from __future__ import annotations

import pytest
from clisupport import ANN, Cli, assert_one_line_refusal, header

DEAL_KEYS = {"id", "title", "value", "stage", "status"}


# -- qualify -----------------------------------------------------------------------------------
def test_qualify_without_matches_creates_the_customer(cli: Cli, ann: int) -> None:
    result = cli.ok("qualify", str(ann), "--title", "Acme rollout", "--value", "5,000", "--close", "2026-06-30")
    assert result.out == f"#{ann} Ann Lee (Acme) · Qualified · customer 1 created, deal 1 opened\n"
    lead = cli.show(ann)
    assert (lead["status"], lead["status_category"], lead["customer_id"], lead["customer"]) == (
        "Qualified", "qualified", 1, "Acme")
    [deal] = lead["deals"]
    assert set(deal) >= DEAL_KEYS
    assert (deal["id"], deal["title"], deal["value"], deal["stage"], deal["status"], deal["expected_close"]) == (
        1, "Acme rollout", 5000.0, "Prospecting", "open", "2026-06-30")


def test_qualify_json(cli: Cli, ann: int) -> None:
    out = cli.ok("qualify", str(ann), "--json").json()
    assert {k: out[k] for k in ("customer_id", "customer_created", "deal_id")} == {
        "customer_id": 1, "customer_created": True, "deal_id": 1}
    assert out["lead"]["number"] == ann
    assert out["lead"]["deals"][0]["title"] == "Acme"


@pytest.fixture
def matched(cli: Cli, ann: int) -> int:
    """A second lead sharing Ann's email and phone, after Ann was qualified into customer 1."""
    cli.ok("qualify", str(ann))
    result = cli.ok("add", "--name", "Ann Lee", "--company", "Acme Two", "--email", "ANN@acme.example.com",
                    "--phone", "212-555-0100", "--force")
    return int(result.out.split("#")[1].split()[0])


def test_qualify_with_matches_asks_to_choose(cli: Cli, matched: int) -> None:
    result = cli(*["qualify", str(matched)])
    line = assert_one_line_refusal(result)
    assert line == (f"leaddesk: lead {matched} matches 1 existing customer(s): link one or create a new one:"
                    " rerun with --customer ID or --new-customer")
    lines = result.out.splitlines()
    assert lines[0].strip() == f"Customers matching lead {matched}"
    assert header(lines[1]) == ["id", "name", "phone", "email", "matched"]
    assert lines[3].split("│")[0].strip() == "1"
    assert lines[3].split("│")[1].strip() == "Acme"
    assert lines[3].split("│")[-1].strip() == "phone, email"
    lead = cli.show(matched)
    assert (lead["status"], lead["customer_id"], lead["deals"]) == ("New", None, [])
    assert len(cli.ok("customer", "list", "--json").json()) == 1


def test_qualify_with_matches_json(cli: Cli, matched: int) -> None:
    result = cli("qualify", str(matched), "--json")
    assert_one_line_refusal(result)
    body = result.json()
    assert "matches 1 existing customer" in body["error"]
    assert body["matches"] == [{"id": 1, "name": "Acme", "phone": "+1 212 555 0100",
                                "email": "ann@acme.example.com", "matched": ["phone", "email"]}]


def test_qualify_links_the_chosen_customer(cli: Cli, matched: int) -> None:
    out = cli.ok("qualify", str(matched), "--customer", "1").out
    assert out == f"#{matched} Ann Lee (Acme Two) · Qualified · customer 1 linked, deal 2 opened\n"
    assert cli.show(matched)["customer_id"] == 1


def test_qualify_new_customer_despite_matches(cli: Cli, matched: int) -> None:
    out = cli.ok("qualify", str(matched), "--new-customer", "--json").json()
    assert (out["customer_id"], out["customer_created"]) == (2, True)
    assert [c["name"] for c in cli.ok("customer", "list", "--json").json()] == ["Acme", "Acme Two"]


def test_qualify_without_a_deal(cli: Cli, ann: int) -> None:
    assert cli.ok("qualify", str(ann), "--no-deal").out == (
        f"#{ann} Ann Lee (Acme) · Converted · customer 1 created, no deal\n")
    lead = cli.show(ann)
    assert (lead["status"], lead["deals"], lead["customer_id"]) == ("Converted", [], 1)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--customer", "1", "--new-customer"], 1, "choose either --customer ID or --new-customer"),
        (["--customer", "99"], 3, "there is no customer 99"),
        (["--value", "lots"], 1, "deal value 'lots' is not a number"),
        (["--close", "someday"], 1, "expected close: can't read date 'someday'"),
        (["--customer", "x"], 1, "Invalid value for '--customer'"),
    ],
    ids=["both", "no-customer", "value", "close", "customer-not-int"],
)
def test_qualify_refusals(cli: Cli, ann: int, args: list[str], code: int, message: str) -> None:
    assert message in cli.refused("qualify", str(ann), *args, code=code).err
    lead = cli.show(ann)
    assert (lead["status"], lead["customer_id"], lead["deals"]) == ("New", None, [])


def test_qualify_only_open_leads(cli: Cli, ann: int) -> None:
    cli.ok("qualify", str(ann))
    assert "only an open lead can be qualified; this one is 'Qualified'" in cli.refused("qualify", str(ann)).err
    cli.refused("qualify", "99", code=3)


# -- customer-from-lead ------------------------------------------------------------------------
def test_customer_from_lead(cli: Cli, ann: int) -> None:
    assert cli.ok("customer-from-lead", str(ann)).out == f"#{ann} Ann Lee (Acme) · New · customer 1 created\n"
    lead = cli.show(ann)
    assert (lead["customer_id"], lead["status"], lead["deals"]) == (1, "New", [])
    assert cli.refused("customer-from-lead", str(ann)).err == f"leaddesk: lead {ann} already has customer 1\n"
    cli.refused("customer-from-lead", "99", code=3)


# -- deals -------------------------------------------------------------------------------------
@pytest.fixture
def deal(cli: Cli, ann: int) -> int:
    """Deal 1, opened by qualifying Ann with a value of 5,000."""
    return int(cli.ok("qualify", str(ann), "--value", "5000", "--title", "Rollout", "--json").json()["deal_id"])


def test_deal_list(cli: Cli, deal: int) -> None:
    rows = cli.ok("deal", "list", "--json").json()
    assert [(r["id"], r["title"], r["value"], r["stage"], r["state"], r["lead_number"], r["customer"])
            for r in rows] == [(deal, "Rollout", 5000.0, "Prospecting", "open", 1, "Acme")]
    out = cli.ok("deal", "list").out
    assert header(out) == ["id", "title", "stage", "state", "value", "lead", "customer"]
    assert "5,000.00" in out
    assert cli.ok("deal", "list", "--state", "won", "--json").json() == []
    assert cli.ok("deal", "list", "--state", "won").out == "(nothing)\n"


def test_deal_show(cli: Cli, deal: int) -> None:
    assert cli.ok("deal", "show", str(deal)).out == (
        "deal 1  Rollout\n"
        "  stage Prospecting (Prospecting → Proposal → Negotiation) · open · 5,000.00\n"
        "  lead 1 · customer Acme\n")
    body = cli.ok("deal", "show", str(deal), "--json").json()
    assert (body["id"], body["value"], body["stages"], body["quote_lines"]) == (
        deal, 5000.0, ["Prospecting", "Proposal", "Negotiation"], [])
    cli.refused("deal", "show", "99", code=3)


def test_deal_stage(cli: Cli, deal: int) -> None:
    assert cli.ok("deal", "stage", str(deal), "NEG", "--json").json()["stage"] == "Negotiation"
    assert cli.show(1)["deals"][0]["stage"] == "Negotiation"
    assert "unknown stage 'closing'" in cli.refused("deal", "stage", str(deal), "closing").err
    cli.refused("deal", "stage", "99", "proposal", code=3)


def test_deal_quote(cli: Cli, deal: int) -> None:
    out = cli.ok("deal", "quote", str(deal), "Licence", "--price", "120.50", "--qty", "3").out
    assert "  3 × Licence @ 120.50\n  quote total 361.50\n" in out
    body = cli.ok("deal", "quote", str(deal), "Setup", "--price", "100", "--json").json()
    assert body["quote_total_cents"] == 46150
    assert [line["description"] for line in body["quote_lines"]] == ["Licence", "Setup"]
    assert "a quote line needs a description" in cli.refused("deal", "quote", str(deal), " ", "--price", "1").err
    assert "above 0" in cli.refused("deal", "quote", str(deal), "X", "--price", "1", "--qty", "0").err
    assert "Missing option '--price'" in cli.refused("deal", "quote", str(deal), "X").err
    cli.refused("deal", "quote", "99", "X", "--price", "1", code=3)


def test_deal_won_converts_the_lead(cli: Cli, deal: int) -> None:
    body = cli.ok("deal", "won", str(deal), "--value", "4500", "--json").json()
    assert (body["state"], body["value"]) == ("won", 4500.0)
    lead = cli.show(1)
    assert (lead["status"], lead["job_value"], lead["deals"][0]["status"]) == ("Converted", 4500.0, "won")
    assert cli.refused("deal", "won", str(deal)).err == f"leaddesk: deal {deal} is already won\n"
    assert "only open deals move" in cli.refused("deal", "stage", str(deal), "proposal").err
    cli.refused("deal", "won", "99", code=3)


@pytest.mark.parametrize("value", [None, "0"], ids=["no-value", "zero"])
def test_deal_won_without_a_value_cannot_make_a_valueless_won_lead(cli: Cli, ann: int, value: str | None) -> None:
    cli.ok("qualify", str(ann), *(["--value", value] if value else []))
    result = cli("deal", "won", "1")
    if result.code:
        assert_one_line_refusal(result)
    lead = cli.show(ann)
    assert not (lead["status_category"] == "won" and lead["job_value"] is None), lead


def test_deal_lost_and_reopen(cli: Cli, deal: int) -> None:
    assert cli.refused("deal", "reopen", str(deal)).err == f"leaddesk: deal {deal} is already open\n"
    assert "unknown lost reason 'moon'" in cli.refused("deal", "lost", str(deal), "--reason", "moon").err
    assert "a lost deal needs a reason" in cli.refused("deal", "lost", str(deal), "--reason", " ").err
    out = cli.ok("deal", "lost", str(deal), "--reason", "budget", "--note", "next year").out
    assert "· lost · 5,000.00\n" in out
    assert "  lost: Budget next year\n" in out
    assert cli.show(1)["status"] == "Qualified"  # the lead keeps its status
    assert cli.refused("deal", "lost", str(deal), "--reason", "budget").err == (
        f"leaddesk: deal {deal} is already lost\n")
    body = cli.ok("deal", "reopen", str(deal), "--json").json()
    assert (body["state"], body["lost_reason"]) == ("open", None)
    cli.refused("deal", "lost", "99", "--reason", "budget", code=3)
    cli.refused("deal", "reopen", "99", code=3)


def test_deal_unknown_subcommand(cli: Cli) -> None:
    assert "No such command 'nosuch'" in cli.refused("deal", "nosuch").err


@pytest.mark.parametrize("group", ["deal", "customer", "user", "db", "config"])
def test_bare_group_shows_readable_help(cli: Cli, group: str) -> None:
    result = cli(group)
    if result.code == 0:
        assert result.out.startswith(f"Usage: leaddesk {group}")
    else:
        line = assert_one_line_refusal(result)
        assert "⏎" not in line and "Usage:" not in line


# -- customers ---------------------------------------------------------------------------------
def test_customer_list_and_show(cli: Cli, deal: int) -> None:
    cli.add(company="Solo")
    cli.ok("customer-from-lead", "2")
    rows = cli.ok("customer", "list", "--json").json()
    assert [(r["id"], r["name"], r["kind"], r["leads"], r["deals"]) for r in rows] == [
        (1, "Acme", "company", 1, 1), (2, "Solo", "company", 1, 0)]
    assert [r["name"] for r in cli.ok("customer", "list", "--search", "SOL", "--json").json()] == ["Solo"]
    table = cli.ok("customer", "list").out
    assert header(table) == ["id", "name", "kind", "phone", "email", "city", "leads", "deals"]

    body = cli.ok("customer", "show", "1", "--json").json()
    assert (body["name"], body["email"], body["phone"]) == ("Acme", ANN["email"], ANN["phone"])
    assert [(c["first_name"], c["last_name"]) for c in body["contacts"]] == [("Ann", "Lee")]
    assert [lead["number"] for lead in body["leads"]] == [1]
    assert [d["title"] for d in body["deals"]] == ["Rollout"]
    out = cli.ok("customer", "show", "1").out
    assert out.startswith("customer 1  Acme (company)\n")
    for word in ("Contacts", "Leads", "Deals", "Rollout", "Ann Lee"):
        assert word in out


def test_customer_not_found(cli: Cli) -> None:
    assert cli.refused("customer", "show", "42", code=3).err == "leaddesk: there is no customer 42\n"
    cli.refused("customer", "show", "42", "--json", code=3)
    assert cli.ok("customer", "list", "--json").json() == []
    assert cli.ok("customer", "list").out == "(nothing)\n"
