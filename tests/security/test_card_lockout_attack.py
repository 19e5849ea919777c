"""A card number alone can neither block nor lock the card: the attack played the way an attacker would (the
bare number, then with the expiry: a two-face frame, code requests, many wrong codes)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Card
from audit.models import AuditEvent
from kiosk.models import CardSecurity, KioskSession
from kiosk.services.credentials import kiosk_credential_rotate
from tests.factories import KioskFactory
from tests.kiosk.conftest import KioskDriver

pytestmark = pytest.mark.django_db


def _code(outbox) -> str:
    return re.search(r"\b(\d{6})\b", outbox[-1].body).group(1)


def test_anyone_with_the_card_number_cannot_block_or_lock_the_card(
    driver, alice_card, alice_pan, face_script, outbox, settings
):
    # The bare card number, no expiry: refused before any counter moves.
    bare = driver.client.post("/api/kiosk/sessions/", {"card_number": alice_pan}, format="json")
    assert bare.status_code == 400
    assert not KioskSession.objects.exists()

    # Even with the expiry (a skimmed card): a two-face frame, code requests, and many wrong codes.
    face_script.play("several_faces")
    wrong_answers: dict[str, int] = {}
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _round in range(4):
            traveller.shift(dt.timedelta(seconds=settings.OTP_SEND_WINDOW_S + 1))
            if driver.start(alice_pan).status_code != 201:
                continue
            driver.frame()
            if driver.post("otp").status_code != 200:
                continue
            code = _code(outbox)
            for guess in range(20):
                wrong = f"{(int(code) + 1 + guess) % 1_000_000:06d}"
                answer = driver.post("otp/verify", {"code": wrong}).json().get("code", "ok")
                wrong_answers[answer] = wrong_answers.get(answer, 0) + 1
    alice_card.refresh_from_db()
    assert alice_card.status == Card.Status.ACTIVE
    assert "card_blocked" not in wrong_answers
    assert wrong_answers.get("otp_cooldown", 0) >= 1
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.CARD_BLOCKED).count() == 0
    security = CardSecurity.objects.get(card=alice_card)
    assert security.otp_locked_until is not None  # only the code path cooled down
    # The owner can still start a session and use their face.
    face_script.play("match")
    traveller_now = security.otp_locked_until
    with time_machine.travel(traveller_now, tick=False):
        assert driver.start(alice_pan).status_code == 201
        driver.verify_face()


def test_own_face_twice_at_one_kiosk_does_not_block_and_two_kiosks_do(
    driver, alice_card, alice_pan, face_script, settings
):
    face_script.play("mismatch")

    def mismatch_at(kiosk_driver: KioskDriver) -> None:
        with time_machine.travel(timezone.now(), tick=False) as traveller:
            assert kiosk_driver.start(alice_pan).status_code == 201
            kiosk_driver.frame()
            traveller.shift(dt.timedelta(seconds=settings.KIOSK_FACE_TIMEOUT_S + 1))
            kiosk_driver.status()

    mismatch_at(driver)
    mismatch_at(driver)
    alice_card.refresh_from_db()
    assert alice_card.status == Card.Status.ACTIVE

    _credential, token = kiosk_credential_rotate(kiosk=KioskFactory(name="Second kiosk"), actor=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Kiosk {token}")
    mismatch_at(KioskDriver(client))
    alice_card.refresh_from_db()
    assert alice_card.status == Card.Status.BLOCKED
