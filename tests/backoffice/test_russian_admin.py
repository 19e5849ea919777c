"""The Russian back office: our model names, field labels, choices and actions are translated."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

ENGLISH_LEFT_OVERS = (
    "Select card to change",
    "Выберите card",
    "Block selected cards",
    "Block the selected cards",
    "Customers and accounts",
    "Reported stolen",
    "Expires on",
    "Pending approvals",
)


@pytest.fixture
def russian(client):
    client.cookies["django_language"] = "ru"
    return client


def test_card_list_in_russian(russian, teller, alice_card):
    russian.force_login(teller)
    page = russian.get(reverse("admin:accounts_card_changelist"), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Выберите карта для изменения" in page
    assert "Заблокировать выбранные карты (с причиной)…" in page
    assert "Отметить выбранные карты как украденные…" in page
    assert "Действует до" in page and "Причина блокировки" in page
    for english in ENGLISH_LEFT_OVERS:
        assert english not in page, english


def test_index_and_onboarding_in_russian(russian, teller):
    russian.force_login(teller)
    index = russian.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Клиенты и счета" in index and "Биометрический банкомат — бэк-офис" in index
    assert "Customers and accounts" not in index and "Bank accounts" not in index
    flow = russian.get(reverse("admin:accounts_customer_onboard"), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Новый клиент, счёт и карта" in flow and "Создать и продолжить" in flow


def test_audit_list_in_russian(russian, auditor):
    russian.force_login(auditor)
    page = russian.get(
        reverse("admin:audit_auditevent_changelist"), HTTP_ACCEPT_LANGUAGE="ru"
    ).content.decode()
    assert "причина отказа" in page and "Лицо другого клиента (несовпадение)" in page
    assert "Проверка снимков" in page and "Выгрузить CSV" in page
