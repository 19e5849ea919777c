"""What ``benchmark_liveness`` prints: the landmark-only report, the PAD report (both built from one result
dictionary, which ``--json`` prints as it is) and the PNG of the PAD score distributions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.liveness_pad import (
    HELD_OUT,
    MAX_BPCER,
    THRESHOLD_GRID,
    TUNING,
    PadRun,
    PadTally,
    Rule,
    Subset,
    threshold_choose,
)
from bench.liveness_sessions import Tally, Timer
from bench.liveness_video import PLANAR_WINDOW_SECONDS, BonaFide
from biometrics.liveness import LivenessConfig

Write = Callable[[str], None]
PhotoSpecies = ("print_flat", "print_bent_turned", "screen_still")


def landmark_result(attacks: dict[str, Tally], bona_fide: BonaFide, config: LivenessConfig) -> dict[str, Any]:
    turns = bona_fide.turns
    return {
        "time_limit_seconds": config.time_limit_seconds,
        "attacks": {
            name: {"sequences": tally.sessions, "apcer": round(tally.pass_rate, 4)}
            for name, tally in attacks.items()
        },
        "bona_fide": {
            "sequences": turns.sessions,
            "bpcer": round(1.0 - turns.pass_rate, 4) if turns.sessions else 0.0,
        },
    }


def landmark_report(write: Write, attacks: dict[str, Tally], config: LivenessConfig, photos: int) -> None:
    write(f"Liveness benchmark: attacks from {photos} photos; {config}")
    write("")
    write("ATTACKS (APCER = share of attack sessions that passed)")
    write(
        f"{'type':20s} {'sessions':>8s} {'passed':>6s} {'APCER':>7s} {'max yaw':>8s} {'max par':>8s}"
        "  verdicts"
    )
    for name, tally in attacks.items():
        verdicts = ", ".join(f"{reason} {count}" for reason, count in sorted(tally.reasons.items()))
        write(
            f"{name:20s} {tally.sessions:8d} {tally.passed:6d} {tally.pass_rate:7.2%} "
            f"{tally.max_yaw_change:8.1f} {tally.max_parallax:8.3f}  {verdicts}"
        )
        for label in tally.passed_by:
            write(f"    passed: {label}")
    write(
        "  (max yaw / max par: the largest yaw change towards the asked side, and parallax,"
        " any session reached)"
    )
    write("")


def bona_fide_report(
    write: Write, bona_fide: BonaFide, timer: Timer, config: LivenessConfig, seconds: float
) -> None:
    turns, wrong, blinks = bona_fide.turns, bona_fide.wrong_way, bona_fide.blink_asked
    write("BONA FIDE (the clip; BPCER = share of genuine turn sessions refused)")
    write(
        f"  turn sessions {turns.sessions}, refused {turns.sessions - turns.passed}:"
        f" BPCER {1 - turns.pass_rate:.2%}"
    )
    for line in bona_fide.refused:
        write(f"    refused: {line}")
    write(
        f"  the same sessions with the opposite turn asked: {wrong.passed}/{wrong.sessions} passed (want 0)"
    )
    write(
        "  blink asked on the clip's tracks (the clip has no blink):"
        f" {blinks.passed}/{blinks.sessions} passed"
        " (spurious blinks; blink BPCER cannot be measured on this clip)"
    )
    write(
        f"  planar-motion score of {PLANAR_WINDOW_SECONDS:.1f} s windows (3rd largest parallax),"
        " by head-yaw range:"
    )
    for low, high in ((0, 5), (5, 10), (10, 20), (20, 90)):
        scores = [score for yaw_range, score in bona_fide.planar_windows if low <= yaw_range < high]
        if scores:
            flat = sum(score < config.parallax_threshold for score in scores)
            write(
                f"    yaw range {low:2d}-{high:2d} deg: {len(scores):3d} windows,"
                f" median {float(np.median(scores)):.3f},"
                f" below {config.parallax_threshold} (look flat): {flat}"
            )
    if timer.samples:
        samples = np.array(timer.samples) * 1e6
        write("")
        write(
            f"liveness_update CPU time: {len(samples)} calls, mean {samples.mean():.0f} us, "
            f"median {np.median(samples):.0f} us, p99 {np.percentile(samples, 99):.0f} us"
        )
    write(f"total {seconds:.0f} s")


def _rules(tally: PadTally, threshold: float, subset: Subset | None = None) -> dict[str, float]:
    rates = tally.rates(threshold, subset)
    return {"sessions": tally.count(subset), **{rule.value: rate for rule, rate in rates.items()}}


def _bona_fide(tally: PadTally, threshold: float) -> dict[str, float]:
    rates, scores = tally.rates(threshold), tally.frame_scores
    return {
        "sessions": tally.count(),
        **{f"bpcer_{rule}": round(1 - rate, 4) for rule, rate in rates.items()},
        "frames": len(scores),
        "frame_min": round(min(scores), 3) if scores else float("nan"),
        "frame_p5": round(float(np.percentile(scores, 5)), 3) if scores else float("nan"),
        "frame_median": round(float(np.median(scores)), 3) if scores else float("nan"),
    }


def _costs(costs_ms: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    return {
        name: {
            "median": round(float(np.median(samples)), 2),
            "p95": round(float(np.percentile(samples, 95)), 2),
            "crops": len(samples),
        }
        for name, samples in costs_ms.items()
        if samples
    }


def _sweep(run: PadRun) -> dict[str, dict[str, float]]:
    """Fused APCER of each species and fused BPCER of the clip at every grid threshold."""
    sweep = {
        name: {f"{value:.2f}": tally.rates(value)[Rule.FUSED] for value in THRESHOLD_GRID}
        for name, tally in run.species.items()
    }
    for name, tally in (("BPCER clip", run.real), ("BPCER clip, page", run.page)):
        sweep[name] = {
            f"{value:.2f}": round(1 - tally.rates(value)[Rule.FUSED], 4) for value in THRESHOLD_GRID
        }
    return sweep


def pad_result(
    run: PadRun, *, threshold: float, models: Sequence[str], config: LivenessConfig
) -> dict[str, Any]:
    """Everything the PAD report shows. ``held_out`` is at the threshold chosen on the tuning photos."""
    chosen = threshold_choose(run.species, run.real)
    judged = chosen if chosen is not None else threshold
    photo_species = {name: tally for name, tally in run.species.items() if name in PhotoSpecies}
    return {
        "synthetic_attacks": True,
        "models": list(models),
        "time_limit_seconds": config.time_limit_seconds,
        "threshold": threshold,
        "photos": run.photos,
        "species": {
            name: {
                **_rules(tally, threshold),
                "frame_p50": round(float(np.median(tally.frame_scores or [np.nan])), 3),
            }
            for name, tally in run.species.items()
        },
        "bona_fide": {"clip": _bona_fide(run.real, threshold), "clip_page": _bona_fide(run.page, threshold)},
        "threshold_chosen": chosen,
        "tuning": {name: _rules(tally, judged, TUNING) for name, tally in photo_species.items()},
        "held_out": {
            **{name: _rules(tally, judged, HELD_OUT) for name, tally in photo_species.items()},
            "bpcer_fused_clip": round(1 - run.real.rates(judged)[Rule.FUSED], 4),
            "bpcer_fused_clip_page": round(1 - run.page.rates(judged)[Rule.FUSED], 4),
        },
        "sweep": _sweep(run),
        "cost_ms": _costs(run.costs_ms),
        "seconds": round(run.seconds, 1),
    }


def pad_report(write: Write, result: dict[str, Any]) -> None:
    """The PAD result as text; every attack figure is from SYNTHETIC renderings and the report says so."""
    write(
        f"PAD (texture) benchmark: models {', '.join(result['models'])};"
        f" challenge time limit {result['time_limit_seconds']} s"
    )
    write(
        "ATTACK SPECIES: all SYNTHETIC renderings (bench/liveness_texture.py),"
        " not recaptured prints or screens."
    )
    write(f"APCER at threshold {result['threshold']} over all photos (share of attack sessions that passed):")
    write(
        f"{'species':20s} {'sessions':>8s} {'PAD off':>8s} {'PAD alone':>9s} {'fused':>7s} {'frame p50':>9s}"
    )
    for name, row in result["species"].items():
        write(
            f"{name:20s} {row['sessions']:8d} {row['pad_off']:8.2%} {row['pad_alone']:9.2%}"
            f" {row['fused']:7.2%} {row['frame_p50']:9.3f}"
        )
    write("BONA FIDE: the real clip's turn sessions (BPCER = share refused)")
    for name, title in (
        ("clip", "as recorded"),
        ("clip_page", "through the kiosk page's camera path (YUV 4:2:0, JPEG 0.85)"),
    ):
        row = result["bona_fide"][name]
        write(
            f"  {title}: {row['sessions']} sessions, BPCER PAD off {row['bpcer_pad_off']:.2%}, PAD alone"
            f" {row['bpcer_pad_alone']:.2%}, fused {row['bpcer_fused']:.2%};"
            f" per-frame scores ({row['frames']}):"
            f" min {row['frame_min']:.3f}, p5 {row['frame_p5']:.3f}, median {row['frame_median']:.3f}"
        )
    _held_out_report(write, result)
    write("THRESHOLD SWEEP (fused APCER per species over all photos; fused BPCER on the clip)")
    write(f"{'':20s} " + " ".join(f"{value:>7s}" for value in next(iter(result["sweep"].values()))))
    for name, values in result["sweep"].items():
        write(f"{name:20s} " + " ".join(f"{value:7.2%}" for value in values.values()))
    write("COST per face crop (process time, one thread)")
    for name, row in result["cost_ms"].items():
        write(f"  {name}: median {row['median']:.1f} ms, p95 {row['p95']:.1f} ms ({row['crops']} crops)")
    write(f"rendering, detection and scoring {result['seconds']:.0f} s")


def _people(names: list[str]) -> str:
    return ", ".join(sorted({name.split("/")[0] for name in names})) or "nobody"


def _held_out_report(write: Write, result: dict[str, Any]) -> None:
    photos, chosen, held = result["photos"], result["threshold_chosen"], result["held_out"]
    write(
        "HELD-OUT SPLIT by identity (sorted identities alternately):"
        f" tuning {len(photos[TUNING])} photos of {_people(photos[TUNING])};"
        f" held out {len(photos[HELD_OUT])} photos of {_people(photos[HELD_OUT])}"
    )
    if chosen is None:
        write(
            f"  no grid threshold gave fused APCER 0 on the tuning photos with clip BPCER <= {MAX_BPCER:.0%};"
            f" held-out figures at {result['threshold']}"
        )
    else:
        write(
            f"  threshold chosen on the tuning photos and the clip: {chosen}"
            " (lowest grid value with fused APCER 0"
            f" on every species and clip BPCER <= {MAX_BPCER:.0%})"
        )
    for name in PhotoSpecies:
        tuning, row = result["tuning"][name], held[name]
        write(
            f"  {name:18s} tuning {tuning['sessions']:4d} sessions fused {tuning['fused']:6.2%};"
            f" held out {row['sessions']:4d} sessions: PAD off {row['pad_off']:6.2%},"
            f" PAD alone {row['pad_alone']:6.2%},"
            f" fused {row['fused']:6.2%}"
        )
    write(
        f"  clip (not held out: one clip): fused BPCER {held['bpcer_fused_clip']:.2%}, through the page"
        f" {held['bpcer_fused_clip_page']:.2%}"
    )


def pad_scores_plot(path: Path, series: dict[str, list[float]], threshold: float) -> None:
    """Histograms (Pillow, like the ROC plot) of per-frame PAD scores, one row per series."""
    from PIL import Image, ImageDraw

    bins, row_height, left, width = 20, 70, 170, 600
    image = Image.new("RGB", (left + width + 20, 30 + row_height * len(series)), "white")
    draw = ImageDraw.Draw(image)
    draw.text((left, 8), f"PAD score per frame (0 spoof .. 1 live); threshold {threshold}", fill="black")
    for row, (name, scores) in enumerate(series.items()):
        top = 30 + row * row_height
        counts, _ = np.histogram(scores, bins=bins, range=(0.0, 1.0))
        peak = max(int(counts.max()), 1)
        draw.text((5, top + row_height // 2 - 6), f"{name} ({len(scores)})", fill="black")
        for index, count in enumerate(counts.tolist()):
            x0 = left + index * width // bins
            bar = round((row_height - 12) * count / peak)
            draw.rectangle(
                [x0 + 1, top + row_height - 6 - bar, x0 + width // bins - 1, top + row_height - 6],
                fill="steelblue",
            )
        x = left + round(threshold * width)
        draw.line([x, top, x, top + row_height - 6], fill="red")
    image.save(path)


def pad_plot_series(run: PadRun) -> dict[str, list[float]]:
    series = {"real clip": run.real.frame_scores, "real clip, page": run.page.frame_scores}
    return series | {name: tally.frame_scores for name, tally in run.species.items()}
