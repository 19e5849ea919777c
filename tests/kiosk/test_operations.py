"""ATM operations: balance, withdrawals (note combinations, cassettes), deposits, statement, double taps."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import BankAccount, Transaction
from kiosk.models import Cassette
from kiosk.services.notes import notes_for_amount
from tests.kiosk.conftest import deposit_counted

pytestmark = pytest.mark.django_db


def _cassettes(kiosk) -> dict[int, int]:
    return dict(Cassette.objects.filter(kiosk=kiosk).values_list("denomination", "count"))


@pytest.fixture
def menu(driver, alice_card, alice_pan):
    driver.start(alice_pan)
    driver.verify_face()
    return driver


@pytest.mark.parametrize(
    ("amount", "available", "expected"),
    [
        (60, {50: 1, 20: 3}, {20: 3}),  # greedy would take the 50 and fail
        (80, {50: 10, 20: 10, 10: 10}, {50: 1, 20: 1, 10: 1}),
        (110, {50: 1, 20: 5}, {50: 1, 20: 3}),
        (130, {100: 1, 50: 2, 20: 4}, {50: 1, 20: 4}),  # not 100 + 20 + 10 (no 10s)
        (30, {20: 5}, None),
        (100, {50: 1}, None),
        (70, {50: 0, 20: 5, 10: 0}, None),
    ],
)
def test_note_combinations(amount, available, expected):
    assert notes_for_amount(amount=amount, available=available, max_notes=40) == expected


def test_note_cap():
    assert notes_for_amount(amount=500, available={10: 100}, max_notes=40) is None
    assert notes_for_amount(amount=400, available={10: 100}, max_notes=40) == {10: 40}


def test_balance_enters_the_menu(menu):
    response = menu.get("balance")
    assert response.status_code == 200
    assert response.json()["balance"] == "500.00"
    assert response.json()["available_today"] == "500.00"
    assert menu.status().json()["state"] == "in_menu"


def test_operations_need_a_verified_session(driver, alice_card, alice_pan, kiosk):
    driver.start(alice_pan)
    assert driver.get("balance").status_code == 409
    response = driver.post("withdrawals", {"amount": "20", "idempotency_key": "key-0000001"})
    assert (response.status_code, response.json()["code"]) == (409, "wrong_state")
    assert Transaction.objects.count() == 0


def test_withdrawal_dispenses_notes_and_debits_cassettes(menu, kiosk, alice_card):
    before = _cassettes(kiosk)
    response = menu.post("withdrawals", {"amount": "80", "idempotency_key": "tap-00000001"})
    assert response.status_code == 201
    body = response.json()
    assert body["notes"] == [
        {"denomination": 50, "count": 1},
        {"denomination": 20, "count": 1},
        {"denomination": 10, "count": 1},
    ]
    assert body["balance_after"] == "420.00"
    assert body["masked_pan"].endswith(alice_card.last4)
    after = _cassettes(kiosk)
    assert {value: before[value] - after[value] for value in before} == {50: 1, 20: 1, 10: 1}
    assert BankAccount.objects.get(pk=alice_card.account_id).balance == Decimal("420.00")
    entry = Transaction.objects.get()
    assert entry.kiosk_id == kiosk.pk and entry.details["notes"] == {"50": 1, "20": 1, "10": 1}


def test_double_tap_dispenses_once(menu, kiosk, alice_card):
    first = menu.post("withdrawals", {"amount": "100", "idempotency_key": "tap-00000002"})
    cassettes = _cassettes(kiosk)
    second = menu.post("withdrawals", {"amount": "100", "idempotency_key": "tap-00000002"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["repeated"] is True
    assert second.json()["transaction_id"] == first.json()["transaction_id"]
    assert _cassettes(kiosk) == cassettes
    assert Transaction.objects.count() == 1
    assert BankAccount.objects.get(pk=alice_card.account_id).balance == Decimal("400.00")
    conflict = menu.post("withdrawals", {"amount": "50", "idempotency_key": "tap-00000002"})
    assert (conflict.status_code, conflict.json()["code"]) == (409, "idempotency_conflict")


@pytest.mark.parametrize(
    ("amount", "code", "status"),
    [
        ("-20", "amount_not_positive", 400),
        ("0", "amount_not_positive", 400),
        ("abc", "amount_invalid", 400),
        ("25", "amount_not_notes", 400),
        ("20.50", "amount_not_notes", 400),
        ("600", "insufficient_funds", 409),
    ],
)
def test_bad_withdrawals_move_nothing(menu, kiosk, alice_card, amount, code, status):
    cassettes = _cassettes(kiosk)
    response = menu.post("withdrawals", {"amount": amount, "idempotency_key": "bad-00000001"})
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert _cassettes(kiosk) == cassettes
    assert Transaction.objects.count() == 0
    assert BankAccount.objects.get(pk=alice_card.account_id).balance == Decimal("500.00")


def test_withdrawal_beyond_the_kiosks_cash(menu, kiosk, alice_card):
    Cassette.objects.filter(kiosk=kiosk).update(count=1)  # 80 in the kiosk
    response = menu.post("withdrawals", {"amount": "100", "idempotency_key": "cash-0000001"})
    assert (response.status_code, response.json()["code"]) == (409, "kiosk_cash")
    Cassette.objects.filter(kiosk=kiosk, denomination=10).update(count=0)  # 70 in 50 + 20
    response = menu.post("withdrawals", {"amount": "60", "idempotency_key": "cash-0000002"})
    assert (response.status_code, response.json()["code"]) == (409, "kiosk_notes")
    assert Transaction.objects.count() == 0
    assert _cassettes(kiosk) == {50: 1, 20: 1, 10: 0}


def test_daily_limit(menu, alice_card):
    BankAccount.objects.filter(pk=alice_card.account_id).update(balance=5000, daily_withdrawal_limit=100)
    assert menu.post("withdrawals", {"amount": "100", "idempotency_key": "lim-0000001"}).status_code == 201
    response = menu.post("withdrawals", {"amount": "20", "idempotency_key": "lim-0000002"})
    assert (response.status_code, response.json()["code"]) == (409, "daily_limit")
    assert menu.get("balance").json()["available_today"] == "0.00"


def test_idempotency_key_is_required(menu):
    response = menu.post("withdrawals", {"amount": "20", "idempotency_key": "short"})
    assert (response.status_code, response.json()["code"]) == (400, "idempotency_key")


def test_deposit_and_statement(menu, kiosk, alice_card, cash_in_module):
    cassettes = _cassettes(kiosk)
    assert deposit_counted(menu, cash_in_module, {"100": 1, "50": 1}, "dep-0000001").status_code == 201
    response = menu.post("deposits", {"idempotency_key": "dep-0000001"})
    assert response.status_code == 201
    assert response.json()["balance_after"] == "650.00"
    assert menu.post("deposits", {"idempotency_key": "dep-0000001"}).status_code == 200
    assert _cassettes(kiosk) == cassettes  # deposits go to a separate bin
    for index in range(11):
        menu.post("withdrawals", {"amount": "10", "idempotency_key": f"st-{index:08d}"})
    statement = menu.get("statement").json()
    assert len(statement) == 10
    assert statement[0]["kind"] == "withdrawal" and statement[0]["balance_after"] == "540.00"


def test_end_session(menu):
    body = menu.post("end").json()
    assert body["state"] == "ended" and body["end_reason"] == "customer"
    assert menu.get("balance").status_code == 409


@pytest.mark.parametrize(
    ("cassettes", "amount"),
    [
        ({50: 100, 20: 100, 10: 100}, "2500"),  # more notes than the dispenser hands out at once
        ({50: 2, 20: 0, 10: 0}, "600"),  # more than the kiosk holds
        ({50: 20, 20: 0, 10: 0}, "560"),  # not payable with the notes present
    ],
)
def test_more_than_the_balance_is_insufficient_funds_whatever_the_kiosk_holds(
    menu, kiosk, alice_card, cassettes, amount, settings
):
    settings.LANGUAGE_CODE = "en"
    for value, count in cassettes.items():
        Cassette.objects.filter(kiosk=kiosk, denomination=value).update(count=count)
    response = menu.post("withdrawals", {"amount": amount, "idempotency_key": "funds-000001"})
    assert (response.status_code, response.json()["code"]) == (409, "insufficient_funds")
    assert "paid out" not in response.json()["detail"]
    assert Transaction.objects.count() == 0
    assert _cassettes(kiosk) == cassettes


def test_more_than_todays_limit_is_the_daily_limit_whatever_the_kiosk_holds(menu, kiosk, alice_card):
    BankAccount.objects.filter(pk=alice_card.account_id).update(
        balance=Decimal("5000.00"), daily_withdrawal_limit=Decimal("300.00")
    )
    Cassette.objects.filter(kiosk=kiosk).update(count=1)  # 80 in the kiosk
    response = menu.post("withdrawals", {"amount": "400", "idempotency_key": "limit-00001"})
    assert (response.status_code, response.json()["code"]) == (409, "daily_limit")


def test_insufficient_funds_is_said_in_russian(menu, kiosk, alice_card):
    response = menu.client.post(
        f"/api/kiosk/sessions/{menu.sid}/withdrawals/",
        {"amount": "2500", "idempotency_key": "funds-ru-0001"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="ru",
    )
    assert response.json()["detail"] == "Недостаточно средств."
