from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from kiosk.models import KioskCredential, KioskProvisioningCode

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client() -> Client:
    user = get_user_model().objects.create_superuser("root", "root@example.com", "correct-horse-battery")
    client = Client()
    client.force_login(user)
    return client


def test_provisioning_action_shows_the_link_once(superuser_client, kiosk):
    response = superuser_client.post(
        "/admin/kiosk/kiosk/", {"action": "provisioning_link", "_selected_action": [kiosk.pk]}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "/kiosk/provision/" in html
    link = re.search(r'value="(http://testserver/kiosk/provision/#[^"]+)"', html).group(1)
    assert "no-store" in response["Cache-Control"]
    assert KioskProvisioningCode.objects.count() == 1
    path, code = link.replace("http://testserver", "").split("#")
    assert Client().post(path, {"code": code}).status_code == 302
    assert KioskCredential.objects.filter(kiosk=kiosk, revoked_at__isnull=True).count() == 1


def test_revoke_action_asks_first_then_revokes(superuser_client, kiosk, kiosk_token):
    action = {"action": "revoke_credential", "_selected_action": [kiosk.pk]}
    response = superuser_client.post("/admin/kiosk/kiosk/", action)
    assert response.status_code == 200 and "Yes, revoke" in response.content.decode()
    assert KioskCredential.objects.filter(revoked_at__isnull=True).exists()  # nothing until confirmed
    response = superuser_client.post("/admin/kiosk/kiosk/", {**action, "confirm": "yes"}, follow=True)
    assert response.status_code == 200
    assert not KioskCredential.objects.filter(revoked_at__isnull=True).exists()
    messages = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert any(level == "success" and "1 credential(s) revoked" in text for level, text in messages)


def test_revoking_a_kiosk_without_credential_is_a_warning_not_a_success(superuser_client, kiosk):
    response = superuser_client.post(
        "/admin/kiosk/kiosk/",
        {"action": "revoke_credential", "_selected_action": [kiosk.pk], "confirm": "yes"},
        follow=True,
    )
    messages = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert messages == [("warning", f"{kiosk}: had no active credential.")]


def test_rotate_action_and_session_admin_pages(superuser_client, kiosk, kiosk_token):
    response = superuser_client.post(
        "/admin/kiosk/kiosk/", {"action": "rotate_credential", "_selected_action": [kiosk.pk]}
    )
    assert "Kiosk " in response.content.decode()
    assert KioskCredential.objects.filter(revoked_at__isnull=True).count() == 1
    assert superuser_client.get(f"/admin/kiosk/kiosk/{kiosk.pk}/change/").status_code == 200
    assert superuser_client.get("/admin/kiosk/kiosksession/").status_code == 200
