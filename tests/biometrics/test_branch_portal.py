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
    assert "E.164" in answer.content.decode()
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
