"""The seed project's per-frame path, reproduced as benchmark_speed's baseline (never on a request path).

It calls dlib directly, outside the engine boundary, because it must reproduce another pipeline faithfully:
the 5-point shape on a quarter-size frame, not the engine's 68-point shape on the full frame.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

import cv2
import dlib
import numpy as np


def _models_dir() -> Path:
    spec = find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face_recognition_models is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


class SeedReference:
    """The seed project's kiosk loop: the frame shrunk to 1/4, HOG with one upsample on the small copy
    (face_recognition.face_locations' default), the 5-point shape and one encoding of the 1/4-scale face
    (face_encodings' default), then ``compare_faces`` against every stored encoding held as a Python
    list — which numpy converts into a fresh float64 array on every frame."""

    def __init__(self) -> None:
        models_dir = _models_dir()
        self.hog = dlib.get_frontal_face_detector()
        self.shape5 = dlib.shape_predictor(str(models_dir / "shape_predictor_5_face_landmarks.dat"))
        self.encoder = dlib.face_recognition_model_v1(
            str(models_dir / "dlib_face_recognition_resnet_model_v1.dat")
        )

    def frame_matches(self, frame_rgb: np.ndarray, known: list[np.ndarray], tolerance: float = 0.55) -> bool:
        small = cv2.resize(frame_rgb, (0, 0), fx=0.25, fy=0.25)
        matched = False
        for rect in self.hog(small, 1):
            shape = self.shape5(small, rect)
            encoding = np.array(self.encoder.compute_face_descriptor(small, shape, 1))
            distances = np.linalg.norm(np.array(known) - encoding, axis=1)  # face_recognition.face_distance
            matched = matched or bool(np.any(distances <= tolerance))  # compare_faces
        return matched
