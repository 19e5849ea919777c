"""How two faces are compared: the second model's distance normalised per template against a cohort.

Pure numpy: the embeddings come from ``engine.encode_face_reid``. A face's *cohort scale* is its own
``COHORT_QUANTILE`` distance to a cohort of other people's faces (label-free); a comparison's normalised score
is ``(1 - cosine) / scale_template`` (the product: a per-template threshold fixed at enrolment), so a face
with close look-alikes in the world (a small scale) must come closer to match. The benchmark also measures
the symmetric ``/ sqrt(scale_template * scale_probe)``. The threshold on that score comes from the target
same-group FMR (``FACE_TARGET_FMR``) through ``normalised_threshold``, whose table ``benchmark_accuracy
--method cohort_template`` measures on held-out people.
"""

from __future__ import annotations

import numpy as np

COHORT_QUANTILE = 0.01


def template_scale(face: np.ndarray, cohort: np.ndarray) -> float:
    """The per-template scale fixed at enrolment: its cohort quantile, or ``DEFAULT_SCALE`` when the cohort
    has fewer than ``COHORT_MIN`` faces."""
    if len(cohort) < COHORT_MIN:
        return DEFAULT_SCALE
    return float(cohort_scale(face, cohort)[0])


def normalised_scores(templates: np.ndarray, scales: np.ndarray, probe: np.ndarray) -> np.ndarray:
    """``(1 - cosine) / scale`` of ``probe`` against each template (smaller is closer)."""
    templates = np.atleast_2d(np.asarray(templates, np.float64))
    distances = 1.0 - templates @ np.asarray(probe, np.float64).reshape(-1)
    return distances / np.maximum(np.asarray(scales, np.float64).reshape(-1), 1e-6)


def cohort_scale(faces: np.ndarray, cohort: np.ndarray, *, quantile: float = COHORT_QUANTILE) -> np.ndarray:
    """(N,) the ``quantile`` of each face's ``1 - cosine`` distances to the cohort's faces (unit vectors)."""
    faces = np.atleast_2d(np.asarray(faces, np.float64))
    cohort = np.atleast_2d(np.asarray(cohort, np.float64))
    if cohort.shape[0] == 0:
        raise ValueError("an empty cohort cannot scale a face")
    distances = 1.0 - faces @ cohort.T
    return np.maximum(np.quantile(distances, quantile, axis=1), 1e-6)


# Normalised-score threshold per target same-group FMR, measured by `benchmark_accuracy --method cohort
# --faces ../shared/faces-diverse` on the calibration half of the people (README, "Accuracy per group").
# Between two rows the threshold is interpolated on log10(FMR); outside the table the nearest row is used.
# Figures of the per-template (``cohort_template``) score: `benchmark_accuracy --method cohort_template
# --target-fmr T` prints the calibration half's tuned threshold for target T.
CALIBRATION: tuple[tuple[float, float], ...] = (
    (1e-4, 0.5665),
    (1e-3, 0.5857),
    (1.5e-3, 0.5983),
    (1e-2, 0.7102),
)
# A face's scale when the cohort is too small to give a quantile (a new bank, the demo): the median scale
# of the calibration people against their cohort, i.e. the same threshold for every template.
COHORT_MIN = 100
DEFAULT_SCALE = 0.7644


def normalised_threshold(target_fmr: float) -> float:
    """The normalised-score threshold that gave ``target_fmr`` same-group FMR on the calibration people."""
    if not 0.0 < target_fmr < 1.0:
        raise ValueError("target FMR must be between 0 and 1")
    fmrs = np.log10([row[0] for row in CALIBRATION])
    values = [row[1] for row in CALIBRATION]
    return float(np.interp(np.log10(target_fmr), fmrs, values))


# The shown match percentage, calibrated on genuine comparisons: quantiles of the genuine scores (as a
# fraction of the threshold) with all of an identity's enrolment photos as the template, measured on the
# held-out half of faces-diverse by `benchmark_accuracy --faces ../shared/faces-diverse --json`
# ("scores.gallery_genuine_quantiles", 417 genuine comparisons). A score reads as the share of those genuine
# comparisons that scored no better: the median genuine customer reads 50 %, a clearer match more.
GENUINE_QUANTILES: tuple[tuple[float, float], ...] = (
    (0.0, 0.0),
    (0.05, 0.2571),
    (0.1, 0.3252),
    (0.25, 0.4484),
    (0.5, 0.6073),
    (0.75, 0.7223),
    (0.9, 0.8706),
    (0.95, 1.013),
)


def genuine_percent(ratio: float) -> int:
    """The share (0-100) of measured genuine comparisons whose score was at least ``ratio`` (the score as a
    fraction of the threshold): 100 for a perfect match, 50 for the median genuine one, 5 at the 95th
    percentile; linear between the table's points, 0 beyond its last."""
    shares = [row[0] for row in GENUINE_QUANTILES]
    ratios = [row[1] for row in GENUINE_QUANTILES]
    below = float(np.interp(max(0.0, ratio), ratios, shares, right=1.0))
    return round(100.0 * (1.0 - below))
