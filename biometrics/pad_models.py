"""The passive presentation-attack detection (PAD) models shipped in ``biometrics/models/``: names, files,
hashes and input recipe. Pure Python (hashlib only), so the start-up check can verify the files without
loading OpenCV; ``engine`` loads the networks from the same verified bytes.

MiniFASNetV2 and MiniFASNetV1SE (Minivision Silent-Face-Anti-Spoofing, Apache-2.0; ONNX exports from
yakhyo/face-anti-spoofing, see ``models/NOTICE``) each score one face crop: the detector's face box scaled
about its centre by ``crop_scale`` (shifted to stay inside the image), resized to 80x80, BGR, float32 0-255
without normalisation, NCHW. Output: 3 logits, softmax index 1 is "real"; the product averages the models.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent / "models"
PAD_INPUT_SIZE = 80
PAD_REAL_CLASS = 1


@dataclass(frozen=True, slots=True)
class PadModelSpec:
    name: str
    filename: str
    sha256: str
    crop_scale: float


PAD_MODELS: dict[str, PadModelSpec] = {
    spec.name: spec
    for spec in (
        PadModelSpec(
            "MiniFASNetV2",
            "MiniFASNetV2.onnx",
            "4eed38f0bde33c9b805942a5f25e42ce1161e2bda545254be622be957727794e",
            2.7,
        ),
        PadModelSpec(
            "MiniFASNetV1SE",
            "MiniFASNetV1SE.onnx",
            "d819a69bac6b9ade2a0f4d9b60b618e1260f7bf3ba1fddff6c5d82131cb1083f",
            4.0,
        ),
    )
}


class PadModelError(RuntimeError):
    """A PAD model that is unknown, missing or not the file we shipped: PAD must not run without it."""


def pad_model_bytes(name: str, *, models_dir: Path | None = None) -> bytes:
    """The model file's bytes after checking its SHA-256 against the shipped hash."""
    spec = PAD_MODELS.get(name)
    if spec is None:
        raise PadModelError(f"unknown PAD model {name!r} (known: {', '.join(PAD_MODELS)})")
    path = (models_dir or MODELS_DIR) / spec.filename
    try:
        data = path.read_bytes()
    except OSError as error:
        raise PadModelError(f"PAD model {name} missing at {path}: {error.strerror}") from error
    digest = hashlib.sha256(data).hexdigest()
    if digest != spec.sha256:
        raise PadModelError(f"PAD model {name} at {path} has sha256 {digest}, expected {spec.sha256}")
    return data


def pad_models_problems(names: Iterable[str], *, models_dir: Path | None = None) -> list[str]:
    """Why the named models cannot be used (empty when all are present and intact)."""
    names = list(names)
    if not names:
        return ["no PAD model is configured"]
    problems = []
    for name in names:
        try:
            pad_model_bytes(name, models_dir=models_dir)
        except PadModelError as error:
            problems.append(str(error))
    return problems
