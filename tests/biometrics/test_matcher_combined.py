"""Issue 21, item 4: the matcher tier compares as the 1:1 does — the second model with each template's own
shift where a template has one, dlib only for templates without one."""

from __future__ import annotations

import numpy as np
import pytest

from biometrics.comparison import normalised_scores
from biometrics.gallery import Gallery
from biometrics.gallery_reid import REID_SIZE, ReidIndex
from biometrics.matcher import match_nearest
from biometrics.models import REID_ENCODING_SIZE, encoding_pack
from biometrics.services import second_model
from tests.biometrics.test_enrolment_support import fresh_gallery  # noqa: F401
from tests.factories import CustomerFactory
from tests.support.faces import active_templates_of, same_face_vector

pytestmark = pytest.mark.django_db


def _unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=REID_SIZE).astype(np.float32)
    return vector / np.linalg.norm(vector)


def _with_reid(templates: list, vector: np.ndarray, shift: float) -> None:
    for template in templates:
        template.reid_encoding = encoding_pack(vector, size=REID_ENCODING_SIZE)
        template.reid_version = second_model.REID_VERSION
        template.reid_shift = shift  # read as the cohort shift under this REID_VERSION
        template.save(update_fields=["reid_encoding", "reid_version", "reid_shift"])


def test_reid_index_scores_by_each_templates_shift() -> None:
    index = ReidIndex(capacity=1)
    a, b = _unit(1), _unit(2)
    index.add([1, 2], [10, 20], np.vstack([a, b]), [0.2, 0.3])
    probe = (a + b) / np.linalg.norm(a + b)  # as far from both: the stricter shift (b's) scores higher
    match = index.nearest(probe)
    assert match is not None and match.customer_id == 10
    assert match.distance == pytest.approx((1 - float(a @ probe)) + 0.2, rel=1e-5)
    # The one comparison function of the 1:1 gives the same score.
    assert match.distance == pytest.approx(float(normalised_scores(a, [0.2], probe)[0]), rel=1e-5)
    index.remove([1])
    assert len(index) == 1 and index.nearest(probe, exclude_customer_id=20) is None


def test_gallery_skips_rows_the_second_model_scores() -> None:
    gallery = Gallery(capacity=1)
    face = same_face_vector()
    gallery.add([1, 2], [10, 20], np.vstack([face, face + 0.3]))
    gallery.mark_second([1])
    assert gallery.nearest(face).customer_id == 10
    assert gallery.nearest(face, skip_second=True).customer_id == 20
    gallery.remove([1])  # swap-with-last moves the flag with the row
    assert gallery.nearest(face, skip_second=True).customer_id == 20


def test_matcher_names_by_the_second_model_where_templates_have_it(fresh_gallery, settings) -> None:  # noqa: F811
    settings.MATCHER_IN_PROCESS = True
    lookalike, stranger_face = CustomerFactory(), _unit(3)
    face = same_face_vector()
    # dlib says the look-alike is this face; the second model (which the 1:1 decides by) says it is not.
    _with_reid(active_templates_of(lookalike, [face]), stranger_face, shift=0.27)
    probe_reid = _unit(4)
    combined = match_nearest(probes=face, reid_probes=probe_reid)
    assert not combined.names_someone()
    assert combined.distance == pytest.approx(
        second_model.as_distance((1 - float(stranger_face @ probe_reid)) + 0.27), abs=1e-3
    )
    # Without a second-model probe (model off, no YuNet face) the tier falls back to dlib for everyone.
    assert match_nearest(probes=face).names_someone()
    # And the second model names a customer whose second-model template is close.
    near = stranger_face + 0.01 * _unit(5)
    assert (
        match_nearest(probes=face + 0.5, reid_probes=near / np.linalg.norm(near)).customer_id == lookalike.pk
    )


def test_templates_without_a_reid_encoding_are_still_compared_by_dlib(fresh_gallery, settings) -> None:  # noqa: F811
    settings.MATCHER_IN_PROCESS = True
    old_customer = CustomerFactory()
    face = same_face_vector()
    active_templates_of(old_customer, [face])  # enrolled before the second model, not re-encoded yet
    nearest = match_nearest(probes=face, reid_probes=_unit(6))
    assert nearest.customer_id == old_customer.pk and nearest.names_someone()


def test_cardless_candidates_are_scored_by_the_second_model_where_they_have_it(monkeypatch) -> None:
    from biometrics.services import verification

    scores = {1: 0.62, 2: None}  # candidate 1 re-encoded (the second model says no), 2 not yet
    monkeypatch.setattr(
        second_model, "candidate_distance", lambda *, customer_id, probe, state: scores[customer_id]
    )
    face = same_face_vector()
    known = np.vstack([face])
    assert verification._candidate_distance(1, known, face, _unit(7), (1, 0)) == 0.62  # not dlib's ~0
    assert verification._candidate_distance(2, known, face, _unit(7), (1, 0)) < 0.1  # dlib for the rest
