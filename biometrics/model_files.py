"""Model files are data, not code: read at run time from ``settings.ATM_MODELS_DIR``, pinned by sha256 here.

Pure Python (hashlib only), so the start-up check can verify the files without loading OpenCV or OpenVINO;
the engine builds every network from the bytes ``model_bytes`` returned after the hash check, never from a
second read. The files themselves live outside the repository (default ``../shared/models``; a release puts
them on the machine and points ``ATM_MODELS_DIR`` at them). The hashes are those of the SHA256SUMS files
beside the models and of the MiniFASNet README; licences and origins are in ``docs/model-files.md``.

Each *feature* needs some files. With a feature's files missing or altered:
- DEBUG on (``make run``): the portal serves with that check off and says so (a system-check Warning at
  start-up and ``feature_active(...) is False`` at run time);
- DEBUG off (production): a system-check Error stops start-up, and a worker that reaches the engine anyway
  raises ``ModelFileError`` -- never a silent pass.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ModelFile:
    key: str  # path under ATM_MODELS_DIR
    sha256: str
    what: str


MODEL_FILES: dict[str, ModelFile] = {
    spec.key: spec
    for spec in (
        ModelFile(
            "minifasnet/MiniFASNetV2.onnx",
            "4eed38f0bde33c9b805942a5f25e42ce1161e2bda545254be622be957727794e",
            "PAD texture model MiniFASNetV2 (Apache-2.0)",
        ),
        ModelFile(
            "minifasnet/MiniFASNetV1SE.onnx",
            "d819a69bac6b9ade2a0f4d9b60b618e1260f7bf3ba1fddff6c5d82131cb1083f",
            "PAD texture model MiniFASNetV1SE (Apache-2.0)",
        ),
        ModelFile(
            "yunet/face_detection_yunet_2023mar.onnx",
            "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
            "YuNet face detector with five landmarks (OpenCV Zoo, MIT)",
        ),
        ModelFile(
            "face-reid-0095/face-reidentification-retail-0095.FP16.xml",
            "879662c555c826e7a07683f95bb4387b810ab679a8b8c64cc46e07016bb3da2b",
            "face-reidentification-retail-0095 network (Open Model Zoo, Apache-2.0)",
        ),
        ModelFile(
            "face-reid-0095/face-reidentification-retail-0095.FP16.bin",
            "4d8cdfa9447ddd6d8b447f76c6eaaa2c9345c1ee0146b94900ee5267ffcb9307",
            "face-reidentification-retail-0095 weights (Open Model Zoo, Apache-2.0)",
        ),
    )
}

YUNET_FILE = "yunet/face_detection_yunet_2023mar.onnx"
REID_XML_FILE = "face-reid-0095/face-reidentification-retail-0095.FP16.xml"
REID_BIN_FILE = "face-reid-0095/face-reidentification-retail-0095.FP16.bin"


class ModelFileError(RuntimeError):
    """A model file that is unknown, missing or not the file we pinned: what needs it must not run."""


def models_dir() -> Path:
    from django.conf import settings

    return Path(settings.ATM_MODELS_DIR)


def model_path(key: str, *, directory: Path | None = None) -> Path:
    return (directory or models_dir()) / key


def model_bytes(key: str, *, directory: Path | None = None) -> bytes:
    """The file's bytes after checking its SHA-256 against the pinned hash."""
    spec = MODEL_FILES.get(key)
    if spec is None:
        raise ModelFileError(f"unknown model file {key!r}")
    path = model_path(key, directory=directory)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ModelFileError(f"{spec.what} missing at {path}: {error.strerror}") from error
    digest = hashlib.sha256(data).hexdigest()
    if digest != spec.sha256:
        raise ModelFileError(f"{spec.what} at {path} has sha256 {digest}, expected {spec.sha256}")
    return data


def model_files_problems(keys: Iterable[str], *, directory: Path | None = None) -> list[str]:
    """Why the named files cannot be used (empty when all are present and intact)."""
    problems = []
    for key in keys:
        try:
            model_bytes(key, directory=directory)
        except ModelFileError as error:
            problems.append(str(error))
    return problems


# ---- features: which checks need which files ----------------------------------------------------------


def feature_files(feature: str) -> list[str]:
    from django.conf import settings

    from biometrics.pad_models import PAD_MODELS

    if feature == "pad":
        return [PAD_MODELS[name].filename for name in settings.PAD_MODELS if name in PAD_MODELS]
    if feature == "face_model":
        return [YUNET_FILE, REID_XML_FILE, REID_BIN_FILE]
    raise ValueError(f"unknown feature {feature!r}")


@functools.lru_cache(maxsize=16)
def _problems_cached(directory: str, keys: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(model_files_problems(keys, directory=Path(directory)))


def feature_problems(feature: str) -> list[str]:
    """Why ``feature`` cannot run here (hashes checked once per process and directory)."""
    return list(_problems_cached(str(models_dir()), tuple(feature_files(feature))))


def feature_active(feature: str) -> bool:
    """Whether the engine should run ``feature``'s models for this request.

    In production (DEBUG off) the answer is True even with files missing: the engine then raises, and the
    start-up check has already refused to serve. Only DEBUG turns a missing model into a check that is off.
    """
    from django.conf import settings

    if feature == "pad" and not settings.PAD_ENABLED:
        return False
    if feature == "face_model" and not settings.FACE_MODEL_ENABLED:
        return False
    if not settings.DEBUG:
        return True
    return not feature_problems(feature)


def clear_cache() -> None:
    _problems_cached.cache_clear()
