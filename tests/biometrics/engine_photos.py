"""The shared photos read, decoded and encoded once per test run (the engine tests share them read-only)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from biometrics.engine import decode_image, detect_faces, encode_face


@cache
def photo_bytes(path: Path) -> bytes:
    return path.read_bytes()


@cache
def decoded(path: Path) -> np.ndarray:
    image = decode_image(photo_bytes(path))
    image.setflags(write=False)  # shared between tests: nobody may change it
    return image


@cache
def encoding(path: Path) -> np.ndarray:
    image = decoded(path)
    return encode_face(image, detect_faces(image, purpose="enrol")[0])
