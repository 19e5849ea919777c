"""The one head-pose estimator (biometrics/pose.py), as liveness and enrolment read it."""

from __future__ import annotations

import numpy as np
import pytest

from biometrics.engine import Box, Face, Quality
from biometrics.pose import enrolment_pose, head_yaw, landmarks_array
from tests.biometrics.test_liveness import head

# enrolment_capture.POSE_MIN_CHANGE for the pose figures: a shot is a new view when one of them moves this
# far.
POSE_STEP = 0.04


def _face(landmarks: np.ndarray) -> Face:
    return Face(
        box=Box(top=100, right=400, bottom=380, left=240),
        landmarks=landmarks.astype(np.float32),
        quality=Quality(face_px=160, sharpness=50.0, brightness=120.0),
    )


def _figures(**pose: float) -> dict[str, float]:
    return enrolment_pose(_face(head(**pose)), (480, 640, 3))


@pytest.mark.parametrize("yaw", [-30.0, -10.0, 0.0, 15.0, 35.0])
def test_head_yaw_reads_the_turn_whatever_the_roll(yaw: float) -> None:
    assert head_yaw(head(yaw=yaw)) == pytest.approx(yaw, abs=4.0)
    assert head_yaw(head(yaw=yaw, roll=20.0)) == pytest.approx(head_yaw(head(yaw=yaw)), abs=0.5)


def test_a_frontal_face_has_the_generic_enrolment_figures_and_the_box_placement() -> None:
    figures = _figures()

    assert figures["yaw"] == pytest.approx(0.0, abs=0.01)
    # The nose tip below the eyes; weak perspective offsets the fitted pitch by a few degrees.
    assert figures["pitch"] == pytest.approx(0.548, abs=0.05)
    assert figures["roll"] == pytest.approx(0.0, abs=0.5)
    assert (figures["cx"], figures["cy"], figures["scale"]) == (0.5, 0.5, 0.25)


def test_enrolment_figures_move_past_the_step_on_a_real_head_movement_only() -> None:
    frontal = _figures()

    assert abs(_figures(yaw=2.0)["yaw"] - frontal["yaw"]) < POSE_STEP
    assert abs(_figures(pitch=2.0)["pitch"] - frontal["pitch"]) < POSE_STEP
    assert _figures(yaw=10.0)["yaw"] - frontal["yaw"] > POSE_STEP  # towards the customer's own left
    assert _figures(yaw=-10.0)["yaw"] - frontal["yaw"] < -POSE_STEP
    assert frontal["pitch"] - _figures(pitch=10.0)["pitch"] > POSE_STEP  # chin up: the nose rises
    assert _figures(roll=5.0)["roll"] == pytest.approx(5.0, abs=0.5)


def test_malformed_landmarks_are_refused() -> None:
    with pytest.raises(ValueError, match="shape"):
        landmarks_array(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="finite"):
        landmarks_array(np.full((68, 2), np.nan))
