"""The phone and email shortcuts give exactly the libraries' answers on the shapes they take."""

from __future__ import annotations

import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from leaddesk.store import contactinfo
from leaddesk.store.errors import RuleError


def library_phone(raw: str, region: str) -> str | None:
    """What `normalise_phone` gave before the shortcut: phonenumbers alone."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_possible_number_with_reason(parsed) != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def library_email(raw: str) -> bool:
    try:
        validate_email(raw, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def our_email(raw: str) -> bool:
    try:
        return contactinfo.check_email(raw) == raw
    except RuleError:
        return False


NANP_SHAPES = st.from_regex(r"\A(\+1|1)?[ .-]{0,2}\(?[0-9]{3}\)?[ .-]{0,2}[0-9]{3}[ .-]{0,2}[0-9]{4}\Z")


@settings(max_examples=400, deadline=None)
@given(NANP_SHAPES, st.sampled_from(["US", "CA", "GB", "DE", "FR"]))
def test_north_american_shortcut_matches_phonenumbers(raw: str, region: str) -> None:
    assert contactinfo.normalise_phone(raw, region) == library_phone(raw, region)


@pytest.mark.parametrize(("raw", "region", "e164"), [
    ("+1 (212) 555-0100", "US", "+12125550100"), ("1-212-555-0100", "US", "+12125550100"),
    ("212.555.0100", "US", "+12125550100"), ("+1 212 555 0100", "DE", "+12125550100"),
    ("212 555 0100", "GB", "+442125550100"), ("(112) 555-0100", "US", "+11125550100"), ("555-0100", "US", None),
    ("+44 20 7946 0958", "US", "+442079460958"), ("020 7946 0958", "GB", "+442079460958"),
])
def test_phones_in_and_out_of_the_shortcut(raw: str, region: str, e164: str | None) -> None:
    assert contactinfo.normalise_phone(raw, region) == library_phone(raw, region) == e164


LOCAL = st.from_regex(r"\A[A-Za-z0-9_%+-]{1,70}(\.[A-Za-z0-9_%+-]{1,8}){0,3}\Z")
DOMAIN = st.one_of(
    st.sampled_from(["gmail.com", "acme.example.com", "bolt.co.uk", "localhost", "x.local", "a.test", "b",
                     "-bad.com", "bad-.com", "ok.c", "123.456", "xn--bcher-kva.example", "a..b.com"]),
    st.from_regex(r"\A[a-zA-Z0-9-]{1,12}(\.[a-zA-Z0-9-]{1,12}){0,3}\Z"),
)


@settings(max_examples=500, deadline=None)
@given(LOCAL, DOMAIN)
def test_email_shortcut_matches_email_validator(local: str, domain: str) -> None:
    address = f"{local}@{domain}"
    assert our_email(address) == library_email(address), address


def test_a_refused_email_still_says_why() -> None:
    with pytest.raises(RuleError, match=r"email 'ann@localhost' is not valid: .*"):
        contactinfo.check_email("ann@localhost")
    assert contactinfo.check_email("  ann.lee+crm@acme.example.com ") == "ann.lee+crm@acme.example.com"
