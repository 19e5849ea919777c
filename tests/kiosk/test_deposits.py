"""Deposits credit only notes counted by the kiosk's cash-in module, held in escrow until the customer confirms."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import BankAccount
from tests.security.helpers import assert_nothing_written, db_picture

pytestmark = pytest.mark.django_db


@pytest.fixture
def menu(driver, alice_card, alice_pan):
    driver.start(alice_pan)
    driver.verify_face()
    return driver


def _balance(card) -> Decimal:
    return BankAccount.objects.get(pk=card.account_id).balance


def test_deposit_cannot_credit_a_typed_amount(menu, alice_card):
    menu.get("balance")  # enter the menu first: that write is not what is under test
    before = db_picture()
    response = menu.post("deposits", {"amount": "999990", "idempotency_key": "typed-amount-1"})
    assert response.status_code == 400
    assert response.json()["code"] == "deposit_amount_refused"
    assert _balance(alice_card) == Decimal("500.00")
    assert_nothing_written(before)
