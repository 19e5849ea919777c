"""The card step: what a card reader delivers (PAN + expiry), checked, throttled per card and kiosk.

A keyboard-wedge magnetic-stripe reader types track 2 into the focused field: `;PAN=YYMM<service code and
discretionary data>?`, sometimes followed by Enter. The demo page lets a person type the PAN and the expiry
(MM/YY) instead. Either way the expiry must be the card's month and year: without it a card number alone
(printed on receipts, guessed from a BIN) would be enough to start sessions and run up a card's counters.

An unknown card and a known card with the wrong expiry get the same answer (no oracle for the expiry), and
both count as failed card reads of the kiosk and of the card number: KIOSK_CARD_READ_FAILURES_PER_CARD within
KIOSK_CARD_READ_WINDOW_S pause that number's reads at every kiosk (429); KIOSK_CARD_READ_FAILURES at one kiosk
pause its failing reads and those of numbers that failed, never a card read right the first time. The counts
live in the cache (Redis in production, shared by every worker), so a refused read writes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from accounts.errors import AccountsError
from accounts.models import Card
from accounts.pan import pan_hash, pan_normalise
from accounts.selectors import card_get_by_pan
from atmsite.errors import ApplicationError

from ..errors import KioskError
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
    return ApplicationError(KioskError.CARD_READ_INVALID)


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


def _card_failures_key(pan: str) -> str:
    """Failed reads of one card number at any kiosk (its keyed HMAC: the number is never in the cache)."""
    bucket = int(timezone.now().timestamp()) // settings.KIOSK_CARD_READ_WINDOW_S
    return f"kiosk:card-read-failures:card:{pan_hash(pan_normalise(pan))}:{bucket}"


def _throttled() -> ApplicationError:
    return ApplicationError(
        KioskError.CARD_READS_THROTTLED,
        status_code=429,
        extra={"retry_after_s": settings.KIOSK_CARD_READ_WINDOW_S},
    )


def card_reads_throttle_check(*, kiosk_id: int, pan: str) -> bool:
    """429 while this card number has had too many failed reads (KIOSK_CARD_READ_FAILURES_PER_CARD, at any
    kiosk), or while the kiosk has had too many (KIOSK_CARD_READ_FAILURES) and this number failed too.
    Returns whether the kiosk is paused: then a read that fails answers 429 as well, but a card with no
    failed read goes on, so a passer-by typing numbers cannot pause the kiosk for everyone."""
    card_failures = int(cache.get(_card_failures_key(pan), 0))
    if card_failures >= settings.KIOSK_CARD_READ_FAILURES_PER_CARD:
        raise _throttled()
    kiosk_paused = int(cache.get(_failures_key(kiosk_id), 0)) >= settings.KIOSK_CARD_READ_FAILURES
    if kiosk_paused and card_failures:
        raise _throttled()
    return kiosk_paused


def card_read_failure_record(*, kiosk_id: int, pan: str) -> None:
    cache_count(_failures_key(kiosk_id), timeout=settings.KIOSK_CARD_READ_WINDOW_S + 1)
    cache_count(_card_failures_key(pan), timeout=settings.KIOSK_CARD_READ_WINDOW_S + 1)


def card_read_resolve(*, kiosk_id: int, read: CardRead) -> Card:
    """The card for a read whose PAN and expiry both match; otherwise the same 404 as an unknown card."""
    kiosk_paused = card_reads_throttle_check(kiosk_id=kiosk_id, pan=read.pan)
    try:
        card = card_get_by_pan(pan=read.pan)  # 400 for a malformed number (a misread, not counted)
    except ApplicationError as error:
        if error.code == AccountsError.CARD_UNKNOWN:
            card_read_failure_record(kiosk_id=kiosk_id, pan=read.pan)
            if kiosk_paused:
                raise _throttled() from None
        raise
    if (card.expires_on.year, card.expires_on.month) != (read.expiry_year, read.expiry_month):
        card_read_failure_record(kiosk_id=kiosk_id, pan=read.pan)
        if kiosk_paused:
            raise _throttled()
        # The same refusal card_get_by_pan gives for an unknown number (kiosk.apis words it as a misread).
        raise ApplicationError(AccountsError.CARD_UNKNOWN, status_code=404)
    return card
