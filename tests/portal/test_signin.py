"""Sign-in to the customer portal: activation, both second factors, no enumeration, lock-out, timeouts,
sign-out everywhere, and customer and staff sessions kept apart."""

from __future__ import annotations

import datetime as dt
import logging

import pyotp
import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from notifications.senders import TestSender
from portal import services
from portal.models import CustomerLogin, PortalCode
from tests.factories import CustomerFactory, UserFactory

from .conftest import PASSWORD, activate, last_code, sign_in

pytestmark = pytest.mark.django_db


def test_teller_action_sends_activation_link_and_shows_it(teller, admin_client_for_teller):
    customer = CustomerFactory(phone="+447700900555")
    response = admin_client_for_teller.post(
        "/admin/accounts/customer/",
        {"action": "activate_online_banking", "_selected_action": [customer.pk]},
    )
    assert response.status_code == 200
    link = response.context["link"]
    assert "/my/activate/" in link and link in response.content.decode()
    assert [m.phone for m in TestSender.outbox] == ["+447700900555"]
    assert link in TestSender.outbox[0].body
    login = CustomerLogin.objects.get(customer=customer)
    token = link.rstrip("/").rsplit("/", 1)[-1]
    assert token not in login.activation_hmac and not login.is_activated
    event = AuditEvent.objects.get(kind="portal.activation_issued")
    assert event.actor_username == teller.username and event.customer_id == customer.pk


@pytest.fixture
def admin_client_for_teller(teller):
    client = Client()
    client.force_login(teller)
    return client


def test_activation_link_sets_password_with_django_validators_and_works_once():
    customer = CustomerFactory(full_name="Carol Cole", phone="+447700900556")
    link = services.portal_activation_issue(customer=customer, actor=None, link_base="http://testserver")
    path = link.removeprefix("http://testserver")
    client = Client()
    weak = client.post(path, {"password": "12345", "password_repeat": "12345"})
    assert weak.status_code == 400 and "too short" in weak.content.decode()
    assert not CustomerLogin.objects.get(customer=customer).is_activated
    done = client.post(path, {"password": PASSWORD, "password_repeat": PASSWORD})
    assert done.status_code == 200 and CustomerLogin.objects.get(customer=customer).is_activated
    assert client.get(path).status_code == 404  # used


def test_activation_link_expires():
    customer = CustomerFactory(phone="+447700900557")
    link = services.portal_activation_issue(customer=customer, actor=None, link_base="http://testserver")
    with time_machine.travel(timezone.now() + dt.timedelta(days=4)):
        assert Client().get(link.removeprefix("http://testserver")).status_code == 404


def test_sign_in_with_whatsapp_code(alice_portal, outbox, caplog):
    client = Client()
    caplog.set_level(logging.DEBUG)
    client.post("/my/sign-in/", {"phone": "07700 900101", "password": PASSWORD})
    code = last_code(outbox)
    assert outbox[-1].phone == "+447700900101"
    stored = PortalCode.objects.get()
    assert code not in stored.code_hmac and len(stored.code_hmac) == 64
    response = client.post("/my/sign-in/code/", {"code": code})
    assert response.status_code == 302 and response.url == "/my/"
    page = client.get("/my/")
    assert page.status_code == 200 and "Alice Archer" in page.content.decode()
    assert code not in caplog.text
    assert AuditEvent.objects.filter(
        kind="portal.signed_in", actor_username=f"customer:{alice_portal['customer'].pk}"
    ).exists()
    # The code works once.
    again = Client()
    again.post("/my/sign-in/", {"phone": "+447700900101", "password": PASSWORD})
    assert again.post("/my/sign-in/code/", {"code": code}).status_code == 400


def test_sign_in_with_authenticator_app(alice_portal, alice_client, outbox):
    page = alice_client.get("/my/settings/authenticator/")
    secret = page.context["secret"]
    assert "<svg" in page.content.decode()
    totp = pyotp.TOTP(secret)
    assert (
        alice_client.post(
            "/my/settings/authenticator/", {"action": "confirm", "code": totp.now()}
        ).status_code
        == 200
    )
    assert CustomerLogin.objects.get(pk=alice_portal["login"].pk).has_totp
    outbox.clear()
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=90)):
        client = Client()
        client.post("/my/sign-in/", {"phone": "+447700900101", "password": PASSWORD})
        assert outbox == []  # an authenticator user gets no WhatsApp code unless they ask
        response = client.post("/my/sign-in/code/", {"code": totp.now()})
        assert response.status_code == 302 and response.url == "/my/"
        # The same authenticator code does not work twice.
        replay = Client()
        replay.post("/my/sign-in/", {"phone": "+447700900101", "password": PASSWORD})
        assert replay.post("/my/sign-in/code/", {"code": totp.now()}).status_code == 400


def test_unknown_number_and_wrong_password_get_the_same_answers(alice_portal, outbox):
    answers = []
    for phone, password in (("+447700900199", PASSWORD), ("+447700900101", "wrong-password-1")):
        client = Client()
        first = client.post("/my/sign-in/", {"phone": phone, "password": password})
        code_page = client.get("/my/sign-in/code/")
        resend = client.post("/my/sign-in/resend/")
        second = client.post("/my/sign-in/code/", {"code": "123456"})
        answers.append(
            (
                first.status_code,
                first.url,
                code_page.status_code,
                resend.status_code,
                second.status_code,
                second.content,
            )
        )
    assert answers[0][:5] == answers[1][:5]
    assert answers[0][5].replace(b"\n", b"") != b"" and _strip_csrf(answers[0][5]) == _strip_csrf(
        answers[1][5]
    )
    assert outbox == []  # nothing is sent for either


def _strip_csrf(body: bytes) -> bytes:
    import re

    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", body)


def test_lockout_after_failed_codes_with_whatsapp_notice(alice_portal, outbox, settings):
    settings.PORTAL_LOCKOUT_FAILURES = 3
    for _ in range(3):
        client = Client()
        client.post("/my/sign-in/", {"phone": "+447700900101", "password": PASSWORD})
        client.post("/my/sign-in/code/", {"code": "000000"})
    login = CustomerLogin.objects.get(pk=alice_portal["login"].pk)
    assert login.locked_until is not None and login.locked_until > timezone.now()
    assert any("locked" in message.body for message in outbox)
    # Even the right password and code are refused while locked, with the same answer.
    client = Client()
    client.post("/my/sign-in/", {"phone": "+447700900101", "password": PASSWORD})
    assert client.post("/my/sign-in/code/", {"code": "000000"}).status_code == 400
    assert AuditEvent.objects.filter(kind="portal.locked").count() == 1


def test_sign_in_is_throttled_per_ip(alice_portal, settings):
    settings.RATELIMIT_PORTAL_SIGNIN = "3/m"
    client = Client()
    statuses = [
        client.post("/my/sign-in/", {"phone": "+447700900101", "password": "x" * 12}).status_code
        for _ in range(4)
    ]
    assert statuses[-1] == 429


def test_idle_session_times_out(alice_client):
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)):
        response = alice_client.get("/my/")
    assert response.status_code == 302 and response.url == "/my/sign-in/"


def test_sign_out_everywhere_ends_other_sessions(alice_portal, alice_client, outbox):
    other = Client()
    sign_in(other, "+447700900101")
    assert other.get("/my/").status_code == 200
    assert alice_client.post("/my/sign-out/", {"everywhere": "1"}).status_code == 200
    assert other.get("/my/").status_code == 302
    assert alice_client.get("/my/").status_code == 302


def test_staff_session_is_not_a_customer_session(alice_portal):
    staff = Client()
    staff.force_login(UserFactory(username="sam_staff", is_superuser=True))
    response = staff.get("/my/")
    assert response.status_code == 302 and response.url == "/my/sign-in/"


def test_customer_session_never_reaches_the_admin(alice_client):
    cookie = alice_client.cookies["portal_session"]
    assert cookie["path"] == "/my/" and cookie["httponly"]
    response = alice_client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response.url
    # Even if the portal cookie were sent to the admin, it is not a staff session.
    raw = Client()
    raw.cookies["sessionid"] = cookie.value
    assert raw.get("/admin/").status_code == 302


def test_codes_are_stored_only_as_hmac(alice_portal, outbox):
    client = Client()
    client.post("/my/sign-in/", {"phone": "+447700900101", "password": PASSWORD})
    code = last_code(outbox)
    values = [str(v) for row in PortalCode.objects.values() for v in row.values()]
    assert not any(code in value for value in values)
    assert not any(code in str(e.data) for e in AuditEvent.objects.all())


def test_reactivation_signs_out_everywhere(alice_portal, alice_client):
    activate(alice_portal["customer"], password="Another-Harbour-2048")
    assert alice_client.get("/my/").status_code == 302


def test_unknown_number_costs_one_password_check_like_a_wrong_password(alice_portal, monkeypatch):
    """No timing assertion: the same work is counted instead (one password hash check, one audit event)."""
    from portal.services import signin

    calls: list[str] = []
    real = signin.check_password

    def counting(password: str, encoded: str) -> bool:
        calls.append(encoded[:4])
        return real(password, encoded)

    monkeypatch.setattr(signin, "check_password", counting)
    work = []
    for phone in ("+447700900199", "+447700900101"):
        calls.clear()
        events = AuditEvent.objects.count()
        assert signin.portal_sign_in_start(phone=phone, password="wrong-password-1") is None
        work.append((len(calls), AuditEvent.objects.count() - events))
    assert work == [(1, 1), (1, 1)]


def test_session_ends_after_its_maximum_age_even_when_active(alice_client, settings):
    settings.PORTAL_SESSION_MAX_S = 120
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=60)):
        assert alice_client.get("/my/").status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=121)):
        response = alice_client.get("/my/")
    assert response.status_code == 302 and response.url == "/my/sign-in/"
