"""``benchmark_liveness --pad``: SYNTHETIC texture attack species decided three ways (PAD off, PAD alone,
fused), the real clip's bona fide sessions, the per-frame cost of the models, and the threshold chosen on
one half of the photos and reported on the other.

Every session is played ONCE through the real ``liveness_update`` with PAD off and the frames' scores
attached; the fused decision for any threshold follows from that one play (see :class:`PadSession`).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.liveness_attacks import Photo, printed_photos
from bench.liveness_render import JPEG_QUALITY, Motion, Pose, Print, sheet_turns
from bench.liveness_sessions import Frame, SheetCamera, benchmark_config, detect_scored, session_play
from bench.liveness_texture import browser_camera, print_texture, screen_texture
from bench.liveness_video import VideoFrame, clip_frames
from biometrics import engine
from biometrics.liveness import Challenge, LivenessConfig, frame_fingerprint, pad_aggregate

TURNS = (Challenge.TURN_LEFT, Challenge.TURN_RIGHT)
THRESHOLD_GRID = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
MAX_BPCER = 0.10  # the goal; a threshold refusing more genuine sessions is never chosen


class Subset(enum.StrEnum):
    """Where a session's attack material comes from: which half of the people, or the clip (not split)."""

    TUNING = "tuning"
    HELD_OUT = "held_out"
    CLIP = "clip"


class Rule(enum.StrEnum):
    """The three ways a session is decided."""

    PAD_OFF = "pad_off"  # the landmark liveness alone
    PAD_ALONE = "pad_alone"  # the PAD aggregate of all the session's frames against the threshold
    FUSED = "fused"  # the product: the challenge, and the PAD aggregate when it would pass


TUNING, HELD_OUT, CLIP = Subset.TUNING, Subset.HELD_OUT, Subset.CLIP
Sessions = list[tuple[Challenge, list[Frame]]]


@dataclass(frozen=True, slots=True)
class PadSession:
    """One session's play with PAD off, enough to decide it three ways at any threshold.

    ``liveness_update`` with PAD on checks the PAD aggregate of the frames scored so far at the moment the
    challenge would pass, and fails the session there when it is too low (or too few frames were scored);
    nothing else changes. So fused(threshold) = the challenge passed AND ``frames_at_pass`` reaches
    ``pad_min_frames`` AND ``pad_at_pass`` reaches the threshold (checked against a real fused play in
    tests/bench). PAD alone: the aggregate of all the session's scores against the threshold.
    """

    subset: Subset
    challenge_met: bool
    pad_at_pass: float | None
    frames_at_pass: int
    pad_all: float | None

    def decide(self, threshold: float, *, min_frames: int) -> dict[Rule, bool]:
        at_pass = self.pad_at_pass
        return {
            Rule.PAD_OFF: self.challenge_met,
            Rule.PAD_ALONE: self.pad_all is not None and self.pad_all >= threshold,
            Rule.FUSED: at_pass is not None and self.frames_at_pass >= min_frames and at_pass >= threshold,
        }


@dataclass(slots=True)
class PadTally:
    """The sessions of one species (or of the bona fide clip) and the per-frame PAD scores they showed."""

    config: LivenessConfig
    sessions: list[PadSession] = field(default_factory=list)
    frame_scores: list[float] = field(default_factory=list)

    def play(self, challenge: Challenge, frames: Sequence[Frame], *, subset: Subset) -> None:
        play = session_play(challenge, frames, self.config)
        state = play.state
        at_pass = pad_aggregate(state.pad_scores, trim=self.config.pad_trim) if play.verdict.passed else None
        scores = [frame.pad_score for frame in frames if frame.pad_score is not None]
        every = pad_aggregate(scores, trim=self.config.pad_trim)
        self.sessions.append(PadSession(subset, play.verdict.passed, at_pass, len(state.pad_scores), every))

    def count(self, subset: Subset | None = None) -> int:
        return sum(subset is None or session.subset == subset for session in self.sessions)

    def rates(self, threshold: float, subset: Subset | None = None) -> dict[Rule, float]:
        """Share of sessions passed under each rule (of ``subset`` only, when given)."""
        chosen = [session for session in self.sessions if subset is None or session.subset == subset]
        passed = dict.fromkeys(Rule, 0)
        for session in chosen:
            for rule, ok in session.decide(threshold, min_frames=self.config.pad_min_frames).items():
                passed[rule] += ok
        return {rule: round(count / max(len(chosen), 1), 4) for rule, count in passed.items()}


def identity_split(photos: Sequence[Photo]) -> dict[str, Subset]:
    """identity -> TUNING or HELD_OUT: the identities in sorted order, alternately (disjoint people)."""
    return {
        identity: (TUNING if position % 2 == 0 else HELD_OUT)
        for position, identity in enumerate(sorted({photo.identity for photo in photos}))
    }


def photo_species(
    photo: Print, seed: int, *, count: int, fps: float, models: Sequence[str]
) -> dict[str, Sessions]:
    """A photo's print and screen species, every motion against both turn challenges. Each texture is
    rendered once per photo, each pose once per texture (:class:`SheetCamera`)."""
    rng = np.random.default_rng(seed)
    printed = photo.with_image(print_texture(photo.image, rng))
    shown = photo.with_image(screen_texture(photo.image, rng))
    camera = SheetCamera(seed, models=models)
    flat = {"still": Motion([Pose()] * count), **sheet_turns(count, degrees=50.0)}
    bent = sheet_turns(count, degrees=60.0, radius_mm=70.0)
    plans = (
        ("print_flat", "print", printed, flat),
        ("print_bent_turned", "print", printed, bent),
        ("screen_still", "screen", shown, flat),
    )
    species: dict[str, Sessions] = {}
    for name, texture, sheet, motions in plans:
        rendered = [camera.frames(texture, sheet, motion, fps=fps) for motion in motions.values()]
        species[name] = [(challenge, frames) for frames in rendered for challenge in TURNS]
    return species


@dataclass(slots=True)
class ClipPass:
    """The real clip's frames scored as recorded, through the kiosk page's camera path, and replayed on a
    (synthetic) screen; plus the per-crop cost of each model on the recorded frames."""

    real_scores: dict[int, float | None] = field(default_factory=dict)
    in_browser: dict[int, Frame] = field(default_factory=dict)
    replayed: dict[int, Frame] = field(default_factory=dict)
    costs_ms: dict[str, list[float]] = field(default_factory=dict)


def _crop_costs(
    costs: dict[str, list[float]], image: np.ndarray, box: engine.Box, models: Sequence[str]
) -> None:
    for name in costs:
        began = time.process_time()
        engine.pad_score(image, box, models=tuple(models) if name == "both" else (name,))
        costs[name].append((time.process_time() - began) * 1000)


def clip_pass(video_path: Path, video: Sequence[VideoFrame], *, models: Sequence[str]) -> ClipPass:
    """One decode of the clip; the recorded frames reuse the landmark pass's detections."""
    result = ClipPass(costs_ms={name: [] for name in (*models, "both")})
    rng = np.random.default_rng(99)
    box: engine.Box | None = None
    browser_box: engine.Box | None = None
    for (index, seconds, rgb), seen in zip(clip_frames(video_path, len(video)), video, strict=True):
        result.real_scores[index] = None
        if seen.box is not None:
            decoded = engine.decode_image(engine.jpeg_encode(rgb, quality=JPEG_QUALITY))
            result.real_scores[index] = engine.pad_score(decoded, seen.box, models=models)
            if index % 6 == 0:
                _crop_costs(result.costs_ms, decoded, seen.box, models)
        browser_jpeg = engine.jpeg_encode(browser_camera(rgb), quality=95)
        landmarks, score, browser_box = detect_scored(browser_jpeg, models=models, near=browser_box)
        result.in_browser[index] = Frame(seconds, frame_fingerprint(browser_jpeg), landmarks, score)
        screen_jpeg = engine.jpeg_encode(screen_texture(rgb, rng), quality=JPEG_QUALITY)
        landmarks, score, box = detect_scored(screen_jpeg, models=models, near=box)
        result.replayed[index] = Frame(seconds, frame_fingerprint(screen_jpeg), landmarks, score)
    return result


def clip_tallies(
    clip: ClipPass,
    video: Sequence[VideoFrame],
    sessions: Sequence[tuple[str, Challenge, list[Frame]]],
    config: LivenessConfig,
) -> dict[str, PadTally]:
    """The bona fide turn sessions as recorded ("real") and through the page ("page"), and the screen
    replay of the same sessions ("screen_replay_clip")."""
    index_of = {frame.fingerprint: frame.index for frame in video}
    tallies = {name: PadTally(config) for name in ("real", "page", "screen_replay_clip")}
    for _name, challenge, frames in sessions:
        indices = [index_of[frame.fingerprint] for frame in frames]
        recorded = [
            Frame(f.t, f.fingerprint, f.landmarks, clip.real_scores[i])
            for f, i in zip(frames, indices, strict=True)
        ]
        tallies["real"].play(challenge, recorded, subset=CLIP)
        tallies["page"].play(challenge, [clip.in_browser[i] for i in indices], subset=CLIP)
        tallies["screen_replay_clip"].play(challenge, [clip.replayed[i] for i in indices], subset=CLIP)
    tallies["real"].frame_scores = [score for score in clip.real_scores.values() if score is not None]
    tallies["page"].frame_scores = [f.pad_score for f in clip.in_browser.values() if f.pad_score is not None]
    tallies["screen_replay_clip"].frame_scores = [
        f.pad_score for f in clip.replayed.values() if f.pad_score is not None
    ]
    return tallies


def threshold_choose(species: dict[str, PadTally], real: PadTally) -> float | None:
    """The lowest grid threshold with fused APCER 0 for every species on the TUNING photos (and on the
    clip's screen replay, which has no photo split) while the clip's fused BPCER stays within MAX_BPCER.
    The lowest such value refuses the fewest customers. None: no grid value meets both."""
    for threshold in THRESHOLD_GRID:
        attacks_pass = any(
            tally.rates(threshold, subset)[Rule.FUSED] > 0
            for tally in species.values()
            for subset in (TUNING, CLIP)
            if tally.count(subset)
        )
        if not attacks_pass and 1 - real.rates(threshold)[Rule.FUSED] <= MAX_BPCER:
            return threshold
    return None


@dataclass(slots=True)
class PadRun:
    species: dict[str, PadTally]
    real: PadTally  # the clip's turn sessions as recorded
    page: PadTally  # the same through the kiosk page's camera path
    costs_ms: dict[str, list[float]]
    photos: dict[Subset, list[str]]  # TUNING / HELD_OUT -> the photos used, as identity/file
    seconds: float


def pad_evaluate(
    photos: Sequence[Photo],
    video_path: Path,
    video: Sequence[VideoFrame],
    sessions: Sequence[tuple[str, Challenge, list[Frame]]],
    *,
    count: int,
    fps: float,
    models: Sequence[str],
    progress: Callable[[str], None],
) -> PadRun:
    """Render, detect and score every species of every photo once, then the clip once."""
    config = benchmark_config()
    split = identity_split(photos)
    species = {name: PadTally(config) for name in ("print_flat", "print_bent_turned", "screen_still")}
    used: dict[Subset, list[str]] = {TUNING: [], HELD_OUT: []}
    started = time.monotonic()
    for number, photo, printed in printed_photos(photos, progress):
        subset = split[photo.identity]
        used[subset].append(f"{photo.identity}/{photo.path.name}")
        rendered = photo_species(printed, 5000 + number, count=count, fps=fps, models=models)
        for name, species_sessions in rendered.items():
            for challenge, frames in species_sessions:
                species[name].play(challenge, frames, subset=subset)
            # Each motion is played against both turns: its frames' scores are counted once.
            for _challenge, frames in species_sessions[:: len(TURNS)]:
                species[name].frame_scores += [f.pad_score for f in frames if f.pad_score is not None]
    clip = clip_pass(video_path, video, models=models)
    tallies = clip_tallies(clip, video, sessions, config)
    species["screen_replay_clip"] = tallies["screen_replay_clip"]
    return PadRun(species, tallies["real"], tallies["page"], clip.costs_ms, used, time.monotonic() - started)
