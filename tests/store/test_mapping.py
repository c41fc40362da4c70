"""Column mapping: headers of files and form keys matched to lead fields, overrides, nothing lost."""

from __future__ import annotations

import pytest

from leaddesk.settings import CustomField, Settings
from leaddesk.store.errors import RuleError
from leaddesk.store.mapping import lead_values, map_columns, map_record


def targets(headers: list[str], **kwargs: object) -> list[str]:
    cmap = map_columns(headers, **kwargs)  # type: ignore[arg-type]
    return [cmap.fields.get(i, "?") for i in range(len(headers))]


def test_seed_001_columns_map_as_is() -> None:
    headers = ["contact_name", "phone", "source", "company_name", "email", "address", "city", "state",
               "priority", "description"]
    assert targets(headers) == ["name", "phone", "source", "company", "email", "street", "city", "state",
                                "priority", "description"]
    assert map_columns(headers).unknown == []


@pytest.mark.parametrize(("header", "field"), [
    ("Contact Name", "name"), ("FULL NAME", "name"), ("full_name", "name"), ("E-mail", "email"),
    ("Email Address", "email"), ("Mobile", "phone"), ("Telephone", "phone"), ("Cell", "phone"),
    ("Company Name", "company"), ("Organization", "company"), ("Account Name", "company"),
    ("Lead Source", "source"), ("Zip/Postal Code", "zip"), ("Postal Code", "zip"), ("State/Province", "state"),
    ("Region", "state"), ("Street", "street"), ("Job Title", "job_title"), ("Title", "job_title"),
    ("Notes", "description"), ("Comments", "description"), ("Assigned To", "owner"), ("Follow-up", "followup"),
    ("Expected Revenue", "expected_revenue"), ("Amount", "expected_revenue"), ("Campaign", "campaign"),
    ("Lead Status", "status"), ("  tags ", "tags"), ("Société", "?"), ("Zone", "zone"),
])
def test_common_headers_match_whatever_the_case_and_punctuation(header: str, field: str) -> None:
    assert targets([header]) == [field]


def test_other_crms_exports() -> None:
    salesforce = ["First Name", "Last Name", "Title", "Company", "Email", "Phone", "Mobile", "Street", "City",
                  "State/Province", "Zip/Postal Code", "Country", "Lead Source", "Lead Status", "Lead Owner",
                  "Industry"]
    assert targets(salesforce) == ["first_name", "last_name", "job_title", "company", "email", "phone", "phone",
                                   "street", "city", "state", "zip", "country", "source", "status", "owner", "?"]
    hubspot = ["Email", "Phone Number", "Company Name", "Street Address", "State/Region", "Country/Region",
               "Website URL", "Contact owner", "Record ID"]
    assert targets(hubspot) == ["email", "phone", "company", "street", "state", "country", "website", "owner", "?"]
    pipedrive = ["Lead - Title", "Person - Name", "Organization - Name", "Person - Email", "Person - Phone",
                 "Lead - Value", "Lead - Labels", "Lead - Expected close date"]
    assert targets(pipedrive) == ["title", "name", "company", "email", "phone", "expected_revenue", "tags",
                                  "expected_close"]
    espo = ["Address Postal Code", "Address City", "Opportunity Amount", "Assigned User", "Account Name"]
    assert targets(espo) == ["zip", "city", "expected_revenue", "owner", "company"]
    frappe = ["Lead Name", "Mobile No", "Organization", "Territory"]
    assert targets(frappe) == ["name", "phone", "company", "zone"]


def test_first_and_last_name_are_combined_and_kept_apart() -> None:
    values, extra = map_columns(["First Name", "Last Name", "Email"]).values(["Mary Ann", "Lee", "m@x.org"])
    assert values == {"name": "Mary Ann Lee", "first_name": "Mary Ann", "last_name": "Lee", "email": "m@x.org"}
    assert next(iter(values)) == "name"
    assert extra == {}


def test_unknown_cells_and_second_values_for_one_field_come_back_with_their_header() -> None:
    cmap = map_columns(["Name", "Phone", "Mobile", "Industry", "Rating", "Phone"])
    assert cmap.unknown == ["Industry", "Rating"]
    values, extra = cmap.values(["Ann", "", "555 0100", "Retail", "", "555 0199", "spill"])
    assert values == {"name": "Ann", "phone": "555 0100"}  # the first non-empty phone
    assert extra == {"Industry": "Retail", "Phone": "555 0199", "column 7": "spill"}


def test_short_rows_and_blank_headers() -> None:
    cmap = map_columns(["Name", "", "Email"])
    assert cmap.unknown == ["column 2"]
    assert cmap.values(["Ann"]) == ({"name": "Ann"}, {})
    assert cmap.values(["Ann", "x"]) == ({"name": "Ann"}, {"column 2": "x"})


def test_overrides_win_and_can_skip_a_column() -> None:
    cmap = map_columns(["Title", "Junk", "Ref"], {"Title": "title", "junk": "-", "Ref": "Source Detail"})
    assert cmap.fields == {0: "title", 2: "source_detail"}
    assert cmap.ignored == ["Junk"] and cmap.unknown == []
    assert cmap.values(["Roof", "zzz", "ad 7"]) == ({"title": "Roof", "source_detail": "ad 7"}, {})


def test_an_override_to_an_unknown_field_or_a_missing_column_is_refused() -> None:
    with pytest.raises(RuleError, match="unknown field 'shoe_size'"):
        map_columns(["Name"], {"Name": "shoe_size"})
    with pytest.raises(RuleError, match="no column 'Nom'"):
        map_columns(["Name"], {"Nom": "name"})


def test_custom_fields_map_by_name_or_label() -> None:
    settings = Settings(custom_fields={"industry": CustomField("industry", "choice", "Sector", ("Retail",)),
                                       "employees": CustomField("employees", "number")})
    cmap = map_columns(["Name", "Sector", "employees", "Industry"], settings=settings)
    assert cmap.fields == {0: "name", 1: "custom.industry", 2: "custom.employees", 3: "custom.industry"}
    values, _extra = cmap.values(["Ann", "Retail", "12", ""])
    given, status = lead_values({**values, "status": "New", "number": "7"})
    assert given == {"name": "Ann", "custom": {"industry": "Retail", "employees": "12"}}
    assert status == "New"
    assert targets(["Sector"]) == ["?"]  # without the settings it is just an unknown column


def test_map_record_for_a_web_form() -> None:
    values, extra = map_record({"your-name": "Bo", "Email": "bo@x.org", "message": "call me", "utm_x": "1",
                                "empty": ""})
    assert values == {"name": "Bo", "email": "bo@x.org", "description": "call me"}
    assert extra == {"utm_x": "1"}
