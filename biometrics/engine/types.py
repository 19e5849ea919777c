"""The engine's plain types: what the rest of the project sees of a face (no dlib or OpenCV objects)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class ImageRejected(ValueError):
    """An uploaded or captured image the engine refuses; ``message`` is safe to show in a 400."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Box:
    """A face box in original-image pixel coordinates, clipped to the image (face_recognition's css order)."""

    top: int
    right: int
    bottom: int
    left: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def as_dict(self) -> dict[str, int]:
        return {"top": self.top, "right": self.right, "bottom": self.bottom, "left": self.left}


@dataclass(frozen=True, slots=True)
class Quality:
    face_px: int
    sharpness: float
    brightness: float


@dataclass(frozen=True, slots=True)
class Face:
    box: Box
    landmarks: np.ndarray  # (68, 2) float32, original coords, dlib 68-point order
    quality: Quality
