"""Failed-attempt snapshots: encrypted at rest, seen only by auditors (each view recorded), purged, erased."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts import services as accounts_services
from atmsite.crypto import decrypt_bytes, encrypted_file_read
from audit.models import AuditEvent, AuditSnapshot
from audit.selectors import chain_verify
from audit.services import audit_customer_erase, audit_event_record, snapshots_purge
from audit.tasks import snapshots_purge_task

from .conftest import record

pytestmark = pytest.mark.django_db


def _file(snapshot: AuditSnapshot) -> Path:
    return Path(default_storage.path(snapshot.storage_name))


def _image_url(snapshot_id: int) -> str:
    return reverse("admin:audit_auditevent_snapshot_image", args=[snapshot_id])


# --- storage ------


def test_snapshot_is_stored_encrypted_with_its_event(failed_attempt, jpeg):
    snapshot = AuditSnapshot.objects.get(event=failed_attempt)
    stored = _file(snapshot).read_bytes()
    assert jpeg[:2] == b"\xff\xd8"
    assert not stored.startswith(b"\xff\xd8") and jpeg not in stored
    assert decrypt_bytes(stored) == jpeg
    assert snapshot.storage_name.startswith("snapshots/")
    assert snapshot.status == AuditSnapshot.Status.NEW
    assert snapshot.created_at == failed_attempt.created_at
    assert chain_verify().ok


def test_rolled_back_snapshot_leaves_no_row_and_its_orphan_file_is_purged_after_a_day(db, jpeg, media_root):
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        audit_event_record(kind=AuditEvent.Kind.FACE_DECISION, snapshot=jpeg)
        1 / 0  # noqa: B018
    assert not AuditEvent.objects.exists() and not AuditSnapshot.objects.exists()
    orphans = list((media_root / "snapshots").iterdir())
    assert len(orphans) == 1  # harmless ciphertext, documented
    assert snapshots_purge().orphans_deleted == 0  # too young: its transaction could still be open
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
        assert snapshots_purge().orphans_deleted == 1
    assert not orphans[0].exists()


# --- viewing ------


def test_auditor_sees_the_decrypted_image_and_the_view_is_recorded(client, auditor, failed_attempt, jpeg):
    snapshot = AuditSnapshot.objects.get(event=failed_attempt)
    client.force_login(auditor)
    response = client.get(_image_url(snapshot.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "no-store" in response["Cache-Control"]
    assert response.content == jpeg
    viewed = AuditEvent.objects.get(kind=AuditEvent.Kind.SNAPSHOT_VIEWED)
    assert viewed.actor_username == auditor.username
    assert viewed.data["snapshot_ids"] == [snapshot.pk]
    assert viewed.customer_id == failed_attempt.customer_id


def test_administrator_may_view_too(client, administrator, failed_attempt):
    snapshot = AuditSnapshot.objects.get(event=failed_attempt)
    client.force_login(administrator)
    assert client.get(_image_url(snapshot.pk)).status_code == 200


def test_teller_gets_403_for_existing_and_unknown_ids_alike(client, teller, failed_attempt):
    snapshot = AuditSnapshot.objects.get(event=failed_attempt)
    client.force_login(teller)
    existing = client.get(_image_url(snapshot.pk))
    unknown = client.get(_image_url(snapshot.pk + 1000))
    assert existing.status_code == unknown.status_code == 403
    assert existing.content == unknown.content
    assert client.get(reverse("admin:audit_auditevent_snapshots")).status_code == 403
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.SNAPSHOT_VIEWED).exists()


def test_anonymous_is_sent_to_the_login_page(client, failed_attempt):
    snapshot = AuditSnapshot.objects.get(event=failed_attempt)
    response = client.get(_image_url(snapshot.pk))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.SNAPSHOT_VIEWED).exists()


def test_unknown_id_is_404_for_an_auditor(client, auditor, failed_attempt):
    client.force_login(auditor)
    assert client.get(_image_url(987654)).status_code == 404
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.SNAPSHOT_VIEWED).exists()


def test_review_grid_shows_thumbnails_and_records_one_view(client, auditor, failed_attempt, jpeg):
    from PIL import Image

    client.force_login(auditor)
    response = client.get(reverse("admin:audit_auditevent_snapshots"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    item = response.context["items"][0]
    assert item["thumbnail"].startswith("data:image/jpeg;base64,")
    import base64

    thumb = Image.open(io.BytesIO(base64.b64decode(item["thumbnail"].split(",", 1)[1])))
    assert thumb.format == "JPEG" and max(thumb.size) <= 240
    viewed = AuditEvent.objects.get(kind=AuditEvent.Kind.SNAPSHOT_VIEWED)
    assert viewed.data == {"snapshot_ids": [item["snapshot"].pk], "view": "thumbnails"}


def test_event_page_links_its_snapshot_for_auditors_only(client, auditor, teller, failed_attempt):
    snapshot = AuditSnapshot.objects.get(event=failed_attempt)
    url = reverse("admin:audit_auditevent_change", args=[failed_attempt.pk])
    client.force_login(auditor)
    page = client.get(url).content.decode()
    assert _image_url(snapshot.pk) in page
    client.force_login(teller)
    assert client.get(url).status_code == 403


# --- marking ------


def test_marking_fraud_suspected_is_an_event(client, auditor, failed_attempt):
    snapshot = AuditSnapshot.objects.get(event=failed_attempt)
    client.force_login(auditor)
    url = reverse("admin:audit_auditevent_snapshot_mark", args=[snapshot.pk])
    response = client.post(url, {"status": AuditSnapshot.Status.FRAUD_SUSPECTED, "note": "Printed photo"})
    assert response.status_code == 302
    snapshot.refresh_from_db()
    assert snapshot.status == AuditSnapshot.Status.FRAUD_SUSPECTED
    assert snapshot.reviewed_by == auditor and snapshot.reviewed_at is not None
    marked = AuditEvent.objects.get(kind=AuditEvent.Kind.SNAPSHOT_MARKED)
    assert marked.actor_username == auditor.username
    assert marked.data["status"] == "fraud_suspected" and marked.data["previous"] == "new"
    assert chain_verify().ok


def test_marking_needs_the_permission_a_post_and_a_valid_status(client, auditor, teller, failed_attempt):
    snapshot = AuditSnapshot.objects.get(event=failed_attempt)
    url = reverse("admin:audit_auditevent_snapshot_mark", args=[snapshot.pk])
    client.force_login(teller)
    assert client.post(url, {"status": "reviewed"}).status_code == 403
    client.force_login(auditor)
    assert client.get(url).status_code == 405
    assert client.post(url, {"status": "deleted"}).status_code == 400
    assert client.post(url, {"status": "reviewed", "note": "ok", "next": "https://evil.example/"})[
        "Location"
    ] == reverse("admin:audit_auditevent_snapshots")
    snapshot.refresh_from_db()
    assert snapshot.status == AuditSnapshot.Status.REVIEWED
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.SNAPSHOT_MARKED).count() == 1


# --- retention ------


def test_purge_past_retention_deletes_files_and_keeps_events(
    settings, failed_attempt, jpeg, django_capture_on_commit_callbacks
):
    settings.AUDIT_SNAPSHOT_RETENTION_DAYS = 30
    old = AuditSnapshot.objects.get(event=failed_attempt)
    with time_machine.travel(timezone.now() + dt.timedelta(days=20)):
        recent = AuditSnapshot.objects.get(event=record(snapshot=jpeg))
    with (
        time_machine.travel(timezone.now() + dt.timedelta(days=31)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = snapshots_purge()
    assert result.purged == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.purged_at is not None and not _file(old).exists()
    assert recent.purged_at is None and encrypted_file_read(recent.storage_name) == jpeg
    assert AuditEvent.objects.filter(pk=failed_attempt.pk).exists()
    purged = AuditEvent.objects.get(kind=AuditEvent.Kind.SNAPSHOT_PURGED)
    assert purged.data["count"] == 1 and purged.data["retention_days"] == 30
    assert chain_verify().ok


def test_purged_snapshot_answers_410(client, auditor, failed_attempt, django_capture_on_commit_callbacks):
    snapshot = AuditSnapshot.objects.get(event=failed_attempt)
    with django_capture_on_commit_callbacks(execute=True):
        snapshots_purge(now=timezone.now() + dt.timedelta(days=400))
    client.force_login(auditor)
    assert client.get(_image_url(snapshot.pk)).status_code == 410


def test_purge_command_and_task(failed_attempt, django_capture_on_commit_callbacks):
    snapshot = AuditSnapshot.objects.get(event=failed_attempt)
    out = io.StringIO()
    with (
        time_machine.travel(timezone.now() + dt.timedelta(days=365)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        call_command("purge_snapshots", stdout=out)
        assert snapshots_purge_task.delay().get() == {"purged": 0, "orphans_deleted": 0}
    assert "Purged 1 snapshot(s)" in out.getvalue()
    assert not _file(snapshot).exists()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.SNAPSHOT_PURGED).count() == 2


# --- erasure ------


def test_customer_erasure_removes_snapshots_and_personal_data_and_keeps_the_chain(
    administrator, alice_card, bob_card, jpeg, django_capture_on_commit_callbacks
):
    carol = accounts_services.customer_create(full_name="Carol Cole", phone="+447700900777")
    carol_attempt = record(customer_id=carol.pk, snapshot=jpeg, personal={"full_name": "Carol Cole"})
    bob_attempt = record(customer_id=bob_card.customer_id, snapshot=jpeg, personal={"full_name": "Bob"})
    carol_snapshot = AuditSnapshot.objects.get(event=carol_attempt)
    with django_capture_on_commit_callbacks(execute=True):
        audit_customer_erase(customer_id=carol.pk, actor=administrator, data={"templates_erased": 2})
    assert not AuditSnapshot.objects.filter(event__customer_id=carol.pk).exists()
    assert not _file(carol_snapshot).exists()
    for event in AuditEvent.objects.filter(customer_id=carol.pk).exclude(
        kind=AuditEvent.Kind.BIOMETRICS_ERASED
    ):
        assert event.personal == {} and event.personal_erased
    assert AuditEvent.objects.filter(customer_id=carol.pk).count() == 3  # created, attempt, erased
    erased = AuditEvent.objects.get(kind=AuditEvent.Kind.BIOMETRICS_ERASED)
    assert erased.data == {"templates_erased": 2, "snapshots_deleted": 1, "events_blanked": 2}
    assert erased.actor_username == administrator.username
    bob_attempt.refresh_from_db()
    assert bob_attempt.personal == {"full_name": "Bob"}
    assert AuditSnapshot.objects.filter(event=bob_attempt).exists()
    assert chain_verify().ok
