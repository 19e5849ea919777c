"""Issue 23 item 2: approvals a checker can check, and a proposer who hears back."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from accounts.approvals import services as approvals
from accounts.models import ChangeRequest
from accounts.roles import SUPERVISOR
from biometrics.approvals import biometrics_erase_propose
from tests.factories import UserFactory, make_pan
from tests.support.admin_forms import admin_form_data

pytestmark = pytest.mark.django_db
PENDING = reverse("admin:accounts_changerequest_changelist") + "?state__exact=pending"


@pytest.fixture
def supervisor(roles):
    user = UserFactory(username="sam_supervisor")
    user.groups.add(Group.objects.get(name=SUPERVISOR))
    return user


@pytest.fixture
def phone_change(teller, alice):
    return approvals.phone_change_propose(customer=alice, phone="+447700900099", actor=teller)


def test_decide_column_shows_only_what_the_role_may_do(client, teller, supervisor, auditor, phone_change):
    approve = reverse("admin:accounts_changerequest_approve", args=[phone_change.pk])
    cancel = reverse("admin:accounts_changerequest_cancel", args=[phone_change.pk])
    client.force_login(supervisor)
    page = client.get(PENDING).content.decode()
    assert approve in page and cancel not in page
    client.force_login(teller)  # the proposer: may cancel, never approve
    page = client.get(PENDING).content.decode()
    assert approve not in page and cancel in page
    client.force_login(auditor)
    page = client.get(PENDING).content.decode()
    assert approve not in page and cancel not in page


def test_decision_page_hides_the_button_a_role_cannot_use(client, teller, auditor, phone_change):
    for user in (teller, auditor):
        client.force_login(user)
        page = client.get(reverse("admin:accounts_changerequest_approve", args=[phone_change.pk]))
        assert 'type="submit"' not in page.content.decode().split('id="change-proposer"')[1]
        assert 'id="not-yours"' in page.content.decode()


def test_auditor_is_not_offered_propose_erasing(client, auditor, alice):
    client.force_login(auditor)
    page = client.get(reverse("admin:accounts_customer_changelist")).content.decode()
    assert "erase_biometrics" not in page and "revoke_biometrics" not in page


def test_approve_and_reject_pages_read_plainly(client, teller, supervisor, alice_card):
    change = approvals.card_issue_propose(
        customer=alice_card.customer,
        account=alice_card.account,
        pan=make_pan(77),
        expires_on=timezone.localdate() + dt.timedelta(days=700),
        actor=teller,
    )
    client.force_login(supervisor)
    approve = client.get(reverse("admin:accounts_changerequest_approve", args=[change.pk])).content.decode()
    assert "<h1>Approve change request: Card issue for Alice Archer</h1>" in approve
    assert "account_id" not in approve and "account:" not in approve and "Approved:" not in approve
    assert alice_card.account.number in approve and "tina_teller" in approve
    reject = client.get(reverse("admin:accounts_changerequest_reject", args=[change.pk])).content.decode()
    assert "<h1>Reject change request" in reject and "After approval" not in reject


def test_erasure_reason_is_shown_to_the_approver(client, teller, supervisor, alice):
    change = biometrics_erase_propose(customer=alice, actor=teller, reason="Letter of 3 May")
    client.force_login(supervisor)
    page = client.get(reverse("admin:accounts_changerequest_approve", args=[change.pk])).content.decode()
    assert 'id="change-reason"' in page and "Letter of 3 May" in page


def test_proposer_hears_of_a_rejection_once_and_can_filter_own_requests(
    client, teller, supervisor, phone_change, bob_card
):
    other = approvals.phone_change_propose(
        customer=bob_card.customer, phone="+447700900088", actor=supervisor
    )
    approvals.change_request_reject(change_request=phone_change, actor=supervisor, reason="Caller unknown")
    client.force_login(teller)
    first = [str(m) for m in get_messages(client.get(reverse("admin:index")).wsgi_request)]
    assert any("was rejected" in m and "Caller unknown" in m for m in first), first
    again = [str(m) for m in get_messages(client.get(reverse("admin:index")).wsgi_request)]
    assert not any("was rejected" in m for m in again)
    mine = client.get(reverse("admin:accounts_changerequest_changelist") + "?mine=1&state__exact=pending")
    assert f">{other.pk}<" not in mine.content.decode()


def test_a_second_proposal_links_the_waiting_one_which_its_proposer_can_cancel(client, teller, alice):
    client.force_login(teller)
    url = reverse("admin:accounts_customer_change", args=[alice.pk])
    client.post(
        url,
        admin_form_data(client, url, phone="+447700900099", change_reason="Customer asked at the desk"),
        follow=True,
    )
    answer = client.post(
        url,
        admin_form_data(client, url, phone="+447700900098", change_reason="Customer asked at the desk"),
        follow=True,
    ).content.decode()
    assert "decide or cancel that one first" in answer and 'id="pending-change-link"' in answer
    waiting = ChangeRequest.objects.get(state=ChangeRequest.State.PENDING)
    page = client.get(reverse("admin:accounts_changerequest_change", args=[waiting.pk])).content.decode()
    assert reverse("admin:accounts_changerequest_cancel", args=[waiting.pk]) in page


def test_a_proposed_phone_change_is_not_also_reported_as_saved(client, teller, alice):
    client.force_login(teller)
    url = reverse("admin:accounts_customer_change", args=[alice.pk])
    answer = client.post(
        url,
        admin_form_data(client, url, phone="+447700900099", change_reason="Customer asked at the desk"),
        follow=True,
    )
    texts = [str(m) for m in get_messages(answer.wsgi_request)] or [answer.content.decode()]
    page = answer.content.decode()
    assert "awaiting approval" in page and "was changed successfully" not in page, texts


def test_teller_requests_a_higher_limit_from_the_account_page(client, teller, alice_card):
    client.force_login(teller)
    account = alice_card.account
    page = client.get(reverse("admin:accounts_bankaccount_change", args=[account.pk])).content.decode()
    assert 'id="limit-link"' in page
    url = reverse("admin:accounts_bankaccount_limit", args=[account.pk])
    answer = client.post(url, {"limit": "2500.00"}, follow=True)
    assert "awaiting approval" in answer.content.decode()
    change = ChangeRequest.objects.get(kind=ChangeRequest.Kind.LIMIT_INCREASE)
    assert change.proposed_by == teller and change.payload["limit"] == "2500.00"
