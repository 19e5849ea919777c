"""Writes for bank accounts: open, change the daily limit or the status."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from atmsite.errors import ApplicationError
from audit.actors import Actor
from audit.models import AuditEvent
from audit.services import audit_event_record

from .. import errors
from ..errors import AccountsError
from ..models import BankAccount, Customer


def daily_limit_check(limit: Decimal) -> Decimal:
    """A daily withdrawal limit within the bounds, or ValidationError (shown as a form error)."""
    if not limit.is_finite() or limit < 0:
        raise AccountsError.LIMIT_INVALID.invalid(errors.DAILY_LIMIT_NEGATIVE)
    if limit > settings.ACCOUNT_MAX_BALANCE:
        raise AccountsError.LIMIT_TOO_LARGE.invalid(max=settings.ACCOUNT_MAX_BALANCE)
    return limit


def account_number_new() -> str:
    """A fresh account number: the bank's prefix and 16 random digits (retried on the rare collision)."""
    for _attempt in range(20):
        digits = "".join(secrets.choice("0123456789") for _ in range(16))
        number = " ".join([settings.ACCOUNT_NUMBER_PREFIX, *(digits[i : i + 4] for i in range(0, 16, 4))])
        if not BankAccount.objects.filter(number=number).exists():
            return number
    raise ApplicationError(AccountsError.ACCOUNT_NUMBER)


@transaction.atomic
def account_open(
    *,
    customer: Customer,
    number: str | None = None,
    currency: str = "EUR",
    daily_withdrawal_limit: Decimal = Decimal("1000.00"),
    actor: Actor = None,
) -> BankAccount:
    """Open an active account; without `number` one is generated."""
    if currency not in settings.BANK_CURRENCIES:
        raise AccountsError.CURRENCY.invalid(currency=currency)
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


def _account_update(*, account: BankAccount, actor: Actor, **values: Decimal | str) -> BankAccount:
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
def account_limit_change(*, account: BankAccount, limit: Decimal, actor: Actor) -> BankAccount:
    """Set the daily withdrawal limit. An increase must come from an approved change request."""
    return _account_update(account=account, actor=actor, daily_withdrawal_limit=limit)


@transaction.atomic
def account_status_change(*, account: BankAccount, status: str, actor: Actor) -> BankAccount:
    """Freeze or re-activate. Closing is four-eyes (accounts.approvals: account_close_propose)."""
    if status not in BankAccount.Status.values:
        raise AccountsError.STATUS.invalid(errors.ACCOUNT_STATUS_UNKNOWN)
    current = BankAccount.objects.get(pk=account.pk).status
    if status == BankAccount.Status.CLOSED and current != BankAccount.Status.CLOSED:
        raise AccountsError.CLOSE_FOUR_EYES.invalid()
    return _account_update(account=account, actor=actor, status=status)


def account_close_check(account: BankAccount) -> None:
    """Call under the account's row lock: only an open account with nothing on it can be closed."""
    if account.status == BankAccount.Status.CLOSED:
        raise ApplicationError(AccountsError.ACCOUNT_CLOSED, status_code=409)
    if account.balance != 0:
        raise ApplicationError(AccountsError.BALANCE_NOT_ZERO, status_code=409)


@transaction.atomic
def account_close(*, account: BankAccount, actor: Actor) -> BankAccount:
    """Applied by an approved ACCOUNT_CLOSE request: the balance must still be zero."""
    # The row lock orders the closure with deposits and withdrawals, which post under the same lock.
    account = BankAccount.objects.select_for_update().get(pk=account.pk)
    account_close_check(account)
    return _account_update(account=account, actor=actor, status=BankAccount.Status.CLOSED)
