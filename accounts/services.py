"""Writes for customers, accounts, cards and the ledger. Money moves only here, under a row lock."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from audit.services import audit_event_record

from .models import BankAccount, Card, Customer, Transaction
from .pan import pan_hash, pan_validate
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
    return amount


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
def account_open(
    *,
    customer: Customer,
    number: str,
    currency: str = "EUR",
    daily_withdrawal_limit: Decimal = Decimal("1000.00"),
) -> BankAccount:
    account = BankAccount(
        customer=customer, number=number, currency=currency, daily_withdrawal_limit=daily_withdrawal_limit
    )
    account.full_clean()
    account.save()
    return account


@transaction.atomic
def card_issue(
    *, customer: Customer, account: BankAccount, pan: str, expires_on: dt.date, actor: Any = None
) -> Card:
    """Register a card by its number; only the keyed hash and the last four digits are kept."""
    digits = pan_validate(pan)
    if account.customer_id != customer.pk:
        raise ValidationError("The account belongs to another customer.", code="account_owner")
    if expires_on <= timezone.localdate():
        raise ValidationError("The expiry date must be in the future.", code="expired")
    card = Card(
        customer=customer,
        account=account,
        pan_hmac=pan_hash(digits),
        last4=digits[-4:],
        expires_on=expires_on,
    )
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
