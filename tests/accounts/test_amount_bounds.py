"""No amount can break an account: every amount and balance is bounded in the services and in the database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from django.test import Client

from accounts import services
from accounts.apps import money_bounds_check
from accounts.models import MONEY_CEILING, BankAccount, ChangeRequest, Transaction
from atmsite.errors import ApplicationError
from tests.security.helpers import assert_nothing_written, db_picture

pytestmark = pytest.mark.django_db


def test_huge_deposit_is_refused_and_writes_nothing(alice_card):
    before = db_picture()
    with pytest.raises(ApplicationError) as refusal:
        services.deposit_create(
            account=alice_card.account, amount="999999999990", idempotency_key="huge-0001"
        )
    assert 400 <= refusal.value.status_code < 500
    assert_nothing_written(before)
    # The account still reads back: no value the column cannot hold was stored.
    assert BankAccount.objects.get(pk=alice_card.account_id).balance == Decimal("500.00")
    assert not Transaction.objects.exists()


@pytest.mark.parametrize("amount", ["100000.01", "1e12", "999999999999.99", "1e400", "NaN", "-Infinity"])
def test_amounts_past_the_largest_transaction_are_refused(alice_card, amount):
    before = db_picture()
    with pytest.raises(ApplicationError) as refusal:
        services.withdrawal_create(account=alice_card.account, amount=amount, idempotency_key="bound-w-01")
    with pytest.raises(ApplicationError):
        services.deposit_create(account=alice_card.account, amount=amount, idempotency_key="bound-d-01")
    assert refusal.value.code in {"amount_too_large", "amount_invalid"}
    assert_nothing_written(before)


def test_the_largest_transaction_itself_is_accepted(alice_card, settings):
    account = alice_card.account
    entry = services.deposit_create(
        account=account, amount=settings.ACCOUNT_MAX_TRANSACTION, idempotency_key="max-tx-0001"
    )
    assert entry.amount == settings.ACCOUNT_MAX_TRANSACTION


def test_a_deposit_past_the_largest_balance_is_refused(alice_card, settings):
    account = alice_card.account
    BankAccount.objects.filter(pk=account.pk).update(balance=settings.ACCOUNT_MAX_BALANCE - Decimal("10.00"))
    before = db_picture()
    with pytest.raises(ApplicationError) as refusal:
        services.deposit_create(account=account, amount="10.01", idempotency_key="ceiling-01")
    assert (refusal.value.code, refusal.value.status_code) == ("balance_limit", 409)
    assert_nothing_written(before)
    entry = services.deposit_create(account=account, amount="10.00", idempotency_key="ceiling-02")
    assert entry.balance_after == settings.ACCOUNT_MAX_BALANCE


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("balance", MONEY_CEILING + Decimal("0.01")),
        ("daily_withdrawal_limit", MONEY_CEILING + Decimal("0.01")),
        ("balance", Decimal("-0.01")),
    ],
)
def test_the_database_refuses_values_the_columns_cannot_hold(alice_card, column, value):
    # SQLite checks the CHECK constraint; PostgreSQL's numeric(14, 2) overflows first. Either way: refused.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        BankAccount.objects.filter(pk=alice_card.account_id).update(**{column: value})
    assert BankAccount.objects.get(pk=alice_card.account_id).balance == Decimal("500.00")


def test_the_ledger_refuses_amounts_above_the_ceiling(alice_card):
    row = Transaction(
        account=alice_card.account,
        kind=Transaction.Kind.DEPOSIT,
        amount=MONEY_CEILING + Decimal("0.01"),
        balance_after=Decimal("1"),
        idempotency_key="raw-ledger-01",
    )
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        row.save()
    assert not Transaction.objects.exists()


def test_bounds_beyond_the_columns_stop_start_up(settings):
    settings.ACCOUNT_MAX_BALANCE = Decimal("1e12")
    settings.ACCOUNT_MAX_TRANSACTION = Decimal("2e12")
    assert {error.id for error in money_bounds_check()} == {"accounts.E001", "accounts.E002"}
    settings.ACCOUNT_MAX_BALANCE = MONEY_CEILING
    settings.ACCOUNT_MAX_TRANSACTION = Decimal("100000.00")
    assert money_bounds_check() == []


@pytest.mark.parametrize("limit", ["1000000000.01", "1e12", "999999999999999", "NaN", "-1"])
def test_admin_refuses_a_daily_limit_out_of_bounds(administrator, alice_card, limit):
    client = Client()
    client.force_login(administrator)
    account = alice_card.account
    response = client.post(
        f"/admin/accounts/bankaccount/{account.pk}/change/",
        {"number": account.number, "daily_withdrawal_limit": limit, "status": account.status},
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert BankAccount.objects.get(pk=account.pk).daily_withdrawal_limit == account.daily_withdrawal_limit


def test_admin_accepts_a_daily_limit_within_bounds(administrator, alice_card):
    """Within bounds the form is accepted; an increase then waits for a second member of staff (four eyes)."""
    client = Client()
    client.force_login(administrator)
    account = alice_card.account
    response = client.post(
        f"/admin/accounts/bankaccount/{account.pk}/change/",
        {"number": account.number, "daily_withdrawal_limit": "2500.00", "status": account.status},
    )
    assert response.status_code == 302
    assert BankAccount.objects.get(pk=account.pk).daily_withdrawal_limit == account.daily_withdrawal_limit
    assert ChangeRequest.objects.filter(
        kind=ChangeRequest.Kind.LIMIT_INCREASE, state=ChangeRequest.State.PENDING
    ).exists()


def test_account_open_refuses_a_limit_out_of_bounds(alice):
    with pytest.raises(ValidationError):
        services.account_open(customer=alice, number="DE000000001", daily_withdrawal_limit=Decimal("1e12"))
    assert not BankAccount.objects.filter(number="DE000000001").exists()
