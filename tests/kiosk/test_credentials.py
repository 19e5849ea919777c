"""Kiosk device credentials: provisioning link, cookie and header auth, revocation, cross-kiosk isolation."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from kiosk.models import Kiosk, KioskCredential, KioskProvisioningCode, KioskSession
from kiosk.services.credentials import (
    kiosk_credential_revoke,
    kiosk_credential_rotate,
    kiosk_provisioning_code_create,
    token_digest,
)
from tests.factories import KioskFactory
from tests.kiosk.conftest import card_expiry_of

pytestmark = pytest.mark.django_db


def test_provisioning_link_sets_a_strict_httponly_cookie_once(kiosk, administrator):
    _code, raw = kiosk_provisioning_code_create(kiosk=kiosk, actor=administrator)
    assert KioskProvisioningCode.objects.get().code_sha256 == token_digest(raw)
    assert not KioskProvisioningCode.objects.filter(code_sha256=raw).exists()
    browser = Client()
    url = "/kiosk/provision/"
    assert browser.get(url).status_code == 200  # a link preview does not use the code
    response = browser.post(url, {"code": raw})
    assert response.status_code == 302
    cookie = response.cookies["kiosk_credential"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert KioskCredential.objects.get(kiosk=kiosk).token_sha256 == token_digest(cookie.value)
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.KIOSK_PROVISIONED, kiosk_id=kiosk.pk).count() == 1
    assert browser.get("/kiosk/").status_code == 200
    # Single use.
    again = Client().post(url, {"code": raw})
    assert again.status_code == 400
    assert "kiosk_credential" not in again.cookies


def test_cookie_is_secure_when_debug_is_off(kiosk, settings):
    settings.DEBUG = False
    _code, raw = kiosk_provisioning_code_create(kiosk=kiosk, actor=None)
    response = Client().post("/kiosk/provision/", {"code": raw})
    assert response.cookies["kiosk_credential"]["secure"]


def test_provisioning_code_expires(kiosk):
    _code, raw = kiosk_provisioning_code_create(kiosk=kiosk, actor=None)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16)):
        response = Client().post("/kiosk/provision/", {"code": raw})
    assert response.status_code == 400
    assert KioskCredential.objects.count() == 0


def test_api_refuses_missing_wrong_and_revoked_credentials(kiosk, kiosk_token, alice_card, alice_pan):
    body = {"card_number": alice_pan, "expiry": card_expiry_of(alice_pan)}
    assert APIClient().post("/api/kiosk/sessions/", body, format="json").status_code == 401
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Kiosk not-a-token")
    assert wrong.post("/api/kiosk/sessions/", body, format="json").status_code == 401
    good = APIClient()
    good.credentials(HTTP_AUTHORIZATION=f"Kiosk {kiosk_token}")
    assert good.get("/api/kiosk/me/").json()["name"] == kiosk.name
    kiosk_credential_revoke(kiosk=kiosk, actor=None)
    assert good.get("/api/kiosk/me/").status_code == 401
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.KIOSK_CREDENTIAL_REVOKED).count() == 1
    assert KioskSession.objects.count() == 0


def test_rotation_replaces_the_credential(kiosk, kiosk_token):
    _credential, new_token = kiosk_credential_rotate(kiosk=kiosk, actor=None)
    old, new = APIClient(), APIClient()
    old.credentials(HTTP_AUTHORIZATION=f"Kiosk {kiosk_token}")
    new.credentials(HTTP_AUTHORIZATION=f"Kiosk {new_token}")
    assert old.get("/api/kiosk/me/").status_code == 401
    assert new.get("/api/kiosk/me/").status_code == 200


@pytest.mark.parametrize("status", [Kiosk.Status.MAINTENANCE, Kiosk.Status.DISABLED])
def test_inactive_kiosk_is_refused(kiosk, kiosk_token, status):
    Kiosk.objects.filter(pk=kiosk.pk).update(status=status)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Kiosk {kiosk_token}")
    assert client.get("/api/kiosk/me/").status_code == 401


def test_staff_session_is_not_a_kiosk_credential(administrator, kiosk):
    client = APIClient()
    client.force_login(administrator)
    assert client.get("/api/kiosk/me/").status_code in (401, 403)


def test_kiosk_page_without_credential_says_not_provisioned(db):
    response = Client().get("/kiosk/")
    assert response.status_code == 403
    assert b"not provisioned" in response.content


def test_another_kiosks_session_is_404(driver, alice_card, alice_pan):
    driver.start(alice_pan)
    other = KioskFactory(name="Other kiosk")
    _credential, token = kiosk_credential_rotate(kiosk=other, actor=None)
    intruder = APIClient()
    intruder.credentials(HTTP_AUTHORIZATION=f"Kiosk {token}")
    base = f"/api/kiosk/sessions/{driver.sid}/"
    assert intruder.get(base).status_code == 404
    assert intruder.post(base + "end/").status_code == 404
    assert intruder.post(base + "otp/").status_code == 404
    assert intruder.get(base + "balance/").status_code == 404
    assert (
        intruder.post(base + "withdrawals/", {"amount": "20", "idempotency_key": "k" * 10}).status_code == 404
    )
    assert KioskSession.objects.get().state == "card_entered"
    assert intruder.get("/api/kiosk/sessions/not-a-uuid/").status_code == 404


def test_cookie_auth_enforces_csrf(kiosk, alice_card, alice_pan, face_script):
    _code, raw = kiosk_provisioning_code_create(kiosk=kiosk, actor=None)
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/kiosk/provision/")
    token = page.context["csrf_token"]
    browser.post("/kiosk/provision/", {"code": raw, "csrfmiddlewaretoken": str(token)})
    refused = browser.post(
        "/api/kiosk/sessions/",
        {"card_number": alice_pan, "expiry": card_expiry_of(alice_pan)},
        content_type="application/json",
    )
    assert refused.status_code == 403
    page = browser.get("/kiosk/")
    csrf = page.context["csrf_token"]
    accepted = browser.post(
        "/api/kiosk/sessions/",
        {"card_number": alice_pan, "expiry": card_expiry_of(alice_pan)},
        content_type="application/json",
        headers={"X-CSRFToken": str(csrf)},
    )
    assert accepted.status_code == 201


def test_provisioning_code_is_not_in_the_url_path(kiosk, settings, monkeypatch, tmp_path, capsys):
    """The code was in the path, so every access log and Referer held it in full. Now it travels in the
    fragment (never sent to the server) and a static script posts it in the body, CSRF-protected."""
    import re
    from urllib.parse import urlsplit

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    page = Client().get("/kiosk/provision/")
    html = page.content.decode()
    assert page.status_code == 200
    assert re.search(r'<script src="/static/kiosk/provision\.js" defer></script>', html)
    assert 'name="code"' in html and 'name="csrfmiddlewaretoken"' in html

    superuser_client = Client()
    superuser_client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "x"))
    admin_page = superuser_client.post(
        "/admin/kiosk/kiosk/", {"action": "provisioning_link", "_selected_action": [kiosk.pk]}
    )
    link = re.search(r'value="(http://testserver/kiosk/provision/[^"]*)"', admin_page.content.decode())
    assert link is not None
    parts = urlsplit(link.group(1))
    assert parts.path == "/kiosk/provision/" and not parts.query
    raw = parts.fragment
    assert len(raw) >= 32
    assert KioskProvisioningCode.objects.filter(code_sha256=token_digest(raw), used_at__isnull=True).exists()

    browser = Client(enforce_csrf_checks=True)
    assert browser.post("/kiosk/provision/", {"code": raw}).status_code == 403  # no CSRF token: not burnt
    csrf = browser.get("/kiosk/provision/").context["csrf_token"]
    response = browser.post("/kiosk/provision/", {"code": raw, "csrfmiddlewaretoken": str(csrf)})
    assert response.status_code == 302 and response["Location"] == "/kiosk/"
    assert raw not in response["Location"]
    # The old form of the link, with the code in the path, no longer exists.
    assert Client().get(f"/kiosk/provision/{raw}/").status_code == 404

    settings.DEBUG = True  # seed_demo is for development only
    settings.ATM_FACES_DIR = tmp_path / "no-faces"
    call_command("seed_demo")
    printed = capsys.readouterr().out
    seeded = re.search(r"(http://127\.0\.0\.1:8000/kiosk/provision/\S*)", printed)
    assert seeded is not None
    assert urlsplit(seeded.group(1)).path == "/kiosk/provision/" and urlsplit(seeded.group(1)).fragment


def test_provisioning_page_does_not_echo_the_code(kiosk):
    _code, raw = kiosk_provisioning_code_create(kiosk=kiosk, actor=None)
    wrong = Client().post("/kiosk/provision/", {"code": raw[:-2] + "xx"})
    assert wrong.status_code == 400
    assert raw[:-2].encode() not in wrong.content
    assert Client().post("/kiosk/provision/", {"code": "x" * 5000}).status_code == 400
    assert Client().post("/kiosk/provision/", {}).status_code == 400
