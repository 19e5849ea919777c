"""One member of staff alone cannot hand an account to someone else.

The takeover these tests close: a teller changes a customer's phone in the admin, issues a card with a number
the teller chose, shows two faces at the kiosk to be offered a one-time code, receives the code on the
teller's own phone and withdraws. Phone changes and card issues are proposals a second member of staff must
approve, and the audit trail records the old and new values (masked).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import BankAccount, Card
from audit.models import AuditEvent
from biometrics.models import Enrolment, FaceTemplate
from tests.biometrics.test_enrolment_support import fresh_gallery  # noqa: F401
from tests.factories import make_pan
from tests.support.admin_forms import admin_form_data
from tests.support.faces import active_templates, encoded_enrolment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_gallery")]

TELLER_PHONE = "+447700966666"
TELLER_PAN = make_pan(6666)


def _change_url(obj: object) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def test_one_teller_cannot_change_a_phone_alone(client, teller, alice_card):
    alice = alice_card.customer
    client.force_login(teller)
    url = _change_url(alice)
    response = client.post(
        url, admin_form_data(client, url, phone=TELLER_PHONE, change_reason="new SIM"), follow=True
    )
    assert response.status_code == 200
    alice.refresh_from_db()
    assert alice.phone == "+447700900001"
    assert "awaiting approval" in response.content.decode()
    pending = client.get(reverse("admin:accounts_changerequest_changelist"), follow=True).content.decode()
    assert "Phone number change" in pending and TELLER_PHONE not in pending


def test_one_teller_cannot_issue_a_card_alone(client, teller, alice_card):
    client.force_login(teller)
    data = {
        "customer": alice_card.customer_id,
        "account": alice_card.account_id,
        "pan": TELLER_PAN,
        "expires_on": "2031-01-31",
    }
    response = client.post(reverse("admin:accounts_card_add"), data, follow=True)
    assert response.status_code == 200
    assert "awaiting approval" in response.content.decode()
    assert Card.objects.count() == 1  # only Alice's first card


def test_one_administrator_cannot_raise_a_daily_limit_alone(client, administrator, alice_card):
    account = alice_card.account
    client.force_login(administrator)
    url = _change_url(account)
    client.post(url, admin_form_data(client, url, daily_withdrawal_limit="50000.00"), follow=True)
    account.refresh_from_db()
    assert account.daily_withdrawal_limit == 1000


def test_one_administrator_cannot_revoke_biometrics_alone(client, administrator, alice):
    active_templates(alice, 2)
    client.force_login(administrator)
    client.post(
        reverse("admin:accounts_customer_changelist"),
        {"action": "revoke_biometrics", "_selected_action": [alice.pk]},
        follow=True,
    )
    assert FaceTemplate.objects.filter(customer=alice, revoked_at__isnull=True).count() == 2


def test_one_teller_cannot_re_enrol_a_face_alone(teller, alice):
    from biometrics.services import enrolment_encoding

    old = active_templates(alice, 2)
    enrolment = encoded_enrolment(alice, teller)
    finished = enrolment_encoding._enrolment_finish(enrolment_id=enrolment.pk)
    assert finished.status != Enrolment.Status.ACTIVE
    assert set(FaceTemplate.objects.filter(customer=alice, revoked_at__isnull=True)) >= set(old)
    assert not FaceTemplate.objects.filter(enrolment=enrolment, gallery_added_version__isnull=False).exists()


def test_admin_edits_that_save_are_audited_with_old_and_new_values(client, administrator, alice_card):
    alice = alice_card.customer
    client.force_login(administrator)
    url = _change_url(alice)
    client.post(url, admin_form_data(client, url, email="alice@example.org"), follow=True)
    alice.refresh_from_db()
    assert alice.email == "alice@example.org"
    event = AuditEvent.objects.filter(customer_id=alice.pk, kind="customer.updated").get()
    # Names and e-mails are personal data: old and new values sit in the erasable part of the event.
    assert event.personal["changes"]["email"] == {"old": "", "new": "alice@example.org"}
    assert event.data["fields"] == ["email"]


def test_opening_an_account_in_the_admin_goes_through_the_service(client, administrator, alice):
    client.force_login(administrator)
    url = reverse("admin:accounts_bankaccount_add")
    data = admin_form_data(client, url, customer=alice.pk, currency="EUR", daily_withdrawal_limit="300.00")
    client.post(url, data, follow=True)
    account = BankAccount.objects.get(customer=alice)  # the number is generated
    assert AuditEvent.objects.filter(kind="account.opened", customer_id=alice.pk).exists()
    assert account.daily_withdrawal_limit == 300


def test_the_trail_names_the_old_and_new_phone_masked(client, teller, administrator, alice_card):
    alice = alice_card.customer
    client.force_login(teller)
    url = _change_url(alice)
    client.post(url, admin_form_data(client, url, phone=TELLER_PHONE, change_reason="new SIM"), follow=True)
    events = AuditEvent.objects.filter(customer_id=alice.pk)
    texts = [str(event.data) for event in events]
    assert any("0001" in text and "6666" in text for text in texts)
    assert not any(TELLER_PHONE in text or "+447700900001" in text for text in texts)
