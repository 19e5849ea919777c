"""Kiosk reads: what a kiosk may be shown about a session, and which notes it can pay out (no writes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.approvals.selectors import change_requests_pending
from accounts.models import BankAccount, ChangeRequest, Customer

from . import messages
from .models import CardlessAccess, Cassette, Kiosk, KioskSession
from .services import face
from .services.sessions import session_deadlines
from .today import session_outcome

State = KioskSession.State
# States in which the kiosk may learn who the card belongs to and how well the face matched.
DISCLOSED_STATES = (State.VERIFIED, State.IN_MENU)
SESSIONS_SHOWN = 10  # on Customer 360


def session_owner_first_name(session: KioskSession) -> str:
    """The card owner's (or the decided card-less customer's) first name; "" if nobody is claimed yet."""
    customer = session.claimed_card.customer if session.card_id else session.customer
    return (customer.full_name.split() or [""])[0] if customer is not None else ""


def owner_first_name_disclosed(session: KioskSession) -> str:
    """The owner's first name, only once the session is verified ("" before: nothing about the owner)."""
    return session_owner_first_name(session) if session.state in DISCLOSED_STATES else ""


# Frames a head turn usually takes at the kiosk's ~5 frames a second (the progress bar's share for the
# challenge); only the bar's pace depends on it, never a decision.
CHALLENGE_PROGRESS_FRAMES = 10
# ... and the mouth challenge after it (about a second of open mouth).
MOUTH_PROGRESS_FRAMES = 5


def frames_taken(session: KioskSession) -> int:
    """The API's `match_streak`: frames the face check has taken, up to FACE_MATCH_FRAMES_REQUIRED, the same
    for the owner, a stranger and another customer. The real streak of owner-matching frames stays on the
    server: a figure that rose only for the owner's face told a person at the kiosk whose face they were
    showing."""
    required = settings.FACE_MATCH_FRAMES_REQUIRED
    if session.state in (State.CARD_ENTERED, State.FACE_PENDING):
        return min(required, session.frames_seen)
    return required if session.verified_by == KioskSession.VerifiedBy.FACE else 0


def face_progress(session: KioskSession) -> int:
    """Percent of the face check shown on the kiosk. Before the decision it grows with the frames that show a
    face (whoever's: the owner's streak and challenge would be an oracle) towards the frames the check and,
    with liveness on, the head turn usually take, and stays below 100 until the session is verified, so a
    full bar never sits over a pending turn."""
    if session.state in (State.CARD_ENTERED, State.FACE_PENDING):
        needed = settings.FACE_MATCH_FRAMES_REQUIRED
        if settings.LIVENESS_ENABLED and session.liveness_state:
            needed += CHALLENGE_PROGRESS_FRAMES
            if settings.LIVENESS_MOUTH_CHALLENGE:
                needed += MOUTH_PROGRESS_FRAMES
        return min(95, round(100 * session.face_frames_seen / needed))
    return 100 if session.verified_by == KioskSession.VerifiedBy.FACE else 0


def session_view(session: KioskSession) -> dict[str, Any]:
    """The session as the kiosk shows it (the API's SessionOutput). Deadlines are the server's."""
    now = timezone.now()
    challenge = face.liveness_challenge(session.liveness_state)
    face_phase = session.state in (State.CARD_ENTERED, State.FACE_PENDING)
    left = (
        {
            name: max(0, int((deadline - now).total_seconds()))
            for name, deadline in session_deadlines(session).items()
        }
        if session.is_open
        else {}
    )
    return {
        "public_id": session.public_id,
        "state": session.state,
        "message": messages.session_message(session),
        "first_name": owner_first_name_disclosed(session),
        "masked_pan": session.masked_pan,
        "mode": session.mode,
        "face_failure_reason": messages.failure_reason_public(session),
        "can_request_otp": session.state in (State.FACE_FAILED, State.OTP_SENT),
        "end_reason": session.end_reason,
        "frame_nonce": session.frame_nonce if face_phase else None,
        "next_seq": session.frame_seq + 1,
        "match_streak": frames_taken(session),
        "challenge": challenge if face_phase else "",
        "challenge_text": messages.challenge_text(
            "open_mouth" if face.liveness_mouth_pending(session.liveness_state) else challenge
        )
        if face_phase
        else "",
        "frames_required": settings.FACE_MATCH_FRAMES_REQUIRED,
        "face_progress": face_progress(session),
        "seconds_left": left,
    }


def available_notes(*, kiosk: Kiosk) -> list[int]:
    """The denominations this kiosk can dispense now (a cassette with notes left), smallest first."""
    return list(
        Cassette.objects.filter(kiosk=kiosk, count__gt=0)
        .order_by("denomination")
        .values_list("denomination", flat=True)
    )


@dataclass(frozen=True)
class CardlessStanding:
    """One customer's card-less cash as the branch sees it: the access row (None before any opt-in), the
    active accounts it may pay from, and an opt-in or reset still waiting for a second member of staff."""

    access: CardlessAccess | None
    accounts: QuerySet[BankAccount]
    pending: ChangeRequest | None


def cardless_access(*, customer: Customer) -> CardlessAccess | None:
    return CardlessAccess.objects.select_related("account").filter(customer=customer).first()


def cardless_standing(*, customer: Customer) -> CardlessStanding:
    return CardlessStanding(
        access=cardless_access(customer=customer),
        accounts=BankAccount.objects.filter(customer=customer, status=BankAccount.Status.ACTIVE),
        pending=change_requests_pending()
        .filter(
            customer=customer,
            kind__in=[ChangeRequest.Kind.CARDLESS_OPT_IN, ChangeRequest.Kind.CARDLESS_RESET],
        )
        .first(),
    )


# Customer 360's kiosk parts (accounts.overview), registered from KioskConfig.ready: cardless_access above
# and the sessions.


def customer_sessions_recent(customer: Any, limit: int = SESSIONS_SHOWN) -> list[KioskSession]:
    """The customer's last kiosk sessions, each with its .outcome: at one of their cards, or card-less once
    decided as them."""
    sessions = list(
        KioskSession.objects.filter(Q(card__customer=customer) | Q(customer=customer))
        .select_related("kiosk", "card")
        .order_by("-created_at")[:limit]
    )
    for session in sessions:
        session.outcome = session_outcome(session)  # type: ignore[attr-defined]
    return sessions
