"""No amount can break an account: every amount and balance is bounded in the services and in the database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts import services
from accounts.models import BankAccount, Transaction
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
