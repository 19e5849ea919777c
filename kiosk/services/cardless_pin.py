"""The card-less PIN at the kiosk, after the face (or the code): a face alone never pays out.

CARDLESS_PIN_MAX_FAILURES wrong PINs in a row disable card-less use for the customer, and the owner gets a
WhatsApp notice, until a four-eyes reset at a branch. The PIN is never shown, logged, audited or returned.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from accounts.phones import phone_mask
from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from audit.services import audit_event_record

from ..models import CardlessAccess, Kiosk, KioskSession
from .cardless import pin_check_format
from .entries import attempts_left_refusal, owner_notice_send, session_step
from .sessions import (
    State,
    session_audit,
    session_close,
    session_refresh,
)

Status = CardlessAccess.Status

# Compared when there is nobody to compare with, so a wrong PIN costs the same hashing either way.
_NOBODY_PIN_HASH = make_password(secrets.token_urlsafe(16))


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


def _pin_check(session: KioskSession, *, now: datetime, pin: str) -> ApplicationError | None:
    # Decided by face: that customer alone. Decided by a code to a shared phone: the PIN picks among them.
    ids = [session.customer_id] if session.customer_id else list(session.cardless_candidates or [])
    accesses = list(
        CardlessAccess.objects.select_for_update()
        .select_related("customer")
        .filter(customer_id__in=ids, status=Status.ACTIVE)
        .order_by("customer_id")
    )
    matched = [access for access in accesses if check_password(pin, access.pin_hash)]
    if not accesses:
        check_password(pin, _NOBODY_PIN_HASH)
    session.last_activity_at = now
    if len(matched) == 1:
        _pin_accept(session, matched[0], now=now)
        return None
    session.save(update_fields=["last_activity_at"])
    left = _pin_failure_record(session, accesses, now=now)
    if left <= 0:
        session_close(session, reason=KioskSession.EndReason.CARDLESS_DISABLED, now=now)
        return ApplicationError(
            _("Too many wrong PINs. Card-less cash is disabled; please visit a branch."),
            code="cardless_disabled",
            status_code=403,
        )
    return attempts_left_refusal(
        _("Wrong PIN. Attempts left: %(remaining)d."), code="pin_wrong", attempts_left=left
    )


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
            disabled.append(access)
        access.save(update_fields=["consecutive_pin_failures", "status", "disabled_at", "updated_at"])
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
