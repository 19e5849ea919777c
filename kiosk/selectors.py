"""Reads for the kiosk page and API."""

from __future__ import annotations

from .models import Cassette, Kiosk


def available_notes(*, kiosk: Kiosk) -> list[int]:
    """The denominations this kiosk can dispense now (a cassette with notes left), smallest first."""
    return list(
        Cassette.objects.filter(kiosk=kiosk, count__gt=0)
        .order_by("denomination")
        .values_list("denomination", flat=True)
    )
