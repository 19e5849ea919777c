"""The card-less margin rule with the real engine on real photos (ATM_FACES_DIR): a shared family phone."""

from __future__ import annotations

import numpy as np
import pytest

from bench import accuracy
from biometrics import engine
from biometrics.services import verification

pytestmark = [pytest.mark.faces, pytest.mark.django_db]


@pytest.fixture
def household(faces_dir, monkeypatch: pytest.MonkeyPatch):
    """Customer 1: Obama (photos 1-2); 2: Biden; 3 and 4: Obama again from one other photo each (two
    look-alike twins sharing a phone: 0.338 and 0.380 from the probe, closer together than the margin)."""
    from biometrics.services.gallery_sync import gallery_reset

    gallery_reset()
    people = faces_dir / "people"

    def encode(*names: str) -> np.ndarray:
        return np.vstack([accuracy.encode_photo((people / name).read_bytes()) for name in names]).astype(
            np.float32
        )

    store = {
        1: encode("barack_obama/obama_1.jpg", "barack_obama/obama_2.jpg"),
        2: encode("joe_biden/biden_1.jpg"),
        3: encode("barack_obama/obama_3.jpg"),
        4: encode("barack_obama/obama_4.jpg"),
    }
    monkeypatch.setattr(
        verification, "customer_active_encodings", lambda *, customer_id, state=None: store[customer_id]
    )
    probe = engine.decode_image((people / "barack_obama" / "obama_5_480p.jpg").read_bytes())
    return probe


def test_shared_phone_the_closest_face_is_chosen_when_it_clearly_wins(household) -> None:
    verdict = verification.frame_verify_candidates(customer_ids=[1, 2], image=household)
    assert (verdict.outcome, verdict.customer_id) == ("match", 1)


def test_shared_phone_refused_when_the_runner_up_is_within_the_margin(household, settings) -> None:
    settings.CARDLESS_CANDIDATE_MARGIN = 0.06  # the default
    verdict = verification.frame_verify_candidates(customer_ids=[3, 4], image=household)
    assert (verdict.outcome, verdict.customer_id) == ("no_match", None)
    # Both twins are within the threshold: only the margin refuses.
    assert verdict.distance is not None and verdict.distance <= settings.FACE_DISTANCE_THRESHOLD
    settings.CARDLESS_CANDIDATE_MARGIN = 0.03
    verdict = verification.frame_verify_candidates(customer_ids=[3, 4], image=household)
    assert (verdict.outcome, verdict.customer_id) == ("match", 3)


def test_unknown_number_does_the_same_work_and_matches_nobody(household) -> None:
    verdict = verification.frame_verify_candidates(customer_ids=[], image=household)
    assert verdict.outcome == "no_match" and verdict.customer_id is None and len(verdict.boxes) == 1
