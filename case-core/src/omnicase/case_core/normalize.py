"""Normalised contact identities: one spelling per address, number or handle."""

from __future__ import annotations

import re

import phonenumbers

from omnicase.kit.inputs import email_key, is_email_address


def normalize_email(value: str) -> str | None:
    """The address as the suite keys it (:func:`~omnicase.kit.inputs.email_key`), if it is one."""
    address = email_key(value)
    return address if is_email_address(address) else None


def email_domain(address: str) -> str:
    return address.rsplit("@", 1)[1]


def normalize_phone(value: str, default_region: str | None = None) -> str | None:
    """E.164 (``+4915112345678``), or None if it is not a valid number."""
    try:
        number = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_handle(channel: str, handle: str) -> str | None:
    handle = handle.strip()
    if not handle or len(handle) > 300:
        return None
    return f"{channel}:{handle}"


# A domain as an organization's list takes it (a leading @ and a trailing dot allowed, any
# case), published in the schema as is, so the document and normalize_domain agree.
DOMAIN_PATTERN = r"^@?(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\.?$"
MAX_DOMAIN_LENGTH = 253


def normalize_domain(value: str) -> str | None:
    """Lowercased without the @ or trailing dot; None unless ``value`` is :data:`DOMAIN_PATTERN` in
    at most :data:`MAX_DOMAIN_LENGTH` characters."""
    if len(value) > MAX_DOMAIN_LENGTH or not re.fullmatch(DOMAIN_PATTERN, value):
        return None
    return value.lower().lstrip("@").rstrip(".")


def normalize_message_id(value: str | None) -> str | None:
    """A Message-ID without its angle brackets or surrounding space (intakes differ in which they keep)."""
    if value is None:
        return None
    cleaned = value.strip().removeprefix("<").removesuffix(">").strip()
    return cleaned[:998] or None


def normalize_message_ids(values: list[str]) -> list[str]:
    return list(dict.fromkeys(cleaned for value in values if (cleaned := normalize_message_id(value))))
