"""Accuracy benchmark on a folder of labelled face photos (pure functions, no Django).

Every photo is encoded through the product's enrolment path (``decode_image`` ->
``detect_faces(purpose="enrol")`` -> ``encode_face``), so the figures describe what the kiosk will
compare against, not an idealised pipeline. A comparison *matches* when ``distance <= threshold``.

Two protocols:

* pairs: every unordered pair of encoded photos; same identity -> genuine score, else impostor.
* gallery (leave-one-out 1:N): each photo is a probe against every identity's *other* photos and
  the identity's score is the minimum distance (what a per-customer template set gives). Its own
  identity -> genuine score (skipped when the identity has no other photo), others -> impostor.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

BENCHMARK_KINDS = frozenset({"portrait", "aligned_crop_150px"})


@dataclass(frozen=True, slots=True)
class ManifestRow:
    path: Path  # absolute
    identity: str
    kind: str


@dataclass(slots=True)
class EncodedSet:
    """Encodings of the photos that produced a face; ``failed`` lists the photos that did not."""

    encodings: np.ndarray  # (N, 128) float32
    identities: list[str]
    paths: list[Path]
    failed: list[tuple[Path, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Scores:
    genuine: np.ndarray  # float64 distances
    impostor: np.ndarray


def load_manifest(faces_dir: Path, *, kinds: Iterable[str] = BENCHMARK_KINDS) -> list[ManifestRow]:
    """Rows of ``faces_dir/MANIFEST.csv`` with an identity and one of ``kinds``, in file order."""
    wanted = frozenset(kinds)
    rows: list[ManifestRow] = []
    with (faces_dir / "MANIFEST.csv").open(newline="", encoding="utf-8") as handle:
        for record in csv.DictReader(handle):
            identity = (record.get("identity") or "").strip()
            kind = (record.get("kind") or "").strip()
            if not identity or kind not in wanted:
                continue
            rows.append(ManifestRow(path=faces_dir / record["path"].strip(), identity=identity, kind=kind))
    return rows


def encode_photo(data: bytes) -> np.ndarray:
    """Encode the largest face of one photo exactly as enrolment does; raises ValueError if none."""
    from biometrics import engine  # imported here so the scoring functions work without dlib

    image = engine.decode_image(data)
    faces = engine.detect_faces(image, purpose="enrol")
    if not faces:
        raise ValueError("no face found")
    return engine.encode_face(image, faces[0])


def encode_manifest(
    rows: Sequence[ManifestRow], *, encoder: Callable[[bytes], np.ndarray] = encode_photo
) -> EncodedSet:
    encodings: list[np.ndarray] = []
    identities: list[str] = []
    paths: list[Path] = []
    failed: list[tuple[Path, str]] = []
    for row in rows:
        try:
            encoding = encoder(row.path.read_bytes())
        except (OSError, ValueError) as exc:  # ImageRejected is a ValueError
            failed.append((row.path, str(exc)))
            continue
        encodings.append(np.asarray(encoding, dtype=np.float32))
        identities.append(row.identity)
        paths.append(row.path)
    matrix = np.vstack(encodings) if encodings else np.empty((0, 128), dtype=np.float32)
    return EncodedSet(encodings=matrix, identities=identities, paths=paths, failed=failed)


def distance_matrix(encodings: np.ndarray) -> np.ndarray:
    """All pairwise euclidean distances (float64 for exact benchmark figures)."""
    matrix = np.asarray(encodings, dtype=np.float64)
    squared = np.einsum("ij,ij->i", matrix, matrix)
    d2 = squared[:, None] - 2.0 * matrix @ matrix.T + squared[None, :]
    np.fill_diagonal(d2, 0.0)
    return np.sqrt(np.maximum(d2, 0.0))


def pair_scores(encodings: np.ndarray, identities: Sequence[str]) -> Scores:
    labels = np.asarray(identities)
    dist = distance_matrix(encodings)
    upper_i, upper_j = np.triu_indices(len(labels), k=1)
    same = labels[upper_i] == labels[upper_j]
    values = dist[upper_i, upper_j]
    return Scores(genuine=values[same], impostor=values[~same])


def gallery_scores(encodings: np.ndarray, identities: Sequence[str]) -> Scores:
    """Leave-one-out: each probe vs the minimum distance to every identity's other photos."""
    labels = np.asarray(identities)
    dist = distance_matrix(encodings)
    np.fill_diagonal(dist, np.inf)  # a probe never matches its own photo
    genuine: list[float] = []
    impostor: list[float] = []
    for identity in dict.fromkeys(labels.tolist()):
        members = labels == identity
        per_probe = dist[:, members].min(axis=1)  # (N,) min distance to this identity
        for probe, score in enumerate(per_probe):
            if not np.isfinite(score):
                continue  # the probe is this identity's only photo: nothing left to match
            (genuine if members[probe] else impostor).append(float(score))
    return Scores(genuine=np.asarray(genuine), impostor=np.asarray(impostor))


def error_rates(scores: Scores, threshold: float) -> tuple[float, float]:
    """(FNMR, FMR) at ``threshold``; a comparison matches when distance <= threshold."""
    fnmr = float(np.mean(scores.genuine > threshold)) if scores.genuine.size else 0.0
    fmr = float(np.mean(scores.impostor <= threshold)) if scores.impostor.size else 0.0
    return fnmr, fmr


def roc_points(scores: Scores) -> list[tuple[float, float, float]]:
    """(threshold, FMR, FNMR) at every distinct score, ascending threshold; starts at (0, 0, 1)-ish."""
    thresholds = np.unique(np.concatenate([scores.genuine, scores.impostor, [0.0]]))
    genuine = np.sort(scores.genuine)
    impostor = np.sort(scores.impostor)
    matched_genuine = np.searchsorted(genuine, thresholds, side="right")
    matched_impostor = np.searchsorted(impostor, thresholds, side="right")
    fnmr = 1.0 - matched_genuine / max(genuine.size, 1)
    fmr = matched_impostor / max(impostor.size, 1)
    return [(float(t), float(a), float(b)) for t, a, b in zip(thresholds, fmr, fnmr, strict=True)]


def equal_error_rate(scores: Scores) -> tuple[float, float]:
    """(EER, threshold): where FMR and FNMR cross; 0.0 when the two score sets are separated.

    Over the step curves the crossing is the threshold minimising max(FMR, FNMR); that maximum is
    the EER (the conservative reading of a discrete curve).
    """
    if not scores.genuine.size or not scores.impostor.size:
        return 0.0, float("nan")
    points = roc_points(scores)
    best = min(points, key=lambda point: (max(point[1], point[2]), point[0]))
    threshold, fmr, fnmr = best
    if max(fmr, fnmr) == 0.0:
        # Separated: report the midpoint of the gap as the threshold, not the edge.
        gap_low = float(np.max(scores.genuine))
        gap_high = float(np.min(scores.impostor))
        return 0.0, (gap_low + gap_high) / 2
    return max(fmr, fnmr), threshold


def summary(rows: Sequence[ManifestRow], encoded: EncodedSet, *, threshold: float) -> dict[str, object]:
    """The benchmark's JSON object for ``rows`` (the selected photos) and their encodings."""
    pairs = pair_scores(encoded.encodings, encoded.identities)
    gallery = gallery_scores(encoded.encodings, encoded.identities)
    pair_fnmr, pair_fmr = error_rates(pairs, threshold)
    gallery_fnmr, gallery_fmr = error_rates(gallery, threshold)
    eer, _ = equal_error_rate(pairs)
    return {
        "identities": len({row.identity for row in rows}),
        "images": len(rows),
        "encoded": len(encoded.identities),
        "threshold": threshold,
        "pairs": {
            "genuine": int(pairs.genuine.size),
            "impostor": int(pairs.impostor.size),
            "fnmr": round(pair_fnmr, 6),
            "fmr": round(pair_fmr, 6),
            "eer": round(eer, 6),
        },
        "gallery": {
            "genuine": int(gallery.genuine.size),
            "impostor": int(gallery.impostor.size),
            "fnmr": round(gallery_fnmr, 6),
            "fmr": round(gallery_fmr, 6),
        },
        # Per identity (min over its templates) is what a 1:N or 1:few search compares.
        "false_identification": false_identification(
            fmr=gallery_fmr,
            false_matches=int(np.count_nonzero(gallery.impostor <= threshold)),
            comparisons=int(gallery.impostor.size),
        ),
    }


FACE_ONLY_GALLERY_SIZES = (10**3, 10**4, 10**5, 10**6, 10**7)
PHONE_CANDIDATES = (1, 2, 3, 4, 5)


def fmr_upper_bound(*, false_matches: int, comparisons: int) -> float:
    """A 95 % upper bound on the per-comparison FMR: the rule of three (3/n) when no false match was seen,
    otherwise the Wilson score upper limit."""
    if comparisons <= 0:
        return 1.0
    if false_matches == 0:
        return min(1.0, 3.0 / comparisons)
    z, n, p = 1.96, comparisons, false_matches / comparisons
    centre = p + z * z / (2 * n)
    spread = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return float(min(1.0, (centre + spread) / (1 + z * z / n)))


def false_identification_rate(*, fmr: float, comparisons: int) -> float:
    """Chance that an impostor matches at least one of `comparisons` independent identities: 1-(1-FMR)^n
    (about n x FMR while that is small)."""
    return float(-np.expm1(comparisons * np.log1p(-min(fmr, 1.0 - 1e-16))))


def false_identification(*, fmr: float, false_matches: int, comparisons: int) -> dict[str, object]:
    """Expected false identification for face-only 1:N against the phone-narrowed 1:few search, from the
    measured per-identity FMR and its upper bound (the impostor compared with N, or with the k customers
    who share the typed phone number)."""
    upper = fmr_upper_bound(false_matches=false_matches, comparisons=comparisons)

    def row(n: int) -> dict[str, float | int]:
        return {
            "n": n,
            "measured": round(false_identification_rate(fmr=fmr, comparisons=n), 8),
            "upper": round(false_identification_rate(fmr=upper, comparisons=n), 8),
            # A far better matcher (FMR 1e-4) than our photo sets can show, for scale.
            "at_fmr_1e-4": round(false_identification_rate(fmr=1e-4, comparisons=n), 8),
        }

    return {
        "fmr": fmr,
        "fmr_upper_95": round(upper, 8),
        "impostor_comparisons": comparisons,
        "face_only": [row(n) for n in FACE_ONLY_GALLERY_SIZES],
        "phone_narrowed": [row(k) for k in PHONE_CANDIDATES],
    }


@dataclass(frozen=True, slots=True)
class _RocLayout:
    """Pixel positions of the two panels of ``roc_png``: the ROC (left) and the rates by threshold (right)."""

    log_min: float  # the smallest FMR shown, as a power of ten: one impostor match is the finest step
    panel_w: int = 520
    height: int = 460
    left: int = 60
    top: int = 30
    x_max: float = 1.2  # the largest threshold on the right panel

    @property
    def plot_w(self) -> int:
        return self.panel_w - 80

    @property
    def plot_h(self) -> int:
        return self.height - 110

    def roc_xy(self, fmr: float, accept: float) -> tuple[float, float]:
        x = self.left + (np.log10(max(fmr, 10**self.log_min)) - self.log_min) / -self.log_min * self.plot_w
        return float(x), self.top + (1.0 - accept) * self.plot_h

    def rate_xy(self, distance: float, rate: float) -> tuple[float, float]:
        x = self.panel_w + self.left + min(distance, self.x_max) / self.x_max * self.plot_w
        return x, self.top + (1.0 - rate) * self.plot_h


def roc_png(curves: dict[str, Scores], *, threshold: float) -> bytes:
    """PNG (Pillow, no matplotlib): left the ROC (log FMR vs 1-FNMR), right FNMR and FMR against the
    threshold, which shows the gap between the score sets when the ROC is a perfect corner."""
    fewest = min((scores.impostor.size for scores in curves.values() if scores.impostor.size), default=10)
    layout = _RocLayout(log_min=float(np.floor(np.log10(1.0 / max(fewest, 10)))))
    canvas = Image.new("RGB", (2 * layout.panel_w, layout.height), "white")
    draw = ImageDraw.Draw(canvas)
    _roc_axes(draw, layout, threshold)
    colours = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189)]
    for index, (name, scores) in enumerate(curves.items()):
        colour = colours[index % len(colours)]
        _roc_curve(draw, layout, scores, colour, threshold)
        fnmr, fmr = error_rates(scores, threshold)
        eer, _ = equal_error_rate(scores)
        label = (
            f"{name}: {scores.genuine.size} genuine / {scores.impostor.size} impostor; at {threshold:.2f} "
            f"FNMR {fnmr:.4f} FMR {fmr:.4f}; EER {eer:.4f}; "
            f"genuine max {np.max(scores.genuine, initial=0):.3f}, "
            f"impostor min {np.min(scores.impostor, initial=2):.3f}"
        )
        draw.text((layout.left, layout.height - 50 + 16 * index), label, fill=colour)
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return buffer.getvalue()


def _roc_axes(draw: ImageDraw.ImageDraw, layout: _RocLayout, threshold: float) -> None:
    """Both panels' frames, grid lines, tick labels and titles, and the threshold line on the right."""
    left, top, plot_w, plot_h = layout.left, layout.top, layout.plot_w, layout.plot_h
    grid = (225, 225, 225)
    for origin in (left, layout.panel_w + left):
        draw.rectangle([origin, top, origin + plot_w, top + plot_h], outline="black")
        for tenth in range(0, 11, 2):
            y = top + (1.0 - tenth / 10) * plot_h
            draw.line([origin, y, origin + plot_w, y], fill=grid)
            draw.text((origin - 28, y - 6), f"{tenth / 10:.1f}", fill="black")
    for exponent in range(int(layout.log_min), 1):
        x, _ = layout.roc_xy(10.0**exponent, 0.0)
        draw.line([x, top, x, top + plot_h], fill=grid)
        draw.text((x - 12, top + plot_h + 6), f"1e{exponent}", fill="black")
    for step in range(0, 13, 2):
        x, _ = layout.rate_xy(step / 10, 0.0)
        draw.line([x, top, x, top + plot_h], fill=grid)
        draw.text((x - 8, top + plot_h + 6), f"{step / 10:.1f}", fill="black")
    draw.text((left, 8), "ROC: 1 - FNMR against FMR (log)", fill="black")
    draw.text((layout.panel_w + left, 8), "FNMR (solid) and FMR (dashed) against the threshold", fill="black")
    threshold_x, _ = layout.rate_xy(threshold, 0.0)
    draw.line([threshold_x, top, threshold_x, top + plot_h], fill="black", width=1)


def _roc_curve(
    draw: ImageDraw.ImageDraw,
    layout: _RocLayout,
    scores: Scores,
    colour: tuple[int, int, int],
    threshold: float,
) -> None:
    """One score set: its ROC with the operating point circled, and its FNMR (solid) and FMR (dashed)."""
    points = roc_points(scores)
    roc = [layout.roc_xy(fmr, 1.0 - fnmr) for _, fmr, fnmr in points]
    if len(roc) >= 2:
        draw.line(roc, fill=colour, width=2)
    fnmr_line = [layout.rate_xy(t, fnmr) for t, _, fnmr in points if t <= layout.x_max]
    fmr_line = [layout.rate_xy(t, fmr) for t, fmr, _ in points if t <= layout.x_max]
    if len(fnmr_line) >= 2:
        draw.line(fnmr_line, fill=colour, width=2)
    for first, second in zip(fmr_line[::2], fmr_line[1::2], strict=False):
        draw.line([first, second], fill=colour, width=2)
    fnmr, fmr = error_rates(scores, threshold)
    marker_x, marker_y = layout.roc_xy(fmr, 1.0 - fnmr)
    draw.ellipse([marker_x - 5, marker_y - 5, marker_x + 5, marker_y + 5], outline=colour, width=2)
