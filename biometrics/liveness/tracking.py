"""Per-frame measurements and the face track: eye aspect ratios, the plane + parallax fit between two
frames, and the continuity test that restarts the evaluation when another face appears.

Plain floats where numpy's per-call overhead would dominate: the whole frame update has to stay far
below a millisecond. How the measurements are used, and why: docs/liveness.md.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from biometrics.pose import EYE_POINTS, FACE_MODEL_3D, eye_centres, landmarks_array

if TYPE_CHECKING:
    from biometrics.liveness.state import LivenessConfig

# Points that stay put on a skull whatever the face does: the upper face outline, the nose and the eye
# corners. Lips, lower jaw (it moves when speaking), brows and eyelids are left out. They span three depth
# layers (nose tip, eye corners, outline) - what makes a turning head non-planar.
RIGID_POINTS = np.array([0, 1, 2, 3, 13, 14, 15, 16, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 39, 42, 45])

_RIGID_DEPTH = FACE_MODEL_3D[RIGID_POINTS, 2] - FACE_MODEL_3D[RIGID_POINTS, 2].mean()
_RIGID_DEPTH_STD = float(_RIGID_DEPTH.std())
_RIGID_DEPTH_UNIT = _RIGID_DEPTH / _RIGID_DEPTH_STD
_RIGID_MODEL_XY = FACE_MODEL_3D[RIGID_POINTS, :2] - FACE_MODEL_3D[RIGID_POINTS, :2].mean(axis=0)
_RIGID_MODEL_XY_SQUARED = float((_RIGID_MODEL_XY**2).sum())


# --------------------------------------------------------------------------------------------------
# Eyes
# --------------------------------------------------------------------------------------------------


def _eye_ratio(eye: list[list[float]]) -> float:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3), (x4, y4), (x5, y5) = eye
    width = math.hypot(x0 - x3, y0 - y3)
    if width <= 1e-9:
        return 0.0
    return (math.hypot(x1 - x5, y1 - y5) + math.hypot(x2 - x4, y2 - y4)) / (2.0 * width)


def eye_ratios(eyes: np.ndarray) -> tuple[float, float]:
    """(image-left eye, image-right eye) aspect ratios of the 12 eye points 36-47."""
    points = eyes.tolist()
    return _eye_ratio(points[0:6]), _eye_ratio(points[6:12])


def eye_aspect_ratio(landmarks: np.ndarray) -> float:
    """Mean eye aspect ratio of both eyes (Soukupova & Cech 2016): ~0.25-0.5 open, near 0 closed.

    The open value depends on the person and on the landmark detector (0.16-0.5 on the shared photos),
    which is why the blink rule compares against the customer's own open-eye value.
    """
    left, right = eye_ratios(landmarks_array(landmarks)[EYE_POINTS])
    return (left + right) / 2.0


def rectified_eyes(current: np.ndarray, homography: np.ndarray) -> np.ndarray:
    """The current frame's eye points mapped back into the reference frame by the plane part of the fit:
    tilting a photo backwards squashes its eyes on a plain EAR, not on the rectified one."""
    return rectified_points(current, homography, EYE_POINTS)


# --------------------------------------------------------------------------------------------------
# Mouth
# --------------------------------------------------------------------------------------------------

MOUTH_POINTS = slice(48, 68)  # outer lip 48-59 (corners 48, 54), inner lip 60-67


def mouth_ratio(mouth: np.ndarray) -> float:
    """Inner-lip opening over mouth width, from the 20 mouth points 48-67: the mean gap between the
    inner lips (61-67, 62-66, 63-65) over the distance between the outer corners (48-54). On the real
    clips a closed mouth reads 0.00-0.07 and a singing or talking one 0.15-0.33 (docs/liveness_real.md)."""
    points = mouth.tolist()
    (x0, y0), (x6, y6) = points[0], points[6]
    width = math.hypot(x6 - x0, y6 - y0)
    if width <= 1e-9:
        return 0.0
    gaps = [math.hypot(points[a][0] - points[b][0], points[a][1] - points[b][1]) for a, b in _LIP_PAIRS]
    return sum(gaps) / (len(gaps) * width)


_LIP_PAIRS = ((13, 19), (14, 18), (15, 17))  # 61-67, 62-66, 63-65 within MOUTH_POINTS


def rectified_points(current: np.ndarray, homography: np.ndarray, points: slice) -> np.ndarray:
    """Some of the current frame's points mapped back into the reference frame by the plane part of the
    fit: whatever a flat picture's tilt or turn does to them is undone, a real mouth's opening is not."""
    inverse = np.linalg.inv(homography)
    chosen = current[points]
    mapped = chosen @ inverse[:2, :2].T + inverse[:2, 2]
    mapped /= (chosen @ inverse[2, :2] + inverse[2, 2])[:, None]
    return mapped


# --------------------------------------------------------------------------------------------------
# Plane + parallax
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Parallax:
    """Motion between two frames that a flat object cannot produce.

    ``magnitude`` ~ sin(out-of-plane rotation) of a real head and ~0 for anything flat, as a fraction of
    the face size; ``horizontal`` is its signed component along the eye line (> 0: towards the
    customer's own left), ``vertical`` across it. ``residual_mm``: the RMS misfit left over (landmark
    noise), in generic-face millimetres. ``foreshortening``: how much more the plane part squashes the
    face one way than the other (ratio of its singular values at the face centre, 1 = not at all); a
    sheet tilted by an angle a gives 1/cos(a), a real head stayed under 1.15 in the clip because its
    turn goes into the parallax. ``homography`` maps reference pixels to current pixels.
    """

    magnitude: float
    horizontal: float
    vertical: float
    residual_mm: float
    foreshortening: float
    homography: np.ndarray

    @property
    def tilt_degrees(self) -> float:
        """How far the plane part looks tilted, from its foreshortening."""
        return math.degrees(math.acos(min(1.0, 1.0 / self.foreshortening)))

    @property
    def turn_degrees(self) -> float:
        """How far the head turned, from the parallax."""
        return math.degrees(math.asin(min(1.0, self.magnitude)))


@dataclass(frozen=True, slots=True)
class _Normalised:
    """Hartley normalisation of a point set: centroid at 0, mean distance sqrt 2."""

    centre: np.ndarray
    scale: float
    squared: float  # sum of the squared centred coordinates, before scaling
    points: np.ndarray


def _normalised(points: np.ndarray) -> _Normalised:
    centre = points.mean(axis=0)
    centred = points - centre
    squared = float(np.einsum("ij,ij->", centred, centred))
    if squared <= 1e-12:
        raise ValueError("degenerate landmarks: all rigid points coincide")
    scale = math.sqrt(2.0 * len(points) / squared)
    centred *= scale
    return _Normalised(centre, scale, squared, centred)


def _plane_and_depth_fit(source: np.ndarray, target: np.ndarray) -> list[float]:
    """h11, h12, h13, h21, h22, h23, h31, h32, vx, vy of the normalised plane + parallax model.

    x' = h11 x + h12 y + h13 - h31 x x' - h32 y x' + depth * vx (and the same for y'), h33 = 1: the DLT
    with a parallax term, linearised (the depth term skips H's perspective division, a second-order
    effect). Ten unknowns, solved by normal equations: one 10x10 solve instead of an SVD, because
    LAPACK's SVD costs ~0.1 ms on matrices this small.
    """
    sx, sy = source[:, 0], source[:, 1]
    tx, ty = target[:, 0], target[:, 1]
    system = np.zeros((2 * len(source), 10))
    # Even rows: the x' equations (h11, h12, h13, vx); odd rows: the y' equations (h21, h22, h23, vy).
    for axis, observed_coordinate in ((0, tx), (1, ty)):
        rows = system[axis::2]  # a view: writing to it fills the system
        rows[:, 3 * axis] = sx
        rows[:, 3 * axis + 1] = sy
        rows[:, 3 * axis + 2] = 1.0
        rows[:, 6] = -sx * observed_coordinate
        rows[:, 7] = -sy * observed_coordinate
        rows[:, 8 + axis] = _RIGID_DEPTH_UNIT
    observed = target.reshape(-1)
    try:
        solution = np.linalg.solve(system.T @ system, system.T @ observed)
    except np.linalg.LinAlgError as error:
        raise ValueError("degenerate landmarks: no homography between these frames") from error
    values: list[float] = solution.tolist()
    return values


def _foreshortening(h: Sequence[float]) -> float:
    """Ratio of the singular values of the plane part's Jacobian at the reference's rigid centroid (the
    origin of the normalised frame, where the homography's denominator is 1); isotropic normalisation
    does not change its anisotropy."""
    h11, h12, h13, h21, h22, h23, h31, h32 = h
    j11, j12, j21, j22 = h11 - h13 * h31, h12 - h13 * h32, h21 - h23 * h31, h22 - h23 * h32
    frobenius = j11 * j11 + j12 * j12 + j21 * j21 + j22 * j22
    determinant = abs(j11 * j22 - j12 * j21)
    spread = math.sqrt(max(frobenius * frobenius - 4 * determinant * determinant, 0.0))
    smaller = math.sqrt(max((frobenius - spread) / 2, 0.0))
    return math.sqrt((frobenius + spread) / 2) / smaller if smaller > 1e-12 else math.inf


def _pixel_homography(h: Sequence[float], source: _Normalised, target: _Normalised) -> np.ndarray:
    """The normalised homography expressed in pixels: reference pixels -> current pixels."""
    h11, h12, h13, h21, h22, h23, h31, h32 = h
    homography_n = np.array([[h11, h12, h13], [h21, h22, h23], [h31, h32, 1.0]])
    source_transform = np.array(
        [
            [source.scale, 0.0, -source.scale * source.centre[0]],
            [0.0, source.scale, -source.scale * source.centre[1]],
            [0.0, 0.0, 1.0],
        ]
    )
    target_inverse = np.array(
        [
            [1.0 / target.scale, 0.0, target.centre[0]],
            [0.0, 1.0 / target.scale, target.centre[1]],
            [0.0, 0.0, 1.0],
        ]
    )
    return target_inverse @ homography_n @ source_transform


def parallax_fit(reference: np.ndarray, current: np.ndarray) -> Parallax:
    """:func:`parallax_between` on landmarks already checked by ``landmarks_array``."""
    # Hartley normalisation: without it the least squares would be dominated by the pixel offsets.
    source = _normalised(reference[RIGID_POINTS])
    target = _normalised(current[RIGID_POINTS])
    *h, vx_n, vy_n = _plane_and_depth_fit(source.points, target.points)
    h11, h12, h13, h21, h22, h23, h31, h32 = h
    sx, sy = source.points[:, 0], source.points[:, 1]
    weights = sx * h31 + sy * h32 + 1.0
    if float(np.abs(weights).min()) <= 1e-6:
        raise ValueError("degenerate landmarks: the homography sends the face to infinity")
    mean_weight = float(weights.mean())
    vx_n, vy_n = vx_n / mean_weight, vy_n / mean_weight
    error_x = (sx * h11 + sy * h12 + h13) / weights + _RIGID_DEPTH_UNIT * vx_n - target.points[:, 0]
    error_y = (sx * h21 + sy * h22 + h23) / weights + _RIGID_DEPTH_UNIT * vy_n - target.points[:, 1]
    residual_n = math.sqrt(float(error_x @ error_x + error_y @ error_y) / len(RIGID_POINTS))

    # Face size in pixels per model millimetre, the geometric mean of both frames, so that a face that
    # turns (narrower) or comes closer changes the figure little.
    pixels_per_mm = math.sqrt(math.sqrt(source.squared * target.squared) / _RIGID_MODEL_XY_SQUARED)
    # Normalised units -> pixels (/ target scale) -> per model mm of depth (/ depth std) -> per face size.
    to_face = 1.0 / (target.scale * _RIGID_DEPTH_STD * pixels_per_mm)
    vx, vy = vx_n * to_face, vy_n * to_face

    (left_x, left_y), (right_x, right_y) = eye_centres(current)
    eye_x, eye_y = right_x - left_x, right_y - left_y
    eye_length = max(math.hypot(eye_x, eye_y), 1e-9)
    eye_x, eye_y = eye_x / eye_length, eye_y / eye_length
    return Parallax(
        magnitude=math.hypot(vx, vy),
        horizontal=vx * eye_x + vy * eye_y,
        vertical=vy * eye_x - vx * eye_y,
        residual_mm=residual_n / (target.scale * pixels_per_mm),
        foreshortening=_foreshortening(h),
        homography=_pixel_homography(h, source, target),
    )


def parallax_between(reference: np.ndarray, current: np.ndarray) -> Parallax:
    """Fit ``current = H(reference) + depth * v`` on the rigid landmarks in one linear solve.

    This is the plane + parallax decomposition: H (8 parameters) is whatever a flat picture can do in
    front of a camera (move, rotate, tilt, perspective-warp), ``v`` (2 parameters) moves each point in
    proportion to its depth in the generic face. Raises ValueError for degenerate landmarks.
    """
    return parallax_fit(landmarks_array(reference), landmarks_array(current))


def planar_motion_score(landmark_sequence: Sequence[np.ndarray], *, rank: int = 3) -> float:
    """How far a landmark sequence is from "one flat picture moving": ~0 for a photo, ~sin(turn) for a head.

    Every frame is compared with the first (:func:`parallax_between`); the score is the ``rank``-th
    largest parallax magnitude, so one frame with broken landmarks cannot make a photo look 3D. A sequence
    with fewer than ``rank + 1`` frames scores 0.
    """
    if rank < 1:
        raise ValueError("rank must be at least 1")
    frames = [landmarks_array(landmarks) for landmarks in landmark_sequence]
    if len(frames) < rank + 1:
        return 0.0
    magnitudes = sorted(parallax_fit(frames[0], frame).magnitude for frame in frames[1:])
    return magnitudes[-rank]


# --------------------------------------------------------------------------------------------------
# Frames and the face track
# --------------------------------------------------------------------------------------------------


def frame_fingerprint(jpeg_bytes: bytes) -> str:
    """SHA-256 (hex) of a captured frame's bytes: a real camera never sends the same bytes twice."""
    return hashlib.sha256(jpeg_bytes).hexdigest()


def flat(points: np.ndarray) -> list[float]:
    """The landmarks as the state stores them: x0, y0, x1, ... (see ``unflat``)."""
    # dlib's landmarks are whole pixels: store those as ints (shorter JSON), anything else to 0.1 px.
    rounded = np.round(points.reshape(-1), 1)
    whole = np.round(rounded)
    if np.array_equal(rounded, whole):
        return whole.astype(np.int64).tolist()
    return rounded.tolist()


def unflat(values: list[float]) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).reshape(68, 2)


def placement(points: np.ndarray) -> tuple[float, float, float, float]:
    """(centre x, centre y, size, roll in degrees); size: geometric mean of the bounding box sides."""
    (low_x, low_y), (high_x, high_y) = points.min(axis=0).tolist(), points.max(axis=0).tolist()
    (left_x, left_y), (right_x, right_y) = eye_centres(points)
    size = math.sqrt(max(high_x - low_x, 1e-9) * max(high_y - low_y, 1e-9))
    roll = math.degrees(math.atan2(right_y - left_y, right_x - left_x))
    return (low_x + high_x) / 2, (low_y + high_y) / 2, size, roll


def angle_difference(a: float, b: float) -> float:
    """a - b in degrees, wrapped into [-180, 180)."""
    return (a - b + 180.0) % 360.0 - 180.0


def is_jump(previous: list[float], current: list[float], config: LivenessConfig) -> bool:
    """A discontinuity between two face frames (centre x, y, size, roll, yaw, t): another face, or
    landmarks that collapsed."""
    before_x, before_y, before_size, before_roll, before_yaw, before_t = previous
    after_x, after_y, after_size, after_roll, after_yaw, after_t = current
    moved = math.hypot(after_x - before_x, after_y - before_y) / before_size
    ratio = after_size / before_size
    gap = after_t - before_t
    yaw_step_limit = max(config.min_yaw_step_limit_degrees, config.max_yaw_rate_degrees * gap)
    yaw_step = abs(after_yaw - before_yaw)
    # People tilt the head as they turn it (issue 22: roll steps of 11.7-23 degrees between two 200 ms
    # frames of a real turn): the yaw changing in the same step buys extra roll, up to the limit of roll
    # change from the reference. A print rotated in-plane does not change its yaw.
    roll_step_limit = min(
        config.max_roll_step_degrees + config.roll_step_per_yaw_degree * yaw_step,
        max(config.max_roll_change_degrees, config.max_roll_step_degrees),
    )
    return (
        moved > max(config.max_jump_face_sizes, config.max_face_speed * gap)
        or not 1 / config.max_scale_change <= ratio <= config.max_scale_change
        or abs(angle_difference(after_roll, before_roll)) > roll_step_limit
        or yaw_step > yaw_step_limit
    )
