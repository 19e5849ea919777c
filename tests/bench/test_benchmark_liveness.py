"""``benchmark_liveness`` on a tiny input (two photos of two people, the clip's first turn) with the real
engine and models: the report's fields, the plot, the production time limit, the identity split, and the
one-play fused decision against the real fused liveness."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from PIL import Image

from bench.liveness_pad import CLIP, HELD_OUT, TUNING, PadTally
from bench.liveness_render import Motion, Pose, Print
from bench.liveness_sessions import Frame, SheetCamera, benchmark_config, session_play
from bench.liveness_video import bona_fide_turn_sessions, tracks, video_frames
from biometrics.liveness import Challenge, VerdictReason
from tests.support import environment

CLIP_FRAMES = "125"  # the clip's first annotated turn (frames 82-112) and its sessions
PHOTOS = ("people/barack_obama/obama_1.jpg,barack_obama", "people/joe_biden/biden_1.jpg,joe_biden")


@pytest.fixture
def tiny_faces(tmp_path: Path) -> Path:
    """A faces folder with two portraits of two people and the real clip."""
    real = environment.faces_dir()
    rows = [f"{real / path},{identity},portrait,test" for path, identity in (p.split(",") for p in PHOTOS)]
    (tmp_path / "MANIFEST.csv").write_text("path,identity,kind,source\n" + "\n".join(rows) + "\n")
    (tmp_path / "video").symlink_to(real / "video")
    return tmp_path


def _run(faces: Path, *args: str) -> dict:
    out = io.StringIO()
    call_command(
        "benchmark_liveness", "--faces", str(faces), "--clip-frames", CLIP_FRAMES, "--json", *args,
        stdout=out, stderr=io.StringIO(),
    )  # fmt: skip
    return json.loads(out.getvalue())


@pytest.mark.faces
def test_pad_report_fields_split_and_plot(
    tiny_faces: Path, tmp_path: Path, settings, models_dir: Path
) -> None:
    settings.LIVENESS_TIME_LIMIT_S = 12.5
    plot = tmp_path / "pad.png"
    result = _run(tiny_faces, "--pad", "--frames", "6", "--plot", str(plot))

    assert result["synthetic_attacks"] is True
    assert result["time_limit_seconds"] == 12.5  # the production setting, not a benchmark constant
    assert result["threshold"] == settings.PAD_THRESHOLD
    assert result["models"] == list(settings.PAD_MODELS)
    species = result["species"]
    assert list(species) == ["print_flat", "print_bent_turned", "screen_still", "screen_replay_clip"]
    # Two photos: 3 flat motions (still, turned left, turned right) and 2 bent ones, each against both turns.
    assert [species[name]["sessions"] for name in ("print_flat", "print_bent_turned", "screen_still")] == [
        12,
        8,
        12,
    ]
    clip = result["bona_fide"]["clip"]
    assert clip["sessions"] == species["screen_replay_clip"]["sessions"] > 0
    for row in species.values():
        assert all(0.0 <= row[rule] <= 1.0 for rule in ("pad_off", "pad_alone", "fused"))
        assert row["fused"] <= row["pad_off"]  # PAD never passes a session the challenge refused
    # The clip's screen replay is a real head turn: the landmark checks alone pass some of it.
    assert species["screen_replay_clip"]["pad_off"] > 0
    assert 0.9 < clip["frame_median"] <= 1.0
    # One person per half: the threshold is tuned on one identity and reported on the other.
    assert result["photos"] == {TUNING: ["barack_obama/obama_1.jpg"], HELD_OUT: ["joe_biden/biden_1.jpg"]}
    assert result["held_out"]["print_flat"]["sessions"] == result["tuning"]["print_flat"]["sessions"] == 6
    assert result["threshold_chosen"] is None or 0.5 <= result["threshold_chosen"] <= 0.95
    assert set(result["cost_ms"]) == {*settings.PAD_MODELS, "both"}
    assert set(result["sweep"]) == {*species, "BPCER clip", "BPCER clip, page"}
    with Image.open(plot) as image:
        assert image.format == "PNG" and image.height == 30 + 70 * 6  # one row per series


@pytest.mark.faces
def test_landmark_report_fields(tiny_faces: Path, settings) -> None:
    settings.LIVENESS_TIME_LIMIT_S = 12.5
    result = _run(tiny_faces, "--limit", "1", "--frames", "5")

    assert result["time_limit_seconds"] == 12.5
    attacks = result["attacks"]
    assert list(attacks) == [
        *("static_photo", "static_photo_noise", "translated", "rotated", "perspective", "curved_print"),
        "replay",
    ]
    assert attacks["rotated"]["sequences"] == 3 * 3  # 3 motions x 3 challenges
    assert attacks["static_photo"]["apcer"] == attacks["replay"]["apcer"] == 0.0
    assert result["bona_fide"]["sequences"] > 0


@pytest.mark.faces
def test_one_play_decides_fused_as_the_fused_liveness_does() -> None:
    """PadTally decides "fused" from one PAD-off play; the real liveness with PAD on must agree."""
    video = video_frames(environment.faces_dir() / "video" / "short_hamilton_clip.mp4", int(CLIP_FRAMES))
    sessions = bona_fide_turn_sessions(tracks(video))
    rng = np.random.default_rng(3)
    config = benchmark_config()
    compared = refused = 0
    for _name, challenge, frames in sessions:
        for low in (0.3, 0.7):
            scored = [Frame(f.t, f.fingerprint, f.landmarks, float(rng.uniform(low, 1.0))) for f in frames]
            tally = PadTally(config)
            tally.play(challenge, scored, subset=CLIP)
            for threshold in (0.6, 0.75, 0.9):
                fused = benchmark_config(pad_threshold=threshold)
                verdict = session_play(challenge, scored, fused).verdict
                assert tally.rates(threshold)["fused"] == float(verdict.passed)
                compared += 1
                refused += verdict.reason is VerdictReason.PAD_SCORE_LOW
    assert compared > 0 and refused > 0  # both outcomes were compared


def test_a_held_pose_is_rendered_and_detected_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []

    def fake_detect(jpeg: bytes, **_kwargs: object) -> tuple[None, float, None]:
        calls.append(jpeg)
        return None, 0.5, None

    monkeypatch.setattr("bench.liveness_sessions.detect_scored", fake_detect)
    sheet = Print(np.full((200, 150, 3), 128, np.uint8), (75.0, 100.0), 1.0, 600.0)
    camera = SheetCamera(1, models=("MiniFASNetV2",))
    still = camera.frames("print", sheet, Motion([Pose()] * 5), fps=10.0)
    turned = camera.frames("print", sheet, Motion([Pose(), Pose(yaw=20.0), Pose(yaw=20.0)]), fps=10.0)
    screen = camera.frames("screen", sheet, Motion([Pose()]), fps=10.0)

    assert len(calls) == 3  # Pose() once for "print", yaw 20 once, Pose() once for "screen"
    fingerprints = [frame.fingerprint for frame in (*still, *turned, *screen)]
    assert len(set(fingerprints)) == len(fingerprints)  # a repeat is still a new camera frame
    assert [frame.t for frame in turned] == [0.0, 0.1, 0.2]


def test_a_held_pose_is_a_new_camera_frame_not_a_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    """Repeats of a held pose carried the first frame's fingerprint plus a suffix; the liveness state keeps
    only a fingerprint's first characters, so a print held still was refused as a replay, not by the
    challenge it cannot do."""
    monkeypatch.setattr("bench.liveness_sessions.detect_scored", lambda jpeg, **_kwargs: (None, 0.5, None))
    sheet = Print(np.full((200, 150, 3), 128, np.uint8), (75.0, 100.0), 1.0, 600.0)
    still = SheetCamera(1, models=("MiniFASNetV2",)).frames("print", sheet, Motion([Pose()] * 5), fps=10.0)

    verdict = session_play(Challenge.TURN_LEFT, still, benchmark_config()).verdict
    assert not verdict.passed and verdict.reason is not VerdictReason.REPLAY
