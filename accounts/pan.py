"""Card numbers (PANs): validation and the keyed hash used to find a card without storing its number."""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings

from accounts.errors import AccountsError

_NON_DIGITS = re.compile(r"[\s-]")


def pan_normalise(raw: str) -> str:
    return _NON_DIGITS.sub("", raw or "")


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def luhn_check_digit(partial: str) -> str:
    for digit in "0123456789":
        if luhn_valid(partial + digit):
            return digit
    raise AssertionError("unreachable: one digit always completes a Luhn number")


def pan_validate(raw: str) -> str:
    """Return the PAN as digits, or raise ValidationError with a reason (the PAN is never echoed back)."""
    digits = pan_normalise(raw)
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        raise AccountsError.PAN_FORMAT.invalid()
    if not luhn_valid(digits):
        raise AccountsError.PAN_LUHN.invalid()
    return digits


def pan_hash(digits: str) -> str:
    """Keyed HMAC-SHA256: without CARD_HMAC_KEY the small PAN space cannot be brute-forced from the hash."""
    return hmac.new(settings.CARD_HMAC_KEY.encode(), digits.encode(), hashlib.sha256).hexdigest()


def pan_mask(last4: str) -> str:
    return f"•••• {last4}"
