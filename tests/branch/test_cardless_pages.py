"""Card-less opt-in at the branch portal: consent, account, the customer's PIN pad; opt-out; admin revoke."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from kiosk.models import CardlessAccess
from tests.factories import BankAccountFactory, CustomerFactory
from tests.support.faces import active_templates

PIN = "4821"


@pytest.fixture
def enrolled_customer(db):
    customer = CustomerFactory(full_name="Carol Cardless", phone="+447700900001")
    active_templates(customer, 2)
    return customer, BankAccountFactory(customer=customer)


def _opt_in_approved(client, customer, account, approver) -> str:
    """The teller proposes card-less cash, a second member of staff approves; returns the PIN pad's URL."""
    from accounts.approvals.services import change_request_approve
    from accounts.models import ChangeRequest

    answer = client.post(
        reverse("branch:cardless", args=[customer.pk]),
        {"action": "opt_in", "account": account.pk, "consent": "on", "reason": "asked at the desk"},
    )
    assert answer.status_code == 302
    change = ChangeRequest.objects.get(kind=ChangeRequest.Kind.CARDLESS_OPT_IN, state="pending")
    change_request_approve(change_request=change, actor=approver)
    return reverse("branch:cardless-pin", args=[customer.pk])


def test_teller_opts_in_with_consent_and_the_customer_sets_the_pin(
    client, teller, administrator, enrolled_customer
) -> None:
    customer, account = enrolled_customer
    client.force_login(teller)
    refused = client.post(
        reverse("branch:cardless", args=[customer.pk]), {"action": "opt_in", "account": account.pk}
    )
    assert refused.status_code == 400 and not CardlessAccess.objects.exists()  # no consent, nothing written
    answer = {"Location": _opt_in_approved(client, customer, account, administrator)}
    pad = client.get(answer["Location"])
    assert pad.status_code == 200 and 'type="password"' in pad.content.decode()
    mismatch = client.post(answer["Location"], {"pin": PIN, "pin_repeat": "4822"})
    assert mismatch.status_code == 400 and PIN.encode() not in mismatch.content
    done = client.post(answer["Location"], {"pin": PIN, "pin_repeat": PIN})
    assert done.status_code == 200 and PIN.encode() not in done.content
    access = CardlessAccess.objects.get(customer=customer)
    assert access.status == CardlessAccess.Status.ACTIVE and access.consent_by == teller
    assert access.account == account and PIN not in access.pin_hash
    page = client.get(reverse("branch:cardless", args=[customer.pk])).content.decode()
    assert "Active" in page and PIN not in page
    kinds = set(AuditEvent.objects.values_list("kind", flat=True))
    assert {AuditEvent.Kind.CARDLESS_OPTED_IN, AuditEvent.Kind.CARDLESS_PIN_SET} <= kinds
    assert not any(PIN in str(data) for data in AuditEvent.objects.values_list("data", flat=True))


def test_weak_pin_is_refused(client, teller, administrator, enrolled_customer) -> None:
    customer, account = enrolled_customer
    client.force_login(teller)
    _opt_in_approved(client, customer, account, administrator)
    for weak in ("1111", "1234", "12", "abcd"):
        answer = client.post(
            reverse("branch:cardless-pin", args=[customer.pk]), {"pin": weak, "pin_repeat": weak}
        )
        assert answer.status_code == 400
    assert CardlessAccess.objects.get(customer=customer).status == CardlessAccess.Status.PIN_PENDING


def test_opt_out_at_the_branch_and_revoke_in_the_admin(
    client, teller, administrator, enrolled_customer
) -> None:
    from kiosk.services import cardless

    customer, account = enrolled_customer
    access = cardless.cardless_opt_in(customer=customer, account=account, consent=True, actor=teller)
    cardless.cardless_pin_set(access=access, pin=PIN, pin_repeat=PIN, actor=teller)
    client.force_login(administrator)
    changelist = reverse("admin:kiosk_cardlessaccess_changelist")
    assert "Carol Cardless" in client.get(changelist).content.decode()
    asked = client.post(changelist, {"action": "opt_out", "_selected_action": [access.pk]})
    access.refresh_from_db()
    # The admin action asks first (issue 23 item 3): nothing changes before the confirmation.
    assert asked.status_code == 200 and 'id="confirm-submit"' in asked.content.decode()
    assert access.status == CardlessAccess.Status.ACTIVE
    client.post(changelist, {"action": "opt_out", "_selected_action": [access.pk], "confirm": "yes"})
    access.refresh_from_db()
    assert access.status == CardlessAccess.Status.REVOKED and access.pin_hash == ""
    assert AuditEvent.objects.filter(
        kind=AuditEvent.Kind.CARDLESS_OPTED_OUT, actor_id=administrator.pk
    ).exists()
    # Opting in again starts over: a new consent, a second person's approval and a new PIN.
    client.force_login(teller)
    _opt_in_approved(client, customer, account, administrator)
    assert CardlessAccess.objects.get(customer=customer).status == CardlessAccess.Status.PIN_PENDING
    asked = client.post(reverse("branch:cardless", args=[customer.pk]), {"action": "opt_out"})
    # The branch asks first (issue 23 item 3): nothing changes before "Yes, opt out".
    assert asked.status_code == 200 and 'id="cardless-opt-out-confirm"' in asked.content.decode()
    assert CardlessAccess.objects.get(customer=customer).status == CardlessAccess.Status.PIN_PENDING
    client.post(reverse("branch:cardless", args=[customer.pk]), {"action": "opt_out", "confirm": "yes"})
    assert CardlessAccess.objects.get(customer=customer).status == CardlessAccess.Status.REVOKED


@pytest.mark.parametrize("posted", ["", "abc", "1e3", "-1", "99999999999999999999999", "0"])
def test_opt_in_with_an_account_that_is_not_the_customers_is_a_400(
    client, teller, enrolled_customer, posted
) -> None:
    from accounts.models import ChangeRequest

    customer, _account = enrolled_customer
    stranger_account = BankAccountFactory()
    client.force_login(teller)
    for value in (posted, str(stranger_account.pk)):
        answer = client.post(
            reverse("branch:cardless", args=[customer.pk]),
            {"action": "opt_in", "account": value, "consent": "on", "reason": "asked at the desk"},
        )
        assert answer.status_code == 400
        assert "Choose an active account of this customer." in answer.content.decode()
    assert not ChangeRequest.objects.exists() and not CardlessAccess.objects.exists()
