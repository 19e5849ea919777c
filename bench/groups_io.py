"""Photos with their group labels, and both encodings of each, for ``bench.groups``.

Each photo is encoded once per run by both models: dlib through the enrolment path (as today's templates) and
face-reid-0095 on the YuNet-aligned face. ``--cache FILE`` keeps the encodings between runs (an .npz keyed by
path, size and modification time), so trying a method does not re-encode 848 photos.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.groups import Labelled

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass(frozen=True, slots=True)
class Photo:
    path: Path
    identity: str
    group: str
    sex: str


def load_photos(
    folder: Path, *, default_group: str = "all", kinds: frozenset[str] | None = None
) -> list[Photo]:
    """MANIFEST.csv rows (``group``/``sex`` columns when present), or, without a manifest, every image in
    ``folder/<identity>/`` (a layout like NUAA's ClientFace)."""
    manifest = folder / "MANIFEST.csv"
    if not manifest.is_file():
        return [
            Photo(path, path.parent.name, default_group, "")
            for path in sorted(folder.glob("*/*"))
            if path.suffix.lower() in IMAGE_SUFFIXES
        ]
    photos = []
    with manifest.open(newline="", encoding="utf-8") as handle:
        for record in csv.DictReader(handle):
            identity = (record.get("identity") or "").strip()
            if not identity or (kinds is not None and (record.get("kind") or "").strip() not in kinds):
                continue
            group = (record.get("group") or "").strip() or default_group
            photos.append(
                Photo(folder / record["path"].strip(), identity, group, (record.get("sex") or "").strip())
            )
    return photos


def encode_both(data: bytes, *, flip: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(dlib 128, reid 256) of the photo's largest face; ValueError when either model finds no face.
    ``flip``: the second model's embedding with test-time flip (``encode_face_reid(flip=True)``)."""
    from bench.accuracy import encode_photo
    from biometrics import engine
    from biometrics.engine.reid import encode_face_reid

    dlib = encode_photo(data)
    image = engine.decode_image(data)
    faces = engine.detect_faces_yunet(image)
    if not faces:
        raise ValueError("YuNet found no face")
    best = max(faces, key=lambda face: face.box.width * face.box.height)
    return dlib, encode_face_reid(image, best.landmarks, flip=flip)


def _key(path: Path, *, flip: bool = False) -> str:
    stat = path.stat()
    return f"{path.resolve()}|{stat.st_size}|{int(stat.st_mtime)}" + ("|flip" if flip else "")


def encode_photos(
    photos: list[Photo], *, cache: Path | None = None, flip: bool = False
) -> tuple[Labelled, list[tuple[Path, str]]]:
    stored: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if cache is not None and cache.is_file():
        with np.load(cache) as archive:
            for key, dlib, reid in zip(
                archive["keys"].tolist(), archive["dlib"], archive["reid"], strict=True
            ):
                stored[str(key)] = (dlib, reid)
    kept: list[Photo] = []
    dlibs, reids, failed = [], [], []
    for photo in photos:
        try:
            key = _key(photo.path, flip=flip)
            pair = stored.get(key)
            if pair is None:
                pair = stored[key] = encode_both(photo.path.read_bytes(), flip=flip)
        except (OSError, ValueError) as error:  # ImageRejected is a ValueError
            failed.append((photo.path, str(error)))
            continue
        kept.append(photo)
        dlibs.append(pair[0])
        reids.append(pair[1])
    if cache is not None and stored:
        keys = list(stored)
        np.savez(
            cache,
            keys=np.array(keys),
            dlib=np.array([stored[k][0] for k in keys], np.float32),
            reid=np.array([stored[k][1] for k in keys], np.float32),
        )
    labelled = Labelled(
        identities=np.array([p.identity for p in kept]),
        groups=np.array([p.group for p in kept]),
        dlib=np.array(dlibs, np.float32).reshape(-1, 128),
        reid=np.array(reids, np.float32).reshape(-1, 256),
    )
    return labelled, failed
