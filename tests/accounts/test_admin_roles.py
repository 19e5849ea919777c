"""Who can reach what in the back office."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from accounts import services
from accounts.models import Card, ChangeRequest, Customer, Transaction

pytestmark = pytest.mark.django_db


def test_teller_blocks_a_card_through_the_admin_action(client, teller, alice_card):
    client.force_login(teller)
    response = client.post(
        reverse("admin:accounts_card_changelist"),
        {"action": "block_cards", "_selected_action": [alice_card.pk], "confirm": "yes", "reason": "Lost"},
        follow=True,
    )
    assert response.status_code == 200
    alice_card.refresh_from_db()
    assert alice_card.status == Card.Status.BLOCKED and alice_card.blocked_reason == "Lost"


def test_teller_proposes_a_card_an_administrator_approves_it_and_both_see_it_masked(
    client, teller, administrator, alice
):
    account = services.account_open(customer=alice, number="DE00 9999")
    client.force_login(teller)
    response = client.post(
        reverse("admin:accounts_card_add"),
        {
            "customer": alice.pk,
            "account": account.pk,
            "pan": "4539 1488 0343 6467",
            "expires_on": "2031-01-31",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "awaiting approval" in response.content.decode()
    assert not Card.objects.exists()
    change = ChangeRequest.objects.get()
    assert "4539148803436467" not in str(change.payload) and change.payload["last4"] == "6467"
    client.force_login(administrator)
    client.post(reverse("admin:accounts_changerequest_approve", args=[change.pk]), follow=True)
    card = Card.objects.get()
    assert card.last4 == "6467"
    for user in (teller, administrator):
        client.force_login(user)
        listing = client.get(reverse("admin:accounts_card_changelist")).content.decode()
        assert "•••• 6467" in listing and "4539148803436467" not in listing


def test_teller_gets_a_form_error_for_a_non_luhn_number(client, teller, alice):
    account = services.account_open(customer=alice, number="DE00 9998")
    client.force_login(teller)
    response = client.post(
        reverse("admin:accounts_card_add"),
        {"customer": alice.pk, "account": account.pk, "pan": "4539148803436468", "expires_on": "2031-01-31"},
    )
    assert response.status_code == 200
    assert "not a valid card number" in response.content.decode()
    assert Card.objects.count() == 0


def test_nobody_can_edit_the_ledger(client, teller, administrator, alice_card):
    entry = services.deposit_create(account=alice_card.account, amount="5", idempotency_key="adm-ledger1")
    for user in (teller, administrator):
        client.force_login(user)
        change_url = reverse("admin:accounts_transaction_change", args=[entry.pk])
        assert client.post(change_url, {"amount": "999"}).status_code == 403
        assert client.get(reverse("admin:accounts_transaction_add")).status_code == 403
        assert client.post(reverse("admin:accounts_transaction_delete", args=[entry.pk])).status_code == 403
    assert Transaction.objects.get(pk=entry.pk).amount == 5


def test_auditor_gets_403_on_every_change_view(client, auditor, alice_card, kiosk):
    client.force_login(auditor)
    objects = {Customer: alice_card.customer, Card: alice_card, type(alice_card.account): alice_card.account}
    checked = 0
    for model in admin.site._registry:
        opts = model._meta
        add_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
        response = client.post(add_url, {})
        assert response.status_code == 403, f"{opts.label} add: {response.status_code}"
        instance = objects.get(model) or model._default_manager.first()
        if instance is not None:
            change_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[instance.pk])
            can_view = auditor.has_perm(f"{opts.app_label}.view_{opts.model_name}")
            assert client.get(change_url).status_code == (200 if can_view else 403), opts.label
            assert client.post(change_url, {}).status_code == 403, f"{opts.label} change"
            delete_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[instance.pk])
            assert client.post(delete_url, {"post": "yes"}).status_code == 403, f"{opts.label} delete"
        checked += 1
    assert checked >= 5
    assert Card.objects.get(pk=alice_card.pk).status == Card.Status.ACTIVE


def test_auditor_cannot_run_card_actions(client, auditor, alice_card):
    client.force_login(auditor)
    client.post(
        reverse("admin:accounts_card_changelist"),
        {"action": "block_cards", "_selected_action": [alice_card.pk]},
    )
    alice_card.refresh_from_db()
    assert alice_card.status == Card.Status.ACTIVE


def test_search_by_card_last4(client, teller, alice_card):
    client.force_login(teller)
    response = client.get(reverse("admin:accounts_customer_changelist"), {"q": alice_card.last4})
    assert alice_card.customer.full_name in response.content.decode()


@pytest.mark.parametrize(
    ("role", "can_approve"),
    [("Teller", False), ("Auditor", False), ("Administrator", True), ("Supervisor", True)],
)
def test_only_checker_roles_hold_the_approve_permission(roles, role, can_approve):
    from django.contrib.auth.models import Group

    from tests.factories import UserFactory

    user = UserFactory(username=f"someone_{role.lower()}")
    user.groups.add(Group.objects.get(name=role))
    assert user.has_perm("accounts.approve_changerequest") is can_approve
    assert user.has_perm("accounts.view_changerequest")
    assert not user.has_perm("accounts.delete_changerequest") or role == "Administrator"


def test_tellers_remain_makers(teller):
    assert teller.has_perm("accounts.change_customer") and teller.has_perm("accounts.add_card")
    assert not teller.has_perm("biometrics.review_enrolment")


def test_nobody_deletes_customers_accounts_or_cards_in_the_admin(client, administrator, alice_card):
    client.force_login(administrator)
    for obj in (alice_card, alice_card.account, alice_card.customer):
        opts = obj._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[obj.pk])
        assert client.post(url, {"post": "yes"}).status_code == 403
    assert Card.objects.filter(pk=alice_card.pk).exists()


def test_proposing_a_card_number_twice_in_the_admin_is_refused_with_a_message(client, teller, alice_card):
    client.force_login(teller)
    data = {
        "customer": alice_card.customer_id,
        "account": alice_card.account_id,
        "pan": "4539 1488 0343 6467",
        "expires_on": "2031-01-31",
    }
    client.post(reverse("admin:accounts_card_add"), data)
    response = client.post(reverse("admin:accounts_card_add"), data, follow=True)
    # A form error next to the number (the typed number is not written back into the page).
    assert "already registered or awaiting approval" in response.content.decode()
    assert ChangeRequest.objects.count() == 1
