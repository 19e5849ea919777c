"""Deposits credit only notes counted by the cash-in module (its signed reports), held in escrow until the
customer confirms on the kiosk."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from accounts import services
from accounts.models import BankAccount, Transaction
from audit.models import AuditEvent
from kiosk.models import CashInBin, Cassette, DepositEscrow
from tests.kiosk.conftest import deposit_counted
from tests.security.helpers import assert_nothing_written, db_picture

pytestmark = pytest.mark.django_db


@pytest.fixture
def menu(driver, alice_card, alice_pan, cash_in_module):
    driver.start(alice_pan)
    driver.verify_face()
    driver.module = cash_in_module
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


def _bin(kiosk) -> dict[int, int]:
    return {
        value: count
        for value, count in CashInBin.objects.filter(kiosk=kiosk).values_list("denomination", "count")
        if count
    }


def _cassettes(kiosk) -> dict[int, int]:
    return dict(Cassette.objects.filter(kiosk=kiosk).values_list("denomination", "count"))


def _cash_in(menu, notes, key="deposit-key-0001"):
    return deposit_counted(menu, menu.module, notes, key)


def test_counted_notes_are_credited_only_when_the_customer_confirms(menu, kiosk, alice_card):
    cassettes = _cassettes(kiosk)
    response = _cash_in(menu, {"50": 2, "20": 1})
    assert response.status_code == 201
    escrow = response.json()
    assert (escrow["total"], escrow["currency"], escrow["note_count"]) == ("120.00", "EUR", 3)
    assert escrow["notes"] == [{"denomination": 50, "count": 2}, {"denomination": 20, "count": 1}]
    # Counted into escrow: not money yet.
    assert _balance(alice_card) == Decimal("500.00")
    assert _bin(kiosk) == {} and not Transaction.objects.exists()

    response = menu.post("deposits", {"idempotency_key": escrow["idempotency_key"]})
    assert response.status_code == 201
    assert (response.json()["amount"], response.json()["balance_after"]) == ("120.00", "620.00")
    assert response.json()["notes"] == [{"denomination": 50, "count": 2}, {"denomination": 20, "count": 1}]
    assert _balance(alice_card) == Decimal("620.00")
    assert _bin(kiosk) == {50: 2, 20: 1}
    assert _cassettes(kiosk) == cassettes  # deposited notes go to the bin, not to the dispenser
    entry = Transaction.objects.get()
    assert (entry.kind, entry.amount, entry.details["notes"]) == (
        "deposit",
        Decimal("120"),
        {"50": 2, "20": 1},
    )
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.DEPOSIT)
    assert event.data["notes"] == {"50": 2, "20": 1} and event.data["amount"] == "120.00"
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.DEPOSIT_ESCROWED).count() == 1

    # A retried confirm answers the first receipt and writes nothing.
    before = db_picture()
    retry = menu.post("deposits", {"idempotency_key": escrow["idempotency_key"]})
    assert (retry.status_code, retry.json()["repeated"], retry.json()["transaction_id"]) == (
        200,
        True,
        entry.pk,
    )
    assert_nothing_written(before)
    # A second confirm of an escrow that is no longer there: 409, nothing written.
    second = menu.post("deposits", {"idempotency_key": "another-key-0002"})
    assert (second.status_code, second.json()["code"]) == (409, "deposit_no_escrow")
    assert _bin(kiosk) == {50: 2, 20: 1}
    assert_nothing_written(before)


def test_cancel_returns_the_notes_and_credits_nothing(menu, kiosk, alice_card):
    escrow = _cash_in(menu, {"100": 1, "5": 3}).json()
    response = menu.post("deposits/cancel")
    assert response.status_code == 200 and response.json()["total"] == "115.00"
    assert _balance(alice_card) == Decimal("500.00")
    assert _bin(kiosk) == {} and not Transaction.objects.exists()
    cancelled = AuditEvent.objects.get(kind=AuditEvent.Kind.DEPOSIT_CANCELLED)
    assert cancelled.data["notes_returned"] == {"100": 1, "5": 3}
    before = db_picture()
    late = menu.post("deposits", {"idempotency_key": escrow["idempotency_key"]})
    assert (late.status_code, late.json()["code"]) == (409, "deposit_no_escrow")
    assert menu.post("deposits/cancel").status_code == 409
    assert_nothing_written(before)


def test_confirm_without_escrow_is_refused(menu, kiosk):
    menu.get("balance")
    before = db_picture()
    response = menu.post("deposits", {"idempotency_key": "no-escrow-0001"})
    assert (response.status_code, response.json()["code"]) == (409, "deposit_no_escrow")
    assert_nothing_written(before)


def test_confirm_after_the_session_ended_credits_nothing(menu, kiosk, alice_card):
    escrow = _cash_in(menu, {"50": 1}).json()
    assert menu.post("end").status_code == 200
    response = menu.post("deposits", {"idempotency_key": escrow["idempotency_key"]})
    assert (response.status_code, response.json()["code"]) == (409, "session_ended")
    assert _balance(alice_card) == Decimal("500.00")
    assert _bin(kiosk) == {} and not Transaction.objects.exists()


def test_confirm_after_the_session_timed_out_credits_nothing(menu, kiosk, alice_card, settings):
    escrow = _cash_in(menu, {"50": 1}).json()
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=settings.KIOSK_IDLE_TIMEOUT_S + 5)):
        response = menu.post("deposits", {"idempotency_key": escrow["idempotency_key"]})
    assert response.status_code == 409
    assert response.json()["code"] in {"session_ended", "session_timeout"}
    assert _balance(alice_card) == Decimal("500.00")
    assert _bin(kiosk) == {} and not Transaction.objects.exists()


@pytest.mark.parametrize(
    ("notes", "key", "code"),
    [
        ({"30": 1}, None, "deposit_denomination"),
        ({"1000": 1}, None, "deposit_denomination"),
        ({"abc": 1}, None, "deposit_denomination"),
        ({"-50": 1}, None, "deposit_denomination"),
        ({"50.0": 1}, None, "deposit_denomination"),
        ({"²": 1}, None, "deposit_denomination"),
        ({"٥٠": 1}, None, "deposit_denomination"),
        ({"50": 0}, None, "deposit_no_notes"),
        ({"50": -1}, None, "deposit_count_invalid"),
        ({"50": 101}, None, "deposit_too_many_notes"),
        ({"50": 10**30}, None, "deposit_too_many_notes"),
        ({"50": 1.5}, None, "deposit_count_invalid"),
        ({"50": "1e400"}, None, "deposit_count_invalid"),
        ({"50": "NaN"}, None, "deposit_count_invalid"),
        ({"50": None}, None, "deposit_count_invalid"),
        ({"50": True}, None, "deposit_count_invalid"),
        ({}, None, "deposit_no_notes"),
        ([], None, "deposit_no_notes"),
        ("120", None, "deposit_no_notes"),
        (None, None, "deposit_no_notes"),
        ({"50": 1}, "short", "idempotency_key"),
    ],
)
def test_counted_notes_are_validated_and_refusals_write_nothing(menu, kiosk, notes, key, code):
    assert menu.post("deposits/open").status_code == 200
    before = db_picture()
    response = menu.module.report(notes, key or "bad-notes-0001", session=menu.sid)
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == code
    assert not DepositEscrow.objects.exclude(idempotency_key="").exists()
    assert_nothing_written(before)


@pytest.mark.parametrize(
    ("limits", "notes", "status", "code"),
    [
        ({"KIOSK_DEPOSIT_MAX_NOTES": 3}, {"5": 2, "10": 2}, 400, "deposit_too_many_notes"),
        ({"KIOSK_DEPOSIT_MAX_AMOUNT": Decimal("100.00")}, {"50": 2, "5": 1}, 400, "deposit_amount_limit"),
        ({"ACCOUNT_MAX_TRANSACTION": Decimal("100.00")}, {"200": 1}, 400, "deposit_amount_limit"),
        ({"ACCOUNT_MAX_BALANCE": Decimal("600.00")}, {"100": 1, "5": 1}, 409, "balance_limit"),
        ({"KIOSK_DEPOSITS_PER_DAY": 0}, {"50": 1}, 409, "deposit_daily_count"),
    ],
)
def test_deposit_limits_refuse_and_write_nothing(menu, settings, limits, notes, status, code):
    for name, value in limits.items():
        setattr(settings, name, value)
    menu.get("balance")
    # Opening the deposit is a write of its own (the session's DepositEscrow row); the refused count is not.
    assert menu.post("deposits/open").status_code == 200
    before = db_picture()
    response = menu.module.report(notes, "deposit-key-0001", session=menu.sid)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert_nothing_written(before)


def test_the_daily_deposit_count_is_checked_again_at_confirm(menu, settings, alice_card):
    settings.KIOSK_DEPOSITS_PER_DAY = 1
    first = _cash_in(menu, {"20": 1}, key="daily-count-01").json()
    services.deposit_create(account=alice_card.account, amount="10", idempotency_key="teller-dep-01")
    before = db_picture()
    response = menu.post("deposits", {"idempotency_key": first["idempotency_key"]})
    assert (response.status_code, response.json()["code"]) == (409, "deposit_daily_count")
    assert_nothing_written(before)


def test_one_escrow_at_a_time(menu):
    first = _cash_in(menu, {"50": 1}, key="escrow-one-01")
    assert _cash_in(menu, {"50": 1}, key="escrow-one-01").json() == first.json()  # a device agent's retry
    before = db_picture()
    response = _cash_in(menu, {"20": 1}, key="escrow-two-02")
    assert (response.status_code, response.json()["code"]) == (409, "deposit_escrow_held")
    assert_nothing_written(before)


def test_cash_in_needs_a_verified_session(driver, alice_card, alice_pan, cash_in_module):
    driver.start(alice_pan)
    assert driver.post("deposits/open").json()["code"] == "wrong_state"
    response = cash_in_module.report({"50": 1}, "unverified-01", session=driver.sid)
    assert (response.status_code, response.json()["code"]) == (409, "wrong_state")
    assert not DepositEscrow.objects.exclude(idempotency_key="").exists()


def test_kiosk_in_another_currency_refuses(menu, kiosk, settings):
    settings.KIOSK_DEPOSIT_DENOMINATIONS = {"GBP": [5, 10, 20, 50]}
    kiosk.currency = "GBP"
    kiosk.save(update_fields=["currency"])
    menu.get("balance")
    before = db_picture()
    response = menu.post("deposits/open")
    assert (response.status_code, response.json()["code"]) == (409, "currency_mismatch")
    assert_nothing_written(before)


def test_the_kiosk_tells_the_page_which_notes_it_accepts(api):
    body = api.get("/api/kiosk/me/").json()
    assert body["deposit_notes"] == [5, 10, 20, 50, 100, 200, 500]
    assert body["deposit_max_notes"] == 100


def test_notes_left_in_escrow_when_the_session_ends_can_still_be_returned(menu, kiosk, alice_card):
    _cash_in(menu, {"20": 2})
    assert menu.post("end").status_code == 200
    response = menu.post("deposits/cancel")
    assert response.status_code == 200 and response.json()["total"] == "40.00"
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.DEPOSIT_CANCELLED).data["notes_returned"] == {"20": 2}
    assert _balance(alice_card) == Decimal("500.00") and _bin(kiosk) == {}
