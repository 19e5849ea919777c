"""Bona fide sessions for ``benchmark_liveness``: the real clip (``video/short_hamilton_clip.mp4``), its face
tracks, the turn sessions cut around the clip's annotated head turns, and replays of those sessions."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench import geometry
from bench.liveness_render import JPEG_QUALITY
from bench.liveness_sessions import Frame, Tally, Timer, session_play
from biometrics import engine
from biometrics.liveness import Challenge, LivenessConfig, frame_fingerprint, head_yaw, planar_motion_score

VIDEO = Path("video") / "short_hamilton_clip.mp4"
# (first frame, last frame, direction) of the clear head turns in the clip, annotated by eye.
CLIP_TURNS = (
    (82, 112, Challenge.TURN_RIGHT),
    (134, 162, Challenge.TURN_LEFT),
    (160, 210, Challenge.TURN_RIGHT),
)
SESSION_START_OFFSETS = (-4, -2, 0, 2, 4)
VIDEO_STRIDES = (1, 3, 6)  # 30, ~10 and ~5 fps
PLANAR_WINDOW_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class VideoFrame:
    index: int
    t: float
    fingerprint: str
    faces: int
    landmarks: np.ndarray | None  # the face when exactly one was found
    box: engine.Box | None = None  # its box (reused by the PAD pass)


def clip_frames(path: Path, limit: int = 0) -> Iterator[tuple[int, float, np.ndarray]]:
    """(index, seconds, RGB) of the clip's frames, only the first ``limit`` when given (smoke runs)."""
    frames = geometry.video_frames(path)
    return itertools.islice(frames, limit) if limit else frames


def video_frames(path: Path, limit: int = 0) -> list[VideoFrame]:
    """Every frame of the clip through JPEG and the live detector, once (every pass reuses these)."""
    frames = []
    for index, seconds, rgb in clip_frames(path, limit):
        jpeg = engine.jpeg_encode(rgb, quality=JPEG_QUALITY)
        faces = engine.detect_faces(engine.decode_image(jpeg), purpose="live")
        one = faces[0] if len(faces) == 1 else None
        frames.append(
            VideoFrame(
                index,
                seconds,
                frame_fingerprint(jpeg),
                len(faces),
                one.landmarks if one else None,
                one.box if one else None,
            )
        )
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


def as_frames(video: Iterable[VideoFrame]) -> list[Frame]:
    return [Frame(frame.t, frame.fingerprint, frame.landmarks) for frame in video]


def bona_fide_turn_sessions(runs: Sequence[Sequence[VideoFrame]]) -> list[tuple[str, Challenge, list[Frame]]]:
    """(name, asked turn, frames) of sessions starting around each annotated turn, at each stride."""
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
                sessions.append((f"{first}-{last}@{start}/stride{stride}", direction, as_frames(chosen)))
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
        verdict = session_play(challenge, frames, config, timer=timer).verdict
        result.turns.add(verdict)
        if not verdict.passed:
            result.refused.append(f"{name} {challenge.value}: {verdict.reason} {verdict.details}")
        opposite = Challenge.TURN_LEFT if challenge is Challenge.TURN_RIGHT else Challenge.TURN_RIGHT
        result.wrong_way.add(session_play(opposite, frames, config).verdict, f"{name} {opposite.value}")
    for run in runs:
        for stride in VIDEO_STRIDES:
            frames = as_frames(run[::stride])
            result.blink_asked.add(
                session_play(Challenge.BLINK, frames, config).verdict, f"track {run[0].index}"
            )
    result.planar_windows = planar_windows(runs)
    return result


def replay_evaluate(bona_fide: BonaFide, config: LivenessConfig, *, kiosk_seen: set[str]) -> Tally:
    """A genuine session's frames sent again: duplicated within a session, and whole in a new session."""
    tally = Tally()
    for name, challenge, frames in bona_fide.sessions:
        doubled = [
            Frame(frame.t + copy / 60.0, frame.fingerprint, frame.landmarks)
            for frame in frames
            for copy in (0, 1)
        ]
        tally.add(session_play(challenge, doubled, config).verdict, f"{name} doubled")
        tally.add(session_play(challenge, frames, config, kiosk_seen=kiosk_seen).verdict, f"{name} resent")
    return tally
