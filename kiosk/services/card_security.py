"""Per-card counters: face lockout, OTP failures, mismatches. Called inside the caller's transaction.

What a person holding only card data (PAN + expiry) can do to a card is bounded on purpose: failed face
checks lock face verification for a while (the code path still works), wrong codes cool the code path down
with escalating pauses (face still works). The card is blocked only by staff, or by evidence: another
enrolled customer's face presented with the card at KIOSK_MISMATCH_BLOCK_KIOSKS different kiosks within
KIOSK_MISMATCH_WINDOW_S (someone is touring kiosks with the card; one person retrying at one kiosk is not).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.models import Card
from accounts.services import card_block
from audit.models import AuditEvent
from audit.services import audit_event_record
from biometrics.verdicts import FaceOutcome, FrameVerdict

from ..locks import card_security_find_lock, card_security_lock
from ..models import CardSecurity, KioskSession
from .counters import cache_count


def _card_penalty_audit(card: Card, *, kind: str, kiosk_id: int, data: dict[str, str | int]) -> None:
    """A lock or pause the card's counters just started (a failure event of the card's owner)."""
    audit_event_record(
        kind=kind,
        outcome=AuditEvent.Outcome.FAILURE,
        kiosk_id=kiosk_id,
        customer_id=card.customer_id,
        card_last4=card.last4,
        data={"card_id": card.pk, **data},
    )


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
        _card_penalty_audit(
            card,
            kind=AuditEvent.Kind.LOCKOUT,
            kiosk_id=kiosk_id,
            data={"face_locked_until": security.face_locked_until.isoformat()},
        )
    return locked


def card_face_success_record(*, card: Card) -> None:
    security = card_security_lock(card=card)
    if security.consecutive_face_failures:
        security.consecutive_face_failures = 0
        security.save(update_fields=["consecutive_face_failures", "updated_at"])


def mismatch_frame_live(session: KioskSession, *, verdict: FrameVerdict) -> bool:
    """True when this mismatch frame makes the session's mismatch count towards blocking (once a session).

    With PAD on: FACE_MATCH_FRAMES_REQUIRED frames of another customer's face that each pass PAD, as many as
    the owner needs to be verified (a printed or on-screen photo does not). Several faces never count. With
    PAD off there is nothing to tell a photo by, and every mismatch counts, as it always did.
    """
    if session.mismatch_counted or verdict.outcome != FaceOutcome.MISMATCH:
        return False
    if not (settings.PAD_ENABLED and settings.LIVENESS_ENABLED):
        return True
    if verdict.pad_score is None or verdict.pad_score < settings.PAD_THRESHOLD:
        return False
    live = cache_count(f"kiosk:mismatch-live-frames:{session.pk}", timeout=settings.KIOSK_SESSION_MAX_S)
    return live >= settings.FACE_MATCH_FRAMES_REQUIRED


def mismatch_pad_passed(pad_score: float | None) -> bool:
    """A late-named mismatch (one frame) counts if PAD is off or its frame passed PAD."""
    if not (settings.PAD_ENABLED and settings.LIVENESS_ENABLED):
        return True
    return pad_score is not None and pad_score >= settings.PAD_THRESHOLD


def card_mismatch_count(session: KioskSession) -> bool:
    """The session's mismatch counts towards blocking its card from now on. True if now blocked."""
    session.mismatch_counted = True
    session.save(update_fields=["mismatch_counted"])
    return card_mismatch_record(card=session.claimed_card, kiosk_id=session.kiosk_id)


def card_mismatch_record(*, card: Card, kiosk_id: int) -> bool:
    """Count a session where another enrolled customer's face was shown with this card. True if now blocked.

    The current session must already be saved with mismatch_counted=True: it is part of the count. Only
    distinct kiosks count, so one person showing their own face again and again at one kiosk cannot block
    someone else's card; sessions before the last staff reset do not count.
    """
    security = card_security_lock(card=card)
    security.mismatch_count += 1
    security.save(update_fields=["mismatch_count", "updated_at"])
    since = timezone.now() - timedelta(seconds=settings.KIOSK_MISMATCH_WINDOW_S)
    if security.mismatches_reset_at is not None:
        since = max(since, security.mismatches_reset_at)
    kiosks = (
        KioskSession.objects.filter(card=card, mismatch_counted=True, created_at__gte=since)
        .values("kiosk_id")
        .distinct()
        .count()
    )
    if kiosks >= settings.KIOSK_MISMATCH_BLOCK_KIOSKS:
        card_block(
            card=card,
            reason=f"Another enrolled customer's face presented with this card at {kiosks} different kiosks.",
        )
        return True
    return False


# How long an ended cool-down is remembered: the next series of wrong codes within it cools down longer.
_COOLDOWN_MEMORY = timedelta(days=1)


def card_otp_locked_until(*, card: Card) -> datetime | None:
    """When the card's code path opens again, or None if it is open."""
    until = CardSecurity.objects.filter(card=card).values_list("otp_locked_until", flat=True).first()
    return until if until and until > timezone.now() else None


def card_otp_failure_record(*, card: Card, kiosk_id: int) -> datetime | None:
    """Count a wrong code; OTP_COOLDOWN_AFTER in a row (across codes and sessions) pause the code path.

    Returns the end of the cool-down that this wrong code started, else None. Each cool-down in a series is
    longer (OTP_COOLDOWN_STEPS_S); the card itself is never blocked for wrong codes, so a stranger typing
    codes cannot take the card away from its owner.
    """
    security = card_security_lock(card=card)
    now = timezone.now()
    if security.otp_locked_until is not None and now - security.otp_locked_until > _COOLDOWN_MEMORY:
        security.otp_cooldown_level, security.otp_locked_until = 0, None
    security.consecutive_otp_failures += 1
    until = None
    if security.consecutive_otp_failures >= settings.OTP_COOLDOWN_AFTER:
        steps = settings.OTP_COOLDOWN_STEPS_S
        seconds = steps[min(security.otp_cooldown_level, len(steps) - 1)]
        until = now + timedelta(seconds=seconds)
        security.otp_locked_until = until
        security.otp_cooldown_level += 1
        security.consecutive_otp_failures = 0
    security.save(
        update_fields=["consecutive_otp_failures", "otp_locked_until", "otp_cooldown_level", "updated_at"]
    )
    if until is not None:
        _card_penalty_audit(
            card,
            kind=AuditEvent.Kind.OTP_COOLDOWN,
            kiosk_id=kiosk_id,
            data={"otp_locked_until": until.isoformat(), "cooldown_level": security.otp_cooldown_level},
        )
    return until


def card_otp_success_record(*, card: Card) -> None:
    """The owner proved themselves with a right code: the wrong-code series and its escalation start over."""
    security = card_security_lock(card=card)
    if security.consecutive_otp_failures or security.otp_cooldown_level or security.otp_locked_until:
        security.consecutive_otp_failures, security.otp_cooldown_level = 0, 0
        security.otp_locked_until = None
        security.save(
            update_fields=["consecutive_otp_failures", "otp_cooldown_level", "otp_locked_until", "updated_at"]
        )


# Every counter a staff reset clears, and its cleared value.
_RESET_VALUES: dict[str, Any] = {
    "consecutive_face_failures": 0,
    "face_locked_until": None,
    "consecutive_otp_failures": 0,
    "otp_locked_until": None,
    "otp_cooldown_level": 0,
    "mismatch_count": 0,
}


def card_face_lock_clear(card: Card) -> datetime | None:
    """Lift only the face lock (accounts.services.card_face_lock_reset); returns when it would have ended.
    The code path's pauses and the mismatch evidence stay: they are about someone else at the card."""
    security = card_security_find_lock(card=card)
    if security is None:
        return None
    previous = security.face_locked_until
    security.face_locked_until, security.consecutive_face_failures = None, 0
    security.save(update_fields=["face_locked_until", "consecutive_face_failures", "updated_at"])
    return previous


def card_security_reset(*, card: Card) -> dict[str, Any]:
    """Clear every counter of the card (staff unblock). Returns the previous values of what was not clear.

    Call inside the caller's transaction (accounts.services.card_unblock), before it locks the card: the lock
    order is card security → card everywhere. Mismatch sessions seen so far stop counting as evidence.
    """
    security = card_security_lock(card=card)
    previous: dict[str, Any] = {}
    for name, cleared in _RESET_VALUES.items():
        value = getattr(security, name)
        if value != cleared:
            previous[name] = value.isoformat() if isinstance(value, datetime) else value
        setattr(security, name, cleared)
    security.mismatches_reset_at = timezone.now()
    security.save(update_fields=[*_RESET_VALUES, "mismatches_reset_at", "updated_at"])
    return previous
