"""Phone numbers: what staff type ("8 (916) 555-12-34", "+7 916 555-12-34", "07700 900123") becomes E.164;
in the audit trail and on staff screens only the last four digits show."""

from __future__ import annotations

from typing import Any

import phonenumbers
from django import forms
from django.conf import settings

from accounts.errors import AccountsError

# Long enough for any usual written form (spaces, dashes, brackets, a leading 8 or 00).
PHONE_INPUT_MAX_LENGTH = 32


def phone_mask(phone: str) -> str:
    digits = "".join(char for char in phone or "" if char.isdigit())
    return f"•••• {digits[-4:]}" if digits else ""


def _regions() -> list[str]:
    regions = [settings.PHONE_DEFAULT_REGION, *settings.PHONE_OTHER_REGIONS]
    return list(dict.fromkeys(region for region in regions if region))


def phone_e164(raw: str) -> str:
    """The typed number in E.164, or a ValidationError. A number with + (or 00) is international; otherwise
    national in PHONE_DEFAULT_REGION, then in PHONE_OTHER_REGIONS where it is a valid number there (a leading
    8 in Russia)."""
    text = (raw or "").strip()
    if not text or len(text) > PHONE_INPUT_MAX_LENGTH:
        raise AccountsError.PHONE_INVALID.invalid()
    if text.startswith("00"):
        text = "+" + text[2:]
    for index, region in enumerate(_regions()):
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        # The first region (or a + number): the right length is enough (new ranges are assigned faster
        # than the library learns them; a local-only length is not); a fallback region must be sure.
        possible = (
            phonenumbers.is_possible_number_with_reason(number) == phonenumbers.ValidationResult.IS_POSSIBLE
        )
        if (index == 0 or text.startswith("+")) and possible:
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise AccountsError.PHONE_INVALID.invalid()


class PhoneField(forms.CharField):
    """A form field that takes the usual written forms of a phone number and cleans to E.164."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", PHONE_INPUT_MAX_LENGTH)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        text = super().to_python(value) or ""
        return phone_e164(text) if text else text
