"""Writes for customers, accounts, cards and the ledger. Money moves only here, under a row lock."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from audit.services import audit_event_record

from .models import BankAccount, Card, Customer, Transaction
from .pan import pan_hash, pan_validate
from .phones import phone_mask
from .selectors import account_withdrawn_today

CENT = Decimal("0.01")


def money_parse(raw: Any) -> Decimal:
    """A positive amount with at most two decimals, or ApplicationError with the reason."""
    try:
        amount = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise ApplicationError("The amount is not a number.", code="amount_invalid") from None
    if not amount.is_finite():
        raise ApplicationError("The amount is not a number.", code="amount_invalid")
    if amount <= 0:
        raise ApplicationError("The amount must be greater than zero.", code="amount_not_positive")
    # Size before precision: quantize() raises InvalidOperation for values like 1e400 (beyond 28 digits).
    if amount >= Decimal("1e12"):
        raise ApplicationError("The amount is too large.", code="amount_too_large")
    if amount != amount.quantize(CENT):
        raise ApplicationError("The amount has more than two decimals.", code="amount_precision")
    if amount > settings.ACCOUNT_MAX_TRANSACTION:
        raise ApplicationError(
            "The amount is above the largest single transaction.",
            code="amount_too_large",
            extra={"max_amount": str(settings.ACCOUNT_MAX_TRANSACTION)},
        )
    return amount


def daily_limit_check(limit: Decimal) -> Decimal:
    """A daily withdrawal limit within the bounds, or ValidationError (shown as a form error)."""
    if not limit.is_finite() or limit < 0:
        raise ValidationError("The daily limit must be zero or more.", code="limit_invalid")
    if limit > settings.ACCOUNT_MAX_BALANCE:
        raise ValidationError(
            "The daily limit cannot be above the largest balance (%(max)s).",
            code="limit_too_large",
            params={"max": settings.ACCOUNT_MAX_BALANCE},
        )
    return limit


@transaction.atomic
def customer_create(*, full_name: str, phone: str, email: str = "", actor: Any = None) -> Customer:
    customer = Customer(full_name=full_name.strip(), phone=phone.strip(), email=email.strip())
    customer.full_clean()
    customer.save()
    audit_event_record(
        kind=AuditEvent.Kind.CUSTOMER_CREATED,
        actor=actor,
        customer_id=customer.pk,
        personal={"full_name": customer.full_name, "phone": customer.phone},
    )
    return customer


@transaction.atomic
def customer_details_update(
    *, customer: Customer, actor: Any, full_name: str | None = None, email: str | None = None
) -> Customer:
    """Change what cannot hand the account to someone else (name, e-mail); old and new values are audited.
    The phone changes only through an approved change request (accounts.approvals)."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    wanted = {"full_name": full_name, "email": email}
    changes: dict[str, dict[str, str]] = {}
    for name, value in wanted.items():
        if value is None or value.strip() == getattr(customer, name):
            continue
        changes[name] = {"old": getattr(customer, name), "new": value.strip()}
        setattr(customer, name, value.strip())
    if not changes:
        return customer
    customer.full_clean()
    customer.save(update_fields=list(changes))
    audit_event_record(
        kind=AuditEvent.Kind.CUSTOMER_UPDATED,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        customer_id=customer.pk,
        data={"fields": sorted(changes)},
        # Names and e-mails are personal data: in the erasable column, not the chained facts.
        personal={"changes": changes},
    )
    return customer


@transaction.atomic
def customer_active_set(*, customer: Customer, is_active: bool, actor: Any) -> Customer:
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.is_active == is_active:
        return customer
    previous, customer.is_active = customer.is_active, is_active
    customer.save(update_fields=["is_active"])
    audit_event_record(
        kind=AuditEvent.Kind.CUSTOMER_UPDATED,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        customer_id=customer.pk,
        data={"fields": ["is_active"], "changes": {"is_active": {"old": previous, "new": is_active}}},
    )
    return customer


def phone_change_notice_body(*, new_phone: str) -> str:
    return gettext(
        "%(bank)s: the phone number for your account was changed to one ending in %(last4)s. "
        "If you did not ask for this, call the bank now."
    ) % {"bank": settings.BANK_NAME, "last4": new_phone[-4:]}


def _phone_change_notice_send(*, customer_id: int, old_phone: str, new_phone: str) -> None:
    from kiosk.otp_senders import OtpSendError, otp_sender_get

    try:
        otp_sender_get().send(phone=old_phone, body=phone_change_notice_body(new_phone=new_phone))
        outcome, data = AuditEvent.Outcome.SUCCESS, {"to": phone_mask(old_phone)}
    except OtpSendError as error:
        outcome, data = AuditEvent.Outcome.FAILURE, {"to": phone_mask(old_phone), "error": error.reason[:200]}
    with transaction.atomic():
        audit_event_record(
            kind=AuditEvent.Kind.PHONE_CHANGE_NOTICE, outcome=outcome, customer_id=customer_id, data=data
        )


@transaction.atomic
def customer_phone_change(*, customer: Customer, phone: str, actor: Any) -> Customer:
    """Apply a phone change (called by an approved change request). One-time codes pause for
    OTP_DISABLED_AFTER_PHONE_CHANGE_H, and the old number is told once the change has committed."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    old_phone, customer.phone = customer.phone, phone.strip()
    customer.phone_changed_at = timezone.now()
    customer.full_clean()
    customer.save(update_fields=["phone", "phone_changed_at"])
    audit_event_record(
        kind=AuditEvent.Kind.CUSTOMER_UPDATED,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        customer_id=customer.pk,
        data={
            "fields": ["phone"],
            "changes": {"phone": {"old": phone_mask(old_phone), "new": phone_mask(phone)}},
        },
    )
    customer_id, new_phone = customer.pk, customer.phone
    # After commit: a rolled-back change must not tell anyone it happened.
    transaction.on_commit(
        lambda: _phone_change_notice_send(customer_id=customer_id, old_phone=old_phone, new_phone=new_phone)
    )
    return customer


def account_number_new() -> str:
    """A fresh account number: the bank's prefix and 16 random digits (retried on the rare collision)."""
    for _attempt in range(20):
        digits = "".join(secrets.choice("0123456789") for _ in range(16))
        number = " ".join([settings.ACCOUNT_NUMBER_PREFIX, *(digits[i : i + 4] for i in range(0, 16, 4))])
        if not BankAccount.objects.filter(number=number).exists():
            return number
    raise ApplicationError("Could not generate a free account number; try again.", code="account_number")


@transaction.atomic
def account_open(
    *,
    customer: Customer,
    number: str | None = None,
    currency: str = "EUR",
    daily_withdrawal_limit: Decimal = Decimal("1000.00"),
    actor: Any = None,
) -> BankAccount:
    """Open an active account; without `number` one is generated."""
    if currency not in settings.BANK_CURRENCIES:
        raise ValidationError(
            gettext("This bank does not open accounts in %(currency)s.") % {"currency": currency},
            code="currency",
        )
    account = BankAccount(
        customer=customer,
        number=number or account_number_new(),
        currency=currency,
        daily_withdrawal_limit=daily_limit_check(Decimal(daily_withdrawal_limit)),
    )
    account.full_clean()
    account.save()
    audit_event_record(
        kind=AuditEvent.Kind.ACCOUNT_OPENED,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        customer_id=customer.pk,
        data={
            "account": account.number,
            "currency": account.currency,
            "daily_withdrawal_limit": str(account.daily_withdrawal_limit),
        },
    )
    return account


def _account_update(*, account: BankAccount, actor: Any, **values: Any) -> BankAccount:
    # The row lock orders this change with withdrawals, which read the limit and status under the same lock.
    account = BankAccount.objects.select_for_update().get(pk=account.pk)
    changes = {
        name: {"old": str(getattr(account, name)), "new": str(value)}
        for name, value in values.items()
        if getattr(account, name) != value
    }
    if not changes:
        return account
    for name, value in values.items():
        setattr(account, name, value)
    account.full_clean()
    account.save(update_fields=list(changes))
    audit_event_record(
        kind=AuditEvent.Kind.ACCOUNT_UPDATED,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        customer_id=account.customer_id,
        data={"account": account.number, "changes": changes},
    )
    return account


@transaction.atomic
def account_limit_change(*, account: BankAccount, limit: Decimal, actor: Any) -> BankAccount:
    """Set the daily withdrawal limit. An increase must come from an approved change request."""
    return _account_update(account=account, actor=actor, daily_withdrawal_limit=limit)


@transaction.atomic
def account_status_change(*, account: BankAccount, status: str, actor: Any) -> BankAccount:
    if status not in BankAccount.Status.values:
        raise ValidationError("Unknown account status.", code="status")
    return _account_update(account=account, actor=actor, status=status)


@transaction.atomic
def card_issue(
    *, customer: Customer, account: BankAccount, pan: str, expires_on: dt.date, actor: Any = None
) -> Card:
    """Register a card by its number; only the keyed hash and the last four digits are kept."""
    digits = pan_validate(pan)
    return card_register(
        customer=customer,
        account=account,
        pan_hmac=pan_hash(digits),
        last4=digits[-4:],
        expires_on=expires_on,
        actor=actor,
    )


@transaction.atomic
def card_register(
    *,
    customer: Customer,
    account: BankAccount,
    pan_hmac: str,
    last4: str,
    expires_on: dt.date,
    actor: Any = None,
) -> Card:
    """Create a card from its keyed hash (an approved card issue never held the number in clear)."""
    if account.customer_id != customer.pk:
        raise ValidationError("The account belongs to another customer.", code="account_owner")
    if expires_on <= timezone.localdate():
        raise ValidationError("The expiry date must be in the future.", code="expired")
    card = Card(customer=customer, account=account, pan_hmac=pan_hmac, last4=last4, expires_on=expires_on)
    try:
        with transaction.atomic():
            card.save()
    except IntegrityError:
        raise ValidationError(
            "A card with this number is already registered.", code="pan_duplicate"
        ) from None
    audit_event_record(
        kind=AuditEvent.Kind.CARD_ISSUED,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        customer_id=customer.pk,
        card_last4=card.last4,
        data={"card_id": card.pk, "account": account.number, "expires_on": expires_on.isoformat()},
    )
    return card


@transaction.atomic
def card_block(*, card: Card, reason: str, status: str = Card.Status.BLOCKED, actor: Any = None) -> Card:
    # Lock so a concurrent kiosk session start sees the block or runs entirely before it.
    card = Card.objects.select_for_update().get(pk=card.pk)
    if status not in (Card.Status.BLOCKED, Card.Status.STOLEN):
        raise ValidationError("A card can only be blocked or reported stolen.", code="status")
    card.status, card.blocked_reason = status, reason[:200]
    card.save(update_fields=["status", "blocked_reason"])
    audit_event_record(
        kind=AuditEvent.Kind.CARD_BLOCKED,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        customer_id=card.customer_id,
        card_last4=card.last4,
        data={"card_id": card.pk, "status": status, "reason": card.blocked_reason},
    )
    return card


@transaction.atomic
def card_unblock(*, card: Card, actor: Any = None) -> Card:
    """Staff decision: the card works again with a clean slate (every kiosk counter reset), as one event.

    A counter left behind would re-block or re-lock the card on the next slip (found: 11 wrong codes kept).
    """
    # Imported here: the kiosk app builds on accounts, not the other way round.
    from kiosk.services.security import card_security_reset

    # Counters first, then the card: the same lock order as the kiosk (card security → card).
    reset = card_security_reset(card=card)
    card = Card.objects.select_for_update().get(pk=card.pk)
    if card.status == Card.Status.STOLEN:
        raise ValidationError("A card reported stolen is never unblocked; issue a new card.", code="stolen")
    previous_status = card.status
    card.status, card.blocked_reason = Card.Status.ACTIVE, ""
    card.save(update_fields=["status", "blocked_reason"])
    audit_event_record(
        kind=AuditEvent.Kind.CARD_UNBLOCKED,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        customer_id=card.customer_id,
        card_last4=card.last4,
        data={"card_id": card.pk, "previous_status": previous_status, "reset": reset},
    )
    return card


@dataclass(frozen=True)
class _Posting:
    kind: str
    audit_kind: str


_WITHDRAWAL = _Posting(Transaction.Kind.WITHDRAWAL, AuditEvent.Kind.WITHDRAWAL)
_DEPOSIT = _Posting(Transaction.Kind.DEPOSIT, AuditEvent.Kind.DEPOSIT)


def _post(
    *,
    posting: _Posting,
    account: BankAccount,
    amount: Any,
    idempotency_key: str,
    card: Card | None,
    kiosk: Any,
    details: dict[str, Any] | None,
    actor: Any,
) -> Transaction:
    amount = money_parse(amount)
    key = (idempotency_key or "").strip()
    if not 8 <= len(key) <= 64:
        raise ApplicationError(
            "An idempotency key of 8 to 64 characters is required.", code="idempotency_key"
        )
    # The row lock serialises every balance change on this account: the checks below and the update see the
    # committed balance, so concurrent withdrawals can neither overdraw nor both pass the daily limit.
    locked = BankAccount.objects.select_for_update().get(pk=account.pk)
    previous = Transaction.objects.filter(account=locked, idempotency_key=key).first()
    if previous is not None:
        if previous.kind != posting.kind or previous.amount != amount:
            raise ApplicationError(
                "This idempotency key was already used for a different operation.",
                code="idempotency_conflict",
                status_code=409,
            )
        return previous
    if locked.status != BankAccount.Status.ACTIVE:
        raise ApplicationError("The account is not active.", code="account_inactive", status_code=409)
    if posting is _WITHDRAWAL:
        if amount > locked.balance:
            raise ApplicationError("Insufficient funds.", code="insufficient_funds", status_code=409)
        if account_withdrawn_today(account=locked) + amount > locked.daily_withdrawal_limit:
            raise ApplicationError(
                "This withdrawal would exceed the daily limit.", code="daily_limit", status_code=409
            )
        locked.balance -= amount
    else:
        if locked.balance + amount > settings.ACCOUNT_MAX_BALANCE:
            raise ApplicationError(
                "This deposit would take the balance above the largest allowed.",
                code="balance_limit",
                status_code=409,
            )
        locked.balance += amount
    locked.save(update_fields=["balance"])
    entry = Transaction.objects.create(
        account=locked,
        kind=posting.kind,
        amount=amount,
        balance_after=locked.balance,
        card=card,
        kiosk=kiosk,
        idempotency_key=key,
        details=details or {},
    )
    audit_event_record(
        kind=posting.audit_kind,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        kiosk_id=getattr(kiosk, "pk", None),
        customer_id=locked.customer_id,
        card_last4=card.last4 if card else "",
        data={
            "transaction_id": entry.pk,
            "account": locked.number,
            "amount": str(amount),
            "currency": locked.currency,
            "balance_after": str(locked.balance),
            # The notes counted in or paid out, when the ledger row records them.
            **({"notes": entry.details["notes"]} if "notes" in entry.details else {}),
        },
    )
    return entry


@transaction.atomic
def withdrawal_create(
    *,
    account: BankAccount,
    amount: Any,
    idempotency_key: str,
    card: Card | None = None,
    kiosk: Any = None,
    details: dict[str, Any] | None = None,
    actor: Any = None,
) -> Transaction:
    """Debit the account; a repeated idempotency key returns the first result without moving money again."""
    return _post(
        posting=_WITHDRAWAL,
        account=account,
        amount=amount,
        idempotency_key=idempotency_key,
        card=card,
        kiosk=kiosk,
        details=details,
        actor=actor,
    )


@transaction.atomic
def deposit_create(
    *,
    account: BankAccount,
    amount: Any,
    idempotency_key: str,
    card: Card | None = None,
    kiosk: Any = None,
    details: dict[str, Any] | None = None,
    actor: Any = None,
) -> Transaction:
    return _post(
        posting=_DEPOSIT,
        account=account,
        amount=amount,
        idempotency_key=idempotency_key,
        card=card,
        kiosk=kiosk,
        details=details,
        actor=actor,
    )
