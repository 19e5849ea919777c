"""What the one-time code and the card-less PIN checks share.

A wrong entry is counted, audited and sometimes pauses or disables a path; all of that must commit even
though the customer gets a refusal. So a step returns its refusal instead of raising it, and the refusal is
raised after the transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from notifications.senders import OtpSendError, otp_sender_get

from ..errors import KioskError
from ..locks import session_lock
from ..models import Kiosk, KioskSession
from .sessions import session_audit, session_get, session_require

Step = Callable[[KioskSession, datetime], ApplicationError | None]


def session_step(*, kiosk: Kiosk, public_id: str | UUID, states: tuple[str, ...], step: Step) -> KioskSession:
    """Run `step` on the locked session (which must be in `states`); raise its refusal after the commit."""
    with transaction.atomic(durable=True):
        session = session_lock(session_get(kiosk=kiosk, public_id=public_id))
        now = timezone.now()
        session_require(session, states=states, now=now)
        refusal = step(session, now)
    if refusal is not None:
        raise refusal
    return session


def attempts_left_refusal(code: KioskError, *, attempts_left: int) -> ApplicationError:
    """The 400 for a wrong code or PIN that still leaves attempts (the wording has a %(remaining)d slot)."""
    return ApplicationError(
        code,
        params={"remaining": attempts_left},
        status_code=400,
        extra={"attempts_left": attempts_left},
    )


def owner_notice_send(session: KioskSession, *, phone: str, body: str, notice: str) -> None:
    """A WhatsApp notice to an owner (never a code); a failed send is audited, not raised.

    The refusal the customer gets must not depend on whether the messaging provider answered.
    """
    try:
        otp_sender_get().send(phone=phone, body=body)
    except OtpSendError as error:
        session_audit(
            session,
            kind=AuditEvent.Kind.OTP_SEND_FAILED,
            outcome=AuditEvent.Outcome.FAILURE,
            data={"error": error.reason[:200], "notice": notice},
        )
