from __future__ import annotations

from decimal import Decimal

import pytest

from accounts import services
from accounts.models import BankAccount, Transaction
from atmsite.errors import ApplicationError
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int]:
    return Transaction.objects.count(), AuditEvent.objects.count()


def test_withdrawal_debits_balance_and_writes_ledger_and_audit(alice_card):
    account = alice_card.account
    entry = services.withdrawal_create(
        account=account, amount="120.00", idempotency_key="key-00000001", card=alice_card
    )
    account.refresh_from_db()
    assert account.balance == Decimal("380.00")
    assert entry.balance_after == Decimal("380.00")
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.WITHDRAWAL)
    assert event.data["transaction_id"] == entry.pk
    assert event.card_last4 == alice_card.last4


def test_repeated_idempotency_key_moves_money_once(alice_card):
    account = alice_card.account
    first = services.withdrawal_create(account=account, amount="100", idempotency_key="double-tap-1")
    second = services.withdrawal_create(account=account, amount="100", idempotency_key="double-tap-1")
    account.refresh_from_db()
    assert first.pk == second.pk
    assert account.balance == Decimal("400.00")
    assert Transaction.objects.filter(account=account, kind="withdrawal").count() == 1


def test_idempotency_key_reused_for_another_amount_is_a_conflict(alice_card):
    account = alice_card.account
    services.withdrawal_create(account=account, amount="100", idempotency_key="reused-key-1")
    with pytest.raises(ApplicationError) as error:
        services.withdrawal_create(account=account, amount="50", idempotency_key="reused-key-1")
    assert error.value.code == "idempotency_conflict"
    assert error.value.status_code == 409


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("-5", "amount_not_positive"),
        ("0", "amount_not_positive"),
        ("0.001", "amount_precision"),
        ("12.345", "amount_precision"),
        ("NaN", "amount_invalid"),
        ("Infinity", "amount_invalid"),
        ("ten", "amount_invalid"),
        ("1e13", "amount_too_large"),
    ],
)
def test_bad_amounts_are_refused_and_write_nothing(alice_card, amount, code):
    before = _counts()
    with pytest.raises(ApplicationError) as error:
        services.withdrawal_create(account=alice_card.account, amount=amount, idempotency_key="bad-amount-1")
    assert error.value.code == code
    assert _counts() == before
    alice_card.account.refresh_from_db()
    assert alice_card.account.balance == Decimal("500.00")


def test_withdrawal_never_overdraws(alice_card):
    before = _counts()
    with pytest.raises(ApplicationError) as error:
        services.withdrawal_create(account=alice_card.account, amount="500.01", idempotency_key="overdraw-1")
    assert error.value.code == "insufficient_funds"
    assert _counts() == before


def test_daily_limit_counts_todays_withdrawals(alice_card):
    account = alice_card.account
    BankAccount.objects.filter(pk=account.pk).update(daily_withdrawal_limit=Decimal("300.00"))
    services.withdrawal_create(account=account, amount="200", idempotency_key="limit-0001")
    with pytest.raises(ApplicationError) as error:
        services.withdrawal_create(account=account, amount="150", idempotency_key="limit-0002")
    assert error.value.code == "daily_limit"
    services.withdrawal_create(account=account, amount="100", idempotency_key="limit-0003")
    account.refresh_from_db()
    assert account.balance == Decimal("200.00")


def test_frozen_account_cannot_withdraw(alice_card):
    BankAccount.objects.filter(pk=alice_card.account_id).update(status=BankAccount.Status.FROZEN)
    with pytest.raises(ApplicationError) as error:
        services.withdrawal_create(account=alice_card.account, amount="10", idempotency_key="frozen-001")
    assert error.value.code == "account_inactive"


def test_missing_idempotency_key_is_refused(alice_card):
    with pytest.raises(ApplicationError) as error:
        services.withdrawal_create(account=alice_card.account, amount="10", idempotency_key="")
    assert error.value.code == "idempotency_key"


def test_deposit_credits_and_ledger_sums_to_balance(alice_card):
    account = alice_card.account
    services.deposit_create(account=account, amount="25.50", idempotency_key="dep-000001")
    services.withdrawal_create(account=account, amount="10", idempotency_key="wd-0000001")
    account.refresh_from_db()
    assert account.balance == Decimal("515.50")
    assert account.transactions.first().balance_after == account.balance


def test_ledger_rows_are_append_only(alice_card):
    entry = services.deposit_create(account=alice_card.account, amount="1", idempotency_key="dep-append")
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
