"""Phone and email normalisation (libraries are imported only when used)."""

from __future__ import annotations

from leaddesk.store.errors import RuleError


def normalise_phone(raw: str | None, region: str = "US") -> str | None:
    """E.164 form of a phone, or None when it cannot be parsed (the raw text is kept by the caller)."""
    if not raw or not raw.strip():
        return None
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
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise RuleError(f"email '{text}' is not valid: {exc}") from None
    return text


def looks_like_email(text: str) -> bool:
    """True when a lookup text is meant as an email."""
    return "@" in text
