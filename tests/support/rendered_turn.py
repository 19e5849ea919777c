"""A head turn synthesised from ONE still photo (the attack of issue 22): the face is warped triangle by
triangle so that its 68 landmarks move as the generic 3D face (``biometrics.pose.FACE_MODEL_3D``) would when
it turns, nose in front of the outline, so the landmarks carry real-looking depth parallax. Shown on a
screen (``replay_camera.screen_replay``) and filmed, it is what an attacker with one photo of the owner and
a tablet can hold up to the kiosk."""

from __future__ import annotations

import math

import cv2
import numpy as np

from biometrics import engine
from biometrics.pose import FACE_MODEL_3D


def _model_fit(landmarks: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Scale, model centre and image centre of a least-squares similarity (no rotation) model -> image."""
    model = FACE_MODEL_3D[:, :2]
    model_centre, image_centre = model.mean(axis=0), landmarks.mean(axis=0)
    scale = float(np.linalg.norm(landmarks - image_centre) / np.linalg.norm(model - model_centre))
    return scale, model_centre, image_centre


def turned_landmarks(landmarks: np.ndarray, yaw_degrees: float) -> np.ndarray:
    """Where the landmarks go when the head turns by ``yaw_degrees`` (positive: to its own left, the nose
    moving to the image's right), in weak perspective."""
    scale, _model_centre, _image_centre = _model_fit(landmarks)
    centred = FACE_MODEL_3D - FACE_MODEL_3D.mean(axis=0)
    angle = math.radians(yaw_degrees)
    rotation = np.array(
        [[math.cos(angle), 0, math.sin(angle)], [0, 1, 0], [-math.sin(angle), 0, math.cos(angle)]]
    )
    moved = centred @ rotation.T
    return landmarks + scale * (moved[:, :2] - centred[:, :2])


def _warp_triangle(source: np.ndarray, target: np.ndarray, src: np.ndarray, dst: np.ndarray) -> None:
    x, y, w, h = cv2.boundingRect(dst.astype(np.float32))
    if w <= 0 or h <= 0:
        return
    matrix = cv2.getAffineTransform(src.astype(np.float32), (dst - [x, y]).astype(np.float32))
    patch = cv2.warpAffine(source, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    mask = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(mask, np.round(dst - [x, y]).astype(np.int32), 1)
    region = target[y : y + h, x : x + w]
    keep = mask[: region.shape[0], : region.shape[1]].astype(bool)
    region[keep] = patch[: region.shape[0], : region.shape[1]][keep]


def render_turn(photo: np.ndarray, yaws: list[float]) -> list[np.ndarray]:
    """One RGB frame per yaw: ``photo`` with its face warped to that turn (the frame's border is fixed)."""
    landmarks = _one_face(photo)
    return _render(photo, landmarks, [turned_landmarks(landmarks, yaw) for yaw in yaws])


# Lower outer lip 55-59, lower inner lip 65-67 and the chin 6-10: what drops when the mouth opens.
LOWER_MOUTH = [6, 7, 8, 9, 10, 55, 56, 57, 58, 59, 65, 66, 67]


def render_mouth(photo: np.ndarray, openings: list[float]) -> list[np.ndarray]:
    """One RGB frame per opening: ``photo`` with its lower lip and jaw dropped by ``opening`` mouth widths
    and the gap between the lips darkened (the inside of an open mouth)."""
    landmarks = _one_face(photo)
    width = float(np.linalg.norm(landmarks[54] - landmarks[48]))
    frames = []
    for opening in openings:
        target = landmarks.copy()
        target[LOWER_MOUTH, 1] += opening * width
        frame = _render(photo, landmarks, [target])[0]
        if opening > 0:
            inner = np.round(target[60:68]).astype(np.int32)
            cv2.fillPoly(frame, [inner], (35, 20, 22))
        frames.append(frame)
    return frames


def _one_face(photo: np.ndarray) -> np.ndarray:
    faces = engine.detect_faces(photo, purpose="live")
    if len(faces) != 1:
        raise ValueError("the photo needs exactly one face")
    return np.asarray(faces[0].landmarks, np.float64)


def _render(photo: np.ndarray, landmarks: np.ndarray, targets: list[np.ndarray]) -> list[np.ndarray]:
    """``photo`` warped triangle by triangle so that its landmarks land on each target (border fixed)."""
    height, width = photo.shape[:2]
    border = np.array(
        [[0, 0], [width / 2, 0], [width - 1, 0], [width - 1, height / 2], [width - 1, height - 1],
         [width / 2, height - 1], [0, height - 1], [0, height / 2]]
    )  # fmt: skip
    source_points = np.vstack([landmarks, border])
    subdiv = cv2.Subdiv2D((0, 0, width, height))
    for x, y in source_points:
        subdiv.insert((float(min(x, width - 1)), float(min(y, height - 1))))
    index = {
        (round(x, 1), round(y, 1)): n
        for n, (x, y) in enumerate(np.minimum(source_points, [width - 1, height - 1]))
    }
    triangles = []
    for t in subdiv.getTriangleList():
        corners = [index.get((round(float(t[k]), 1), round(float(t[k + 1]), 1))) for k in (0, 2, 4)]
        if None not in corners:
            triangles.append(corners)
    frames = []
    for target in targets:
        target_points = np.vstack([target, border])
        frame = photo.copy()
        for corners in triangles:
            _warp_triangle(photo, frame, source_points[corners], target_points[corners])
        frames.append(frame)
    return frames
