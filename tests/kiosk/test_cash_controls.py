"""Bank controls on a kiosk's cash (issue 20): a bin ledger row per deposit, blind counts by two people, no
currency change while cash is held."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from kiosk.models import CashCount, CashInBin, CashInReconciliation, Cassette, Kiosk
from kiosk.services.cash_office import cash_count_submit
from tests.conftest import _staff
from tests.kiosk.conftest import deposit_counted
from tests.security.helpers import assert_nothing_written, db_picture

pytestmark = pytest.mark.django_db
BIN = CashCount.Kind.BIN_COUNT


@pytest.fixture
def witness(roles):
    return _staff("wes_witness", "Administrator")


@pytest.fixture
def menu(driver, alice_card, alice_pan, cash_in_module):
    driver.start(alice_pan)
    driver.verify_face()
    driver.module = cash_in_module
    return driver


def _deposit(menu, notes: dict[str, int], key: str) -> None:
    assert deposit_counted(menu, menu.module, notes, key).status_code == 201
    assert menu.post("deposits", {"idempotency_key": key}).status_code == 201


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_bin_difference_lists_the_deposits_since_the_last_count_and_who_confirmed_them(
    menu, kiosk, administrator, witness, alice_card
):
    _deposit(menu, {"50": 2}, "ledger-dep-01")
    assert cash_count_submit(kiosk=kiosk, kind=BIN, counts={50: 2}, actor=administrator).status == "entered"
    assert cash_count_submit(kiosk=kiosk, kind=BIN, counts={50: 2}, actor=witness).status == "applied"
    _deposit(menu, {"20": 1}, "ledger-dep-02")
    _deposit(menu, {"10": 1}, "ledger-dep-03")
    cash_count_submit(kiosk=kiosk, kind=BIN, counts={20: 1}, actor=administrator)
    outcome = cash_count_submit(kiosk=kiosk, kind=BIN, counts={20: 1}, actor=witness)
    reconciliation = outcome.reconciliation
    assert reconciliation.difference == Decimal("-10") and reconciliation.confirmed_by == witness
    # Only the deposits since the last count, each with its session and the customer who confirmed it.
    listed = AuditEvent.objects.get(kind=AuditEvent.Kind.CASH_IN_BIN_DIFFERENCE).data[
        "deposits_since_last_count"
    ]
    assert [(row["total"], row["customer_id"], row["card_last4"]) for row in listed] == [
        ("20.00", alice_card.customer_id, alice_card.last4),
        ("10.00", alice_card.customer_id, alice_card.last4),
    ]
    assert {row["session"] for row in listed} == {menu.sid}
    assert reconciliation.deposits.count() == 2
    page = _client(witness).get(f"/admin/kiosk/cashinreconciliation/{reconciliation.pk}/change/")
    assert page.status_code == 200 and alice_card.last4 in page.content.decode()


def test_counter_never_sees_the_expected_bin_figure(menu, kiosk, administrator):
    _deposit(menu, {"200": 1, "100": 1, "20": 1, "5": 1}, "blind-dep-01")  # 325 in the bin
    client = _client(administrator)
    pages = [
        client.get("/admin/kiosk/kiosk/").content.decode(),
        client.get(f"/admin/kiosk/kiosk/{kiosk.pk}/change/").content.decode(),
        client.post(
            "/admin/kiosk/kiosk/", {"action": "empty_bin", "_selected_action": [kiosk.pk]}
        ).content.decode(),
    ]
    for page in pages:
        assert "325" not in page and "Cash-in bin</a>" not in page
    assert "cash_in_bin-0-count" not in pages[1]
    assert client.get("/admin/kiosk/cashindeposit/").status_code == 404  # the ledger shows after a count only


def test_one_person_cannot_both_enter_and_confirm_a_cash_count(menu, kiosk, administrator):
    _deposit(menu, {"50": 1}, "two-people-01")
    cash_count_submit(kiosk=kiosk, kind=BIN, counts={50: 1}, actor=administrator)
    before = db_picture()
    with pytest.raises(ApplicationError) as refused:
        cash_count_submit(kiosk=kiosk, kind=BIN, counts={50: 1}, actor=administrator)
    assert refused.value.code == "cash_count_same_person"
    assert not CashInReconciliation.objects.exists()
    assert dict(CashInBin.objects.filter(kiosk=kiosk).values_list("denomination", "count")) == {50: 1}
    event = AuditEvent.objects.filter(kind=AuditEvent.Kind.CASH_COUNT_ENTERED).latest("seq")
    assert (event.outcome, event.data["refused"]) == (AuditEvent.Outcome.FAILURE, "same_person")
    changes = {k for k in before.changes(db_picture()) if "audit.AuditEvent" not in k}
    assert not changes


def test_two_counts_that_differ_apply_nothing(kiosk, administrator, witness):
    cassettes = dict(Cassette.objects.filter(kiosk=kiosk).values_list("denomination", "count"))
    kind = CashCount.Kind.CASSETTES_LOAD
    cash_count_submit(kiosk=kiosk, kind=kind, counts={20: 70}, actor=administrator)
    assert cash_count_submit(kiosk=kiosk, kind=kind, counts={20: 71}, actor=witness).status == "discarded"
    assert dict(Cassette.objects.filter(kiosk=kiosk).values_list("denomination", "count")) == cassettes
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.CASH_COUNT_DISCARDED).count() == 1
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.CASSETTES_LOADED).exists()
    # The entered figures are in no audit event: the second person cannot read the first's count.
    assert all("70" not in str(e.data) for e in AuditEvent.objects.filter(kind__startswith="cash.count"))


def _change(client: Client, kiosk: Kiosk, **fields: str):
    data = {
        "name": kiosk.name,
        "location": kiosk.location,
        "currency": kiosk.currency,
        "status": kiosk.status,
    }
    data.update({"cassettes-TOTAL_FORMS": "0", "cassettes-INITIAL_FORMS": "0"})
    data.update({"credentials-TOTAL_FORMS": "0", "credentials-INITIAL_FORMS": "0"})
    data.update({"cash_in_devices-TOTAL_FORMS": "0", "cash_in_devices-INITIAL_FORMS": "0"})
    return client.post(f"/admin/kiosk/kiosk/{kiosk.pk}/change/", {**data, **fields})


def test_kiosk_currency_cannot_change_while_cash_is_held(kiosk, administrator):
    assert Cassette.objects.filter(kiosk=kiosk, count__gt=0).exists()
    client = _client(administrator)  # the login is audited: before the picture
    before = db_picture()
    response = _change(client, kiosk, currency="USD")
    assert response.status_code == 200 and "hold cash" in response.content.decode()
    assert Kiosk.objects.get(pk=kiosk.pk).currency == "EUR"
    assert_nothing_written(before)


def test_kiosk_currency_change_audit_shows_old_and_new_values(kiosk, administrator):
    Cassette.objects.filter(kiosk=kiosk).update(count=0)
    response = _change(_client(administrator), kiosk, currency="USD", location="Hall B")
    assert response.status_code == 302
    assert Kiosk.objects.get(pk=kiosk.pk).currency == "USD"
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.KIOSK_UPDATED)
    assert event.data["changes"]["currency"] == {"old": "EUR", "new": "USD"}
    assert event.data["changes"]["location"]["new"] == "Hall B" and event.actor_id == administrator.pk
