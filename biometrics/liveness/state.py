"""The liveness check's thresholds (LivenessConfig) and what it remembers about a session (LivenessState)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from biometrics.liveness.challenges import Challenge

# Seconds a customer has to complete the challenge, from their first frame: time to read the prompt and
# act. The one default of the kiosk (settings.LIVENESS_TIME_LIMIT_S) and of the liveness benchmarks.
CHALLENGE_TIME_LIMIT_SECONDS = 15.0


@dataclass(frozen=True, slots=True)
class LivenessConfig:
    """Thresholds of the liveness check; the kiosk builds one from Django settings (LIVENESS_*, PAD_*).

    What each threshold means and how its default was chosen: docs/liveness.md, "Tuning notes".
    """

    yaw_turn_degrees: float = 20.0
    parallax_threshold: float = 0.2
    parallax_min_frames: int = 2
    ear_closed_ratio: float = 0.4
    ear_open_ratio: float = 0.8
    blink_max_seconds: float = 1.0
    blink_requires_parallax: bool = False
    min_frames: int = 5
    time_limit_seconds: float = CHALLENGE_TIME_LIMIT_SECONDS
    window_frames: int = 15
    fingerprint_memory: int = 256
    max_jump_face_sizes: float = 0.5
    max_scale_change: float = 1.5
    max_face_speed: float = 3.0
    max_roll_change_degrees: float = 25.0
    max_roll_step_degrees: float = 10.0
    # Extra roll step allowed per degree of yaw change in the same step (the tilt that comes with a turn).
    roll_step_per_yaw_degree: float = 0.75
    max_yaw_rate_degrees: float = 250.0
    min_yaw_step_limit_degrees: float = 15.0
    max_turn_foreshortening_excess_degrees: float = 10.0
    max_blink_foreshortening_degrees: float = 30.0
    frames_mirrored: bool = False
    pad_enabled: bool = False
    pad_threshold: float = 0.9
    pad_min_frames: int = 3
    pad_trim: float = 0.1
    # After the asked action, "open your mouth": something a printed or rigid mask cannot do. The mouth
    # ratio (tracking.mouth_ratio, rectified into the reference frame, or as seen on frames whose plane part
    # is tilted by at most max_mouth_foreshortening_degrees) must rise this far above the customer's own
    # closed-mouth value in the session, on this many frames after the action was met.
    mouth_required: bool = False
    mouth_open_change: float = 0.12
    mouth_open_frames: int = 2
    max_mouth_foreshortening_degrees: float = 20.0

    def __post_init__(self) -> None:
        if not 0.0 < self.ear_closed_ratio < self.ear_open_ratio <= 1.0:
            raise ValueError("need 0 < ear_closed_ratio < ear_open_ratio <= 1")
        positive = (
            self.yaw_turn_degrees,
            self.parallax_threshold,
            self.time_limit_seconds,
            self.blink_max_seconds,
            self.max_jump_face_sizes,
            self.max_face_speed,
            self.max_roll_change_degrees,
            self.max_roll_step_degrees,
            self.max_yaw_rate_degrees,
            self.min_yaw_step_limit_degrees,
            self.max_turn_foreshortening_excess_degrees,
            self.max_blink_foreshortening_degrees,
            self.max_mouth_foreshortening_degrees,
        )
        if min(positive) <= 0 or self.max_scale_change <= 1.0:
            raise ValueError("thresholds and the time limit must be positive (scale change above 1)")
        if self.mouth_open_change <= 0 or self.mouth_open_frames < 1 or self.roll_step_per_yaw_degree < 0:
            raise ValueError("need mouth_open_change > 0, mouth_open_frames >= 1, roll_step_per_yaw >= 0")
        if self.parallax_min_frames < 1 or self.min_frames < 1 or self.window_frames < 2:
            raise ValueError("frame counts must be positive (window at least 2)")
        if self.fingerprint_memory < 1:
            raise ValueError("fingerprint_memory must be positive")
        if not 0.0 < self.pad_threshold < 1.0 or not 0.0 <= self.pad_trim < 0.5 or self.pad_min_frames < 1:
            raise ValueError("need 0 < pad_threshold < 1, 0 <= pad_trim < 0.5 and pad_min_frames >= 1")


FINGERPRINT_CHARS = 12  # 48 bits: a chance collision among a session's few hundred frames is ~1e-10


@dataclass(frozen=True, slots=True)
class LivenessState:
    """Everything the evaluator remembers about one session, as plain JSON-friendly values.

    Landmarks are kept for the reference frame (the one every later frame is compared with) and for the
    last ``window_frames`` frames, in 0.1 px, plus a short prefix of each frame's fingerprint; with the
    defaults and dlib's whole-pixel landmarks the JSON stays around 13 KB, so the kiosk can keep the state
    in its session row. ``to_dict()`` / ``from_dict()`` round-trip exactly.
    """

    challenge: Challenge
    started_at: float | None = None
    last_t: float | None = None
    frames: int = 0  # frames with a face in the current track
    frames_without_face: int = 0
    restarts: int = 0  # the face jumped (another face) or rotated in-plane too far: evaluation restarted
    reference: list[float] | None = None  # the track's first frame, flattened x0, y0, x1, ...
    reference_yaw: float = 0.0
    reference_roll: float = 0.0
    window: list[list[float]] = field(default_factory=list)  # last frames' landmarks, flattened
    window_t: list[float] = field(default_factory=list)
    window_ear: list[list[float]] = field(default_factory=list)  # rectified EAR [left, right] per frame
    last_placement: list[float] = field(default_factory=list)  # last face: centre x, y, size, roll, yaw, t
    fingerprints: list[str] = field(default_factory=list)
    turn_frames: int = 0  # asked direction: yaw AND parallax
    wrong_turn_frames: int = 0  # the opposite direction: yaw AND parallax
    flat_turn_frames: int = 0  # asked direction by yaw, but no parallax: a photo being turned
    parallax_frames: int = 0  # any direction, parallax >= threshold
    rolled_frames: int = 0  # too much in-plane rotation to trust the landmarks
    eyes_open_seen: bool = False
    eyes_closed_since: float | None = None
    blinks: int = 0
    flat_blink_frames: int = 0  # eyes "closed" on the plain EAR but open once rectified: a tilted photo
    max_yaw_change: float = 0.0  # towards the asked direction (for a blink: the customer's left)
    max_parallax: float = 0.0
    replay: bool = False
    passed_at: float | None = None
    pad_scores: list[float] = field(default_factory=list)  # PAD "live" probability of each scored frame
    pad_refused: bool = False  # the challenge was met but the PAD aggregate was below the threshold
    mouth_closed: list[float] = field(default_factory=list)  # the track's two lowest mouth ratios
    mouth_closed_plain: list[float] = field(default_factory=list)  # the same, as seen (not rectified)
    mouth_open_frames: int = 0  # after the action: frames with the mouth open above the closed value
    max_mouth_change: float = 0.0  # after the action: the largest rise above the closed value

    def to_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: its deep copy costs ~1 ms here; every value is a number, a string, None
        # or a list of those (or of such lists), copied one level down so the caller cannot alter the state.
        data: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, list):
                value = [list(entry) if isinstance(entry, list) else entry for entry in value]
            data[item.name] = value
        data["challenge"] = self.challenge.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LivenessState:
        known = {item.name for item in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown liveness state keys: {sorted(unknown)}")
        if "challenge" not in data:
            raise ValueError("liveness state without a challenge")
        # One level of copying, like to_dict: the stored dict's lists must not alias the state's.
        values: dict[str, Any] = {
            key: list(value) if isinstance(value, list) else value for key, value in data.items()
        }
        values["challenge"] = Challenge(values["challenge"])
        return cls(**values)


def liveness_start(*, challenge: Challenge) -> LivenessState:
    return LivenessState(challenge=challenge)
