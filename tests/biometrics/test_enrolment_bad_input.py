"""Bad uploads to the enrolment photo API: a 400 with the reason, and nothing stored."""

from __future__ import annotations

import io
import struct

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from rest_framework.test import APIClient

from biometrics.models import EnrolmentPhoto, FaceTemplate
from biometrics.services import enrolment_capture
from tests.biometrics.test_enrolment_support import BIDEN, read
from tests.factories import CustomerFactory


def _jpeg(width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((width, height), 40).convert("RGB").save(buffer, "JPEG")
    return buffer.getvalue()


def _gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("P", (32, 32)).save(buffer, "GIF")
    return buffer.getvalue()


def _truncated_jpeg() -> bytes:
    data = _jpeg(640, 480)
    return data[: len(data) // 2]


def _huge_jpeg_header(width: int = 8000, height: int = 6250) -> bytes:
    """A small JPEG whose frame header claims 50 megapixels (a decompression bomb)."""
    data = bytearray(_jpeg())
    marker = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, marker + 5, height, width)
    return bytes(data)


@pytest.fixture
def capture(teller):
    customer = CustomerFactory()
    enrolment_capture.customer_consent_record(customer=customer, actor=teller)
    enrolment = enrolment_capture.enrolment_start(customer=customer, actor=teller, photos_required=2)
    client = APIClient()
    client.force_login(teller)
    return client, reverse("biometrics:enrolment-photo", args=[enrolment.pk])


def _post(client, url, data: bytes, name: str = "shot.jpg"):
    return client.post(url, {"photo": SimpleUploadedFile(name, data, content_type="image/jpeg")})


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"", "image_empty"),
        (b"%PDF-1.4 definitely not an image" * 10, "image_not_an_image"),
        (_truncated_jpeg(), "image_corrupt"),
        (_huge_jpeg_header(), "image_too_large"),
        (_gif(), "image_unsupported_format"),
    ],
    ids=["empty", "not-an-image", "truncated-jpeg", "50-megapixels", "gif"],
)
def test_bad_bytes_are_refused_with_a_reason(capture, payload, code):
    client, url = capture
    answer = _post(client, url, payload)
    assert answer.status_code == 400, answer.content
    body = answer.json()
    assert body["code"] == code
    assert body["detail"]
    assert EnrolmentPhoto.objects.count() == 0


def test_missing_file_field_is_a_400(capture):
    client, url = capture
    answer = client.post(url, {"other": "x"})
    assert answer.status_code == 400 and answer.json()["code"] == "photo_missing"
    assert EnrolmentPhoto.objects.count() == 0


@pytest.mark.faces
@pytest.mark.parametrize(
    ("relative", "code"),
    [("scenes/two_people.jpg", "several_faces"), ("scenes/dogs.jpg", "no_face")],
    ids=["two-faces", "dog-photo"],
)
def test_unusable_photos_are_refused_and_not_stored(capture, faces_dir, relative, code):
    from django.core.files.storage import default_storage

    client, url = capture
    files_before = _stored_files(default_storage)
    answer = _post(client, url, read(faces_dir, relative))
    assert answer.status_code == 400
    assert answer.json()["code"] == code
    assert answer.json()["accepted"] is False
    assert EnrolmentPhoto.objects.count() == 0 and FaceTemplate.objects.count() == 0
    assert _stored_files(default_storage) == files_before


def _stored_files(storage) -> set[str]:
    try:
        return set(storage.listdir("enrolment")[1])
    except FileNotFoundError:
        return set()


@pytest.mark.faces
def test_submit_needs_all_photos_and_a_closed_enrolment_refuses_more(capture, faces_dir):
    client, url = capture
    assert _post(client, url, read(faces_dir, BIDEN[0])).status_code == 201
    enrolment_id = EnrolmentPhoto.objects.get().enrolment_id
    early = client.post(reverse("biometrics:enrolment-submit", args=[enrolment_id]))
    assert early.status_code == 400 and early.json()["code"] == "photos_missing"


def test_enrolment_needs_consent(teller):
    client = APIClient()
    client.force_login(teller)
    customer = CustomerFactory()
    answer = client.post(reverse("biometrics:enrolment-start"), {"customer": customer.pk}, format="json")
    assert answer.status_code == 400 and answer.json()["code"] == "consent_missing"
    refused = client.post(
        reverse("biometrics:consent", args=[customer.pk]), {"consent": False}, format="json"
    )
    assert refused.status_code == 400
    customer.refresh_from_db()
    assert customer.biometric_consent_at is None
