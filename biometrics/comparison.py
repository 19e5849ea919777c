"""How two faces are compared: the second model's distance shifted per template against a cohort.

Pure numpy: the embeddings come from ``engine.encode_face_reid``. A template's *cohort shift* is the mean
cosine similarity of its closest ``COHORT_TOP_SHARE`` of a cohort of other people's faces (label-free), fixed
at enrolment; a comparison's score is ``(1 - cosine) + shift`` (``normalised_scores``, the one function the
kiosk 1:1, the 1:N matcher tier and the enrolment duplicate check use), so a face with close look-alikes in
the world (a large shift) must come closer to match. The threshold on that score comes from the target
same-group FMR (``FACE_TARGET_FMR``) through ``normalised_threshold``, whose table ``benchmark_accuracy
--method cohort_shift`` measures on held-out people (docs/face-comparison.md).

Why additive and template-side only (measured on faces-diverse, docs/face-comparison.md): dividing by the
template's 1 % cohort quantile (the first product score, ``cohort_template`` in the benchmark) set on one half
of the people let East Asian look-alikes through on the other half when the halves were swapped (5.2e-3);
the shift holds both ways round and misses fewer genuine pairs. Shifting by the probe's cohort too (AS-norm
style, ``cohort_shift_sym``) gained little more and would need the cohort in every kiosk and matcher process;
a mirrored second inference (test-time flip) did not help on the NUAA webcam faces.
"""

from __future__ import annotations

import numpy as np

COHORT_TOP_SHARE = 0.025  # the closest 2.5 % of the cohort: 10 of 420 calibration faces, 50 of 2,000
COHORT_MIN = 100


def cohort_shift(faces: np.ndarray, cohort: np.ndarray, *, share: float = COHORT_TOP_SHARE) -> np.ndarray:
    """(N,) each face's mean cosine similarity to its closest ``share`` of the cohort's faces (unit vectors;
    at least one face)."""
    faces = np.atleast_2d(np.asarray(faces, np.float64))
    cohort = np.atleast_2d(np.asarray(cohort, np.float64))
    if cohort.shape[0] == 0:
        raise ValueError("an empty cohort cannot shift a face")
    top = max(1, round(share * cohort.shape[0]))
    similarities = faces @ cohort.T
    closest = -np.partition(-similarities, top - 1, axis=1)[:, :top]
    return closest.mean(axis=1)


def template_shift(face: np.ndarray, cohort: np.ndarray) -> float:
    """The per-template shift fixed at enrolment, or ``DEFAULT_SHIFT`` when the cohort has fewer than
    ``COHORT_MIN`` faces."""
    if len(cohort) < COHORT_MIN:
        return DEFAULT_SHIFT
    return float(cohort_shift(face, cohort)[0])


def normalised_scores(templates: np.ndarray, shifts: np.ndarray, probe: np.ndarray) -> np.ndarray:
    """``(1 - cosine) + shift`` of ``probe`` against each template (smaller is closer)."""
    templates = np.atleast_2d(np.asarray(templates, np.float64))
    distances = 1.0 - templates @ np.asarray(probe, np.float64).reshape(-1)
    return distances + np.asarray(shifts, np.float64).reshape(-1)


# Score threshold per target same-group FMR: `benchmark_accuracy --faces ../shared/faces-diverse --method
# cohort_shift --target-fmr T` prints the calibration half's tuned threshold ("tuned for ... on 66 people")
# for target T: the largest at which every group's same-group FMR on those people is at most T.
# Between two rows the threshold is interpolated on log10(FMR); outside the table the nearest row is used.
CALIBRATION: tuple[tuple[float, float], ...] = (
    (1e-4, 0.6872),
    (1e-3, 0.7061),
    (1.5e-3, 0.7268),
    (1e-2, 0.8000),
)
# A template's shift when the cohort is too small (under COHORT_MIN faces: a new bank, the demo). Chosen so
# that such templates keep the raw operating point the first product score gave them (1 - cosine <= 0.4330 =
# 0.5665 x its default scale 0.7644), measured on NUAA's webcam faces (FMR 1 of 1,627 at 4.4 % FNMR) and
# ../shared/faces: 0.7061 (the 1e-3 threshold) - 0.4330. It lies between the calibration people's median
# shift (0.240) and their 75th percentile (0.282), so a face without a cohort is treated as one with more
# look-alikes than most.
DEFAULT_SHIFT = 0.2731


def normalised_threshold(target_fmr: float) -> float:
    """The score threshold that gave ``target_fmr`` same-group FMR on the calibration people."""
    if not 0.0 < target_fmr < 1.0:
        raise ValueError("target FMR must be between 0 and 1")
    fmrs = np.log10([row[0] for row in CALIBRATION])
    values = [row[1] for row in CALIBRATION]
    return float(np.interp(np.log10(target_fmr), fmrs, values))


# The shown match percentage, calibrated on genuine comparisons: quantiles of the genuine scores (as a
# fraction of the threshold) with all of an identity's enrolment photos as the template, measured on the
# held-out half of faces-diverse by `benchmark_accuracy --faces ../shared/faces-diverse --json`
# ("scores.gallery_genuine_quantiles", 417 genuine comparisons, the cohort-shift score at FACE_TARGET_FMR
# 1e-3). A score reads as the share of those genuine comparisons that scored no better: the median genuine
# customer reads 50 %, a clearer match more. The shift keeps every score above about a third of the
# threshold (a perfect match scores its template's shift), so the table starts near 0.49, not 0.
GENUINE_QUANTILES: tuple[tuple[float, float], ...] = (
    (0.0, 0.0),
    (0.05, 0.4942),
    (0.1, 0.5288),
    (0.25, 0.6242),
    (0.5, 0.7073),
    (0.75, 0.7948),
    (0.9, 0.8718),
    (0.95, 0.96),
)


def genuine_percent(ratio: float) -> int:
    """The share (0-100) of measured genuine comparisons whose score was at least ``ratio`` (the score as a
    fraction of the threshold): 100 for a perfect match, 50 for the median genuine one, 5 at the 95th
    percentile; linear between the table's points, 0 beyond its last."""
    shares = [row[0] for row in GENUINE_QUANTILES]
    ratios = [row[1] for row in GENUINE_QUANTILES]
    below = float(np.interp(max(0.0, ratio), ratios, shares, right=1.0))
    return round(100.0 * (1.0 - below))
