"""Text and DET plot (hand-written SVG, no matplotlib) of ``bench.groups`` results."""

from __future__ import annotations

from typing import Any

import numpy as np

_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f"]


def text_lines(result: dict[str, Any]) -> list[str]:
    pairs = result["pairs"]
    lines = [
        f"method {result['method']}: threshold {result['threshold']} (tuned for same-group FMR "
        f"{result['target_same_group_fmr']} on {result['people']['calibration']} people: "
        f"{result['tuned_threshold']}); reported on "
        + (
            f"the same {result['people']['report']} people"
            if result.get("all_people")
            else f"{result['people']['report']} other people"
        ),
        f"  pairs: {pairs['genuine']} genuine, {pairs['impostor']} impostor; "
        f"FNMR {pairs['fnmr']:.4f} (95 % up {pairs['fnmr_upper_95']:.4f})  "
        f"FMR {pairs['fmr']:.6f} (95 % up {pairs['fmr_upper_95']:.6f})  EER {pairs['eer']:.4f}",
        f"  all enrolment photos as the template: {result['gallery']['genuine']} genuine, "
        f"FNMR {result['gallery']['fnmr']:.4f}",
    ]
    for name, point in pairs["targets"].items():
        lines.append(
            f"  at pooled FMR {name}: threshold {point['threshold']}, "
            f"FMR {point['fmr']}, FNMR {point['fnmr']}"
        )
    ratio = result["max_group_fmr_over_overall"]
    lines.append(f"  largest same-group FMR {result['max_group_fmr']:.6f} = {ratio} x the pooled FMR")
    for group, figures in result["groups"].items():
        same = figures["same_group"]
        targets = "; ".join(
            f"at {name}: FMR {p['fmr']:.5f} FNMR {p['fnmr']:.3f}" for name, p in figures["targets"].items()
        )
        lines.append(
            f"    {group:<15} same-group FMR {same['fmr']:.6f} "
            f"({same['false_matches']}/{same['impostor_pairs']}, 95 % up {same['fmr_upper_95']:.6f})  "
            f"FNMR {same['fnmr']:.4f} ({figures['genuine_pairs']} genuine)  "
            f"gallery FNMR {figures['gallery_fnmr']:.4f}  EER {same['eer']:.4f}  [{targets}]"
        )
    return lines


def det_svg(curves: dict[str, tuple[np.ndarray, np.ndarray]], title: str) -> str:
    """DET: FNMR against FMR, both on log axes (1e-5 .. 1), one curve per (genuine, impostor) set."""
    width, height, margin = 640, 520, 60
    low = -5.0

    def xy(fmr: float, fnmr: float) -> tuple[float, float]:
        x = margin + (np.log10(max(fmr, 10**low)) - low) / -low * (width - 2 * margin)
        y = margin + (1 - (np.log10(max(fnmr, 10**low)) - low) / -low) * (height - 2 * margin)
        return float(x), float(y)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 20 * len(curves)}" '
        'font-family="sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{margin}" y="20">{_escape(title)}: FNMR (y) against FMR (x), log scales</text>',
    ]
    for exponent in range(int(low), 1):
        x, _ = xy(10.0**exponent, 1)
        _, y = xy(1, 10.0**exponent)
        parts.append(f'<line x1="{x:.1f}" y1="{margin}" x2="{x:.1f}" y2="{height - margin}" stroke="#ddd"/>')
        parts.append(f'<line x1="{margin}" y1="{y:.1f}" x2="{width - margin}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{x - 12:.1f}" y="{height - margin + 16}">1e{exponent}</text>')
        parts.append(f'<text x="{margin - 40}" y="{y + 4:.1f}">1e{exponent}</text>')
    for index, (name, (genuine, impostor)) in enumerate(curves.items()):
        colour = _COLOURS[index % len(_COLOURS)]
        points = " ".join(
            f"{x:.1f},{y:.1f}" for x, y in (xy(a, b) for a, b in _det_points(genuine, impostor))
        )
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts.append(
            f'<text x="{margin}" y="{height + 20 * index}" fill="{colour}">{_escape(name)}: '
            f"{genuine.size} genuine, {impostor.size} impostor pairs</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _det_points(genuine: np.ndarray, impostor: np.ndarray) -> list[tuple[float, float]]:
    if genuine.size == 0 or impostor.size == 0:
        return []
    thresholds = np.unique(np.concatenate([genuine, impostor]))
    fmr = np.searchsorted(np.sort(impostor), thresholds, side="right") / impostor.size
    fnmr = 1 - np.searchsorted(np.sort(genuine), thresholds, side="right") / genuine.size
    return list(zip(fmr.tolist(), fnmr.tolist(), strict=True))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
