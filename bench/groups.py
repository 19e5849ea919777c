"""Accuracy per demographic group, for several ways of comparing faces (pure numpy; the engine only encodes).

Labels (group, sex) come from MANIFEST.csv and are for measuring only: no method below reads them.

Methods, each a *distance* (smaller is closer), so one set of error-rate functions serves all:
* ``dlib``: euclidean distance of the 128-d dlib encodings (today's product, matches at 0.50);
* ``reid``: ``1 - cosine`` of face-reidentification-retail-0095 embeddings on YuNet-aligned faces;
* ``fusion``: the sum of both, each z-scored on the calibration half's impostor pairs;
* ``cohort``: ``reid`` divided by sqrt(q_a * q_b), q = a face's own ``COHORT_QUANTILE`` distance to a cohort
  of other people's faces (symmetric per-template normalisation: a face with close look-alikes in the world
  gets a stricter threshold), no label used;
* ``cohort_template`` (the first product score, reid_version .../1): ``reid`` divided by the template's q
  alone (a per-template threshold fixed at enrolment; the probe is not scaled); with a cohort under
  ``COHORT_MIN`` faces every template gets ``DEFAULT_SCALE``, as that product did;
* ``cohort_shift`` (the product, ``biometrics.comparison``): ``reid`` plus the template's cohort shift, the
  mean similarity of its closest ``COHORT_TOP_SHARE`` of the cohort (``DEFAULT_SHIFT`` under ``COHORT_MIN``);
* ``cohort_shift_sym``: ``reid`` plus the mean of both faces' shifts (the probe's against the same cohort at
  run time, AS-norm style; measured, not shipped).

People are split in two halves (per group, by a hash of the identity). The threshold of a normalised method
is set on the calibration half so that the largest same-group FMR meets the target; every figure is
reported on the other half, whose cohort is the calibration half's faces (never the impostor's own photos).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from biometrics.comparison import COHORT_MIN, COHORT_TOP_SHARE, DEFAULT_SHIFT, cohort_shift

TARGETS = (1e-3, 1e-4)
METHODS = ("dlib", "reid", "fusion", "cohort", "cohort_template", "cohort_shift", "cohort_shift_sym")
PRODUCT_METHOD = "cohort_shift"

# The first product score (``cohort_template``), kept so the benchmark reports old and new side by side:
# the template's 1 % cohort quantile as its scale, and its threshold table (calibration half, target FMR).
COHORT_QUANTILE = 0.01
DEFAULT_SCALE = 0.7644
TEMPLATE_SCALE_CALIBRATION: tuple[tuple[float, float], ...] = (
    (1e-4, 0.5665),
    (1e-3, 0.5857),
    (1.5e-3, 0.5983),
    (1e-2, 0.7102),
)


def cohort_scale(faces: np.ndarray, cohort: np.ndarray, *, quantile: float = COHORT_QUANTILE) -> np.ndarray:
    """(N,) the ``quantile`` of each face's ``1 - cosine`` distances to the cohort's faces (unit vectors)."""
    faces = np.atleast_2d(np.asarray(faces, np.float64))
    cohort = np.atleast_2d(np.asarray(cohort, np.float64))
    if cohort.shape[0] == 0:
        raise ValueError("an empty cohort cannot scale a face")
    distances = 1.0 - faces @ cohort.T
    return np.maximum(np.quantile(distances, quantile, axis=1), 1e-6)


def template_scale_threshold(target_fmr: float) -> float:
    """The first product's threshold for ``target_fmr`` (log-interpolated in its table)."""
    fmrs = np.log10([row[0] for row in TEMPLATE_SCALE_CALIBRATION])
    values = [row[1] for row in TEMPLATE_SCALE_CALIBRATION]
    return float(np.interp(np.log10(target_fmr), fmrs, values))


@dataclass(frozen=True, slots=True)
class Labelled:
    identities: np.ndarray  # (N,) str
    groups: np.ndarray  # (N,) str
    dlib: np.ndarray  # (N, 128)
    reid: np.ndarray  # (N, 256) unit length


def split_people(identities: Sequence[str], groups: Sequence[str]) -> np.ndarray:
    """Boolean mask of the *reporting* half: every other identity of each group in hash order."""
    by_group: dict[str, list[str]] = {}
    for identity, group in dict(zip(identities, groups, strict=True)).items():
        by_group.setdefault(group, []).append(identity)
    report: set[str] = set()
    for people in by_group.values():
        ordered = sorted(people, key=lambda name: hashlib.sha256(name.encode()).hexdigest())
        report.update(ordered[1::2] if len(ordered) > 1 else ordered)
    return np.array([identity in report for identity in identities])


def euclidean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d2 = (a64 * a64).sum(1)[:, None] - 2 * a64 @ b64.T + (b64 * b64).sum(1)[None, :]
    return np.sqrt(np.maximum(d2, 0.0))


def cosine_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return 1.0 - np.asarray(a, np.float64) @ np.asarray(b, np.float64).T


def _impostor_stats(matrix: np.ndarray, identities: np.ndarray) -> tuple[float, float]:
    upper = np.triu_indices(len(identities), 1)
    values = matrix[upper][identities[upper[0]] != identities[upper[1]]]
    return float(values.mean()), float(values.std() or 1.0)


def method_matrix(method: str, data: Labelled, subset: np.ndarray, cohort: np.ndarray) -> np.ndarray:
    """Distances between the faces of ``subset`` (a mask) by ``method``; ``cohort`` masks the cohort faces
    (and the faces whose impostor statistics z-score the fusion)."""
    ids = data.identities[subset]
    if method == "dlib":
        return euclidean(data.dlib[subset], data.dlib[subset])
    reid = cosine_distance(data.reid[subset], data.reid[subset])
    if method == "reid":
        return reid
    if method == "fusion":
        cohort_ids = data.identities[cohort]
        stats_d = _impostor_stats(euclidean(data.dlib[cohort], data.dlib[cohort]), cohort_ids)
        stats_r = _impostor_stats(cosine_distance(data.reid[cohort], data.reid[cohort]), cohort_ids)
        dlib = euclidean(data.dlib[subset], data.dlib[subset])
        return (dlib - stats_d[0]) / stats_d[1] + (reid - stats_r[0]) / stats_r[1]
    if method in ("cohort", "cohort_template"):
        scale = cohort_scale(data.reid[subset], data.reid[cohort])
        del ids
        if method == "cohort":
            return reid / np.sqrt(np.outer(scale, scale))
        if int(cohort.sum()) < COHORT_MIN:
            scale = np.full(len(scale), DEFAULT_SCALE)  # as the product does with too small a cohort
        # [probe, template]: the template's own threshold (set at enrolment) scales the distance.
        return reid / scale[None, :]
    if method in ("cohort_shift", "cohort_shift_sym"):
        small = int(cohort.sum()) < COHORT_MIN  # as the product does with too small a cohort
        shift = (
            np.full(int(subset.sum()), DEFAULT_SHIFT)
            if small
            else cohort_shift(data.reid[subset], data.reid[cohort])
        )
        if method == "cohort_shift":
            # [probe, template]: the template's shift, fixed at enrolment.
            return reid + shift[None, :]
        return reid + 0.5 * (shift[None, :] + shift[:, None])
    raise ValueError(f"unknown method {method!r} (known: {', '.join(METHODS)})")


@dataclass(frozen=True, slots=True)
class PairSets:
    genuine: np.ndarray  # distances
    impostor: np.ndarray
    genuine_groups: np.ndarray  # group of each genuine pair
    impostor_groups: np.ndarray  # group of a same-group impostor pair, "" for a cross-group one


def pair_sets(matrix: np.ndarray, identities: np.ndarray, groups: np.ndarray) -> PairSets:
    """Unordered pairs; for an asymmetric matrix ([probe, template]) a pair matches when either photo
    serving as the template matches (the smaller score: conservative for FMR)."""
    i, j = np.triu_indices(len(identities), 1)
    same = identities[i] == identities[j]
    same_group = groups[i] == groups[j]
    values = np.minimum(matrix[i, j], matrix[j, i])
    impostor_groups = np.where(same_group[~same], groups[i][~same], "")
    return PairSets(values[same], values[~same], groups[i][same], impostor_groups)


def gallery_genuine(
    matrix: np.ndarray, identities: np.ndarray, groups: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each photo against all of its identity's other photos as the template (min): the kiosk's comparison."""
    scores, owners = [], []
    for index, identity in enumerate(identities):
        others = (identities == identity) & (np.arange(len(identities)) != index)
        if others.any():
            scores.append(float(matrix[index, others].min()))
            owners.append(groups[index])
    return np.asarray(scores), np.asarray(owners)


def upper_95(errors: int, trials: int) -> float:
    from bench.accuracy import fmr_upper_bound

    return fmr_upper_bound(false_matches=errors, comparisons=trials)


def rate(values: np.ndarray, threshold: float, *, genuine: bool) -> dict[str, float | int]:
    errors = int(np.count_nonzero(values > threshold if genuine else values <= threshold))
    key = "fnmr" if genuine else "fmr"
    n = int(values.size)
    return {
        key: round(errors / n, 6) if n else 0.0,
        "n": n,
        "errors": errors,
        "upper_95": round(upper_95(errors, n), 6),
    }


def threshold_at_fmr(impostor: np.ndarray, target: float) -> float:
    """The largest threshold whose FMR does not exceed ``target`` (just below the k-th closest impostor)."""
    if impostor.size == 0:
        return float("inf")
    ordered = np.sort(impostor)
    allowed = int(np.floor(target * impostor.size))
    if allowed >= ordered.size:
        return float(ordered[-1])
    return float(np.nextafter(ordered[allowed], -np.inf))


def threshold_for_groups(sets: PairSets, target: float) -> float:
    """The largest threshold at which every group's same-group FMR is at most ``target``."""
    thresholds = [
        threshold_at_fmr(sets.impostor[sets.impostor_groups == group], target)
        for group in np.unique(sets.impostor_groups)
        if group
    ]
    return min([*thresholds, threshold_at_fmr(sets.impostor, target)])


def eer(genuine: np.ndarray, impostor: np.ndarray) -> float:
    from bench.accuracy import Scores, equal_error_rate

    return round(equal_error_rate(Scores(genuine=genuine, impostor=impostor))[0], 6)


def _group_figures(
    sets: PairSets,
    gallery: tuple[np.ndarray, np.ndarray],
    group: str,
    threshold: float,
    points: dict[str, float],
) -> dict[str, Any]:
    genuine = sets.genuine[sets.genuine_groups == group]
    same = sets.impostor[sets.impostor_groups == group]
    return {
        "genuine_pairs": int(genuine.size),
        "same_group": {
            "fmr": rate(same, threshold, genuine=False)["fmr"],
            "fnmr": rate(genuine, threshold, genuine=True)["fnmr"],
            "impostor_pairs": int(same.size),
            "fmr_upper_95": rate(same, threshold, genuine=False)["upper_95"],
            "false_matches": rate(same, threshold, genuine=False)["errors"],
            "eer": eer(genuine, same),
        },
        "gallery_fnmr": rate(gallery[0][gallery[1] == group], threshold, genuine=True)["fnmr"],
        "targets": {
            name: {
                "threshold": round(value, 6),
                "fmr": rate(same, value, genuine=False)["fmr"],
                "fnmr": rate(genuine, value, genuine=True)["fnmr"],
            }
            for name, value in points.items()
        },
    }


def report(
    matrix: np.ndarray, identities: np.ndarray, groups: np.ndarray, threshold: float
) -> dict[str, Any]:
    """Every figure of one method on one set of people at ``threshold`` (and at the FMR targets)."""
    sets = pair_sets(matrix, identities, groups)
    gallery = gallery_genuine(matrix, identities, groups)
    points = {
        f"{target:.0e}".replace("e-0", "e-"): threshold_at_fmr(sets.impostor, target) for target in TARGETS
    }
    overall = rate(sets.impostor, threshold, genuine=False)
    genuine = rate(sets.genuine, threshold, genuine=True)
    group_names = sorted(set(groups.tolist()))
    per_group = {group: _group_figures(sets, gallery, group, threshold, points) for group in group_names}
    group_fmrs = [float(figures["same_group"]["fmr"]) for figures in per_group.values()]
    return {
        "threshold": round(threshold, 6),
        "pairs": {
            "genuine": genuine["n"],
            "impostor": overall["n"],
            "fnmr": genuine["fnmr"],
            "fnmr_upper_95": genuine["upper_95"],
            "fmr": overall["fmr"],
            "fmr_upper_95": overall["upper_95"],
            "eer": eer(sets.genuine, sets.impostor),
            "targets": {
                name: {
                    "threshold": round(value, 6),
                    "fmr": rate(sets.impostor, value, genuine=False)["fmr"],
                    "fnmr": rate(sets.genuine, value, genuine=True)["fnmr"],
                }
                for name, value in points.items()
            },
        },
        "gallery": {
            "genuine": int(gallery[0].size),
            "fnmr": rate(gallery[0], threshold, genuine=True)["fnmr"],
        },
        "scores": score_bands(sets, gallery[0], threshold),
        "groups": per_group,
        "max_group_fmr": max(group_fmrs, default=0.0),
        "max_group_fmr_over_overall": round(max(group_fmrs, default=0.0) / overall["fmr"], 3)
        if overall["fmr"]
        else None,
    }


GREY_ZONES = (0.05, 0.1, 0.15, 0.2)
GENUINE_QUANTILES = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)


def score_bands(sets: PairSets, gallery: np.ndarray, threshold: float) -> dict[str, Any]:
    """Scores as a fraction of ``threshold`` (1.0 = the threshold): the quantiles of the genuine scores with
    all enrolment photos as the template (the kiosk's comparison; they calibrate the shown percentage), and
    for each grey zone g the share of genuine gallery scores and of impostor pairs in (1 - g, 1] (a session
    there is stepped up rather than verified by the face)."""
    genuine = np.asarray(gallery, np.float64) / threshold
    impostor = np.asarray(sets.impostor, np.float64) / threshold
    if genuine.size == 0:
        return {}
    return {
        "gallery_genuine_quantiles": {
            f"{q:g}": round(float(np.quantile(genuine, q)), 4) for q in GENUINE_QUANTILES
        },
        "impostor_closest": [round(float(v), 4) for v in np.sort(impostor)[:3]],
        "grey_zone": {
            f"{g:g}": {
                "genuine_share": round(float(np.mean((genuine > 1 - g) & (genuine <= 1))), 4),
                "impostor_in_zone": int(np.count_nonzero((impostor > 1 - g) & (impostor <= 1))),
                "impostor_accepted_below": int(np.count_nonzero(impostor <= 1 - g)),
            }
            for g in GREY_ZONES
        },
    }


def evaluate(
    data: Labelled,
    method: str,
    *,
    target: float,
    shipped: float | None,
    all_people: bool = False,
    swap_halves: bool = False,
) -> dict[str, Any]:
    """``method`` calibrated on one half of the people (threshold for ``target`` same-group FMR) and
    reported on the other; ``shipped`` (when given) is the product's threshold, reported too.

    ``all_people`` reports on everybody (a small set judged at the shipped point, where a split would halve
    the impostor pairs); only for sets under COHORT_MIN faces, whose templates get the default scale or
    shift, so no impostor's photo is in anybody's cohort. ``swap_halves`` tunes on the reporting half and
    reports on the calibration half (a check that a method's point holds whichever people it was set on)."""
    if all_people and len(data.identities) >= COHORT_MIN:
        raise ValueError(f"all_people is for sets under {COHORT_MIN} faces (no cohort to leak)")
    report_half = (
        np.ones(len(data.identities), bool)
        if all_people
        else split_people(data.identities.tolist(), data.groups.tolist())
    )
    if swap_halves and not all_people:
        report_half = ~report_half
    calibration = ~report_half
    if not calibration.any():
        calibration = report_half
    calib_matrix = method_matrix(method, data, calibration, report_half)
    calib_sets = pair_sets(calib_matrix, data.identities[calibration], data.groups[calibration])
    tuned = threshold_for_groups(calib_sets, target)
    matrix = method_matrix(method, data, report_half, calibration)
    result = report(
        matrix,
        data.identities[report_half],
        data.groups[report_half],
        shipped if shipped is not None else tuned,
    )
    result["method"] = method
    result["tuned_threshold"] = round(tuned, 6)
    result["target_same_group_fmr"] = target
    result["people"] = {
        "report": len(set(data.identities[report_half])),
        "calibration": len(set(data.identities[calibration])),
    }
    result["cohort_quantile"] = COHORT_QUANTILE
    result["cohort_top_share"] = COHORT_TOP_SHARE
    result["all_people"] = all_people
    result["swap_halves"] = swap_halves
    return result
