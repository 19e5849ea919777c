"""Concurrent confirms of one escrowed deposit (double taps, retries) credit it once (PostgreSQL locks)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import Transaction
from kiosk.models import CashInBin, CashInDeposit
from kiosk.services.cash_devices import cash_in_device_provision
from kiosk.services.cash_in import deposit_confirm, deposit_escrow, deposit_open
from tests.factories import BankAccountFactory, CardFactory, KioskFactory
from tests.kiosk.factories import KioskSessionFactory
from tests.support.concurrency import outcome_code, run_at_once

pytestmark = pytest.mark.postgres


def test_concurrent_confirms_of_one_escrow_credit_it_once(postgres):
    account = BankAccountFactory(balance=Decimal("100.00"))
    card = CardFactory(account=account, customer=account.customer)
    kiosk = KioskFactory()
    session = KioskSessionFactory(kiosk=kiosk, card=card)
    device, _key = cash_in_device_provision(kiosk=kiosk, actor=None)
    deposit_open(kiosk=kiosk, public_id=session.public_id)
    deposit_escrow(
        kiosk=kiosk,
        device=device,
        counter=1,
        public_id=session.public_id,
        notes={"50": 3, "20": 2},
        idempotency_key="escrow-race-01",
    )
    # Most threads retry the escrow's key; a few try another key (a confirm with no escrow of its own).
    keys = ["escrow-race-01"] * 10 + ["escrow-race-02"] * 4
    outcomes = [
        (outcome_code(result), result)
        for result in run_at_once(
            lambda index: deposit_confirm(
                kiosk=kiosk, public_id=session.public_id, idempotency_key=keys[index]
            ),
            len(keys),
        )
    ]

    assert len(outcomes) == len(keys)
    assert {code for code, _ in outcomes} <= {"ok", "deposit_no_escrow"}
    entry = Transaction.objects.get(account=account)
    assert entry.amount == Decimal("190.00") and entry.idempotency_key == "escrow-race-01"
    account.refresh_from_db()
    assert account.balance == Decimal("290.00")
    assert dict(CashInBin.objects.filter(kiosk=kiosk).values_list("denomination", "count")) == {50: 3, 20: 2}
    receipts = [receipt for code, receipt in outcomes if code == "ok"]
    assert len(receipts) == 10  # every retry of the escrow's key got the one receipt
    assert [r.repeated for r in receipts].count(False) == 1
    assert {r.transaction.pk for r in receipts} == {entry.pk}
    assert [code for code, _ in outcomes].count("deposit_no_escrow") == 4
    # The bin's ledger holds the one deposit, with its session.
    assert list(CashInDeposit.objects.values_list("session_id", "transaction_id")) == [(session.pk, entry.pk)]


def test_concurrent_replays_of_one_signed_report_count_once(postgres):
    """The same counter sent by several threads at once: one escrow, the rest refused as replays."""
    account = BankAccountFactory(balance=Decimal("100.00"))
    card = CardFactory(account=account, customer=account.customer)
    kiosk = KioskFactory()
    session = KioskSessionFactory(kiosk=kiosk, card=card)
    device, _key = cash_in_device_provision(kiosk=kiosk, actor=None)
    deposit_open(kiosk=kiosk, public_id=session.public_id)
    results = run_at_once(
        lambda index: deposit_escrow(
            kiosk=kiosk,
            device=device,
            counter=7,
            public_id=session.public_id,
            notes={"50": 1},
            idempotency_key=f"replay-race-{index:02d}",
        ),
        6,
    )
    codes = sorted(outcome_code(result) for result in results)
    assert codes == ["cash_in_report_replayed"] * 5 + ["ok"]
    device.refresh_from_db()
    assert device.last_counter == 7
