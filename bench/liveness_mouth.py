"""The mouth challenge in ``benchmark_liveness --real``: paper masks moved as a worn mask moves, and real
speech (the shared singing clip, the webcam recordings) read through the kiosk frame path.

Both play the real ``liveness_update`` from a state whose asked action is already met, so only the mouth
(and PAD, at the moment the session would pass) decides: for a mask worn by a live head the turn is real,
for the live clips the question is whether a mouth that opens gets through.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from bench import geometry
from bench.liveness_real import (
    FRAME_INTERVAL_S,
    SESSION_START_STEP_S,
    KioskFrame,
    Recording,
    kiosk_frame_read,
)
from bench.liveness_sessions import Frame, Tally
from biometrics.liveness import (
    Challenge,
    LivenessConfig,
    LivenessState,
    Verdict,
    liveness_update,
    liveness_verdict,
)
from biometrics.liveness.tracking import MOUTH_POINTS, mouth_ratio

# Per-frame classes of the raw mouth ratio used to say whether a stretch of real video "opens the mouth"
# (the ground truth of the live side, independent of the challenge's own rule): a still mouth on the
# webcam recordings reads 0.00-0.07, singing on the clip reaches 0.15-0.33.
CLOSED_MOUTH = 0.07
OPEN_MOUTH = 0.15
MOUTH_SESSION_SECONDS = 3.0  # what a customer gets after the turn to open the mouth, in this benchmark
RATIO_BINS = (0.0, 0.03, 0.07, 0.1, 0.15, 0.2, 0.3, 1.0)
# A printed mask on a live head: rigid motions of the sheet (yaw of the sheet in degrees, shift as a share
# of the picture, scale), one frame every 200 ms, two paths per mask.
MASK_PATHS: tuple[tuple[tuple[float, float, float], ...], ...] = (
    tuple((20.0 * math.sin(i / 3), 0.02 * math.cos(i / 2), 1.0 + 0.04 * math.sin(i / 4)) for i in range(20)),
    tuple(
        (-20.0 * math.sin(i / 4), -0.03 * math.sin(i / 3), 1.0 - 0.05 * math.sin(i / 5)) for i in range(20)
    ),
)


def mouth_phase_start(config: LivenessConfig) -> LivenessState:
    """A session whose asked action is done: only the mouth (and PAD) is left. The blink stands in for the
    action because a blink met cannot be undone by a head that then moves (a turn the other way fails a
    turn challenge): the mask's motions and the singer's sway must not decide here."""
    return LivenessState(challenge=Challenge.BLINK, blinks=1)


def mouth_phase_play(frames: list[Frame], config: LivenessConfig) -> Verdict:
    state = mouth_phase_start(config)
    for frame in frames:
        state = liveness_update(
            state,
            frame.landmarks,
            frame.t,
            fingerprint=frame.fingerprint,
            config=config,
            pad_score=frame.pad_score,
        )
    return liveness_verdict(state, config=config)


def sheet_warp(picture: np.ndarray, *, yaw: float, shift: float, scale: float) -> np.ndarray:
    """The picture as a flat sheet turned by ``yaw`` degrees about its vertical axis (in perspective, a
    camera at about two picture widths), shifted sideways and scaled, on the same-sized frame."""
    height, width = picture.shape[:2]
    distance = 2.0 * width
    angle = math.radians(yaw)
    corners = []
    for x, y in ((0.0, 0.0), (width, 0.0), (width, height), (0.0, height)):
        cx, cy = (x - width / 2) * scale, (y - height / 2) * scale
        depth = distance + cx * math.sin(angle)
        corners.append(
            (
                width / 2 + shift * width + distance * cx * math.cos(angle) / depth,
                height / 2 + distance * cy / depth,
            )
        )
    source = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    homography = cv2.getPerspectiveTransform(source, np.array(corners, np.float32))
    return cv2.warpPerspective(picture, homography, (width, height), borderMode=cv2.BORDER_REPLICATE)


@dataclass(slots=True)
class MouthRun:
    masks: Tally = field(default_factory=Tally)
    masks_without_mouth: Tally = field(default_factory=Tally)  # the same sessions, mouth not required
    mask_rises: list[float] = field(default_factory=list)  # per session: the largest rise above closed
    live: dict[str, dict[str, Tally]] = field(default_factory=dict)  # recording -> opens / still
    ratios: dict[str, list[float]] = field(default_factory=dict)  # recording -> per-frame raw ratios


def _frames_of(readings: list[KioskFrame], shift: float) -> list[Frame]:
    return [Frame(frame.t - shift, frame.fingerprint, frame.landmarks, frame.pad) for frame in readings]


def masks_evaluate(
    run: MouthRun, pictures: list[tuple[str, np.ndarray]], config: LivenessConfig, *, models: tuple[str, ...]
) -> None:
    """Every mask picture played through each rigid path as a kiosk would see it, mouth required."""
    without = replace(config, mouth_required=False)
    for name, picture in pictures:
        for number, path in enumerate(MASK_PATHS):
            readings = [
                kiosk_frame_read(
                    sheet_warp(picture, yaw=yaw, shift=shift, scale=scale),
                    index * FRAME_INTERVAL_S,
                    models=models,
                )
                for index, (yaw, shift, scale) in enumerate(path)
            ]
            frames = _frames_of(readings, 0.0)
            verdict = mouth_phase_play(frames, config)
            run.masks.add(verdict, f"{name} path {number}")
            run.mask_rises.append(verdict.details.get("max_mouth_change", 0.0))
            run.masks_without_mouth.add(mouth_phase_play(frames, without), f"{name} path {number}")


def mouth_opens(readings: list[KioskFrame]) -> bool:
    """Does the stretch show a closed mouth and then an open one (raw ratios, the classes above)?"""
    closed_seen = False
    for frame in readings:
        if frame.landmarks is None:
            continue
        ratio = mouth_ratio(frame.landmarks[MOUTH_POINTS])
        if closed_seen and ratio >= OPEN_MOUTH:
            return True
        closed_seen = closed_seen or ratio <= CLOSED_MOUTH
    return False


def live_evaluate(run: MouthRun, recording: Recording, config: LivenessConfig) -> None:
    """Sessions of MOUTH_SESSION_SECONDS from every SESSION_START_STEP_S of a real recording."""
    name = recording.entry.file
    tallies = run.live.setdefault(name, {"opens": Tally(), "still": Tally()})
    run.ratios[name] = [
        round(mouth_ratio(frame.landmarks[MOUTH_POINTS]), 4)
        for frame in recording.frames
        if frame.landmarks is not None
    ]
    start = 0.0
    while start + MOUTH_SESSION_SECONDS <= recording.duration + 1e-6:
        chosen = [frame for frame in recording.session(start) if frame.t < start + MOUTH_SESSION_SECONDS]
        if any(frame.landmarks is not None for frame in chosen):
            verdict = mouth_phase_play(_frames_of(chosen, chosen[0].t), config)
            tallies["opens" if mouth_opens(chosen) else "still"].add(verdict, f"{name}@{start:.2f}s")
        start += SESSION_START_STEP_S


def clip_recording(path: Path, *, models: tuple[str, ...], progress: Callable[[str], None]) -> Recording:
    """The shared singing clip read through the kiosk path (every frame, like the live videos)."""
    from bench.liveness_real import Entry

    frames = [kiosk_frame_read(rgb, t, models=models) for _i, t, rgb in geometry.video_frames(path)]
    progress(f"  {path.name}: {len(frames)} frame(s)")
    return Recording(Entry(path.name, "live"), frames)


def ratio_distribution(ratios: list[float]) -> dict[str, int]:
    counts = np.histogram(np.clip(ratios, 0.0, 0.999), bins=RATIO_BINS)[0] if ratios else [0] * 7
    edges = itertools.pairwise(RATIO_BINS)
    return {f"{low:.2f}-{high:.2f}": int(count) for (low, high), count in zip(edges, counts, strict=True)}
