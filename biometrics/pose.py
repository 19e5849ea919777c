"""Head pose from dlib's 68 landmarks: one estimator, a least-squares fit of a generic 3D face.

Used by the liveness check (yaw changes during a turn challenge) and by enrolment (is this shot a new view of
the head?). The fit is weak-perspective, solved by linear least squares with a precomputed pseudo-inverse:
measured on the shared video it agrees with the liveness parallax to r = 0.995, moves smoothly, and is
invariant to in-plane rotation; cv2.solvePnP with the same model jumped by 15-25 degrees between
neighbouring frames (local minima), so it is not used. Pure numpy: no model files, well under a millisecond.

Sign convention: yaw is positive when the customer turns towards **their own left**, in the frame as the
camera sees it (not mirrored): the nose then moves to the image's right. Pitch is positive chin up.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from biometrics.engine import Face

# Our own generic face, in millimetres, in dlib's 68-point order. x, y: the mean frontal landmark shape of
# the 71 shared photos (ATM_FACES_DIR portraits and aligned crops; similarity-aligned, averaged,
# left/right symmetrised, scaled to 90 mm between the outer eye corners). z: depth *towards* the camera
# relative to the outer eye corners, set by hand from adult anthropometric averages (nose tip ~28 mm in
# front, face outline at ear level ~50 mm behind). Axes: x to the image right, y down, z to the camera.
FACE_MODEL_3D = np.array(
    [
        (-74.7, 3.0, -50.0),  # 0: jaw outline, from the image-left ear level down to the chin (8) and up
        (-73.8, 23.0, -48.0),
        (-71.9, 42.6, -44.0),
        (-69.0, 62.4, -38.0),
        (-62.5, 81.2, -29.0),
        (-51.2, 97.7, -18.0),
        (-36.6, 111.4, -7.0),
        (-20.0, 122.3, 2.0),
        (0.0, 125.3, 6.0),
        (20.0, 122.3, 2.0),
        (36.6, 111.4, -7.0),
        (51.2, 97.7, -18.0),
        (62.5, 81.2, -29.0),
        (69.0, 62.4, -38.0),
        (71.9, 42.6, -44.0),
        (73.8, 23.0, -48.0),
        (74.7, 3.0, -50.0),
        (-60.6, -8.8, -8.0),  # 17: brows
        (-51.9, -18.4, 0.0),
        (-38.7, -22.2, 6.0),
        (-24.9, -21.5, 10.0),
        (-11.6, -17.2, 12.0),
        (11.6, -17.2, 12.0),
        (24.9, -21.5, 10.0),
        (38.7, -22.2, 6.0),
        (51.9, -18.4, 0.0),
        (60.6, -8.8, -8.0),
        (0.0, -3.4, 12.0),  # 27: nose bridge, down to the tip (30)
        (0.0, 9.2, 17.0),
        (0.0, 22.1, 22.0),
        (0.0, 35.2, 28.0),
        (-15.5, 43.5, 11.0),  # 31: nostrils
        (-8.1, 46.0, 15.0),
        (0.0, 48.6, 18.0),
        (8.1, 46.0, 15.0),
        (15.5, 43.5, 11.0),
        (-45.0, 0.0, 0.0),  # 36: image-left eye, outer corner, then clockwise
        (-37.3, -4.6, 5.0),
        (-28.3, -4.7, 7.0),
        (-20.0, 0.6, 6.0),
        (-28.7, 1.9, 6.0),
        (-37.6, 2.1, 4.0),
        (20.0, 0.6, 6.0),  # 42: image-right eye, inner corner, then clockwise
        (28.3, -4.7, 7.0),
        (37.3, -4.6, 5.0),
        (45.0, 0.0, 0.0),
        (37.6, 2.1, 4.0),
        (28.7, 1.9, 6.0),
        (-31.3, 68.2, 2.0),  # 48: outer lips
        (-19.9, 64.2, 8.0),
        (-8.6, 62.6, 13.0),
        (0.0, 64.3, 15.0),
        (8.6, 62.6, 13.0),
        (19.9, 64.2, 8.0),
        (31.3, 68.2, 2.0),
        (20.5, 79.6, 7.0),
        (9.2, 84.5, 11.0),
        (0.0, 85.5, 13.0),
        (-9.2, 84.5, 11.0),
        (-20.5, 79.6, 7.0),
        (-26.7, 69.0, 3.0),  # 60: inner lips
        (-8.7, 68.0, 10.0),
        (0.0, 69.0, 11.0),
        (8.7, 68.0, 10.0),
        (26.7, 69.0, 3.0),
        (8.8, 75.3, 9.0),
        (0.0, 76.4, 10.0),
        (-8.8, 75.3, 9.0),
    ],
    dtype=np.float64,
)
FACE_MODEL_3D.flags.writeable = False

EYE_POINTS = slice(36, 48)  # image-left eye 36-41, image-right eye 42-47
NOSE_TIP = 30

_MODEL_CENTRED = FACE_MODEL_3D - FACE_MODEL_3D.mean(axis=0)
# Least-squares solution operator of "model (68x3) @ M (3x2) = landmarks (68x2)", precomputed once.
_MODEL_PINV = np.linalg.pinv(_MODEL_CENTRED)

# The generic face's nose tip relative to the midpoint of its eye centres, in units of the distance between
# the eye centres: what the enrolment pose figures are expressed in (see enrolment_pose).
_MODEL_EYE_CENTRES = FACE_MODEL_3D[EYE_POINTS].reshape(2, 6, 3).mean(axis=1)
_MODEL_OCULAR = float(np.linalg.norm(_MODEL_EYE_CENTRES[1, :2] - _MODEL_EYE_CENTRES[0, :2]))
_MODEL_NOSE_DROP, _MODEL_NOSE_DEPTH = (
    (FACE_MODEL_3D[NOSE_TIP, 1:] - _MODEL_EYE_CENTRES.mean(axis=0)[1:]) / _MODEL_OCULAR
).tolist()
# dlib's nose-tip landmark moves ~1.4 times further than the generic face's nose when a head turns (the
# median pairwise yaw change of the shared photos and clip frames, nose-offset figure / fitted figure:
# 1.36); the enrolment thresholds (enrolment_capture.POSE_MIN_CHANGE) were set on the landmark offsets.
_NOSE_LANDMARK_GAIN = 1.4


def landmarks_array(landmarks: object) -> np.ndarray:
    """The landmarks as a float (68, 2) array; ValueError for any other shape or a non-finite value."""
    points = np.asarray(landmarks, dtype=np.float64)
    if points.shape != (68, 2):
        raise ValueError(f"landmarks must have shape (68, 2), got {points.shape}")
    if not np.isfinite(points).all():
        raise ValueError("landmarks must be finite numbers")
    return points


def yaw_pitch(points: np.ndarray) -> tuple[float, float]:
    """(yaw, pitch) in degrees of checked (68, 2) landmarks, from a weak-perspective fit of FACE_MODEL_3D.

    Weak perspective over-reads yaw by ~10 % at kiosk distance and offsets pitch by a few degrees; callers
    compare poses of the same face rather than read absolute angles. Plain floats: numpy's per-call
    overhead would dominate on 3-vectors.
    """
    # _MODEL_PINV's rows are orthogonal to the constant vector (the model is centred), so the landmarks
    # need no centring: the offset drops out of the least squares.
    (ax, bx), (ay, by), (az, bz) = (_MODEL_PINV @ points).tolist()  # model axes -> image x (a), y (b)
    norm_a = math.sqrt(ax * ax + ay * ay + az * az)
    if norm_a <= 1e-12:
        return 0.0, 0.0
    ax, ay, az = ax / norm_a, ay / norm_a, az / norm_a
    dot = ax * bx + ay * by + az * bz
    bx, by, bz = bx - dot * ax, by - dot * ay, bz - dot * az
    norm_b = math.sqrt(bx * bx + by * by + bz * bz)
    if norm_b <= 1e-12:
        return 0.0, 0.0
    bx, by, bz = bx / norm_b, by / norm_b, bz / norm_b
    # The rotation's third row (a x b) is the viewing axis in model coordinates; in-plane (roll) rotation
    # does not change it, so yaw and pitch are roll-invariant.
    view_x, view_y, view_z = ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx
    yaw = math.degrees(math.atan2(-view_x, view_z))
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, view_y))))
    return yaw, pitch


def head_yaw(landmarks: np.ndarray) -> float:
    """Head yaw in degrees; > 0 when the customer turned to their own left (see the module docstring)."""
    return yaw_pitch(landmarks_array(landmarks))[0]


def eye_centres(points: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    """((x, y) of the image-left eye, (x, y) of the image-right eye): the means of their six points."""
    (left_x, left_y), (right_x, right_y) = points[EYE_POINTS].reshape(2, 6, 2).mean(axis=1).tolist()
    return (left_x, left_y), (right_x, right_y)


def roll_degrees(points: np.ndarray) -> float:
    """In-plane rotation of the eye line, in degrees (0: eyes level; y grows downwards)."""
    (left_x, left_y), (right_x, right_y) = eye_centres(points)
    return math.degrees(math.atan2(right_y - left_y, right_x - left_x))


def enrolment_pose(face: Face, image_shape: tuple[int, ...]) -> dict[str, float]:
    """A few pose figures of an enrolment shot: enough to tell two shots apart, not enough to identify
    anyone (the landmarks themselves are never stored).

    ``yaw`` / ``pitch``: where the nose tip of the generic face in the fitted pose would sit relative to the
    midpoint of the eyes, along / across the eye line, in distances between the eyes (frontal: yaw 0, pitch
    ~0.55); ``roll`` in degrees; ``cx``, ``cy``, ``scale``: the face box centre and width as fractions of
    the image.
    """
    points = landmarks_array(face.landmarks)
    yaw, pitch = yaw_pitch(points)
    yaw_rad, pitch_rad = math.radians(yaw), math.radians(pitch)
    nose_depth = _NOSE_LANDMARK_GAIN * _MODEL_NOSE_DEPTH
    height, width = image_shape[:2]
    box = face.box
    return {
        # A turn foreshortens the eye line by cos(yaw) and moves the nose sideways by depth * sin(yaw).
        "yaw": round(nose_depth * math.tan(yaw_rad), 4),
        "pitch": round(_MODEL_NOSE_DROP * math.cos(pitch_rad) - nose_depth * math.sin(pitch_rad), 4),
        "roll": round(roll_degrees(points), 2),
        "cx": round((box.left + box.right) / 2 / width, 4),
        "cy": round((box.top + box.bottom) / 2 / height, 4),
        "scale": round(box.width / max(width, height), 4),
    }
