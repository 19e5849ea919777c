"""The kiosk session state machine. The server alone decides every transition and every timeout.

    card_entered → face_pending → verified → in_menu → ended
                        ↓
                   face_failed → otp_sent → verified
    (any state → ended on timeout/end)

Nothing about the card owner leaves the server before the decision: no name, no score, and the face of
another enrolled customer (a mismatch) looks to the kiosk exactly like a stranger's face. The mismatch is
remembered on the session (`mismatch_seen`): no one-time code is sent for it, and it counts as evidence
towards blocking the card (kiosk.services.security). The audit trail keeps every detail.

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
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import BankAccount, Card
from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from audit.services import audit_event_record

from ..models import Kiosk, KioskSession
from . import face, security
from .card_reads import CardRead, card_read_resolve

State = KioskSession.State

# Before the decision a frame gets ONE hint about what the customer can do, never how well the face matched:
# a match, a stranger and another enrolled customer all read "look at the camera" (or "turn as asked").
FRAME_MESSAGES = {
    "look_at_camera": gettext_lazy("Look at the camera and hold still."),
    "one_person": gettext_lazy(
        "Only the card holder in front of the camera, please. Ask others to step back."
    ),
    "move_closer": gettext_lazy("Move closer to the camera."),
    "more_light": gettext_lazy("More light, please: face the light and hold still."),
    "turn_as_asked": gettext_lazy("Turn your head as asked."),
}
# Engine outcome → hint. Faces that can be compared (match, no_match, mismatch) share one.
_FRAME_HINTS = {"no_face": "look_at_camera", "several_faces": "one_person", "low_quality": "move_closer"}
# Why the face check failed, as the kiosk sees it. "mismatch" is never shown: it reads as a stranger's face.
FAILURE_MESSAGES = {
    "timeout": gettext_lazy("The face check timed out."),
    "no_match": gettext_lazy("Your face could not be matched to the card."),
    "low_quality": gettext_lazy("The camera could not see your face well enough."),
    "several_faces": gettext_lazy("More than one person was in front of the camera."),
    "face_locked": gettext_lazy("Face verification is locked for this card after repeated failures."),
    "not_enrolled": gettext_lazy("No face is enrolled for this card."),
    "liveness": gettext_lazy("The camera could not confirm a live person in front of it."),
}
END_MESSAGES = {
    "customer": gettext_lazy("Session ended. Take your card."),
    "idle_timeout": gettext_lazy("The session ended because nothing happened for a while."),
    "session_timeout": gettext_lazy("The session reached its time limit."),
    "replaced": gettext_lazy("A new session started at this kiosk."),
    "mismatch": FAILURE_MESSAGES["no_match"],
    "card_blocked": gettext_lazy("The card has been blocked. Please contact the bank."),
    "otp_unavailable": gettext_lazy(
        "A one-time code cannot be sent for this card now. Please contact the bank."
    ),
    "cardless_disabled": gettext_lazy(
        "Too many wrong PINs. Card-less cash is disabled; please visit a branch."
    ),
}
# Outcomes of the last frame → the reason recorded when the face check runs out of time.
_TIMEOUT_REASON = {"no_match": "no_match", "low_quality": "low_quality", "mismatch": "no_match"}
# States in which the kiosk may learn who the card belongs to and how well the face matched.
DISCLOSED_STATES = (State.VERIFIED, State.IN_MENU)


def failure_reason_public(session: KioskSession) -> str:
    """The failure reason the kiosk is told (sessions that ended on a mismatch before it was hidden read
    as a stranger's face, like every mismatch now)."""
    return "no_match" if session.face_failure_reason == "mismatch" else session.face_failure_reason


def owner_first_name_disclosed(session: KioskSession) -> str:
    """The owner's first name, only once the session is verified ("" before: nothing about the owner)."""
    return _first_name(session) if session.state in DISCLOSED_STATES else ""


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


def _first_name(session: KioskSession) -> str:
    customer = session.claimed_card.customer if session.card_id else session.customer
    return (customer.full_name.split() or [""])[0] if customer is not None else ""


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


def session_audit(
    session: KioskSession, *, kind: str, outcome: str, data: dict[str, Any], snapshot: bytes | None = None
):
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


@transaction.atomic
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
    # Kiosk row first (lock order): one session at a time per kiosk.
    kiosk = Kiosk.objects.select_for_update().get(pk=kiosk.pk)
    if kiosk.status != Kiosk.Status.ACTIVE:
        raise ApplicationError(_("This kiosk is out of service."), code="kiosk_inactive", status_code=403)
    now = timezone.now()
    for previous in KioskSession.objects.select_for_update().filter(
        kiosk=kiosk, state__in=KioskSession.OPEN_STATES
    ):
        session_close(previous, reason="replaced", now=now)
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
    session_audit(
        session,
        kind=AuditEvent.Kind.KIOSK_SESSION_START,
        outcome=AuditEvent.Outcome.SUCCESS,
        data={"state": state, "face_unavailable": reason},
    )
    return session


def session_close(session: KioskSession, *, reason: str, now: datetime) -> None:
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


def _face_fail(
    session: KioskSession,
    *,
    reason: str,
    now: datetime,
    snapshot: bytes | None,
    verdict: Any = None,
) -> None:
    """Record a failed face check: counters, lockout, audit (with the failing frame, encrypted).

    A session that saw another enrolled customer's face (mismatch_seen) fails with the reason a stranger's
    face would have got, the one the kiosk is shown; the audit trail records it as "mismatch".
    """
    session.face_failure_reason = reason
    session.match_streak = 0
    session.state = State.FACE_FAILED
    session.save(update_fields=["face_failure_reason", "match_streak", "state", "last_activity_at"])
    if session.is_cardless:
        from .cardless import cardless_face_failure_record

        locked = cardless_face_failure_record(session)
    else:
        locked = security.card_face_failure_record(card=session.claimed_card, kiosk_id=session.kiosk_id)
    evidence: dict[str, Any] = {"last_outcome": session.face_last_outcome, "shown_reason": reason}
    if verdict is not None:
        evidence["distance"] = verdict.distance
    session_audit(
        session,
        kind=AuditEvent.Kind.FACE_DECISION,
        outcome=AuditEvent.Outcome.FAILURE,
        data={
            "reason": "mismatch" if session.mismatch_seen else reason,
            "frames_seen": session.frames_seen,
            "face_locked": locked,
            **evidence,
        },
        snapshot=snapshot,
    )


def _mismatch_seen(session: KioskSession, *, verdict: Any, now: datetime, snapshot: bytes) -> None:
    """Another enrolled customer's face with this card: remembered, audited with its evidence, counted.

    The face check itself goes on as for a stranger (the kiosk must not be able to tell the two apart); only
    the first such frame of a session is recorded, and it may block the card (mismatches from two kiosks).
    """
    if session.mismatch_seen:
        return
    session.mismatch_seen = True
    session.save(update_fields=["mismatch_seen"])
    # A card is blocked on evidence; a typed phone number is not a credential that can be blocked.
    blocked = (
        False
        if session.is_cardless
        else security.card_mismatch_record(card=session.claimed_card, kiosk_id=session.kiosk_id)
    )
    session_audit(
        session,
        kind=AuditEvent.Kind.FACE_MISMATCH,
        outcome=AuditEvent.Outcome.FAILURE,
        data={
            "distance": verdict.distance,
            "nearest_customer_id": verdict.other_customer_id,
            "frames_seen": session.frames_seen,
            "card_blocked": blocked,
        },
        snapshot=snapshot,
    )
    if blocked:
        session_close(session, reason="card_blocked", now=now)


def _apply_timeouts(session: KioskSession, *, now: datetime, face_deadline: bool = True) -> None:
    deadlines = session_deadlines(session)
    if now >= deadlines["session"]:
        session_close(session, reason="session_timeout", now=now)
    elif now >= deadlines["idle"]:
        session_close(session, reason="idle_timeout", now=now)
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
        KioskSession.objects.select_related("card__customer", "card__account", "kiosk", "customer")
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


# --- Frames -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FrameResult:
    """What the kiosk is told about one frame. Before the decision: boxes, one hint and progress only."""

    session: KioskSession
    outcome: str  # "checking" | "verified" | "failed"
    hint: str  # a FRAME_MESSAGES key while checking, else ""
    boxes: list[dict[str, int]]
    match_percent: int | None  # only once verified
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
    try:
        _frame_precheck(session, nonce=nonce, seq=seq, digest=digest, now=timezone.now())
    except ApplicationError as error:
        if error.code == "frame_replayed" and _replays_exceed_limit(session, digest=digest):
            return _replayed_frames_fail(session, nonce=nonce, seq=seq, digest=digest, data=data)
        raise
    image = face.image_decode(data)
    if session.is_cardless:
        from .cardless import face_candidates

        verdict = face.frame_verify_candidates(customer_ids=face_candidates(session), image=image)
    else:
        verdict = face.frame_verify(customer_id=session.claimed_card.customer_id, image=image)
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
        if verdict.outcome != "several_faces":
            locked.several_faces_since = None
        elif locked.several_faces_since is None:
            locked.several_faces_since = now
        locked.save(
            update_fields=[
                "frames_seen",
                "frame_seq",
                "last_frame_sha256",
                "last_activity_at",
                "face_last_outcome",
                "state",
                "face_started_at",
                "several_faces_since",
            ]
        )
        face_deadline = session_deadlines(locked).get("face")
        live = face.liveness_feed(
            state=locked.liveness_state,
            # Another customer's face is a stranger's to liveness too, or its timing would tell them apart.
            outcome="no_match" if verdict.outcome == "mismatch" else verdict.outcome,
            landmarks=verdict.landmarks,
            t=now.timestamp(),
            fingerprint=digest,
            pad_score=getattr(verdict, "pad_score", None),
        )
        locked.liveness_state = live.state
        locked.save(update_fields=["liveness_state"])
        if verdict.outcome == "mismatch":
            _mismatch_seen(locked, verdict=verdict, now=now, snapshot=data)
        if getattr(verdict, "naming_pending", False):
            from .naming import session_naming_defer  # imports this module

            session_naming_defer(session=locked, verdict=verdict, snapshot=data, now=now)
        if not locked.is_open:
            pass  # the mismatch evidence blocked the card
        elif face_deadline is not None and now >= face_deadline:
            reason = _TIMEOUT_REASON.get(verdict.outcome, "timeout")
            _face_fail(locked, reason=reason, now=now, snapshot=data, verdict=verdict)
        elif verdict.outcome == "several_faces" and _several_faces_persist(locked, now=now):
            _face_fail(locked, reason=verdict.outcome, now=now, snapshot=data, verdict=verdict)
        elif live.status == "failed":
            _liveness_fail(locked, live=live, now=now, snapshot=data)
        elif verdict.outcome == "match":
            _frame_match(locked, verdict=verdict, now=now, live=live.status == "passed")
        else:
            locked.match_streak = 0
            locked.save(update_fields=["match_streak"])

    return _frame_result(locked, verdict=verdict, frame_size=frame_size)


def _several_faces_persist(session: KioskSession, *, now: datetime) -> bool:
    """Several faces block access, but only once they stay: a passer-by behind the customer gets a warning."""
    since = session.several_faces_since or now
    return (now - since).total_seconds() >= settings.KIOSK_SEVERAL_FACES_GRACE_S


def _replays_exceed_limit(session: KioskSession, *, digest: str) -> bool:
    """Count identical frames in a row (with liveness on); True once there are KIOSK_REPLAYED_FRAMES_LIMIT.

    A refused replay writes nothing to the database, so the count lives in the cache, keyed by the session and
    the last accepted frame: a new frame starts a new key, so only replays in a row count.
    """
    if not (settings.LIVENESS_ENABLED and session.liveness_state):
        return False
    key = f"kiosk:replayed-frames:{session.pk}:{digest}"
    cache.add(key, 0, timeout=settings.KIOSK_SESSION_MAX_S)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=settings.KIOSK_SESSION_MAX_S)
        count = 1
    return count >= settings.KIOSK_REPLAYED_FRAMES_LIMIT


def _replayed_frames_fail(
    session: KioskSession, *, nonce: str, seq: int, digest: str, data: bytes
) -> FrameResult:
    """The same frame again and again is a still image (a virtual camera): a liveness failure, decided now
    rather than at the face deadline, with the frame kept as the snapshot."""
    image = face.image_decode(data)
    frame_size = (int(image.shape[1]), int(image.shape[0]))
    with transaction.atomic():
        locked = session_lock(session)
        now = timezone.now()
        try:
            _frame_precheck(locked, nonce=nonce, seq=seq, digest=digest, now=now)
        except ApplicationError as error:
            if error.code != "frame_replayed":
                raise
        else:  # another frame was accepted meanwhile: this one is no longer a replay of the last
            raise ApplicationError(_("Frame out of order."), code="frame_sequence", status_code=409)
        locked.last_activity_at = now
        live = face.LivenessStep(
            state=locked.liveness_state,
            status="failed",
            reason="replayed_frames",
            details={"replayed_frames": float(settings.KIOSK_REPLAYED_FRAMES_LIMIT)},
        )
        _liveness_fail(locked, live=live, now=now, snapshot=data)
    message = str(FAILURE_MESSAGES["liveness"])
    return FrameResult(locked, "failed", "", [], None, message, frame_size)


def _frame_hint(session: KioskSession, *, verdict: Any) -> str:
    hint = _FRAME_HINTS.get(verdict.outcome)
    if hint == "move_closer" and verdict.reason and "closer" not in verdict.reason.lower():
        hint = "more_light"  # large enough but blurred: usually too dark for a sharp picture
    if hint is None:
        # A comparable face, whoever it is: the same hint for a match, a stranger and another customer.
        hint = "turn_as_asked" if face.liveness_challenge(session.liveness_state) else "look_at_camera"
    return hint


def _frame_result(session: KioskSession, *, verdict: Any, frame_size: tuple[int, int]) -> FrameResult:
    boxes = [dict(box) for box in verdict.boxes]
    if session.state == State.VERIFIED:
        # The decision is made: now the customer may see whose card it is and how well the face matched.
        percent = verdict.match_percent
        message = _("Match %(percent)d %% — authorised. Welcome, %(name)s!") % {
            "percent": percent or 0,
            "name": _first_name(session),
        }
        return FrameResult(session, "verified", "", boxes, percent, message, frame_size)
    if session.state == State.PIN_PENDING:
        return FrameResult(session, "pin", "", boxes, None, str(_("Enter your PIN.")), frame_size)
    if session.state in (State.FACE_FAILED, State.ENDED):
        reason = failure_reason_public(session)
        message = str(FAILURE_MESSAGES.get(reason, "") or END_MESSAGES.get(session.end_reason, ""))
        return FrameResult(session, "failed", "", boxes, None, message, frame_size)
    hint = _frame_hint(session, verdict=verdict)
    return FrameResult(session, "checking", hint, boxes, None, str(FRAME_MESSAGES[hint]), frame_size)


def _liveness_fail(session: KioskSession, *, live: Any, now: datetime, snapshot: bytes) -> None:
    """Suspected presentation attack (a moved flat photo, a replay), or the challenge not done in time."""
    session_audit(
        session,
        kind=AuditEvent.Kind.LIVENESS_FAILED,
        outcome=AuditEvent.Outcome.FAILURE,
        data={"reason": live.reason, "challenge": live.state.get("challenge", ""), **live.details},
    )
    _face_fail(session, reason="liveness", now=now, snapshot=snapshot)


def _frame_match(session: KioskSession, *, verdict: Any, now: datetime, live: bool) -> None:
    """K consecutive matching frames of one face AND a passed liveness challenge verify the session."""
    if session.is_cardless:
        # The streak must be one candidate's: frames of two family members do not add up.
        candidate = getattr(verdict, "customer_id", None)
        if candidate != session.cardless_face_candidate_id:
            session.match_streak = 0
            session.cardless_face_candidate_id = candidate
            session.save(update_fields=["cardless_face_candidate_id"])
    session.match_streak += 1
    fields = ["match_streak"]
    if session.match_streak >= settings.FACE_MATCH_FRAMES_REQUIRED and live:
        # Card-less: the face alone never pays out; the PIN decides (verified_at is set by the PIN).
        decided = State.PIN_PENDING if session.is_cardless else State.VERIFIED
        session.state, session.verified_by = decided, "face"
        session.verified_at = None if session.is_cardless else now
        fields += ["state", "verified_at", "verified_by"]
    session.save(update_fields=fields)
    if session.state == State.PIN_PENDING:
        from .cardless import cardless_face_decided

        cardless_face_decided(session, customer_id=int(session.cardless_face_candidate_id or 0))
        session_audit(
            session,
            kind=AuditEvent.Kind.FACE_DECISION,
            outcome=AuditEvent.Outcome.SUCCESS,
            data={
                "frames_seen": session.frames_seen,
                "streak": session.match_streak,
                "distance": verdict.distance,
            },
        )
    if session.state == State.VERIFIED:
        security.card_face_success_record(card=session.claimed_card)
        session_audit(
            session,
            kind=AuditEvent.Kind.FACE_DECISION,
            outcome=AuditEvent.Outcome.SUCCESS,
            data={
                "frames_seen": session.frames_seen,
                "streak": session.match_streak,
                "distance": verdict.distance,
            },
        )
