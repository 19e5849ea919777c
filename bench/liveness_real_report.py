"""Figures and the printed report of ``benchmark_liveness --real`` (see ``bench.liveness_real``)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from bench.liveness_mouth import CLOSED_MOUTH, MOUTH_SESSION_SECONDS, OPEN_MOUTH, MouthRun, ratio_distribution
from bench.liveness_real import ASKED_TURN_DEGREES, STILL_FRAMES, YAW_BINS, KioskFrame, RealRun
from bench.liveness_sessions import Tally
from biometrics.liveness import LivenessConfig
from biometrics.liveness.tracking import angle_difference, placement

Write = Callable[[str], None]


def _rate(tally: Tally) -> float:
    return round(tally.pass_rate, 4)


def _distribution(scores: list[float], threshold: float) -> dict[str, float]:
    if not scores:
        return {"frames": 0}
    values = np.asarray(scores)
    return {
        "frames": len(scores),
        "min": round(float(values.min()), 4),
        "p10": round(float(np.percentile(values, 10)), 4),
        "median": round(float(np.median(values)), 4),
        "below_threshold": round(float((values < threshold).mean()), 4),
    }


def pad_by_yaw(frames: list[KioskFrame], threshold: float) -> dict[str, dict[str, float]]:
    """Per-frame PAD scores of one label's faces by |yaw| (the head-pose fit of the same landmarks)."""
    rows = {}
    for low, high in YAW_BINS:
        scores = [
            float(frame.pad)
            for frame in frames
            if frame.pad is not None and frame.yaw is not None and low <= abs(frame.yaw) < high
        ]
        rows[f"yaw_{low:.0f}_{high:.0f}"] = _distribution(scores, threshold)
    return rows


def frame_steps(run: RealRun, config: LivenessConfig) -> dict[str, float]:
    """How far real heads move between two kiosk frames (about 200 ms apart, four start phases): the track's
    per-frame limits (``is_jump``: roll step, yaw rate) must stay above what real heads do."""
    rolls: list[float] = []
    rates: list[float] = []
    for recording in run.recordings_live:
        for start in (0.0, 0.05, 0.1, 0.15):
            chosen = [frame for frame in recording.session(start) if frame.landmarks is not None]
            for before, after in itertools.pairwise(chosen):
                gap = after.t - before.t
                if gap > 0.3 or before.landmarks is None or after.landmarks is None:
                    continue
                roll_after, roll_before = placement(after.landmarks)[3], placement(before.landmarks)[3]
                rolls.append(abs(angle_difference(roll_after, roll_before)))
                rates.append(abs((after.yaw or 0.0) - (before.yaw or 0.0)) / gap)
    if not rolls:
        return {"pairs": 0}
    return {
        "pairs": len(rolls),
        "roll_step_max": round(max(rolls), 1),
        "roll_step_p95": round(float(np.percentile(rolls, 95)), 1),
        "roll_step_limit": config.max_roll_step_degrees,
        "roll_step_per_yaw_degree": config.roll_step_per_yaw_degree,
        "yaw_rate_max": round(max(rates), 1),
        "yaw_rate_p95": round(float(np.percentile(rates, 95)), 1),
        "yaw_rate_limit": config.max_yaw_rate_degrees,
    }


def mouth_result(mouth: MouthRun, config: LivenessConfig) -> dict[str, Any]:
    """The mouth challenge: paper masks moved rigidly (product rule) and real recordings' mouth sessions."""
    live = {
        name: {
            "opens_sessions": tallies["opens"].sessions,
            "opens_passed": tallies["opens"].passed,
            "opens_bpcer": round(1 - tallies["opens"].pass_rate, 4) if tallies["opens"].sessions else None,
            "still_sessions": tallies["still"].sessions,
            "still_passed": tallies["still"].passed,
            "reasons": dict(tallies["opens"].reasons),
            "ratio_distribution": ratio_distribution(mouth.ratios.get(name, [])),
        }
        for name, tallies in mouth.live.items()
    }
    rises = sorted(mouth.mask_rises)
    return {
        "mouth_open_change": config.mouth_open_change,
        "mouth_open_frames": config.mouth_open_frames,
        "session_seconds": MOUTH_SESSION_SECONDS,
        "closed_mouth_below": CLOSED_MOUTH,
        "open_mouth_from": OPEN_MOUTH,
        "mask_sessions": mouth.masks.sessions,
        "mask_apcer": _rate(mouth.masks),
        "mask_without_mouth_apcer": _rate(mouth.masks_without_mouth),
        "mask_reasons": dict(mouth.masks.reasons),
        "mask_max_mouth_change": rises[-1] if rises else None,
        "live": live,
    }


def real_result(run: RealRun, config: LivenessConfig, *, mouth: MouthRun | None = None) -> dict[str, Any]:
    species = {
        label: {
            "sessions": tally.sessions,
            "apcer": _rate(tally),
            "pad_alone_apcer": _rate(run.pad_alone[label]),
            "pad_alone_sessions": run.pad_alone[label].sessions,
            "reasons": dict(tally.reasons),
            "passed_by": tally.passed_by[:10],
        }
        for label, tally in run.species.items()
        if label != "live" and (tally.sessions or run.pad_alone[label].sessions)
    }
    if mouth is not None and "paper_mask" in species:
        # A worn mask turns with the head: the product's mask figure is the mouth phase (turn assumed met,
        # PAD as always, the mouth required) over rigid motions of each mask picture.
        mask = species["paper_mask"]
        mask["pad_only_apcer"] = mask["apcer"]
        mask["pad_only_sessions"] = mask["sessions"]
        mask.update(
            sessions=mouth.masks.sessions,
            apcer=_rate(mouth.masks),
            reasons=dict(mouth.masks.reasons),
            passed_by=mouth.masks.passed_by[:10],
        )
    recordings = {}
    as_asked = Tally()
    for name, live in run.live.items():
        recordings[name] = {
            "sessions": live.as_asked.sessions,
            "bpcer": round(1 - live.as_asked.pass_rate, 4) if live.as_asked.sessions else None,
            "reasons": dict(live.as_asked.reasons),
            "not_asked_sessions": live.not_asked.sessions,
            "not_asked_passed": live.not_asked.passed,
            "refused": live.refused[:10],
        }
        as_asked.sessions += live.as_asked.sessions
        as_asked.passed += live.as_asked.passed
    return {
        "real_attacks": True,
        "time_limit_seconds": config.time_limit_seconds,
        "pad_threshold": config.pad_threshold,
        "asked_turn_degrees": ASKED_TURN_DEGREES,
        "still_frames": STILL_FRAMES,
        "species": species,
        "live": {
            "sessions": as_asked.sessions,
            "session_bpcer": round(1 - as_asked.pass_rate, 4) if as_asked.sessions else None,
            "recordings": recordings,
            "stills": run.live_stills.sessions,
            "stills_pad_bpcer": round(1 - run.live_stills.pass_rate, 4) if run.live_stills.sessions else None,
        },
        "pad_by_yaw": {
            label: pad_by_yaw(frames, config.pad_threshold) for label, frames in run.frames.items()
        },
        "faces_found": {
            label: {"frames": len(frames), "one_usable_face": sum(f.landmarks is not None for f in frames)}
            for label, frames in run.frames.items()
        },
        "live_frame_steps": frame_steps(run, config),
        "mouth": mouth_result(mouth, replace(config, mouth_required=True)) if mouth is not None else None,
        "total_seconds": round(run.seconds, 1),
    }


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def real_report(write: Write, result: dict[str, Any]) -> None:
    write(
        f"Real captures through the kiosk frame path (PAD on at {result['pad_threshold']}, time limit "
        f"{result['time_limit_seconds']:.0f} s). APCER = share of attack sessions that passed."
    )
    write("| species | sessions | APCER (product) | PAD alone: sessions, APCER |")
    write("| --- | --- | --- | --- |")
    for label, row in result["species"].items():
        write(
            f"| {label} | {row['sessions']} | {_percent(row['apcer'])} | "
            f"{row['pad_alone_sessions']}, {_percent(row['pad_alone_apcer'])} |"
        )
    live = result["live"]
    write(
        "\nLive recordings, sessions where the person turns the asked way first "
        f"(by {ASKED_TURN_DEGREES:.0f}°): {live['sessions']} sessions, "
        f"BPCER {_percent(live['session_bpcer'])}"
    )
    write("| recording | sessions as asked | BPCER | refusals | other sessions (passed) |")
    write("| --- | --- | --- | --- | --- |")
    for name, row in live["recordings"].items():
        write(
            f"| {name} | {row['sessions']} | {_percent(row['bpcer'])} | {row['reasons']} | "
            f"{row['not_asked_sessions']} ({row['not_asked_passed']}) |"
        )
    for row in live["recordings"].values():
        for line in row["refused"]:
            write(f"  refused: {line}")
    write(
        f"Live pictures, PAD alone per picture: {live['stills']}, BPCER {_percent(live['stills_pad_bpcer'])}"
    )
    write("\nPer-frame PAD by |yaw| (frames, min, p10, median, share below the threshold):")
    for label, rows in result["pad_by_yaw"].items():
        cells = [
            f"{name[4:]}: {row['frames']}"
            + (
                f", {row['min']}, {row['p10']}, {row['median']}, {_percent(row['below_threshold'])}"
                if row["frames"]
                else ""
            )
            for name, row in rows.items()
        ]
        write(f"  {label}: " + " | ".join(cells))
    mouth = result.get("mouth")
    if mouth:
        write(
            f"\nMouth challenge (open by {mouth['mouth_open_change']} over the closed value on "
            f"{mouth['mouth_open_frames']} frames, {mouth['session_seconds']:.0f} s sessions after the "
            "action):"
        )
        write(
            f"  paper masks moved rigidly: {mouth['mask_sessions']} sessions, "
            f"APCER {_percent(mouth['mask_apcer'])} "
            f"(mouth not required: {_percent(mouth['mask_without_mouth_apcer'])}), {mouth['mask_reasons']}, "
            f"largest mouth rise {mouth['mask_max_mouth_change']}"
        )
        for name, row in mouth["live"].items():
            write(
                f"  {name}: mouth opens in {row['opens_sessions']} sessions, passed {row['opens_passed']} "
                f"(BPCER {_percent(row['opens_bpcer'])}, {row['reasons']}); no opening: "
                f"{row['still_sessions']} (passed {row['still_passed']}); ratios {row['ratio_distribution']}"
            )
    write(f"faces found: {result['faces_found']}")
    write(f"live head steps between kiosk frames (200 ms): {result['live_frame_steps']}")
    write(f"total {result['total_seconds']:.0f} s")
