"""Liveness sessions for ``benchmark_liveness``: frames as the kiosk sees them (JPEG bytes -> decode ->
live detection [-> PAD score]) fed to the real ``liveness_update``, and the tallies the report reads."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from django.conf import settings

from bench.liveness_render import (
    JPEG_QUALITY,
    Motion,
    NoiseBank,
    Pose,
    Print,
    background_for,
    camera_noise,
    render_pose,
)
from biometrics import engine
from biometrics.liveness import (
    Challenge,
    LivenessConfig,
    LivenessState,
    Verdict,
    VerdictReason,
    VerdictStatus,
    frame_fingerprint,
    liveness_start,
    liveness_update,
    liveness_verdict,
)


def benchmark_config(*, pad_threshold: float | None = None) -> LivenessConfig:
    """The production liveness thresholds and time limit (the kiosk's settings); PAD on at ``pad_threshold``
    when one is given, off otherwise."""
    production = LivenessConfig(
        time_limit_seconds=settings.LIVENESS_TIME_LIMIT_S,
        yaw_turn_degrees=settings.LIVENESS_YAW_TURN_DEGREES,
        parallax_threshold=settings.LIVENESS_PARALLAX_THRESHOLD,
    )
    if pad_threshold is None:
        return production
    return replace(production, pad_enabled=True, pad_threshold=pad_threshold)


@dataclass(frozen=True, slots=True)
class Frame:
    t: float
    fingerprint: str
    landmarks: np.ndarray | None
    pad_score: float | None = None


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


@dataclass(frozen=True, slots=True)
class Play:
    verdict: Verdict
    state: LivenessState  # as it was at the verdict


def session_play(
    challenge: Challenge,
    frames: Sequence[Frame],
    config: LivenessConfig,
    *,
    kiosk_seen: set[str] | None = None,
    timer: Timer | None = None,
) -> Play:
    """Feed frames the way the kiosk would; stop at the first final verdict, returned with the state.

    ``kiosk_seen`` models the kiosk-wide store of recent frame fingerprints (refusing a frame another
    session already sent); the per-session repeats are the state's own job.
    """
    state: LivenessState = liveness_start(challenge=challenge)
    for frame in frames:
        if kiosk_seen is not None and frame.fingerprint in kiosk_seen:
            return Play(Verdict(VerdictStatus.FAILED, VerdictReason.REPLAY), state)
        started = time.process_time()
        state = liveness_update(
            state,
            frame.landmarks,
            frame.t,
            fingerprint=frame.fingerprint,
            config=config,
            pad_score=frame.pad_score,
        )
        if timer is not None:
            timer.samples.append(time.process_time() - started)
        verdict = liveness_verdict(state, config=config)
        if verdict.status is not VerdictStatus.PENDING:
            return Play(verdict, state)
    # The attacker stopped: the kiosk keeps waiting until the time limit and then refuses.
    timeout = (state.started_at or 0.0) + config.time_limit_seconds + 1
    return Play(liveness_verdict(state, config=config, now=timeout), state)


def detect(jpeg: bytes) -> np.ndarray | None:
    faces = engine.detect_faces(engine.decode_image(jpeg), purpose="live")
    # The attacker's best case: the largest face, even when the frame shows several (the kiosk refuses
    # those separately).
    return faces[0].landmarks if faces else None


def detect_scored(
    jpeg: bytes, *, models: Sequence[str], near: engine.Box | None = None
) -> tuple[np.ndarray | None, float | None, engine.Box | None]:
    """(landmarks, PAD score, box) of the frame's largest face, the kiosk's live path.

    ``near``: the previous frame's face box. HOG then runs first on a window twice the face's size around
    it (about a quarter of the frame's pixels; HOG is a sliding window, so a face inside the window is
    found as in the whole frame) and falls back to the whole frame when the window shows no face.
    Landmarks are moved back to frame coordinates; the PAD crop is always taken from the whole frame.
    """
    image = engine.decode_image(jpeg)
    faces: list[engine.Face] = []
    if near is not None:
        margin = max(near.width, near.height) // 2
        top, left = max(near.top - margin, 0), max(near.left - margin, 0)
        window = np.ascontiguousarray(image[top : near.bottom + margin, left : near.right + margin])
        faces = [
            engine.Face(
                box=engine.Box(f.box.top + top, f.box.right + left, f.box.bottom + top, f.box.left + left),
                landmarks=f.landmarks + np.array([left, top], np.float32),
                quality=f.quality,
            )
            for f in engine.detect_faces(window, purpose="live")
        ]
    if not faces:
        faces = engine.detect_faces(image, purpose="live")
    if not faces:
        return None, None, None
    face = faces[0]
    return face.landmarks, engine.pad_score(image, face.box, models=models), face.box


def render_attack_frames(photo: Print, motion: Motion, *, seed: int, fps: float) -> list[Frame]:
    """A landmark-only attack: every frame rendered with fresh camera noise and detected."""
    background = background_for(seed)
    rng = np.random.default_rng(seed)
    frames = []
    for index, pose in enumerate(motion.poses):
        image = render_pose(photo, pose, background, curve_radius_mm=motion.curve_radius_mm)
        jpeg = engine.jpeg_encode(camera_noise(image, rng), quality=JPEG_QUALITY)
        frames.append(Frame(index / fps, frame_fingerprint(jpeg), detect(jpeg)))
    return frames


def static_frames(photo: Print, count: int, *, seed: int, fps: float, noisy: bool) -> list[Frame]:
    """The print held still: one frame's bytes repeated, or fresh camera noise (and detection) each frame."""
    background = background_for(seed)
    rng = np.random.default_rng(seed)
    image = render_pose(photo, Pose(), background, curve_radius_mm=None)
    if not noisy:
        jpeg = engine.jpeg_encode(camera_noise(image, rng), quality=JPEG_QUALITY)
        landmarks = detect(jpeg)
        return [Frame(index / fps, frame_fingerprint(jpeg), landmarks) for index in range(count)]
    frames = []
    for index in range(count):
        jpeg = engine.jpeg_encode(camera_noise(image, rng), quality=JPEG_QUALITY)
        frames.append(Frame(index / fps, frame_fingerprint(jpeg), detect(jpeg)))
    return frames


class SheetCamera:
    """The PAD species' frames of one photo: each (texture, pose, bend) is rendered over the photo's
    background, given camera noise, JPEG-encoded, detected and PAD-scored ONCE, and reused by every motion
    and species that shows it (a still sheet, the start of every turn, a held final pose).

    A repeat of a pose carries the first frame's landmarks and score with a fresh fingerprint, as a new
    camera frame of an unmoved sheet would (only its noise differs); the scores are therefore per pose.
    """

    def __init__(self, seed: int, *, models: Sequence[str]) -> None:
        self.background = background_for(seed)
        self.noise = NoiseBank(self.background.shape, np.random.default_rng(seed))
        self.models = tuple(models)
        self.seen: dict[tuple[str, Pose, float | None], Frame] = {}
        self.box: engine.Box | None = None
        self.repeats = 0

    def view(self, texture: str, sheet: Print, pose: Pose, curve_radius_mm: float | None) -> Frame:
        """One camera frame of the sheet in ``pose``: rendered and detected the first time, reused after."""
        key = (texture, pose, curve_radius_mm)
        if key not in self.seen:
            image = render_pose(sheet, pose, self.background, curve_radius_mm=curve_radius_mm)
            jpeg = engine.jpeg_encode(self.noise.add(image), quality=JPEG_QUALITY)
            landmarks, score, self.box = detect_scored(jpeg, models=self.models, near=self.box)
            self.seen[key] = Frame(0.0, frame_fingerprint(jpeg), landmarks, score)
            return self.seen[key]
        self.repeats += 1
        first = self.seen[key]
        # A new hash, not a suffix: the liveness state keeps only a fingerprint's first characters, and a
        # suffixed one read as the same frame again (a replay), refusing held poses for the wrong reason.
        repeat = frame_fingerprint(f"{first.fingerprint}+{self.repeats}".encode())
        return Frame(0.0, repeat, first.landmarks, first.pad_score)

    def frames(self, texture: str, sheet: Print, motion: Motion, *, fps: float) -> list[Frame]:
        """``motion`` of ``sheet`` (``texture`` names its pixels) at ``fps``."""
        views = [self.view(texture, sheet, pose, motion.curve_radius_mm) for pose in motion.poses]
        return [
            Frame(index / fps, view.fingerprint, view.landmarks, view.pad_score)
            for index, view in enumerate(views)
        ]
