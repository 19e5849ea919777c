"""Issue 23 item 5: review and export that an auditor trusts. One test per finding."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.cache import cache
from django.urls import reverse

from audit.models import AuditEvent, AuditSnapshot
from audit.selectors import CHAIN_STATUS_CACHE_KEY

from .conftest import record, witness_sign

pytestmark = pytest.mark.django_db

GRID = "admin:audit_auditevent_snapshots"
PHONE = "+79165551234"


def _mark(client, snapshot: AuditSnapshot, status: str, note: str):
    url = reverse("admin:audit_auditevent_snapshot_mark", args=[snapshot.pk])
    return client.post(url, {"status": status, "note": note}, follow=True)


def test_reviewed_requires_a_note(client, auditor, failed_attempt):
    snapshot = AuditSnapshot.objects.get(event=failed_attempt)
    client.force_login(auditor)
    for status in (AuditSnapshot.Status.REVIEWED, AuditSnapshot.Status.FRAUD_SUSPECTED):
        response = _mark(client, snapshot, status, "   ")
        assert "Write what you checked" in response.content.decode()
    snapshot.refresh_from_db()
    assert snapshot.status == AuditSnapshot.Status.NEW and snapshot.reviewed_by is None
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.SNAPSHOT_MARKED).exists()


def test_remarking_keeps_earlier_notes_visible(client, auditor, failed_attempt):
    snapshot = AuditSnapshot.objects.get(event=failed_attempt)
    client.force_login(auditor)
    _mark(client, snapshot, AuditSnapshot.Status.FRAUD_SUSPECTED, "Looks like a printed photo")
    _mark(client, snapshot, AuditSnapshot.Status.REVIEWED, "Called the customer: it was her, new glasses")
    page = client.get(reverse(GRID), {"status": "all"}).content.decode()
    assert "Looks like a printed photo" in page
    assert "Called the customer: it was her, new glasses" in page
    assert page.index("Looks like a printed photo") > page.index("Called the customer")  # newest first


def test_snapshot_grid_opens_on_new(client, auditor, failed_attempt, jpeg):
    reviewed = AuditSnapshot.objects.get(event=failed_attempt)
    client.force_login(auditor)
    _mark(client, reviewed, AuditSnapshot.Status.REVIEWED, "Checked")
    fresh = record(kind=AuditEvent.Kind.FACE_DECISION, outcome=AuditEvent.Outcome.FAILURE, snapshot=jpeg)
    response = client.get(reverse(GRID))
    assert [item["snapshot"].event_id for item in response.context["items"]] == [fresh.pk]
    shown = client.get(reverse(GRID), {"status": "all"}).context["items"]
    assert len(shown) == 2


def _export(client) -> tuple[list[str], list[list[str]], str]:
    response = client.get(reverse("admin:audit_auditevent_export"))
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body)))
    return rows[0], rows[1:], body


def test_csv_export_leaves_out_full_phone_numbers(client, auditor):
    record(
        kind=AuditEvent.Kind.CUSTOMER_CREATED, customer_id=5, personal={"full_name": "Anna", "phone": PHONE}
    )
    record(
        kind=AuditEvent.Kind.CUSTOMER_UPDATED,
        customer_id=5,
        personal={"changes": {"phone": {"old": PHONE, "new": "+7 (916) 555-00-99"}}},
    )
    record(kind=AuditEvent.Kind.ADMIN_ACTION, data={"note": f"called {PHONE}"})
    client.force_login(auditor)
    _, _, body = _export(client)
    for digits in ("9165551234", "555-00-99", "916) 555"):
        assert digits not in body, digits
    assert "•••• 1234" in body and "•••• 0099" in body


def test_csv_export_keeps_names_only_where_the_task_needs_them(client, auditor):
    record(kind=AuditEvent.Kind.CUSTOMER_CREATED, customer_id=5, personal={"full_name": "Anna Petrova"})
    record(
        kind=AuditEvent.Kind.CUSTOMER_UPDATED,
        customer_id=5,
        personal={"changes": {"full_name": {"old": "Anna Petrova", "new": "Anna Sokolova"}}},
    )
    record(kind=AuditEvent.Kind.DEPOSIT, customer_id=5, personal={"full_name": "Anna Sokolova"})
    record(kind=AuditEvent.Kind.ADMIN_ACTION, personal={"object_repr": "Anna Sokolova (#5)"})
    client.force_login(auditor)
    header, rows, _ = _export(client)
    personal = {row[header.index("kind")]: row[header.index("personal")] for row in rows}
    assert "Anna Petrova" in personal[AuditEvent.Kind.CUSTOMER_CREATED]  # who was onboarded
    assert "Anna Sokolova" in personal[AuditEvent.Kind.CUSTOMER_UPDATED]  # what the name became
    assert "Anna" not in personal[AuditEvent.Kind.DEPOSIT]  # customer_id says whose deposit
    assert "Anna" not in personal[AuditEvent.Kind.ADMIN_ACTION]


def test_chain_banner_says_whether_the_chain_is_anchored(client, auditor, witness_files):
    record(kind=AuditEvent.Kind.DEPOSIT)
    client.force_login(auditor)
    cache.delete(CHAIN_STATUS_CACHE_KEY)
    page = client.get(reverse("admin:audit_auditevent_changelist")).content.decode()
    assert "NOT anchored" in page
    signed = witness_sign().checkpoint
    assert signed is not None
    record(kind=AuditEvent.Kind.DEPOSIT)
    cache.delete(CHAIN_STATUS_CACHE_KEY)
    page = client.get(reverse("admin:audit_auditevent_changelist")).content.decode()
    assert f"Anchored by the witness: checkpoint #{signed.seq}" in page
    assert f"witness key {signed.key_id}" in page
    assert "1 newer event not yet anchored" in page


def test_review_grid_and_chain_banner_speak_russian(client, auditor, failed_attempt, settings):
    client.force_login(auditor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    grid = client.get(reverse(GRID)).content.decode()
    for words in (
        "Снимки неудачных попыток",
        "Отметить: проверено",
        "Что вы проверили (обязательно)",
        "Новые",
    ):
        assert words in grid, words
    cache.delete(CHAIN_STATUS_CACHE_KEY)
    page = client.get(reverse("admin:audit_auditevent_changelist")).content.decode()
    assert "Цепочка в порядке" in page and "НЕ закреплена" in page
