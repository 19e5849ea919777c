"""The ledger: withdrawals and deposits. Money moves only here, under the account row lock."""

from __future__ import annotations

import functools
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Model

from atmsite.errors import ApplicationError
from audit.actors import Actor
from audit.models import AuditEvent
from audit.services import audit_event_record

from .. import errors
from ..errors import AccountsError
from ..models import BankAccount, Card, Transaction
from ..selectors import account_withdrawn_today

CENT = Decimal("0.01")
_AUDIT_KIND = {
    Transaction.Kind.WITHDRAWAL: AuditEvent.Kind.WITHDRAWAL,
    Transaction.Kind.DEPOSIT: AuditEvent.Kind.DEPOSIT,
}


def money_parse(raw: object) -> Decimal:
    """A positive amount with at most two decimals, or ApplicationError with the reason."""
    try:
        amount = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise ApplicationError(AccountsError.AMOUNT_INVALID) from None
    if not amount.is_finite():
        raise ApplicationError(AccountsError.AMOUNT_INVALID)
    if amount <= 0:
        raise ApplicationError(AccountsError.AMOUNT_NOT_POSITIVE)
    # Size before precision: quantize() raises InvalidOperation for values like 1e400 (beyond 28 digits).
    if amount >= Decimal("1e12"):
        raise ApplicationError(AccountsError.AMOUNT_TOO_LARGE)
    if amount != amount.quantize(CENT):
        raise ApplicationError(AccountsError.AMOUNT_PRECISION)
    if amount > settings.ACCOUNT_MAX_TRANSACTION:
        raise ApplicationError(
            AccountsError.AMOUNT_TOO_LARGE,
            errors.AMOUNT_ABOVE_TRANSACTION_MAX,
            extra={"max_amount": str(settings.ACCOUNT_MAX_TRANSACTION)},
        )
    return amount


def idempotency_key_check(key: str) -> str:
    """The key without surrounding blanks, or ApplicationError unless it has 8 to 64 characters."""
    key = (key or "").strip()
    if not 8 <= len(key) <= 64:
        raise ApplicationError(AccountsError.IDEMPOTENCY_KEY)
    return key


def ledger_entry_replayed(
    *, account: BankAccount, key: str, kind: str, amount: Decimal | int
) -> Transaction | None:
    """The entry an earlier request with this key wrote, or None. The same key for another kind or amount is
    a conflict (409). Call it under the account row lock, so the answer holds until the transaction ends."""
    previous = Transaction.objects.filter(account=account, idempotency_key=key).first()
    if previous is not None and (previous.kind != kind or previous.amount != Decimal(amount)):
        raise ApplicationError(AccountsError.IDEMPOTENCY_CONFLICT, status_code=409)
    return previous


def _balance_move(locked: BankAccount, *, kind: str, amount: Decimal) -> None:
    if locked.status != BankAccount.Status.ACTIVE:
        raise ApplicationError(AccountsError.ACCOUNT_INACTIVE, status_code=409)
    if kind == Transaction.Kind.WITHDRAWAL:
        if amount > locked.balance:
            raise ApplicationError(AccountsError.INSUFFICIENT_FUNDS, status_code=409)
        if account_withdrawn_today(account=locked) + amount > locked.daily_withdrawal_limit:
            raise ApplicationError(AccountsError.DAILY_LIMIT, status_code=409)
        locked.balance -= amount
    else:
        if locked.balance + amount > settings.ACCOUNT_MAX_BALANCE:
            raise ApplicationError(AccountsError.BALANCE_LIMIT, status_code=409)
        locked.balance += amount
    locked.save(update_fields=["balance"])


def _entry_audit(entry: Transaction, *, actor: Actor) -> None:
    account, card = entry.account, entry.card
    audit_event_record(
        kind=_AUDIT_KIND[Transaction.Kind(entry.kind)],
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        kiosk_id=entry.kiosk_id,
        customer_id=account.customer_id,
        card_last4=card.last4 if card else "",
        data={
            "transaction_id": entry.pk,
            "account": account.number,
            "amount": str(entry.amount),
            "currency": account.currency,
            "balance_after": str(entry.balance_after),
            # The notes counted in or paid out, when the ledger row records them.
            **({"notes": entry.details["notes"]} if "notes" in entry.details else {}),
        },
    )


@transaction.atomic
def ledger_post(
    *,
    kind: Transaction.Kind,
    account: BankAccount,
    amount: Decimal | int | str,
    idempotency_key: str,
    card: Card | None = None,
    kiosk: Model
    | None = None,  # a kiosk.Kiosk (Transaction.kiosk); kiosk builds on accounts, not the reverse
    details: dict[str, Any] | None = None,
    actor: Actor = None,
) -> Transaction:
    """Debit (withdrawal) or credit (deposit) the account; a repeated idempotency key returns the first
    result without moving money again."""
    amount = money_parse(amount)
    key = idempotency_key_check(idempotency_key)
    # The row lock serialises every balance change on this account: the checks below and the update see the
    # committed balance, so concurrent withdrawals can neither overdraw nor both pass the daily limit.
    locked = BankAccount.objects.select_for_update().get(pk=account.pk)
    previous = ledger_entry_replayed(account=locked, key=key, kind=kind, amount=amount)
    if previous is not None:
        return previous
    _balance_move(locked, kind=kind, amount=amount)
    entry = Transaction.objects.create(
        account=locked,
        kind=kind,
        amount=amount,
        balance_after=locked.balance,
        card=card,
        kiosk_id=kiosk.pk if kiosk is not None else None,
        idempotency_key=key,
        details=details or {},
    )
    _entry_audit(entry, actor=actor)
    return entry


withdrawal_create = functools.partial(ledger_post, kind=Transaction.Kind.WITHDRAWAL)
deposit_create = functools.partial(ledger_post, kind=Transaction.Kind.DEPOSIT)
