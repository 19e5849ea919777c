"""One-time codes over WhatsApp, the fallback after a failed face check (never after a mismatch).

The code comes from `secrets`, is stored only as HMAC-SHA256 (key OTP_HMAC_KEY, bound to the session) and
is never logged, shown or returned. A row exists only for a code whose send did not fail (for a card-less
number nobody opted in with, a code is stored but never sent, so every code typed for it is wrong).

Wrong codes never block the card: OTP_MAX_ATTEMPTS of them void the code, and OTP_COOLDOWN_AFTER in a row
pause the code path (code_path.py).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.approvals.selectors import customer_phone_recently_changed
from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from notifications.senders import OtpSendError

from ..errors import KioskError
from ..locks import otp_code_live_lock, session_lock
from ..models import DeferredNaming, Kiosk, KioskSession, OtpCode
from ..vocabulary import FailureReason
from .code_path import (
    code_path_cooldown_notice_send,
    code_path_failure_record,
    code_path_paused_until,
    code_path_send,
    code_path_success_record,
)
from .entries import attempts_left_refusal, session_step
from .sessions import (
    State,
    session_audit,
    session_close,
    session_get,
    session_refresh,
    session_require,
)


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


def _code_path_closed(session: KioskSession, *, now: datetime) -> str:
    """Why the code path is closed for this card or number ("" if open): for the audit trail, never for the
    kiosk, which gets one answer for every reason."""
    if code_path_paused_until(session) is not None:
        return "cooldown"
    if not session.is_cardless and customer_phone_recently_changed(
        customer=session.claimed_card.customer, now=now
    ):
        # A code sent to a number an insider just put on the account would hand them the account.
        return "phone_changed"
    if session.is_cardless and session.face_failure_reason == FailureReason.GREY_ZONE:
        return "grey_zone"  # card-less: a face too close to call is refused, no code stands in for it
    return ""


def _naming_pending(session: KioskSession) -> bool:
    """A frame of this session still awaits its 1:N naming: it may be another customer's face."""
    return session.deferred_namings.filter(outcome=DeferredNaming.Outcome.PENDING).exists()


def _wait_for_naming() -> ApplicationError:
    # Asked of a stranger and of another customer's face alike (neither matched the owner): no oracle.
    return ApplicationError(KioskError.OTP_WAIT, status_code=409, extra={"retry_after_s": 5})


def _code_unavailable() -> ApplicationError:
    # One answer for every reason the code path is closed: the person at the kiosk learns that there is no
    # code for this card now, not whether their face belonged to another customer.
    return ApplicationError(KioskError.OTP_UNAVAILABLE, status_code=403)


def _otp_refuse_if_closed(*, kiosk: Kiosk, public_id: str | UUID) -> None:
    """End the session (committed) and refuse when the card's code path is closed for this session."""
    with transaction.atomic(durable=True):
        session = session_lock(session_get(kiosk=kiosk, public_id=public_id))
        now = timezone.now()
        session_require(session, states=(State.FACE_FAILED, State.OTP_SENT), now=now)
        reason = _code_path_closed(session, now=now)
        if not reason:
            return
        session_audit(
            session,
            kind=AuditEvent.Kind.OTP_REFUSED,
            outcome=AuditEvent.Outcome.FAILURE,
            data={"why": reason},
        )
        session_close(session, reason=KioskSession.EndReason.OTP_UNAVAILABLE, now=now)
    raise _code_unavailable()


def otp_request(*, kiosk: Kiosk, public_id: str | UUID) -> KioskSession:
    """Send a fresh code to the card owner's WhatsApp. At most OTP_MAX_SENDS per card per window.

    The send happens inside the transaction that stores the code, under the session row lock (held at most
    TWILIO_TIMEOUT_S): two taps cannot send two codes, and a failed send leaves no code and uses no quota.
    """
    session_refresh(kiosk=kiosk, public_id=public_id)
    _otp_refuse_if_closed(kiosk=kiosk, public_id=public_id)
    # A failed send is refused after the commit, which keeps its audit event.
    return session_step(
        kiosk=kiosk, public_id=public_id, states=(State.FACE_FAILED, State.OTP_SENT), step=_otp_send
    )


def _otp_send(session: KioskSession, now: datetime) -> ApplicationError | None:
    if _code_path_closed(session, now=now):
        raise _code_unavailable()  # closed by a concurrent request since the check above
    if _naming_pending(session):
        raise _wait_for_naming()  # nothing written: the customer asks again once the matcher has answered
    # Counted per card, or per typed phone number for card-less sessions.
    sent = (
        OtpCode.objects.filter(session__cardless_phone_hmac=session.cardless_phone_hmac)
        if session.is_cardless
        else OtpCode.objects.filter(card=session.claimed_card)
    )
    sent_recently = sent.filter(created_at__gte=now - timedelta(seconds=settings.OTP_SEND_WINDOW_S)).count()
    if sent_recently >= settings.OTP_MAX_SENDS:
        raise ApplicationError(KioskError.OTP_RATE_LIMITED, status_code=429)
    code = f"{secrets.randbelow(1_000_000):06d}"
    try:
        if session.mismatch_seen:
            # Another enrolled customer's face: no code goes to the owner's phone, but the kiosk gets the
            # answer a stranger's face gets (a code is stored, never sent: every code typed is wrong).
            session_audit(
                session,
                kind=AuditEvent.Kind.OTP_REFUSED,
                outcome=AuditEvent.Outcome.FAILURE,
                data={"why": "mismatch"},
            )
        else:
            code_path_send(session, body=_message_body(code))
    except OtpSendError as error:
        # The reason (never the message body) goes to the audit trail; nothing else changes.
        session_audit(
            session,
            kind=AuditEvent.Kind.OTP_SEND_FAILED,
            outcome=AuditEvent.Outcome.FAILURE,
            data={"error": error.reason[:200]},
        )
        return ApplicationError(KioskError.OTP_SEND_FAILED, status_code=503)
    _otp_store(session, code=code, now=now, sent_in_window=sent_recently + 1)
    return None


def _otp_store(session: KioskSession, *, code: str, now: datetime, sent_in_window: int) -> None:
    """Keep the digest of the code just sent; it replaces any earlier code of this session."""
    earlier = OtpCode.objects.filter(session=session, used_at__isnull=True, voided_at__isnull=True)
    earlier.update(voided_at=now)
    OtpCode.objects.create(
        session=session,
        card=session.card,
        code_hmac=otp_digest(session_id=session.pk, code=code),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.OTP_TTL_S),
    )
    session.state, session.last_activity_at = State.OTP_SENT, now
    session.save(update_fields=["state", "last_activity_at"])
    session_audit(
        session,
        kind=AuditEvent.Kind.OTP_SENT,
        outcome=AuditEvent.Outcome.SUCCESS,
        # Held back after a mismatch: stored (so the kiosk's answers are a stranger's), never sent.
        data={"channel": "whatsapp", "sent_in_window": sent_in_window, "held_back": session.mismatch_seen},
    )


def _cooldown_refusal(until: datetime) -> ApplicationError:
    seconds = max(1, int((until - timezone.now()).total_seconds()))
    return ApplicationError(
        KioskError.OTP_COOLDOWN,
        params={"minutes": max(1, round(seconds / 60))},
        status_code=429,
        extra={"retry_after_s": seconds},
    )


def otp_verify(*, kiosk: Kiosk, public_id: str | UUID, code: str) -> KioskSession:
    """Check a typed code. 5 wrong entries void it; too many in a row pause the card's code path."""
    code = (code or "").strip()
    # isascii(): str.isdigit() also accepts "１２３４５６" and "²"; those are typing slips, not guesses.
    if len(code) != 6 or not (code.isascii() and code.isdigit()):
        # Not counted: a malformed entry reveals nothing and is a typing slip, not a guess.
        raise ApplicationError(KioskError.OTP_FORMAT, status_code=400)
    session_refresh(kiosk=kiosk, public_id=public_id)
    return session_step(
        kiosk=kiosk,
        public_id=public_id,
        states=(State.OTP_SENT,),
        step=lambda session, now: _otp_check(session, now=now, code=code),
    )


def _otp_check(session: KioskSession, *, now: datetime, code: str) -> ApplicationError | None:
    paused_until = code_path_paused_until(session)
    if paused_until is not None:
        raise _cooldown_refusal(paused_until)  # not even the right code during a pause: no guessing
    otp = otp_code_live_lock(session)
    if otp is None or otp.expires_at <= now:
        raise ApplicationError(KioskError.OTP_EXPIRED, status_code=409)
    if not hmac.compare_digest(otp.code_hmac, otp_digest(session_id=session.pk, code=code)):
        return _otp_wrong(session, otp, now=now)
    otp.used_at = now
    otp.save(update_fields=["used_at"])
    session.state, session.verified_at = State.VERIFIED, now
    session.verified_by = KioskSession.VerifiedBy.OTP
    if session.is_cardless:
        # The code stands in for the face only: the PIN still decides.
        session.state, session.verified_at = State.PIN_PENDING, None
    session.last_activity_at = now
    session.save(update_fields=["state", "verified_at", "verified_by", "last_activity_at"])
    code_path_success_record(session)
    session_audit(session, kind=AuditEvent.Kind.OTP_VERIFIED, outcome=AuditEvent.Outcome.SUCCESS, data={})
    return None


def _otp_wrong(session: KioskSession, otp: OtpCode, *, now: datetime) -> ApplicationError:
    """Count a wrong code on the code and on the code path; the refusal to raise once this commits."""
    otp.failed_attempts += 1
    voided = otp.failed_attempts >= settings.OTP_MAX_ATTEMPTS
    if voided:
        otp.voided_at = now
    otp.save(update_fields=["failed_attempts", "voided_at"])
    session.last_activity_at = now
    session.save(update_fields=["last_activity_at"])
    paused_until = code_path_failure_record(session)
    if paused_until is not None and otp.voided_at is None:
        otp.voided_at = now  # a new pause: this code is dead too
        otp.save(update_fields=["voided_at"])
    session_audit(
        session,
        kind=AuditEvent.Kind.OTP_FAILED,
        outcome=AuditEvent.Outcome.FAILURE,
        data={"attempts": otp.failed_attempts, "voided": voided, "code_path_paused": bool(paused_until)},
    )
    if paused_until is not None:
        code_path_cooldown_notice_send(session, until=paused_until)
        return _cooldown_refusal(paused_until)
    if voided:
        return ApplicationError(KioskError.OTP_VOIDED, status_code=400)
    return attempts_left_refusal(
        KioskError.OTP_WRONG,
        attempts_left=settings.OTP_MAX_ATTEMPTS - otp.failed_attempts,
    )
