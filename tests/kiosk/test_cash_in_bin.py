"""Back office cash: the cash-in bin is emptied and counted (blind, by two people) against the credited
deposits; cassettes are loaded through a service by two people. Every change is audited; nothing in the admin
edits cash rows directly."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from kiosk.models import CashInBin, CashInReconciliation, Cassette
from kiosk.services.cash_office import cash_in_bin_empty, cassettes_load
from tests.kiosk.conftest import deposit_counted
from tests.security.helpers import assert_nothing_written, db_picture

pytestmark = pytest.mark.django_db


@pytest.fixture
def menu(driver, alice_card, alice_pan, cash_in_module):
    driver.start(alice_pan)
    driver.verify_face()
    driver.module = cash_in_module
    return driver


@pytest.fixture
def witness(roles):
    """A second administrator: the other pair of eyes on every cash count."""
    from tests.conftest import _staff

    return _staff("wes_witness", "Administrator")


def _superuser(name: str) -> Client:
    user = get_user_model().objects.create_superuser(name, f"{name}@example.com", "correct-horse-battery")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def superuser_client() -> Client:
    return _superuser("root")


@pytest.fixture
def second_superuser_client() -> Client:
    return _superuser("root2")


def _deposit(menu, notes: dict[str, int], key: str) -> None:
    assert deposit_counted(menu, menu.module, notes, key).status_code == 201
    assert menu.post("deposits", {"idempotency_key": key}).status_code == 201


def _bin(kiosk) -> dict[int, int]:
    return dict(CashInBin.objects.filter(kiosk=kiosk).values_list("denomination", "count"))


def test_credited_deposits_add_up_in_the_bin(menu, kiosk):
    _deposit(menu, {"50": 2, "20": 1}, "bin-dep-0001")
    _deposit(menu, {"20": 3, "5": 1}, "bin-dep-0002")
    assert _bin(kiosk) == {50: 2, 20: 4, 5: 1}


def test_a_matching_count_empties_the_bin_without_a_difference(menu, kiosk, administrator, witness):
    _deposit(menu, {"50": 2, "20": 1}, "bin-dep-0001")
    reconciliation = cash_in_bin_empty(
        kiosk=kiosk, counted={50: 2, 20: 1, 10: 0}, actor=administrator, confirmed_by=witness
    )
    assert (reconciliation.expected_total, reconciliation.counted_total) == (Decimal("120"), Decimal("120"))
    assert reconciliation.difference == 0 and not reconciliation.notes_differ
    assert reconciliation.counted_by == administrator
    assert set(_bin(kiosk).values()) == {0}
    emptied = AuditEvent.objects.get(kind=AuditEvent.Kind.CASH_IN_BIN_EMPTIED)
    assert emptied.actor_id == witness.pk and emptied.data["counted_by"] == administrator.username
    assert emptied.data["expected"] == {"50": 2, "20": 1}
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.CASH_IN_BIN_DIFFERENCE).exists()
    # The next emptying expects only what was deposited since.
    _deposit(menu, {"10": 1}, "bin-dep-0002")
    assert cash_in_bin_empty(
        kiosk=kiosk, counted={10: 1}, actor=administrator, confirmed_by=witness
    ).expected_notes == {"10": 1}


def test_a_missing_note_is_a_difference_event_and_on_the_reconciliation_list(
    menu, kiosk, administrator, witness
):
    _deposit(menu, {"50": 2, "20": 1}, "bin-dep-0001")
    reconciliation = cash_in_bin_empty(
        kiosk=kiosk, counted={50: 2}, actor=administrator, confirmed_by=witness
    )
    assert reconciliation.difference == Decimal("-20") and reconciliation.notes_differ
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.CASH_IN_BIN_DIFFERENCE)
    assert event.outcome == AuditEvent.Outcome.FAILURE
    assert (event.data["difference"], event.data["counted"]) == ("-20.00", {"50": 2})
    assert list(CashInReconciliation.objects.filter(notes_differ=True)) == [reconciliation]


def test_same_total_in_other_notes_is_still_a_difference(menu, kiosk, administrator, witness):
    _deposit(menu, {"50": 1}, "bin-dep-0001")
    reconciliation = cash_in_bin_empty(
        kiosk=kiosk, counted={20: 2, 10: 1}, actor=administrator, confirmed_by=witness
    )
    assert reconciliation.difference == 0 and reconciliation.notes_differ
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.CASH_IN_BIN_DIFFERENCE).count() == 1


@pytest.mark.parametrize("counted", [{50: -1}, {50: 10**7}, {50: "2"}, {50: 1.5}, {0: 1}])
def test_bad_counts_are_refused_and_write_nothing(kiosk, administrator, witness, counted):
    before = db_picture()
    with pytest.raises(ApplicationError):
        cash_in_bin_empty(kiosk=kiosk, counted=counted, actor=administrator, confirmed_by=witness)
    with pytest.raises(ApplicationError):
        cassettes_load(kiosk=kiosk, counts=counted, actor=administrator, confirmed_by=witness)
    assert_nothing_written(before)


def test_loading_cassettes_sets_the_counts_and_is_audited(kiosk, administrator, witness):
    after = cassettes_load(
        kiosk=kiosk, counts={50: 200, 20: 100, 100: 40}, actor=administrator, confirmed_by=witness
    )
    assert after == {50: 200, 20: 100, 10: 100, 100: 40}
    assert dict(Cassette.objects.filter(kiosk=kiosk).values_list("denomination", "count")) == after
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.CASSETTES_LOADED)
    assert event.data["before"] == {"50": 100, "20": 100, "10": 100}
    assert event.data["after"]["100"] == 40 and event.actor_id == witness.pk
    assert event.data["loaded_by"] == administrator.username


def test_admin_empties_and_counts_the_bin(superuser_client, second_superuser_client, menu, kiosk):
    _deposit(menu, {"50": 2, "20": 1}, "bin-dep-0001")
    start = {"action": "empty_bin", "_selected_action": [kiosk.pk]}
    page = superuser_client.post("/admin/kiosk/kiosk/", start)
    assert page.status_code == 200
    assert 'name="note_50"' in page.content.decode()
    # A blind count: no field is pre-filled with what the deposits put in.
    assert re.search(r'name="note_\d+"[^>]*value=', page.content.decode()) is None
    fields = {f"note_{value}": 0 for value in (5, 10, 20, 50, 100, 200, 500)}
    for client in (superuser_client, second_superuser_client):  # two people count
        response = client.post(
            "/admin/kiosk/kiosk/", {**start, "apply": "1", **fields, "note_50": 2}, follow=True
        )
        assert response.status_code == 200
    assert "differs from the deposits by -20" in response.content.decode()
    reconciliation = CashInReconciliation.objects.get()
    assert reconciliation.difference == Decimal("-20") and reconciliation.notes_differ
    listing = superuser_client.get("/admin/kiosk/cashinreconciliation/?notes_differ__exact=1")
    assert listing.status_code == 200 and "-20" in listing.content.decode()
    assert superuser_client.get("/admin/kiosk/cashinreconciliation/add/").status_code == 403
    change = f"/admin/kiosk/cashinreconciliation/{reconciliation.pk}/change/"
    assert superuser_client.post(change, {"difference": "0"}).status_code == 403


def test_admin_loads_cassettes_through_the_service(superuser_client, second_superuser_client, kiosk):
    start = {"action": "load_cassettes", "_selected_action": [kiosk.pk]}
    fields = {f"note_{value}": 0 for value in (5, 10, 20, 50, 100, 200, 500)}
    for client in (superuser_client, second_superuser_client):
        client.post("/admin/kiosk/kiosk/", {**start, "apply": "1", **fields, "note_20": 70})
    assert dict(Cassette.objects.filter(kiosk=kiosk).values_list("denomination", "count"))[20] == 70
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.CASSETTES_LOADED).count() == 1
    bad = superuser_client.post("/admin/kiosk/kiosk/", {**start, "apply": "1", **fields, "note_20": -5})
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.CASSETTES_LOADED).count() == 1


def test_the_kiosk_change_form_cannot_edit_cash(superuser_client, kiosk):
    before = db_picture()
    change = f"/admin/kiosk/kiosk/{kiosk.pk}/change/"
    page = superuser_client.get(change).content.decode()
    assert 'name="cassettes-0-count"' not in page
    superuser_client.post(
        change,
        {
            "name": kiosk.name,
            "location": kiosk.location,
            "currency": kiosk.currency,
            "status": kiosk.status,
            "cassettes-TOTAL_FORMS": "1",
            "cassettes-INITIAL_FORMS": "1",
            "cassettes-0-id": Cassette.objects.filter(kiosk=kiosk).first().pk,
            "cassettes-0-count": "999999",
        },
    )
    assert before.cassettes == db_picture().cassettes


def test_only_staff_who_may_change_kiosks_count_bins_and_load_cassettes(teller, auditor, kiosk):
    fields = {f"note_{value}": 1 for value in (5, 10, 20, 50, 100, 200, 500)}
    for person in (teller, auditor):
        client = Client()
        client.force_login(person)
        for action in ("empty_bin", "load_cassettes"):
            client.post(
                "/admin/kiosk/kiosk/",
                {"action": action, "_selected_action": [kiosk.pk], "apply": "1", **fields},
            )
    assert not CashInReconciliation.objects.exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.CASSETTES_LOADED).exists()
    client = Client()
    client.force_login(auditor)
    assert client.get("/admin/kiosk/cashinreconciliation/").status_code == 200


def test_cassette_loading_defaults_to_zeros_under_one_title(superuser_client, kiosk):
    """Issue 23 item 3: the loading form starts at 0 for every denomination (never today's counts: two people
    count, and the second must not confirm by re-submitting figures the page shows) and has one title."""
    page = superuser_client.post(
        "/admin/kiosk/kiosk/", {"action": "load_cassettes", "_selected_action": [kiosk.pk]}
    ).content.decode()
    assert re.search(r'name="note_500"[^>]*value="0"', page)
    assert re.search(r'name="note_50"[^>]*value="0"', page)
    assert not re.search(r'name="note_50"[^>]*value="100"', page)
    assert page.count("<h1>Load the cassettes</h1>") == 1
