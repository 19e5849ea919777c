"""Per-group accuracy (bench.groups): the figures the face-comparison issue asks for, on synthetic faces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from bench import groups, groups_report
from biometrics.comparison import cohort_scale


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
