"""Camera frames of the face check: card_entered/face_pending → verified (card-less: pin_pending) or failed.

Per frame: size, deadlines, nonce + sequence number + replay check; outside any transaction the image is
decoded and judged by the face engine (`face.frame_verify`, 1:1 with the owner; card-less,
`face.frame_verify_candidates`); then, under the session's row lock, the frame is checked again and recorded,
the liveness state advanced, and one decision taken: mismatch evidence, the face deadline, several faces that
stay, a liveness failure, a match (K in a row and a passed challenge verify), or nothing yet. What the kiosk
is told is worded in kiosk.messages.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from biometrics.verdicts import FaceOutcome, FaceProblem, FrameVerdict

from .. import messages
from ..errors import KioskError
from ..locks import session_lock
from ..messages import FrameHint
from ..models import Kiosk, KioskSession
from ..selectors import session_owner_first_name
from ..vocabulary import EndReason, FailureReason, as_stranger
from . import card_security, face, step_up
from .sessions import (
    PublicId,
    State,
    face_decision_audit,
    session_audit,
    session_close,
    session_deadlines,
    session_face_fail,
    session_refresh,
    session_require,
    timeout_failure_reason,
)

# Engine outcome → hint. Faces that can be compared (match, no_match, mismatch) share one, chosen below.
_FRAME_HINTS = {
    FaceOutcome.NO_FACE: FrameHint.LOOK_AT_CAMERA,
    FaceOutcome.SEVERAL_FACES: FrameHint.ONE_PERSON,
    FaceOutcome.LOW_QUALITY: FrameHint.MOVE_CLOSER,
}


class FrameOutcome(enum.StrEnum):
    """What the kiosk is told a frame decided (never how well the face matched)."""

    CHECKING = "checking"
    VERIFIED = "verified"
    PIN = "pin"  # card-less: the face is decided, the PIN is next
    FAILED = "failed"


@dataclass(frozen=True)
class FrameResult:
    """What the kiosk is told about one frame. Before the decision: boxes, one hint and progress only."""

    session: KioskSession
    outcome: FrameOutcome
    hint: str  # a FrameHint while checking, else ""
    boxes: list[dict[str, int]]
    match_percent: int | None  # only once verified
    message: str
    frame_size: tuple[int, int]


def session_frame_submit(
    *, kiosk: Kiosk, public_id: PublicId, nonce: str, seq: int, data: bytes
) -> FrameResult:
    """One camera frame for the face check. K consecutive matching frames of one face verify the session.

    The slow part (decoding, face engine) runs outside any transaction; the session row is then locked and
    the frame is accepted only if no other frame advanced the sequence meanwhile.
    """
    if not data:
        raise ApplicationError(KioskError.FRAME_EMPTY, status_code=400)
    if len(data) > settings.KIOSK_FRAME_MAX_BYTES:
        raise ApplicationError(KioskError.FRAME_TOO_LARGE, status_code=413)
    # Idle and absolute deadlines first; a passed face deadline is decided below, with this frame as evidence.
    session = session_refresh(kiosk=kiosk, public_id=public_id, face_deadline=False)
    digest = hashlib.sha256(data).hexdigest()
    try:
        _frame_precheck(session, nonce=nonce, seq=seq, digest=digest, now=timezone.now())
    except ApplicationError as error:
        if error.code == KioskError.FRAME_REPLAYED and _replays_exceed_limit(session, digest=digest):
            return _replayed_frames_fail(session, nonce=nonce, seq=seq, digest=digest, data=data)
        raise
    image = face.image_decode(data)
    verdict = _frame_verify(session, image=image)
    with transaction.atomic(durable=True):
        locked = session_lock(session)
        now = timezone.now()
        _frame_precheck(locked, nonce=nonce, seq=seq, digest=digest, now=now)
        face_deadline = _frame_record(locked, verdict=verdict, seq=seq, digest=digest, now=now)
        live = face.liveness_feed(
            state=locked.liveness_state,
            # Another customer's face is a stranger's to liveness too, or its timing would tell them apart.
            outcome=FaceOutcome(as_stranger(verdict.outcome)),
            landmarks=verdict.landmarks,
            t=now.timestamp(),
            fingerprint=digest,
            pad_score=verdict.pad_score,
        )
        locked.liveness_state = live.state
        locked.save(update_fields=["liveness_state"])
        _frame_decide(locked, verdict=verdict, live=live, face_deadline=face_deadline, now=now, data=data)
    return _frame_result(locked, verdict=verdict, frame_size=_frame_size(image))


def _frame_size(image: np.ndarray) -> tuple[int, int]:
    return int(image.shape[1]), int(image.shape[0])


def _frame_verify(session: KioskSession, *, image: np.ndarray) -> FrameVerdict:
    """The face engine's verdict: 1:1 with the card owner, or card-less with the phone's candidates."""
    if session.is_cardless:
        from .cardless import face_candidates

        return face.frame_verify_candidates(customer_ids=face_candidates(session), image=image)
    return face.frame_verify(customer_id=session.claimed_card.customer_id, image=image)


def _frame_precheck(session: KioskSession, *, nonce: str, seq: int, digest: str, now: datetime) -> None:
    session_require(session, states=(State.CARD_ENTERED, State.FACE_PENDING), now=now)
    if not hmac.compare_digest(str(nonce).encode(), session.frame_nonce.encode()):
        raise ApplicationError(KioskError.FRAME_NONCE, status_code=400)
    if seq != session.frame_seq + 1:
        raise ApplicationError(
            KioskError.FRAME_SEQUENCE, status_code=409, extra={"expected_seq": session.frame_seq + 1}
        )
    if session.last_frame_sha256 and hmac.compare_digest(digest, session.last_frame_sha256):
        raise ApplicationError(KioskError.FRAME_REPLAYED, status_code=400)


def _frame_record(
    session: KioskSession, *, verdict: FrameVerdict, seq: int, digest: str, now: datetime
) -> datetime | None:
    """Accept the frame on the locked session (sequence, digest, activity, outcome, the face clock); returns
    the face deadline as it stands with this frame (None once the face check is no longer running)."""
    session.frames_seen += 1
    session.frame_seq = seq
    session.last_frame_sha256 = digest
    session.last_activity_at = now
    session.face_last_outcome = verdict.outcome
    session.face_frames_seen += verdict.outcome != FaceOutcome.NO_FACE
    if session.state == State.CARD_ENTERED:
        session.state, session.face_started_at = State.FACE_PENDING, now
    if verdict.outcome != FaceOutcome.SEVERAL_FACES:
        session.several_faces_since = None
    elif session.several_faces_since is None:
        session.several_faces_since = now
    session.save(
        update_fields=[
            "frames_seen",
            "frame_seq",
            "last_frame_sha256",
            "last_activity_at",
            "face_last_outcome",
            "face_frames_seen",
            "state",
            "face_started_at",
            "several_faces_since",
        ]
    )
    return session_deadlines(session).get("face")


def _frame_decide(
    session: KioskSession,
    *,
    verdict: FrameVerdict,
    live: face.LivenessStep,
    face_deadline: datetime | None,
    now: datetime,
    data: bytes,
) -> None:
    """The one decision this frame takes on the locked session (the first rule that applies)."""
    if verdict.outcome == FaceOutcome.MISMATCH or verdict.other_customer_id is not None:  # or several faces
        _mismatch_seen(session, verdict=verdict, now=now, snapshot=data)
    if verdict.naming_pending:
        from .naming import session_naming_defer  # imports kiosk.services.sessions

        session_naming_defer(session=session, verdict=verdict, snapshot=data, now=now)
    if not session.is_open:
        pass  # the mismatch evidence blocked the card
    elif face_deadline is not None and now >= face_deadline:
        reason = timeout_failure_reason(verdict.outcome)
        session_face_fail(session, reason=reason, snapshot=data, verdict=verdict)
    elif verdict.outcome == FaceOutcome.SEVERAL_FACES and _several_faces_persist(session, now=now):
        session_face_fail(session, reason=FailureReason.SEVERAL_FACES, snapshot=data, verdict=verdict)
    elif live.status == face.LivenessStatus.FAILED:
        _liveness_fail(session, live=live, snapshot=data)
    elif verdict.outcome == FaceOutcome.MATCH:
        _frame_match(session, verdict=verdict, now=now, live=live.status == face.LivenessStatus.PASSED)
    else:
        session.match_streak = 0
        session.save(update_fields=["match_streak"])


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
    return bool(count >= settings.KIOSK_REPLAYED_FRAMES_LIMIT)


def _replayed_frames_fail(
    session: KioskSession, *, nonce: str, seq: int, digest: str, data: bytes
) -> FrameResult:
    """The same frame again and again is a still image (a virtual camera): a liveness failure, decided now
    rather than at the face deadline, with the frame kept as the snapshot."""
    frame_size = _frame_size(face.image_decode(data))
    with transaction.atomic(durable=True):
        locked = session_lock(session)
        now = timezone.now()
        try:
            _frame_precheck(locked, nonce=nonce, seq=seq, digest=digest, now=now)
        except ApplicationError as error:
            if error.code != KioskError.FRAME_REPLAYED:
                raise
        else:  # another frame was accepted meanwhile: this one is no longer a replay of the last
            raise ApplicationError(KioskError.FRAME_SEQUENCE, status_code=409)
        locked.last_activity_at = now
        live = face.LivenessStep(
            state=locked.liveness_state,
            status=face.LivenessStatus.FAILED,
            reason="replayed_frames",
            details={"replayed_frames": float(settings.KIOSK_REPLAYED_FRAMES_LIMIT)},
        )
        _liveness_fail(locked, live=live, snapshot=data)
    message = messages.session_message(locked)
    return FrameResult(locked, FrameOutcome.FAILED, "", [], None, message, frame_size)


def _frame_hint(session: KioskSession, *, verdict: FrameVerdict) -> FrameHint:
    hint = _FRAME_HINTS.get(verdict.outcome)
    if hint == FrameHint.MOVE_CLOSER and verdict.problem == FaceProblem.BLURRED:
        hint = FrameHint.MORE_LIGHT  # large enough but blurred: usually too dark for a sharp picture
    if hint is None:
        # A comparable face, whoever it is: the same hint for a match, a stranger and another customer.
        challenge = face.liveness_challenge(session.liveness_state)
        hint = FrameHint.TURN_AS_ASKED if challenge else FrameHint.LOOK_AT_CAMERA
        if challenge and face.liveness_mouth_pending(session.liveness_state):
            hint = FrameHint.OPEN_MOUTH
        elif challenge and face.liveness_turn_short(session.liveness_state):
            hint = FrameHint.TURN_FURTHER
    return hint


def _frame_result(
    session: KioskSession, *, verdict: FrameVerdict, frame_size: tuple[int, int]
) -> FrameResult:
    boxes = [dict(box) for box in verdict.boxes]
    if session.state == State.VERIFIED:
        percent = step_up.session_match_percent(session, fallback=verdict.match_percent)
        name = session_owner_first_name(session)
        message = messages.welcome_message(first_name=name, match_percent=percent)
        return FrameResult(session, FrameOutcome.VERIFIED, "", boxes, percent, message, frame_size)
    if session.state == State.PIN_PENDING:
        return FrameResult(session, FrameOutcome.PIN, "", boxes, None, messages.pin_prompt(), frame_size)
    if session.state in (State.FACE_FAILED, State.ENDED):
        message = messages.session_message(session)
        return FrameResult(session, FrameOutcome.FAILED, "", boxes, None, message, frame_size)
    hint = _frame_hint(session, verdict=verdict)
    message = messages.hint_message(hint)
    return FrameResult(session, FrameOutcome.CHECKING, hint, boxes, None, message, frame_size)


def _liveness_fail(session: KioskSession, *, live: face.LivenessStep, snapshot: bytes) -> None:
    """Suspected presentation attack (a moved flat photo, a replay), or the challenge not done in time."""
    session_audit(
        session,
        kind=AuditEvent.Kind.LIVENESS_FAILED,
        outcome=AuditEvent.Outcome.FAILURE,
        data={"reason": live.reason, "challenge": live.state.get("challenge", ""), **live.details},
    )
    session_face_fail(session, reason=FailureReason.LIVENESS, snapshot=snapshot)


def _mismatch_seen(session: KioskSession, *, verdict: FrameVerdict, now: datetime, snapshot: bytes) -> None:
    """Another enrolled customer's face with this card: remembered (no code), audited with its evidence.

    The face check itself goes on as for a stranger (the kiosk must not be able to tell the two apart); only
    the first such frame of a session is recorded. It counts towards blocking the card (mismatches from two
    kiosks) only once a live face showed it (card_security.mismatch_frame_live): a photo of an enrolled
    customer held up with a card's number and expiry denies the code but cannot block someone else's card.
    """
    first = not session.mismatch_seen
    if first:
        session.mismatch_seen = True
        session.save(update_fields=["mismatch_seen"])
    # A card is blocked on evidence; a typed phone number is not a credential that can be blocked.
    counts = not session.is_cardless and card_security.mismatch_frame_live(session, verdict=verdict)
    blocked = counts and card_security.card_mismatch_count(session)
    if not (first or counts):
        return
    session_audit(
        session,
        kind=AuditEvent.Kind.FACE_MISMATCH,
        outcome=AuditEvent.Outcome.FAILURE,
        data={
            "distance": verdict.distance,
            "nearest_customer_id": verdict.other_customer_id,
            "frames_seen": session.frames_seen,
            "several_faces": verdict.outcome == FaceOutcome.SEVERAL_FACES,
            "pad_score": verdict.pad_score,
            "counted": session.mismatch_counted,
            "card_blocked": blocked,
        },
        snapshot=snapshot,
    )
    if blocked:
        session_close(session, reason=EndReason.CARD_BLOCKED, now=now)


def _frame_match(session: KioskSession, *, verdict: FrameVerdict, now: datetime, live: bool) -> None:
    """K consecutive matching frames of one face AND a passed liveness challenge verify the session."""
    if session.is_cardless and verdict.customer_id != session.cardless_face_candidate_id:
        # The streak must be one candidate's: frames of two family members do not add up.
        session.match_streak = 0
        session.cardless_face_candidate_id = verdict.customer_id
        session.save(update_fields=["cardless_face_candidate_id"])
    session.match_streak += 1
    fields = ["match_streak", "face_scores"]
    session.face_scores = step_up.streak_scores(session, distance=verdict.distance)
    if session.match_streak >= settings.FACE_MATCH_FRAMES_REQUIRED and live:
        if step_up.session_grey_zone_decide(session, now=now):
            return  # too close to the threshold to trust the face alone (audited with the score)
        # Card-less: the face alone never pays out; the PIN decides (verified_at is set by the PIN).
        decided = State.PIN_PENDING if session.is_cardless else State.VERIFIED
        session.state, session.verified_by = decided, KioskSession.VerifiedBy.FACE
        session.verified_at = None if session.is_cardless else now
        fields += ["state", "verified_at", "verified_by"]
    session.save(update_fields=fields)
    if session.state == State.PIN_PENDING:
        from .cardless import cardless_face_decided

        cardless_face_decided(session, customer_id=int(session.cardless_face_candidate_id or 0))
    elif session.state == State.VERIFIED:
        card_security.card_face_success_record(card=session.claimed_card)
    else:
        return
    face_decision_audit(
        session,
        outcome=AuditEvent.Outcome.SUCCESS,
        data={"streak": session.match_streak, "distance": verdict.distance, "score": session.face_score},
    )
