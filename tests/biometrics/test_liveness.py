"""Liveness (presentation-attack detection) from landmarks: synthetic heads and photos, plus the real clip."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from biometrics.liveness import (
    FACE_MODEL_3D,
    Challenge,
    LivenessConfig,
    LivenessState,
    VerdictReason,
    VerdictStatus,
    eye_aspect_ratio,
    frame_fingerprint,
    head_yaw,
    liveness_start,
    liveness_update,
    liveness_verdict,
    parallax_between,
    planar_motion_score,
)

FPS = 10.0
CONFIG = LivenessConfig()


def _rotation(yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0) -> np.ndarray:
    a, b, c = (math.radians(angle) for angle in (yaw, pitch, roll))
    about_y = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    about_x = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    about_z = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
    return about_z @ about_x @ about_y


def head(
    yaw: float = 0.0,
    pitch: float = 0.0,
    roll: float = 0.0,
    *,
    eyes_closed: float = 0.0,
    shift: float = 0.0,
    mouth_open: float = 0.0,
) -> np.ndarray:
    """The generic 3D face turned and projected by a 600 px pinhole camera at 50 cm (a kiosk webcam).

    Positive yaw turns the face to its own left: its nose moves to the image's right. ``eyes_closed``
    (0..1) lowers the upper eyelids onto the lower ones. ``mouth_open`` (mm) drops the lower lip and the
    jaw below it (the model's mouth is 62.6 mm wide: 15 mm raises the mouth ratio by 0.24).
    """
    model = FACE_MODEL_3D.copy()
    for upper, lower in ((37, 41), (38, 40), (43, 47), (44, 46)):
        model[upper, :2] += eyes_closed * (model[lower, :2] - model[upper, :2])
    model[LOWER_MOUTH, 1] += mouth_open
    moved = model @ _rotation(yaw, pitch, roll).T
    depth = 500.0 - moved[:, 2]
    return np.column_stack([600.0 * (moved[:, 0] + shift) / depth + 320, 600.0 * moved[:, 1] / depth + 240])


# Lower outer lip 55-59, lower inner lip 65-67 and the chin 6-10: what drops when the mouth opens.
LOWER_MOUTH = [6, 7, 8, 9, 10, 55, 56, 57, 58, 59, 65, 66, 67]


def warp(points: np.ndarray, homography: np.ndarray) -> np.ndarray:
    mapped = np.column_stack([points, np.ones(len(points))]) @ homography.T
    return mapped[:, :2] / mapped[:, 2:3]


def photo_motion(step: float) -> np.ndarray:
    """What holding a printed photo does to it (0 <= step <= 1): rotate, move, tilt away in perspective."""
    angle = math.radians(25 * step)
    centre = np.array([[1, 0, -320], [0, 1, -240], [0, 0, 1]], float)
    spin = np.array(
        [[math.cos(angle), -math.sin(angle), 0], [math.sin(angle), math.cos(angle), 0], [0, 0, 1]]
    )
    tilt = np.array([[1, 0, 0], [0, 1, 0], [0.0012 * step, 0.0006 * step, 1]])
    back = np.array([[1, 0, 320 + 40 * step], [0, 1, 240 - 20 * step], [0, 0, 1]], float)
    return back @ tilt @ spin @ centre


def run(challenge: Challenge, frames: list[np.ndarray], config: LivenessConfig = CONFIG) -> LivenessState:
    state = liveness_start(challenge=challenge)
    for index, landmarks in enumerate(frames):
        state = liveness_update(
            state,
            landmarks,
            index / FPS,
            fingerprint=frame_fingerprint(bytes([index % 256, index // 256])),
            config=config,
        )
    return state


def turning(to_yaw: float, frames: int = 12) -> list[np.ndarray]:
    return [head(yaw=to_yaw * min(index / (frames - 4), 1.0)) for index in range(frames)]


def blinking() -> list[np.ndarray]:
    closure = [0, 0, 0, 0, 0, 0.6, 1.0, 1.0, 0.5, 0, 0, 0]
    return [head(yaw=2.0 * math.sin(index), eyes_closed=amount) for index, amount in enumerate(closure)]


# --------------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------------


def test_a_flat_photo_moved_rotated_and_tilted_scores_planar() -> None:
    photo = head(yaw=10.0)  # whatever pose the printed face has
    sequence = [warp(photo, photo_motion(step)) for step in np.linspace(0, 1, 10)]

    assert planar_motion_score(sequence) < 0.01


def test_a_real_head_turning_is_not_planar() -> None:
    sequence = [head(yaw=yaw) for yaw in np.linspace(0, 30, 10)]

    score = planar_motion_score(sequence)

    assert score > 0.3  # ~ sin(turn): the 3rd largest turn here is ~23 degrees
    assert score == pytest.approx(math.sin(math.radians(23.3)), abs=0.05)


def test_parallax_direction_follows_the_customer_s_own_left() -> None:
    to_own_left = parallax_between(head(), head(yaw=20))
    to_own_right = parallax_between(head(), head(yaw=-20))

    assert to_own_left.horizontal > 0.25 > abs(to_own_left.vertical)
    assert to_own_right.horizontal < -0.25


def test_head_yaw_is_signed_and_ignores_in_plane_rotation() -> None:
    assert head_yaw(head(yaw=20)) > 15
    assert head_yaw(head(yaw=-20)) < -15
    assert abs(head_yaw(head(roll=30))) < 1
    assert head_yaw(head(yaw=20, roll=30)) == pytest.approx(head_yaw(head(yaw=20)), abs=1)


def test_eye_aspect_ratio_drops_when_the_eyes_close() -> None:
    assert eye_aspect_ratio(head()) > 0.25
    assert eye_aspect_ratio(head(eyes_closed=1.0)) < 0.02


@pytest.mark.parametrize("bad", [np.zeros((5, 2)), np.full((68, 2), np.nan)])
def test_malformed_landmarks_are_refused(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="landmarks"):
        head_yaw(bad)


# --------------------------------------------------------------------------------------------------
# Challenge evaluation
# --------------------------------------------------------------------------------------------------


def test_a_blink_passes_the_blink_challenge() -> None:
    verdict = liveness_verdict(run(Challenge.BLINK, blinking()))

    assert verdict.status is VerdictStatus.PASSED


def test_open_eyes_fail_the_blink_challenge_at_the_time_limit() -> None:
    frames = [head(yaw=2.0 * math.sin(index)) for index in range(int(CONFIG.time_limit_seconds * FPS) + 3)]

    verdict = liveness_verdict(run(Challenge.BLINK, frames))

    assert verdict.status is VerdictStatus.FAILED
    assert verdict.reason is VerdictReason.CHALLENGE_NOT_MET


def test_a_photo_tilted_backwards_is_not_a_blink() -> None:
    # Tilting a print about its horizontal axis squashes the eyes: half the plain EAR, no blink at all.
    photo = head()
    squash = [0, 0, 0, 0, 0, 0.55, 0.65, 0.65, 0.3, 0, 0, 0] + [0] * int(CONFIG.time_limit_seconds * FPS)
    frames = []
    for amount in squash:
        matrix = np.array([[1, 0, 0], [0, 1 - amount, 240 * amount], [0, 0, 1]], float)
        frames.append(warp(photo, matrix))
    assert eye_aspect_ratio(frames[6]) < 0.4 * eye_aspect_ratio(frames[0])

    verdict = liveness_verdict(run(Challenge.BLINK, frames))

    assert verdict.status is VerdictStatus.FAILED
    assert verdict.reason is VerdictReason.PLANAR_MOTION


@pytest.mark.parametrize(("challenge", "yaw"), [(Challenge.TURN_LEFT, 35), (Challenge.TURN_RIGHT, -35)])
def test_a_turn_in_the_asked_direction_passes(challenge: Challenge, yaw: float) -> None:
    verdict = liveness_verdict(run(challenge, turning(yaw)))

    assert verdict.passed


@pytest.mark.parametrize(("challenge", "yaw"), [(Challenge.TURN_LEFT, -35), (Challenge.TURN_RIGHT, 35)])
def test_turning_the_wrong_way_fails_at_once(challenge: Challenge, yaw: float) -> None:
    state = run(challenge, turning(yaw))

    verdict = liveness_verdict(state)

    assert verdict.status is VerdictStatus.FAILED
    assert verdict.reason is VerdictReason.CHALLENGE_NOT_MET
    assert state.last_t is not None and state.last_t < CONFIG.time_limit_seconds


def test_mirrored_frames_swap_left_and_right() -> None:
    mirrored = LivenessConfig(frames_mirrored=True)

    assert liveness_verdict(run(Challenge.TURN_RIGHT, turning(35), mirrored), config=mirrored).passed
    assert not liveness_verdict(run(Challenge.TURN_LEFT, turning(35), mirrored), config=mirrored).passed


def test_a_turn_that_is_too_small_stays_pending_then_fails() -> None:
    frames = turning(12) + [head(yaw=12)] * int(CONFIG.time_limit_seconds * FPS)

    verdict = liveness_verdict(run(Challenge.TURN_LEFT, frames))

    assert verdict.status is VerdictStatus.FAILED
    assert verdict.reason is VerdictReason.CHALLENGE_NOT_MET


def test_a_flat_photo_waved_about_fails_every_challenge() -> None:
    photo = head(yaw=5.0)
    steps = [0.5 - 0.5 * math.cos(index / 3) for index in range(int(CONFIG.time_limit_seconds * FPS) + 3)]
    frames = [warp(photo, photo_motion(step)) for step in steps]

    for challenge in Challenge:
        verdict = liveness_verdict(run(challenge, frames))
        assert verdict.status is VerdictStatus.FAILED, challenge


def test_a_turned_print_whose_landmarks_invent_depth_is_still_refused() -> None:
    # The landmark model may draw a turned face, nose parallax and all, on a print that is being turned:
    # modelled here as a real turn seen squashed sideways the way a print at 60 degrees is. The plane part
    # is then far more foreshortened than the turn explains.
    squash = np.array([[0.5, 0, 160], [0, 1, 0], [0, 0, 1]], float)
    frames = [head()] + [warp(head(yaw=30.0 * min(i / 5, 1)), squash) for i in range(1, 12)]
    frames += [frames[-1] + 0.01 * i for i in range(int(CONFIG.time_limit_seconds * FPS))]
    assert parallax_between(frames[0], frames[8]).foreshortening > 1.8

    verdict = liveness_verdict(run(Challenge.TURN_LEFT, frames))

    assert verdict.status is VerdictStatus.FAILED
    assert verdict.reason is VerdictReason.PLANAR_MOTION


def test_landmarks_that_collapse_under_in_plane_rotation_start_the_evaluation_again() -> None:
    # A print rotated by ~30 degrees: dlib redrew the face upright (its roll jumped back) and turned by
    # 40. Nothing after that jump may count against the reference from before it.
    frames = [head(roll=float(roll)) for roll in range(0, 25, 4)] + [head(yaw=40.0, roll=10.0)] * 8

    state = run(Challenge.TURN_LEFT, frames)

    assert state.restarts == 1
    assert state.turn_frames == 0
    assert liveness_verdict(state).status is VerdictStatus.PENDING


def test_a_face_rotated_far_in_plane_gives_no_evidence_against_the_old_reference() -> None:
    frames = [head(roll=float(roll)) for roll in range(0, 36, 6)] + [head(yaw=35.0, roll=30.0)] * 6

    state = run(Challenge.TURN_LEFT, frames)

    assert state.rolled_frames == 1
    assert state.turn_frames == 0


@pytest.mark.parametrize("challenge", [Challenge.TURN_LEFT, Challenge.TURN_RIGHT])
def test_landmarks_that_flip_to_a_turned_face_and_back_are_not_a_turn(challenge: Challenge) -> None:
    # A print tilted backwards: the landmarks flipped to a face turned by 38 degrees within 0.1 s and
    # back again. No head turns that fast; each flip restarts the evaluation instead of counting.
    frames = [head()] * 5 + [head(yaw=38.0)] * 4 + [head()] * 6

    state = run(challenge, frames)

    assert state.restarts == 2
    assert liveness_verdict(state).status is VerdictStatus.PENDING


def test_nothing_passes_before_min_frames() -> None:
    config = LivenessConfig(min_frames=50)

    verdict = liveness_verdict(run(Challenge.TURN_LEFT, turning(35), config), config=config)

    assert verdict.status is VerdictStatus.PENDING


def test_a_face_that_jumps_restarts_the_evaluation() -> None:
    # Half a turn on one face, the other half on a face elsewhere in the frame: not one continuous turn.
    frames = [head(yaw=yaw) for yaw in (0, 5, 10, 15)] + [
        head(yaw=yaw, shift=200) for yaw in (20, 25, 30, 30)
    ]

    state = run(Challenge.TURN_LEFT, frames)

    assert state.restarts == 1
    assert liveness_verdict(state).status is VerdictStatus.PENDING


def test_a_repeated_frame_is_a_replay() -> None:
    state = liveness_start(challenge=Challenge.TURN_LEFT)
    state = liveness_update(state, head(), 0.0, fingerprint=frame_fingerprint(b"frame-1"))
    state = liveness_update(state, head(), 0.1, fingerprint=frame_fingerprint(b"frame-1"))

    verdict = liveness_verdict(state)

    assert verdict.status is VerdictStatus.FAILED
    assert verdict.reason is VerdictReason.REPLAY


def test_frames_going_back_in_time_are_a_replay() -> None:
    state = liveness_update(liveness_start(challenge=Challenge.BLINK), head(), 1.0)
    state = liveness_update(state, head(), 0.5)

    assert liveness_verdict(state).reason is VerdictReason.REPLAY


def test_a_session_that_stops_sending_frames_times_out() -> None:
    state = run(Challenge.TURN_LEFT, [head()] * 3)

    assert liveness_verdict(state).status is VerdictStatus.PENDING
    late = liveness_verdict(state, now=CONFIG.time_limit_seconds + 1)
    assert late.status is VerdictStatus.FAILED
    assert late.reason is VerdictReason.CHALLENGE_NOT_MET


def test_frames_without_a_face_only_move_the_clock() -> None:
    state = liveness_start(challenge=Challenge.BLINK)
    state = liveness_update(state, None, 0.0)
    state = liveness_update(state, None, 0.1)

    assert state.frames == 0
    assert state.frames_without_face == 2


def test_update_does_not_modify_its_argument() -> None:
    before = liveness_start(challenge=Challenge.TURN_LEFT)
    snapshot = before.to_dict()

    liveness_update(before, head(), 0.0)

    assert before.to_dict() == snapshot


# --------------------------------------------------------------------------------------------------
# State storage, challenge choice, fingerprints
# --------------------------------------------------------------------------------------------------


def test_state_round_trips_through_json() -> None:
    state = run(Challenge.BLINK, blinking()[:8])

    stored = json.dumps(state.to_dict())
    restored = LivenessState.from_dict(json.loads(stored))

    assert restored == state
    # ... and evaluation carries on from the restored state exactly as from the original.
    following = blinking()[8:]
    for index, landmarks in enumerate(following, start=8):
        state = liveness_update(state, landmarks, index / FPS)
        restored = liveness_update(restored, landmarks, index / FPS)
    assert restored == state
    assert liveness_verdict(restored).passed


def test_from_dict_refuses_unknown_keys() -> None:
    data = liveness_start(challenge=Challenge.BLINK).to_dict() | {"passed": True}

    with pytest.raises(ValueError, match="unknown"):
        LivenessState.from_dict(data)


def test_the_stored_window_stays_bounded() -> None:
    config = LivenessConfig(time_limit_seconds=1000)
    # Whole pixels, as dlib gives them.
    frames = [np.round(head(yaw=3.0 * math.sin(index / 4))) for index in range(200)]

    state = run(Challenge.BLINK, frames, config)

    assert state.frames == 200
    assert len(state.window) == len(state.window_t) == len(state.window_ear) == config.window_frames
    assert len(json.dumps(state.to_dict())) < 16_000


def test_frame_fingerprint_is_the_sha256_of_the_bytes() -> None:
    assert frame_fingerprint(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_config_refuses_inconsistent_thresholds() -> None:
    with pytest.raises(ValueError, match="ear"):
        LivenessConfig(ear_closed_ratio=0.9, ear_open_ratio=0.8)


# --------------------------------------------------------------------------------------------------
# Real images: the shared clip and a portrait (ATM_FACES_DIR)
# --------------------------------------------------------------------------------------------------


@pytest.mark.faces
def test_real_head_movement_is_not_planar_but_a_waved_portrait_is(faces_dir) -> None:
    from bench import geometry
    from biometrics import engine

    # Frames 82-112 of the clip: the performer turns his head to his own right (annotated by eye).
    turn = []
    for index, _, rgb in geometry.video_frames(faces_dir / "video" / "short_hamilton_clip.mp4"):
        if index > 112:
            break
        if index >= 82 and index % 3 == 1:
            faces = engine.detect_faces(rgb, purpose="live")
            assert len(faces) == 1, index
            turn.append(faces[0].landmarks)
    portrait = engine.decode_image((faces_dir / "people" / "barack_obama" / "obama_1.jpg").read_bytes())
    small = portrait[::4, ::4].copy()  # the print's face ~100 px in a 640x480 frame
    canvas = np.full((480, 640, 3), 128, np.uint8)
    waved = []
    for step in np.linspace(0, 1, 8):
        matrix = photo_motion(step) @ np.array(
            [[1, 0, 320 - small.shape[1] / 2], [0, 1, 60], [0, 0, 1]], float
        )
        frame = geometry.warp_onto(canvas, small, matrix)
        faces = engine.detect_faces(engine.decode_image(engine.jpeg_encode(frame)), purpose="live")
        assert faces, step
        waved.append(faces[0].landmarks)

    real_score = planar_motion_score(turn)
    photo_score = planar_motion_score(waved)

    assert real_score > CONFIG.parallax_threshold > photo_score
    state = run(Challenge.TURN_RIGHT, turn)
    assert liveness_verdict(state).passed
