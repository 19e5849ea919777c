"""Issue 23 item 3: the phone forms take what people type and store E.164."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import Customer
from accounts.phones import phone_e164

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("8 (916) 555-12-34", "+79165551234"),
        ("+7 916 555-12-34", "+79165551234"),
        ("+7 (916) 555 12 34", "+79165551234"),
        ("0079165551234", "+79165551234"),
        ("07700 900123", "+447700900123"),
        ("+44 7700 900123", "+447700900123"),
        ("+1 (202) 555-0101", "+12025550101"),
    ],
)
def test_usual_written_forms_become_e164(typed, stored):
    assert phone_e164(typed) == stored


@pytest.mark.parametrize("typed", ["", "12", "abc", "+7 916", "8" * 40])
def test_what_is_not_a_phone_is_refused_with_a_reason(typed):
    with pytest.raises(ValidationError) as refused:
        phone_e164(typed)
    assert "8 (916) 555-12-34" in refused.value.messages[0]


def test_onboarding_takes_a_russian_national_number(client, teller):
    client.force_login(teller)
    url = reverse("admin:accounts_customer_onboard")
    page = client.get(url).content.decode()
    assert 'maxlength="32"' in page
    client.post(url, {"full_name": "Ivan Petrov", "phone": "8 (916) 555-12-34", "email": ""})
    assert Customer.objects.get(full_name="Ivan Petrov").phone == "+79165551234"


def test_branch_create_takes_an_international_number_with_spaces(client, teller):
    client.force_login(teller)
    client.post(reverse("branch:customer-create"), {"full_name": "Olga Ivanova", "phone": "+7 916 555-12-35"})
    assert Customer.objects.get(full_name="Olga Ivanova").phone == "+79165551235"


def test_search_finds_a_customer_by_the_national_form(client, teller):
    Customer.objects.create(full_name="Ivan Petrov", phone="+79165551234")
    client.force_login(teller)
    page = client.get(reverse("branch:home"), {"q": "8 (916) 555-12-34"}).content.decode()
    assert "Ivan Petrov" in page
