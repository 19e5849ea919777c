"""Staff sign-ins, failures, sign-outs and Django admin actions land in the chain."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from audit.selectors import chain_verify
from audit.signals import USERNAME_MAX

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


def test_staff_login_is_recorded(client, teller):
    response = client.post(LOGIN, {"username": teller.username, "password": "correct-horse-battery"})
    assert response.status_code == 302
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.STAFF_LOGIN)
    assert (event.actor_id, event.actor_username, event.outcome) == (teller.pk, teller.username, "success")
    assert event.data["ip"] == "127.0.0.1"


def test_failed_login_records_the_attempted_username_truncated_and_never_the_password(client, teller):
    client.post(LOGIN, {"username": teller.username, "password": "wrong-password-123"})
    long_name = "x" * 200  # under 255: django-axes itself fails on longer names on PostgreSQL
    client.post(LOGIN, {"username": long_name, "password": "wrong-password-123"})
    failed = list(AuditEvent.objects.filter(kind=AuditEvent.Kind.STAFF_LOGIN_FAILED).order_by("seq"))
    assert [event.data["username"] for event in failed] == [teller.username, "x" * USERNAME_MAX]
    assert all(event.actor_id is None and event.outcome == "failure" for event in failed)
    assert all("wrong-password" not in str(event.data) for event in failed)
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.STAFF_LOGIN).exists()


def test_logout_is_recorded(client, teller):
    client.force_login(teller)
    client.post(reverse("admin:logout"))
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.STAFF_LOGOUT)
    assert event.actor_username == teller.username


def test_admin_log_entry_is_mirrored_as_an_admin_action(client, teller):
    client.force_login(teller)
    response = client.post(
        reverse("admin:accounts_customer_add"),
        {
            "full_name": "Dora Dunn",
            "phone": "+447700900888",
            "email": "",
            "is_active": "on",
            "accounts-TOTAL_FORMS": "0",
            "accounts-INITIAL_FORMS": "0",
            "cards-TOTAL_FORMS": "0",
            "cards-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    action = AuditEvent.objects.get(kind=AuditEvent.Kind.ADMIN_ACTION)
    created = AuditEvent.objects.get(kind=AuditEvent.Kind.CUSTOMER_CREATED)
    assert action.actor_username == teller.username
    assert action.data["action"] == "addition" and action.data["model"] == "accounts.customer"
    assert action.customer_id == created.customer_id
    assert action.personal == {"object_repr": "Dora Dunn"}  # names are erasable personal data
    assert chain_verify().ok
