"""``benchmark_liveness --real [DIR]``: real recordings and recaptured attacks (``DIR/MANIFEST.csv``, columns
file, source_repo, source_path, label, notes) played through the kiosk's frame path.

Every camera picture goes through what a kiosk frame goes through: the page's 640-wide canvas (aspect kept),
JPEG at quality 0.85, ``engine.decode_image`` with the kiosk's pixel limit, ``engine.detect_faces(purpose=
"live")``, the usable-face rule (``quality.face_problem``), ``engine.pad_score`` of the one face, then the
real ``liveness_update`` with the production thresholds, PAD on. A video is sampled at the kiosk's frame
interval; each sampled frame is read ONCE (cached by source frame) and every session reuses the reading.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from django.conf import settings

from bench import geometry
from bench.liveness_sessions import Frame, Tally, session_play
from biometrics import engine
from biometrics.liveness import (
    Challenge,
    LivenessConfig,
    Verdict,
    VerdictReason,
    VerdictStatus,
    frame_fingerprint,
    pad_aggregate,
)
from biometrics.pose import yaw_pitch
from biometrics.quality import face_problem

CANVAS_WIDTH = 640  # static/kiosk/kiosk.js: the grab canvas
KIOSK_JPEG_QUALITY = 85  # canvas.toBlob("image/jpeg", 0.85)
FRAME_INTERVAL_S = 0.2  # kiosk.views: config.frame_interval_ms
SESSION_START_STEP_S = 0.25
STILL_FRAMES = 25  # frames of a still picture per session (5 s at the kiosk's rate)
# A live session counts towards BPCER when the recording, from the session's start and within the time
# limit, turns the head at least this far the asked way before it turns this far the other way (the
# person did what the kiosk asks). Other sessions are reported apart.
ASKED_TURN_DEGREES = 20.0
VIDEO_SUFFIXES = {".mp4", ".webm", ".avi", ".mov", ".mkv"}
LABELS = ("live", "print", "replay", "paper_mask")
YAW_BINS = ((0.0, 10.0), (10.0, 20.0), (20.0, 30.0), (30.0, 90.0))
TURNS = (Challenge.TURN_LEFT, Challenge.TURN_RIGHT)


@dataclass(frozen=True, slots=True)
class Entry:
    file: str
    label: str

    @property
    def is_video(self) -> bool:
        return Path(self.file).suffix.lower() in VIDEO_SUFFIXES


def manifest_entries(folder: Path) -> list[Entry]:
    """The MANIFEST's rows with a known label; a missing manifest or file is an error, not a skip."""
    manifest = folder / "MANIFEST.csv"
    if not manifest.is_file():
        raise FileNotFoundError(f"{manifest} not found")
    with manifest.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    entries = [Entry(row["file"], row["label"]) for row in rows if row.get("label") in LABELS]
    missing = [entry.file for entry in entries if not (folder / entry.file).is_file()]
    if missing:
        raise FileNotFoundError(f"listed in {manifest} but missing: {', '.join(missing[:5])}")
    return entries


@dataclass(frozen=True, slots=True)
class KioskFrame:
    """One camera picture as the kiosk reads it."""

    t: float
    fingerprint: str
    faces: int
    landmarks: np.ndarray | None  # the one usable face
    pad: float | None
    yaw: float | None

    def as_frame(self, t: float, fingerprint: str | None = None) -> Frame:
        return Frame(t, fingerprint or self.fingerprint, self.landmarks, self.pad)


def kiosk_canvas(rgb: np.ndarray) -> np.ndarray:
    """The page's grab canvas: 640 wide, the camera's aspect kept (drawImage scales the video into it)."""
    height, width = rgb.shape[:2]
    size = (CANVAS_WIDTH, max(1, round(CANVAS_WIDTH * height / width)))
    interpolation = cv2.INTER_AREA if width > CANVAS_WIDTH else cv2.INTER_LINEAR
    return cv2.resize(rgb, size, interpolation=interpolation)


def kiosk_frame_read(rgb: np.ndarray, t: float, *, models: tuple[str, ...]) -> KioskFrame:
    jpeg = engine.jpeg_encode(kiosk_canvas(rgb), quality=KIOSK_JPEG_QUALITY)
    max_pixels = min(settings.IMAGE_MAX_PIXELS, settings.KIOSK_FRAME_MAX_PIXELS)
    image = engine.decode_image(jpeg, max_pixels=max_pixels)
    faces = engine.detect_faces(image, purpose="live")
    fingerprint = frame_fingerprint(jpeg)
    if len(faces) != 1 or face_problem(faces[0].quality) is not None:
        return KioskFrame(t, fingerprint, len(faces), None, None, None)
    face = faces[0]
    landmarks = np.asarray(face.landmarks, dtype=np.float64)
    pad = engine.pad_score(image, face.box, models=models)
    return KioskFrame(t, fingerprint, 1, landmarks, pad, yaw_pitch(landmarks)[0])


@dataclass(slots=True)
class Recording:
    entry: Entry
    frames: list[KioskFrame]  # every frame of a video, in time order; a picture's one frame

    def session(self, start: float) -> list[KioskFrame]:
        """The frames a kiosk grabbing every FRAME_INTERVAL_S from ``start`` would send."""
        chosen: list[KioskFrame] = []
        tick = start
        for frame in self.frames:
            if frame.t + 1e-6 >= tick:
                chosen.append(frame)
                tick = frame.t + FRAME_INTERVAL_S
        return chosen

    @property
    def duration(self) -> float:
        return self.frames[-1].t if self.frames else 0.0


def recordings_read(
    folder: Path, entries: list[Entry], *, models: tuple[str, ...], progress: Callable[[str], None]
) -> dict[str, Recording]:
    """Every listed picture and sampled video frame read once through the kiosk path."""
    read: dict[str, Recording] = {}
    for entry in entries:
        path = folder / entry.file
        if entry.is_video:
            frames = [kiosk_frame_read(rgb, t, models=models) for _i, t, rgb in geometry.video_frames(path)]
        else:
            rgb = engine.decode_image(path.read_bytes(), max_pixels=settings.IMAGE_MAX_PIXELS)
            frames = [kiosk_frame_read(rgb, 0.0, models=models)]
        read[entry.file] = Recording(entry, frames)
        progress(f"  {entry.file}: {len(frames)} frame(s)")
    return read


def asked_turn_present(frames: list[KioskFrame], challenge: Challenge, config: LivenessConfig) -> bool:
    """Does the person turn the asked way first (by ASKED_TURN_DEGREES from the first face, in time)?"""
    direction = 1.0 if challenge is Challenge.TURN_LEFT else -1.0
    if config.frames_mirrored:
        direction = -direction
    yaws = [(frame.t, frame.yaw) for frame in frames if frame.yaw is not None]
    if not yaws:
        return False
    start_t, start_yaw = yaws[0]
    for t, yaw in yaws:
        if t - start_t > config.time_limit_seconds:
            return False
        change = direction * (yaw - start_yaw)
        if change >= ASKED_TURN_DEGREES:
            return True
        if change <= -ASKED_TURN_DEGREES:
            return False
    return False


def session_frames(frames: list[KioskFrame], *, shift: float) -> list[Frame]:
    return [frame.as_frame(frame.t - shift) for frame in frames]


def still_frames(frame: KioskFrame) -> list[Frame]:
    """A picture held still before the camera: the same reading with a fresh fingerprint per frame (a new
    camera frame of an unmoved picture differs only by its noise)."""
    # A new hash per frame: the liveness state keeps only a fingerprint's first characters, so a suffix
    # would read as the same frame sent again (a replay), not as a print held still.
    return [
        frame.as_frame(index * FRAME_INTERVAL_S, frame_fingerprint(f"{frame.fingerprint}+{index}".encode()))
        for index in range(STILL_FRAMES)
    ]


@dataclass(slots=True)
class LiveResult:
    as_asked: Tally = field(default_factory=Tally)  # BPCER sessions
    not_asked: Tally = field(default_factory=Tally)  # the recording does not turn the asked way first
    refused: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RealRun:
    species: dict[str, Tally] = field(default_factory=dict)  # product rule, sessions
    pad_alone: dict[str, Tally] = field(default_factory=dict)  # PAD alone (challenge assumed met)
    live: dict[str, LiveResult] = field(default_factory=dict)  # per live recording
    live_stills: Tally = field(default_factory=Tally)  # live pictures: PAD alone per picture
    recordings_live: list[Recording] = field(default_factory=list)  # the live videos
    frames: dict[str, list[KioskFrame]] = field(default_factory=dict)  # "label videos|pictures": readings
    seconds: float = 0.0


def _pad_alone_pass(scores: list[float], config: LivenessConfig) -> bool:
    aggregate = pad_aggregate(scores, trim=config.pad_trim)
    return aggregate is not None and len(scores) >= 1 and aggregate >= config.pad_threshold


def video_sessions(
    recording: Recording, config: LivenessConfig
) -> Iterator[tuple[str, Challenge, list[KioskFrame]]]:
    start = 0.0
    while start <= max(recording.duration - 1.0, 0.0) + 1e-6:
        chosen = recording.session(start)
        for challenge in TURNS:
            yield f"{recording.entry.file}@{start:.2f}s", challenge, chosen
        start += SESSION_START_STEP_S


def real_evaluate(
    recordings: dict[str, Recording], config: LivenessConfig, *, attack_config: LivenessConfig | None = None
) -> RealRun:
    """Live recordings are played with ``config`` (the turn; a recording that never opens the mouth as
    asked cannot measure the mouth part, see ``bench.liveness_mouth``), attacks with ``attack_config``
    (the product: the mouth challenge on), by default the same."""
    run = RealRun()
    attack_config = attack_config or config
    for label in LABELS:
        run.species.setdefault(label, Tally())
        run.pad_alone.setdefault(label, Tally())
    for name, recording in recordings.items():
        label = recording.entry.label
        kind = "videos" if recording.entry.is_video else "pictures"
        run.frames.setdefault(f"{label} {kind}", []).extend(recording.frames)
        if recording.entry.is_video:
            if label == "live":
                run.recordings_live.append(recording)
            _video_evaluate(run, name, recording, config if label == "live" else attack_config)
        else:
            _still_evaluate(run, name, label, recording.frames[0], attack_config)
    return run


def _video_evaluate(run: RealRun, name: str, recording: Recording, config: LivenessConfig) -> None:
    label = recording.entry.label
    for session_name, challenge, chosen in video_sessions(recording, config):
        if not chosen:
            continue
        frames = session_frames(chosen, shift=chosen[0].t)
        verdict = session_play(challenge, frames, config).verdict
        label_name = f"{session_name} {challenge.value}"
        scores = [frame.pad for frame in chosen if frame.pad is not None]
        if label == "live":
            result = run.live.setdefault(name, LiveResult())
            asked = asked_turn_present(chosen, challenge, config)
            (result.as_asked if asked else result.not_asked).add(verdict, label_name)
            if asked and not verdict.passed:
                result.refused.append(f"{label_name}: {verdict.reason} {verdict.details}")
            continue
        run.species[label].add(verdict, label_name)
        run.pad_alone[label].add(_pad_alone_verdict(scores, config), label_name)


def _pad_alone_verdict(scores: list[float], config: LivenessConfig) -> Verdict:
    if _pad_alone_pass(scores, config):
        return Verdict(VerdictStatus.PASSED)
    return Verdict(VerdictStatus.FAILED, VerdictReason.PAD_SCORE_LOW)


def _still_evaluate(run: RealRun, name: str, kind: str, frame: KioskFrame, config: LivenessConfig) -> None:
    scores = [] if frame.pad is None else [frame.pad]
    pad_verdict = _pad_alone_verdict(scores, config)
    if kind == "live":
        run.live_stills.add(pad_verdict, name)
        return
    run.pad_alone[kind].add(pad_verdict, name)
    if kind == "paper_mask":
        # Worn by a live person, who can turn the head as asked: only PAD stands in the way.
        run.species[kind].add(pad_verdict, name)
        return
    for challenge in TURNS:
        run.species[kind].add(session_play(challenge, still_frames(frame), config).verdict, name)
