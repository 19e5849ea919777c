"""Issue 20, item 2: closing an account needs a zero balance and a second person."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import services
from accounts.approvals.services import account_close_propose, change_request_approve
from accounts.models import BankAccount, ChangeRequest
from atmsite.errors import ApplicationError
from tests.support.admin_forms import admin_form_data

pytestmark = pytest.mark.django_db


def test_closing_an_account_needs_a_zero_balance_and_a_second_person(
    teller, administrator, alice_card
) -> None:
    account = alice_card.account
    with pytest.raises(ValidationError):  # no direct path any more
        services.account_status_change(account=account, status=BankAccount.Status.CLOSED, actor=administrator)
    with pytest.raises(ApplicationError) as refused:
        account_close_propose(account=account, actor=teller, reason="customer leaves")
    assert refused.value.code == "balance_not_zero"
    BankAccount.objects.filter(pk=account.pk).update(balance=Decimal("0"))
    change = account_close_propose(account=account, actor=teller, reason="customer leaves")
    with pytest.raises(ApplicationError):
        change_request_approve(change_request=change, actor=teller)
    change_request_approve(change_request=change, actor=administrator)
    account.refresh_from_db()
    assert account.status == BankAccount.Status.CLOSED


def test_a_closure_approved_after_money_came_in_is_refused(teller, administrator, alice_card) -> None:
    account = alice_card.account
    BankAccount.objects.filter(pk=account.pk).update(balance=Decimal("0"))
    change = account_close_propose(account=account, actor=teller)
    BankAccount.objects.filter(pk=account.pk).update(balance=Decimal("20.00"))  # a deposit meanwhile
    with pytest.raises(ApplicationError) as refused:
        change_request_approve(change_request=change, actor=administrator)
    assert refused.value.code == "balance_not_zero"
    account.refresh_from_db()
    assert account.status == BankAccount.Status.ACTIVE
    change.refresh_from_db()
    assert change.state == ChangeRequest.State.PENDING


def test_closing_in_the_admin_becomes_a_proposal(client, administrator, alice_card) -> None:
    account = alice_card.account
    BankAccount.objects.filter(pk=account.pk).update(balance=Decimal("0"))
    client.force_login(administrator)
    url = reverse("admin:accounts_bankaccount_change", args=[account.pk])
    answer = client.post(url, admin_form_data(client, url, status="closed"), follow=True)
    assert "awaiting approval" in answer.content.decode()
    account.refresh_from_db()
    assert account.status == BankAccount.Status.ACTIVE
    assert ChangeRequest.objects.get().kind == ChangeRequest.Kind.ACCOUNT_CLOSE
