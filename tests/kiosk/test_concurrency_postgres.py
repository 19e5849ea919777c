"""Concurrent withdrawals through the kiosk service on one account and one kiosk (real PostgreSQL locks)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import Transaction
from kiosk.models import Cassette
from kiosk.services.operations import session_withdraw
from tests.factories import BankAccountFactory, CardFactory, KioskFactory
from tests.kiosk.factories import KioskSessionFactory
from tests.support.concurrency import outcome_code, run_at_once

pytestmark = pytest.mark.postgres


def test_concurrent_withdrawals_keep_cash_and_ledger_consistent(postgres):
    account = BankAccountFactory(balance=Decimal("1000.00"), daily_withdrawal_limit=Decimal("5000.00"))
    card = CardFactory(account=account, customer=account.customer)
    kiosk = KioskFactory(cassettes={50: 4, 20: 6, 10: 5})  # 370 in the kiosk
    session = KioskSessionFactory(kiosk=kiosk, card=card)
    # Every request is sent twice with the same key (a double tap racing itself): never dispensed twice.
    distinct = [50, 70, 30, 90, 60, 40, 80, 20]
    amounts = distinct * 2
    keys = [f"concurrent-{index % len(distinct):04d}" for index in range(len(amounts))]
    outcomes = [
        (outcome_code(result), result)
        for result in run_at_once(
            lambda index: session_withdraw(
                kiosk=kiosk, public_id=session.public_id, amount=amounts[index], idempotency_key=keys[index]
            ),
            len(amounts),
        )
    ]

    assert len(outcomes) == len(amounts)
    assert {code for code, _ in outcomes} <= {
        "ok",
        "kiosk_cash",
        "kiosk_notes",
        "kiosk_no_cash",
        "amount_not_notes",
    }
    ledger = list(Transaction.objects.filter(account=account))
    debited = sum(entry.amount for entry in ledger)
    account.refresh_from_db()
    assert account.balance == Decimal("1000.00") - debited
    cash_left = sum(c.denomination * c.count for c in Cassette.objects.filter(kiosk=kiosk))
    assert Decimal(370 - cash_left) == debited
    notes_dispensed: dict[int, int] = {}
    for entry in ledger:
        for value, count in entry.details["notes"].items():
            notes_dispensed[int(value)] = notes_dispensed.get(int(value), 0) + count
    remaining = dict(Cassette.objects.filter(kiosk=kiosk).values_list("denomination", "count"))
    assert {value: {50: 4, 20: 6, 10: 5}[value] - remaining[value] for value in remaining} == {
        value: notes_dispensed.get(value, 0) for value in remaining
    }
    assert all(count >= 0 for count in remaining.values())
    assert len({entry.idempotency_key for entry in ledger}) == len(ledger)
    receipts = [receipt for code, receipt in outcomes if code == "ok"]
    assert {receipt.transaction.pk for receipt in receipts} == {entry.pk for entry in ledger}
    assert len([r for r in receipts if not r.repeated]) == len(ledger) > 0
