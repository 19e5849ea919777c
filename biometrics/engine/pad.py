"""Passive presentation-attack detection (PAD): texture CNNs on the face crop, run by OpenCV's dnn.

The models and their hashes are described in biometrics/pad_models.py; a model that is missing or altered
raises PadModelError, never a pass.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

import cv2
import numpy as np

from biometrics.pad_models import (
    PAD_INPUT_SIZE,
    PAD_MODELS,
    PAD_REAL_CLASS,
    PadModelError,
    PadModelSpec,
    pad_model_bytes,
)

from .media import check_image
from .types import Box


class _PadNet:
    def __init__(self, spec: PadModelSpec, data: bytes) -> None:
        self.spec = spec
        self.net = cv2.dnn.readNetFromONNX(np.frombuffer(data, dtype=np.uint8))
        # A cv2.dnn.Net keeps its blobs inside the object: one forward pass at a time.
        self.lock = threading.Lock()


_pad_nets: dict[str, _PadNet] = {}
_pad_nets_pid: int | None = None
_pad_load_lock = threading.Lock()


def _pad_net(name: str) -> _PadNet:
    global _pad_nets_pid
    pid = os.getpid()
    with _pad_load_lock:
        if _pad_nets_pid != pid:
            # A forked child loads its own copies (and never waits on a lock its parent held).
            _pad_nets.clear()
            _pad_nets_pid = pid
        net = _pad_nets.get(name)
        if net is None:
            # The network is built from the bytes whose hash was just checked, never from a second read.
            data = pad_model_bytes(name)
            cv2.setNumThreads(1)
            net = _pad_nets[name] = _PadNet(PAD_MODELS[name], data)
        return net


def pad_warm_up(models: Sequence[str]) -> None:
    """Load and hash-check the PAD models now; PadModelError means this process must not serve."""
    for name in models:
        _pad_net(name)


def pad_crop(image: np.ndarray, box: Box, *, crop_scale: float) -> np.ndarray:
    """The model input for one face: 80x80 BGR uint8, the recipe of Silent-Face's CropImage.

    The box is scaled about its centre by ``crop_scale`` (less when the image is too small for it) and
    shifted, not clipped, to stay inside the image, so the crop keeps its size and aspect at the edges.
    """
    image = check_image(image)
    height, width = image.shape[:2]
    box_w, box_h = max(box.width, 1), max(box.height, 1)
    scale = min((height - 1) / box_h, (width - 1) / box_w, crop_scale)
    new_w, new_h = box_w * scale, box_h * scale
    centre_x, centre_y = box.left + box_w / 2, box.top + box_h / 2
    left, top = centre_x - new_w / 2, centre_y - new_h / 2
    right, bottom = centre_x + new_w / 2, centre_y + new_h / 2
    if left < 0:
        right, left = right - left, 0.0
    if top < 0:
        bottom, top = bottom - top, 0.0
    if right > width - 1:
        left, right = left - (right - width + 1), width - 1.0
    if bottom > height - 1:
        top, bottom = top - (bottom - height + 1), height - 1.0
    crop = image[int(top) : int(bottom) + 1, int(left) : int(right) + 1]
    resized = cv2.resize(crop, (PAD_INPUT_SIZE, PAD_INPUT_SIZE))
    return cv2.cvtColor(resized, cv2.COLOR_RGB2BGR)


def pad_score(image: np.ndarray, box: Box, *, models: Sequence[str]) -> float:
    """Probability (0-1) that the face in ``box`` is a live face, averaged over ``models``.

    Raises PadModelError when a model is unknown, missing or altered: a PAD that cannot run must never
    read as a pass.
    """
    if not models:
        raise PadModelError("no PAD model is configured")
    probabilities = []
    for name in models:
        pad = _pad_net(name)
        crop = pad_crop(image, box, crop_scale=pad.spec.crop_scale)
        blob = np.ascontiguousarray(crop.astype(np.float32).transpose(2, 0, 1)[None])
        with pad.lock:
            pad.net.setInput(blob)
            logits = np.asarray(pad.net.forward(), dtype=np.float64).reshape(-1)
        exp = np.exp(logits - logits.max())
        probabilities.append(float(exp[PAD_REAL_CLASS] / exp.sum()))
    return float(np.mean(probabilities))
