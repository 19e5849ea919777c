"""Step-up: when the face alone is not enough and the WhatsApp code is asked too (issue 21, item 3).

The session is decided on its aggregated score, the median distance of its last FACE_MATCH_FRAMES_REQUIRED
matching frames (on the kiosk's distance scale, threshold FACE_DISTANCE_THRESHOLD). A median within
FACE_GREY_ZONE of the threshold is too close to trust the face alone: a card session is not verified by the
face and the code is offered (the code path of otp.py); a card-less session is refused (it has no second
factor to lean on besides the PIN it already asks). A withdrawal above FACE_STEP_UP_AMOUNT on a card session
verified by the face only asks for the code too. Both are audited with the score in the transaction that
decides them.
"""

from __future__ import annotations

from datetime import datetime
from statistics import median
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import BankAccount
from atmsite.errors import ApplicationError
from audit.models import AuditEvent

from ..errors import KioskError
from ..locks import session_lock
from ..models import Kiosk, KioskSession
from ..vocabulary import FailureReason, VerifiedBy
from .sessions import State, face_decision_audit, session_audit, session_face_fail, session_get


def streak_scores(session: KioskSession, *, distance: float | None) -> list[float]:
    """The session's kept scores with this matching frame's distance: the streak's last K at most."""
    keep = max(1, settings.FACE_MATCH_FRAMES_REQUIRED)
    scores = [float(value) for value in (session.face_scores or [])]
    if distance is not None:
        scores.append(float(distance))
    return scores[-min(keep, max(1, session.match_streak)) :]


def in_grey_zone(score: float) -> bool:
    """True when ``score`` (a distance within the threshold) is within FACE_GREY_ZONE of the threshold."""
    threshold = settings.FACE_DISTANCE_THRESHOLD
    return score > threshold * (1.0 - settings.FACE_GREY_ZONE)


def session_grey_zone_decide(session: KioskSession, *, now: datetime) -> bool:
    """At the K-frame decision: keep the aggregated score; True when the grey zone decided the session
    (card: face check failed with the code offered; card-less: refused), False when the face may verify."""
    scores = session.face_scores or []
    session.face_score = round(float(median(scores)), 4) if scores else None
    session.save(update_fields=["face_score", "face_scores"])
    if session.face_score is None or not in_grey_zone(session.face_score):
        return False
    evidence = {"score": session.face_score, "threshold": settings.FACE_DISTANCE_THRESHOLD}
    if session.is_cardless:
        session_face_fail(session, reason=FailureReason.GREY_ZONE, snapshot=None)
        session_audit(
            session,
            kind=AuditEvent.Kind.FACE_STEP_UP,
            outcome=AuditEvent.Outcome.FAILURE,
            data={"why": "grey_zone", "action": "refused", **evidence},
        )
        return True
    # Not a failed face: the face lock-out counters are left alone; the code decides.
    session.state, session.face_failure_reason = State.FACE_FAILED, FailureReason.GREY_ZONE
    session.match_streak = 0
    session.last_activity_at = now
    session.save(update_fields=["state", "face_failure_reason", "match_streak", "last_activity_at"])
    face_decision_audit(
        session, outcome=AuditEvent.Outcome.FAILURE, data={"reason": FailureReason.GREY_ZONE, **evidence}
    )
    session_audit(
        session,
        kind=AuditEvent.Kind.FACE_STEP_UP,
        outcome=AuditEvent.Outcome.INFO,
        data={"why": "grey_zone", "action": "code_offered", **evidence},
    )
    return True


def session_match_percent(session: KioskSession, *, fallback: int | None) -> int | None:
    """The percentage shown once verified: the session's aggregated score read against genuine sessions."""
    if session.face_score is None:
        return fallback
    from biometrics.services.verification import match_percent

    return match_percent(session.face_score)


def step_up_needed(session: KioskSession, *, amount: int) -> bool:
    limit = settings.FACE_STEP_UP_AMOUNT
    return bool(
        limit > 0 and amount > limit and not session.is_cardless and session.verified_by == VerifiedBy.FACE
    )


def session_withdraw_step_up(*, kiosk: Kiosk, public_id: str | UUID, amount: int) -> None:
    """Before a withdrawal: above FACE_STEP_UP_AMOUNT a face-only card session is sent to the code path
    (committed and audited with the session's score), and the withdrawal is refused with one sentence."""
    with transaction.atomic(durable=True):
        session = session_lock(session_get(kiosk=kiosk, public_id=public_id))
        if session.state not in (State.VERIFIED, State.IN_MENU) or not step_up_needed(session, amount=amount):
            return  # the withdrawal's own checks refuse anything else
        if amount > BankAccount.objects.get(pk=session.money_account_id).balance:
            return  # refused for funds anyway: no code is asked for money that is not there
        session.state, session.face_failure_reason = State.FACE_FAILED, FailureReason.STEP_UP
        session.last_activity_at = timezone.now()
        session.save(update_fields=["state", "face_failure_reason", "last_activity_at"])
        session_audit(
            session,
            kind=AuditEvent.Kind.FACE_STEP_UP,
            outcome=AuditEvent.Outcome.INFO,
            data={
                "why": "amount",
                "action": "code_asked",
                "amount": amount,
                "limit": settings.FACE_STEP_UP_AMOUNT,
                "score": session.face_score,
            },
        )
    raise ApplicationError(KioskError.STEP_UP_REQUIRED, status_code=403)
