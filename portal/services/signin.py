"""Activation at the branch, sign-in with a password and a second factor, lock-out, sign-out everywhere.

Nothing a visitor sees depends on whether a phone number belongs to a customer: an unknown number, a wrong
password and a locked login all lead to the same code page and end with the same refusal, after the same
work (one password hash check, one audit event).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.errors import AccountsError
from accounts.models import Customer
from accounts.phones import phone_mask
from atmsite.errors import ApplicationError
from audit.actors import Actor, actor_user
from audit.models import AuditEvent

from ..errors import PortalError
from ..events import PortalEvent, portal_audit, whatsapp_send
from ..models import CustomerLogin, PortalCode

Outcome = AuditEvent.Outcome
# Checked against when no login matches, so an unknown number costs what a wrong password costs.
_DUMMY_PASSWORD_HASH = make_password(secrets.token_urlsafe(16))
CODE_DIGITS = 6
CODE_RESEND_S = 30


def _keyed(text: str) -> str:
    return hmac.new(settings.OTP_HMAC_KEY.encode(), text.encode(), hashlib.sha256).hexdigest()


def activation_hmac(token: str) -> str:
    return _keyed(f"portal-activation:{token}")


def code_hmac(code_row_id: int, code: str) -> str:
    return _keyed(f"portal-code:{code_row_id}:{code}")


# --- Activation ----------------------------------------------------------------------------------------


@transaction.atomic
def portal_activation_issue(*, customer: Customer, actor: Actor, link_base: str) -> str:
    """A teller's act: a one-time activation link for the customer, sent on WhatsApp after commit and
    returned for printing. A new link replaces any earlier one; an activated login is re-activated by it
    (a forgotten password), which signs out every session."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if not customer.is_active:
        raise ApplicationError(AccountsError.CUSTOMER_INACTIVE)
    login, _created = CustomerLogin.objects.select_for_update().get_or_create(customer=customer)
    token = secrets.token_urlsafe(32)
    login.activation_hmac = activation_hmac(token)
    login.activation_expires_at = timezone.now() + timedelta(seconds=settings.PORTAL_ACTIVATION_TTL_S)
    login.activation_issued_by = actor_user(actor)
    login.save(update_fields=["activation_hmac", "activation_expires_at", "activation_issued_by"])
    portal_audit(
        kind=PortalEvent.ACTIVATION_ISSUED,
        customer_id=customer.pk,
        actor=actor,
        data={"expires_at": login.activation_expires_at.isoformat()},
    )
    link = f"{link_base.rstrip('/')}/my/activate/{token}/"
    body = _("Your bank: set up online banking with this link (it works once, for 3 days): %(link)s")
    phone, language = customer.phone, login.language
    transaction.on_commit(
        lambda: whatsapp_send(phone=phone, language=language, body=body, params={"link": link})
    )
    return link


def activation_login(token: str) -> CustomerLogin | None:
    """The login a still-valid activation link belongs to, or None (unknown, used or expired: one answer)."""
    if not token or len(token) > 100:
        return None
    login = (
        CustomerLogin.objects.select_related("customer")
        .filter(activation_hmac=activation_hmac(token), customer__is_active=True)
        .first()
    )
    if login is None or login.activation_expires_at is None or login.activation_expires_at <= timezone.now():
        return None
    return login


@dataclass(frozen=True)
class _PasswordOwner:
    """What Django's similarity validator compares a new password with."""

    username: str
    first_name: str
    email: str


@transaction.atomic
def portal_activate(*, token: str, password: str, password_repeat: str) -> CustomerLogin:
    found = activation_login(token)
    if found is None:
        raise ApplicationError(PortalError.LINK_INVALID)
    login = CustomerLogin.objects.select_for_update().select_related("customer").get(pk=found.pk)
    if login.activation_hmac != found.activation_hmac:  # used by a concurrent request
        raise ApplicationError(PortalError.LINK_INVALID)
    if password != password_repeat:
        raise ApplicationError(PortalError.PASSWORD_MISMATCH)
    customer = login.customer
    # Raises ValidationError with Django's own (translated) reasons; the view shows them.
    owner = _PasswordOwner(username=customer.phone, first_name=customer.full_name, email=customer.email)
    validate_password(password, user=owner)  # type: ignore[arg-type]  # the validators read attributes only
    login.password = make_password(password)
    login.activation_hmac, login.activation_expires_at = "", None
    login.activated_at = timezone.now()
    login.failed_attempts, login.locked_until = 0, None
    login.session_epoch += 1
    login.save()
    portal_audit(kind=PortalEvent.ACTIVATED, customer_id=customer.pk, outcome=Outcome.SUCCESS)
    return login


# --- Sign-in -------------------------------------------------------------------------------------------


def _is_locked(login: CustomerLogin) -> bool:
    return login.locked_until is not None and login.locked_until > timezone.now()


def _failure(login: CustomerLogin, *, step: str) -> None:
    """A wrong password or code: count it; at the threshold lock the login and tell the customer."""
    login.failed_attempts += 1
    locked = login.failed_attempts >= settings.PORTAL_LOCKOUT_FAILURES
    if locked:
        login.locked_until = timezone.now() + timedelta(seconds=settings.PORTAL_LOCKOUT_S)
        login.failed_attempts = 0
    login.save(update_fields=["failed_attempts", "locked_until"])
    portal_audit(
        kind=PortalEvent.SIGN_IN_FAILED,
        customer_id=login.customer_id,
        outcome=Outcome.FAILURE,
        data={"step": step},
    )
    if locked:
        portal_audit(
            kind=PortalEvent.LOCKED,
            customer_id=login.customer_id,
            outcome=Outcome.FAILURE,
            data={"until": login.locked_until.isoformat() if login.locked_until else ""},
        )
        minutes = settings.PORTAL_LOCKOUT_S // 60
        body = _(
            "Your bank: online banking was locked for %(minutes)d minutes after several failed sign-ins. "
            "If this was not you, call the bank."
        )
        phone, language = login.customer.phone, login.language
        transaction.on_commit(
            lambda: whatsapp_send(phone=phone, language=language, body=body, params={"minutes": minutes})
        )


@transaction.atomic
def portal_sign_in_start(*, phone: str, password: str) -> int | None:
    """Step one. Returns the login id when the password is right and the login usable, else None; the
    caller shows the same code page either way. A WhatsApp code goes out (after commit) when the login has
    no authenticator app."""
    candidates = list(
        CustomerLogin.objects.select_related("customer").filter(
            customer__phone=phone, customer__is_active=True, activated_at__isnull=False
        )
    )
    if not candidates:
        check_password(password, _DUMMY_PASSWORD_HASH)
        portal_audit(
            kind=PortalEvent.SIGN_IN_FAILED,
            customer_id=None,
            outcome=Outcome.FAILURE,
            data={"step": "password"},
            personal={"phone": phone_mask(phone)},
        )
        return None
    for candidate in candidates:
        if check_password(password, candidate.password):
            # Lock the login row: concurrent attempts count one by one.
            login = CustomerLogin.objects.select_for_update().select_related("customer").get(pk=candidate.pk)
            if _is_locked(login):
                portal_audit(
                    kind=PortalEvent.SIGN_IN_FAILED,
                    customer_id=login.customer_id,
                    outcome=Outcome.FAILURE,
                    data={"step": "locked"},
                )
                return None
            portal_audit(kind=PortalEvent.SIGN_IN_PASSWORD, customer_id=login.customer_id)
            if not login.has_totp:
                code_send_after_commit(login=login, purpose=PortalCode.Purpose.SIGN_IN)
            return login.pk
    login = CustomerLogin.objects.select_for_update().select_related("customer").get(pk=candidates[0].pk)
    _failure(login, step="password")
    return None


def code_send_after_commit(*, login: CustomerLogin, purpose: str) -> None:
    """Queue a fresh WhatsApp code (no second one while a code sent in the last CODE_RESEND_S seconds is
    still unused: a double tap does not send two)."""
    now = timezone.now()
    recent = PortalCode.objects.filter(
        login=login,
        purpose=purpose,
        used_at__isnull=True,
        created_at__gt=now - timedelta(seconds=CODE_RESEND_S),
    )
    if recent.exists():
        return
    # Earlier codes of the same purpose stop working: only the newest one is valid.
    PortalCode.objects.filter(login=login, purpose=purpose, used_at__isnull=True).update(used_at=now)
    row = PortalCode.objects.create(
        login=login,
        purpose=purpose,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.PORTAL_CODE_TTL_S),
    )
    portal_audit(kind=PortalEvent.CODE_SENT, customer_id=login.customer_id, data={"purpose": purpose})
    # The code itself is drawn by the task (portal_code_issue): it never travels through the broker, and the
    # sign-in answer does not wait for WhatsApp, so its timing does not tell customers from strangers.
    from ..tasks import portal_code_send_task

    code_id = row.pk
    transaction.on_commit(lambda: portal_code_send_task.delay(code_id), robust=True)


def portal_code_issue(*, code_id: int) -> None:
    """Draw the code of a queued row, keep only its HMAC, and send it on WhatsApp after commit. A row that
    already has a code, was used or expired is left alone (a retried task sends nothing twice)."""
    with transaction.atomic():
        row = (
            PortalCode.objects.select_for_update()
            .select_related("login__customer")
            .filter(pk=code_id)
            .first()
        )
        if row is None or row.code_hmac or row.used_at or row.expires_at <= timezone.now():
            return
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        row.code_hmac = code_hmac(row.pk, code)
        row.save(update_fields=["code_hmac"])
        body = _("Your bank: your one-time code is %(code)s. Never share it; the bank will never ask for it.")
        phone, language = row.login.customer.phone, row.login.language
        transaction.on_commit(
            lambda: whatsapp_send(phone=phone, language=language, body=body, params={"code": code})
        )


@transaction.atomic
def portal_code_resend(*, login_id: int | None) -> None:
    """ "Send me a code on WhatsApp" on the code page; does nothing (visibly the same) for a decoy."""
    if login_id is None:
        return
    login = CustomerLogin.objects.select_for_update().select_related("customer").get(pk=login_id)
    if not _is_locked(login):
        code_send_after_commit(login=login, purpose=PortalCode.Purpose.SIGN_IN)


def second_factor_matches(login: CustomerLogin, *, code: str, purpose: str) -> bool:
    """An authenticator code (never the same time step twice) or the newest unused WhatsApp code of the
    purpose. Caller holds the login row lock."""
    code = (code or "").strip().replace(" ", "")
    if len(code) != CODE_DIGITS or not code.isdigit():
        return False
    now = timezone.now()
    if login.has_totp:
        totp = pyotp.TOTP(login.totp_secret)
        for offset in (0, -1, 1):
            counter = totp.timecode(now) + offset
            if counter > login.totp_last_counter and hmac.compare_digest(totp.generate_otp(counter), code):
                login.totp_last_counter = counter
                login.save(update_fields=["totp_last_counter"])
                return True
    row = (
        PortalCode.objects.select_for_update()
        .filter(login=login, purpose=purpose, used_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if row is None:
        return False
    if hmac.compare_digest(row.code_hmac, code_hmac(row.pk, code)):
        row.used_at = now
        row.save(update_fields=["used_at"])
        return True
    row.failed_attempts += 1
    if row.failed_attempts >= settings.PORTAL_CODE_MAX_ATTEMPTS:
        row.used_at = now  # burnt: too many wrong tries at this code
    row.save(update_fields=["failed_attempts", "used_at"])
    return False


@transaction.atomic
def portal_sign_in_verify(*, login_id: int | None, code: str) -> CustomerLogin | None:
    """Step two: the login on success, None otherwise (a decoy from step one always ends here)."""
    if login_id is None:
        hmac.compare_digest(_keyed(code or ""), _keyed(""))
        return None
    login = CustomerLogin.objects.select_for_update().select_related("customer").get(pk=login_id)
    if _is_locked(login) or not login.customer.is_active:
        portal_audit(
            kind=PortalEvent.SIGN_IN_FAILED,
            customer_id=login.customer_id,
            outcome=Outcome.FAILURE,
            data={"step": "locked"},
        )
        return None
    method = "totp" if login.has_totp else "whatsapp"
    if not second_factor_matches(login, code=code, purpose=PortalCode.Purpose.SIGN_IN):
        _failure(login, step="code")
        return None
    login.failed_attempts, login.last_sign_in_at = 0, timezone.now()
    login.save(update_fields=["failed_attempts", "last_sign_in_at"])
    portal_audit(
        kind=PortalEvent.SIGNED_IN,
        customer_id=login.customer_id,
        outcome=Outcome.SUCCESS,
        data={"factor": method},
    )
    return login


@transaction.atomic
def portal_sign_out(*, login: CustomerLogin, everywhere: bool) -> None:
    if everywhere:
        # Every session carries the epoch it was opened in; raising it ends them all at their next request.
        CustomerLogin.objects.filter(pk=login.pk).update(session_epoch=F("session_epoch") + 1)
    kind = PortalEvent.SIGNED_OUT_EVERYWHERE if everywhere else PortalEvent.SIGNED_OUT
    portal_audit(kind=kind, customer_id=login.customer_id)


# --- Authenticator app ---------------------------------------------------------------------------------


@transaction.atomic
def totp_enrolment_start(*, login: CustomerLogin) -> str:
    """A new secret to show once (QR and text); it works only after a code from the app confirms it."""
    login = CustomerLogin.objects.select_for_update().get(pk=login.pk)
    login.totp_pending_secret = pyotp.random_base32()
    login.save(update_fields=["totp_pending_secret"])
    return login.totp_pending_secret


def totp_uri(*, login: CustomerLogin, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=phone_mask(login.customer.phone), issuer_name="Demo Bank")


@transaction.atomic
def totp_enrolment_confirm(*, login: CustomerLogin, code: str) -> CustomerLogin:
    login = CustomerLogin.objects.select_for_update().get(pk=login.pk)
    secret = login.totp_pending_secret
    code = (code or "").strip().replace(" ", "")
    if not secret or len(code) != CODE_DIGITS or not pyotp.TOTP(secret).verify(code, valid_window=1):
        raise ApplicationError(PortalError.TOTP_CODE)
    login.totp_secret, login.totp_pending_secret = secret, ""
    login.totp_confirmed_at = timezone.now()
    login.totp_last_counter = pyotp.TOTP(secret).timecode(timezone.now())
    login.save(update_fields=["totp_secret", "totp_pending_secret", "totp_confirmed_at", "totp_last_counter"])
    portal_audit(kind=PortalEvent.TOTP_ENABLED, customer_id=login.customer_id, outcome=Outcome.SUCCESS)
    return login
