"""The /branch/ portal: who may reach it, customer creation with consent, the camera page, the API schema."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import Customer
from audit.models import AuditEvent
from biometrics.models import Enrolment
from tests.factories import CustomerFactory, UserFactory


def test_anonymous_is_sent_to_login(client):
    answer = client.get(reverse("branch:home"))
    assert answer.status_code == 302 and "/admin/login/" in answer["Location"]


def test_auditor_is_refused(client, auditor):
    client.force_login(auditor)
    assert client.get(reverse("branch:home")).status_code == 403
    customer = CustomerFactory()
    assert client.post(reverse("branch:customer", args=[customer.pk]), {"consent": "on"}).status_code == 403
    assert not Enrolment.objects.exists()


def test_staff_without_role_is_refused(client, roles):
    client.force_login(UserFactory(username="no_role"))
    assert client.get(reverse("branch:home")).status_code == 403


def test_teller_searches_customers(client, teller):
    CustomerFactory(full_name="Alice Archer", phone="+447700900001")
    client.force_login(teller)
    answer = client.get(reverse("branch:home"), {"q": "archer"})
    assert answer.status_code == 200
    assert "Alice Archer" in answer.content.decode()


def test_teller_creates_customer_with_consent_and_lands_on_the_camera(client, teller):
    client.force_login(teller)
    answer = client.post(
        reverse("branch:customer-create"),
        {"full_name": "Nina New", "phone": "+447700900555", "consent": "on"},
    )
    customer = Customer.objects.get(phone="+447700900555")
    enrolment = Enrolment.objects.get(customer=customer)
    assert answer.status_code == 302 and answer["Location"] == reverse(
        "branch:enrolment", args=[enrolment.pk]
    )
    assert customer.biometric_consent_at is not None and customer.biometric_consent_by == teller
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.CONSENT_RECORDED, customer_id=customer.pk).exists()

    page = client.get(answer["Location"]).content.decode()
    assert 'data-photo-url="/api/biometrics/enrolments/' in page
    assert 'id="enrol-progress" type="application/json"' in page
    assert "branch/enrol.js" in page
    # CSP script-src 'self': the only script elements are external files (json_script is data, not code).
    scripts = re.findall(r"<script([^>]*)>", page)
    assert scripts and all("src=" in attrs or "application/json" in attrs for attrs in scripts)


def test_customer_without_consent_cannot_start(client, teller):
    client.force_login(teller)
    answer = client.post(
        reverse("branch:customer-create"), {"full_name": "Olly Optout", "phone": "+447700900556"}
    )
    customer = Customer.objects.get(phone="+447700900556")
    assert answer.status_code == 302 and answer["Location"] == reverse("branch:customer", args=[customer.pk])
    refused = client.post(reverse("branch:customer", args=[customer.pk]), {})
    assert refused.status_code == 400
    assert "consent" in refused.content.decode()
    assert not Enrolment.objects.filter(customer=customer).exists()


def test_invalid_phone_is_a_form_error(client, teller):
    client.force_login(teller)
    answer = client.post(
        reverse("branch:customer-create"), {"full_name": "X", "phone": "12345", "consent": "on"}
    )
    assert answer.status_code == 400
    assert "8 (916) 555-12-34" in answer.content.decode()  # the refusal shows the forms it takes
    assert not Customer.objects.exists()


def test_auditor_cannot_use_the_enrolment_api(client, auditor):
    customer = CustomerFactory()
    client.force_login(auditor)
    answer = client.post(reverse("biometrics:enrolment-start"), {"customer": customer.pk})
    assert answer.status_code == 403
    answer = client.post(reverse("biometrics:revoke", args=[customer.pk]))
    assert answer.status_code == 403


def test_schema_documents_the_enrolment_api(client, administrator):
    client.force_login(administrator)
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/json").content.decode()
    for path in (
        "/api/biometrics/enrolments/",
        "/api/biometrics/enrolments/{enrolment_id}/photos/",
        "/api/biometrics/enrolments/{enrolment_id}/submit/",
        "/api/biometrics/customers/{customer_id}/consent/",
    ):
        assert path in schema


@pytest.mark.parametrize("name", ["branch/enrol.js", "branch/branch.css"])
def test_static_assets_exist(name):
    from django.contrib.staticfiles import finders

    assert finders.find(name)


def _kept_photo(enrolment: Enrolment, colour: tuple[int, int, int] = (200, 120, 90)) -> object:
    import hashlib
    import io

    from PIL import Image

    from biometrics.services.enrolment_capture import _photo_store

    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(buffer, format="JPEG")
    data = buffer.getvalue()
    return _photo_store(enrolment=enrolment, data=data, digest=hashlib.sha256(data).hexdigest(), quality={})


def _consenting_enrolment(teller: object) -> Enrolment:
    from biometrics.services import enrolment_capture

    customer = CustomerFactory()
    enrolment_capture.customer_consent_record(customer=customer, actor=teller)
    return enrolment_capture.enrolment_start(customer=customer, actor=teller, photos_required=3)


def test_kept_photo_thumbnail_is_decrypted_for_the_teller_and_never_cached(
    client, teller, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    enrolment = _consenting_enrolment(teller)
    photo = _kept_photo(enrolment)
    client.force_login(teller)
    url = reverse("branch:enrolment-photo-thumbnail", args=[enrolment.pk, photo.pk])

    answer = client.get(url)

    assert answer.status_code == 200
    assert answer["Content-Type"] == "image/jpeg"
    assert answer.content.startswith(b"\xff\xd8")
    assert "no-store" in answer["Cache-Control"]
    # On disk it stays ciphertext: no JPEG header anywhere under the media folder.
    assert all(
        not path.read_bytes().startswith(b"\xff\xd8") for path in tmp_path.rglob("*") if path.is_file()
    )
    status = client.get(reverse("biometrics:enrolment", args=[enrolment.pk])).json()
    assert status["kept_photo_ids"] == [photo.pk]


def test_kept_photo_thumbnail_needs_the_role_and_the_right_enrolment(
    client, teller, auditor, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    enrolment = _consenting_enrolment(teller)
    photo = _kept_photo(enrolment)
    other = _consenting_enrolment(teller)
    client.force_login(auditor)
    assert (
        client.get(reverse("branch:enrolment-photo-thumbnail", args=[enrolment.pk, photo.pk])).status_code
        == 403
    )
    client.force_login(teller)
    wrong = reverse("branch:enrolment-photo-thumbnail", args=[other.pk, photo.pk])
    assert client.get(wrong).status_code == 404
    client.logout()
    assert (
        client.get(reverse("branch:enrolment-photo-thumbnail", args=[enrolment.pk, photo.pk])).status_code
        == 302
    )


def test_consent_on_file_is_not_asked_again(client, teller):
    from biometrics.services import enrolment_capture

    customer = CustomerFactory()
    enrolment_capture.customer_consent_record(customer=customer, actor=teller)
    client.force_login(teller)
    page = client.get(reverse("branch:customer", args=[customer.pk])).content.decode()
    assert 'name="consent"' not in page and "Consent is on file" in page

    answer = client.post(reverse("branch:customer", args=[customer.pk]), {})

    assert answer.status_code == 302
    assert Enrolment.objects.filter(customer=customer, status=Enrolment.Status.CAPTURING).exists()


def test_branch_pages_link_the_account_and_card_flow(client, teller):
    customer = CustomerFactory()
    client.force_login(teller)
    assert reverse("admin:accounts_customer_onboard") in client.get(reverse("branch:home")).content.decode()
    page = client.get(reverse("branch:customer", args=[customer.pk])).content.decode()
    assert reverse("admin:accounts_customer_onboard_account", args=[customer.pk]) in page
