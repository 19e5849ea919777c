"""Look-alikes of the same group never verify each other's card by the face alone (issue: face comparison
that holds for every face). Real photos of ../shared/faces-diverse, the product's comparison functions.

For every ordered pair (owner, stranger) of different people of the same group whose closest single-photo
dlib distance is within the old 0.50 threshold, the owner is enrolled from all of their photos (per-template
shifts against a cohort of everyone else's faces, as enrolment does against other customers), and sessions
are built from the stranger's photos as consecutive kiosk frames, starting at every photo. A session is
verified by the face when FACE_MATCH_FRAMES_REQUIRED consecutive frames match.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

from bench import groups, groups_io
from biometrics.comparison import normalised_scores, template_shift
from biometrics.services.second_model import as_distance
from tests.support import environment

pytestmark = pytest.mark.faces


def _diverse() -> Path:
    folder = Path(
        os.environ.get("ATM_FACES_DIVERSE_DIR", Path(settings.ATM_FACES_DIR).parent / "faces-diverse")
    )
    if not (folder / "MANIFEST.csv").is_file():
        environment.unavailable(f"faces-diverse photos not found at {folder} (set ATM_FACES_DIVERSE_DIR)")
    return folder


def _verified(distances: list[float], start: int, k: int) -> bool:
    streak = 0
    for distance in distances[start:] + distances[:start]:
        streak = streak + 1 if distance <= settings.FACE_DISTANCE_THRESHOLD else 0
        if streak >= k:
            return True
    return False


def test_same_group_look_alikes_within_0_50_today_are_never_verified_by_the_face(models_dir: Path) -> None:
    # ATM_ENCODING_CACHE (optional): an .npz of benchmark_accuracy --cache (keyed by path, size and mtime).
    cache = os.environ.get("ATM_ENCODING_CACHE")
    data, _ = groups_io.encode_photos(groups_io.load_photos(_diverse()), cache=Path(cache) if cache else None)
    dlib = groups.euclidean(data.dlib, data.dlib)
    group_of = dict(zip(data.identities.tolist(), data.groups.tolist(), strict=True))
    people = sorted(group_of)
    k = settings.FACE_MATCH_FRAMES_REQUIRED
    checked, verified = 0, []
    for owner in people:
        mine = data.identities == owner
        for stranger in people:
            theirs = data.identities == stranger
            if (
                owner == stranger
                or group_of[owner] != group_of[stranger]
                or dlib[np.ix_(mine, theirs)].min() > 0.50
            ):
                continue
            cohort = data.reid[~(mine | theirs)]
            shifts = np.array([template_shift(face, cohort) for face in data.reid[mine]])
            frames = [
                as_distance(float(normalised_scores(data.reid[mine], shifts, probe).min()))
                for probe in data.reid[theirs]
            ]
            checked += 1
            if any(_verified(frames, start, k) for start in range(len(frames))):
                verified.append((owner, stranger, round(min(frames), 3)))
    assert checked >= 100  # the look-alike pairs the old threshold let through (184 on the shared set)
    assert verified == []
