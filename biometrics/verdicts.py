"""The answer of the frame path (`biometrics.services.verification`), importable without the face engine.

The kiosk state machine, its tests and the fake engine they use all build and read this one type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from django.db import models


class FaceOutcome(models.TextChoices):
    """What one frame showed, compared with the claimed customer (or the card-less candidates)."""

    NO_FACE = "no_face", "No face"
    SEVERAL_FACES = "several_faces", "Several faces"
    LOW_QUALITY = "low_quality", "Face too small or blurred"
    MATCH = "match", "Match"
    NO_MATCH = "no_match", "No match"
    MISMATCH = "mismatch", "Another enrolled customer"


class FaceProblem(StrEnum):
    """What was wrong with the face of a refused frame or shot, beyond the outcome. The first two make a face
    unusable (biometrics.quality.face_problem; their values are the branch capture API's codes)."""

    TOO_SMALL = "face_too_small"
    BLURRED = "face_blurred"
    NOT_ENROLLED = "not_enrolled"  # a no-match because the customer has no active templates
    TOO_CLOSE_TO_CALL = "too_close_to_call"  # card-less: two candidates within the margin of each other


@dataclass(frozen=True)
class FrameVerdict:
    outcome: FaceOutcome
    boxes: list[dict[str, int]]
    distance: float | None
    match_percent: int | None
    landmarks: list[list[float]] | None
    other_customer_id: int | None  # the nearest other enrolled customer of a mismatch
    problem: FaceProblem | None  # why a low-quality face or a no-match was refused; None otherwise
    # The PAD models' "live" probability of the face crop (engine.pad_score), computed for owner-matching
    # frames only and only with PAD and liveness on; the kiosk folds it into the liveness state.
    pad_score: float | None = None
    # The matcher did not answer in time: this no-match may really be a mismatch. The kiosk keeps `probe`
    # (encrypted) so that a task names it later.
    naming_pending: bool = False
    probe: np.ndarray | None = field(default=None, repr=False, compare=False)
    # The customer the face matched (outcome "match"): the card owner, or one of the card-less candidates.
    customer_id: int | None = None
