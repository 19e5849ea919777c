"""Real row locks: concurrent withdrawals from separate connections on one PostgreSQL account."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.db.models import Sum

from accounts import services
from accounts.models import BankAccount, Transaction
from atmsite.errors import ApplicationError
from tests.factories import BankAccountFactory
from tests.support.concurrency import run_at_once

WORKERS = 50


def test_fifty_concurrent_withdrawals_never_overdraw(postgres):
    assert connection.vendor == "postgresql"
    account = BankAccountFactory(balance=Decimal("1000.00"), daily_withdrawal_limit=Decimal("100000"))
    # 50 × 30 = 1,500 asked for, 1,000 available: exactly 33 succeed, the rest are refused.
    results = run_at_once(
        lambda i: services.withdrawal_create(
            account=account, amount="30.00", idempotency_key=f"conc-{i:04d}"
        ),
        WORKERS,
    )
    succeeded = [r for r in results if isinstance(r, Transaction)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    unexpected = [r for r in results if not isinstance(r, Transaction | ApplicationError)]
    assert unexpected == []
    assert len(succeeded) == 33
    assert {r.code for r in refused} == {"insufficient_funds"}
    account.refresh_from_db()
    assert account.balance == Decimal("10.00")
    ledger = Transaction.objects.filter(account=account).aggregate(out=Sum("amount"))["out"]
    assert Decimal("1000.00") - ledger == account.balance
    assert Transaction.objects.filter(account=account).values("idempotency_key").distinct().count() == 33


def test_concurrent_retries_of_one_key_move_money_once(postgres):
    account = BankAccountFactory(balance=Decimal("1000.00"))
    results = run_at_once(
        lambda i: services.withdrawal_create(
            account=account, amount="40.00", idempotency_key="same-key-0001"
        ),
        20,
    )
    assert all(isinstance(r, Transaction) for r in results), results
    assert len({r.pk for r in results}) == 1
    account.refresh_from_db()
    assert account.balance == Decimal("960.00")
    assert BankAccount.objects.get(pk=account.pk).transactions.count() == 1
