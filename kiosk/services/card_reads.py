"""The card step: what a card reader delivers (PAN + expiry), checked against the card, throttled per kiosk.

A keyboard-wedge magnetic-stripe reader types track 2 into the focused field: `;PAN=YYMM<service code and
discretionary data>?`, sometimes followed by Enter. The demo page lets a person type the PAN and the expiry
(MM/YY) instead. Either way the expiry must be the card's month and year: without it a card number alone
(printed on receipts, guessed from a BIN) would be enough to start sessions and run up a card's counters.

An unknown card and a known card with the wrong expiry get the same answer (no oracle for the expiry), and
both count as failed card reads of the kiosk: after KIOSK_CARD_READ_FAILURES within KIOSK_CARD_READ_WINDOW_S
the kiosk's card reads pause with a 429. The count lives in the cache (Redis in production, shared by every
worker), so a refused read writes nothing to the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Card
from accounts.selectors import card_get_by_pan
from atmsite.errors import ApplicationError

from .counters import cache_count

# Start sentinel, 12-19 digit PAN, field separator, YYMM, service code and discretionary data, end sentinel
# (an LRC character may follow it). Readers can be set to drop the sentinels, so both are optional.
_TRACK2 = re.compile(r"^;?(?P<pan>\d{12,19})=(?P<yy>\d{2})(?P<mm>\d{2})\d*(\?.?)?$")
_TYPED_EXPIRY = re.compile(r"^(?P<mm>\d{2})\s*/\s*(?P<yy>\d{2})$")


@dataclass(frozen=True)
class CardRead:
    """What the card reader (or the person typing) delivered. `repr` never shows the PAN."""

    pan: str
    expiry_year: int
    expiry_month: int

    def __repr__(self) -> str:
        return f"CardRead(pan=…{self.pan[-4:]}, expiry={self.expiry_month:02d}/{self.expiry_year % 100:02d})"


def _unreadable() -> ApplicationError:
    return ApplicationError(
        _("The card could not be read. Insert it again, or type the number and the expiry date (MM/YY)."),
        code="card_read_invalid",
    )


def _expiry(*, yy: str, mm: str) -> tuple[int, int]:
    month = int(mm)
    if not 1 <= month <= 12:
        raise _unreadable()
    return 2000 + int(yy), month


def card_read_parse(*, track2: str = "", pan: str = "", expiry: str = "") -> CardRead:
    """Track-2 data as a keyboard-wedge reader types it, or a typed PAN and MM/YY. 400 for anything else."""
    track2, pan, expiry = (track2 or "").strip(), (pan or "").strip(), (expiry or "").strip()
    if track2:
        if pan or expiry:
            raise _unreadable()
        match = _TRACK2.match(track2)
        if match is None:
            raise _unreadable()
        year, month = _expiry(yy=match["yy"], mm=match["mm"])
        return CardRead(pan=match["pan"], expiry_year=year, expiry_month=month)
    match = _TYPED_EXPIRY.match(expiry)
    if not pan or match is None:
        raise _unreadable()
    year, month = _expiry(yy=match["yy"], mm=match["mm"])
    return CardRead(pan=pan, expiry_year=year, expiry_month=month)


def _failures_key(kiosk_id: int) -> str:
    # Fixed windows: the bucket number is part of the key, and the key expires with its window.
    bucket = int(timezone.now().timestamp()) // settings.KIOSK_CARD_READ_WINDOW_S
    return f"kiosk:card-read-failures:{kiosk_id}:{bucket}"


def card_reads_throttle_check(*, kiosk_id: int) -> None:
    """429 while the kiosk has had too many failed card reads in the current window."""
    if int(cache.get(_failures_key(kiosk_id), 0)) >= settings.KIOSK_CARD_READ_FAILURES:
        raise ApplicationError(
            _("Too many cards could not be read at this kiosk. Please wait a few minutes and try again."),
            code="card_reads_throttled",
            status_code=429,
            extra={"retry_after_s": settings.KIOSK_CARD_READ_WINDOW_S},
        )


def card_read_failure_record(*, kiosk_id: int) -> None:
    cache_count(_failures_key(kiosk_id), timeout=settings.KIOSK_CARD_READ_WINDOW_S + 1)


def card_read_resolve(*, kiosk_id: int, read: CardRead) -> Card:
    """The card for a read whose PAN and expiry both match; otherwise the same 404 as an unknown card."""
    card_reads_throttle_check(kiosk_id=kiosk_id)
    try:
        card = card_get_by_pan(pan=read.pan)  # 400 for a malformed number (a misread, not counted)
    except ApplicationError as error:
        if error.code == "card_unknown":
            card_read_failure_record(kiosk_id=kiosk_id)
        raise
    if (card.expires_on.year, card.expires_on.month) != (read.expiry_year, read.expiry_month):
        card_read_failure_record(kiosk_id=kiosk_id)
        # The same refusal card_get_by_pan gives for an unknown number (ACCOUNT_MESSAGES translates it).
        raise ApplicationError("This card is not known to the bank.", code="card_unknown", status_code=404)
    return card
