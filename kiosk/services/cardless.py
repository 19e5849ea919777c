"""Card-less cash: phone number + face + PIN, no card.

    phone typed → card_entered (candidates: opted-in customers with that number, possibly none)
        → face_pending → pin_pending → verified → in_menu        (face: 1:1 or 1:few with the candidates)
        → face_failed → otp_sent → pin_pending → verified          (the WhatsApp code replaces the face only)

A face alone never pays out: the typed phone narrows the search to a few people (see README "Why not face
alone"), and the PIN is never skipped. Before the decision the kiosk learns nothing: an unknown number
starts a session like a known one, its frames are compared (against nobody) with the same work, it fails the
face check the way a stranger's face fails, and its code request answers as if a code had been sent (a code
is stored but never sent, so every code typed is wrong).

The PIN (4-6 digits) is set by the customer on a PIN pad at the branch and kept only as a slow hash of its
HMAC under PIN_PEPPER (kiosk/pin_verifiers.py); it is never shown, logged, audited or returned.
CARDLESS_PIN_MAX_FAILURES wrong PINs in a row disable card-less use for the customer (owner notified on
WhatsApp) until a four-eyes reset at a branch.

This module: the staff side, the session start, the face candidates and the daily limit. The kiosk's PIN
check is in cardless_pin.py; the code fallback (sending, the per-number cool-down) in code_path.py.

Phones in the audit trail: only the last four digits.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from decimal import Decimal

import phonenumbers
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import AccountsError
from accounts.models import BankAccount, Customer, Transaction
from accounts.notices import Notice, customer_notice
from accounts.phones import phone_mask
from atmsite.errors import ApplicationError
from audit.actors import Actor, actor_user
from audit.models import AuditEvent
from audit.services import audit_event_record

from ..errors import KioskError
from ..locks import cardless_access_find_lock, cardless_access_lock, cardless_access_of_lock, customer_lock
from ..models import CardlessAccess, Kiosk, KioskSession
from ..pin_verifiers import pin_verifier_make
from . import face
from .counters import cache_count
from .sessions import State, kiosk_claim, session_open

Status = CardlessAccess.Status
PIN_LENGTHS = range(4, 7)


# --- Phone numbers --------------------------------------------------------------------------------------


def phone_normalise(raw: str) -> str:
    """A typed phone number (national form in CARDLESS_DEFAULT_REGION, or E.164) → E.164, or a 400."""
    text = (raw or "").strip()
    if not text or len(text) > 24:
        raise _phone_invalid()
    try:
        number = phonenumbers.parse(text, settings.CARDLESS_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise _phone_invalid() from None
    # "Possible" (right length for the country), not "valid": ranges are assigned faster than the
    # library is updated, and a number nobody opted in with is simply unknown.
    if not phonenumbers.is_possible_number(number):
        raise _phone_invalid()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _phone_invalid() -> ApplicationError:
    return ApplicationError(KioskError.PHONE_INVALID)


def phone_hmac(phone_e164: str) -> str:
    """Keyed HMAC of a phone for counting sessions and code sends per number without keeping it in clear."""
    return hmac.new(
        settings.CARD_HMAC_KEY.encode(), f"phone:{phone_e164}".encode(), hashlib.sha256
    ).hexdigest()


def cardless_candidates(*, phone_e164: str) -> list[int]:
    """Ids of the customers who may be at the kiosk with this phone: opted in, PIN set, active, enrolled."""
    rows = CardlessAccess.objects.filter(
        status=Status.ACTIVE,
        customer__phone=phone_e164,
        customer__is_active=True,
        account__status=BankAccount.Status.ACTIVE,
    ).values_list("customer_id", flat=True)
    return sorted(pk for pk in rows if face.customer_has_active_templates(customer_id=pk))


# --- PIN ------------------------------------------------------------------------------------------------


def pin_check_format(pin: str) -> str:
    pin = pin or ""
    if not (pin.isascii() and pin.isdigit() and len(pin) in PIN_LENGTHS):
        raise ApplicationError(KioskError.PIN_FORMAT)
    return pin


# --- Staff side -----------------------------------------------------------------------------------------


def _staff_audit(access: CardlessAccess, *, kind: str, actor: Actor, data: dict[str, str]) -> None:
    audit_event_record(
        kind=kind,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        customer_id=access.customer_id,
        data={"account": access.account.number, "phone": phone_mask(access.customer.phone), **data},
    )


def cardless_opt_in_check(*, customer: Customer, account: BankAccount, consent: bool) -> None:
    """Every reason an opt-in is refused (the proposal and its approval both run it). Caller locks the
    customer."""
    if not consent:
        raise ApplicationError(KioskError.CONSENT_REQUIRED)
    if not customer.is_active:
        raise ApplicationError(AccountsError.CUSTOMER_INACTIVE, status_code=409)
    if account.customer_id != customer.pk or account.status != BankAccount.Status.ACTIVE:
        raise ApplicationError(KioskError.ACCOUNT_INVALID)
    if not face.customer_has_active_templates(customer_id=customer.pk):
        raise ApplicationError(KioskError.NOT_ENROLLED)
    access = CardlessAccess.objects.filter(customer=customer).first()
    if access is not None and access.pin_reset_required:
        # Opting out and in again must not be a way round the four-eyes reset after wrong PINs.
        raise ApplicationError(KioskError.CARDLESS_RESET_REQUIRED, status_code=409)
    if access is not None and access.status != Status.REVOKED:
        raise ApplicationError(KioskError.CARDLESS_EXISTS, status_code=409)


@transaction.atomic
def cardless_opt_in(
    *,
    customer: Customer,
    account: BankAccount,
    consent: bool,
    actor: Actor,
    consent_by: User | None = None,
) -> CardlessAccess:
    """Record the customer's consent and the account card-less cash comes from; the PIN is set next.

    Applied by an approved CARDLESS_OPT_IN change request (accounts.approvals): staff propose, never call
    this directly. `consent_by` is who took the consent (the proposer), `actor` who approved."""
    customer = customer_lock(customer)
    cardless_opt_in_check(customer=customer, account=account, consent=consent)
    access = cardless_access_find_lock(customer_id=customer.pk)
    now = timezone.now()
    values = {
        "account": account,
        "status": Status.PIN_PENDING,
        "pin_hash": "",
        "pin_set_at": None,
        "consent_at": now,
        "consent_by": consent_by or actor_user(actor),
        "consecutive_pin_failures": 0,
        "disabled_at": None,
        "consecutive_face_failures": 0,
        "face_locked_until": None,
        "revoked_at": None,
        "revoked_by": None,
    }
    if access is None:
        access = CardlessAccess.objects.create(customer=customer, **values)
    else:
        for name, value in values.items():
            setattr(access, name, value)
        access.save()
    _staff_audit(
        access, kind=AuditEvent.Kind.CARDLESS_OPTED_IN, actor=actor, data={"consent_at": now.isoformat()}
    )
    customer_notice(customer=customer, notice=Notice.CARDLESS_ON)
    return access


@transaction.atomic
def cardless_pin_set(*, access: CardlessAccess, pin: str, pin_repeat: str, actor: Actor) -> CardlessAccess:
    """The customer typed a new PIN twice on the PIN pad. Stored hashed; never returned or audited."""
    access = cardless_access_lock(access)
    if access.status != Status.PIN_PENDING:
        raise ApplicationError(KioskError.PIN_NOT_EXPECTED)
    pin = pin_check_format(pin)
    if not hmac.compare_digest(pin.encode(), (pin_repeat or "").encode()):
        raise ApplicationError(KioskError.PIN_MISMATCH)
    if len(set(pin)) == 1 or pin in "0123456789" or pin in "9876543210":
        raise ApplicationError(KioskError.PIN_WEAK)
    access.pin_hash = pin_verifier_make(pin)
    access.pin_set_at = timezone.now()
    access.status = Status.ACTIVE
    access.consecutive_pin_failures = 0
    access.save(update_fields=["pin_hash", "pin_set_at", "status", "consecutive_pin_failures", "updated_at"])
    _staff_audit(access, kind=AuditEvent.Kind.CARDLESS_PIN_SET, actor=actor, data={})
    customer_notice(customer=access.customer, notice=Notice.CARDLESS_PIN_SET)
    return access


@transaction.atomic
def cardless_opt_out(*, access: CardlessAccess, actor: Actor, reason: str = "") -> CardlessAccess:
    access = cardless_access_lock(access)
    if access.status == Status.REVOKED:
        return access
    previous = access.status
    access.status, access.pin_hash = Status.REVOKED, ""
    access.revoked_at, access.revoked_by = timezone.now(), actor_user(actor)
    access.save(update_fields=["status", "pin_hash", "revoked_at", "revoked_by", "updated_at"])
    _staff_audit(
        access,
        kind=AuditEvent.Kind.CARDLESS_OPTED_OUT,
        actor=actor,
        data={"previous_status": previous, "reason": reason[:200]},
    )
    customer_notice(customer=access.customer, notice=Notice.CARDLESS_OFF)
    return access


def cardless_reset_apply(*, access: CardlessAccess, actor: Actor) -> CardlessAccess:
    """Applied by an approved four-eyes reset: the old PIN is gone, the customer sets a new one."""
    access = cardless_access_lock(access)
    if access.status != Status.DISABLED and not access.pin_reset_required:
        raise ApplicationError(KioskError.CHANGE_STALE, status_code=409)
    access.pin_reset_required = False
    if access.status != Status.REVOKED:  # opted out meanwhile: stays out, and may now opt in (four eyes)
        access.status = Status.PIN_PENDING
    access.pin_hash, access.pin_set_at = "", None
    access.consecutive_pin_failures, access.disabled_at = 0, None
    access.consecutive_face_failures, access.face_locked_until = 0, None
    access.save()
    _staff_audit(access, kind=AuditEvent.Kind.CARDLESS_RESET, actor=actor, data={})
    return access


# --- Kiosk: start ---------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def cardless_session_start(*, kiosk: Kiosk, phone: str) -> KioskSession:
    """The customer typed a phone number: open a card-less session, known number or not (same answer)."""
    phone_e164 = phone_normalise(phone)
    candidates = cardless_candidates(phone_e164=phone_e164)
    fields = {
        "mode": KioskSession.Mode.CARDLESS,
        "cardless_phone_hmac": phone_hmac(phone_e164),
        "cardless_phone_last4": phone_e164[-4:],
        "cardless_candidates": candidates,
        "state": State.CARD_ENTERED,
    }
    kiosk, now = kiosk_claim(kiosk)
    return session_open(kiosk=kiosk, now=now, fields=fields, audit={"candidates": len(candidates)})


# --- Kiosk: face ----------------------------------------------------------------------------------------


def face_candidates(session: KioskSession) -> list[int]:
    """Candidates whose face path is open now (a face-locked customer reads as absent, not as locked)."""
    ids = list(session.cardless_candidates or [])
    if not ids or cache.get(_face_paused_key(session)):
        return []
    locked = set(
        CardlessAccess.objects.filter(customer_id__in=ids, face_locked_until__gt=timezone.now()).values_list(
            "customer_id", flat=True
        )
    )
    return [pk for pk in ids if pk not in locked]


def _face_failures_key(session: KioskSession) -> str:
    return f"kiosk:cardless-face-failures:{session.cardless_phone_hmac}:{session.kiosk_id}"


def _face_paused_key(session: KioskSession) -> str:
    return f"kiosk:cardless-face-paused:{session.cardless_phone_hmac}:{session.kiosk_id}"


def cardless_face_failure_record(session: KioskSession) -> bool:
    """Count a failed face check against the typed number at this kiosk; True if it is now paused there.

    A phone number is no credential: anybody can type one. So failures never lock the customers' own face
    check (their other kiosks, their card); KIOSK_FACE_LOCKOUT_FAILURES in a row pause the number's face
    check at this kiosk for KIOSK_FACE_LOCKOUT_S (it reads as absent there), and the owners are told.
    """
    timeout = settings.KIOSK_FACE_LOCKOUT_S
    if cache_count(_face_failures_key(session), timeout=timeout) < settings.KIOSK_FACE_LOCKOUT_FAILURES:
        return False
    cache.delete(_face_failures_key(session))
    until = timezone.now() + timedelta(seconds=timeout)
    cache.set(_face_paused_key(session), until.isoformat(), timeout=timeout)
    for customer_id in session.cardless_candidates or []:
        audit_event_record(
            kind=AuditEvent.Kind.LOCKOUT,
            outcome=AuditEvent.Outcome.FAILURE,
            kiosk_id=session.kiosk_id,
            customer_id=customer_id,
            data={"cardless": True, "face_paused_at_kiosk_until": until.isoformat()},
        )
    _face_paused_notice(session, minutes=max(1, timeout // 60))
    return True


def _face_paused_notice(session: KioskSession, *, minutes: int) -> None:
    from accounts.notices import notice_render

    from .entries import owner_notice_send

    owner = Customer.objects.filter(pk__in=session.cardless_candidates or []).order_by("pk").first()
    if owner is None:
        return  # a number nobody opted in with: nobody to tell
    body = notice_render(
        owner,
        lambda: (
            _(
                "%(bank)s: several face checks for card-less cash with this phone number failed at an "
                "ATM. Card-less cash with this number is paused at that ATM for %(minutes)d minutes. If "
                "this was not you, call the bank."
            )
            % {"bank": settings.BANK_NAME, "minutes": minutes}
        ),
    )
    owner_notice_send(session, phone=owner.phone, body=body, notice="cardless_face_paused")


def cardless_face_decided(session: KioskSession, *, customer_id: int) -> None:
    """The face picked `customer_id` among the candidates: the session claims them; the PIN comes next."""
    access = cardless_access_of_lock(customer_id=customer_id)
    cache.delete(_face_failures_key(session))
    if access.consecutive_face_failures:
        access.consecutive_face_failures = 0
        access.save(update_fields=["consecutive_face_failures", "updated_at"])
    session.customer_id, session.account_id = access.customer_id, access.account_id
    session.save(update_fields=["customer", "account"])


# --- Money ----------------------------------------------------------------------------------------------


def cardless_withdrawn_today(*, account: BankAccount) -> Decimal:
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    total = Transaction.objects.filter(
        account=account,
        kind=Transaction.Kind.WITHDRAWAL,
        created_at__gte=start,
        details__mode=KioskSession.Mode.CARDLESS,
    ).aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0")


def cardless_limit_check(*, account: BankAccount, amount: Decimal) -> None:
    """Call under the account's row lock: the card-less daily limit, below the account's own."""
    if cardless_withdrawn_today(account=account) + amount > settings.CARDLESS_DAILY_LIMIT:
        raise ApplicationError(AccountsError.DAILY_LIMIT, status_code=409)


def cardless_available_today(*, account: BankAccount) -> Decimal:
    return max(Decimal("0"), settings.CARDLESS_DAILY_LIMIT - cardless_withdrawn_today(account=account))
