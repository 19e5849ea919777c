"""WhatsApp OTP fallback: send, verify, expiry, replay, wrong codes, send limits, Twilio failures."""

from __future__ import annotations

import datetime as dt
import logging
import re
from unittest import mock

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Card
from audit.models import AuditEvent
from kiosk.models import OtpCode

pytestmark = pytest.mark.django_db


def _code(outbox) -> str:
    return re.search(r"\b(\d{6})\b", outbox[-1].body).group(1)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


@pytest.fixture
def failed(driver, alice_card, alice_pan, face_script):
    face_script.play("several_faces")
    driver.start(alice_pan)
    driver.frame()
    assert driver.session["state"] == "face_failed"
    return driver


def test_otp_is_sent_to_the_owner_and_verifies(failed, outbox, alice, caplog):
    caplog.set_level(logging.DEBUG)
    response = failed.post("otp")
    assert response.status_code == 200
    assert response.json()["state"] == "otp_sent"
    assert len(outbox) == 1
    assert outbox[0].phone == alice.phone
    code = _code(outbox)
    assert code not in response.content.decode()
    row = OtpCode.objects.get()
    assert code not in row.code_hmac and len(row.code_hmac) == 64
    verified = failed.post("otp/verify", {"code": code})
    assert verified.status_code == 200
    assert verified.json()["state"] == "verified"
    assert code not in verified.content.decode()
    assert code not in caplog.text
    assert not AuditEvent.objects.filter(data__icontains=code).exists()
    assert failed.get("balance").status_code == 200


def test_otp_replay_is_refused(failed, outbox):
    failed.post("otp")
    code = _code(outbox)
    assert failed.post("otp/verify", {"code": code}).status_code == 200
    response = failed.post("otp/verify", {"code": code})
    assert response.status_code == 409
    assert response.json()["code"] == "wrong_state"


def test_otp_expires_after_five_minutes(failed, outbox, settings):
    # Longer session limits so that only the code's own 5-minute validity is in play.
    settings.KIOSK_IDLE_TIMEOUT_S, settings.KIOSK_SESSION_MAX_S = 900, 900
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        failed.post("otp")
        code = _code(outbox)
        traveller.shift(dt.timedelta(seconds=299))
        assert failed.status().json()["state"] == "otp_sent"
        traveller.shift(dt.timedelta(seconds=2))
        response = failed.post("otp/verify", {"code": code})
    assert (response.status_code, response.json()["code"]) == (409, "otp_expired")
    assert OtpCode.objects.get().used_at is None


def test_code_expiry_within_a_live_session(failed, outbox, settings):
    settings.OTP_TTL_S = 30
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        failed.post("otp")
        code = _code(outbox)
        traveller.shift(dt.timedelta(seconds=31))
        response = failed.post("otp/verify", {"code": code})
    assert (response.status_code, response.json()["code"]) == (409, "otp_expired")


def test_five_wrong_codes_void_the_code(failed, outbox, settings):
    settings.OTP_COOLDOWN_AFTER = 10  # the code's own limit, not the card's code-path pause, is tested here
    failed.post("otp")
    code = _code(outbox)
    answers = [failed.post("otp/verify", {"code": _wrong(code)}).json()["code"] for _ in range(5)]
    assert answers == ["otp_wrong"] * 4 + ["otp_voided"]
    response = failed.post("otp/verify", {"code": code})
    assert response.json()["code"] == "otp_expired"
    assert failed.status().json()["state"] == "otp_sent"
    assert OtpCode.objects.get().voided_at is not None


def test_a_thousand_guesses_never_succeed_and_only_pause_the_code_path(failed, outbox, alice_card, settings):
    settings.RATELIMIT_ENABLE = False  # the per-kiosk request limits are tested in tests/security
    failed.post("otp")
    code = _code(outbox)
    answers: dict[str, int] = {}
    for guess in range(1000):
        attempt = f"{guess:06d}"
        if attempt == code:
            continue
        answer = failed.post("otp/verify", {"code": attempt}).json().get("code", "ok")
        answers[answer] = answers.get(answer, 0) + 1
    # The 5th wrong code pauses the code path; every later guess is refused unchecked during the pause.
    assert answers == {
        "otp_wrong": settings.OTP_COOLDOWN_AFTER - 1,
        "otp_cooldown": 1000 - settings.OTP_COOLDOWN_AFTER + 1,
    }
    alice_card.refresh_from_db()
    assert alice_card.status == Card.Status.ACTIVE
    assert OtpCode.objects.filter(used_at__isnull=False).count() == 0
    assert OtpCode.objects.get().failed_attempts == settings.OTP_COOLDOWN_AFTER


def test_otp_of_another_session_does_not_work(driver, alice_card, alice_pan, face_script, outbox):
    face_script.play("several_faces")
    driver.start(alice_pan)
    driver.frame()
    driver.post("otp")
    alice_code = _code(outbox)
    first = driver.sid
    driver.start(alice_pan)  # a new session at the same kiosk: the old one ends
    driver.frame()
    driver.post("otp")
    second_code = _code(outbox)
    if second_code == alice_code:
        pytest.skip("the two random codes coincided (1 in a million)")
    response = driver.post("otp/verify", {"code": alice_code})
    assert response.json()["code"] == "otp_wrong"
    assert first != driver.sid


def test_at_most_three_sends_per_card_in_fifteen_minutes(failed, outbox, alice_pan):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _ in range(3):
            assert failed.post("otp").status_code == 200
            traveller.shift(dt.timedelta(seconds=20))
        response = failed.post("otp")
        assert (response.status_code, response.json()["code"]) == (429, "otp_rate_limited")
        assert len(outbox) == 3
        # The limit is per card: a new session for the same card does not reset it.
        failed.start(alice_pan)
        failed.frame()
        assert failed.post("otp").status_code == 429
        traveller.shift(dt.timedelta(minutes=15))
        failed.start(alice_pan)
        failed.frame()
        assert failed.post("otp").status_code == 200
    assert len(outbox) == 4


def test_no_otp_before_the_face_check_failed(driver, alice_card, alice_pan, outbox):
    driver.start(alice_pan)
    assert driver.post("otp").status_code == 409
    assert outbox == [] and OtpCode.objects.count() == 0


def test_twilio_failure_changes_nothing(failed, outbox, settings, alice_card, caplog):
    from twilio.base.exceptions import TwilioRestException

    settings.OTP_SENDER = "twilio"
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    settings.TWILIO_AUTH_TOKEN = "token"
    settings.TWILIO_WHATSAPP_FROM = "+14155238886"
    caplog.set_level(logging.DEBUG)
    client = mock.MagicMock()
    client.messages.create.side_effect = TwilioRestException(503, "https://api.twilio.com", "down")
    with mock.patch("twilio.rest.Client", return_value=client) as factory:
        response = failed.post("otp")
    assert response.status_code == 503
    assert response.json()["code"] == "otp_send_failed"
    assert OtpCode.objects.count() == 0
    assert failed.status().json()["state"] == "face_failed"
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.OTP_SEND_FAILED).count() == 1
    kwargs = client.messages.create.call_args.kwargs
    assert kwargs["to"] == "whatsapp:+447700900001"
    assert kwargs["from_"] == "whatsapp:+14155238886"
    assert factory.call_args.kwargs["http_client"].timeout == settings.TWILIO_TIMEOUT_S
    sent_code = re.search(r"\b(\d{6})\b", kwargs["body"]).group(1)
    assert sent_code not in caplog.text
    # The failed send did not use the quota: three real sends still go through.
    settings.OTP_SENDER = "test"
    for _ in range(3):
        assert failed.post("otp").status_code == 200


def test_twilio_timeout_is_a_clear_refusal(failed, settings):
    import requests

    settings.OTP_SENDER = "twilio"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "AC" + "1" * 32, "token"
    settings.TWILIO_WHATSAPP_FROM = "whatsapp:+14155238886"
    client = mock.MagicMock()
    client.messages.create.side_effect = requests.Timeout("read timeout")
    with mock.patch("twilio.rest.Client", return_value=client):
        response = failed.post("otp")
    assert (response.status_code, response.json()["code"]) == (503, "otp_send_failed")
    assert OtpCode.objects.count() == 0


def test_console_sender_is_refused_without_debug(settings):
    from django.core.exceptions import ImproperlyConfigured

    from notifications.senders import ConsoleSender

    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured):
        ConsoleSender()


def test_console_sender_logs_in_development(settings, caplog):
    from notifications.senders import ConsoleSender

    settings.DEBUG = True
    caplog.set_level(logging.WARNING, logger="notifications.senders")
    ConsoleSender().send(phone="+447700900001", body="code 123456")
    assert "123456" in caplog.text
