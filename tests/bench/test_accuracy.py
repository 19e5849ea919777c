"""Accuracy benchmark: the scoring maths on hand-made encodings, then the real engine on a few real photos."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from bench import accuracy
from bench.accuracy import Scores
from tests.bench.photos import photo_subset, write_manifest

SUBSET = [
    ("people/joe_biden/biden_1.jpg", "joe_biden", "portrait"),
    ("people/joe_biden/biden_2.jpg", "joe_biden", "portrait"),
    ("people/kit_harington/kit_1.jpg", "kit_harington", "portrait"),
    ("people/kit_harington/kit_2.jpg", "kit_harington", "portrait"),
    ("people/john_simm/000288_00470387.jpg", "john_simm", "aligned_crop_150px"),
    ("people/john_simm/000297_00470170.jpg", "john_simm", "aligned_crop_150px"),
    ("people/john_simm/000300_00470148.jpg", "john_simm", "aligned_crop_150px"),
]


def _points_on_a_line(*offsets: float) -> np.ndarray:
    """Encodings whose pairwise distances are the differences of `offsets` (all on one axis)."""
    encodings = np.zeros((len(offsets), 128), dtype=np.float32)
    encodings[:, 0] = offsets
    return encodings


def test_load_manifest_keeps_labelled_portraits_and_crops(tmp_path):
    write_manifest(
        tmp_path,
        [
            ("people/a/1.jpg", "a", "portrait"),
            ("people/b/1.jpg", "b", "aligned_crop_150px"),
            ("scenes/two.jpg", "", "two_faces"),
            ("scenes/partial.jpg", "a", "partial_face"),
            ("video/clip.mp4", "", "video"),
        ],
    )
    rows = accuracy.load_manifest(tmp_path)
    assert [(row.path, row.identity, row.kind) for row in rows] == [
        (tmp_path / "people/a/1.jpg", "a", "portrait"),
        (tmp_path / "people/b/1.jpg", "b", "aligned_crop_150px"),
    ]


def test_pair_scores_split_genuine_and_impostor():
    scores = accuracy.pair_scores(_points_on_a_line(0.0, 0.3, 1.0, 1.2), ["a", "a", "b", "b"])
    assert sorted(scores.genuine.round(6).tolist()) == [0.2, 0.3]
    assert sorted(scores.impostor.round(6).tolist()) == [0.7, 0.9, 1.0, 1.2]


def test_gallery_scores_leave_the_probe_out_and_take_the_minimum_per_identity():
    # a: two photos, b: two photos, c: a single photo (no genuine score of its own).
    encodings = _points_on_a_line(0.0, 0.3, 1.0, 1.2, 2.0)
    scores = accuracy.gallery_scores(encodings, ["a", "a", "b", "b", "c"])
    assert sorted(scores.genuine.round(6).tolist()) == [0.2, 0.2, 0.3, 0.3]
    # Per probe, one impostor score per other identity: 4 probes x 2 + c's probe x 2 = 10.
    assert scores.impostor.size == 10
    assert scores.impostor.round(6).min() == pytest.approx(0.7)  # probe 0.3 vs b's nearest photo (1.0)


def test_gallery_scores_never_match_a_photo_with_itself():
    encodings = _points_on_a_line(0.0, 0.0, 5.0)
    scores = accuracy.gallery_scores(encodings, ["a", "a", "b"])
    assert scores.genuine.tolist() == [0.0, 0.0]  # the duplicate photo, not the probe itself
    assert accuracy.gallery_scores(_points_on_a_line(0.0, 5.0), ["a", "b"]).genuine.size == 0


def test_error_rates_match_at_or_below_the_threshold():
    scores = Scores(genuine=np.array([0.2, 0.5, 0.6]), impostor=np.array([0.5, 0.7, 0.9, 1.0]))
    fnmr, fmr = accuracy.error_rates(scores, 0.5)
    assert fnmr == pytest.approx(1 / 3) and fmr == pytest.approx(1 / 4)
    assert accuracy.error_rates(Scores(np.array([]), np.array([])), 0.5) == (0.0, 0.0)


def test_equal_error_rate_of_separated_and_overlapping_scores():
    separated = Scores(genuine=np.array([0.1, 0.3, 0.4]), impostor=np.array([0.6, 0.8]))
    eer, threshold = accuracy.equal_error_rate(separated)
    assert eer == 0.0 and threshold == pytest.approx(0.5)
    overlapping = Scores(genuine=np.array([0.1, 0.2, 0.3, 0.7]), impostor=np.array([0.25, 0.8, 0.9, 1.0]))
    eer, threshold = accuracy.equal_error_rate(overlapping)
    assert eer == pytest.approx(0.25)
    assert 0.25 <= threshold < 0.8


def test_roc_points_are_monotonic():
    rng = np.random.default_rng(0)
    scores = Scores(genuine=rng.normal(0.35, 0.1, 200), impostor=rng.normal(0.85, 0.1, 2000))
    points = accuracy.roc_points(scores)
    thresholds, fmr, fnmr = (np.array(column) for column in zip(*points, strict=True))
    assert np.all(np.diff(thresholds) > 0)
    assert np.all(np.diff(fmr) >= 0) and np.all(np.diff(fnmr) <= 0)
    assert fnmr[-1] == 0.0 and fmr[-1] == 1.0


def test_roc_png_is_an_image():
    rng = np.random.default_rng(1)
    scores = Scores(genuine=rng.normal(0.35, 0.1, 50), impostor=rng.normal(0.85, 0.1, 500))
    data = accuracy.roc_png({"pairs": scores, "gallery": scores}, threshold=0.5)
    picture = Image.open(io.BytesIO(data))
    assert picture.format == "PNG" and picture.size[0] > picture.size[1] > 100


def test_encode_manifest_records_failures_and_summary_has_the_contract_keys(tmp_path):
    rows = [
        accuracy.ManifestRow(path=tmp_path / f"{name}.jpg", identity=identity, kind="portrait")
        for name, identity in [("a1", "a"), ("a2", "a"), ("b1", "b"), ("broken", "b")]
    ]
    for row in rows:
        row.path.write_bytes(row.path.stem.encode())
    offsets = {"a1": 0.0, "a2": 0.2, "b1": 1.0}

    def fake_encoder(data: bytes) -> np.ndarray:
        name = data.decode()
        if name not in offsets:
            raise ValueError("no face found")
        return _points_on_a_line(offsets[name])[0]

    encoded = accuracy.encode_manifest(rows, encoder=fake_encoder)
    assert encoded.identities == ["a", "a", "b"]
    assert encoded.failed == [(tmp_path / "broken.jpg", "no face found")]

    result = accuracy.summary(rows, encoded, threshold=0.5)
    identification = result.pop("false_identification")
    assert identification["impostor_comparisons"] == 3 and identification["fmr_upper_95"] == 1.0
    assert result == {
        "identities": 2,
        "images": 4,
        "encoded": 3,
        "threshold": 0.5,
        "pairs": {"genuine": 1, "impostor": 2, "fnmr": 0.0, "fmr": 0.0, "eer": 0.0},
        "gallery": {"genuine": 2, "impostor": 3, "fnmr": 0.0, "fmr": 0.0},
    }


# ------------------------------------------------------------------------------------------------ real engine


@pytest.fixture
def small_faces_dir(faces_dir, tmp_path):
    return photo_subset(faces_dir, tmp_path, SUBSET)


@pytest.mark.faces
def test_real_photos_through_the_enrolment_path(small_faces_dir):
    rows = accuracy.load_manifest(small_faces_dir)
    encoded = accuracy.encode_manifest(rows)
    assert encoded.failed == [] and encoded.encodings.shape == (len(SUBSET), 128)
    result = accuracy.summary(rows, encoded, threshold=0.5)
    assert result["pairs"]["genuine"] == 1 + 1 + 3 and result["pairs"]["impostor"] == 21 - 5
    assert result["gallery"]["fmr"] == 0.0 and result["gallery"]["fnmr"] == 0.0
    assert result["pairs"]["eer"] == 0.0


@pytest.mark.faces
def test_command_prints_one_json_object_and_writes_the_plot(small_faces_dir, tmp_path, capsys):
    plot = tmp_path / "roc.png"
    call_command("benchmark_accuracy", faces=small_faces_dir, json=True, plot=plot, threshold=0.55)
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {
        "identities",
        "images",
        "encoded",
        "threshold",
        "pairs",
        "gallery",
        "false_identification",
    }
    assert [row["n"] for row in result["false_identification"]["face_only"]] == [10**k for k in range(3, 8)]
    assert [row["n"] for row in result["false_identification"]["phone_narrowed"]] == [1, 2, 3, 4, 5]
    assert result["identities"] == 3 and result["images"] == result["encoded"] == len(SUBSET)
    assert result["threshold"] == 0.55
    assert set(result["pairs"]) == {"genuine", "impostor", "fnmr", "fmr", "eer"}
    assert set(result["gallery"]) == {"genuine", "impostor", "fnmr", "fmr"}
    assert Image.open(plot).format == "PNG"


@pytest.mark.faces
def test_command_text_report(small_faces_dir, capsys):
    call_command("benchmark_accuracy", faces=small_faces_dir)
    out = capsys.readouterr().out
    assert "7 photos of 3 identities, 7 encoded" in out and "gallery:" in out and "EER" in out


def test_command_refuses_a_folder_without_manifest(tmp_path):
    with pytest.raises(CommandError, match=r"MANIFEST\.csv not found"):
        call_command("benchmark_accuracy", faces=tmp_path)


def test_false_identification_grows_with_the_gallery_and_stays_small_with_the_phone() -> None:
    assert accuracy.fmr_upper_bound(false_matches=0, comparisons=3000) == pytest.approx(1e-3)
    assert 0.01 < accuracy.fmr_upper_bound(false_matches=5, comparisons=1000) < 0.02  # Wilson, above 0.5 %
    assert accuracy.false_identification_rate(fmr=1e-4, comparisons=1) == pytest.approx(1e-4)
    assert accuracy.false_identification_rate(fmr=1e-4, comparisons=10**4) == pytest.approx(
        1 - np.exp(-1), rel=1e-3
    )
    table = accuracy.false_identification(fmr=0.0, false_matches=0, comparisons=710)
    face_only = [row["upper"] for row in table["face_only"]]
    phone = [row["upper"] for row in table["phone_narrowed"]]
    assert face_only == sorted(face_only) and face_only[0] > 0.98
    assert phone == sorted(phone) and phone[-1] < 0.025
