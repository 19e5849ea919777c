"""Concurrent card-less withdrawals against the card-less daily limit (real PostgreSQL row locks)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from accounts.models import Transaction
from atmsite.errors import ApplicationError
from kiosk.services.operations import session_withdraw
from tests.factories import BankAccountFactory, KioskFactory
from tests.kiosk.factories import KioskSessionFactory

pytestmark = pytest.mark.postgres


def test_concurrent_cardless_withdrawals_never_pass_the_cardless_limit(postgres, settings):
    settings.CARDLESS_DAILY_LIMIT = Decimal("100.00")
    account = BankAccountFactory(balance=Decimal("1000.00"), daily_withdrawal_limit=Decimal("5000.00"))
    kiosk = KioskFactory(cassettes={20: 100})
    session = KioskSessionFactory(cardless=True, kiosk=kiosk, account=account)
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def withdraw(index: int) -> None:
        try:
            barrier.wait()
            session_withdraw(
                kiosk=kiosk, public_id=session.public_id, amount=40, idempotency_key=f"cl-{index:06d}"
            )
            outcomes.append("ok")
        except ApplicationError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=withdraw, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["daily_limit"] * 6 + ["ok"] * 2  # 2 × 40 fit under 100, a third does not
    assert sum(entry.amount for entry in Transaction.objects.filter(account=account)) == Decimal("80.00")
