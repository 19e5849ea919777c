"""Phone numbers in the audit trail and on staff screens: only the last four digits."""

from __future__ import annotations


def phone_mask(phone: str) -> str:
    digits = "".join(char for char in phone or "" if char.isdigit())
    return f"•••• {digits[-4:]}" if digits else ""
