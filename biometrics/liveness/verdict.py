"""The verdict: passed, pending or failed (with a reason code), and the session's PAD aggregate."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from biometrics.liveness.challenges import Challenge
from biometrics.liveness.state import LivenessConfig, LivenessState


class VerdictStatus(enum.StrEnum):
    PASSED = "passed"
    PENDING = "pending"
    FAILED = "failed"


class VerdictReason(enum.StrEnum):
    CHALLENGE_NOT_MET = "challenge_not_met"  # nothing like the asked action in time, or the opposite action
    PLANAR_MOTION = "planar_motion"  # the action was imitated by moving something flat
    REPLAY = "replay"  # the same frame bytes twice, or frames going back in time
    PAD_SCORE_LOW = "pad_score_low"  # the challenge was met; the face texture looks like a print or screen


@dataclass(frozen=True, slots=True)
class Verdict:
    status: VerdictStatus
    reason: VerdictReason | None = None
    details: dict[str, float] = field(default_factory=dict)  # figures for the audit row, no images

    @property
    def passed(self) -> bool:
        return self.status is VerdictStatus.PASSED


def pad_aggregate(scores: Sequence[float], *, trim: float) -> float | None:
    """The session's PAD score: the lowest ``trim`` of the per-frame scores is dropped (a frame caught
    mid-blur must not refuse a customer), then the mean of the lower half of the rest (None for no frame).

    The lower half rather than a plain trimmed mean: a recaptured face scores high on some frames and low
    on others (glare and moire move with the head), a live face scores high on nearly all, so a few
    lucky frames of an attack must not lift the session over the threshold. Measured with
    ``benchmark_liveness --pad`` on the synthetic screen replay of the real clip: at threshold 0.8 a
    20 % trimmed mean let 23 % of the replay sessions through, this aggregate 2.6 %, with no real session
    of the clip refused by either.
    """
    if not scores:
        return None
    ordered = sorted(scores)
    kept = ordered[int(len(ordered) * trim) :]
    lower = kept[: max(1, (len(kept) + 1) // 2)]
    return sum(lower) / len(lower)


def failure_reason(
    state: LivenessState, config: LivenessConfig, *, now: float | None
) -> VerdictReason | None:
    if state.replay:
        return VerdictReason.REPLAY
    if state.pad_refused:
        return VerdictReason.PAD_SCORE_LOW
    if state.challenge is not Challenge.BLINK and state.wrong_turn_frames >= config.parallax_min_frames:
        # A real turn the other way fails at once: a replayed video of assorted turns must not get the
        # whole time limit to come round to the asked one.
        return VerdictReason.CHALLENGE_NOT_MET
    clock = now if now is not None else state.last_t
    if state.started_at is None or clock is None or clock - state.started_at <= config.time_limit_seconds:
        return None
    if state.challenge is Challenge.BLINK:
        if state.blinks >= 1 or state.flat_blink_frames >= 1:
            return VerdictReason.PLANAR_MOTION
        return VerdictReason.CHALLENGE_NOT_MET
    if state.flat_turn_frames >= config.parallax_min_frames:
        return VerdictReason.PLANAR_MOTION
    return VerdictReason.CHALLENGE_NOT_MET


def liveness_verdict(
    state: LivenessState, *, config: LivenessConfig | None = None, now: float | None = None
) -> Verdict:
    """Passed, pending or failed (with a reason code). ``now`` lets the kiosk time out a session that
    stopped sending frames; by default the last frame's time is the clock."""
    config = config or LivenessConfig()
    details = {
        "frames": float(state.frames),
        "restarts": float(state.restarts),
        "max_yaw_change": round(state.max_yaw_change, 2),
        "max_parallax": round(state.max_parallax, 3),
        "turn_frames": float(state.turn_frames),
        "flat_turn_frames": float(state.flat_turn_frames),
        "blinks": float(state.blinks),
        "challenge_met": float(state.passed_at is not None or state.pad_refused),
        "pad_frames": float(len(state.pad_scores)),
        "mouth_open_frames": float(state.mouth_open_frames),
        "max_mouth_change": round(state.max_mouth_change, 3),
    }
    aggregate = pad_aggregate(state.pad_scores, trim=config.pad_trim)
    if aggregate is not None:
        details["pad_score"] = round(aggregate, 4)
    if state.passed_at is not None:
        return Verdict(VerdictStatus.PASSED, None, details)
    reason = failure_reason(state, config, now=now)
    if reason is not None:
        return Verdict(VerdictStatus.FAILED, reason, details)
    return Verdict(VerdictStatus.PENDING, None, details)
