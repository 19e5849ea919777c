"""Per-card counters: face lockout, OTP failures, mismatches. Called inside the caller's transaction."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import Card
from accounts.services import card_block
from audit.models import AuditEvent
from audit.services import audit_event_record

from ..models import CardSecurity, KioskSession


def card_security_lock(*, card: Card) -> CardSecurity:
    """The card's counters row, created on first use and locked (callers already hold the session lock)."""
    CardSecurity.objects.get_or_create(card=card)
    return CardSecurity.objects.select_for_update().get(card=card)


def card_face_locked(*, card: Card) -> bool:
    locked_until = CardSecurity.objects.filter(card=card).values_list("face_locked_until", flat=True).first()
    return bool(locked_until and locked_until > timezone.now())


def card_face_failure_record(*, card: Card, kiosk_id: int) -> bool:
    """Count one failed face check; the Nth in a row locks face verification a while. True if locked now."""
    security = card_security_lock(card=card)
    security.consecutive_face_failures += 1
    locked = security.consecutive_face_failures >= settings.KIOSK_FACE_LOCKOUT_FAILURES
    if locked:
        security.face_locked_until = timezone.now() + timedelta(seconds=settings.KIOSK_FACE_LOCKOUT_S)
        # The lock itself is the penalty; after it the card gets a fresh series of attempts.
        security.consecutive_face_failures = 0
    security.save(update_fields=["consecutive_face_failures", "face_locked_until", "updated_at"])
    if locked and security.face_locked_until is not None:
        audit_event_record(
            kind=AuditEvent.Kind.LOCKOUT,
            outcome=AuditEvent.Outcome.FAILURE,
            kiosk_id=kiosk_id,
            customer_id=card.customer_id,
            card_last4=card.last4,
            data={"card_id": card.pk, "face_locked_until": security.face_locked_until.isoformat()},
        )
    return locked


def card_face_success_record(*, card: Card) -> None:
    security = card_security_lock(card=card)
    if security.consecutive_face_failures:
        security.consecutive_face_failures = 0
        security.save(update_fields=["consecutive_face_failures", "updated_at"])


def card_mismatch_record(*, card: Card, kiosk_id: int) -> bool:
    """Count a face of another enrolled customer at this card; block the card after repeats. True if blocked.

    The current session must already be saved with face_failure_reason="mismatch": it is part of the count.
    """
    security = card_security_lock(card=card)
    security.mismatch_count += 1
    security.save(update_fields=["mismatch_count", "updated_at"])
    since = timezone.now() - timedelta(seconds=settings.KIOSK_MISMATCH_WINDOW_S)
    recent = KioskSession.objects.filter(
        card=card, face_failure_reason="mismatch", created_at__gte=since
    ).count()
    if recent >= settings.KIOSK_MISMATCH_BLOCK_COUNT:
        card_block(card=card, reason="Another enrolled customer's face presented with this card repeatedly.")
        return True
    return False


def card_otp_failure_record(*, card: Card) -> bool:
    """Count a wrong code; too many in a row (across codes and sessions) block the card. True if blocked."""
    security = card_security_lock(card=card)
    security.consecutive_otp_failures += 1
    security.save(update_fields=["consecutive_otp_failures", "updated_at"])
    if security.consecutive_otp_failures >= settings.OTP_CARD_BLOCK_AFTER:
        card_block(card=card, reason="Too many wrong one-time codes.")
        return True
    return False


def card_otp_success_record(*, card: Card) -> None:
    security = card_security_lock(card=card)
    if security.consecutive_otp_failures:
        security.consecutive_otp_failures = 0
        security.save(update_fields=["consecutive_otp_failures", "updated_at"])
