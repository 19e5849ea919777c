"""Models are data, not code: read from ATM_MODELS_DIR, pinned by sha256, never tracked in git; missing files
turn a check off (and say so) only in DEBUG, and stop production."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from biometrics import engine, model_files
from biometrics.model_files import MODEL_FILES, ModelFileError, feature_active
from tests.support.environment import REPO

MODEL_SUFFIXES = (".onnx", ".bin", ".dat", ".xml", ".pb", ".tflite", ".pt", ".pth", ".caffemodel")
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".mp4", ".webm", ".avi", ".mov")


def test_no_model_or_photo_file_is_tracked_in_git() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    offending = [p for p in tracked.splitlines() if p.lower().endswith(MODEL_SUFFIXES + PHOTO_SUFFIXES)]
    assert offending == []


def test_every_pinned_hash_is_the_one_published_beside_the_files(models_dir: Path) -> None:
    published = {}
    for sums in models_dir.glob("*/SHA256SUMS"):
        for line in sums.read_text().splitlines():
            digest, name = line.split()
            published[f"{sums.parent.name}/{name}"] = digest
    readme = (models_dir / "minifasnet" / "README.md").read_text()
    for key, spec in MODEL_FILES.items():
        assert published.get(key, spec.sha256) == spec.sha256
        if key.startswith("minifasnet/"):
            assert spec.sha256 in readme
    assert model_files.model_files_problems(MODEL_FILES) == []


@pytest.fixture
def empty_models_dir(tmp_path: Path, settings) -> Path:
    settings.ATM_MODELS_DIR = tmp_path
    settings.PAD_ENABLED = True
    settings.LIVENESS_ENABLED = True
    settings.FACE_MODEL_ENABLED = True
    model_files.clear_cache()
    yield tmp_path
    model_files.clear_cache()


def test_in_debug_missing_models_serve_with_the_checks_off_and_say_which(
    empty_models_dir, settings, capsys
) -> None:
    settings.DEBUG = True
    call_command("check")  # no SystemCheckError: make run still serves
    err = capsys.readouterr().err
    assert "presentation-attack detection (PAD) is OFF" in err
    assert "second face model (YuNet + face-reid-0095) is OFF" in err
    assert str(empty_models_dir) in err
    assert feature_active("pad") is False and feature_active("face_model") is False


def test_in_production_missing_models_stop_start_up(empty_models_dir, settings) -> None:
    settings.DEBUG = False
    with pytest.raises(SystemCheckError, match=r"biometrics\.E001.*YuNet face detector.*missing"):
        call_command("check")
    # A worker that reaches the engine anyway raises; it never passes a check silently.
    assert feature_active("pad") is True


def test_an_altered_yunet_file_is_refused_not_loaded(tmp_path: Path, settings, models_dir: Path) -> None:
    key = model_files.YUNET_FILE
    (tmp_path / key).parent.mkdir(parents=True)
    data = bytearray((models_dir / key).read_bytes())
    data[100] ^= 1
    (tmp_path / key).write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="has sha256"):
        model_files.model_bytes(key, directory=tmp_path)
    shutil.rmtree(tmp_path / "yunet")
    with pytest.raises(ModelFileError, match="missing"):
        model_files.model_bytes(key, directory=tmp_path)


def test_yunet_finds_the_face_and_five_landmarks_in_the_right_order(
    faces_dir: Path, models_dir: Path
) -> None:
    image = engine.decode_image((faces_dir / "people" / "barack_obama" / "obama_1.jpg").read_bytes())
    faces = engine.detect_faces_yunet(image)
    assert len(faces) == 1
    face = faces[0]
    assert face.landmarks.shape == (5, 2) and face.score > 0.8
    right_eye, left_eye, nose, right_mouth, left_mouth = face.landmarks
    # The person's right eye and mouth corner are on the image's left; eyes above nose above mouth.
    assert right_eye[0] < left_eye[0] and right_mouth[0] < left_mouth[0]
    assert max(right_eye[1], left_eye[1]) < nose[1] < min(right_mouth[1], left_mouth[1])
    box = face.box
    assert all(box.left <= x <= box.right and box.top <= y <= box.bottom for x, y in face.landmarks)
    # A dlib box of the same photo overlaps YuNet's.
    dlib_box = engine.detect_faces(image, purpose="enrol")[0].box
    assert abs((dlib_box.left + dlib_box.right) / 2 - (box.left + box.right) / 2) < box.width / 4
    assert engine.detect_faces_yunet(np.zeros((240, 320, 3), np.uint8)) == []


def test_a_test_needing_models_skips_on_a_laptop_and_fails_under_ci(
    tmp_path: Path, settings, monkeypatch
) -> None:
    from tests.support import environment

    settings.ATM_MODELS_DIR = tmp_path
    monkeypatch.setattr(environment, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception, match="model files not usable"):
        environment.models_dir()
    monkeypatch.setattr(environment, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        environment.models_dir()
