from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_an_absurdly_long_username_is_a_form_error_not_a_500(client):
    response = client.post("/admin/login/", {"username": "u" * 5000, "password": "x"})
    assert response.status_code == 200
    assert "Please enter the correct username" in response.content.decode()


def test_staff_login_is_throttled_after_repeated_failures(client, teller):
    for _ in range(5):
        client.post("/admin/login/", {"username": teller.username, "password": "wrong-password"})
    response = client.post(
        "/admin/login/", {"username": teller.username, "password": "correct-horse-battery"}
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_axes_uses_the_rate_limit_proxy_header(teller, settings):
    """Behind the proxy every login arrives from the proxy's address: django-axes must count per client
    address from the same header as the rate limits (RATELIMIT_IP_META_KEY), or one attacker locks every
    member of staff out and the lock names the proxy."""
    from axes.models import AccessAttempt

    settings.RATELIMIT_IP_META_KEY = "HTTP_X_REAL_IP"
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    attacker = Client(**proxy, HTTP_X_REAL_IP="203.0.113.9")
    for _ in range(5):
        attacker.post("/admin/login/", {"username": teller.username, "password": "wrong-password"})
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.9"}
    locked = attacker.post(
        "/admin/login/", {"username": teller.username, "password": "correct-horse-battery"}
    )
    assert locked.status_code == 429
    # The real teller, through the same proxy from another address, is not locked out.
    colleague = Client(**proxy, HTTP_X_REAL_IP="198.51.100.7")
    response = colleague.post(
        "/admin/login/", {"username": teller.username, "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    assert "_auth_user_id" in colleague.session


def test_staff_login_audit_records_the_client_address(teller, settings):
    from audit.models import AuditEvent

    settings.RATELIMIT_IP_META_KEY = "HTTP_X_REAL_IP"
    Client(REMOTE_ADDR="10.0.0.2", HTTP_X_REAL_IP="203.0.113.9").post(
        "/admin/login/", {"username": teller.username, "password": "wrong-password"}
    )
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.STAFF_LOGIN_FAILED)
    assert event.data["ip"] == "203.0.113.9"
