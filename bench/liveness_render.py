"""Presentation attacks rendered for ``benchmark_liveness``: a portrait printed life-size, held in front of a
simulated kiosk camera (640x480, f=600 px) as a flat or bent sheet in a given pose, with camera noise.

Geometry only (numpy, and the engine's homography warp); the texture a print or a screen adds to the pixels
is in :mod:`bench.liveness_texture`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from bench import geometry
from biometrics import engine

CANVAS_WIDTH, CANVAS_HEIGHT = 640, 480
FOCAL_PX = 600.0
FACE_WIDTH_MM = 150.0  # life-size print: landmark 0 to 16
CAMERA_NOISE_SIGMA = 2.5
JPEG_QUALITY = 90


@dataclass(frozen=True, slots=True)
class Pose:
    """A printed sheet's pose: rotations in degrees (same convention as liveness.head_yaw), offsets in mm."""

    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    x: float = 0.0
    y: float = 0.0
    distance: float = 0.0  # added to the base distance


@dataclass(frozen=True, slots=True)
class Motion:
    """One sheet pose per frame; ``curve_radius_mm`` bends the sheet round a vertical cylinder."""

    poses: list[Pose]
    curve_radius_mm: float | None = None  # None: a flat sheet


@dataclass(slots=True)
class Print:
    """A portrait cropped around its face, with the millimetre size it has when printed life-size."""

    image: np.ndarray
    face_centre: tuple[float, float]  # crop pixels
    mm_per_px: float
    base_distance: float  # camera-to-print distance that gives the wanted face size in the frame

    def with_image(self, image: np.ndarray) -> Print:
        """The same sheet with other pixels (a texture applied): same size, same face position."""
        return Print(image, self.face_centre, self.mm_per_px, self.base_distance)


def _rotation(pose: Pose) -> np.ndarray:
    yaw, pitch, roll = (math.radians(angle) for angle in (pose.yaw, pose.pitch, pose.roll))
    about_y = np.array([[math.cos(yaw), 0, math.sin(yaw)], [0, 1, 0], [-math.sin(yaw), 0, math.cos(yaw)]])
    about_x = np.array(
        [[1, 0, 0], [0, math.cos(pitch), -math.sin(pitch)], [0, math.sin(pitch), math.cos(pitch)]]
    )
    about_z = np.array([[math.cos(roll), -math.sin(roll), 0], [math.sin(roll), math.cos(roll), 0], [0, 0, 1]])
    return about_z @ about_x @ about_y


def _project(points_mm: np.ndarray, pose: Pose, base_distance: float) -> np.ndarray:
    # Model axes: x right, y down, z towards the camera (as liveness.FACE_MODEL_3D).
    moved = points_mm @ _rotation(pose).T
    depth = base_distance + pose.distance - moved[:, 2]
    u = FOCAL_PX * (moved[:, 0] + pose.x) / depth + CANVAS_WIDTH / 2
    v = FOCAL_PX * (moved[:, 1] + pose.y) / depth + CANVAS_HEIGHT / 2
    return np.column_stack([u, v])


def make_print(image: np.ndarray, face: engine.Face, *, face_px_in_frame: float) -> Print:
    landmarks = face.landmarks.astype(np.float64)
    face_width = float(np.linalg.norm(landmarks[16] - landmarks[0]))
    centre = landmarks[27:36].mean(axis=0)
    half = 1.6 * face_width
    height, width = image.shape[:2]
    left, top = max(int(centre[0] - half), 0), max(int(centre[1] - half), 0)
    right, bottom = min(int(centre[0] + half), width), min(int(centre[1] + 1.3 * half), height)
    crop = image[top:bottom, left:right]
    return Print(
        image=np.ascontiguousarray(crop),
        face_centre=(float(centre[0] - left), float(centre[1] - top)),
        mm_per_px=FACE_WIDTH_MM / face_width,
        base_distance=FOCAL_PX * FACE_WIDTH_MM / face_px_in_frame,
    )


def _sheet_corners_mm(photo: Print, x0: float, x1: float) -> np.ndarray:
    cx, cy = photo.face_centre
    height = photo.image.shape[0]
    xs = (np.array([x0, x1, x1, x0]) - cx) * photo.mm_per_px
    ys = (np.array([0.0, 0.0, height, height]) - cy) * photo.mm_per_px
    return np.column_stack([xs, ys, np.zeros(4)])


def render_flat(photo: Print, pose: Pose, background: np.ndarray) -> np.ndarray:
    width = photo.image.shape[1]
    source = np.array([[0, 0], [width, 0], [width, photo.image.shape[0]], [0, photo.image.shape[0]]], float)
    target = _project(_sheet_corners_mm(photo, 0.0, width), pose, photo.base_distance)
    return geometry.warp_onto(background, photo.image, geometry.perspective_transform(source, target))


def render_curved(photo: Print, pose: Pose, background: np.ndarray, *, radius_mm: float) -> np.ndarray:
    """The print cut to the face and bent around a vertical cylinder (middle nearest the camera).

    Drawn as flat strips 4 mm wide (chord error under 0.03 mm), far strips first, each overlapping the
    next by a pixel so no seams show. The cut keeps the arc within +-80 degrees, as a sheet wrapped
    further round would face away from the camera.
    """
    height, width = photo.image.shape[:2]
    reach_px = radius_mm * math.radians(80) / photo.mm_per_px
    first = max(0.0, photo.face_centre[0] - reach_px)
    last = min(float(width), photo.face_centre[0] + reach_px)
    edges = np.linspace(first, last, max(int((last - first) * photo.mm_per_px / 4.0), 2) + 1)
    rotation = _rotation(pose)
    pieces = []
    for x0, x1 in itertools.pairwise(edges.tolist()):
        corners = _sheet_corners_mm(photo, x0, x1)
        arc = corners[:, 0] / radius_mm
        bent = np.column_stack([radius_mm * np.sin(arc), corners[:, 1], -radius_mm * (1 - np.cos(arc))])
        depth = float((bent @ rotation.T)[:, 2].mean())
        left, right = int(x0), min(max(math.ceil(x1), int(x0) + 1) + 1, width)  # +1 px: no seams
        source = np.array([[x0 - left, 0], [x1 - left, 0], [x1 - left, height], [x0 - left, height]], float)
        target = _project(bent, pose, photo.base_distance)
        pieces.append((depth, photo.image[:, left:right], geometry.perspective_transform(source, target)))
    canvas = background
    for _, piece, homography in sorted(pieces, key=lambda item: item[0]):  # z towards the camera: far first
        canvas = geometry.warp_onto(canvas, np.ascontiguousarray(piece), homography)
    return canvas


def render_pose(
    photo: Print, pose: Pose, background: np.ndarray, *, curve_radius_mm: float | None
) -> np.ndarray:
    """The sheet in ``pose`` over ``background``: flat, or bent round a cylinder of ``curve_radius_mm``."""
    if curve_radius_mm is None:
        return render_flat(photo, pose, background)
    return render_curved(photo, pose, background, radius_mm=curve_radius_mm)


def background_for(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    coarse = rng.integers(40, 210, size=(6, 8, 3)).astype(np.float32)
    # Smooth room-like background (bilinear upscaling in numpy: geometry has no resize on purpose).
    ys = np.linspace(0, 5, CANVAS_HEIGHT)
    xs = np.linspace(0, 7, CANVAS_WIDTH)
    y0, x0 = np.floor(ys).astype(int).clip(0, 4), np.floor(xs).astype(int).clip(0, 6)
    fy, fx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    top = coarse[y0][:, x0] * (1 - fx) + coarse[y0][:, x0 + 1] * fx
    bottom = coarse[y0 + 1][:, x0] * (1 - fx) + coarse[y0 + 1][:, x0 + 1] * fx
    return (top * (1 - fy) + bottom * fy).astype(np.uint8)


def camera_noise(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    noisy = image.astype(np.float32) + rng.normal(0.0, CAMERA_NOISE_SIGMA, image.shape).astype(np.float32)
    return np.clip(noisy + 0.5, 0, 255).astype(np.uint8)


class NoiseBank:
    """Camera noise from a few pre-drawn fields, each frame a random shift of one: frames never repeat, and
    drawing 900,000 normals per frame (a third of the rendering time) is avoided."""

    def __init__(self, shape: tuple[int, ...], rng: np.random.Generator, *, fields: int = 3) -> None:
        self.rng = rng
        self.fields = [
            rng.standard_normal(shape, dtype=np.float32) * CAMERA_NOISE_SIGMA for _ in range(fields)
        ]

    def add(self, image: np.ndarray) -> np.ndarray:
        field_ = self.fields[int(self.rng.integers(len(self.fields)))]
        shift = (int(self.rng.integers(image.shape[0])), int(self.rng.integers(image.shape[1])))
        noise = np.roll(field_, shift, axis=(0, 1))
        return np.clip(image + noise + 0.5, 0, 255).astype(np.uint8)


def ramp(count: int, hold: int) -> list[float]:
    """0 -> 1 over ``count - hold`` frames, then held: the attacker keeps the final pose."""
    moving = max(count - hold, 2)
    return [min(index / (moving - 1), 1.0) for index in range(count)]


def attack_motions(count: int) -> dict[str, dict[str, Motion]]:
    """Attack type -> motion name -> one sheet pose per frame (each motion is tried on every challenge)."""
    turn = ramp(count, hold=count // 4)
    wave = [math.sin(math.pi * index / (count - 1)) for index in range(count)]  # 0 -> 1 -> 0
    rock = [math.sin(2 * math.pi * index / (count - 1)) for index in range(count)]  # 0 -> 1 -> -1 -> 0
    both = list(zip(rock, wave, strict=True))
    return {
        "translated": {
            "translate": Motion([Pose(x=70 * r, y=35 * w, distance=-80 * w) for r, w in both]),
        },
        "rotated": {
            "roll_cw": Motion([Pose(roll=35 * r) for r in turn]),
            "roll_ccw": Motion([Pose(roll=-35 * r) for r in turn]),
            "roll_rock": Motion([Pose(roll=25 * r) for r in rock]),
        },
        "perspective": {
            **sheet_turns(count, degrees=50.0),
            "sheet_tilt_back": Motion([Pose(pitch=60 * w) for w in wave]),  # squashes the eyes: a fake blink
            "sheet_wobble": Motion([Pose(yaw=35 * r, pitch=25 * w, roll=10 * r) for r, w in both]),
        },
        "curved_print": {
            name: motion
            for radius in (70, 100)
            for name, motion in sheet_turns(count, degrees=60.0, radius_mm=float(radius)).items()
        },
    }


def sheet_turns(count: int, *, degrees: float, radius_mm: float | None = None) -> dict[str, Motion]:
    """The sheet turned left and right by ``degrees`` and held there; bent round ``radius_mm`` if given."""
    turn = ramp(count, hold=count // 4)
    prefix = "sheet" if radius_mm is None else f"curved_r{radius_mm:.0f}"
    return {
        f"{prefix}_turn_{side}": Motion([Pose(yaw=sign * degrees * r) for r in turn], radius_mm)
        for side, sign in (("left", 1), ("right", -1))
    }
