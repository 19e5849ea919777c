"""The photos ``benchmark_liveness`` renders attacks from, and the landmark-only attack types."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.liveness_render import Print, attack_motions, make_print
from bench.liveness_sessions import Frame, Tally, Timer, render_attack_frames, session_play, static_frames
from biometrics import engine
from biometrics.liveness import Challenge, LivenessConfig


@dataclass(frozen=True, slots=True)
class Photo:
    path: Path
    identity: str


def manifest_photos(faces_dir: Path, kinds: Sequence[str]) -> list[Photo]:
    """The rows of ``faces_dir/MANIFEST.csv`` of the given kinds, in the manifest's order."""
    manifest = faces_dir / "MANIFEST.csv"
    if not manifest.is_file():
        raise FileNotFoundError(f"{manifest} not found (point --faces at the shared faces folder)")
    with manifest.open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["kind"] in kinds]
    return [Photo(faces_dir / row["path"], row["identity"]) for row in rows]


def photo_print(photo: Photo, number: int) -> Print | None:
    """The photo printed life-size for a face 130-170 px wide in the frame (kiosk distance); None: no face."""
    image = engine.decode_image(photo.path.read_bytes())
    faces = engine.detect_faces(image, purpose="enrol")
    if not faces:
        return None
    return make_print(image, faces[0], face_px_in_frame=130.0 + 10.0 * (number % 5))


def printed_photos(
    photos: Sequence[Photo], progress: Callable[[str], None]
) -> Iterator[tuple[int, Photo, Print]]:
    """(number in ``photos``, photo, print) of each photo with a face; progress is reported after each."""
    started = time.monotonic()
    for number, photo in enumerate(photos):
        printed = photo_print(photo, number)
        if printed is None:
            progress(f"  {photo.path.name}: no face, skipped")
            continue
        yield number, photo, printed
        progress(f"  {photo.path.parent.name}/{photo.path.name} done ({time.monotonic() - started:.0f} s)")


def _photo_sequences(photo: Print, seed: int, *, count: int, fps: float) -> dict[str, dict[str, list[Frame]]]:
    sequences: dict[str, dict[str, list[Frame]]] = {
        "static_photo": {"repeated": static_frames(photo, count, seed=seed, fps=fps, noisy=False)},
        "static_photo_noise": {"noise": static_frames(photo, count, seed=seed, fps=fps, noisy=True)},
    }
    for attack, named in attack_motions(count).items():
        sequences[attack] = {
            name: render_attack_frames(photo, motion, seed=seed + 17 * k, fps=fps)
            for k, (name, motion) in enumerate(named.items())
        }
    return sequences


def attacks_evaluate(
    photos: Sequence[Photo],
    config: LivenessConfig,
    timer: Timer,
    *,
    frames_per_session: int,
    fps: float,
    kiosk_seen: set[str],
    progress: Callable[[str], None],
) -> dict[str, Tally]:
    """Every attack motion of every photo against every challenge (the attacker picks what suits it)."""
    attacks: dict[str, Tally] = {}
    for number, photo, printed in printed_photos(photos, progress):
        sequences = _photo_sequences(printed, 1000 + number, count=frames_per_session, fps=fps)
        for attack, named_frames in sequences.items():
            tally = attacks.setdefault(attack, Tally())
            for name, frames in named_frames.items():
                for challenge in Challenge:
                    verdict = session_play(
                        challenge, frames, config, kiosk_seen=kiosk_seen, timer=timer
                    ).verdict
                    tally.add(verdict, f"{photo.path.name} {name} {challenge.value}")
    return attacks
