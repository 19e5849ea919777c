"""The challenges the kiosk asks for, and the evidence one frame adds towards them.

A turn counts frames that show the yaw change AND the parallax in the asked direction, with a plane part
no more foreshortened than the turn explains; a blink is open -> both eyes closed -> open, read on eyes
mapped back into the reference frame. Why these rules: docs/liveness.md.
"""

from __future__ import annotations

import enum
import statistics
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from biometrics.liveness.state import LivenessConfig, LivenessState
    from biometrics.liveness.tracking import Parallax


class Challenge(enum.StrEnum):
    BLINK = "blink"
    TURN_LEFT = "turn_left"  # the customer's OWN left (the kiosk preview is mirrored: on screen, their left)
    TURN_RIGHT = "turn_right"


def turn_evidence(
    state: LivenessState, *, yaw: float, parallax: Parallax, config: LivenessConfig
) -> dict[str, Any]:
    """The turn counters after one frame compared with the track's reference frame."""
    # A real head turns into parallax, its plane part hardly squashes; a print turned in front of the
    # camera squashes, and whatever parallax the landmark model invents for it is smaller.
    tilt, turn = parallax.tilt_degrees, parallax.turn_degrees
    # Towards the customer's own left is positive in camera frames; flip for mirrored frames and for a
    # right turn, so "towards the asked direction" is always positive below.
    direction = -1.0 if config.frames_mirrored else 1.0
    if state.challenge is Challenge.TURN_RIGHT:
        direction = -direction
    yaw_change = direction * (yaw - state.reference_yaw)
    horizontal = direction * parallax.horizontal
    yaw_met = yaw_change >= config.yaw_turn_degrees
    consistent = tilt - turn <= config.max_turn_foreshortening_excess_degrees
    parallax_met = horizontal >= config.parallax_threshold and consistent
    wrong_way = (
        -yaw_change >= config.yaw_turn_degrees and -horizontal >= config.parallax_threshold and consistent
    )
    return {
        "turn_frames": state.turn_frames + (yaw_met and parallax_met),
        "flat_turn_frames": state.flat_turn_frames + (yaw_met and not parallax_met),
        "wrong_turn_frames": state.wrong_turn_frames + wrong_way,
        "parallax_frames": state.parallax_frames + (parallax.magnitude >= config.parallax_threshold),
        "max_yaw_change": max(state.max_yaw_change, yaw_change),
        "max_parallax": max(state.max_parallax, parallax.magnitude),
    }


def eyes_closed(
    ears: tuple[float, float] | list[float], window: list[list[float]], config: LivenessConfig
) -> bool:
    # Each eye against its own open value, the median of the window: blinks are short, so the median stays
    # an open-eye value whatever the customer's eye shape. Both eyes must close: landmark noise on one
    # eye does not make a blink.
    return all(
        ear <= config.ear_closed_ratio * statistics.median(pair[eye] for pair in window)
        for eye, ear in enumerate(ears)
    )


def eyes_open(ears: tuple[float, float], window: list[list[float]], config: LivenessConfig) -> bool:
    return all(
        ear >= config.ear_open_ratio * statistics.median(pair[eye] for pair in window)
        for eye, ear in enumerate(ears)
    )


def blink_evidence(
    state: LivenessState,
    *,
    ears: tuple[float, float],
    plain_ears: tuple[float, float],
    tilt: float,
    t: float,
    config: LivenessConfig,
) -> dict[str, Any]:
    """The eye window and blink progress after one frame. ``ears``: the (rectified) eye aspect ratios the
    blink is read on; ``plain_ears``: the same eyes as seen; ``tilt``: the plane part's tilt in degrees."""
    window_ear = [*state.window_ear, [round(ears[0], 4), round(ears[1], 4)]][-config.window_frames :]
    changes: dict[str, Any] = {"window_ear": window_ear}
    if tilt <= config.max_blink_foreshortening_degrees:
        with_ear = replace(state, window_ear=window_ear)
        changes.update(_blink_step(with_ear, ears=ears, plain_ears=plain_ears, t=t, config=config))
    elif eyes_closed(plain_ears, state.window_ear, config):
        # Eye landmarks on a strongly tilted face are unreliable (both eyes "closed" on a tilted tuning
        # print); a customer asked to blink faces the camera anyway. Such a "blink" is a flat one.
        changes["flat_blink_frames"] = state.flat_blink_frames + 1
    return changes


def _blink_step(
    state: LivenessState,
    *,
    ears: tuple[float, float],
    plain_ears: tuple[float, float],
    t: float,
    config: LivenessConfig,
) -> dict[str, Any]:
    closed = eyes_closed(ears, state.window_ear, config)
    opened = eyes_open(ears, state.window_ear, config)
    changes: dict[str, Any] = {}
    if not closed and eyes_closed(plain_ears, state.window_ear, config):
        changes["flat_blink_frames"] = state.flat_blink_frames + 1
    if state.eyes_closed_since is None:
        if closed and state.eyes_open_seen:
            changes["eyes_closed_since"] = t
        elif opened:
            changes["eyes_open_seen"] = True
    elif opened:
        if t - state.eyes_closed_since <= config.blink_max_seconds:
            changes["blinks"] = state.blinks + 1
        changes["eyes_closed_since"] = None
        changes["eyes_open_seen"] = True
    elif t - state.eyes_closed_since > config.blink_max_seconds:
        # Closed for too long: not a blink (eyes shut, or a face that never opens them); start again.
        changes["eyes_closed_since"] = None
        changes["eyes_open_seen"] = False
    return changes


def mouth_evidence(
    state: LivenessState, *, rectified: float, plain: float, tilt: float, config: LivenessConfig
) -> dict[str, Any]:
    """The mouth counters after one frame: ``rectified``, the frame's mouth ratio mapped into the track's
    reference frame by the plane part of the fit (a flat picture, however tilted or turned, keeps its
    printed ratio there); ``plain``, the ratio as seen; ``tilt``, the plane part's tilt in degrees.

    The closed value is the customer's own: the second lowest ratio of the track so far (one landmark
    glitch cannot lower it). Only frames after the asked action count as openings, each measured against
    the closed value of the frames before it: a mouth printed open never rises above itself, a closed
    one -> open one does. The rectified ratio is exact for a sheet but shrinks a real opening seen far
    from the reference pose (a 0.29 rise read as 0.12 with the head turned by 47 degrees, on the clip);
    the plain ratio keeps it, and a sheet changes its plain ratio only by tilting (1/cos sideways, cos
    backwards), so plain ratios count only on frames tilted by at most max_mouth_foreshortening_degrees.
    """
    changes: dict[str, Any] = {"mouth_closed": _two_lowest(state.mouth_closed, rectified)}
    flat_enough = tilt <= config.max_mouth_foreshortening_degrees
    if flat_enough:
        changes["mouth_closed_plain"] = _two_lowest(state.mouth_closed_plain, plain)
    if not primary_met(state, config):
        return changes
    rises = []
    if len(state.mouth_closed) >= 2:
        rises.append(rectified - max(state.mouth_closed))
    if flat_enough and len(state.mouth_closed_plain) >= 2:
        rises.append(plain - max(state.mouth_closed_plain))
    if not rises:
        return changes
    rise = max(rises)
    changes["max_mouth_change"] = max(state.max_mouth_change, round(rise, 4))
    if rise >= config.mouth_open_change:
        changes["mouth_open_frames"] = state.mouth_open_frames + 1
    return changes


def _two_lowest(values: list[float], value: float) -> list[float]:
    return sorted([*values, round(value, 4)])[:2]


def primary_met(state: LivenessState, config: LivenessConfig) -> bool:
    """The asked action (the turn, or the blink) is done; the mouth may still be pending."""
    if state.challenge is Challenge.BLINK:
        if state.blinks < 1:
            return False
        return not config.blink_requires_parallax or state.parallax_frames >= config.parallax_min_frames
    return state.turn_frames >= config.parallax_min_frames


def challenge_met(state: LivenessState, config: LivenessConfig) -> bool:
    if not primary_met(state, config):
        return False
    return not config.mouth_required or state.mouth_open_frames >= config.mouth_open_frames
