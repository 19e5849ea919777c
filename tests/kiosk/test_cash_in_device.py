"""Counted notes come only from the cash-in device (issue 20, item 1): its own credential, signed reports."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import BankAccount, Transaction
from kiosk.services.credentials import kiosk_provisioning_code_create
from tests.security.helpers import assert_nothing_written, db_picture

pytestmark = pytest.mark.django_db


@pytest.fixture
def menu(driver, alice_card, alice_pan):
    driver.start(alice_pan)
    driver.verify_face()
    driver.get("balance")
    return driver


def test_kiosk_page_credential_cannot_report_counted_notes(menu, alice_card):
    before = db_picture()
    response = menu.post("cash-in", {"notes": {"500": 10}, "idempotency_key": "forged-notes-01"})
    assert response.status_code == 403
    assert response.json()["code"] == "cash_in_device_only"
    assert BankAccount.objects.get(pk=alice_card.account_id).balance == Decimal("500.00")
    assert not Transaction.objects.exists()
    assert_nothing_written(before)


def test_simulated_acceptor_is_not_rendered_in_production(kiosk, settings):
    _code, raw = kiosk_provisioning_code_create(kiosk=kiosk, actor=None)
    browser = Client()
    browser.post("/kiosk/provision/", {"code": raw})
    settings.DEBUG = False
    html = browser.get("/kiosk/").content.decode()
    assert 'id="acceptor-notes"' not in html and "Simulated note acceptor" not in html
