"""PAD fused with the head-turn challenge (pure liveness level, synthetic landmarks and given PAD scores)."""

from __future__ import annotations

import json

import pytest

from biometrics.liveness import (
    Challenge,
    LivenessConfig,
    LivenessState,
    VerdictReason,
    VerdictStatus,
    frame_fingerprint,
    liveness_start,
    liveness_update,
    liveness_verdict,
    pad_aggregate,
)
from tests.biometrics.test_liveness import FPS, photo_motion, turning, warp

PAD_ON = LivenessConfig(pad_enabled=True, pad_threshold=0.6)  # the fusion rule, not the shipped threshold


def run_scored(challenge: Challenge, frames, scores, config: LivenessConfig = PAD_ON) -> LivenessState:
    state = liveness_start(challenge=challenge)
    for index, (landmarks, score) in enumerate(zip(frames, scores, strict=True)):
        state = liveness_update(
            state,
            landmarks,
            index / FPS,
            fingerprint=frame_fingerprint(bytes([index])),
            config=config,
            pad_score=score,
        )
    return state


def test_a_real_turn_with_live_texture_passes() -> None:
    frames = turning(35)
    state = run_scored(Challenge.TURN_LEFT, frames, [0.97] * len(frames))
    verdict = liveness_verdict(state, config=PAD_ON)
    assert verdict.passed
    assert verdict.details["pad_frames"] == state.frames
    assert verdict.details["pad_score"] == pytest.approx(0.97)
    assert verdict.details["challenge_met"] == 1.0


def test_a_real_turn_with_spoof_texture_is_refused_when_the_challenge_would_pass() -> None:
    frames = turning(35)
    state = run_scored(Challenge.TURN_LEFT, frames, [0.3] * len(frames))
    verdict = liveness_verdict(state, config=PAD_ON)
    assert verdict.status is VerdictStatus.FAILED
    assert verdict.reason is VerdictReason.PAD_SCORE_LOW
    assert verdict.details["challenge_met"] == 1.0
    assert verdict.details["pad_score"] == pytest.approx(0.3)
    # Refused at once, not at the time limit, and later frames change nothing.
    assert state.last_t is not None and state.last_t < PAD_ON.time_limit_seconds
    later = liveness_update(state, frames[-1], 5.0, fingerprint="f" * 64, config=PAD_ON, pad_score=1.0)
    assert liveness_verdict(later, config=PAD_ON).reason is VerdictReason.PAD_SCORE_LOW


def test_with_pad_off_the_same_spoof_texture_passes() -> None:
    frames = turning(35)
    state = run_scored(Challenge.TURN_LEFT, frames, [0.3] * len(frames), config=LivenessConfig())
    assert liveness_verdict(state).passed


def test_with_pad_on_a_turn_without_any_score_is_refused_not_passed() -> None:
    frames = turning(35)
    state = run_scored(Challenge.TURN_LEFT, frames, [None] * len(frames))
    verdict = liveness_verdict(state, config=PAD_ON)
    assert verdict.status is VerdictStatus.FAILED
    assert verdict.reason is VerdictReason.PAD_SCORE_LOW
    assert verdict.details["pad_frames"] == 0


def test_one_odd_frame_does_not_decide_the_session() -> None:
    frames = turning(35)
    low_one = [0.95] * len(frames)
    low_one[3] = 0.0
    assert liveness_verdict(run_scored(Challenge.TURN_LEFT, frames, low_one), config=PAD_ON).passed
    high_one = [0.2] * len(frames)
    high_one[3] = 1.0
    verdict = liveness_verdict(run_scored(Challenge.TURN_LEFT, frames, high_one), config=PAD_ON)
    assert verdict.reason is VerdictReason.PAD_SCORE_LOW


def test_pad_does_not_rescue_a_failed_challenge() -> None:
    """Fusion, not a gate on its own: a flat photo waved about with a live-looking texture still fails."""
    frames = [warp(turning(0, 20)[0], photo_motion(index / 19)) for index in range(20)]
    state = run_scored(Challenge.TURN_LEFT, frames, [0.99] * 20)
    verdict = liveness_verdict(state, config=PAD_ON, now=PAD_ON.time_limit_seconds + 1)
    assert verdict.status is VerdictStatus.FAILED
    assert verdict.reason is not VerdictReason.PAD_SCORE_LOW
    assert verdict.details["challenge_met"] == 0.0
    assert verdict.details["pad_score"] == pytest.approx(0.99)


def test_pad_scores_survive_the_json_round_trip() -> None:
    frames = turning(35)[:4]
    state = run_scored(Challenge.TURN_LEFT, frames, [0.9, 0.8, 0.7, 0.6])
    again = LivenessState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert again == state and again.pad_scores == [0.9, 0.8, 0.7, 0.6]
    assert LivenessState.from_dict({"challenge": "turn_left"}).pad_scores == []  # rows stored before PAD


def test_pad_aggregate_drops_the_lowest_frames_then_averages_the_lower_half() -> None:
    # Ten frames, trim 0.1: the one 0.0 is dropped; the lower half of the other nine is five frames.
    live = [0.0, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.0, 1.0, 1.0]
    assert pad_aggregate(live, trim=0.1) == pytest.approx(0.9)
    # A replay with a few lucky frames: a 20 % trimmed mean would read 0.58, the lower half reads 0.5.
    replay = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1.0, 1.0, 1.0]
    assert pad_aggregate(replay, trim=0.1) == pytest.approx(0.5)
    assert pad_aggregate([0.7], trim=0.1) == pytest.approx(0.7)
    assert pad_aggregate([], trim=0.1) is None
