"""Per-group accuracy (bench.groups): the figures the face-comparison issue asks for, on synthetic faces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from bench import groups, groups_report
from bench.groups import cohort_scale
from biometrics.comparison import DEFAULT_SHIFT, cohort_shift, normalised_scores, template_shift


def _people(
    rng: np.random.Generator, centre: np.ndarray, spread: float, people: int, photos: int, group: str
):
    rows, names = [], []
    for person in range(people):
        face = centre + spread * rng.normal(size=centre.size)
        for _ in range(photos):
            rows.append(face + 0.004 * rng.normal(size=centre.size))
            names.append(f"{group}{person}")
    return rows, names


def _labelled(seed: int = 1) -> groups.Labelled:
    """Group 'close' has people who look alike (small spread around one centre), 'far' does not."""
    rng = np.random.default_rng(seed)
    reid, identities, labels = [], [], []
    for group, spread in (("close", 0.012), ("far", 0.08)):
        centre = rng.normal(size=256)
        centre /= np.linalg.norm(centre)
        rows, names = _people(rng, centre, spread, 16, 4, group)
        reid += rows
        identities += names
        labels += [group] * len(names)
    matrix = np.array(reid)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    dlib = np.hstack([matrix[:, :128] * 0.0 + 0.01 * rng.normal(size=(len(matrix), 128))])
    return groups.Labelled(
        np.array(identities), np.array(labels), dlib.astype(np.float32), matrix.astype(np.float32)
    )


def test_split_people_puts_half_of_every_group_in_each_half() -> None:
    data = _labelled()
    report = groups.split_people(data.identities.tolist(), data.groups.tolist())
    for group in ("close", "far"):
        people = set(data.identities[data.groups == group])
        reported = set(data.identities[report & (data.groups == group)])
        assert len(reported) == len(people) // 2
    # A person's photos are never split between the halves.
    for identity in set(data.identities):
        assert len(set(report[data.identities == identity])) == 1


def test_a_group_of_look_alikes_has_a_higher_same_group_fmr_than_the_pooled_one() -> None:
    data = _labelled()
    threshold = groups.threshold_at_fmr(
        groups.pair_sets(groups.cosine_distance(data.reid, data.reid), data.identities, data.groups).impostor,
        0.01,
    )
    result = groups.report(
        groups.cosine_distance(data.reid, data.reid), data.identities, data.groups, threshold
    )
    close, far = result["groups"]["close"]["same_group"], result["groups"]["far"]["same_group"]
    assert close["fmr"] > result["pairs"]["fmr"] > far["fmr"] == 0.0
    assert result["max_group_fmr_over_overall"] > 1
    assert set(close) >= {"fmr", "fnmr", "impostor_pairs", "fmr_upper_95", "eer"}
    assert set(result["groups"]["close"]["targets"]) == {"1e-3", "1e-4"}
    assert set(result["pairs"]) >= {"genuine", "impostor", "fnmr", "fmr", "eer", "targets"}
    assert close["impostor_pairs"] == 16 * 15 // 2 * 16 and close["fmr_upper_95"] >= close["fmr"]


def test_the_tuned_threshold_meets_the_target_in_every_group_of_the_calibration_people() -> None:
    data = _labelled()
    sets = groups.pair_sets(groups.cosine_distance(data.reid, data.reid), data.identities, data.groups)
    threshold = groups.threshold_for_groups(sets, 1e-3)
    for group in ("close", "far"):
        same = sets.impostor[sets.impostor_groups == group]
        assert np.mean(same <= threshold) <= 1e-3


def test_a_face_with_look_alikes_in_the_cohort_gets_a_smaller_scale_a_stricter_threshold() -> None:
    data = _labelled()
    probe_people = {"close0", "far0"}
    cohort = data.reid[~np.isin(data.identities, list(probe_people))]
    close_face = data.reid[data.identities == "close0"][:1]
    far_face = data.reid[data.identities == "far0"][:1]
    assert cohort_scale(close_face, cohort)[0] < cohort_scale(far_face, cohort)[0]
    with pytest.raises(ValueError):
        cohort_scale(close_face, cohort[:0])


def test_a_face_with_look_alikes_in_the_cohort_gets_a_larger_shift_a_stricter_threshold() -> None:
    data = _labelled()
    probe_people = {"close0", "far0"}
    cohort = data.reid[~np.isin(data.identities, list(probe_people))]
    close_face = data.reid[data.identities == "close0"][:1]
    far_face = data.reid[data.identities == "far0"][:1]
    close_shift, far_shift = cohort_shift(close_face, cohort)[0], cohort_shift(far_face, cohort)[0]
    assert close_shift > far_shift
    # The shift is the mean similarity of the closest 2.5 % of the cohort (3 of its 120 faces).
    assert len(cohort) == 120
    assert close_shift == pytest.approx(float(np.sort(cohort @ close_face[0])[-3:].mean()), rel=1e-6)
    # The same probe at the same distance from both templates scores higher (worse) against the close one.
    probe = data.reid[data.identities == "close0"][1]
    scores = normalised_scores(np.vstack([close_face, close_face]), [close_shift, far_shift], probe)
    assert scores[0] - scores[1] == pytest.approx(close_shift - far_shift)
    # Under COHORT_MIN cohort faces every template gets the default shift.
    assert template_shift(close_face[0], cohort[:99]) == DEFAULT_SHIFT
    assert template_shift(close_face[0], cohort) == pytest.approx(close_shift)
    with pytest.raises(ValueError):
        cohort_shift(close_face, cohort[:0])


def test_swapped_halves_report_on_the_people_the_usual_run_tunes_on() -> None:
    data = _labelled()
    report = groups.split_people(data.identities.tolist(), data.groups.tolist())
    swapped = groups.evaluate(data, "reid", target=1e-2, shipped=None, swap_halves=True)
    matrix = groups.cosine_distance(data.reid[report], data.reid[report])
    tuned_on_usual_report = groups.threshold_for_groups(
        groups.pair_sets(matrix, data.identities[report], data.groups[report]), 1e-2
    )
    assert swapped["swap_halves"] and swapped["tuned_threshold"] == round(tuned_on_usual_report, 6)
    usual = groups.evaluate(data, "reid", target=1e-2, shipped=None)
    assert usual["tuned_threshold"] != swapped["tuned_threshold"]


def test_every_method_is_evaluated_on_people_it_was_not_tuned_on() -> None:
    data = _labelled()
    for method in groups.METHODS:
        result = groups.evaluate(data, method, target=1e-3, shipped=None)
        assert result["people"] == {"report": 16, "calibration": 16}
        assert result["threshold"] == result["tuned_threshold"]
        assert "\\n".join(groups_report.text_lines(result))
    with pytest.raises(ValueError):
        groups.method_matrix(
            "nope", data, np.ones(len(data.identities), bool), np.ones(len(data.identities), bool)
        )


def test_the_det_plot_is_an_svg_with_one_curve_per_group() -> None:
    data = _labelled()
    sets = groups.pair_sets(groups.cosine_distance(data.reid, data.reid), data.identities, data.groups)
    svg = groups_report.det_svg(
        {"pooled": (sets.genuine, sets.impostor), "close": (sets.genuine, sets.impostor)}, "t"
    )
    assert svg.startswith("<svg") and svg.count("<polyline") == 2


@pytest.mark.faces
def test_command_per_group_json_on_real_photos(
    faces_dir: Path, models_dir: Path, tmp_path: Path, capsys
) -> None:
    people = ["barack_obama", "joe_biden", "kit_harington", "alex_lacamoire"]
    manifest = ["path,identity,kind,group,sex"]
    for index, person in enumerate(people):
        for photo in sorted((faces_dir / "people" / person).glob("*.jpg"))[:3]:
            link = tmp_path / person / photo.name
            link.parent.mkdir(exist_ok=True)
            link.symlink_to(photo)
            manifest.append(f"{person}/{photo.name},{person},portrait,{'ab'[index % 2]},M")
    (tmp_path / "MANIFEST.csv").write_text("\n".join(manifest) + "\n")
    cache, plot = tmp_path / "enc.npz", tmp_path / "det.svg"
    call_command("benchmark_accuracy", faces=tmp_path, json=True, method="reid", cache=cache, plot=plot)
    result = json.loads(capsys.readouterr().out)
    assert result["method"] == "reid" and set(result["groups"]) == {"a", "b"}
    for figures in result["groups"].values():
        assert {"fmr", "fnmr"} <= set(figures["same_group"]) and set(figures["targets"]) == {"1e-3", "1e-4"}
    assert result["pairs"]["fmr"] == 0.0 and cache.is_file() and plot.read_text().startswith("<svg")


@pytest.mark.faces
def test_flip_averages_the_chip_and_its_mirror_and_is_cached_apart(
    faces_dir: Path, models_dir: Path, tmp_path: Path
) -> None:
    from bench import groups_io
    from biometrics import engine
    from biometrics.engine import reid

    photo = faces_dir / "people" / "barack_obama" / "obama_1.jpg"
    image = engine.decode_image(photo.read_bytes())
    landmarks = max(engine.detect_faces_yunet(image), key=lambda f: f.box.width * f.box.height).landmarks
    plain = engine.encode_face_reid(image, landmarks)
    flipped = engine.encode_face_reid(image, landmarks, flip=True)
    chip = reid.reid_align(image, landmarks)
    one, mirror = reid._infer(chip), reid._infer(chip[:, ::-1])
    expected = one / np.linalg.norm(one) + mirror / np.linalg.norm(mirror)
    assert np.allclose(flipped, expected / np.linalg.norm(expected), atol=1e-5)
    assert np.allclose(plain, one / np.linalg.norm(one), atol=1e-6)
    assert 0.8 < float(plain @ flipped) < 0.99999  # close, not the same embedding
    # The benchmark keeps the two embeddings under different cache keys.
    photos = [groups_io.Photo(photo, "obama", "a", "M")]
    cache = tmp_path / "enc.npz"
    groups_io.encode_photos(photos, cache=cache)
    data, _ = groups_io.encode_photos(photos, cache=cache, flip=True)
    with np.load(cache) as archive:
        assert len(archive["keys"]) == 2
    assert np.allclose(data.reid[0], flipped, atol=1e-5)
