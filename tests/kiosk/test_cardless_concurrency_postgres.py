"""Concurrent card-less withdrawals against the card-less daily limit (real PostgreSQL row locks)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import Transaction
from kiosk.services.operations import session_withdraw
from tests.factories import BankAccountFactory, KioskFactory
from tests.kiosk.factories import KioskSessionFactory
from tests.support.concurrency import outcome_code, run_at_once

pytestmark = pytest.mark.postgres


def test_concurrent_cardless_withdrawals_never_pass_the_cardless_limit(postgres, settings):
    settings.CARDLESS_DAILY_LIMIT = Decimal("100.00")
    account = BankAccountFactory(balance=Decimal("1000.00"), daily_withdrawal_limit=Decimal("5000.00"))
    kiosk = KioskFactory(cassettes={20: 100})
    session = KioskSessionFactory(cardless=True, kiosk=kiosk, account=account)
    outcomes = [
        outcome_code(result)
        for result in run_at_once(
            lambda index: session_withdraw(
                kiosk=kiosk, public_id=session.public_id, amount=40, idempotency_key=f"cl-{index:06d}"
            ),
            8,
        )
    ]

    assert sorted(outcomes) == ["daily_limit"] * 6 + ["ok"] * 2  # 2 × 40 fit under 100, a third does not
    assert sum(entry.amount for entry in Transaction.objects.filter(account=account)) == Decimal("80.00")
