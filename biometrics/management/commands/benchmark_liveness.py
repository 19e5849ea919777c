"""``manage.py benchmark_liveness --faces DIR [--json]``: APCER / BPCER of the landmark liveness check."""

from __future__ import annotations

import csv
import itertools
import json
import math
import os
import time
from argparse import RawDescriptionHelpFormatter
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser

from biometrics import engine
from biometrics.liveness import (
    Challenge,
    LivenessConfig,
    LivenessState,
    Verdict,
    VerdictReason,
    VerdictStatus,
    frame_fingerprint,
    head_yaw,
    liveness_start,
    liveness_update,
    liveness_verdict,
    planar_motion_score,
)

HELP = """\
Presentation-attack benchmark of the landmark liveness check (biometrics/liveness.py), reported in
ISO/IEC 30107-3 terms: APCER per attack type (share of attack sessions that PASSED) and BPCER (share of
bona fide sessions that did not pass), each with the number of sessions behind it.

Attacks are rendered from the portraits in DIR/MANIFEST.csv as a printed photo in front of a simulated
kiosk camera (640x480, f=600 px, camera noise, JPEG q90), then go through the real path: JPEG bytes ->
engine.decode_image -> engine.detect_faces(purpose="live") -> liveness_update. Every attack motion is run
against every challenge (blink, turn left, turn right), i.e. the attacker may pick the motion that suits
the challenge shown. Types: static_photo (one frame's bytes repeated), static_photo_noise (fresh camera
noise each frame), translated, rotated (in-plane, to fake a turn), perspective (the sheet tilted about
its vertical/horizontal axis to fake a turn, or tilted backwards to squash the eyes into a "blink"),
curved_print (the print cut to the face, bent round a vertical 70 or 100 mm cylinder and turned by up to
60 degrees: a sheet that does carry depth), replay (a genuine session's frames re-sent: with duplicated
frames, and whole in a new session, which only a kiosk-wide store of recent fingerprints can refuse; the
benchmark models that store).

Bona fide sessions come from DIR/video/short_hamilton_clip.mp4, which was NOT recorded doing the
challenge. Frames with exactly one face form tracks. The clip was annotated by eye (frame by frame) with
three clear head turns: frames 82-112 and 160-210 to the performer's own right, 134-162 to his own left.
BPCER is measured on sessions that start around each annotated turn (+-4 frames), with the challenge set
to the annotated direction, at the clip's 30 fps and subsampled to 10 and 5 fps (kiosk rates). Reported
separately: the planar-motion score of every 0.5 s window of the tracks against the window's head-yaw
range (real head movement must not look flat), and the blink detector on the clip, which contains no
blink (checked by eye): blink BPCER cannot be measured on it, only spurious blink detections.

Thresholds (LivenessConfig defaults) were chosen before this benchmark's portrait numbers existed, on a
tuning set: the same attacks rendered from every 3rd aligned 150 px crop (run this command with
--kinds aligned_crop_150px to see them), a synthetic 3D head, and these same bona fide clip sessions
(every candidate setting passed all of them). The APCER below is held out for every type but "rotated":
the roll-step rule (LivenessConfig.max_roll_step_degrees) was added after the first portrait run, where
one rotated print passed. The yaw-rate rule (max_yaw_rate_degrees) came later from the full tuning set,
the face-speed rule (max_face_speed) from the clip at 5 fps. The BPCER is not held out (there is no
second bona fide clip), and it comes from one performer turning 45-55 degrees.
"""

VIDEO = Path("video") / "short_hamilton_clip.mp4"
ATTACK_KINDS = ("portrait",)
# (first frame, last frame, direction) of the clear head turns in the clip, annotated by eye.
CLIP_TURNS = (
    (82, 112, Challenge.TURN_RIGHT),
    (134, 162, Challenge.TURN_LEFT),
    (160, 210, Challenge.TURN_RIGHT),
)
SESSION_START_OFFSETS = (-4, -2, 0, 2, 4)
VIDEO_STRIDES = (1, 3, 6)  # 30, ~10 and ~5 fps
PLANAR_WINDOW_SECONDS = 0.5

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
class Frame:
    t: float
    fingerprint: str
    landmarks: np.ndarray | None


@dataclass(slots=True)
class Tally:
    sessions: int = 0
    passed: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    max_yaw_change: float = 0.0  # closest approach to the turn thresholds, over all sessions
    max_parallax: float = 0.0
    passed_by: list[str] = field(default_factory=list)

    def add(self, verdict: Verdict, label: str = "") -> None:
        self.sessions += 1
        self.passed += verdict.passed
        self.reasons[verdict.reason.value if verdict.reason else verdict.status.value] += 1
        self.max_yaw_change = max(self.max_yaw_change, verdict.details.get("max_yaw_change", 0.0))
        self.max_parallax = max(self.max_parallax, verdict.details.get("max_parallax", 0.0))
        if verdict.passed and label:
            self.passed_by.append(label)

    @property
    def pass_rate(self) -> float:
        return self.passed / self.sessions if self.sessions else 0.0


@dataclass(slots=True)
class Timer:
    """CPU time of each liveness_update call (process time: the machine may be busy with other work)."""

    samples: list[float] = field(default_factory=list)


# --------------------------------------------------------------------------------------------------
# Sessions
# --------------------------------------------------------------------------------------------------


def run_session(
    challenge: Challenge,
    frames: Sequence[Frame],
    config: LivenessConfig,
    *,
    kiosk_seen: set[str] | None = None,
    timer: Timer | None = None,
) -> Verdict:
    """Feed frames the way the kiosk would; stop at the first final verdict.

    ``kiosk_seen`` models the kiosk-wide store of recent frame fingerprints (refusing a frame another
    session already sent); the per-session repeats are the state's own job.
    """
    state: LivenessState = liveness_start(challenge=challenge)
    for frame in frames:
        if kiosk_seen is not None and frame.fingerprint in kiosk_seen:
            return Verdict(VerdictStatus.FAILED, VerdictReason.REPLAY)
        started = time.process_time()
        state = liveness_update(state, frame.landmarks, frame.t, fingerprint=frame.fingerprint, config=config)
        if timer is not None:
            timer.samples.append(time.process_time() - started)
        verdict = liveness_verdict(state, config=config)
        if verdict.status is not VerdictStatus.PENDING:
            return verdict
    # The attacker stopped: the kiosk keeps waiting until the time limit and then refuses.
    return liveness_verdict(
        state, config=config, now=(state.started_at or 0.0) + config.time_limit_seconds + 1
    )


# --------------------------------------------------------------------------------------------------
# Attack rendering
# --------------------------------------------------------------------------------------------------


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


@dataclass(slots=True)
class Print:
    """A portrait cropped around its face, with the millimetre size it has when printed life-size."""

    image: np.ndarray
    face_centre: tuple[float, float]  # crop pixels
    mm_per_px: float
    base_distance: float  # camera-to-print distance that gives the wanted face size in the frame


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
    return engine.warp_onto(background, photo.image, engine.perspective_transform(source, target))


def render_curved(photo: Print, pose: Pose, background: np.ndarray, *, radius_mm: float) -> np.ndarray:
    """The print cut to the face and bent around a vertical cylinder (middle nearest the camera).

    Drawn as flat strips 4 mm wide (chord error under 0.03 mm), far strips first, each overlapping the
    next by a pixel so no seams show. The cut keeps the arc
    within +-80 degrees, as a sheet wrapped further round would face away from the camera.
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
        pieces.append((depth, photo.image[:, left:right], engine.perspective_transform(source, target)))
    canvas = background
    for _, piece, homography in sorted(pieces, key=lambda item: item[0]):  # z towards the camera: far first
        canvas = engine.warp_onto(canvas, np.ascontiguousarray(piece), homography)
    return canvas


# --------------------------------------------------------------------------------------------------
# Texture of the presentation instrument (synthetic: what a print or a screen does to the pixels a camera
# sees). Numpy only; these are crude stand-ins for real recaptures, and every figure from them says so.
# --------------------------------------------------------------------------------------------------


def _grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    return y, x


def print_texture(image: np.ndarray, rng: np.random.Generator, *, pitch: float = 2.5) -> np.ndarray:
    """A colour print seen by a camera: paper gamut (no deep black, dull colours), a CMY halftone dot
    screen at the printer's angles partly smoothed by the camera optics, and matte lighting (a soft
    gradient across the sheet, no highlight)."""
    img = image.astype(np.float32) / 255.0
    img = 0.12 + 0.76 * img
    grey = img.mean(axis=2, keepdims=True)
    img = grey + 0.8 * (img - grey)
    height, width = img.shape[:2]
    y, x = _grid(height, width)
    halftoned = np.empty_like(img)
    for channel, angle in enumerate((15.0, 75.0, 0.0)):
        radians = math.radians(angle)
        u = x * math.cos(radians) + y * math.sin(radians)
        v = -x * math.sin(radians) + y * math.cos(radians)
        dots = (np.cos(2 * math.pi * u / pitch) + np.cos(2 * math.pi * v / pitch)) / 4 + 0.5
        ink = ((1.0 - img[..., channel]) > dots).astype(np.float32)
        halftoned[..., channel] = 1.0 - 0.85 * ink
    mixed = 0.5 * halftoned + 0.5 * img  # dot gain and the camera's blur between dot and tone
    lighting = (0.85 + 0.2 * x / max(width - 1, 1))[..., None]
    noisy = mixed * lighting * 255.0 + rng.normal(0.0, 2.0, img.shape)
    return np.clip(noisy + 0.5, 0, 255).astype(np.uint8)


def screen_texture(
    image: np.ndarray, rng: np.random.Generator, *, grid: tuple[float, float] = (0.12, 0.10)
) -> np.ndarray:
    """A picture on a display, filmed close up: display gamma and raised black, a bluish cast, duller
    colours, the dark lines between pixel rows and columns (the panel's grid, which beats with the
    camera's sampling into moire), and a glare spot from a light behind the customer."""
    img = image.astype(np.float32) / 255.0
    grey = img.mean(axis=2, keepdims=True)
    img = grey + 0.75 * (img - grey)
    img = 0.1 + 0.8 * img**1.6
    img[..., 2] = img[..., 2] * 1.1 + 0.03
    height, width = img.shape[:2]
    y, x = _grid(height, width)
    lines = 1.0 - grid[0] * ((x % 3) < 1) - grid[1] * ((y % 3) < 1)
    img = img * lines[..., None]
    glare_x, glare_y = rng.uniform(0.5, 0.8) * width, rng.uniform(0.15, 0.35) * height
    img += 0.25 * np.exp(-((x - glare_x) ** 2 + (y - glare_y) ** 2) / (2 * (0.13 * width) ** 2))[..., None]
    noisy = img * 255.0 + rng.normal(0.0, 2.5, img.shape)
    return np.clip(noisy + 0.5, 0, 255).astype(np.uint8)


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


def detect(jpeg: bytes) -> np.ndarray | None:
    faces = engine.detect_faces(engine.decode_image(jpeg), purpose="live")
    # The attacker's best case: the largest face, even when the frame shows several (the kiosk refuses
    # those separately).
    return faces[0].landmarks if faces else None


def _ramp(count: int, hold: int) -> list[float]:
    """0 -> 1 over ``count - hold`` frames, then held: the attacker keeps the final pose."""
    moving = max(count - hold, 2)
    return [min(index / (moving - 1), 1.0) for index in range(count)]


@dataclass(frozen=True, slots=True)
class Motion:
    poses: list[Pose]
    curve_radius_mm: float | None = None  # None: a flat sheet


def attack_motions(count: int) -> dict[str, dict[str, Motion]]:
    """Attack type -> motion name -> one sheet pose per frame (each motion is tried on every challenge)."""
    ramp = _ramp(count, hold=count // 4)
    wave = [math.sin(math.pi * index / (count - 1)) for index in range(count)]  # 0 -> 1 -> 0
    rock = [math.sin(2 * math.pi * index / (count - 1)) for index in range(count)]  # 0 -> 1 -> -1 -> 0
    both = list(zip(rock, wave, strict=True))
    return {
        "translated": {
            "translate": Motion([Pose(x=70 * r, y=35 * w, distance=-80 * w) for r, w in both]),
        },
        "rotated": {
            "roll_cw": Motion([Pose(roll=35 * r) for r in ramp]),
            "roll_ccw": Motion([Pose(roll=-35 * r) for r in ramp]),
            "roll_rock": Motion([Pose(roll=25 * r) for r in rock]),
        },
        "perspective": {
            "sheet_turn_left": Motion([Pose(yaw=50 * r) for r in ramp]),
            "sheet_turn_right": Motion([Pose(yaw=-50 * r) for r in ramp]),
            "sheet_tilt_back": Motion([Pose(pitch=60 * w) for w in wave]),  # squashes the eyes: a fake blink
            "sheet_wobble": Motion([Pose(yaw=35 * r, pitch=25 * w, roll=10 * r) for r, w in both]),
        },
        "curved_print": {
            f"curved_r{radius}_turn_{side}": Motion([Pose(yaw=sign * 60 * r) for r in ramp], float(radius))
            for radius in (70, 100)
            for side, sign in (("left", 1), ("right", -1))
        },
    }


def render_attack_frames(photo: Print, motion: Motion, *, seed: int, fps: float) -> list[Frame]:
    background = background_for(seed)
    rng = np.random.default_rng(seed)
    frames = []
    for index, pose in enumerate(motion.poses):
        if motion.curve_radius_mm is not None:
            image = render_curved(photo, pose, background, radius_mm=motion.curve_radius_mm)
        else:
            image = render_flat(photo, pose, background)
        jpeg = engine.jpeg_encode(camera_noise(image, rng), quality=JPEG_QUALITY)
        frames.append(Frame(index / fps, frame_fingerprint(jpeg), detect(jpeg)))
    return frames


def static_frames(photo: Print, count: int, *, seed: int, fps: float, noisy: bool) -> list[Frame]:
    background = background_for(seed)
    rng = np.random.default_rng(seed)
    image = render_flat(photo, Pose(), background)
    if not noisy:
        jpeg = engine.jpeg_encode(camera_noise(image, rng), quality=JPEG_QUALITY)
        landmarks = detect(jpeg)
        return [Frame(index / fps, frame_fingerprint(jpeg), landmarks) for index in range(count)]
    frames = []
    for index in range(count):
        jpeg = engine.jpeg_encode(camera_noise(image, rng), quality=JPEG_QUALITY)
        frames.append(Frame(index / fps, frame_fingerprint(jpeg), detect(jpeg)))
    return frames


# --------------------------------------------------------------------------------------------------
# Bona fide video
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VideoFrame:
    index: int
    t: float
    fingerprint: str
    faces: int
    landmarks: np.ndarray | None  # the face when exactly one was found


def video_frames(path: Path) -> list[VideoFrame]:
    frames = []
    for index, seconds, rgb in engine.video_frames(path):
        jpeg = engine.jpeg_encode(rgb, quality=JPEG_QUALITY)
        faces = engine.detect_faces(engine.decode_image(jpeg), purpose="live")
        landmarks = faces[0].landmarks if len(faces) == 1 else None
        frames.append(VideoFrame(index, seconds, frame_fingerprint(jpeg), len(faces), landmarks))
    return frames


def tracks(frames: Sequence[VideoFrame]) -> list[list[VideoFrame]]:
    """Runs of consecutive frames with exactly one face that does not jump (a cut to another person)."""
    runs: list[list[VideoFrame]] = []
    current: list[VideoFrame] = []
    for frame in frames:
        if frame.landmarks is None:
            current = _close(runs, current)
            continue
        if current:
            previous = current[-1].landmarks
            assert previous is not None
            size = float(np.ptp(previous[:, 0]))
            jump = float(np.linalg.norm(frame.landmarks.mean(axis=0) - previous.mean(axis=0)))
            if jump > 0.5 * size:
                current = _close(runs, current)
        current.append(frame)
    _close(runs, current)
    return runs


def _close(runs: list[list[VideoFrame]], current: list[VideoFrame]) -> list[VideoFrame]:
    if current:
        runs.append(current)
    return []


def _as_frames(video: Iterable[VideoFrame]) -> list[Frame]:
    return [Frame(frame.t, frame.fingerprint, frame.landmarks) for frame in video]


def bona_fide_turn_sessions(runs: Sequence[Sequence[VideoFrame]]) -> list[tuple[str, Challenge, list[Frame]]]:
    by_index = {
        frame.index: (number, position)
        for number, run in enumerate(runs)
        for position, frame in enumerate(run)
    }
    sessions = []
    for first, last, direction in CLIP_TURNS:
        for offset in SESSION_START_OFFSETS:
            start = first + offset
            if start not in by_index:
                continue
            number, position = by_index[start]
            run = runs[number]
            end = next((p for p, frame in enumerate(run) if frame.index > last + 10), len(run))
            for stride in VIDEO_STRIDES:
                chosen = run[position:end:stride]
                sessions.append((f"{first}-{last}@{start}/stride{stride}", direction, _as_frames(chosen)))
    return sessions


def planar_windows(runs: Sequence[Sequence[VideoFrame]]) -> list[tuple[float, float]]:
    """(yaw range in degrees, planar-motion score) of every PLANAR_WINDOW_SECONDS window, step 5 frames."""
    windows = []
    for run in runs:
        if len(run) < 2:
            continue
        fps = (len(run) - 1) / max(run[-1].t - run[0].t, 1e-9)
        size = max(round(PLANAR_WINDOW_SECONDS * fps), 4)
        for start in range(0, len(run) - size + 1, 5):
            points = [frame.landmarks for frame in run[start : start + size] if frame.landmarks is not None]
            yaws = [head_yaw(landmarks) for landmarks in points]
            windows.append((max(yaws) - min(yaws), planar_motion_score(points)))
    return windows


# --------------------------------------------------------------------------------------------------
# Command
# --------------------------------------------------------------------------------------------------


def _manifest_photos(faces_dir: Path, kinds: Sequence[str]) -> list[Path]:
    manifest = faces_dir / "MANIFEST.csv"
    if not manifest.is_file():
        raise CommandError(f"{manifest} not found (point --faces at the shared faces folder)")
    with manifest.open(newline="") as handle:
        return [faces_dir / row["path"] for row in csv.DictReader(handle) if row["kind"] in kinds]


@dataclass(slots=True)
class BonaFide:
    turns: Tally = field(default_factory=Tally)  # the BPCER sessions
    refused: list[str] = field(default_factory=list)
    wrong_way: Tally = field(default_factory=Tally)  # the same sessions, the opposite turn asked
    blink_asked: Tally = field(default_factory=Tally)  # a clip without blinks, blink asked
    planar_windows: list[tuple[float, float]] = field(default_factory=list)
    sessions: list[tuple[str, Challenge, list[Frame]]] = field(default_factory=list)


def bona_fide_evaluate(video: Sequence[VideoFrame], config: LivenessConfig, timer: Timer) -> BonaFide:
    result = BonaFide()
    runs = tracks(video)
    result.sessions = bona_fide_turn_sessions(runs)
    for name, challenge, frames in result.sessions:
        verdict = run_session(challenge, frames, config, timer=timer)
        result.turns.add(verdict)
        if not verdict.passed:
            result.refused.append(f"{name} {challenge.value}: {verdict.reason} {verdict.details}")
        opposite = Challenge.TURN_LEFT if challenge is Challenge.TURN_RIGHT else Challenge.TURN_RIGHT
        result.wrong_way.add(run_session(opposite, frames, config), f"{name} {opposite.value}")
    for run in runs:
        for stride in VIDEO_STRIDES:
            frames = _as_frames(run[::stride])
            result.blink_asked.add(run_session(Challenge.BLINK, frames, config), f"track {run[0].index}")
    result.planar_windows = planar_windows(runs)
    return result


def attacks_evaluate(
    photos: Sequence[Path],
    config: LivenessConfig,
    timer: Timer,
    *,
    frames_per_session: int,
    fps: float,
    kiosk_seen: set[str],
    progress: Callable[[str], None],
) -> dict[str, Tally]:
    attacks: dict[str, Tally] = {}
    motions = attack_motions(frames_per_session)
    started = time.monotonic()
    for number, path in enumerate(photos):
        image = engine.decode_image(path.read_bytes())
        faces = engine.detect_faces(image, purpose="enrol")
        if not faces:
            progress(f"  {path.name}: no face, skipped")
            continue
        face_px = 130.0 + 10.0 * (number % 5)  # 130-170 px wide: kiosk distance
        photo = make_print(image, faces[0], face_px_in_frame=face_px)
        seed = 1000 + number
        sequences: dict[str, dict[str, list[Frame]]] = {
            "static_photo": {
                "repeated": static_frames(photo, frames_per_session, seed=seed, fps=fps, noisy=False)
            },
            "static_photo_noise": {
                "noise": static_frames(photo, frames_per_session, seed=seed, fps=fps, noisy=True)
            },
        }
        for attack, named in motions.items():
            sequences[attack] = {
                name: render_attack_frames(photo, motion, seed=seed + 17 * k, fps=fps)
                for k, (name, motion) in enumerate(named.items())
            }
        for attack, named_frames in sequences.items():
            tally = attacks.setdefault(attack, Tally())
            for name, frames in named_frames.items():
                for challenge in Challenge:
                    verdict = run_session(challenge, frames, config, kiosk_seen=kiosk_seen, timer=timer)
                    tally.add(verdict, f"{path.name} {name} {challenge.value}")
        progress(f"  {path.parent.name}/{path.name} done ({time.monotonic() - started:.0f} s)")
    return attacks


def replay_evaluate(bona_fide: BonaFide, config: LivenessConfig, *, kiosk_seen: set[str]) -> Tally:
    """A genuine session's frames sent again: duplicated within a session, and whole in a new session."""
    tally = Tally()
    for name, challenge, frames in bona_fide.sessions:
        doubled = [
            Frame(frame.t + copy / 60.0, frame.fingerprint, frame.landmarks)
            for frame in frames
            for copy in (0, 1)
        ]
        tally.add(run_session(challenge, doubled, config), f"{name} doubled")
        tally.add(run_session(challenge, frames, config, kiosk_seen=kiosk_seen), f"{name} resent")
    return tally


class Command(BaseCommand):
    help = HELP

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter  # keep the help's paragraphs
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--faces",
            type=Path,
            default=Path(os.environ.get("ATM_FACES_DIR", Path.cwd().parent / "shared" / "faces")),
            help="Folder with MANIFEST.csv and video/ (default: $ATM_FACES_DIR or ../shared/faces).",
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object and nothing else.")
        parser.add_argument("--frames", type=int, default=20, help="Frames per attack session (default 20).")
        parser.add_argument(
            "--fps", type=float, default=10.0, help="Kiosk frame rate for attacks (default 10)."
        )
        parser.add_argument("--limit", type=int, default=0, help="Use only the first N photos (0: all).")
        parser.add_argument(
            "--kinds",
            default=",".join(ATTACK_KINDS),
            help="MANIFEST kinds to build attacks from (default portrait; aligned_crop_150px: tuning set).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        faces_dir: Path = options["faces"].resolve()
        if options["frames"] < 5 or options["fps"] <= 0:
            raise CommandError("--frames must be at least 5 and --fps positive")
        kinds = [kind.strip() for kind in options["kinds"].split(",") if kind.strip()]
        photos = _manifest_photos(faces_dir, kinds)
        if options["limit"]:
            photos = photos[: options["limit"]]
        video_path = faces_dir / VIDEO
        if not video_path.is_file():
            raise CommandError(f"{video_path} not found")
        config = LivenessConfig()
        timer = Timer()
        started = time.monotonic()

        self.stderr.write(f"Decoding and detecting {video_path.name} ...")
        video = video_frames(video_path)
        bona_fide = bona_fide_evaluate(video, config, timer)
        # Every genuine frame is now in the kiosk-wide store of recent fingerprints the replays meet.
        kiosk_seen = {frame.fingerprint for frame in video}
        attacks = attacks_evaluate(
            photos,
            config,
            timer,
            frames_per_session=options["frames"],
            fps=options["fps"],
            kiosk_seen=kiosk_seen,
            progress=self.stderr.write,
        )
        attacks["replay"] = replay_evaluate(bona_fide, config, kiosk_seen=kiosk_seen)

        turns = bona_fide.turns
        result = {
            "attacks": {
                name: {"sequences": tally.sessions, "apcer": round(tally.pass_rate, 4)}
                for name, tally in attacks.items()
            },
            "bona_fide": {
                "sequences": turns.sessions,
                "bpcer": round(1.0 - turns.pass_rate, 4) if turns.sessions else 0.0,
            },
        }
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self._report(result, attacks, bona_fide, timer, config, len(photos), time.monotonic() - started)

    def _report(
        self,
        result: dict[str, Any],
        attacks: dict[str, Tally],
        bona_fide: BonaFide,
        timer: Timer,
        config: LivenessConfig,
        photos: int,
        seconds: float,
    ) -> None:
        write = self.stdout.write
        write(f"Liveness benchmark: attacks from {photos} photos; {config}")
        write("")
        write("ATTACKS (APCER = share of attack sessions that passed)")
        write(
            f"{'type':20s} {'sessions':>8s} {'passed':>6s} {'APCER':>7s} {'max yaw':>8s} {'max par':>8s}"
            "  verdicts"
        )
        for name, tally in attacks.items():
            verdicts = ", ".join(f"{reason} {count}" for reason, count in sorted(tally.reasons.items()))
            write(
                f"{name:20s} {tally.sessions:8d} {tally.passed:6d} {tally.pass_rate:7.2%} "
                f"{tally.max_yaw_change:8.1f} {tally.max_parallax:8.3f}  {verdicts}"
            )
            for label in tally.passed_by:
                write(f"    passed: {label}")
        write(
            "  (max yaw / max par: the largest yaw change towards the asked side, and parallax, any session"
            " reached)"
        )
        write("")
        turns = bona_fide.turns
        write("BONA FIDE (the clip; BPCER = share of genuine turn sessions refused)")
        write(
            f"  turn sessions {turns.sessions}, refused {turns.sessions - turns.passed}: "
            f"BPCER {1 - turns.pass_rate:.2%}"
        )
        for line in bona_fide.refused:
            write(f"    refused: {line}")
        wrong = bona_fide.wrong_way
        write(
            f"  the same sessions with the opposite turn asked: {wrong.passed}/{wrong.sessions} passed"
            " (want 0)"
        )
        blinks = bona_fide.blink_asked
        write(
            f"  blink asked on the clip's tracks (the clip has no blink): {blinks.passed}/{blinks.sessions}"
            " passed"
            " (spurious blinks; blink BPCER cannot be measured on this clip)"
        )
        write(
            f"  planar-motion score of {PLANAR_WINDOW_SECONDS:.1f} s windows (3rd largest parallax),"
            " by the window's head-yaw range:"
        )
        for low, high in ((0, 5), (5, 10), (10, 20), (20, 90)):
            scores = [score for yaw_range, score in bona_fide.planar_windows if low <= yaw_range < high]
            if scores:
                flat = sum(score < config.parallax_threshold for score in scores)
                write(
                    f"    yaw range {low:2d}-{high:2d} deg: {len(scores):3d} windows, "
                    f"median {float(np.median(scores)):.3f},"
                    f" below {config.parallax_threshold} (look flat): {flat}"
                )
        if timer.samples:
            samples = np.array(timer.samples) * 1e6
            write("")
            write(
                f"liveness_update CPU time: {len(samples)} calls, mean {samples.mean():.0f} us, "
                f"median {np.median(samples):.0f} us, p99 {np.percentile(samples, 99):.0f} us"
            )
        write(f"total {seconds:.0f} s")
