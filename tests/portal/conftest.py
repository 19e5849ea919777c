"""Portal personas: Alice and Bob, each with an activated online-banking login, an account and a card."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from notifications.senders import TestSender
from portal import services
from portal.models import CustomerLogin
from tests.factories import BankAccountFactory, CardFactory, CustomerFactory, make_pan

PASSWORD = "Violet-Harbour-1947"
CODE_RE = re.compile(r"\b(\d{6})\b")


@pytest.fixture(autouse=True)
def _on_commit_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run inside one transaction that never commits: run on-commit work (messages, notices) at once."""
    monkeypatch.setattr("django.db.transaction.on_commit", lambda func, using=None, robust=False: func())


@pytest.fixture(autouse=True)
def outbox() -> Iterator[list[Any]]:
    TestSender.outbox.clear()
    yield TestSender.outbox
    TestSender.outbox.clear()


def activate(customer: Any, password: str = PASSWORD) -> CustomerLogin:
    link = services.portal_activation_issue(customer=customer, actor=None, link_base="http://testserver")
    token = link.rstrip("/").rsplit("/", 1)[-1]
    return services.portal_activate(token=token, password=password, password_repeat=password)


def last_code(outbox: list[Any]) -> str:
    for message in reversed(outbox):
        found = CODE_RE.search(message.body)
        if found:
            return found.group(1)
    raise AssertionError(f"no code in {outbox}")


def sign_in(client: Client, phone: str, password: str = PASSWORD, code: str | None = None) -> Any:
    """Both steps; `code` defaults to the newest WhatsApp code sent."""
    first = client.post("/my/sign-in/", {"phone": phone, "password": password})
    assert first.status_code == 302, first.content[:500]
    return client.post(
        "/my/sign-in/code/", {"code": code if code is not None else last_code(TestSender.outbox)}
    )


@pytest.fixture
def alice_portal(db: None) -> dict[str, Any]:
    alice = CustomerFactory(full_name="Alice Archer", phone="+447700900101")
    account = BankAccountFactory(customer=alice, balance="500.00")
    card = CardFactory(account=account, customer=alice, pan=make_pan(101))
    login = activate(alice)
    TestSender.outbox.clear()
    return {"customer": alice, "account": account, "card": card, "login": login}


@pytest.fixture
def bob_portal(db: None) -> dict[str, Any]:
    bob = CustomerFactory(full_name="Bob Baker", phone="+447700900102")
    account = BankAccountFactory(customer=bob, balance="900.00")
    card = CardFactory(account=account, customer=bob, pan=make_pan(102))
    login = activate(bob)
    TestSender.outbox.clear()
    return {"customer": bob, "account": account, "card": card, "login": login}


@pytest.fixture
def alice_client(alice_portal: dict[str, Any]) -> Client:
    client = Client()
    response = sign_in(client, alice_portal["customer"].phone)
    assert response.status_code == 302 and response.url == "/my/", response.content[:500]
    return client
