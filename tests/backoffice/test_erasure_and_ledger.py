"""Biometric erasure from the customer page (four eyes), consent shown withdrawn; ledger from the account."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.approvals import services as approvals
from accounts.models import ChangeRequest
from biometrics.services import enrolment_capture

pytestmark = pytest.mark.django_db


def test_erasure_is_offered_on_the_customer_page_and_consent_shows_withdrawn(
    client, teller, administrator, alice
):
    enrolment_capture.customer_consent_record(customer=alice, actor=teller)
    client.force_login(teller)
    change_page = client.get(reverse("admin:accounts_customer_change", args=[alice.pk])).content.decode()
    erase_url = reverse("admin:accounts_customer_erase_biometrics", args=[alice.pk])
    assert erase_url in change_page
    assert "Consent given" in change_page
    assert erase_url in client.get(reverse("branch:customer", args=[alice.pk])).content.decode()

    confirm = client.get(erase_url)
    assert confirm.status_code == 200 and "confirm-submit" in confirm.content.decode()
    client.post(erase_url, {"confirm": "yes", "reason": "Customer withdrew consent"})
    change = ChangeRequest.objects.get(kind=ChangeRequest.Kind.BIOMETRICS_ERASE)
    pending = client.get(reverse("admin:accounts_customer_change", args=[alice.pk])).content.decode()
    assert f"awaiting approval (request #{change.pk})" in pending

    approvals.change_request_approve(change_request=change, actor=administrator)

    after = client.get(reverse("admin:accounts_customer_change", args=[alice.pk])).content.decode()
    assert "Consent withdrawn" in after
    assert erase_url not in after  # nothing left to erase
    branch = client.get(reverse("branch:customer", args=[alice.pk])).content.decode()
    assert "Consent withdrawn" in branch


def test_auditor_cannot_propose_an_erasure(client, auditor, teller, alice):
    enrolment_capture.customer_consent_record(customer=alice, actor=teller)
    client.force_login(auditor)
    url = reverse("admin:accounts_customer_erase_biometrics", args=[alice.pk])
    client.post(url, {"confirm": "yes", "reason": "x"})
    assert not ChangeRequest.objects.exists()


def test_ledger_is_reachable_from_the_account_and_amounts_are_signed(client, teller, alice_card):
    account = alice_card.account
    services.withdrawal_create(account=account, amount="40.00", idempotency_key="ledger-test-1")
    services.deposit_create(account=account, amount="15.50", idempotency_key="ledger-test-2")
    client.force_login(teller)
    page = client.get(reverse("admin:accounts_bankaccount_change", args=[account.pk])).content.decode()
    ledger_url = f"{reverse('admin:accounts_transaction_changelist')}?account__id__exact={account.pk}"
    assert ledger_url in page

    ledger = client.get(ledger_url)

    assert ledger.status_code == 200
    text = ledger.content.decode()
    assert "−40.00" in text and "+15.50" in text
    assert f"Ledger of {account.number}" in text
    account.refresh_from_db()
    assert account.balance == Decimal("475.50")


def test_ledger_filter_shows_only_that_account(teller, alice_card, bob_card):
    services.deposit_create(account=bob_card.account, amount="99.99", idempotency_key="ledger-test-bob")
    services.deposit_create(account=alice_card.account, amount="11.11", idempotency_key="ledger-test-alice")
    client = Client()
    client.force_login(teller)
    url = reverse("admin:accounts_transaction_changelist")
    text = client.get(url, {"account__id__exact": alice_card.account.pk}).content.decode()
    assert "+11.11" in text and "99.99" not in text
