"""The second face model in the product: encrypted templates at enrolment, existing customers moved over by
reencode_templates, and the kiosk's 1:1 decision taken on its per-template score (real photos and models)."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection

from audit.models import AuditEvent
from biometrics import engine
from biometrics.comparison import DEFAULT_SHIFT
from biometrics.models import FaceTemplate
from biometrics.services import second_model, verification
from biometrics.verdicts import FaceOutcome
from tests.factories import CustomerFactory
from tests.kiosk.test_real_faces import _enrol, _frames
from tests.support.faces import first_enrolment_approve

pytestmark = [pytest.mark.faces, pytest.mark.django_db]


@pytest.fixture
def second_on(settings, models_dir: Path):
    from biometrics.services.gallery_sync import gallery_reset

    settings.FACE_MODEL_ENABLED = True
    gallery_reset()
    verification.cache_clear()
    second_model.cache_clear()
    return settings


def _people(faces_dir: Path) -> Path:
    return faces_dir / "people"


def _enrol_now(customer, photos, capture) -> None:
    with capture(execute=True):
        _enrol(customer, photos)
    with capture(execute=True):
        first_enrolment_approve(customer)  # a first face waits for a second member of staff


def test_enrolment_stores_the_second_model_template_encrypted_with_its_shift(
    second_on, faces_dir, django_capture_on_commit_callbacks
) -> None:
    obama = CustomerFactory(full_name="Barack Obama")
    photos = [_people(faces_dir) / "barack_obama" / f"obama_{n}.jpg" for n in (1, 2, 3)]
    _enrol_now(obama, photos, django_capture_on_commit_callbacks)
    templates = list(FaceTemplate.objects.filter(customer=obama, revoked_at__isnull=True))
    assert len(templates) == 3
    for template in templates:
        assert template.reid_version == second_model.REID_VERSION
        assert template.reid_shift == DEFAULT_SHIFT  # a cohort of 0 other faces is too small to measure
        assert template.gallery_added_version is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT reid_encoding FROM biometrics_facetemplate WHERE customer_id = %s", [obama.pk])
        stored = [row[0] for row in cursor.fetchall()]
    assert all(text.startswith("gAAAA") for text in stored)  # Fernet tokens, never the vector in clear


def test_an_owner_frame_is_matched_by_the_second_model_without_a_dlib_encoding(
    second_on, faces_dir, django_capture_on_commit_callbacks
) -> None:
    obama = CustomerFactory(full_name="Barack Obama")
    people = _people(faces_dir)
    _enrol_now(
        obama,
        [people / "barack_obama" / f"obama_{n}.jpg" for n in (1, 2, 3, 4)],
        django_capture_on_commit_callbacks,
    )
    frame = engine.decode_image(_frames(people / "barack_obama" / "obama_5_480p.jpg", 1)[0])
    with mock.patch.object(engine, "encode_face", wraps=engine.encode_face) as encode:
        verdict = verification.frame_verify(customer_id=obama.pk, image=frame)
    assert verdict.outcome == FaceOutcome.MATCH and encode.call_count == 0
    stranger = engine.decode_image(_frames(people / "joe_biden" / "biden_2.jpg", 1)[0])
    assert verification.frame_verify(customer_id=obama.pk, image=stranger).outcome == FaceOutcome.NO_MATCH


def test_reencode_templates_moves_existing_customers_to_the_second_model(
    settings, second_on, faces_dir, django_capture_on_commit_callbacks, capsys
) -> None:
    people = _people(faces_dir)
    settings.FACE_MODEL_ENABLED = False  # enrolled before the second model existed
    obama = CustomerFactory(full_name="Barack Obama")
    _enrol_now(
        obama,
        [people / "barack_obama" / f"obama_{n}.jpg" for n in (1, 2)],
        django_capture_on_commit_callbacks,
    )
    assert set(FaceTemplate.objects.filter(customer=obama).values_list("reid_version", flat=True)) == {""}
    frame = engine.decode_image(_frames(people / "barack_obama" / "obama_5_480p.jpg", 1)[0])

    settings.FACE_MODEL_ENABLED = True
    # Before the move the customer is still compared by dlib (no second-model template to compare with).
    assert (
        second_model.frame_distance(
            customer_id=obama.pk,
            image=frame,
            face=engine.detect_faces(frame, purpose="live")[0],
            state=(0, 0),
        )
        is None
    )
    call_command("reencode_templates")
    assert "Second model: 2 templates of 1 customers" in capsys.readouterr().out
    templates = FaceTemplate.objects.filter(customer=obama, revoked_at__isnull=True)
    assert {t.reid_version for t in templates} == {second_model.REID_VERSION}
    event = AuditEvent.objects.filter(kind=AuditEvent.Kind.TEMPLATES_REENCODED, customer_id=obama.pk).latest(
        "id"
    )
    assert event.data["engine"] == second_model.REID_VERSION and event.data["templates"] == 2
    with mock.patch.object(engine, "encode_face", wraps=engine.encode_face) as encode:
        assert verification.frame_verify(customer_id=obama.pk, image=frame).outcome == FaceOutcome.MATCH
    assert encode.call_count == 0  # decided by the second model now
    call_command("reencode_templates")  # idempotent
    assert "Second model: 0 templates of 0 customers" in capsys.readouterr().out


def test_erasure_blanks_the_second_model_embedding_too(
    second_on, faces_dir, django_capture_on_commit_callbacks
) -> None:
    from biometrics.services.templates import biometrics_erase

    obama = CustomerFactory(full_name="Barack Obama")
    _enrol_now(
        obama, [_people(faces_dir) / "barack_obama" / "obama_1.jpg"], django_capture_on_commit_callbacks
    )
    biometrics_erase(customer=obama, actor=None)
    assert list(FaceTemplate.objects.filter(customer=obama).values_list("encoding", "reid_encoding")) == [
        ("", "")
    ]


def test_the_score_maps_the_threshold_onto_the_kiosk_distance_threshold(settings) -> None:
    from biometrics.comparison import normalised_threshold

    settings.FACE_TARGET_FMR = 1e-3
    assert second_model.as_distance(normalised_threshold(1e-3)) == pytest.approx(
        settings.FACE_DISTANCE_THRESHOLD
    )
    assert np.isclose(second_model.as_distance(0.0), 0.0)
