"""Cross-site posts with the kiosk cookie or a staff session are refused, and markup in names is escaped
wherever it is shown."""

from __future__ import annotations

import io

import pytest
from django.test import Client

from accounts.models import Customer
from kiosk.models import KioskProvisioningCode
from kiosk.services.credentials import (
    kiosk_provisioning_code_create,
)
from tests.kiosk.conftest import card_expiry_of, jpeg_frame

from .helpers import (
    INJECTION_STRINGS,
    assert_nothing_written,
    db_picture,
    refused,
)

pytestmark = pytest.mark.django_db

# --- CSRF: the cookie-authenticated kiosk and the staff forms -----------------------------------------------


@pytest.fixture
def kiosk_browser(kiosk):
    """A browser holding the kiosk cookie (set by the provisioning link), with CSRF checks enforced."""
    _code, raw = kiosk_provisioning_code_create(kiosk=kiosk, actor=None)
    browser = Client(enforce_csrf_checks=True)
    token = browser.get("/kiosk/provision/").context["csrf_token"]
    assert (
        browser.post("/kiosk/provision/", {"code": raw, "csrfmiddlewaretoken": str(token)}).status_code == 302
    )
    return browser


@pytest.fixture
def cookie_session(kiosk_browser, alice_card, alice_pan, face_script):
    """A session the kiosk page started legitimately (cookie + CSRF header): (browser, session body)."""
    csrf = str(kiosk_browser.get("/kiosk/").context["csrf_token"])
    response = kiosk_browser.post(
        "/api/kiosk/sessions/",
        {"card_number": alice_pan, "expiry": card_expiry_of(alice_pan)},
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )
    assert response.status_code == 201
    return kiosk_browser, response.json()


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/api/kiosk/sessions/", {"card_number": "PAN"}),
        ("/api/kiosk/sessions/{sid}/end/", {}),
        ("/api/kiosk/sessions/{sid}/otp/", {}),
        ("/api/kiosk/sessions/{sid}/otp/verify/", {"code": "123456"}),
        ("/api/kiosk/sessions/{sid}/withdrawals/", {"amount": "20", "idempotency_key": "csrf-key-0001"}),
        ("/api/kiosk/sessions/{sid}/deposits/", {"idempotency_key": "csrf-key-0002"}),
        ("/api/kiosk/sessions/{sid}/cash-in/", {"notes": {"20": 1}, "idempotency_key": "csrf-key-0003"}),
        ("/api/kiosk/sessions/{sid}/deposits/cancel/", {}),
    ],
)
def test_cross_site_posts_with_the_kiosk_cookie_arerefused(cookie_session, alice_pan, path, payload):
    browser, session = cookie_session
    payload = {key: alice_pan if value == "PAN" else value for key, value in payload.items()}
    url = path.format(sid=session["id"])
    before = db_picture()
    body = refused(browser.post(url, payload, content_type="application/json"), 403)
    assert "CSRF" in body["detail"]
    # A forged header value is no better than none.
    forged = browser.post(url, payload, content_type="application/json", headers={"X-CSRFToken": "x" * 64})
    refused(forged, 403)
    assert_nothing_written(before)


def test_cross_site_frame_post_with_the_kiosk_cookie_isrefused(cookie_session):
    browser, session = cookie_session
    before = db_picture()
    frame = io.BytesIO(jpeg_frame())
    frame.name = "f.jpg"
    response = browser.post(
        f"/api/kiosk/sessions/{session['id']}/frames/",
        {"frame": frame, "nonce": session["frame_nonce"], "seq": 1},
    )
    refused(response, 403)
    assert_nothing_written(before)


def test_cross_site_provisioning_post_does_not_burn_the_code(kiosk):
    _code, raw = kiosk_provisioning_code_create(kiosk=kiosk, actor=None)
    before = db_picture()
    response = Client(enforce_csrf_checks=True).post("/kiosk/provision/", {"code": raw})
    assert response.status_code == 403
    assert "kiosk_credential" not in response.cookies
    assert KioskProvisioningCode.objects.get().used_at is None
    assert_nothing_written(before)


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/admin/accounts/customer/add/", {"full_name": "Mallory", "phone": "+447700900999"}),
        ("/branch/customers/new/", {"full_name": "Mallory", "phone": "+447700900999", "consent": "on"}),
        ("/branch/customers/{customer}/", {"consent": "on"}),
        ("/api/accounts/customers/", {"full_name": "Mallory", "phone": "+447700900999"}),
        ("/api/accounts/cards/{card}/block/", {"reason": "csrf"}),
        ("/admin/logout/", {}),
    ],
)
def test_cross_site_staff_form_posts_arerefused(administrator, teller, alice_card, path, payload):
    staff = administrator if path.startswith("/admin/") else teller
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff)
    before = db_picture()
    url = path.format(customer=alice_card.customer_id, card=alice_card.pk)
    response = browser.post(url, payload)
    assert response.status_code == 403, (url, response.status_code)
    assert not Customer.objects.filter(full_name="Mallory").exists()
    assert_nothing_written(before)


# --- Markup in names is escaped wherever it is shown ---------------------------------------------------

SCRIPT_NAME = "<script>alert('owned')</script> Eve"


@pytest.fixture
def script_customer(teller_client, administrator):
    response = teller_client.post(
        "/api/accounts/customers/",
        {"full_name": SCRIPT_NAME, "phone": "+447700900777"},
        content_type="application/json",
    )
    assert response.status_code == 201
    return Customer.objects.get(pk=response.json()["id"])


def _escaped(content: bytes) -> None:
    text = content.decode()
    assert "<script>alert(" not in text
    assert "&lt;script&gt;alert(" in text or "\\u003Cscript\\u003E" in text


@pytest.mark.parametrize(
    "path",
    [
        "/admin/accounts/customer/",
        "/admin/accounts/customer/?q=%3Cscript%3E",
        "/admin/accounts/customer/{customer}/change/",
        "/branch/?q=Eve",
        "/branch/customers/{customer}/",
    ],
)
def test_script_in_a_customer_name_is_escaped(script_customer, administrator, teller, path):
    client = Client()
    client.force_login(administrator if path.startswith("/admin/") else teller)
    response = client.get(path.format(customer=script_customer.pk))
    assert response.status_code == 200
    _escaped(response.content)


def test_script_in_a_customer_name_is_escaped_on_the_enrolment_page(script_customer, teller):
    enrolment_capture = pytest.importorskip("biometrics.services.enrolment_capture")
    enrolment_capture.customer_consent_record(customer=script_customer, actor=teller)
    enrolment = enrolment_capture.enrolment_start(customer=script_customer, actor=teller)
    client = Client()
    client.force_login(teller)
    response = client.get(f"/branch/enrolments/{enrolment.pk}/")
    assert response.status_code == 200
    _escaped(response.content)


def test_script_in_names_is_escaped_on_the_kiosk_page(kiosk_browser, kiosk, settings):
    settings.DEBUG = True  # the page then also lists the demo customers' names
    kiosk.name = "<script>alert('kiosk')</script>"
    kiosk.save(update_fields=["name"])
    response = kiosk_browser.get("/kiosk/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "<script>alert(" not in text
    assert "&lt;script&gt;alert(&#x27;kiosk&#x27;)&lt;/script&gt;" in text


@pytest.mark.parametrize("query", INJECTION_STRINGS)
def test_injection_in_the_staff_search_boxes(administrator, teller, alice, query):
    admin = Client()
    admin.force_login(administrator)
    branch = Client()
    branch.force_login(teller)
    for client, url in (
        (admin, "/admin/accounts/customer/"),
        (admin, "/admin/accounts/card/"),
        (admin, "/admin/audit/auditevent/"),
        (branch, "/branch/"),
    ):
        response = client.get(url, {"q": query})
        assert response.status_code in (200, 400), (url, response.status_code)
        assert "<script>alert(" not in response.content.decode()
    assert Customer.objects.count() == 1
