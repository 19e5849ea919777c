"""The card-less PIN at the kiosk, after the face (or the code): a face alone never pays out.

CARDLESS_PIN_MAX_FAILURES wrong PINs in a row disable card-less use for the customer, and the owner gets a
WhatsApp notice, until a four-eyes reset at a branch. The PIN is never shown, logged, audited or returned.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.utils.translation import gettext

from accounts.phones import phone_mask
from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from audit.services import audit_event_record

from ..errors import KioskError
from ..locks import cardless_access_find_lock
from ..models import CardlessAccess, Kiosk, KioskSession
from ..pin_verifiers import pin_verifier_check, pin_verifier_make
from .cardless import pin_check_format
from .entries import attempts_left_refusal, owner_notice_send, session_step
from .sessions import (
    State,
    session_audit,
    session_close,
    session_refresh,
)

Status = CardlessAccess.Status


def cardless_pin_verify(*, kiosk: Kiosk, public_id: str | UUID, pin: str) -> KioskSession:
    """Check the PIN after the face (or code) step. Right: verified. Wrong: counted for the customer."""
    pin = pin_check_format(pin)  # a malformed entry is a typing slip, not a guess: not counted
    session_refresh(kiosk=kiosk, public_id=public_id)
    return session_step(
        kiosk=kiosk,
        public_id=public_id,
        states=(State.PIN_PENDING,),
        step=lambda session, now: _pin_check(session, now=now, pin=pin),
    )


def pin_customer_id(session: KioskSession) -> int | None:
    """Whose PIN this session asks for: the customer the face matched, never one the PIN picks.

    Decided by the face: that customer. Face check failed and the code stood in for it: the number's only
    candidate, or, on a shared phone, the candidate the session's frames matched (a face that matched nobody
    there leaves nobody: the PIN cannot choose between family members).
    """
    if session.customer_id:
        return int(session.customer_id)
    candidates = list(session.cardless_candidates or [])
    if len(candidates) == 1:
        return int(candidates[0])
    if session.cardless_face_candidate_id in candidates:
        return int(session.cardless_face_candidate_id or 0)
    return None


def _pin_check(session: KioskSession, *, now: datetime, pin: str) -> ApplicationError | None:
    customer_id = pin_customer_id(session)
    access = cardless_access_find_lock(customer_id=customer_id, active_only=True) if customer_id else None
    session.last_activity_at = now
    if access is None:
        pin_verifier_check(pin, "")  # the same slow hash as a real check: no timing tells the number apart
    elif _pin_matches(access, pin):
        _pin_accept(session, access, now=now)
        return None
    session.save(update_fields=["last_activity_at"])
    if access is not None and _pin_of_another_candidate(session, pin=pin, customer_id=access.customer_id):
        # A family member's own PIN is not a guess at this customer's: refused, not counted against them.
        session_audit(
            session,
            kind=AuditEvent.Kind.CARDLESS_PIN_FAILED,
            outcome=AuditEvent.Outcome.FAILURE,
            data={"counted": False, "why": "pin_of_another_candidate"},
        )
        left = settings.CARDLESS_PIN_MAX_FAILURES - access.consecutive_pin_failures
        return attempts_left_refusal(KioskError.PIN_WRONG, attempts_left=left)
    left = _pin_failure_record(session, [access] if access else [], now=now)
    if left <= 0:
        session_close(session, reason=KioskSession.EndReason.CARDLESS_DISABLED, now=now)
        return ApplicationError(KioskError.CARDLESS_DISABLED, status_code=403)
    return attempts_left_refusal(KioskError.PIN_WRONG, attempts_left=left)


def _pin_matches(access: CardlessAccess, pin: str) -> bool:
    """Right PIN? A right PIN stored under an older pepper (or none) is re-keyed under the newest now."""
    check = pin_verifier_check(pin, access.pin_hash)
    if check.upgrade:
        access.pin_hash = pin_verifier_make(pin)
        access.save(update_fields=["pin_hash", "updated_at"])
    return check.ok


def _pin_of_another_candidate(session: KioskSession, *, pin: str, customer_id: int) -> bool:
    """True if `pin` is the PIN of another active candidate of the session's (shared) phone number."""
    others = CardlessAccess.objects.filter(
        customer_id__in=[pk for pk in session.cardless_candidates or [] if pk != customer_id],
        status=Status.ACTIVE,
    ).values_list("pin_hash", flat=True)
    return any(pin_verifier_check(pin, pin_hash).ok for pin_hash in others)


def _pin_accept(session: KioskSession, access: CardlessAccess, *, now: datetime) -> None:
    """The PIN picked one customer: the session is theirs and verified; their wrong-PIN series ends."""
    access.consecutive_pin_failures = 0
    access.save(update_fields=["consecutive_pin_failures", "updated_at"])
    session.customer_id, session.account_id = access.customer_id, access.account_id
    session.state, session.verified_at = State.VERIFIED, now
    session.save(update_fields=["customer", "account", "state", "verified_at", "last_activity_at"])
    session_audit(
        session, kind=AuditEvent.Kind.CARDLESS_PIN_VERIFIED, outcome=AuditEvent.Outcome.SUCCESS, data={}
    )


def _pin_failure_record(session: KioskSession, accesses: list[CardlessAccess], *, now: datetime) -> int:
    """Count a wrong PIN against every customer it could have been for; returns the fewest attempts left.

    No customer (an unknown number) leaves no attempts, so the session ends as if one had been disabled.
    """
    disabled = []
    for access in accesses:
        access.consecutive_pin_failures += 1
        if access.consecutive_pin_failures >= settings.CARDLESS_PIN_MAX_FAILURES:
            access.status, access.disabled_at = Status.DISABLED, now
            access.pin_reset_required = True  # survives an opt-out: only an approved reset clears it
            disabled.append(access)
        access.save(
            update_fields=[
                "consecutive_pin_failures",
                "status",
                "disabled_at",
                "pin_reset_required",
                "updated_at",
            ]
        )
    left = min((settings.CARDLESS_PIN_MAX_FAILURES - a.consecutive_pin_failures for a in accesses), default=0)
    session_audit(
        session,
        kind=AuditEvent.Kind.CARDLESS_PIN_FAILED,
        outcome=AuditEvent.Outcome.FAILURE,
        data={"attempts_left": max(left, 0), "disabled_customers": [a.customer_id for a in disabled]},
    )
    for access in disabled:
        audit_event_record(
            kind=AuditEvent.Kind.CARDLESS_DISABLED,
            outcome=AuditEvent.Outcome.FAILURE,
            kiosk_id=session.kiosk_id,
            customer_id=access.customer_id,
            data={"session": str(session.public_id), "phone": phone_mask(access.customer.phone)},
        )
        _pin_disabled_notice(access, session=session)
    return left


def _pin_disabled_text() -> str:
    return gettext(
        "%(bank)s: three wrong PINs were entered at an ATM for your card-less cash. Card-less cash is "
        "disabled until you visit a branch. If this was not you, call the bank."
    ) % {"bank": settings.BANK_NAME}


def _pin_disabled_notice(access: CardlessAccess, *, session: KioskSession) -> None:
    from accounts.notices import notice_render

    # In the owner's language, whoever stands at the kiosk.
    body = notice_render(access.customer, _pin_disabled_text)
    owner_notice_send(session, phone=access.customer.phone, body=body, notice="cardless_disabled")
