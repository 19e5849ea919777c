"""liveness_update: fold one frame into a session's state, as a sequence of named steps."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from biometrics.liveness.challenges import blink_evidence, challenge_met, mouth_evidence, turn_evidence
from biometrics.liveness.state import FINGERPRINT_CHARS, LivenessConfig, LivenessState
from biometrics.liveness.tracking import (
    MOUTH_POINTS,
    angle_difference,
    eye_ratios,
    flat,
    is_jump,
    mouth_ratio,
    parallax_fit,
    placement,
    rectified_eyes,
    rectified_points,
    unflat,
)
from biometrics.liveness.verdict import failure_reason, pad_aggregate
from biometrics.pose import EYE_POINTS, landmarks_array, yaw_pitch


def liveness_update(
    state: LivenessState,
    landmarks: np.ndarray | None,
    t: float,
    *,
    fingerprint: str | None = None,
    config: LivenessConfig | None = None,
    pad_score: float | None = None,
) -> LivenessState:
    """Fold one frame into the state and return the new state (the argument is not modified).

    ``landmarks``: the (68, 2) points of the frame's one face, or None when the frame had no usable face
    (it still counts towards the time limit). ``t``: the frame's capture time in seconds, strictly
    increasing. ``fingerprint``: :func:`frame_fingerprint` of the frame's bytes, so a frame sent twice is
    refused. ``pad_score``: the texture model's "live" probability for this frame's face crop (see
    ``engine.pad_score``). Once the verdict is passed or failed, later frames change nothing.

    With ``config.pad_enabled`` the session's PAD aggregate (:func:`pad_aggregate`) is checked at the moment
    the challenge would pass: below ``pad_threshold``, or with fewer than ``pad_min_frames`` scored frames,
    the session fails instead (PAD_SCORE_LOW). PAD never passes a session the challenge did not pass.
    """
    config = config or LivenessConfig()
    if state.passed_at is not None or failure_reason(state, config, now=None) is not None:
        return state
    updated = _frame_checked(state, landmarks, float(t), fingerprint=fingerprint, config=config)
    if landmarks is not None and pad_score is not None and not updated.replay:
        updated = _pad_score_recorded(updated, pad_score, config)
    if config.pad_enabled and updated.passed_at is not None:
        updated = _pad_gate(updated, config)
    return updated


def _frame_checked(
    state: LivenessState,
    landmarks: np.ndarray | None,
    t: float,
    *,
    fingerprint: str | None,
    config: LivenessConfig,
) -> LivenessState:
    """The clock and replay checks every frame goes through, then the face's evidence if it has one."""
    if state.last_t is not None and t <= state.last_t:
        return replace(state, replay=True)
    # The challenge's clock starts at the first face: an empty camera is the face check's timeout (the
    # kiosk's face deadline), not a failed challenge.
    started_at = t if state.started_at is None and landmarks is not None else state.started_at
    if started_at is not None and t - started_at > config.time_limit_seconds:
        # Too late: the frame only moves the clock, which makes the verdict "failed".
        return replace(state, last_t=t)
    changes: dict[str, Any] = {"last_t": t, "started_at": started_at}
    if fingerprint is not None:
        short = fingerprint[:FINGERPRINT_CHARS]
        if short in state.fingerprints:
            return replace(state, replay=True, last_t=t)
        changes["fingerprints"] = [*state.fingerprints, short][-config.fingerprint_memory :]
    if landmarks is None:
        return replace(state, frames_without_face=state.frames_without_face + 1, **changes)
    return _face_evidence(state, landmarks_array(landmarks), t, changes=changes, config=config)


def _face_evidence(
    state: LivenessState, points: np.ndarray, t: float, *, changes: dict[str, Any], config: LivenessConfig
) -> LivenessState:
    """Track the face, then compare it with the track's reference frame and count what it shows."""
    yaw = yaw_pitch(points)[0]
    face_placement = [*placement(points), yaw, t]
    if state.last_placement and is_jump(state.last_placement, face_placement, config):
        # Another face (or a false detection): start the evaluation again from this frame, so evidence
        # never mixes two faces.
        state = _restarted(state, changes["started_at"])
    changes["frames"] = state.frames + 1
    changes["last_placement"] = face_placement
    changes["window"] = [*state.window, flat(points)][-config.window_frames :]
    changes["window_t"] = [*state.window_t, t][-config.window_frames :]
    roll = face_placement[3]
    plain_ears = eye_ratios(points[EYE_POINTS])
    if state.reference is None:
        changes.update(reference=flat(points), reference_yaw=yaw, reference_roll=roll)
        changes.update(
            blink_evidence(state, ears=plain_ears, plain_ears=plain_ears, tilt=0.0, t=t, config=config)
        )
        mouth = mouth_ratio(points[MOUTH_POINTS])
        changes.update(mouth_evidence(state, rectified=mouth, plain=mouth, tilt=0.0, config=config))
        return replace(state, **changes)
    if abs(angle_difference(roll, state.reference_roll)) > config.max_roll_change_degrees:
        # Rotated too far in-plane to trust the landmarks, and what comes next cannot be trusted against
        # the old reference either: on a print rotated by ~30 degrees dlib redrew the face upright and
        # turned by 40. Start again, with the next frame as the reference.
        return replace(
            _restarted(state, changes["started_at"]),
            last_t=t,
            fingerprints=changes.get("fingerprints", state.fingerprints),
            last_placement=face_placement,
            rolled_frames=state.rolled_frames + 1,
        )
    try:
        parallax = parallax_fit(unflat(state.reference), points)
    except ValueError:
        # Degenerate points (all on a line): the frame counts, but measures nothing.
        return replace(state, **changes)
    rectified = eye_ratios(rectified_eyes(points, parallax.homography))
    changes.update(turn_evidence(state, yaw=yaw, parallax=parallax, config=config))
    changes.update(
        blink_evidence(
            state, ears=rectified, plain_ears=plain_ears, tilt=parallax.tilt_degrees, t=t, config=config
        )
    )
    # The mouth against the counters as they were before this frame: the frame that completes the turn
    # does not count as an opening too.
    rectified_mouth = mouth_ratio(rectified_points(points, parallax.homography, MOUTH_POINTS))
    changes.update(
        mouth_evidence(
            state,
            rectified=rectified_mouth,
            plain=mouth_ratio(points[MOUTH_POINTS]),
            tilt=parallax.tilt_degrees,
            config=config,
        )
    )
    updated = replace(state, **changes)
    if updated.frames >= config.min_frames and challenge_met(updated, config):
        updated = replace(updated, passed_at=t)
    return updated


def liveness_same_track(
    state: LivenessState, landmarks: np.ndarray, t: float, *, config: LivenessConfig | None = None
) -> bool:
    """Is this face the one the evaluation is following (no jump since its last face frame)? A frame of
    the same head that cannot count as evidence (it matched the owner less well while turned) then need
    not restart the challenge; another face must."""
    if not state.last_placement:
        return False
    points = landmarks_array(landmarks)
    face_placement = [*placement(points), yaw_pitch(points)[0], float(t)]
    return not is_jump(state.last_placement, face_placement, config or LivenessConfig())


def _restarted(state: LivenessState, started_at: float | None) -> LivenessState:
    """A fresh evaluation that keeps only the clock, the fingerprints and the counts of what went wrong."""
    return LivenessState(
        challenge=state.challenge,
        started_at=started_at,
        last_t=state.last_t,
        frames_without_face=state.frames_without_face,
        restarts=state.restarts + 1,
        rolled_frames=state.rolled_frames,
        fingerprints=state.fingerprints,
        last_placement=state.last_placement,
        pad_scores=state.pad_scores,
    )


def _pad_score_recorded(state: LivenessState, pad_score: float, config: LivenessConfig) -> LivenessState:
    # Scores of every owner-matching frame of the session, kept across track restarts so that an
    # attacker cannot wash out a bad texture by making the face jump.
    scores = [*state.pad_scores, round(float(pad_score), 4)][-config.fingerprint_memory :]
    return replace(state, pad_scores=scores)


def _pad_gate(state: LivenessState, config: LivenessConfig) -> LivenessState:
    """The challenge was met: the session fails instead unless its PAD aggregate clears the threshold."""
    aggregate = pad_aggregate(state.pad_scores, trim=config.pad_trim)
    if aggregate is None or len(state.pad_scores) < config.pad_min_frames or aggregate < config.pad_threshold:
        return replace(state, passed_at=None, pad_refused=True)
    return state
