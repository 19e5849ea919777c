"""OTP abuse the kiosk tests do not cover yet: guessing spread over many sessions and kiosks, an old code
after a newer one, and the code's absence from every page, response, log and column
(tests/kiosk/test_otp.py covers the single-session cases: replay, expiry, five wrong entries, send
limits, Twilio failures)."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
import time_machine
from django.apps import apps
from django.db import models
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Card
from audit.models import AuditEvent
from kiosk.models import CardSecurity, OtpCode
from kiosk.services.credentials import kiosk_credential_rotate
from tests.factories import KioskFactory
from tests.kiosk.conftest import KioskDriver

pytestmark = pytest.mark.django_db


def _code(outbox) -> str:
    return re.search(r"\b(\d{6})\b", outbox[-1].body).group(1)


def _wrong(code: str, offset: int) -> str:
    return f"{(int(code) + offset) % 1_000_000:06d}"


def test_a_thousand_guesses_across_sessions_and_kiosks_never_succeed(
    driver, alice_card, alice_pan, face_script, outbox, settings
):
    """An attacker holding the card walks between two kiosks, starting a new session for every code.

    Wrong codes pause the card's code path, each pause longer than the last, instead of blocking the card:
    over ~10 days of trying the attacker gets a few dozen guesses at a million codes, and the card still
    works for its owner's face.
    """
    face_script.play("several_faces")
    _credential, token = kiosk_credential_rotate(kiosk=KioskFactory(name="Second kiosk"), actor=None)
    second = APIClient()
    second.credentials(HTTP_AUTHORIZATION=f"Kiosk {token}")
    drivers = [driver, KioskDriver(second)]
    answers: dict[str, int] = {}
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for guess in range(1000):
            kiosk_driver = drivers[guess % 2]
            # Past the per-card send window each time, so the send limit is not what stops the attacker.
            traveller.shift(dt.timedelta(seconds=settings.OTP_SEND_WINDOW_S + 1))
            assert kiosk_driver.start(alice_pan).status_code == 201
            if kiosk_driver.session["state"] != "face_failed":
                kiosk_driver.frame()
            sent = kiosk_driver.post("otp")
            if sent.status_code != 200:
                answers[sent.json()["code"]] = answers.get(sent.json()["code"], 0) + 1
                continue
            response = kiosk_driver.post("otp/verify", {"code": _wrong(_code(outbox), 1 + guess)})
            answers[response.json().get("code", "ok")] = answers.get(response.json().get("code", "ok"), 0) + 1
            assert response.status_code != 200
    checked = answers.get("otp_wrong", 0) + answers.get("otp_cooldown", 0)
    assert set(answers) == {"otp_wrong", "otp_cooldown", "otp_unavailable"}, answers
    assert checked == OtpCode.objects.count() < 100, answers
    assert answers["otp_cooldown"] == checked // settings.OTP_COOLDOWN_AFTER
    alice_card.refresh_from_db()
    assert alice_card.status == Card.Status.ACTIVE
    assert not OtpCode.objects.filter(used_at__isnull=False).exists()
    security = CardSecurity.objects.get(card=alice_card)
    assert security.otp_cooldown_level == answers["otp_cooldown"]
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.OTP_FAILED).count() == checked
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.CARD_BLOCKED).count() == 0


def test_the_previous_code_stops_working_when_a_new_one_is_sent(
    driver, alice_card, alice_pan, face_script, outbox
):
    face_script.play("several_faces")
    driver.start(alice_pan)
    driver.frame()
    driver.post("otp")
    first = _code(outbox)
    driver.post("otp")
    second = _code(outbox)
    if first == second:
        pytest.skip("the two random codes coincided (1 in a million)")
    response = driver.post("otp/verify", {"code": first})
    assert (response.status_code, response.json()["code"]) == (400, "otp_wrong")
    assert driver.post("otp/verify", {"code": second}).json()["state"] == "verified"
    # And once used, neither works again, in this session or a new one.
    for code in (first, second):
        assert driver.post("otp/verify", {"code": code}).status_code == 409
    driver.start(alice_pan)
    driver.frame()
    driver.post("otp")
    third = _code(outbox)
    for code in {first, second} - {third}:
        assert driver.post("otp/verify", {"code": code}).json()["code"] == "otp_wrong"


def test_an_expired_code_fails_even_in_a_fresh_session_window(
    driver, alice_card, alice_pan, face_script, outbox, settings
):
    settings.KIOSK_IDLE_TIMEOUT_S = settings.KIOSK_SESSION_MAX_S = 3600
    face_script.play("several_faces")
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        driver.start(alice_pan)
        driver.frame()
        driver.post("otp")
        code = _code(outbox)
        traveller.shift(dt.timedelta(seconds=settings.OTP_TTL_S + 1))
        expired = driver.post("otp/verify", {"code": code})
        # Asking for a new code voids the expired one; the expired one still does not work.
        driver.post("otp")
        newer = _code(outbox)
        retry = driver.post("otp/verify", {"code": code}) if code != newer else expired
    assert (expired.status_code, expired.json()["code"]) == (409, "otp_expired")
    assert retry.status_code in (400, 409)
    assert not OtpCode.objects.filter(used_at__isnull=False).exists()


def _text_columns_containing(code: str) -> list[str]:
    hits = []
    for label in ("accounts", "kiosk", "audit", "biometrics"):
        try:
            config = apps.get_app_config(label)
        except LookupError:
            continue
        for model in config.get_models():
            text_fields = [
                f.name
                for f in model._meta.concrete_fields
                if isinstance(f, models.CharField | models.TextField | models.JSONField)
                and f.get_internal_type() in ("CharField", "TextField", "JSONField")
            ]
            for row in model._default_manager.values(*text_fields):
                for name, value in row.items():
                    if code in str(value):
                        hits.append(f"{model._meta.label}.{name}")
    return hits


def test_the_code_appears_in_no_response_page_log_or_column(
    driver, alice_card, alice_pan, face_script, outbox, administrator, auditor, caplog
):
    caplog.set_level(logging.DEBUG)
    face_script.play("several_faces")
    driver.start(alice_pan)
    driver.frame()
    responses = [driver.post("otp")]
    code = _code(outbox)
    responses += [
        driver.post("otp/verify", {"code": _wrong(code, 1)}),
        driver.status(),
        driver.post("otp/verify", {"code": code}),
        driver.get("balance"),
        driver.client.get("/api/kiosk/me/"),
    ]
    for response in responses:
        assert code not in response.content.decode(), response.content
    staff_pages = []
    for user, paths in (
        (
            administrator,
            ["/admin/kiosk/kiosksession/", "/admin/kiosk/cardsecurity/", "/admin/audit/auditevent/"],
        ),
        (auditor, ["/admin/audit/auditevent/?kind=otp.sent", "/admin/audit/auditevent/export/"]),
    ):
        client = Client()
        client.force_login(user)
        for path in paths:
            response = client.get(path)
            if response.status_code == 200:
                staff_pages.append(path)
                content = b"".join(response.streaming_content) if response.streaming else response.content
                assert code not in content.decode(), path
    session_pk = driver.session["id"]
    client = Client()
    client.force_login(administrator)
    from kiosk.models import KioskSession

    change = client.get(
        f"/admin/kiosk/kiosksession/{KioskSession.objects.get(public_id=session_pk).pk}/change/"
    )
    assert change.status_code == 200 and code not in change.content.decode()
    assert len(staff_pages) >= 3
    assert code not in caplog.text
    assert _text_columns_containing(code) == [] or all(
        # Six digits can occur by chance inside a hash or a uuid; never as a clear value.
        name.endswith(("hash", "_hmac", "sha256", "public_id", "frame_nonce", "prev_hash"))
        for name in _text_columns_containing(code)
    )
