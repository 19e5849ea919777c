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


def test_revoke_action(superuser_client, kiosk, kiosk_token):
    response = superuser_client.post(
        "/admin/kiosk/kiosk/", {"action": "revoke_credential", "_selected_action": [kiosk.pk]}, follow=True
    )
    assert response.status_code == 200
    assert not KioskCredential.objects.filter(revoked_at__isnull=True).exists()


def test_rotate_action_and_session_admin_pages(superuser_client, kiosk, kiosk_token):
    response = superuser_client.post(
        "/admin/kiosk/kiosk/", {"action": "rotate_credential", "_selected_action": [kiosk.pk]}
    )
    assert "Kiosk " in response.content.decode()
    assert KioskCredential.objects.filter(revoked_at__isnull=True).count() == 1
    assert superuser_client.get(f"/admin/kiosk/kiosk/{kiosk.pk}/change/").status_code == 200
    assert superuser_client.get("/admin/kiosk/kiosksession/").status_code == 200
