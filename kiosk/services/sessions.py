"""The kiosk session state machine, its lifecycle. The server alone decides every transition and timeout.

    card_entered → face_pending → verified → in_menu → ended
                        ↓
                   face_failed → otp_sent → verified
    (any state → ended on timeout/end)

Nothing about the card owner leaves the server before the decision: no name, no score, and the face of
another enrolled customer (a mismatch) looks to the kiosk exactly like a stranger's face. The mismatch is
remembered on the session (`mismatch_seen`): no one-time code is sent for it, and it counts as evidence
towards blocking the card (kiosk.services.card_security). The audit trail keeps every detail.

Camera frames (card_entered/face_pending → verified or face_failed) are handled in kiosk.services.frames; what
the kiosk is told, in kiosk.messages and kiosk.selectors.

Rows are locked through kiosk.locks, which holds the lock order.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import BankAccount, Card
from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from audit.services import audit_event_record
from biometrics.verdicts import FaceOutcome, FrameVerdict

from ..errors import KioskError
from ..locks import card_lock, kiosk_lock, session_lock, sessions_open_lock
from ..messages import session_ended_message
from ..models import Kiosk, KioskSession
from ..vocabulary import EndReason, FailureReason, as_stranger
from . import card_security, face
from .card_reads import CardRead, card_read_resolve

State = KioskSession.State
# A session's public id as the API receives it (a path segment) or as the services hold it.
PublicId = uuid.UUID | str

# The last frame's outcome → the failure recorded when the face check runs out of time (another customer's
# face fails as a stranger's would: as_stranger).
_TIMEOUT_REASON: dict[str, FailureReason] = {
    FaceOutcome.NO_MATCH: FailureReason.NO_MATCH,
    FaceOutcome.LOW_QUALITY: FailureReason.LOW_QUALITY,
}


def timeout_failure_reason(last_outcome: str) -> FailureReason:
    return _TIMEOUT_REASON.get(as_stranger(last_outcome), FailureReason.TIMEOUT)


def _seconds(name: str) -> timedelta:
    return timedelta(seconds=getattr(settings, name))


def session_deadlines(session: KioskSession) -> dict[str, datetime]:
    deadlines = {
        "session": session.created_at + _seconds("KIOSK_SESSION_MAX_S"),
        "idle": session.last_activity_at + _seconds("KIOSK_IDLE_TIMEOUT_S"),
    }
    if session.state in (State.CARD_ENTERED, State.FACE_PENDING):
        # From the first frame; without any frame (no camera, camera refused) from the card, so the customer
        # is offered the one-time code after the same wait instead of being stuck.
        started = session.face_started_at or session.created_at
        deadlines["face"] = started + _seconds("KIOSK_FACE_TIMEOUT_S")
    return deadlines


def _card_refusal(card: Card) -> ApplicationError | None:
    if card.status == Card.Status.STOLEN:
        return ApplicationError(KioskError.CARD_STOLEN, status_code=403)
    if card.status == Card.Status.BLOCKED:
        return ApplicationError(KioskError.CARD_BLOCKED, status_code=403)
    if card.status == Card.Status.EXPIRED or card.expires_on < timezone.localdate():
        return ApplicationError(KioskError.CARD_EXPIRED, status_code=403)
    if not card.customer.is_active or card.account.status == BankAccount.Status.CLOSED:
        return ApplicationError(KioskError.CARD_INACTIVE, status_code=403)
    return None


def session_audit(
    session: KioskSession, *, kind: str, outcome: str, data: dict[str, Any], snapshot: bytes | None = None
) -> AuditEvent:
    """One audit event for this session, with its kiosk, owner, card last four and id (in a transaction)."""
    return audit_event_record(
        kind=kind,
        outcome=outcome,
        kiosk_id=session.kiosk_id,
        customer_id=session.owner_customer_id,
        card_last4=session.card_last4,
        data={
            "session": str(session.public_id),
            # Card-less: the typed phone's last four digits, never more.
            **({"phone_last4": session.cardless_phone_last4} if session.is_cardless else {}),
            **data,
        },
        snapshot=snapshot,
    )


@transaction.atomic(durable=True)
def session_start(*, kiosk: Kiosk, card_read: CardRead) -> KioskSession:
    """A card was read at `kiosk`: open a session (and close any the kiosk left open).

    400 for an unreadable card, 404 for an unknown card or a wrong expiry (the same answer), 429 while the
    kiosk has had too many failed card reads.
    """
    card = card_read_resolve(kiosk_id=kiosk.pk, read=card_read)
    refusal = _card_refusal(card)
    if refusal is not None:
        raise refusal
    has_templates = face.customer_has_active_templates(customer_id=card.customer_id)
    kiosk, now = kiosk_claim(kiosk)
    # Lock the card so a concurrent card_block either lands first (we refuse) or after the session exists.
    card = card_lock(card)
    refusal = _card_refusal(card)
    if refusal is not None:
        raise refusal
    state, reason = State.CARD_ENTERED, ""
    if not has_templates:
        state, reason = State.FACE_FAILED, FailureReason.NOT_ENROLLED
    elif card_security.card_face_locked(card=card):
        state, reason = State.FACE_FAILED, FailureReason.FACE_LOCKED
    return session_open(
        kiosk=kiosk,
        now=now,
        fields={"card": card, "state": state, "face_failure_reason": reason},
        audit={"face_unavailable": reason},
    )


def kiosk_claim(kiosk: Kiosk) -> tuple[Kiosk, datetime]:
    """Lock the kiosk row (first in kiosk.locks: one session at a time per kiosk), refuse a kiosk out of
    service, and close any session it left open. Returns the locked kiosk and the time the new session starts.
    Call inside transaction.atomic."""
    kiosk = kiosk_lock(kiosk)
    if kiosk.status != Kiosk.Status.ACTIVE:
        raise ApplicationError(KioskError.KIOSK_INACTIVE, status_code=403)
    now = timezone.now()
    for previous in sessions_open_lock(kiosk):
        session_close(previous, reason=EndReason.REPLACED, now=now)
    return kiosk, now


def session_open(
    *, kiosk: Kiosk, now: datetime, fields: dict[str, Any], audit: dict[str, Any]
) -> KioskSession:
    """Create a session on the claimed kiosk (a fresh frame nonce and liveness challenge) and audit its start.

    `fields` are the mode's own (card, or the card-less phone and candidates; the state); `audit` is added to
    the start event's data.
    """
    session = KioskSession.objects.create(
        public_id=uuid.uuid4(),
        kiosk=kiosk,
        created_at=now,
        last_activity_at=now,
        frame_nonce=secrets.token_urlsafe(24),
        liveness_state=face.liveness_new_state(),
        **fields,
    )
    session_audit(
        session,
        kind=AuditEvent.Kind.KIOSK_SESSION_START,
        outcome=AuditEvent.Outcome.SUCCESS,
        data={"state": session.state, **audit},
    )
    return session


def session_close(session: KioskSession, *, reason: EndReason, now: datetime) -> None:
    """End a session the caller holds locked, with its reason and an audit event."""
    session.state = State.ENDED
    session.ended_at = now
    session.end_reason = reason
    session.save(update_fields=["state", "ended_at", "end_reason"])
    session_audit(
        session,
        kind=AuditEvent.Kind.KIOSK_SESSION_END,
        outcome=AuditEvent.Outcome.INFO,
        data={"reason": reason},
    )


def session_face_fail(
    session: KioskSession,
    *,
    reason: FailureReason,
    snapshot: bytes | None,
    verdict: FrameVerdict | None = None,
) -> None:
    """Record a failed face check: counters, lockout, audit (with the failing frame, encrypted).

    A session that saw another enrolled customer's face (mismatch_seen) fails with the reason a stranger's
    face would have got, the one the kiosk is shown; the audit trail records it as "mismatch".
    """
    session.face_failure_reason = reason
    session.match_streak = 0
    session.state = State.FACE_FAILED
    session.save(update_fields=["face_failure_reason", "match_streak", "state", "last_activity_at"])
    # An empty camera (no face in any frame until the deadline) is not a try at someone's face.
    counted = not (reason == FailureReason.TIMEOUT and session.face_frames_seen == 0)
    if not counted:
        locked = False
    elif session.is_cardless:
        from .cardless import cardless_face_failure_record

        locked = cardless_face_failure_record(session)
    else:
        locked = card_security.card_face_failure_record(card=session.claimed_card, kiosk_id=session.kiosk_id)
    evidence: dict[str, Any] = {
        "last_outcome": session.face_last_outcome,
        "shown_reason": reason,
        "counted_toward_lock": counted,
    }
    if verdict is not None:
        evidence["distance"] = verdict.distance
    face_decision_audit(
        session,
        outcome=AuditEvent.Outcome.FAILURE,
        data={
            "reason": FailureReason.MISMATCH if session.mismatch_seen else reason,
            "face_locked": locked,
            **evidence,
        },
        snapshot=snapshot,
    )


def face_decision_audit(
    session: KioskSession, *, outcome: str, data: dict[str, Any], snapshot: bytes | None = None
) -> None:
    """The audit event of the face check's decision (verified, or failed with the failing frame)."""
    session_audit(
        session,
        kind=AuditEvent.Kind.FACE_DECISION,
        outcome=outcome,
        data={"frames_seen": session.frames_seen, **data},
        snapshot=snapshot,
    )


def _apply_timeouts(session: KioskSession, *, now: datetime, face_deadline: bool = True) -> None:
    deadlines = session_deadlines(session)
    if now >= deadlines["session"]:
        session_close(session, reason=EndReason.SESSION_TIMEOUT, now=now)
    elif now >= deadlines["idle"]:
        session_close(session, reason=EndReason.IDLE_TIMEOUT, now=now)
    elif face_deadline and "face" in deadlines and now >= deadlines["face"]:
        session_face_fail(session, reason=timeout_failure_reason(session.face_last_outcome), snapshot=None)


def session_get(*, kiosk: Kiosk, public_id: PublicId) -> KioskSession:
    """A session of this kiosk; another kiosk's session is indistinguishable from a missing one (404)."""
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        key = None
    session = (
        KioskSession.objects.select_related("card__customer", "card__account", "kiosk", "customer")
        .filter(kiosk=kiosk, public_id=key)
        .first()
        if key
        else None
    )
    if session is None:
        raise ApplicationError(KioskError.SESSION_NOT_FOUND, status_code=404)
    return session


def session_refresh(*, kiosk: Kiosk, public_id: PublicId, face_deadline: bool = True) -> KioskSession:
    """Apply every deadline that has passed (commits): the basis of the status call and of each operation.

    The common case, no deadline passed, is a plain read: no lock and no write transaction on every frame.
    Deadlines only move forward with activity, so a deadline that has not passed on this read cannot have
    passed for a concurrent writer either; the state-changing code re-checks everything under its lock.
    """
    session = session_get(kiosk=kiosk, public_id=public_id)
    now = timezone.now()
    passed = [name for name, deadline in session_deadlines(session).items() if now >= deadline]
    if not session.is_open or not [name for name in passed if face_deadline or name != "face"]:
        return session
    with transaction.atomic(durable=True):
        locked = session_lock(session)
        _apply_timeouts(locked, now=timezone.now(), face_deadline=face_deadline)
        return locked


def session_require(session: KioskSession, *, states: tuple[str, ...], now: datetime) -> None:
    """Refuse (409, no writes) unless the locked session is open, within its deadlines and in `states`."""
    if not session.is_open:
        raise ApplicationError(
            KioskError.SESSION_ENDED,
            session_ended_message(session),
            status_code=409,
            extra={"state": session.state, "end_reason": session.end_reason},
        )
    deadlines = session_deadlines(session)
    if now >= deadlines["session"] or now >= deadlines["idle"]:
        raise ApplicationError(KioskError.SESSION_TIMEOUT, status_code=409)
    if session.state not in states:
        raise ApplicationError(KioskError.WRONG_STATE, status_code=409, extra={"state": session.state})


def session_touch(session: KioskSession, *, now: datetime) -> None:
    session.last_activity_at = now
    session.save(update_fields=["last_activity_at"])


# Where "Do you need more time?" may be answered: the customer is at a screen of their own, not the camera.
KEEPALIVE_STATES = (State.FACE_FAILED, State.OTP_SENT, State.VERIFIED, State.IN_MENU, State.PIN_PENDING)


@transaction.atomic
def session_keepalive(*, kiosk: Kiosk, public_id: PublicId) -> KioskSession:
    """The customer answered "Do you need more time?": the idle deadline starts again (never the session's
    overall limit, which nothing extends). An ended or timed-out session is refused (409), nothing written."""
    session = session_lock(session_get(kiosk=kiosk, public_id=public_id))
    now = timezone.now()
    session_require(session, states=KEEPALIVE_STATES, now=now)
    session_touch(session, now=now)
    return session


@transaction.atomic
def session_end(*, kiosk: Kiosk, public_id: PublicId, reason: EndReason = EndReason.CUSTOMER) -> KioskSession:
    session = session_lock(session_get(kiosk=kiosk, public_id=public_id))
    if session.is_open:
        session_close(session, reason=reason, now=timezone.now())
    return session


def kiosk_sessions_expire() -> int:
    """Close abandoned sessions (for a periodic task); each one in its own short transaction."""
    now = timezone.now()
    stale = KioskSession.objects.filter(
        state__in=KioskSession.OPEN_STATES,
        last_activity_at__lt=now - _seconds("KIOSK_FACE_TIMEOUT_S"),
    ).select_related("kiosk")
    closed = 0
    for session in stale:
        refreshed = session_refresh(kiosk=session.kiosk, public_id=session.public_id)
        closed += refreshed.state != session.state
    return closed
