"""frame_verify on real photos with the real engine, and the match-percent calibration."""

from __future__ import annotations

import pytest

from biometrics.services import verification
from biometrics.services.verification import frame_verify, match_percent
from biometrics.verdicts import FaceProblem
from tests.biometrics.test_enrolment_support import (  # noqa: F401
    BIDEN,
    KIT_PROBE,
    OBAMA,
    OBAMA_PROBE,
    enrol,
    fresh_gallery,
    image,
    memo_engine,
)
from tests.factories import CustomerFactory


def test_match_percent_calibration(settings):
    settings.FACE_DISTANCE_THRESHOLD = 0.5
    # Read against the measured genuine comparisons (comparison.GENUINE_QUANTILES): the median genuine one
    # (0.7073 of the threshold) reads 50 %, a perfect match 100 %, anything past the 95th percentile ~0.
    assert match_percent(0.0) == 100
    assert match_percent(0.5 * 0.6242) == 75
    assert match_percent(0.5 * 0.7073) == 50
    assert match_percent(0.5) < 10
    assert match_percent(1.3) == 0


@pytest.fixture
def enrolled(teller, faces_dir, fresh_gallery, memo_engine):  # noqa: F811
    obama, biden = CustomerFactory(full_name="Barack Obama"), CustomerFactory(full_name="Joe Biden")
    enrol(obama, faces_dir, OBAMA, teller)
    enrol(biden, faces_dir, BIDEN, teller)
    return obama, biden


@pytest.mark.faces
def test_owner_matches(enrolled, faces_dir):
    obama, _ = enrolled
    verdict = frame_verify(customer_id=obama.pk, image=image(faces_dir, OBAMA_PROBE))
    assert verdict.outcome == "match", verdict
    assert verdict.distance is not None and verdict.match_percent is not None
    # The percentage reads the score against genuine comparisons (a weaker genuine match reads lower).
    assert verdict.distance < 0.5 and verdict.match_percent == match_percent(verdict.distance) > 0
    assert len(verdict.boxes) == 1 and set(verdict.boxes[0]) == {"top", "right", "bottom", "left"}
    assert len(verdict.landmarks) == 68 and verdict.other_customer_id is None


@pytest.mark.faces
def test_another_enrolled_customer_is_named_as_mismatch(enrolled, faces_dir):
    obama, biden = enrolled
    verdict = frame_verify(customer_id=biden.pk, image=image(faces_dir, OBAMA_PROBE))
    assert verdict.outcome == "mismatch", verdict
    assert verdict.other_customer_id == obama.pk
    assert verdict.distance is not None and verdict.match_percent is not None
    assert verdict.distance > 0.5 and verdict.match_percent < 50


@pytest.mark.faces
def test_unenrolled_face_is_no_match(enrolled, faces_dir):
    obama, _ = enrolled
    verdict = frame_verify(customer_id=obama.pk, image=image(faces_dir, KIT_PROBE))
    assert verdict.outcome == "no_match", verdict
    assert verdict.other_customer_id is None
    assert verdict.distance is not None and verdict.distance > 0.5


@pytest.mark.faces
@pytest.mark.parametrize(
    ("scene", "outcome"),
    [("scenes/dogs.jpg", "no_face")],
)
def test_scenes_are_refused_before_any_encoding(enrolled, faces_dir, monkeypatch, scene, outcome):
    obama, _ = enrolled

    def no_encoding(*args, **kwargs):
        raise AssertionError("a refused frame must not be encoded")

    monkeypatch.setattr(verification.engine, "encode_face", no_encoding)
    verdict = frame_verify(customer_id=obama.pk, image=image(faces_dir, scene))
    assert verdict.outcome == outcome
    assert verdict.distance is None and verdict.landmarks is None
    assert len(verdict.boxes) == (2 if outcome == "several_faces" else 0)


@pytest.mark.faces
def test_several_faces_are_refused_but_named(enrolled, faces_dir):
    """Issue 20, item 4: several faces were never encoded, so another customer among them went unnamed."""
    obama, _ = enrolled
    verdict = frame_verify(customer_id=obama.pk, image=image(faces_dir, "scenes/two_people.jpg"))
    assert verdict.outcome == "several_faces" and len(verdict.boxes) == 2
    assert verdict.other_customer_id is None  # nobody else enrolled here


@pytest.mark.faces
def test_small_face_is_low_quality(enrolled, faces_dir, settings):
    obama, _ = enrolled
    settings.FACE_MIN_SIZE_PX = 1000
    verdict = frame_verify(customer_id=obama.pk, image=image(faces_dir, OBAMA_PROBE))
    assert verdict.outcome == "low_quality" and verdict.problem == FaceProblem.TOO_SMALL


@pytest.mark.faces
def test_frames_do_not_decrypt_templates_again(enrolled, faces_dir, django_assert_num_queries):
    obama, _ = enrolled
    frame = image(faces_dir, OBAMA_PROBE)
    frame_verify(customer_id=obama.pk, image=frame)
    # Second frame of the session: one query for the gallery version, none for the templates.
    with django_assert_num_queries(1):
        assert frame_verify(customer_id=obama.pk, image=frame).outcome == "match"


@pytest.mark.faces
def test_revoked_customer_no_longer_matches_in_this_process(enrolled, faces_dir, teller):
    from biometrics.services.templates import biometrics_revoke

    obama, _ = enrolled
    frame = image(faces_dir, OBAMA_PROBE)
    assert frame_verify(customer_id=obama.pk, image=frame).outcome == "match"
    biometrics_revoke(customer=obama, actor=teller)
    verdict = frame_verify(customer_id=obama.pk, image=frame)
    assert verdict.outcome == "no_match" and verdict.distance is None
    assert verification.customer_has_active_templates(customer_id=obama.pk) is False
