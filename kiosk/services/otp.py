"""One-time codes over WhatsApp, the fallback after a failed face check (never after a mismatch).

The code comes from `secrets`, is stored only as HMAC-SHA256 (key OTP_HMAC_KEY, bound to the session) and
is never logged, shown or returned. A row exists only for a code that was really sent.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from accounts.approvals.selectors import otp_phone_change_check
from atmsite.errors import ApplicationError
from audit.models import AuditEvent

from ..models import Kiosk, KioskSession, OtpCode
from ..otp_senders import OtpSendError, otp_sender_get
from . import security
from .sessions import State, _audit, _end, session_get, session_lock, session_refresh, session_require

logger = logging.getLogger(__name__)


def otp_digest(*, session_id: int, code: str) -> str:
    return hmac.new(
        settings.OTP_HMAC_KEY.encode(), f"{session_id}:{code}".encode(), hashlib.sha256
    ).hexdigest()


def _message_body(code: str) -> str:
    minutes = settings.OTP_TTL_S // 60
    return gettext(
        "%(bank)s ATM: your one-time code is %(code)s. It expires in %(minutes)d minutes. "
        "Never share it, not even with bank staff."
    ) % {"bank": settings.BANK_NAME, "code": code, "minutes": minutes}


def otp_request(*, kiosk: Kiosk, public_id: Any) -> KioskSession:
    """Send a fresh code to the card owner's WhatsApp. At most OTP_MAX_SENDS per card per window.

    The send happens inside the transaction that stores the code, under the session row lock (held at most
    TWILIO_TIMEOUT_S): two taps cannot send two codes, and a failed send leaves no code and uses no quota.
    """
    session_refresh(kiosk=kiosk, public_id=public_id)
    failure: ApplicationError | None = None
    with transaction.atomic():
        session = session_lock(session_get(kiosk=kiosk, public_id=public_id))
        now = timezone.now()
        session_require(session, states=(State.FACE_FAILED, State.OTP_SENT), now=now)
        otp_phone_change_check(customer=session.card.customer, now=now)
        window_start = now - timedelta(seconds=settings.OTP_SEND_WINDOW_S)
        sent_recently = OtpCode.objects.filter(card=session.card, created_at__gte=window_start).count()
        if sent_recently >= settings.OTP_MAX_SENDS:
            raise ApplicationError(
                _("Too many codes were sent for this card. Please try again later."),
                code="otp_rate_limited",
                status_code=429,
            )
        code = f"{secrets.randbelow(1_000_000):06d}"
        try:
            otp_sender_get().send(phone=session.card.customer.phone, body=_message_body(code))
        except OtpSendError as error:
            # The reason (never the message body) goes to the audit trail; nothing else changes.
            _audit(
                session,
                kind=AuditEvent.Kind.OTP_SEND_FAILED,
                outcome=AuditEvent.Outcome.FAILURE,
                data={"error": error.reason[:200]},
            )
            failure = ApplicationError(
                _("The code could not be sent right now. Please try again in a moment."),
                code="otp_send_failed",
                status_code=503,
            )
        else:
            # A new code replaces any earlier one of this session.
            OtpCode.objects.filter(session=session, used_at__isnull=True, voided_at__isnull=True).update(
                voided_at=now
            )
            OtpCode.objects.create(
                session=session,
                card=session.card,
                code_hmac=otp_digest(session_id=session.pk, code=code),
                created_at=now,
                expires_at=now + timedelta(seconds=settings.OTP_TTL_S),
            )
            session.state, session.last_activity_at = State.OTP_SENT, now
            session.save(update_fields=["state", "last_activity_at"])
            _audit(
                session,
                kind=AuditEvent.Kind.OTP_SENT,
                outcome=AuditEvent.Outcome.SUCCESS,
                data={"channel": "whatsapp", "sent_in_window": sent_recently + 1},
            )
        del code
    if failure is not None:
        raise failure
    return session


def otp_verify(*, kiosk: Kiosk, public_id: Any, code: str) -> KioskSession:
    """Check a typed code. 5 wrong entries void it; too many in a row block the card."""
    code = (code or "").strip()
    # isascii(): str.isdigit() also accepts "１２３４５６" and "²"; those are typing slips, not guesses.
    if len(code) != 6 or not (code.isascii() and code.isdigit()):
        # Not counted: a malformed entry reveals nothing and is a typing slip, not a guess.
        raise ApplicationError(_("Enter the 6-digit code."), code="otp_format", status_code=400)
    session_refresh(kiosk=kiosk, public_id=public_id)
    failure: ApplicationError | None = None
    with transaction.atomic():
        session = session_lock(session_get(kiosk=kiosk, public_id=public_id))
        now = timezone.now()
        session_require(session, states=(State.OTP_SENT,), now=now)
        otp = (
            OtpCode.objects.select_for_update()
            .filter(session=session, used_at__isnull=True, voided_at__isnull=True)
            .order_by("-created_at")
            .first()
        )
        if otp is None or otp.expires_at <= now:
            raise ApplicationError(
                _("The code has expired or was used up. Ask for a new code."),
                code="otp_expired",
                status_code=409,
            )
        if hmac.compare_digest(otp.code_hmac, otp_digest(session_id=session.pk, code=code)):
            otp.used_at = now
            otp.save(update_fields=["used_at"])
            session.state, session.verified_at, session.verified_by = State.VERIFIED, now, "otp"
            session.last_activity_at = now
            session.save(update_fields=["state", "verified_at", "verified_by", "last_activity_at"])
            security.card_otp_success_record(card=session.card)
            _audit(session, kind=AuditEvent.Kind.OTP_VERIFIED, outcome=AuditEvent.Outcome.SUCCESS, data={})
        else:
            otp.failed_attempts += 1
            voided = otp.failed_attempts >= settings.OTP_MAX_ATTEMPTS
            if voided:
                otp.voided_at = now
            otp.save(update_fields=["failed_attempts", "voided_at"])
            session.last_activity_at = now
            session.save(update_fields=["last_activity_at"])
            blocked = security.card_otp_failure_record(card=session.card)
            _audit(
                session,
                kind=AuditEvent.Kind.OTP_FAILED,
                outcome=AuditEvent.Outcome.FAILURE,
                data={"attempts": otp.failed_attempts, "voided": voided, "card_blocked": blocked},
            )
            if blocked:
                _end(session, reason="card_blocked", now=now)
                failure = ApplicationError(
                    _("Too many wrong codes. The card has been blocked. Please contact the bank."),
                    code="card_blocked",
                    status_code=403,
                )
            elif voided:
                failure = ApplicationError(
                    _("Too many wrong codes. This code no longer works; ask for a new one."),
                    code="otp_voided",
                    status_code=400,
                )
            else:
                remaining = settings.OTP_MAX_ATTEMPTS - otp.failed_attempts
                failure = ApplicationError(
                    _("Wrong code. Attempts left: %(remaining)d.") % {"remaining": remaining},
                    code="otp_wrong",
                    status_code=400,
                    extra={"attempts_left": remaining},
                )
    if failure is not None:
        raise failure
    return session
