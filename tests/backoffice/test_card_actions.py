"""Block with a reason, report stolen, unblock: each asks first, and the messages say what really changed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import Card
from biometrics.services import enrolment_capture

pytestmark = pytest.mark.django_db

LIST = "admin:accounts_card_changelist"


def _action(client, action: str, cards, **extra):
    data = {"action": action, "_selected_action": [card.pk for card in cards], **extra}
    return client.post(reverse(LIST), data, follow=True)


def _messages(answer) -> list[tuple[str, str]]:
    return [(message.level_tag, str(message)) for message in answer.context["messages"]]


@pytest.mark.parametrize("action", ["block_cards", "report_stolen", "unblock_cards"])
def test_each_card_action_asks_first_and_changes_nothing(client, teller, alice_card, action):
    client.force_login(teller)
    if action == "unblock_cards":
        services.card_block(card=alice_card, reason="Lost", actor=teller)
    before = Card.objects.get(pk=alice_card.pk).status

    page = _action(client, action, [alice_card])

    assert page.status_code == 200
    assert "confirm-submit" in page.content.decode() and "•••• " in page.content.decode()
    assert Card.objects.get(pk=alice_card.pk).status == before


def test_block_needs_a_reason_and_keeps_it(client, teller, alice_card):
    client.force_login(teller)
    refused = _action(client, "block_cards", [alice_card], confirm="yes", reason="")
    assert "This field is required" in refused.content.decode()
    assert Card.objects.get(pk=alice_card.pk).status == Card.Status.ACTIVE

    done = _action(client, "block_cards", [alice_card], confirm="yes", reason="Card swallowed by kiosk")

    card = Card.objects.get(pk=alice_card.pk)
    assert card.status == Card.Status.BLOCKED and card.blocked_reason == "Card swallowed by kiosk"
    assert ("success", "1 card blocked.") in _messages(done)
    assert "Card swallowed by kiosk" in client.get(reverse(LIST)).content.decode()


def test_reported_stolen_is_final(client, teller, alice_card):
    client.force_login(teller)
    _action(client, "report_stolen", [alice_card], confirm="yes", reason="Customer reported theft")
    assert Card.objects.get(pk=alice_card.pk).status == Card.Status.STOLEN

    answer = _action(client, "unblock_cards", [alice_card], confirm="yes")

    assert Card.objects.get(pk=alice_card.pk).status == Card.Status.STOLEN
    levels = _messages(answer)
    assert all(level != "success" for level, _ in levels)
    assert any(level == "warning" and "reported stolen" in text for level, text in levels)


def test_unblocking_an_active_card_is_not_reported_as_done(client, teller, alice_card):
    client.force_login(teller)
    answer = _action(client, "unblock_cards", [alice_card], confirm="yes")
    levels = _messages(answer)
    assert not any("unblocked" in text and level == "success" for level, text in levels)
    assert any(level == "warning" and "•••• " in text for level, text in levels)


@pytest.mark.parametrize("action", ["revoke_biometrics", "erase_biometrics"])
def test_biometric_actions_ask_for_a_reason_then_propose(client, teller, alice, action):
    from accounts.models import ChangeRequest

    enrolment_capture.customer_consent_record(customer=alice, actor=teller)
    client.force_login(teller)
    url = reverse("admin:accounts_customer_changelist")
    page = client.post(url, {"action": action, "_selected_action": [alice.pk]})
    assert page.status_code == 200 and "confirm-submit" in page.content.decode()
    assert not ChangeRequest.objects.exists()

    done = client.post(
        url,
        {"action": action, "_selected_action": [alice.pk], "confirm": "yes", "reason": "Customer asked"},
        follow=True,
    )

    change = ChangeRequest.objects.get()
    assert change.payload["reason"] == "Customer asked"
    assert any(message.level_tag == "warning" for message in done.context["messages"])
