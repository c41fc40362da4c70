"""Phone and email normalisation (libraries are imported only when used).

phonenumbers and email-validator decide; the common shapes take a shortcut that gives exactly their
answer (tests/store/test_contactinfo.py checks the shortcuts against the libraries): a North American
number written in the usual ways, and an ASCII address whose domain was already checked.
"""

from __future__ import annotations

import re
from functools import lru_cache

from leaddesk.store.errors import RuleError

# +1 (212) 555-0100, 1-212-555-0100, 212.555.0100, (212) 5550100: an area code that cannot start with
# the trunk prefix, so phonenumbers reads all of them as +1 and ten digits.
_NANP = re.compile(r"(\+1|1)?[ .-]*\(?([2-9][0-9]{2})\)?[ .-]*([0-9]{3})[ .-]*([0-9]{4})")
# A dot-atom local part of common ASCII characters, within the 64-character limit.
_SIMPLE_LOCAL = re.compile(r"[A-Za-z0-9_%+-]{1,64}(?:\.[A-Za-z0-9_%+-]+)*")


def normalise_phone(raw: str | None, region: str = "US") -> str | None:
    """E.164 form of a phone, or None when it cannot be parsed (the raw text is kept by the caller)."""
    if not raw or not raw.strip():
        return None
    text = raw.strip()
    match = _NANP.fullmatch(text)
    if match is not None and (match.group(1) == "+1" or region.upper() == "US"):
        return f"+1{match.group(2)}{match.group(3)}{match.group(4)}"
    import phonenumbers

    try:
        parsed = phonenumbers.parse(raw, region.upper())
    except phonenumbers.NumberParseException:
        return None
    # A local-only number (7 digits in the US) is not a full number: normalising it would
    # invent a country and area and make unrelated phones match.
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def check_email(raw: str | None) -> str | None:
    """A trimmed email checked by format (no DNS); None for empty; RuleError when malformed."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    local, at, domain = text.rpartition("@")
    if at and len(text) <= 254 and len(local) <= 64 and _SIMPLE_LOCAL.fullmatch(local) and _domain_ok(domain):
        return text
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise RuleError(f"email '{text}' is not valid: {exc}") from None
    return text


@lru_cache(maxsize=4096)
def _domain_ok(domain: str) -> bool:
    """True when email-validator accepts an address at this domain (checked once per domain)."""
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(f"a@{domain}", check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def looks_like_email(text: str) -> bool:
    """True when a lookup text is meant as an email."""
    return "@" in text
