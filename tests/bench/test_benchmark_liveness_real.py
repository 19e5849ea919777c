"""``benchmark_liveness --real`` on a tiny folder of real captures (a live webcam video with head turns, a
recaptured print, a paper mask): the report's per-species keys, the session counts, the kiosk canvas."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from bench.liveness_mouth import MASK_PATHS, sheet_warp
from bench.liveness_real import (
    FRAME_INTERVAL_S,
    Entry,
    KioskFrame,
    Recording,
    asked_turn_present,
    kiosk_canvas,
    still_frames,
)
from bench.liveness_sessions import benchmark_config, session_play
from biometrics.liveness import Challenge, VerdictReason, frame_fingerprint
from tests.support import environment

ROWS = (
    ("krzysiek/real.mp4", "live"),
    ("nuaa/ImposterFace/0001/0001_00_00_01_0.jpg", "print"),
    ("celebaspoof_jotriever/toy/105647.jpg", "paper_mask"),
)


def attacks_dir() -> Path:
    from django.conf import settings

    path = settings.ATM_ATTACKS_DIR
    if not (path / "MANIFEST.csv").is_file():
        environment.unavailable(f"real attack captures not found at {path}")
    return path


@pytest.fixture
def tiny_attacks(tmp_path: Path) -> Path:
    real = attacks_dir()
    lines = ["file,source_repo,source_path,label,notes"]
    for file, label in ROWS:
        (tmp_path / file).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / file).symlink_to(real / file)
        lines.append(f"{file},test,{file},{label},test")
    (tmp_path / "MANIFEST.csv").write_text("\n".join(lines) + "\n")
    return tmp_path


@pytest.mark.faces
def test_real_report_keys_and_sessions(tiny_attacks: Path) -> None:
    out = io.StringIO()
    call_command(
        "benchmark_liveness",
        "--real",
        str(tiny_attacks),
        "--speech-clip",
        "",
        "--json",
        stdout=out,
        stderr=io.StringIO(),
    )
    result = json.loads(out.getvalue())

    assert result["real_attacks"] is True
    species = result["species"]
    assert set(species) == {"print", "paper_mask"}
    assert {key for key in species["print"] if key.endswith("apcer")} == {"apcer", "pad_alone_apcer"}
    mask_keys = {key for key in species["paper_mask"] if key.endswith("apcer")}
    assert mask_keys == {"apcer", "pad_alone_apcer", "pad_only_apcer"}
    assert species["print"]["sessions"] == 2  # held still, against both turns
    assert species["print"]["apcer"] == 0.0
    # Worn on a head that turns: each rigid path of the sheet is a session, the mouth challenge decides;
    # before it, PAD alone decided (one verdict per picture).
    assert species["paper_mask"]["sessions"] == len(MASK_PATHS)
    assert species["paper_mask"]["pad_only_sessions"] == 1
    mouth = result["mouth"]
    assert mouth["mask_sessions"] == len(MASK_PATHS) and mouth["mask_apcer"] == 0.0
    assert {key for key in mouth if key.endswith("apcer")} == {"mask_apcer", "mask_without_mouth_apcer"}
    speech = mouth["live"]["krzysiek/real.mp4"]
    assert "opens_bpcer" in speech and speech["opens_sessions"] + speech["still_sessions"] > 0
    assert sum(speech["ratio_distribution"].values()) > 100
    live = result["live"]["recordings"]["krzysiek/real.mp4"]
    # A session starts every 0.25 s of the 8.5 s recording, for both turns; each is counted once.
    assert live["sessions"] + live["not_asked_sessions"] == 2 * 31
    assert live["sessions"] > 0 and "bpcer" in live
    assert result["live"]["session_bpcer"] is not None
    assert result["pad_by_yaw"]["live videos"]["yaw_0_10"]["frames"] > 0
    steps = result["live_frame_steps"]
    assert steps["pairs"] > 0 and steps["roll_step_limit"] == 10.0
    assert steps["roll_step_per_yaw_degree"] == 0.75


def _frame(t: float, yaw: float) -> KioskFrame:
    from tests.biometrics.test_liveness import head

    return KioskFrame(t, frame_fingerprint(f"f{t}".encode()), 1, head(yaw=yaw), 0.9, yaw)


def test_a_session_takes_the_frames_a_kiosk_polling_every_200_ms_sends() -> None:
    frames = [_frame(index / 16, 0.0) for index in range(40)]  # a 16 fps recording
    chosen = Recording(Entry("x.mp4", "live"), frames).session(0.5)
    assert chosen[0].t == 0.5
    gaps = np.diff([frame.t for frame in chosen])
    assert (gaps >= FRAME_INTERVAL_S - 1e-9).all() and (gaps < FRAME_INTERVAL_S + 1 / 16).all()


def test_the_asked_turn_is_the_first_clear_turn_of_the_recording() -> None:
    config = benchmark_config()
    left_then_right = [_frame(0.0, 0.0), _frame(0.5, 30.0), _frame(1.0, 0.0), _frame(1.5, -30.0)]
    assert asked_turn_present(left_then_right, Challenge.TURN_LEFT, config)
    assert not asked_turn_present(left_then_right, Challenge.TURN_RIGHT, config)
    assert not asked_turn_present([_frame(0.0, 0.0), _frame(0.5, 12.0)], Challenge.TURN_LEFT, config)


def test_the_kiosk_canvas_is_640_wide_with_the_camera_aspect() -> None:
    assert kiosk_canvas(np.zeros((1080, 1920, 3), np.uint8)).shape == (360, 640, 3)
    assert kiosk_canvas(np.zeros((203, 203, 3), np.uint8)).shape == (640, 640, 3)


def test_a_print_held_still_is_refused_by_the_challenge_not_as_a_replay() -> None:
    held = still_frames(_frame(0.0, 0.0))
    verdict = session_play(Challenge.TURN_LEFT, held, benchmark_config()).verdict
    assert verdict.reason is VerdictReason.CHALLENGE_NOT_MET


def test_a_sheet_turned_in_perspective_narrows_and_keeps_its_size() -> None:
    picture = np.zeros((200, 300, 3), np.uint8)
    picture[50:150, 100:200] = 255
    straight = sheet_warp(picture, yaw=0.0, shift=0.0, scale=1.0)
    turned = sheet_warp(picture, yaw=20.0, shift=0.0, scale=1.0)
    assert straight.shape == turned.shape == picture.shape
    assert np.array_equal(straight, picture)
    white = (turned[:, :, 0] > 128).sum(axis=1)
    assert 0.85 * 100 < white.max() < 0.97 * 100  # about cos(20) of its width
