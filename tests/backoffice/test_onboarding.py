"""A teller's guided flow: new customer → account (currency from a list, number generated) → card proposal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import BankAccount, Card, ChangeRequest, Customer
from tests.factories import make_pan

pytestmark = pytest.mark.django_db

FUTURE = (timezone.localdate() + dt.timedelta(days=900)).isoformat()


def test_teller_opens_customer_account_and_card_in_one_flow(client, teller):
    client.force_login(teller)
    start = reverse("admin:accounts_customer_onboard")
    assert start in client.get(reverse("admin:accounts_customer_changelist")).content.decode()

    created = client.post(start, {"full_name": "Nina New", "phone": "+44 7700 900555", "email": ""})
    customer = Customer.objects.get(full_name="Nina New")
    assert customer.phone == "+447700900555"
    assert created["Location"] == reverse("admin:accounts_customer_onboard_account", args=[customer.pk])

    account_page = client.get(created["Location"]).content.decode()
    assert '<select name="currency"' in account_page and "GBP" in account_page
    opened = client.post(created["Location"], {"currency": "GBP", "daily_withdrawal_limit": "500.00"})
    account = BankAccount.objects.get(customer=customer)
    assert account.currency == "GBP" and account.number.startswith("DE00 ") and len(account.number) == 24
    assert opened["Location"] == reverse(
        "admin:accounts_customer_onboard_card", args=[customer.pk, account.pk]
    )

    done = client.post(opened["Location"], {"pan": make_pan(77), "expires_on": FUTURE})

    assert done.status_code == 200 and "onboard-done" in done.content.decode()
    change = ChangeRequest.objects.get(kind=ChangeRequest.Kind.CARD_ISSUE)
    assert change.customer == customer and change.payload["account_id"] == account.pk
    assert not Card.objects.exists()  # a second member of staff approves it first


def test_customer_step_finds_existing_customers_by_search(client, teller, alice_card):
    client.force_login(teller)
    page = client.get(reverse("admin:accounts_customer_onboard"), {"q": alice_card.last4}).content.decode()
    assert "Alice Archer" in page
    assert reverse("admin:accounts_customer_onboard_account", args=[alice_card.customer_id]) in page


def test_card_step_refuses_another_customers_account(client, teller, alice, bob_card):
    client.force_login(teller)
    url = reverse("admin:accounts_customer_onboard_card", args=[alice.pk, bob_card.account.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"pan": make_pan(78), "expires_on": FUTURE}).status_code == 404
    assert not ChangeRequest.objects.exists()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"pan": "1234", "expires_on": FUTURE}, "12 to 19 digits"),
        ({"pan": make_pan(2), "expires_on": FUTURE}, "already registered"),
        ({"pan": make_pan(79), "expires_on": "2001-01-01"}, "future"),
    ],
)
def test_card_step_mistakes_are_form_errors(client, teller, alice_card, bob_card, values, message):
    client.force_login(teller)
    url = reverse(
        "admin:accounts_customer_onboard_card", args=[alice_card.customer_id, alice_card.account_id]
    )
    answer = client.post(url, values)
    assert answer.status_code == 200
    assert message in answer.content.decode()
    assert values["pan"] not in answer.content.decode()
    assert not ChangeRequest.objects.exists()


def test_account_step_refuses_a_currency_not_offered(client, teller, alice):
    client.force_login(teller)
    url = reverse("admin:accounts_customer_onboard_account", args=[alice.pk])
    answer = client.post(url, {"currency": "XAU", "daily_withdrawal_limit": "10"})
    assert answer.status_code == 200 and not BankAccount.objects.filter(customer=alice).exists()


def test_customer_step_refuses_a_bad_phone(client, teller):
    client.force_login(teller)
    answer = client.post(reverse("admin:accounts_customer_onboard"), {"full_name": "X", "phone": "12"})
    assert answer.status_code == 200 and "8 (916) 555-12-34" in answer.content.decode()  # the forms it takes
    assert not Customer.objects.exists()


def test_auditor_cannot_create_through_the_flow(client, auditor):
    client.force_login(auditor)
    answer = client.post(
        reverse("admin:accounts_customer_onboard"), {"full_name": "X", "phone": "+447700900999"}
    )
    assert answer.status_code == 403
    assert not Customer.objects.exists()


def test_account_add_in_the_admin_has_no_raw_ids_and_generates_the_number(client, teller, alice):
    client.force_login(teller)
    page = client.get(reverse("admin:accounts_bankaccount_add")).content.decode()
    assert "vForeignKeyRawIdAdminField" not in page and 'name="number"' not in page
    assert '<select name="currency"' in page
    client.post(
        reverse("admin:accounts_bankaccount_add"),
        {"customer": alice.pk, "currency": "EUR", "daily_withdrawal_limit": "1000.00"},
    )
    assert BankAccount.objects.get(customer=alice).number.startswith("DE00 ")
