"""YuNet face detector (OpenCV Zoo 2023mar, MIT) through ``cv2.FaceDetectorYN``: a box, a score and five
landmarks per face, and faces at larger head turns than dlib's HOG frontal detector finds.

The network is built from the bytes whose sha256 ``model_files.model_bytes`` has just checked (never a second
read of the file), lazily, once per process, and again in a forked child (like ``pad``). A missing or altered
file raises ``ModelFileError``.

Landmark order (YuNet's): right eye, left eye, nose tip, right mouth corner, left mouth corner -- the
person's right, which is on the image's left in a non-mirrored frame.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from biometrics.model_files import YUNET_FILE, model_bytes

from .media import check_image
from .types import Box

# Longer side of the copy YuNet runs on: a kiosk frame is 640 wide already; larger photos are shrunk.
YUNET_DETECT_SIZE = 640
YUNET_SCORE_THRESHOLD = 0.7
YUNET_NMS_THRESHOLD = 0.3
YUNET_TOP_K = 50
# Pre-cropped faces up to this size (a face filling the picture) are padded so the detector sees context.
YUNET_CROP_MAX_SIDE = 400


@dataclass(frozen=True, slots=True)
class YuNetFace:
    box: Box  # original-image pixels, clipped to the image
    score: float
    landmarks: np.ndarray  # (5, 2) float32: right eye, left eye, nose, right mouth, left mouth


class _YuNet:
    def __init__(self, data: bytes) -> None:
        cv2.setNumThreads(1)
        buffer = np.frombuffer(data, dtype=np.uint8)
        self.detector = cv2.FaceDetectorYN.create(
            "onnx",
            buffer,
            np.empty(0, np.uint8),
            (320, 320),
            YUNET_SCORE_THRESHOLD,
            YUNET_NMS_THRESHOLD,
            YUNET_TOP_K,
        )
        # A FaceDetectorYN keeps its input size and blobs inside the object: one image at a time.
        self.lock = threading.Lock()


_yunet: _YuNet | None = None
_yunet_pid: int | None = None
_yunet_load_lock = threading.Lock()


def _get_yunet() -> _YuNet:
    global _yunet, _yunet_pid
    pid = os.getpid()
    with _yunet_load_lock:
        if _yunet is None or _yunet_pid != pid:
            # A forked child loads its own copy (and never waits on a lock its parent held).
            _yunet = _YuNet(model_bytes(YUNET_FILE))
            _yunet_pid = pid
        return _yunet


def yunet_warm_up() -> None:
    """Load and hash-check YuNet now; ModelFileError means this process must not serve with it."""
    _get_yunet()


def _run(image_bgr: np.ndarray, score_threshold: float) -> np.ndarray:
    height, width = image_bgr.shape[:2]
    yunet = _get_yunet()
    with yunet.lock:
        yunet.detector.setInputSize((width, height))
        yunet.detector.setScoreThreshold(score_threshold)
        _, rows = yunet.detector.detect(image_bgr)
    return np.zeros((0, 15), np.float32) if rows is None else np.asarray(rows, np.float32)


def detect_faces_yunet(
    image: np.ndarray,
    *,
    score_threshold: float = YUNET_SCORE_THRESHOLD,
    order: Literal["rgb", "bgr"] = "rgb",
) -> list[YuNetFace]:
    """Faces in ``image`` (HxWx3 uint8, RGB as the rest of the engine unless ``order="bgr"``), best first.

    Images larger than ``YUNET_DETECT_SIZE`` are searched on a shrunk copy; a small, square-ish picture that
    a face fills (a pre-cropped face) is padded by half its size so the detector sees the head's outline.
    """
    image = check_image(image)
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if order == "rgb" else image
    height, width = bgr.shape[:2]
    longer = max(height, width)
    factor, offset = 1.0, 0
    if longer > YUNET_DETECT_SIZE:
        factor = longer / YUNET_DETECT_SIZE
        size = (max(1, round(width / factor)), max(1, round(height / factor)))
        bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
    rows = _run(bgr, score_threshold)
    if len(rows) == 0 and longer <= YUNET_CROP_MAX_SIDE and 0.75 <= width / height <= 1.33:
        offset = longer // 2
        bgr = cv2.copyMakeBorder(bgr, offset, offset, offset, offset, cv2.BORDER_REPLICATE)
        rows = _run(bgr, score_threshold)
    faces = [_face(row, factor, offset, width, height) for row in rows]
    faces.sort(key=lambda face: face.score, reverse=True)
    return faces


def _face(row: np.ndarray, factor: float, offset: int, width: int, height: int) -> YuNetFace:
    x, y, w, h = (float(v) for v in row[:4])
    left, top = x * factor - offset, y * factor - offset
    right, bottom = left + w * factor, top + h * factor
    box = Box(
        top=max(round(top), 0),
        right=min(round(right), width),
        bottom=min(round(bottom), height),
        left=max(round(left), 0),
    )
    landmarks = (row[4:14].reshape(5, 2) * factor - offset).astype(np.float32)
    return YuNetFace(box=box, score=float(row[14]), landmarks=landmarks)
