"""Enrolment end to end on real photos with the real engine (tasks eager)."""

from __future__ import annotations

import itertools

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from biometrics.models import Enrolment, EnrolmentPhoto, FaceTemplate
from biometrics.services import enrolment_capture, enrolment_encoding, enrolment_review, gallery_sync
from tests.biometrics.test_enrolment_support import BIDEN, OBAMA, enrol, fresh_gallery, read  # noqa: F401
from tests.factories import CustomerFactory
from tests.support.faces import first_enrolment_approve

pytestmark = [pytest.mark.faces, pytest.mark.usefixtures("fresh_gallery")]


def test_branch_api_enrolment_end_to_end(teller, faces_dir, django_capture_on_commit_callbacks):
    customer = CustomerFactory(full_name="Barack Obama")
    client = APIClient()
    client.force_login(teller)
    consent = client.post(reverse("biometrics:consent", args=[customer.pk]), {"consent": True}, format="json")
    assert consent.status_code == 200
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.conf.settings.ENROLMENT_PHOTOS_REQUIRED", 3)
        started = client.post(reverse("biometrics:enrolment-start"), {"customer": customer.pk}, format="json")
    assert started.status_code == 201, started.json()
    enrolment_id = started.json()["id"]
    photo_url = reverse("biometrics:enrolment-photo", args=[enrolment_id])
    for index, relative in enumerate(OBAMA, start=1):
        answer = client.post(photo_url, {"photo": _upload(read(faces_dir, relative)), "stills": True})
        assert answer.status_code == 201, answer.json()
        assert answer.json()["photos_taken"] == index

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        submitted = client.post(reverse("biometrics:enrolment-submit", args=[enrolment_id]))
    assert submitted.status_code == 202
    assert len(callbacks) == 1  # the encoding task is queued only once the submit has committed

    status = client.get(reverse("biometrics:enrolment", args=[enrolment_id])).json()
    assert status["status"] == "needs_review", status  # a first face waits for a second person
    first_enrolment_approve(customer)
    status = client.get(reverse("biometrics:enrolment", args=[enrolment_id])).json()
    assert status["status"] == "active", status
    assert status["encoded_count"] == 3
    active = FaceTemplate.objects.filter(customer=customer, revoked_at__isnull=True)
    assert active.count() == 3 and all(t.gallery_added_version for t in active)
    kinds = set(AuditEvent.objects.filter(customer_id=customer.pk).values_list("kind", flat=True))
    assert {
        AuditEvent.Kind.CONSENT_RECORDED,
        AuditEvent.Kind.ENROLMENT_SUBMITTED,
        AuditEvent.Kind.ENROLMENT_COMPLETED,
    } <= kinds
    customer.refresh_from_db()
    assert customer.biometric_consent_by == teller
    # The stored originals are ciphertext, never the JPEG.
    photo = EnrolmentPhoto.objects.filter(enrolment_id=enrolment_id).first()
    from django.core.files.storage import default_storage

    with default_storage.open(photo.storage_name, "rb") as handle:
        assert handle.read(6) == b"gAAAAA"


def _upload(data: bytes, name: str = "shot.jpg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def test_second_customer_with_the_same_face_needs_review(teller, administrator, faces_dir):
    first = CustomerFactory()
    assert enrol(first, faces_dir, OBAMA[:2], teller).status == Enrolment.Status.ACTIVE
    impostor = CustomerFactory()
    flagged = enrol(impostor, faces_dir, [OBAMA[2], "people/barack_obama/obama_4.jpg"], teller)
    assert flagged.status == Enrolment.Status.NEEDS_REVIEW
    assert flagged.duplicate_of_customer_id == first.pk
    assert flagged.duplicate_distance is not None and flagged.duplicate_distance < 0.5
    assert not FaceTemplate.objects.filter(customer=impostor, gallery_added_version__isnull=False).exists()
    assert AuditEvent.objects.filter(
        kind=AuditEvent.Kind.DUPLICATE_IDENTITY, customer_id=impostor.pk
    ).exists()
    # Nobody matches the flagged face until a reviewer decides.
    assert {m.customer_id for m in [gallery_sync.gallery_current().nearest(_one(impostor))]} == {first.pk}

    with pytest.raises(ApplicationError) as refused:
        enrolment_review.enrolment_review(enrolment=flagged, actor=teller, approve=True)
    assert refused.value.code == "four_eyes"
    rejected = enrolment_review.enrolment_review(
        enrolment=flagged, actor=administrator, approve=False, note="fraud"
    )
    assert rejected.status == Enrolment.Status.REJECTED
    assert not FaceTemplate.objects.filter(customer=impostor, revoked_at__isnull=True).exists()
    assert AuditEvent.objects.filter(
        kind=AuditEvent.Kind.ENROLMENT_REVIEWED, customer_id=impostor.pk
    ).exists()


def _one(customer):
    from biometrics.models import encoding_unpack

    return encoding_unpack(FaceTemplate.objects.filter(customer=customer).first().encoding)


def test_re_enrolment_waits_for_approval_then_revokes_the_old_templates(teller, administrator, faces_dir):
    from accounts.approvals import services as approvals
    from accounts.models import ChangeRequest

    customer = CustomerFactory()
    first = enrol(customer, faces_dir, BIDEN[:1], teller)
    old_ids = set(first.templates.values_list("id", flat=True))
    second = enrol(customer, faces_dir, BIDEN[1:], teller)
    assert second.status == Enrolment.Status.NEEDS_REVIEW
    assert FaceTemplate.objects.filter(pk__in=old_ids, revoked_at__isnull=True).count() == len(old_ids)
    change = ChangeRequest.objects.get(kind=ChangeRequest.Kind.FACE_REENROL, customer=customer)
    approvals.change_request_approve(change_request=change, actor=administrator)
    second.refresh_from_db()
    assert second.status == Enrolment.Status.ACTIVE
    first.refresh_from_db()
    assert first.status == Enrolment.Status.SUPERSEDED
    assert all(t.revoked_at is not None for t in FaceTemplate.objects.filter(pk__in=old_ids))
    gallery = gallery_sync.gallery_current()
    assert len(gallery) == 1
    assert gallery.nearest(_one(customer)).template_id not in old_ids


def test_encoding_twice_creates_no_duplicate_templates(teller, faces_dir):
    customer = CustomerFactory()
    enrolment = enrol(customer, faces_dir, BIDEN, teller, encode=False)
    # A redelivered task after a crash between two photos: the first run stopped mid-way.
    Enrolment.objects.filter(pk=enrolment.pk).update(status=Enrolment.Status.ENCODING)
    enrolment_encoding.enrolment_encode(enrolment_id=enrolment.pk)
    enrolment_encoding.enrolment_encode(enrolment_id=enrolment.pk)
    assert FaceTemplate.objects.filter(enrolment=enrolment).count() == 2
    first_enrolment_approve(customer)
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE and enrolment.encoded_count == 2
    assert (
        AuditEvent.objects.filter(kind=AuditEvent.Kind.ENROLMENT_COMPLETED, customer_id=customer.pk).count()
        == 1
    )


def test_live_capture_asks_for_a_head_movement_between_identical_poses(teller, faces_dir):
    from PIL import Image, ImageEnhance

    customer = CustomerFactory()
    enrolment_capture.customer_consent_record(customer=customer, actor=teller)
    enrolment = enrolment_capture.enrolment_start(customer=customer, actor=teller, photos_required=3)
    original = read(faces_dir, BIDEN[1])
    enrolment_capture.enrolment_photo_add(enrolment=enrolment, data=original, actor=teller)
    # Same pose, different bytes (a camera firing twice at a still head).
    import io

    buffer = io.BytesIO()
    ImageEnhance.Brightness(Image.open(io.BytesIO(original))).enhance(1.05).save(buffer, "JPEG", quality=90)
    with pytest.raises(ApplicationError) as refused:
        enrolment_capture.enrolment_photo_add(enrolment=enrolment, data=buffer.getvalue(), actor=teller)
    assert refused.value.code == "photo_too_similar"
    assert "move your head" in refused.value.message
    with pytest.raises(ApplicationError) as duplicate:
        enrolment_capture.enrolment_photo_add(enrolment=enrolment, data=original, actor=teller)
    assert duplicate.value.code == "photo_duplicate"
    assert enrolment.photos.count() == 1


def test_a_short_clip_provides_the_photos(teller, faces_dir):
    from biometrics.services.enrolment_capture import _pose_changed

    customer = CustomerFactory()
    enrolment_capture.customer_consent_record(customer=customer, actor=teller)
    enrolment = enrolment_capture.enrolment_start(customer=customer, actor=teller, photos_required=3)
    client = APIClient()
    client.force_login(teller)
    clip = read(faces_dir, "video/short_hamilton_clip.mp4")
    answer = client.post(
        reverse("biometrics:enrolment-clip", args=[enrolment.pk]), {"clip": _upload(clip, "clip.mp4")}
    )
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert 1 <= body["photos_taken"] <= 3
    photos = list(enrolment.photos.order_by("index"))
    assert len(photos) == body["photos_taken"]
    assert all(photo.quality["from_clip"] for photo in photos)
    for before, after in itertools.pairwise(photos):
        assert _pose_changed(before.quality["pose"], after.quality["pose"])


def test_a_clip_that_is_not_a_video_is_refused(teller):
    customer = CustomerFactory()
    enrolment_capture.customer_consent_record(customer=customer, actor=teller)
    enrolment = enrolment_capture.enrolment_start(customer=customer, actor=teller, photos_required=3)
    client = APIClient()
    client.force_login(teller)
    url = reverse("biometrics:enrolment-clip", args=[enrolment.pk])
    answer = client.post(url, {"clip": _upload(b"\x00\x01 not a video at all" * 50, "clip.mp4")})
    assert answer.status_code == 400 and answer.json()["code"] == "clip_not_a_video"
    assert client.post(url, {"clip": _upload(b"", "clip.mp4")}).json()["code"] == "clip_empty"
    assert enrolment.photos.count() == 0


def test_photos_of_two_people_fail_the_enrolment(teller, faces_dir):
    customer = CustomerFactory()
    failed = enrol(customer, faces_dir, [BIDEN[0], OBAMA[0]], teller)
    assert failed.status == Enrolment.Status.FAILED
    assert "same person" in failed.failure_reason
    assert not FaceTemplate.objects.filter(customer=customer, gallery_added_version__isnull=False).exists()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.ENROLMENT_FAILED, customer_id=customer.pk).exists()


def test_a_clip_of_views_already_taken_adds_no_photos(teller, faces_dir):
    """Clip frames are re-encoded stills (new bytes), so the byte check alone cannot see a repeat: each frame
    is compared with every kept shot's pose, not only the last one."""
    customer = CustomerFactory()
    enrolment_capture.customer_consent_record(customer=customer, actor=teller)
    enrolment = enrolment_capture.enrolment_start(customer=customer, actor=teller, photos_required=30)
    client = APIClient()
    client.force_login(teller)
    url = reverse("biometrics:enrolment-clip", args=[enrolment.pk])
    clip = read(faces_dir, "video/short_hamilton_clip.mp4")
    first = client.post(url, {"clip": _upload(clip, "clip.mp4")})
    assert first.status_code == 201, first.json()
    kept = enrolment.photos.count()
    assert 1 <= kept < 30

    again = client.post(url, {"clip": _upload(clip, "clip.mp4")})

    assert again.status_code == 400, again.json()
    assert again.json()["code"] == "clip_frames_already_taken"
    assert enrolment.photos.count() == kept
