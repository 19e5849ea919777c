"""The audit back office: read-only list with the chain's status, filters, and the CSV export."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.urls import reverse

from audit.models import AuditEvent
from audit.selectors import CHAIN_STATUS_CACHE_KEY
from audit.services import audit_customer_erase

from .conftest import raw_sql, record

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:audit_auditevent_changelist"
EXPORT = "admin:audit_auditevent_export"


def _csv(response) -> list[list[str]]:
    assert response.streaming
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture(autouse=True)
def _fresh_chain_status() -> None:
    cache.delete(CHAIN_STATUS_CACHE_KEY)


@pytest.fixture
def events(db: None) -> list[AuditEvent]:
    return [
        record(kind=AuditEvent.Kind.WITHDRAWAL, kiosk_id=3, card_last4="1111", data={"amount": "10.00"}),
        record(kind=AuditEvent.Kind.DEPOSIT, kiosk_id=4, card_last4="2222", personal={"full_name": "Eve"}),
        record(kind=AuditEvent.Kind.CARD_BLOCKED, card_last4="1111"),
    ]


def test_changelist_shows_the_chain_status(client, auditor, events):
    client.force_login(auditor)
    page = client.get(reverse(CHANGELIST)).content.decode()
    # 3 events, the auditor's login, nothing else
    assert "Chain OK: 4 events verified, head at #4" in page
    raw_sql("UPDATE audit_auditevent SET kind = %s WHERE seq = %s", [AuditEvent.Kind.LOCKOUT, 2])
    cache.delete(CHAIN_STATUS_CACHE_KEY)  # the page reuses a status for up to a minute
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert "Chain BROKEN at #2" in page


@pytest.mark.parametrize(
    ("query", "expected_seqs"),
    [
        ({"card_last4": "1111"}, {1, 3}),
        ({"kiosk_id": "4"}, {2}),
        ({"kind__exact": "money.deposit"}, {2}),
        ({"q": "2222"}, {2}),
        ({"card_last4": "11"}, set()),
    ],
)
def test_filters(client, auditor, events, query, expected_seqs):
    client.force_login(auditor)
    response = client.get(reverse(CHANGELIST), query)
    assert response.status_code == 200
    assert {event.seq for event in response.context["cl"].result_list} == expected_seqs


def test_auditor_cannot_add_change_or_delete_events(client, auditor, administrator, events):
    for user in (auditor, administrator):
        client.force_login(user)
        change = reverse("admin:audit_auditevent_change", args=[events[0].pk])
        assert client.get(change).status_code == 200
        assert client.post(change, {"kind": "money.deposit"}).status_code == 403
        delete = reverse("admin:audit_auditevent_delete", args=[events[0].pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert AuditEvent.objects.get(pk=events[0].pk).kind == AuditEvent.Kind.WITHDRAWAL


def test_auditor_exports_csv_and_the_export_is_recorded(client, auditor, events):
    client.force_login(auditor)
    response = client.get(reverse(EXPORT))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv(response)
    header, body = rows[0], rows[1:]
    assert header[:3] == ["seq", "created_at", "kind"]
    # The three events, the auditor's login, and the export itself (recorded before the rows are read).
    assert [row[0] for row in body] == ["1", "2", "3", "4", "5"]
    assert [row[2] for row in body[3:]] == [AuditEvent.Kind.STAFF_LOGIN, AuditEvent.Kind.AUDIT_EXPORTED]
    # A deposit's review does not need the customer's name (issue 23 item 5): withheld, the field named.
    assert body[1][header.index("personal")] == '{"full_name": "(withheld)"}'
    exported = AuditEvent.objects.get(kind=AuditEvent.Kind.AUDIT_EXPORTED)
    assert exported.actor_username == auditor.username


def test_export_follows_the_changelist_filters(client, auditor, events):
    client.force_login(auditor)
    rows = _csv(client.get(reverse(EXPORT), {"card_last4": "1111"}))
    assert [row[0] for row in rows[1:]] == ["1", "3"]
    assert client.get(reverse(EXPORT), {"no_such_field": "1"}).status_code == 400


def test_export_action_on_selected_rows(client, auditor, events):
    client.force_login(auditor)
    response = client.post(
        reverse(CHANGELIST), {"action": "export_selected", "_selected_action": [events[1].pk]}
    )
    assert [row[0] for row in _csv(response)[1:]] == ["2"]


def test_teller_cannot_export(client, teller, events):
    client.force_login(teller)
    assert client.get(reverse(EXPORT)).status_code == 403
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.AUDIT_EXPORTED).exists()


def test_csv_injection_is_neutralised(client, auditor, events):
    attacker = SimpleNamespace(pk=None, username='=HYPERLINK("http://evil")')
    record(kind=AuditEvent.Kind.ADMIN_ACTION, actor=attacker)
    record(kind=AuditEvent.Kind.ADMIN_ACTION, actor=SimpleNamespace(pk=None, username="@SUM(1)"))
    record(kind=AuditEvent.Kind.ADMIN_ACTION, actor=SimpleNamespace(pk=None, username="-2+3"))
    client.force_login(auditor)
    rows = _csv(client.get(reverse(EXPORT)))
    names = [row[rows[0].index("actor_username")] for row in rows[1:]]
    assert '\'=HYPERLINK("http://evil")' in names
    assert "'@SUM(1)" in names and "'-2+3" in names
    assert not any(name.startswith(("=", "+", "-", "@")) for name in names)


def test_export_never_includes_erased_personal_data(client, auditor, administrator):
    from accounts import services

    services.customer_create(full_name="Gil Gray", phone="+447700900998")
    customer = services.customer_create(full_name="Fay Fox", phone="+447700900999")
    audit_customer_erase(customer_id=customer.pk, actor=administrator)
    client.force_login(auditor)
    body = b"".join(client.get(reverse(EXPORT)).streaming_content).decode()
    assert "Fay Fox" not in body and "+447700900999" not in body
    assert "Gil Gray" in body  # not erased: still there


def test_changelist_has_filter_boxes_and_a_filtered_export_link(client, auditor, teller, events):
    client.force_login(auditor)
    page = client.get(reverse(CHANGELIST), {"card_last4": "1111", "kind__exact": "money.withdrawal"})
    html = page.content.decode()
    assert 'name="card_last4" value="1111"' in html
    assert '<input type="hidden" name="kind__exact" value="money.withdrawal">' in html
    assert reverse(EXPORT) + "?card_last4=1111&amp;kind__exact=money.withdrawal" in html
    assert reverse("admin:audit_auditevent_snapshots") in html
    client.force_login(teller)
    assert client.get(reverse(CHANGELIST)).status_code == 403
