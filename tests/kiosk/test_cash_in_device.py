"""Counted notes come only from the cash-in device (issue 20, item 1): its own credential, signed reports."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client

from accounts.models import BankAccount, Transaction
from audit.models import AuditEvent
from kiosk.checks import simulated_acceptor_check
from kiosk.models import CashInDeposit, CashInDevice, DepositEscrow
from kiosk.services.cash_devices import cash_in_device_provision, cash_in_device_revoke, report_sign
from kiosk.services.credentials import kiosk_provisioning_code_create
from tests.factories import KioskFactory
from tests.kiosk.conftest import CashInModule
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


def _pictures_equal_but_audit(before, after_picture) -> None:
    changes = {k: v for k, v in before.changes(after_picture).items() if "audit.AuditEvent" not in k}
    assert not changes, changes


@pytest.fixture
def deposit_open(menu, cash_in_module):
    assert menu.post("deposits/open").status_code == 200
    return cash_in_module


def test_signed_report_of_the_cash_in_module_is_credited_when_the_customer_confirms(
    menu, deposit_open, kiosk, alice_card
):
    response = deposit_open.report({"50": 2, "20": 1}, "signed-dep-01")  # the kiosk's open deposit
    assert response.status_code == 201 and response.json()["total"] == "120.00"
    assert menu.get("deposits/escrow").json()["counted"] is True
    receipt = menu.post("deposits", {"idempotency_key": "signed-dep-01"})
    assert receipt.status_code == 201
    assert BankAccount.objects.get(pk=alice_card.account_id).balance == Decimal("620.00")
    row = CashInDeposit.objects.get()
    assert (row.session.public_id.hex, row.notes, row.total) == (
        menu.sid.replace("-", ""),
        {"50": 2, "20": 1},
        120,
    )
    assert row.device == deposit_open.device and row.customer_id == alice_card.customer_id
    escrowed = AuditEvent.objects.get(kind=AuditEvent.Kind.DEPOSIT_ESCROWED)
    assert escrowed.data["device_id"] == deposit_open.device.device_id


def test_altered_cash_in_report_is_refused_and_audited(menu, deposit_open, alice_card):
    body = deposit_open.body({"50": 1}, "altered-01")
    signature = report_sign(key=deposit_open.key, body=body)
    before = db_picture()
    altered = body.replace(b'"50": 1', b'"500": 9')
    response = deposit_open.send(altered, signature=signature)
    assert (response.status_code, response.json()["code"]) == (403, "cash_in_signature_invalid")
    _pictures_equal_but_audit(before, db_picture())
    refused = AuditEvent.objects.get(kind=AuditEvent.Kind.CASH_IN_REPORT_REFUSED)
    assert refused.data["reason"] == "signature"
    wrong_key = deposit_open.send(body, signature=report_sign(key="not-the-key", body=body))
    assert wrong_key.status_code == 403
    assert not DepositEscrow.objects.exclude(idempotency_key="").exists()


def test_replayed_cash_in_report_is_refused(menu, deposit_open, alice_card):
    body = deposit_open.body({"20": 1}, "replayed-01")
    assert deposit_open.send(body).status_code == 201
    assert menu.post("deposits", {"idempotency_key": "replayed-01"}).status_code == 201
    assert menu.post("deposits/open").status_code == 200
    before = db_picture()
    replay = deposit_open.send(body)
    assert (replay.status_code, replay.json()["code"]) == (409, "cash_in_report_replayed")
    _pictures_equal_but_audit(before, db_picture())
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.CASH_IN_REPORT_REFUSED).data["reason"] == "replayed"
    assert BankAccount.objects.get(pk=alice_card.account_id).balance == Decimal("520.00")


def test_stale_cash_in_report_is_refused(menu, deposit_open, settings):
    body = deposit_open.body({"20": 1}, "stale-0001", timestamp=int(time.time()) - 3600)
    response = deposit_open.send(body)
    assert (response.status_code, response.json()["code"]) == (400, "cash_in_report_stale")
    assert not DepositEscrow.objects.exclude(idempotency_key="").exists()


def test_revoked_or_unknown_cash_in_module_is_refused(menu, deposit_open, kiosk):
    cash_in_device_revoke(kiosk=kiosk, actor=None)
    response = deposit_open.report({"20": 1}, "revoked-001")
    assert (response.status_code, response.json()["code"]) == (403, "cash_in_device_unknown")
    assert deposit_open.send(b"{}", device_id="cim_nobody").status_code == 403
    assert not DepositEscrow.objects.exclude(idempotency_key="").exists()


def test_a_new_cash_in_module_revokes_the_previous_one(kiosk, cash_in_module):
    device, _key = cash_in_device_provision(kiosk=kiosk, actor=None)
    assert list(CashInDevice.objects.filter(kiosk=kiosk, revoked_at__isnull=True)) == [device]
    assert cash_in_module.report({"20": 1}, "old-module-1").status_code == 403


def test_cash_in_report_needs_a_deposit_the_kiosk_opened(menu, cash_in_module):
    response = cash_in_module.report({"20": 1}, "not-opened-1", session=menu.sid)
    assert (response.status_code, response.json()["code"]) == (409, "deposit_not_open")
    assert cash_in_module.report({"20": 1}, "not-opened-2").json()["code"] == "deposit_not_open"


def test_another_kiosks_module_cannot_report_for_this_session(menu, deposit_open):
    other = CashInModule(KioskFactory(name="Other kiosk"))
    response = other.report({"20": 1}, "other-kiosk-1", session=menu.sid)
    assert response.status_code == 404
    assert not DepositEscrow.objects.exclude(idempotency_key="").exists()


def test_superscript_two_as_a_cash_in_denomination_is_a_4xx(menu, deposit_open):
    before = db_picture()
    response = deposit_open.report({"²": 1}, "superscript-1")
    assert (response.status_code, response.json()["code"]) == (400, "deposit_denomination")
    assert_nothing_written(before)


def test_simulated_acceptor_uses_the_signed_module_path_in_development_only(menu, settings):
    settings.DEBUG, settings.KIOSK_SIMULATED_ACCEPTOR = True, True
    assert menu.post("deposits/open").status_code == 200
    payload = {"notes": {"10": 2}, "idempotency_key": "simulated-01"}
    response = menu.post("simulated-cash-in", payload)
    assert response.status_code == 201 and response.json()["total"] == "20.00"
    device = CashInDevice.objects.get(revoked_at__isnull=True)
    assert device.last_counter == 1  # a signed, counted report of the module
    settings.DEBUG = False
    assert menu.post("simulated-cash-in", payload).status_code == 404


def test_production_refuses_to_start_with_the_simulated_acceptor(settings):
    settings.DEBUG, settings.KIOSK_SIMULATED_ACCEPTOR = False, True
    assert [error.id for error in simulated_acceptor_check()] == ["kiosk.E001"]
    with pytest.raises(SystemCheckError):
        call_command("check")
    settings.DEBUG = True
    assert simulated_acceptor_check() == []


def test_simulated_acceptor_says_it_is_for_development(kiosk, settings):
    _code, raw = kiosk_provisioning_code_create(kiosk=kiosk, actor=None)
    browser = Client()
    browser.post("/kiosk/provision/", {"code": raw})
    settings.DEBUG, settings.KIOSK_SIMULATED_ACCEPTOR = True, True
    html = browser.get("/kiosk/?lang=en").content.decode()
    assert "Simulated note acceptor — development only" in html


def test_forged_reports_for_one_module_are_rate_limited_before_the_audit(menu, deposit_open, settings):
    settings.RATELIMIT_KIOSK_CASH_IN_REPORTS = "2/m"
    body = deposit_open.body({"50": 1}, "flood-00001")
    statuses = [deposit_open.send(body, signature="0" * 64).status_code for _ in range(4)]
    assert statuses == [403, 403, 429, 429]
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.CASH_IN_REPORT_REFUSED).count() == 2


def test_a_waiting_kiosk_page_learns_that_the_session_ended(menu, deposit_open):
    assert menu.get("deposits/escrow").json() == {"counted": False}
    assert menu.post("end").status_code == 200
    response = menu.get("deposits/escrow")
    assert (response.status_code, response.json()["code"]) == (409, "session_ended")
