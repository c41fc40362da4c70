"""Lead references (number, email, phone in any format), status names (case, spaces, hyphens,
underscores, unique prefix) and the two presets where they differ."""

from __future__ import annotations

import pytest
from clisupport import ANN, BOB, Cli, flags


# -- references --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "ref",
    ["2", "#2", " 2 ", "bob@bolt.example.com", "BOB@Bolt.Example.COM", "+1 212 555 0199", "(212) 555-0199",
     "212.555.0199", "2125550199", "+1-212-555-0199", "+12125550199", "1 212 555 0199"],
)
def test_lead_reference_forms(cli: Cli, ref: str) -> None:
    cli.add(**ANN)
    bob = cli.add(**BOB)
    assert bob == 2
    assert cli.show(ref)["contact_name"] == "Bob Stone"  # quick path
    assert cli.ok("won", ref, "--value", "10").out.startswith("#2 Bob Stone")  # Typer path
    assert {"Converted", "10.00"} <= {r["new"] for r in cli.ok("history", ref, "--json").json()}


def test_reference_by_unnormalised_phone(cli: Cli) -> None:
    number = cli.add(company="Odd", phone="ext. 12")
    assert cli.show("ext. 12")["number"] == number


def test_reference_shared_by_several_leads_is_refused(cli: Cli) -> None:
    cli.add(**ANN)
    cli.ok("add", "--name", "Ann Again", "--email", "Ann@Acme.example.com", "--phone", "212 555 0100", "--force")
    for ref in ("ann@acme.example.com", "(212) 555-0100"):
        result = cli.refused("status", ref, "contacted")
        assert result.err == f"leaddesk: '{ref}' matches several leads (1, 2): use the lead number\n"
    cli.ok("status", "2", "contacted")


@pytest.mark.parametrize("ref", ["3", "#3", "nobody@acme.example.com", "+1 212 555 0111", "not-a-ref"])
def test_unknown_reference_exits_3(cli: Cli, ref: str) -> None:
    cli.add(**ANN)
    for args in (["show", ref], ["status", ref, "new"], ["note", ref, "x"], ["followup", ref, "none"],
                 ["edit", ref, "--zone", "x"], ["qualify", ref], ["undo", ref]):
        assert cli.refused(*args, code=3).err == f"leaddesk: no lead matches '{ref}'\n"


# -- status names ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "status"),
    [
        ("contacted", "Contacted"),
        ("CONTACTED", "Contacted"),
        ("Attempted to contact", "Attempted to contact"),
        ("attempted-to-contact", "Attempted to contact"),
        ("ATTEMPTED_TO_CONTACT", "Attempted to contact"),
        ("attempted_to-contact", "Attempted to contact"),
        ("  attempted   to contact ", "Attempted to contact"),
        ("att", "Attempted to contact"),
        ("attempted-to", "Attempted to contact"),
        ("Eng", "Engaged"),
        ("e", "Engaged"),
        ("n", "New"),
    ],
)
def test_status_names(cli: Cli, typed: str, status: str) -> None:
    number = cli.add(company="S")
    if status == "New":
        cli.ok("status", str(number), "contacted")
    assert cli.ok("status", str(number), typed, "--json").json()["status"] == status
    assert [r["number"] for r in cli.ok("list", "--status", typed, "--json").json()] == [number]


@pytest.mark.parametrize(("typed", "message"), [
    ("con", "leaddesk: status 'con' is ambiguous: it could be Contacted, Converted\n"),
    ("", "leaddesk: no status given: choose from New, Attempted to contact, Contacted, Engaged, Qualified, Converted,"
         " Disqualified\n"),
    ("attempted to call", "leaddesk: unknown status 'attempted to call': choose from New, Attempted to contact,"
                          " Contacted, Engaged, Qualified, Converted, Disqualified\n"),
])
def test_status_name_refusals(cli: Cli, typed: str, message: str) -> None:
    number = cli.add(company="S")
    assert cli.refused("status", str(number), typed).err == message


@pytest.mark.parametrize(
    ("typed", "status"),
    [("attempted-to-contact", "Attempted To Contact"), ("attempted_to_contact", "Attempted To Contact"),
     ("SCHED", "Scheduled"), ("est", "Estimating"), ("Contacted", "Contacted"), ("a", "Attempted To Contact")],
)
def test_status_names_services(services: Cli, typed: str, status: str) -> None:
    number = services.add(company="S")
    assert services.ok("status", str(number), typed, "--json").json()["status"] == status


def test_reason_and_stage_names_fold_too(cli: Cli) -> None:
    number = cli.add(company="S")
    cli.ok("lost", str(number), "--reason", "CHOSE_ANOTHER-provider")
    assert cli.show(number)["lost_reason"] == "Chose another provider"


# -- the presets where they differ -------------------------------------------------------------
PRESET_FLOW = {
    "sales": {"statuses": ["New", "Attempted to contact", "Contacted", "Engaged", "Qualified", "Converted",
                           "Disqualified"],
              "start": "New", "won": "Converted", "lost": "Disqualified", "qualified": "Qualified",
              "stage": "Prospecting", "source": "Cold Call", "type": "Inbound"},
    "services": {"statuses": ["Pending", "Attempted To Contact", "Contacted", "Estimating", "Scheduled", "Won",
                              "Lost"],
                 "start": "Pending", "won": "Won", "lost": "Lost", "qualified": "Estimating",
                 "stage": "Estimate sent", "source": "Phone Call", "type": "Residential"},
}


@pytest.fixture(params=["sales", "services"])
def preset(request: pytest.FixtureRequest) -> tuple[str, Cli]:
    return request.param, request.getfixturevalue("cli" if request.param == "sales" else "services")


def test_preset_statuses(preset: tuple[str, Cli]) -> None:
    name, run = preset
    rows = run.ok("statuses", "--json").json()
    assert [r["name"] for r in rows] == PRESET_FLOW[name]["statuses"]
    assert [r["category"] for r in rows][-2:] == ["won", "lost"]
    assert all(r["manual"] == (r["category"] == "open") for r in rows)


def test_preset_lead_life(preset: tuple[str, Cli]) -> None:
    name, run = preset
    flow = PRESET_FLOW[name]
    number = run.add(company="Life", source=flow["source"], type=flow["type"])
    assert run.show(number)["status"] == flow["start"]
    assert run.ok("won", str(number), "--value", "100").out.endswith(f"· {flow['won']} · job value 100.00\n")
    assert run.ok("lost", str(number), "--reason", "budget").out.endswith(f"· {flow['lost']} · Budget\n")
    assert run.show(number)["status_category"] == "lost"
    assert run.ok("reopen", str(number)).out.endswith(f"· {flow['start']}\n")
    assert f"'{flow['won']}' needs a job value" in run.refused("status", str(number), flow["won"]).err
    assert f"'{flow['lost']}' needs a reason" in run.refused("status", str(number), flow["lost"]).err


def test_preset_qualify(preset: tuple[str, Cli]) -> None:
    name, run = preset
    flow = PRESET_FLOW[name]
    number = run.add(company="Qual")
    if name == "services":
        run.ok("status", str(number), "estimating")
    lead = run.ok("qualify", str(number), "--json").json()["lead"]
    assert lead["status"] == flow["qualified"]
    assert lead["deals"][0]["stage"] == flow["stage"]


def test_qualified_is_not_a_status_in_services(services: Cli) -> None:
    number = services.add(company="Q")
    assert "unknown status 'qualified'" in services.refused("status", str(number), "qualified").err


def test_qualified_is_reached_only_by_qualifying_in_sales(cli: Cli) -> None:
    number = cli.add(company="Q")
    assert "reached only by qualifying" in cli.refused("status", str(number), "qualified").err


def test_services_lists(services: Cli) -> None:
    assert [r["name"] for r in services.ok("types", "--json").json()] == ["Residential", "Commercial"]
    assert "Phone Call" in [r["name"] for r in services.ok("sources", "--json").json()]
    assert [r["name"] for r in services.ok("items", "--json").json()] == ["Estimate", "Installation", "Repair",
                                                                         "Maintenance"]
    number = services.add(**{**ANN, "source": "phone"})
    assert services.show(number)["source"] == "Phone Call"
    services.refused("add", *flags(name="X", source="Cold Call"))  # a sales-only source
