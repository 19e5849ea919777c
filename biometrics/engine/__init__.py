"""The face engine: the only package that touches dlib, OpenCV and the face_recognition model files.

Everything else in the project works with the plain types of ``engine.types`` (numpy images, ``Face``,
128-float encodings) so it can be tested without the engine. Models are loaded lazily, once per
process, on first use, and reloaded in a forked child (dlib objects must not cross a fork).
This module detects, aligns and encodes faces; ``media`` decodes images and clips, ``pad`` scores a face
crop for presentation attacks, ``yunet`` finds faces with five landmarks (also at larger head turns).
Callers use ``from biometrics import engine`` and the names re-exported here.

``face_recognition`` itself is deliberately not imported: importing it loads all four models at
import time and sets Pillow's global ``LOAD_TRUNCATED_IMAGES = True``, which would make
``decode_image`` accept truncated uploads. The engine uses the same dlib models and the same calls
(``face_recognition_models`` weights, ``compute_face_descriptor``) directly, which also lets one
68-point shape serve both the landmarks and the encoding.
"""

from __future__ import annotations

import os
import threading
from importlib.util import find_spec
from pathlib import Path
from typing import Literal

import cv2
import dlib
import numpy as np

from .media import (
    ALLOWED_FORMATS,
    VIDEO_MAX_BYTES,
    check_image,
    decode_image,
    decode_video_frames,
    jpeg_encode,
)
from .pad import pad_crop, pad_score, pad_warm_up
from .types import Box, Face, ImageRejected, Quality
from .yunet import YuNetFace, detect_faces_yunet, yunet_warm_up

__all__ = [
    "ALLOWED_FORMATS",
    "CNN_DETECT_SIZE",
    "CROP_MAX_SIDE",
    "ENCODING_SIZE",
    "ENGINE_VERSION",
    "ENROL_DETECT_SIZE",
    "ENROL_UPSAMPLE",
    "ENROL_WHOLE_IMAGE_FALLBACK",
    "LIVE_DETECT_SIZE",
    "QUALITY_CROP_SIZE",
    "VIDEO_MAX_BYTES",
    "Box",
    "Face",
    "ImageRejected",
    "Quality",
    "YuNetFace",
    "decode_image",
    "decode_video_frames",
    "detect_faces",
    "detect_faces_yunet",
    "distances",
    "encode_face",
    "jpeg_encode",
    "pad_crop",
    "pad_score",
    "pad_warm_up",
    "warm_up",
    "yunet_warm_up",
]

# Longer side of the copy the live (kiosk) path runs HOG on. Measured on the 17 shared portraits
# placed in 640x480 frames: HOG with upsample 0 finds faces down to ~65 px in the image it sees.
# At kiosk distance (face 80-100 px wide in a 640x480 frame) a 480 copy misses 1 of 17 faces at
# 80 px and a 400 copy 11 of 17; 640 (the frame itself) finds 17/17 from 70 px up, for ~35 ms of
# HOG instead of ~24 ms at 480 -- small next to the ~115 ms encoding. Larger camera frames are
# downscaled to 640, so the same physical distance works whatever the camera resolution.
LIVE_DETECT_SIZE = 640
# Enrolment photos can be phone pictures of 3000+ px; HOG with upsample 1 on such an image takes
# seconds and gains nothing, because an enrolment face must be large anyway.
ENROL_DETECT_SIZE = 1024
ENROL_UPSAMPLE = 1
# The CNN (mmod) detector is the enrolment fallback when HOG finds nothing (a turned head, odd light).
CNN_DETECT_SIZE = 512
# Pre-cropped faces up to this size are padded and retried when no detector finds them.
CROP_MAX_SIDE = 400
# Use the whole image as the face box when even the padded retry finds nothing. Off: encodings of
# non-faces (150 px crops of scenes/dogs.jpg) land 0.59-0.65 from real faces, barely above the match
# threshold, so a blind box could enrol a template that matches strangers. Enrolment photos come from
# a camera or an ordinary photo, where a face that no detector finds is better refused.
ENROL_WHOLE_IMAGE_FALLBACK = False
# Side of the grey face crop the sharpness figure is computed on (see _quality): about the size of
# the face inside the encoder's 150 px chip, i.e. the resolution the encoder actually sees.
QUALITY_CROP_SIZE = 100

# Names what determines a stored template: encoder weights, the landmark model that aligns the face
# chip, and the enrolment detector settings. Live-path settings do not change stored templates, so
# changing LIVE_DETECT_SIZE needs no re-encoding and does not bump this.
ENGINE_VERSION = f"dlib-resnet-v1/sp68/enrol-hog{ENROL_DETECT_SIZE}u{ENROL_UPSAMPLE}/1"

ENCODING_SIZE = 128


# --------------------------------------------------------------------------------------------------
# Models: lazy, once per process, one lock per model.
# --------------------------------------------------------------------------------------------------


class _Models:
    """The dlib objects of one process.

    dlib detectors and the DNN keep scratch state inside the object (the DNN stores each layer's
    output), so two threads must never run the same object at once; each gets its own lock. Different
    models may run in parallel, so a threaded server can overlap detection and encoding.
    """

    def __init__(self) -> None:
        models_dir = _models_dir()
        self.hog = dlib.get_frontal_face_detector()
        self.hog_lock = threading.Lock()
        self.shape68 = dlib.shape_predictor(str(models_dir / "shape_predictor_68_face_landmarks.dat"))
        self.shape68_lock = threading.Lock()
        self.encoder = dlib.face_recognition_model_v1(
            str(models_dir / "dlib_face_recognition_resnet_model_v1.dat")
        )
        self.encoder_lock = threading.Lock()
        # One frame per process at a time; parallelism comes from worker processes (one per core).
        # OpenCV's own thread pool would only oversubscribe the cores. dlib here is built without
        # BLAS, so its detectors and DNN are single-threaded already.
        cv2.setNumThreads(1)
        self._cnn: dlib.cnn_face_detection_model_v1 | None = None
        self.cnn_lock = threading.Lock()
        self._models_dir = models_dir

    @property
    def cnn(self) -> dlib.cnn_face_detection_model_v1:
        # The CNN detector is only an enrolment fallback; kiosk processes usually never need it.
        # Callers hold cnn_lock, so this lazy load cannot race.
        if self._cnn is None:
            self._cnn = dlib.cnn_face_detection_model_v1(
                str(self._models_dir / "mmod_human_face_detector.dat")
            )
        return self._cnn


_models: _Models | None = None
_models_pid: int | None = None
_models_load_lock = threading.Lock()


def _models_dir() -> Path:
    # Locate the weights without importing face_recognition_models: its __init__ imports the
    # deprecated pkg_resources just to build these paths.
    spec = find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face_recognition_models is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def _get_models() -> _Models:
    global _models, _models_pid
    pid = os.getpid()
    models = _models
    if models is not None and _models_pid == pid:
        return models
    with _models_load_lock:
        # A forked child inherits the parent's objects (and possibly a held lock); it loads its own.
        if _models is None or _models_pid != pid:
            _models = _Models()
            _models_pid = pid
        return _models


def warm_up(*, cnn: bool = False) -> None:
    """Load the models now (worker_process_init / post_fork) so the first request is not slow."""
    models = _get_models()
    if cnn:
        with models.cnn_lock:
            _ = models.cnn


# --------------------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------------------


def _downscaled(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Return (copy whose longer side is at most max_side, factor original/copy)."""
    height, width = image.shape[:2]
    longer = max(height, width)
    if longer <= max_side:
        return image, 1.0
    scale = max_side / longer
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # INTER_AREA averages source pixels: no aliasing, which would add false HOG gradients.
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return small, longer / max_side


def _hog(models: _Models, image: np.ndarray, upsample: int) -> list[dlib.rectangle]:
    with models.hog_lock:
        return list(models.hog(image, upsample))


def _cnn(models: _Models, image: np.ndarray, upsample: int) -> list[dlib.rectangle]:
    with models.cnn_lock:
        return [detection.rect for detection in models.cnn(image, upsample)]


def _scale_rects(rects: list[dlib.rectangle], factor: float, offset: int = 0) -> list[dlib.rectangle]:
    return [
        dlib.rectangle(
            round(r.left() * factor) - offset,
            round(r.top() * factor) - offset,
            round(r.right() * factor) - offset,
            round(r.bottom() * factor) - offset,
        )
        for r in rects
    ]


def _detect_live(models: _Models, image: np.ndarray, detect_size: int) -> list[dlib.rectangle]:
    small, factor = _downscaled(image, detect_size)
    return _scale_rects(_hog(models, small, 0), factor)


def _looks_like_face_crop(image: np.ndarray) -> bool:
    # A pre-cropped face (e.g. dlib's aligned 150x150 chips): small and roughly square. Only such
    # images are padded and retried; a large photo is never padded.
    height, width = image.shape[:2]
    return max(height, width) <= CROP_MAX_SIDE and 0.75 <= width / height <= 1.33


def _detect_enrol(models: _Models, image: np.ndarray) -> list[dlib.rectangle]:
    small, factor = _downscaled(image, ENROL_DETECT_SIZE)
    rects = _hog(models, small, ENROL_UPSAMPLE)
    if rects:
        return _scale_rects(rects, factor)
    if _looks_like_face_crop(image):
        # A face that fills the image has no context around it and both detectors need some:
        # pad by half the size on each side (replicated edges, no artificial contour) and retry.
        pad = max(image.shape[:2]) // 2
        padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        rects = _hog(models, padded, ENROL_UPSAMPLE) or _cnn(models, padded, 0)
        if rects:
            return _scale_rects(rects, 1.0, offset=pad)
        if ENROL_WHOLE_IMAGE_FALLBACK:
            height, width = image.shape[:2]
            return [dlib.rectangle(0, 0, width - 1, height - 1)]
        return []
    # Upsample 0 on a <=512 px copy: the CNN then finds faces from ~16% of the longer side, which
    # any usable enrolment photo has, in ~1 s; upsampling or a larger copy costs 4-5 s for nothing.
    cnn_input, cnn_factor = _downscaled(image, CNN_DETECT_SIZE)
    return _scale_rects(_cnn(models, cnn_input, 0), cnn_factor)


def detect_faces(image: np.ndarray, *, purpose: Literal["live", "enrol"]) -> list[Face]:
    """Find faces, their 68 landmarks and quality figures; largest face first.

    ``live`` is the kiosk path (one fast HOG pass on a downscaled copy); ``enrol`` tries harder
    (upsampling, CNN fallback, padding for tight crops) because enrolment happens once.
    """
    image = check_image(image)
    models = _get_models()
    if purpose == "live":
        rects = _detect_live(models, image, LIVE_DETECT_SIZE)
    elif purpose == "enrol":
        rects = _detect_enrol(models, image)
    else:
        raise ValueError(f"unknown purpose {purpose!r}")
    faces = [_face_from_rect(models, image, rect) for rect in rects]
    faces.sort(key=lambda face: face.box.width * face.box.height, reverse=True)
    return faces


def _face_from_rect(models: _Models, image: np.ndarray, rect: dlib.rectangle) -> Face:
    with models.shape68_lock:
        shape = models.shape68(image, rect)
    landmarks = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
    height, width = image.shape[:2]
    # dlib boxes may reach outside the image (a face at the edge); clip them like face_recognition.
    box = Box(
        top=max(rect.top(), 0),
        right=min(rect.right(), width),
        bottom=min(rect.bottom(), height),
        left=max(rect.left(), 0),
    )
    return Face(box=box, landmarks=landmarks, quality=_quality(image, box))


def _quality(image: np.ndarray, box: Box) -> Quality:
    crop = image[box.top : box.bottom, box.left : box.right]
    if crop.size == 0:
        return Quality(face_px=0, sharpness=0.0, brightness=0.0)
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    brightness = float(grey.mean())
    # The Laplacian responds per pixel: the same face spread over more pixels has softer per-pixel
    # edges and a lower variance, so on raw crops the figure would depend on camera resolution and
    # distance. Resampling every crop to the size the encoder works at makes one blur threshold
    # valid for kiosk frames and uploaded photos alike, and a small face that must be enlarged reads
    # as softer, as it is for the encoder. Measured (face in 640x480 frames): sharp 74-618, Gaussian
    # blur sigma 2 ~10-18, sigma 3 ~5-9; the dlib aligned 150 px crops 25-862.
    # INTER_AREA to shrink (averages, no aliasing); linear to enlarge (INTER_AREA then acts like
    # nearest-neighbour, whose blocky steps would read as sharp edges).
    shrinking = min(grey.shape) >= QUALITY_CROP_SIZE
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    fixed = cv2.resize(grey, (QUALITY_CROP_SIZE, QUALITY_CROP_SIZE), interpolation=interpolation)
    sharpness = float(cv2.Laplacian(fixed, cv2.CV_64F).var())
    return Quality(face_px=min(box.width, box.height), sharpness=sharpness, brightness=brightness)


# --------------------------------------------------------------------------------------------------
# Encoding and comparison
# --------------------------------------------------------------------------------------------------


def _shape_from_face(face: Face) -> dlib.full_object_detection:
    # dlib shape points are integers, so rebuilding the shape from the stored landmarks is exact:
    # the predictor does not have to run twice.
    box = face.box
    rect = dlib.rectangle(box.left, box.top, box.right, box.bottom)
    points = dlib.points([dlib.point(int(x), int(y)) for x, y in face.landmarks])
    return dlib.full_object_detection(rect, points)


def encode_face(image: np.ndarray, face: Face, *, jitters: int = 1) -> np.ndarray:
    """128-float encoding of ``face`` computed on the full-resolution ``image``.

    The face chip is aligned with the 68-point shape found by ``detect_faces``. face_recognition's
    default is the 5-point model; on the shared photos the two are equally accurate (d' 6.80 vs
    6.81) and the 68-point one separated the gallery protocol better (FNMR 0 vs 1.4% at 0.50), and
    it is already computed for the landmarks, so no second predictor runs. ``jitters`` > 1 averages
    randomly jittered chips (x ``jitters`` cost): pairs FNMR 1.7% -> 1.0% at 0.50 with 5.
    """
    image = check_image(image)
    if face.landmarks.shape != (68, 2):
        raise ValueError("face.landmarks must be (68, 2)")
    if jitters < 1:
        raise ValueError("jitters must be >= 1")
    models = _get_models()
    shape = _shape_from_face(face)
    with models.encoder_lock:
        descriptor = models.encoder.compute_face_descriptor(image, shape, jitters)
    return np.asarray(descriptor, dtype=np.float32).reshape(ENCODING_SIZE)


def distances(known: np.ndarray, probe: np.ndarray) -> np.ndarray:
    """Euclidean distance from ``probe`` (128,) to every row of ``known`` (N, 128); float32 (N,)."""
    known = np.asarray(known, dtype=np.float32)
    probe = np.asarray(probe, dtype=np.float32)
    if probe.shape != (ENCODING_SIZE,):
        raise ValueError(f"probe must have shape ({ENCODING_SIZE},)")
    if known.size == 0:
        return np.empty(0, dtype=np.float32)
    known = known.reshape(-1, ENCODING_SIZE)
    diff = known - probe
    return np.sqrt(np.einsum("ij,ij->i", diff, diff)).astype(np.float32, copy=False)
