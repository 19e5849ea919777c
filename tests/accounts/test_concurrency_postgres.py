"""Real row locks: concurrent withdrawals from separate connections on one PostgreSQL account."""

from __future__ import annotations

import threading
from decimal import Decimal

from django.db import connection, connections
from django.db.models import Sum

from accounts import services
from accounts.models import BankAccount, Transaction
from atmsite.errors import ApplicationError
from tests.factories import BankAccountFactory

WORKERS = 50


def _run_concurrently(target, count: int) -> list[object]:
    results: list[object] = [None] * count
    barrier = threading.Barrier(count)

    def worker(index: int) -> None:
        try:
            barrier.wait()
            results[index] = target(index)
        except Exception as error:
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_fifty_concurrent_withdrawals_never_overdraw(postgres):
    assert connection.vendor == "postgresql"
    account = BankAccountFactory(balance=Decimal("1000.00"), daily_withdrawal_limit=Decimal("100000"))
    # 50 × 30 = 1,500 asked for, 1,000 available: exactly 33 succeed, the rest are refused.
    results = _run_concurrently(
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
    results = _run_concurrently(
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
