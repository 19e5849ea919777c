"""The passive presentation-attack detection (PAD) models: names, files, hashes and input recipe. The files
are data read from ``settings.ATM_MODELS_DIR`` and pinned by sha256 (``biometrics.model_files``); their
licence and origin are in ``docs/model-files.md``. Pure Python (hashlib only), so the start-up check can
verify the files without loading OpenCV; ``engine`` loads the networks from the same verified bytes.

MiniFASNetV2 and MiniFASNetV1SE (Minivision Silent-Face-Anti-Spoofing, Apache-2.0; ONNX exports from
yakhyo/face-anti-spoofing, see ``docs/model-files.md``) each score one face crop: the detector's face box
scaled about its centre by ``crop_scale`` (shifted to stay inside the image), resized to 80x80, BGR, float32
0-255 without normalisation, NCHW. Output: 3 logits, softmax index 1 is "real"; the product
averages the models.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from biometrics.model_files import MODEL_FILES, ModelFileError, model_bytes

PAD_INPUT_SIZE = 80
PAD_REAL_CLASS = 1


@dataclass(frozen=True, slots=True)
class PadModelSpec:
    name: str
    filename: str  # key in model_files.MODEL_FILES (path under ATM_MODELS_DIR)
    crop_scale: float

    @property
    def sha256(self) -> str:
        return MODEL_FILES[self.filename].sha256


PAD_MODELS: dict[str, PadModelSpec] = {
    spec.name: spec
    for spec in (
        PadModelSpec(
            "MiniFASNetV2",
            "minifasnet/MiniFASNetV2.onnx",
            2.7,
        ),
        PadModelSpec(
            "MiniFASNetV1SE",
            "minifasnet/MiniFASNetV1SE.onnx",
            4.0,
        ),
    )
}


class PadModelError(ModelFileError):
    """A PAD model that is unknown, missing or not the file we shipped: PAD must not run without it."""


def pad_model_bytes(name: str, *, models_dir: Path | None = None) -> bytes:
    """The model file's bytes after checking its SHA-256 against the pinned hash."""
    spec = PAD_MODELS.get(name)
    if spec is None:
        raise PadModelError(f"unknown PAD model {name!r} (known: {', '.join(PAD_MODELS)})")
    try:
        return model_bytes(spec.filename, directory=models_dir)
    except ModelFileError as error:
        raise PadModelError(f"PAD model {name}: {error}") from error


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
