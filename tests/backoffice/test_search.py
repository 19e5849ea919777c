"""The clerk's search box: full card number (by keyed hash), last four digits, phones in any usual form,
and phone digits never mixed with card digits."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Customer
from accounts.pan import luhn_valid
from tests.factories import BankAccountFactory, CardFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    washington = CustomerFactory(full_name="George Washington", phone="+12025550101")
    # A phone containing "0010" and a card ending in "0010" belong to different people.
    phone_0010 = CustomerFactory(full_name="Phone Zero", phone="+447700100105")
    card_owner = CustomerFactory(full_name="Card Owner", phone="+447700900777")
    pan = "4111110000030010"
    assert luhn_valid(pan), pan
    card = CardFactory(customer=card_owner, account=BankAccountFactory(customer=card_owner), pan=pan)
    return {
        "washington": washington,
        "phone_0010": phone_0010,
        "card_owner": card_owner,
        "pan": pan,
        "card": card,
    }


def _names(client, url: str, term: str) -> set[str]:
    answer = client.get(url, {"q": term})
    assert answer.status_code == 200
    return {
        name for name in ("George Washington", "Phone Zero", "Card Owner") if name in answer.content.decode()
    }


@pytest.mark.parametrize("url_name", ["admin:accounts_customer_changelist", "branch:home"])
def test_full_card_number_finds_its_owner(client, teller, people, url_name):
    client.force_login(teller)
    spaced = " ".join(people["pan"][i : i + 4] for i in range(0, 16, 4))
    assert _names(client, reverse(url_name), spaced) == {"Card Owner"}
    assert _names(client, reverse(url_name), people["pan"]) == {"Card Owner"}


@pytest.mark.parametrize("url_name", ["admin:accounts_customer_changelist", "branch:home"])
def test_four_digits_are_a_card_not_phone_digits(client, teller, people, url_name):
    client.force_login(teller)
    assert _names(client, reverse(url_name), "0010") == {"Card Owner"}


@pytest.mark.parametrize("term", ["(202) 555-0101", "202-555-0101", "+1 202 555 0101", "2025550101"])
@pytest.mark.parametrize("url_name", ["admin:accounts_customer_changelist", "branch:home"])
def test_phone_in_any_usual_form(client, teller, people, term, url_name):
    client.force_login(teller)
    assert _names(client, reverse(url_name), term) == {"George Washington"}


def test_card_list_finds_by_full_number_and_last_four(client, teller, people):
    client.force_login(teller)
    url = reverse("admin:accounts_card_changelist")
    page = client.get(url, {"q": people["pan"]}).content.decode()
    assert "•••• 0010" in page and "Card Owner" in page
    assert "Phone Zero" not in client.get(url, {"q": "0010"}).content.decode()


def test_customer_list_has_a_card_column(client, teller, people):
    client.force_login(teller)
    page = client.get(reverse("admin:accounts_customer_changelist")).content.decode()
    assert "column-cards_column" in page and "•••• 0010" in page


def test_admin_warns_when_a_new_customers_phone_belongs_to_someone_else(client, teller, people):
    client.force_login(teller)
    answer = client.post(
        reverse("admin:accounts_customer_add"),
        {
            "full_name": "Martha Washington",
            "phone": "+12025550101",
            "email": "",
            "is_active": "on",
            "accounts-TOTAL_FORMS": 0,
            "accounts-INITIAL_FORMS": 0,
            "cards-TOTAL_FORMS": 0,
            "cards-INITIAL_FORMS": 0,
        },
        follow=True,
    )
    assert answer.status_code == 200
    assert Customer.objects.filter(full_name="Martha Washington").exists()
    assert "already belongs to George Washington" in answer.content.decode()


def test_branch_warns_when_a_new_customers_phone_belongs_to_someone_else(client, teller, people):
    client.force_login(teller)
    answer = client.post(
        reverse("branch:customer-create"),
        {"full_name": "Martha Washington", "phone": "+12025550101"},
        follow=True,
    )
    assert "already belongs to George Washington" in answer.content.decode()
