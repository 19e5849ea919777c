"""Card issue in the back office: every ordinary mistake is a form error on the page, never a 500, and the
typed card number is never echoed back."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Card, ChangeRequest
from tests.factories import BankAccountFactory, make_pan

pytestmark = pytest.mark.django_db

FUTURE = (timezone.localdate() + dt.timedelta(days=700)).isoformat()


@pytest.fixture
def teller_client(client, teller):
    client.raise_request_exception = False
    client.force_login(teller)
    return client


def _post(client, **values):
    return client.post(reverse("admin:accounts_card_add"), values)


@pytest.mark.parametrize(
    "case",
    [
        "other_customers_account",
        "past_expiry",
        "today_expiry",
        "number_in_use",
        "number_pending",
        "bad_luhn",
        "letters",
        "no_account",
        "unknown_account",
        "bad_date",
    ],
)
def test_each_mistake_is_a_form_error(teller_client, alice_card, bob_card, teller, case):
    alice = alice_card.customer
    account = alice_card.account
    pan = make_pan(55)
    values = {"customer": alice.pk, "account": account.pk, "pan": pan, "expires_on": FUTURE}
    if case == "other_customers_account":
        values["account"] = bob_card.account.pk
    elif case == "past_expiry":
        values["expires_on"] = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    elif case == "today_expiry":
        values["expires_on"] = timezone.localdate().isoformat()
    elif case == "number_in_use":
        values["pan"] = make_pan(2)  # bob's card
    elif case == "number_pending":
        second = BankAccountFactory(customer=alice)
        from accounts.approvals import services as approvals

        approvals.card_issue_propose(
            customer=alice, account=second, pan=pan, expires_on=dt.date.fromisoformat(FUTURE), actor=teller
        )
    elif case == "bad_luhn":
        values["pan"] = pan[:-1] + str((int(pan[-1]) + 1) % 10)
    elif case == "letters":
        values["pan"] = "4539 abcd 0343 6467"
    elif case == "no_account":
        values["account"] = ""
    elif case == "unknown_account":
        values["account"] = 99999
    elif case == "bad_date":
        values["expires_on"] = "31/31/2030"
    pending_before = ChangeRequest.objects.count()

    answer = _post(teller_client, **values)

    assert answer.status_code == 200, answer.status_code
    page = answer.content.decode()
    assert "errornote" in page or "errorlist" in page
    typed = values["pan"].replace(" ", "")
    assert typed not in page.replace(" ", "")
    assert Card.objects.count() == 2
    assert ChangeRequest.objects.count() == pending_before


def test_a_valid_card_becomes_a_proposal(teller_client, alice_card):
    answer = _post(
        teller_client,
        customer=alice_card.customer.pk,
        account=alice_card.account.pk,
        pan=make_pan(56),
        expires_on=FUTURE,
    )
    assert answer.status_code == 302
    assert ChangeRequest.objects.get().kind == ChangeRequest.Kind.CARD_ISSUE


def test_an_error_page_never_shows_the_typed_card_number(client, teller, alice_card, bob_card, settings):
    """Even with DEBUG on, a refused card issue is a form page (no technical page with the POST data)."""
    settings.DEBUG = True
    client.force_login(teller)
    client.raise_request_exception = False
    pan = make_pan(2)
    answer = _post(
        client, customer=alice_card.customer.pk, account=bob_card.account.pk, pan=pan, expires_on=FUTURE
    )
    assert answer.status_code == 200
    assert pan not in answer.content.decode()
