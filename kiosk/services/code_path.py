"""The one-time code path of a session: where a code goes, and the cool-down that wrong codes start.

OTP_COOLDOWN_AFTER wrong codes in a row pause the code path, each pause longer than the last
(OTP_COOLDOWN_STEPS_S), and the owner gets a WhatsApp notice (no code in it). A card session counts on the
card (security.py, CardSecurity). A card-less session counts per typed phone number, in the cache (Redis in
production) keyed by the phone's HMAC, so a known and an unknown number cool down alike and nothing about
the number shows.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Customer
from accounts.notices import notice_render
from notifications.senders import otp_sender_get

from ..models import KioskSession
from . import card_security
from .counters import cache_count
from .entries import owner_notice_send

# How long the cache remembers a card-less number's wrong codes and its last pause level.
_CARDLESS_MEMORY_S = 24 * 3600


def _owner(session: KioskSession) -> Customer | None:
    """The card owner, or a customer who opted in with the typed number of a card-less session (None if
    nobody did). The candidates all have the typed number: any of them gives it in the form it was stored."""
    if not session.is_cardless:
        return session.claimed_card.customer
    return Customer.objects.filter(pk__in=session.cardless_candidates or []).order_by("pk").first()


def _owner_phone(session: KioskSession) -> str:
    """The card owner's phone, or the typed number of a card-less session ("" if nobody opted in with it)."""
    owner = _owner(session)
    return owner.phone if owner is not None else ""


def code_path_send(session: KioskSession, *, body: str) -> None:
    """Send a code to the owner (a card-less number nobody opted in with: nothing, and the same answer)."""
    phone = _owner_phone(session)
    if phone:
        otp_sender_get().send(phone=phone, body=body)


def _cardless_keys(session: KioskSession) -> tuple[str, str, str]:
    base = f"kiosk:cardless-otp:{session.cardless_phone_hmac}"
    return f"{base}:failures", f"{base}:paused-until", f"{base}:level"


def code_path_paused_until(session: KioskSession) -> datetime | None:
    """When the session's code path opens again, or None if it is open."""
    if not session.is_cardless:
        return card_security.card_otp_locked_until(card=session.claimed_card)
    _failures, paused_key, _level = _cardless_keys(session)
    until = cache.get(paused_key)
    return until if until is not None and until > timezone.now() else None


def code_path_failure_record(session: KioskSession) -> datetime | None:
    """Count a wrong code; returns the end of the pause it started, else None. Call in the transaction."""
    if not session.is_cardless:
        return card_security.card_otp_failure_record(card=session.claimed_card, kiosk_id=session.kiosk_id)
    failures_key, paused_key, level_key = _cardless_keys(session)
    if cache_count(failures_key, timeout=_CARDLESS_MEMORY_S) < settings.OTP_COOLDOWN_AFTER:
        return None
    level = int(cache.get(level_key, 0))
    steps = settings.OTP_COOLDOWN_STEPS_S
    seconds = steps[min(level, len(steps) - 1)]
    until = timezone.now() + timedelta(seconds=seconds)
    cache.set(paused_key, until, timeout=seconds + 1)
    cache.set(level_key, level + 1, timeout=_CARDLESS_MEMORY_S)
    cache.delete(failures_key)
    return until


def code_path_success_record(session: KioskSession) -> None:
    """A right code: the wrong-code series and its escalation start over."""
    if session.is_cardless:
        cache.delete_many(list(_cardless_keys(session)))
    else:
        card_security.card_otp_success_record(card=session.claimed_card)


def code_path_cooldown_notice_send(session: KioskSession, *, until: datetime) -> None:
    """Tell the owner on WhatsApp that wrong codes paused the code path (a notice, never a code)."""
    values = {
        "bank": settings.BANK_NAME,
        "minutes": max(1, round((until - timezone.now()).total_seconds() / 60)),
    }

    def render() -> str:
        if session.is_cardless:
            return (
                gettext(
                    "%(bank)s: several wrong one-time codes were entered at an ATM for card-less cash with "
                    "this phone number. Codes are paused for %(minutes)d minutes. If this was not you, call "
                    "the bank."
                )
                % values
            )
        return gettext(
            "%(bank)s: several wrong one-time codes were entered at an ATM for your card %(card)s. Codes for "
            "this card are paused for %(minutes)d minutes. If this was not you, call the bank."
        ) % {**values, "card": session.claimed_card.masked_pan}

    owner = _owner(session)
    if owner is not None:
        # In the owner's language, not the kiosk screen's (whoever typed the codes chose that one).
        owner_notice_send(session, phone=owner.phone, body=notice_render(owner, render), notice="cooldown")
