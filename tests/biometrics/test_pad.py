"""Passive presentation-attack detection: the shipped models, their hash check and the input recipe."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

from bench import geometry
from biometrics import engine
from biometrics.pad_models import PAD_MODELS, PadModelError, pad_model_bytes, pad_models_problems

BOTH = ("MiniFASNetV2", "MiniFASNetV1SE")


def test_both_models_are_read_from_the_models_dir_with_their_licence_and_hashes_in_the_repo(
    models_dir: Path,
) -> None:
    assert pad_models_problems(BOTH) == []
    assert "Apache License" in (models_dir / "minifasnet" / "LICENSE").read_text()[:200]
    notice = (Path(__file__).resolve().parents[2] / "docs" / "model-files.md").read_text()
    for spec in PAD_MODELS.values():
        assert spec.sha256 in notice
        assert (models_dir / spec.filename).stat().st_size < 2_000_000


def test_an_altered_model_is_refused(tmp_path: Path, models_dir: Path) -> None:
    for spec in PAD_MODELS.values():
        (tmp_path / spec.filename).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(models_dir / spec.filename, tmp_path / spec.filename)
    target = tmp_path / "minifasnet" / "MiniFASNetV2.onnx"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit
    target.write_bytes(bytes(data))
    with pytest.raises(PadModelError, match="sha256"):
        pad_model_bytes("MiniFASNetV2", models_dir=tmp_path)
    problems = pad_models_problems(BOTH, models_dir=tmp_path)
    assert len(problems) == 1 and problems[0].startswith("PAD model MiniFASNetV2")
    pad_model_bytes("MiniFASNetV1SE", models_dir=tmp_path)  # the intact one still loads


def test_a_missing_or_unknown_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PadModelError, match="missing"):
        pad_model_bytes("MiniFASNetV2", models_dir=tmp_path)
    with pytest.raises(PadModelError, match="unknown"):
        pad_model_bytes("NotAModel")
    assert pad_models_problems([]) == ["no PAD model is configured"]
    with pytest.raises(PadModelError):
        engine.pad_score(np.zeros((10, 10, 3), np.uint8), engine.Box(0, 5, 5, 0), models=())


def test_the_crop_is_the_box_scaled_about_its_centre_resized_to_80_in_bgr() -> None:
    image = np.zeros((480, 640, 3), np.uint8)
    image[:, :, 0] = 200  # red everywhere (RGB input)
    image[200:280, 300:340, 2] = 255  # a blue patch exactly the face box
    box = engine.Box(top=200, right=340, bottom=280, left=300)  # 40 wide, 80 high
    crop = engine.pad_crop(image, box, crop_scale=2.0)
    assert crop.shape == (80, 80, 3) and crop.dtype == np.uint8
    assert crop[40, 40].tolist() == [255, 0, 200]  # BGR: blue first
    # Scale 2 about the centre: the box fills the middle half of the crop in each direction.
    blue = crop[:, :, 0] > 128
    rows, cols = np.nonzero(blue)
    assert (rows.min(), rows.max()) == pytest.approx((20, 59), abs=1)
    assert (cols.min(), cols.max()) == pytest.approx((20, 59), abs=1)


def test_a_crop_at_the_edge_is_shifted_inside_the_image_not_shrunk() -> None:
    image = np.zeros((480, 640, 3), np.uint8)
    image[0:40, 0:40] = 255  # the face box, in the corner
    crop = engine.pad_crop(image, engine.Box(top=0, right=40, bottom=40, left=0), crop_scale=4.0)
    # A 160 px window shifted to the corner: the white box is its top-left quarter.
    white = np.nonzero(crop[:, :, 0] > 128)
    assert (white[0].max(), white[1].max()) == pytest.approx((19, 19), abs=1)


def _letterboxed(path: Path) -> np.ndarray:
    from PIL import Image

    image = Image.open(path).convert("RGB")
    image.thumbnail((640, 480))
    canvas = Image.new("RGB", (640, 480), (40, 40, 40))
    canvas.paste(image, ((640 - image.width) // 2, (480 - image.height) // 2))
    return np.asarray(canvas)


@pytest.mark.faces
def test_scores_match_the_model_readme_on_the_real_clip_and_on_portraits(
    faces_dir: Path, models_dir: Path
) -> None:
    """The model README: real video frames 0.95 on average (all above 0.5), letterboxed portraits 0.53."""
    clip_scores = []
    for index, _, frame in geometry.video_frames(faces_dir / "video" / "short_hamilton_clip.mp4"):
        if index % 6:
            continue
        faces = engine.detect_faces(frame, purpose="live")
        if len(faces) == 1:
            clip_scores.append(engine.pad_score(frame, faces[0].box, models=BOTH))
    assert len(clip_scores) >= 20
    assert np.mean(clip_scores) == pytest.approx(0.95, abs=0.05)
    assert min(clip_scores) > 0.5

    with (faces_dir / "MANIFEST.csv").open(newline="") as handle:
        portraits = [faces_dir / row["path"] for row in csv.DictReader(handle) if row["kind"] == "portrait"]
    portrait_scores = []
    for path in portraits:
        frame = _letterboxed(path)
        faces = engine.detect_faces(frame, purpose="live")
        if faces:
            portrait_scores.append(engine.pad_score(frame, faces[0].box, models=BOTH))
    assert len(portrait_scores) >= 15
    assert np.mean(portrait_scores) == pytest.approx(0.53, abs=0.08)
