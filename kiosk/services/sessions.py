"""The kiosk session state machine. The server alone decides every transition and every timeout.

    card_entered → face_pending → verified → in_menu → ended
                        ↓
                   face_failed → otp_sent → verified
    (mismatch: the face of another enrolled customer → ended, no OTP; any state → ended on timeout/end)

Lock order everywhere: kiosk → session → card security → card → account → audit chain head.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import BankAccount, Card
from accounts.selectors import card_get_by_pan
from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from audit.services import audit_event_record

from ..models import Kiosk, KioskSession
from . import face, security

State = KioskSession.State

# What the kiosk shows for each frame outcome / failure reason (translated in the customer's language).
FRAME_MESSAGES = {
    "match": gettext_lazy("Hold still, checking…"),
    "no_face": gettext_lazy("Look at the camera."),
    "several_faces": gettext_lazy("Only one person may stand at the kiosk. Please ask others to step back."),
    "low_quality": gettext_lazy("Move closer and face the camera in good light."),
    "no_match": gettext_lazy("Face not recognised yet. Look straight at the camera."),
    "mismatch": gettext_lazy("This face does not belong to the owner of the card."),
}
FAILURE_MESSAGES = {
    "timeout": gettext_lazy("The face check timed out."),
    "no_match": gettext_lazy("Your face could not be matched to the card."),
    "low_quality": gettext_lazy("The camera could not see your face well enough."),
    "several_faces": gettext_lazy("More than one person was in front of the camera."),
    "mismatch": gettext_lazy("This face does not belong to the owner of the card. The session has ended."),
    "face_locked": gettext_lazy("Face verification is locked for this card after repeated failures."),
    "not_enrolled": gettext_lazy("No face is enrolled for this card."),
    "liveness": gettext_lazy("The camera could not confirm a live person in front of it."),
}
END_MESSAGES = {
    "customer": gettext_lazy("Session ended. Take your card."),
    "idle_timeout": gettext_lazy("The session ended because nothing happened for a while."),
    "session_timeout": gettext_lazy("The session reached its time limit."),
    "replaced": gettext_lazy("A new session started at this kiosk."),
    "mismatch": FAILURE_MESSAGES["mismatch"],
    "card_blocked": gettext_lazy("The card has been blocked. Please contact the bank."),
}
# Outcomes of the last frame → the reason recorded when the face check runs out of time.
_TIMEOUT_REASON = {"no_match": "no_match", "low_quality": "low_quality"}


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


def _first_name(card: Card) -> str:
    return (card.customer.full_name.split() or [""])[0]


def _card_refusal(card: Card) -> ApplicationError | None:
    if card.status == Card.Status.STOLEN:
        return ApplicationError(_("This card was reported stolen."), code="card_stolen", status_code=403)
    if card.status == Card.Status.BLOCKED:
        return ApplicationError(
            _("This card is blocked. Please contact the bank."), code="card_blocked", status_code=403
        )
    if card.status == Card.Status.EXPIRED or card.expires_on < timezone.localdate():
        return ApplicationError(_("This card has expired."), code="card_expired", status_code=403)
    if not card.customer.is_active or card.account.status == BankAccount.Status.CLOSED:
        return ApplicationError(_("This card cannot be used."), code="card_inactive", status_code=403)
    return None


def _audit(
    session: KioskSession, *, kind: str, outcome: str, data: dict[str, Any], snapshot: bytes | None = None
):
    return audit_event_record(
        kind=kind,
        outcome=outcome,
        kiosk_id=session.kiosk_id,
        customer_id=session.card.customer_id,
        card_last4=session.card.last4,
        data={"session": str(session.public_id), **data},
        snapshot=snapshot,
    )


@transaction.atomic
def session_start(*, kiosk: Kiosk, pan: str) -> KioskSession:
    """A card was entered at `kiosk`: open a session (and close any the kiosk left open)."""
    card = card_get_by_pan(pan=pan)  # 400 for a malformed number, 404 for an unknown one
    refusal = _card_refusal(card)
    if refusal is not None:
        raise refusal
    has_templates = face.customer_has_active_templates(customer_id=card.customer_id)
    # Kiosk row first (lock order): one session at a time per kiosk.
    kiosk = Kiosk.objects.select_for_update().get(pk=kiosk.pk)
    if kiosk.status != Kiosk.Status.ACTIVE:
        raise ApplicationError(_("This kiosk is out of service."), code="kiosk_inactive", status_code=403)
    now = timezone.now()
    for previous in KioskSession.objects.select_for_update().filter(
        kiosk=kiosk, state__in=KioskSession.OPEN_STATES
    ):
        _end(previous, reason="replaced", now=now)
    # Lock the card so a concurrent card_block either lands first (we refuse) or after the session exists.
    card = Card.objects.select_for_update().select_related("customer", "account").get(pk=card.pk)
    refusal = _card_refusal(card)
    if refusal is not None:
        raise refusal
    state, reason = State.CARD_ENTERED, ""
    if not has_templates:
        state, reason = State.FACE_FAILED, "not_enrolled"
    elif security.card_face_locked(card=card):
        state, reason = State.FACE_FAILED, "face_locked"
    session = KioskSession.objects.create(
        public_id=uuid.uuid4(),
        kiosk=kiosk,
        card=card,
        state=state,
        face_failure_reason=reason,
        created_at=now,
        last_activity_at=now,
        frame_nonce=secrets.token_urlsafe(24),
        liveness_state=face.liveness_new_state(),
    )
    _audit(
        session,
        kind=AuditEvent.Kind.KIOSK_SESSION_START,
        outcome=AuditEvent.Outcome.SUCCESS,
        data={"state": state, "face_unavailable": reason},
    )
    return session


def _end(session: KioskSession, *, reason: str, now: datetime) -> None:
    session.state = State.ENDED
    session.ended_at = now
    session.end_reason = reason
    session.save(update_fields=["state", "ended_at", "end_reason"])
    _audit(
        session,
        kind=AuditEvent.Kind.KIOSK_SESSION_END,
        outcome=AuditEvent.Outcome.INFO,
        data={"reason": reason},
    )


def _face_fail(session: KioskSession, *, reason: str, now: datetime, snapshot: bytes | None) -> None:
    """Record a failed face check: counters, lockout, audit (with the failing frame, encrypted)."""
    session.face_failure_reason = reason
    session.match_streak = 0
    if reason == "mismatch":
        # No OTP after a mismatch: another enrolled person is at this card, and a code sent to the owner's
        # phone would only help whoever is holding both. The session ends here.
        session.state, session.ended_at, session.end_reason = State.ENDED, now, "mismatch"
    else:
        session.state = State.FACE_FAILED
    session.save(
        update_fields=[
            "face_failure_reason",
            "match_streak",
            "state",
            "ended_at",
            "end_reason",
            "last_activity_at",
        ]
    )
    card = session.card
    locked = security.card_face_failure_record(card=card, kiosk_id=session.kiosk_id)
    blocked = reason == "mismatch" and security.card_mismatch_record(card=card, kiosk_id=session.kiosk_id)
    _audit(
        session,
        kind=AuditEvent.Kind.FACE_DECISION,
        outcome=AuditEvent.Outcome.FAILURE,
        data={
            "reason": reason,
            "frames_seen": session.frames_seen,
            "face_locked": locked,
            "card_blocked": blocked,
        },
        snapshot=snapshot,
    )


def _apply_timeouts(session: KioskSession, *, now: datetime, face_deadline: bool = True) -> None:
    deadlines = session_deadlines(session)
    if now >= deadlines["session"]:
        _end(session, reason="session_timeout", now=now)
    elif now >= deadlines["idle"]:
        _end(session, reason="idle_timeout", now=now)
    elif face_deadline and "face" in deadlines and now >= deadlines["face"]:
        reason = _TIMEOUT_REASON.get(session.face_last_outcome, "timeout")
        _face_fail(session, reason=reason, now=now, snapshot=None)


def session_get(*, kiosk: Kiosk, public_id: Any) -> KioskSession:
    """A session of this kiosk; another kiosk's session is indistinguishable from a missing one (404)."""
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        key = None
    session = (
        KioskSession.objects.select_related("card__customer", "card__account", "kiosk")
        .filter(kiosk=kiosk, public_id=key)
        .first()
        if key
        else None
    )
    if session is None:
        raise ApplicationError(_("No such session at this kiosk."), code="session_not_found", status_code=404)
    return session


def session_refresh(*, kiosk: Kiosk, public_id: Any, face_deadline: bool = True) -> KioskSession:
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
    with transaction.atomic():
        locked = session_lock(session)
        _apply_timeouts(locked, now=timezone.now(), face_deadline=face_deadline)
        return locked


def session_lock(session: KioskSession) -> KioskSession:
    """Re-read the session under a row lock (call inside transaction.atomic)."""
    locked = KioskSession.objects.select_for_update().get(pk=session.pk)
    # Related rows are read, not locked: the card and account are locked by the services that change them.
    locked.card = session.card
    locked.kiosk = session.kiosk
    return locked


def session_require(session: KioskSession, *, states: tuple[str, ...], now: datetime) -> None:
    """Refuse (409, no writes) unless the locked session is open, within its deadlines and in `states`."""
    if not session.is_open:
        raise ApplicationError(
            str(END_MESSAGES.get(session.end_reason, _("This session has ended."))),
            code="session_ended",
            status_code=409,
            extra={"state": session.state, "end_reason": session.end_reason},
        )
    deadlines = session_deadlines(session)
    if now >= deadlines["session"] or now >= deadlines["idle"]:
        raise ApplicationError(_("This session has timed out."), code="session_timeout", status_code=409)
    if session.state not in states:
        raise ApplicationError(
            _("This step is not available now."),
            code="wrong_state",
            status_code=409,
            extra={"state": session.state},
        )


def session_touch(session: KioskSession, *, now: datetime) -> None:
    session.last_activity_at = now
    session.save(update_fields=["last_activity_at"])


@transaction.atomic
def session_end(*, kiosk: Kiosk, public_id: Any, reason: str = "customer") -> KioskSession:
    session = session_lock(session_get(kiosk=kiosk, public_id=public_id))
    if session.is_open:
        _end(session, reason=reason, now=timezone.now())
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


# --- Frames -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FrameResult:
    session: KioskSession
    outcome: str
    boxes: list[dict[str, int]]
    match_percent: int | None
    message: str
    frame_size: tuple[int, int]


def _frame_precheck(session: KioskSession, *, nonce: str, seq: int, digest: str, now: datetime) -> None:
    session_require(session, states=(State.CARD_ENTERED, State.FACE_PENDING), now=now)
    if not hmac.compare_digest(str(nonce).encode(), session.frame_nonce.encode()):
        raise ApplicationError(
            _("This frame does not belong to the session."), code="frame_nonce", status_code=400
        )
    if seq != session.frame_seq + 1:
        raise ApplicationError(
            _("Frame out of order."),
            code="frame_sequence",
            status_code=409,
            extra={"expected_seq": session.frame_seq + 1},
        )
    if session.last_frame_sha256 and hmac.compare_digest(digest, session.last_frame_sha256):
        raise ApplicationError(_("The same frame was sent twice."), code="frame_replayed", status_code=400)


def session_frame_submit(*, kiosk: Kiosk, public_id: Any, nonce: str, seq: int, data: bytes) -> FrameResult:
    """One camera frame for the face check. K consecutive matching frames of one face verify the session.

    The slow part (decoding, face engine) runs outside any transaction; the session row is then locked and
    the frame is accepted only if no other frame advanced the sequence meanwhile.
    """
    if not data:
        raise ApplicationError(_("The frame is empty."), code="frame_empty", status_code=400)
    if len(data) > settings.KIOSK_FRAME_MAX_BYTES:
        raise ApplicationError(_("The frame is too large."), code="frame_too_large", status_code=413)
    # Idle and absolute deadlines first; a passed face deadline is decided below, with this frame as evidence.
    session = session_refresh(kiosk=kiosk, public_id=public_id, face_deadline=False)
    digest = hashlib.sha256(data).hexdigest()
    _frame_precheck(session, nonce=nonce, seq=seq, digest=digest, now=timezone.now())
    image = face.image_decode(data)
    verdict = face.frame_verify(customer_id=session.card.customer_id, image=image)
    frame_size = (int(image.shape[1]), int(image.shape[0]))

    with transaction.atomic():
        locked = session_lock(session)
        now = timezone.now()
        _frame_precheck(locked, nonce=nonce, seq=seq, digest=digest, now=now)
        locked.frames_seen += 1
        locked.frame_seq = seq
        locked.last_frame_sha256 = digest
        locked.last_activity_at = now
        locked.face_last_outcome = verdict.outcome
        if locked.state == State.CARD_ENTERED:
            locked.state, locked.face_started_at = State.FACE_PENDING, now
        locked.save(
            update_fields=[
                "frames_seen",
                "frame_seq",
                "last_frame_sha256",
                "last_activity_at",
                "face_last_outcome",
                "state",
                "face_started_at",
            ]
        )
        face_deadline = session_deadlines(locked).get("face")
        live = face.liveness_feed(
            state=locked.liveness_state,
            outcome=verdict.outcome,
            landmarks=verdict.landmarks,
            t=now.timestamp(),
            fingerprint=digest,
        )
        locked.liveness_state = live.state
        locked.save(update_fields=["liveness_state"])
        if getattr(verdict, "naming_pending", False):
            from .naming import session_naming_defer  # imports this module

            session_naming_defer(session=locked, verdict=verdict, snapshot=data, now=now)
        if face_deadline is not None and now >= face_deadline:
            reason = _TIMEOUT_REASON.get(verdict.outcome, "timeout")
            _face_fail(locked, reason=reason, now=now, snapshot=data)
        elif verdict.outcome in ("mismatch", "several_faces"):
            _face_fail(locked, reason=verdict.outcome, now=now, snapshot=data)
        elif live.status == "failed":
            _liveness_fail(locked, live=live, now=now, snapshot=data)
        elif verdict.outcome == "match":
            _frame_match(locked, verdict=verdict, now=now, live=live.status == "passed")
        else:
            locked.match_streak = 0
            locked.save(update_fields=["match_streak"])

    message = FRAME_MESSAGES.get(verdict.outcome, "")
    if locked.state == State.VERIFIED:
        message = _("Welcome, %(name)s!") % {"name": _first_name(locked.card)}
    elif locked.state in (State.FACE_FAILED, State.ENDED):
        message = FAILURE_MESSAGES.get(locked.face_failure_reason, message)
    return FrameResult(
        session=locked,
        outcome=verdict.outcome,
        boxes=[dict(box) for box in verdict.boxes],
        match_percent=verdict.match_percent,
        message=str(message),
        frame_size=frame_size,
    )


def _liveness_fail(session: KioskSession, *, live: Any, now: datetime, snapshot: bytes) -> None:
    """Suspected presentation attack (a moved flat photo, a replay), or the challenge not done in time."""
    _audit(
        session,
        kind=AuditEvent.Kind.LIVENESS_FAILED,
        outcome=AuditEvent.Outcome.FAILURE,
        data={"reason": live.reason, "challenge": live.state.get("challenge", ""), **live.details},
    )
    _face_fail(session, reason="liveness", now=now, snapshot=snapshot)


def _frame_match(session: KioskSession, *, verdict: Any, now: datetime, live: bool) -> None:
    """K consecutive matching frames of one face AND a passed liveness challenge verify the session."""
    session.match_streak += 1
    fields = ["match_streak"]
    if session.match_streak >= settings.FACE_MATCH_FRAMES_REQUIRED and live:
        session.state, session.verified_at, session.verified_by = State.VERIFIED, now, "face"
        fields += ["state", "verified_at", "verified_by"]
    session.save(update_fields=fields)
    if session.state == State.VERIFIED:
        security.card_face_success_record(card=session.card)
        _audit(
            session,
            kind=AuditEvent.Kind.FACE_DECISION,
            outcome=AuditEvent.Outcome.SUCCESS,
            data={
                "frames_seen": session.frames_seen,
                "streak": session.match_streak,
                "distance": verdict.distance,
            },
        )
