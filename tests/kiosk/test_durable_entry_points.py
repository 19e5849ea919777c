"""Issue 25, item 4: the kiosk's entry-point services commit on their own (transaction.atomic(durable=True)).

Run inside a caller's transaction they would be wrong: a refusal they commit before raising (a wrong code
counted, a timed-out session closed) would roll back with the caller, and money would move only when the
caller commits. So they refuse to run nested, before writing anything. (pytest-django's per-test
transaction is TestCase's, which durable blocks accept, so the other tests call them as views do.)
"""

from __future__ import annotations

import pytest
from django.db import transaction

from kiosk.models import KioskSession
from kiosk.services import cardless, cash_in, operations, otp, sessions
from tests.kiosk.conftest import card_read_of
from tests.security.helpers import assert_nothing_written, db_picture

pytestmark = pytest.mark.django_db

NESTED = "A durable atomic block cannot be nested within another atomic block."


def test_starting_a_session_inside_a_callers_transaction_is_refused(kiosk, alice_card, alice_pan) -> None:
    before = db_picture()
    with pytest.raises(RuntimeError, match=NESTED), transaction.atomic():
        sessions.session_start(kiosk=kiosk, card_read=card_read_of(alice_pan))
    with pytest.raises(RuntimeError, match=NESTED), transaction.atomic():
        cardless.cardless_session_start(kiosk=kiosk, phone="+447700900001")
    assert_nothing_written(before)
    assert sessions.session_start(kiosk=kiosk, card_read=card_read_of(alice_pan)).is_open


def test_money_and_codes_inside_a_callers_transaction_are_refused(
    driver, alice_card, alice_pan, kiosk
) -> None:
    driver.start(alice_pan)
    driver.verify_face()
    public_id = KioskSession.objects.get().public_id
    before = db_picture()
    calls = [
        lambda: operations.session_withdraw(
            kiosk=kiosk, public_id=public_id, amount=20, idempotency_key="withdraw-key-0001"
        ),
        lambda: cash_in.deposit_open(kiosk=kiosk, public_id=public_id),
        lambda: cash_in.deposit_confirm(kiosk=kiosk, public_id=public_id, idempotency_key="deposit-key-0001"),
        lambda: cash_in.deposit_cancel(kiosk=kiosk, public_id=public_id),
        lambda: otp.otp_verify(kiosk=kiosk, public_id=public_id, code="000000"),
    ]
    for call in calls:
        with pytest.raises(RuntimeError, match=NESTED), transaction.atomic():
            call()
    assert_nothing_written(before)
