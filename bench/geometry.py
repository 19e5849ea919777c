"""Geometry for the liveness benchmark and its tests: rendering simulated presentation attacks (a printed
photo moved, tilted or bent in front of a camera) and reading the bona fide video. Never on a request path.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np


def video_frames(path: Path | str) -> Iterator[tuple[int, float, np.ndarray]]:
    """Yield (index, seconds, HxWx3 uint8 RGB frame) for every frame of a video file."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise ValueError(f"cannot open video {path}")
    try:
        fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
        index = 0
        while True:
            ok, bgr = capture.read()
            if not ok:
                return
            yield index, index / fps, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            index += 1
    finally:
        capture.release()


def perspective_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 3x3 homography taking 4 source points (x, y) to 4 target points."""
    return cv2.getPerspectiveTransform(np.asarray(source, np.float32), np.asarray(target, np.float32))


def warp_onto(canvas: np.ndarray, image: np.ndarray, homography: np.ndarray) -> np.ndarray:
    """Paint ``image`` warped by ``homography`` (image pixels -> canvas pixels) over a copy of ``canvas``.

    Bilinear sampling; the edge of the pasted image is anti-aliased by warping a coverage mask the same
    way, so a photo held in front of the camera has no hard, detector-friendly seam. Only the canvas
    region the image lands on is touched (a bent print is drawn as dozens of thin strips).
    """
    height, width = canvas.shape[:2]
    matrix = np.asarray(homography, np.float64)
    rows, cols = image.shape[:2]
    corners = np.array([[0, 0, 1], [cols, 0, 1], [cols, rows, 1], [0, rows, 1]], np.float64) @ matrix.T
    if np.any(corners[:, 2] <= 1e-9):
        raise ValueError("the image would be projected behind the camera")
    corners = corners[:, :2] / corners[:, 2:3]
    left, top = (max(int(np.floor(value)) - 1, 0) for value in corners.min(axis=0))
    right = min(int(np.ceil(corners[:, 0].max())) + 2, width)
    bottom = min(int(np.ceil(corners[:, 1].max())) + 2, height)
    result = canvas.copy()
    if right <= left or bottom <= top:
        return result
    shifted = np.array([[1, 0, -left], [0, 1, -top], [0, 0, 1]], np.float64) @ matrix
    size = (right - left, bottom - top)
    # Replicated borders: the colour at the edge stays the photo's own, the coverage mask does the blending
    # (a constant black border would darken every edge twice).
    warped = cv2.warpPerspective(
        image, shifted, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    coverage = cv2.warpPerspective(
        np.full((rows, cols), 255, np.uint8), shifted, size, flags=cv2.INTER_LINEAR
    )
    alpha = (coverage.astype(np.float32) / 255.0)[..., None]
    region = result[top:bottom, left:right].astype(np.float32)
    blended = region * (1.0 - alpha) + warped.astype(np.float32) * alpha
    result[top:bottom, left:right] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    return result
