"""Four eyes at the kiosk: a single teller cannot take over an account; after an approved phone
change the old number is told and no code is sent for a while."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from kiosk.models import OtpCode
from tests.factories import make_pan
from tests.support.admin_forms import admin_form_data

pytestmark = pytest.mark.django_db

NEW_PHONE = "+447700966666"
TELLER_PAN = make_pan(6666)


def _approved_phone_change(customer, teller, administrator, django_capture_on_commit_callbacks):
    from accounts.approvals import services as approvals

    change = approvals.phone_change_propose(customer=customer, phone=NEW_PHONE, actor=teller)
    with django_capture_on_commit_callbacks(execute=True):
        approvals.change_request_approve(change_request=change, actor=administrator)


def test_the_old_number_gets_a_notice_and_no_code_is_sent_within_24h(
    driver,
    alice_card,
    alice_pan,
    face_script,
    outbox,
    teller,
    administrator,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.KIOSK_IDLE_TIMEOUT_S = settings.KIOSK_SESSION_MAX_S = 10**6
    alice = alice_card.customer
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        _approved_phone_change(alice, teller, administrator, django_capture_on_commit_callbacks)
        assert [message.phone for message in outbox] == [
            "+447700900001",
            NEW_PHONE,
        ]  # the old number, then the new
        assert "0001" not in outbox[0].body or "6666" in outbox[0].body
        outbox.clear()
        traveller.shift(dt.timedelta(hours=23, minutes=59))
        face_script.play("several_faces")
        driver.start(alice_pan)
        driver.frame()
        refused = driver.post("otp")
        assert (refused.status_code, refused.json()["code"]) == (403, "otp_unavailable")
        assert outbox == [] and not OtpCode.objects.exists()
        traveller.shift(dt.timedelta(minutes=2))
        driver.start(alice_pan)
        driver.frame()
        assert driver.post("otp").status_code == 200
        assert [message.phone for message in outbox] == [NEW_PHONE]


def test_a_single_teller_can_no_longer_take_over_the_account(
    client, teller, driver, alice_card, alice_pan, face_script, outbox, kiosk
):
    """The finding re-created: the phone, a card, two faces at the kiosk, the code on the teller's phone."""
    alice = alice_card.customer
    client.force_login(teller)
    url = reverse("admin:accounts_customer_change", args=[alice.pk])
    client.post(url, admin_form_data(client, url, phone=NEW_PHONE, change_reason="new SIM"), follow=True)
    client.post(
        reverse("admin:accounts_card_add"),
        {
            "customer": alice.pk,
            "account": alice_card.account_id,
            "pan": TELLER_PAN,
            "expires_on": "2031-01-31",
        },
    )
    assert driver.start(TELLER_PAN).status_code == 404  # the teller's card was never issued
    face_script.play("several_faces")
    driver.start(alice_pan)
    driver.frame()
    driver.post("otp")
    assert all(message.phone != NEW_PHONE for message in outbox)
    assert alice_card.account.transactions.count() == 0
