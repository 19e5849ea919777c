"""The second face model: face-reidentification-retail-0095 (Open Model Zoo, Apache-2.0) run by OpenVINO on a
face aligned by YuNet's five landmarks.

The face is warped (similarity transform: rotation, uniform scale, shift) so its five points land on the
model card's 128x128 template, fed as BGR 0-255 floats NCHW, and the 256 outputs are scaled to unit length;
two faces compare by cosine. ``reid_distance`` is ``1 - cosine`` so that, as with dlib, smaller is closer.

The network is compiled from the hash-checked bytes (``model_files``), lazily, once per process and again
after a fork, one inference thread (one frame per process at a time; parallelism comes from processes).
"""

from __future__ import annotations

import os
import threading
from typing import Any

import cv2
import numpy as np

from biometrics.model_files import REID_BIN_FILE, REID_XML_FILE, model_bytes

from .media import check_image

REID_SIZE = 128
REID_ENCODING_SIZE = 256
# The model card's reference points for a 96x112 crop (eye centres, nose tip, mouth corners, image left
# first), as fractions, scaled to the 128x128 input. YuNet's order (person's right eye first) is image-left
# first too, so the rows correspond one to one.
_REFERENCE = np.array(
    [
        (30.2946 / 96, 51.6963 / 112),
        (65.5318 / 96, 51.5014 / 112),
        (48.0252 / 96, 71.7366 / 112),
        (33.5493 / 96, 92.3655 / 112),
        (62.7299 / 96, 92.2041 / 112),
    ],
    dtype=np.float32,
) * np.float32(REID_SIZE)


class _Reid:
    def __init__(self, xml: bytes, weights: bytes) -> None:
        import openvino as ov

        core = ov.Core()
        model = core.read_model(
            model=xml.decode("utf-8"), weights=ov.Tensor(np.frombuffer(weights, np.uint8))
        )
        self.compiled: Any = core.compile_model(model, "CPU", {"INFERENCE_NUM_THREADS": 1})
        self.request: Any = self.compiled.create_infer_request()
        self.lock = threading.Lock()


_reid: _Reid | None = None
_reid_pid: int | None = None
_reid_load_lock = threading.Lock()


def _get_reid() -> _Reid:
    global _reid, _reid_pid
    pid = os.getpid()
    with _reid_load_lock:
        if _reid is None or _reid_pid != pid:
            _reid = _Reid(model_bytes(REID_XML_FILE), model_bytes(REID_BIN_FILE))
            _reid_pid = pid
        return _reid


def reid_warm_up() -> None:
    """Load and hash-check the embedding model now; ModelFileError means this process must not serve it."""
    _get_reid()


def reid_align(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The 128x128 RGB face chip whose five landmarks sit on the model's template."""
    image = check_image(image)
    points = np.asarray(landmarks, dtype=np.float32).reshape(5, 2)
    matrix, _ = cv2.estimateAffinePartial2D(points, _REFERENCE, method=cv2.LMEDS)
    if matrix is None:
        raise ValueError("the five landmarks do not define a face alignment")
    return cv2.warpAffine(
        image, matrix, (REID_SIZE, REID_SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def encode_face_reid(image: np.ndarray, landmarks: np.ndarray, *, flip: bool = False) -> np.ndarray:
    """Unit-length 256-float embedding of the face whose YuNet landmarks are ``landmarks`` (5, 2).

    ``flip`` (benchmark only: ``benchmark_accuracy --flip``) averages the embeddings of the chip and of its
    mirror image (test-time flip, one more inference). Measured on held-out faces-diverse and on NUAA's
    webcam faces it did not pay (docs/face-comparison.md), so the product embeds the chip once."""
    chip = reid_align(image, landmarks)
    vector = _infer(chip)
    if flip:
        mirrored = _infer(chip[:, ::-1])
        vector = vector / np.linalg.norm(vector) + mirrored / np.linalg.norm(mirrored)
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm) or norm == 0.0:
        raise ValueError("the embedding model returned no usable vector")
    return vector / norm


def _infer(chip: np.ndarray) -> np.ndarray:
    blob = np.ascontiguousarray(chip[:, :, ::-1].astype(np.float32).transpose(2, 0, 1)[None])
    reid = _get_reid()
    with reid.lock:
        output = reid.request.infer({0: blob})
    return np.asarray(next(iter(output.values())), dtype=np.float32).reshape(REID_ENCODING_SIZE)


def reid_distances(known: np.ndarray, probe: np.ndarray) -> np.ndarray:
    """``1 - cosine`` from ``probe`` (256,) to every row of ``known`` (N, 256), both unit length; float32."""
    known = np.asarray(known, dtype=np.float32).reshape(-1, REID_ENCODING_SIZE)
    probe = np.asarray(probe, dtype=np.float32).reshape(REID_ENCODING_SIZE)
    return (1.0 - known @ probe).astype(np.float32, copy=False)
