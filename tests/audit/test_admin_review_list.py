"""The audit list a reviewer reads: the reason, customer and kiosk by name, a snapshot thumbnail; a note
when marking a snapshot reviewed."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from audit.models import AuditEvent, AuditSnapshot
from tests.audit.conftest import record

pytestmark = pytest.mark.django_db


@pytest.fixture
def failures(alice_card, kiosk, jpeg):
    made = {}
    for reason in ("mismatch", "several_faces", "no_match", "liveness", "timeout"):
        made[reason] = record(
            kind=AuditEvent.Kind.FACE_DECISION,
            outcome=AuditEvent.Outcome.FAILURE,
            kiosk_id=kiosk.pk,
            customer_id=alice_card.customer_id,
            card_last4=alice_card.last4,
            data={"reason": reason, "frames_seen": 7},
            snapshot=jpeg if reason != "timeout" else None,
        )
    return made


def test_list_shows_reason_names_and_thumbnails(client, auditor, failures):
    client.force_login(auditor)
    page = client.get(reverse("admin:audit_auditevent_changelist")).content.decode()
    for words in ("Another customer", "Several faces", "No match", "Liveness", "Timed out"):
        assert words in page, words
    assert "Alice Archer" in page and "Test kiosk" in page
    assert page.count('class="snapshot-thumb"') == 4  # the timeout kept no frame
    assert "data:image/jpeg;base64," in page
    viewed = AuditEvent.objects.filter(kind=AuditEvent.Kind.SNAPSHOT_VIEWED).latest("seq")
    assert len(viewed.data["snapshot_ids"]) == 4


def test_reason_filter(client, auditor, failures):
    client.force_login(auditor)
    page = client.get(
        reverse("admin:audit_auditevent_changelist"), {"reason": "several_faces"}
    ).content.decode()
    cells = re.findall(r'<td class="field-reason_display">([^<]*)</td>', page)
    assert cells == ["Several faces"]


def test_teller_sees_no_snapshot_thumbnails(client, teller, failures):
    client.force_login(teller)
    answer = client.get(reverse("admin:audit_auditevent_changelist"))
    if answer.status_code == 200:
        assert "snapshot-thumb" not in answer.content.decode()


def test_marking_reviewed_keeps_the_note(client, auditor, failures):
    client.force_login(auditor)
    snapshot = AuditSnapshot.objects.get(event=failures["mismatch"])
    answer = client.post(
        reverse("admin:audit_auditevent_snapshot_mark", args=[snapshot.pk]),
        {"status": "reviewed", "note": "Twin brother, called the customer"},
        follow=True,
    )
    assert answer.status_code == 200
    snapshot.refresh_from_db()
    assert snapshot.status == AuditSnapshot.Status.REVIEWED
    assert snapshot.review_note == "Twin brother, called the customer"
    assert "Twin brother, called the customer" in answer.content.decode()
    marked = AuditEvent.objects.filter(kind=AuditEvent.Kind.SNAPSHOT_MARKED).latest("seq")
    assert marked.data["note"] == "Twin brother, called the customer"


def test_a_note_too_long_is_refused_and_nothing_changes(client, auditor, failures):
    client.force_login(auditor)
    snapshot = AuditSnapshot.objects.get(event=failures["mismatch"])
    answer = client.post(
        reverse("admin:audit_auditevent_snapshot_mark", args=[snapshot.pk]),
        {"status": "reviewed", "note": "x" * 301},
    )
    assert answer.status_code == 400
    snapshot.refresh_from_db()
    assert snapshot.status == AuditSnapshot.Status.NEW
