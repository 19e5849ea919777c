"""The second face model in the product: embeddings of enrolment photos and kiosk frames, per-template shifts
fixed at enrolment against a cohort of other customers' faces, and the 1:1 score the kiosk decides on.

Measured (docs/face-comparison.md): face-reid-0095 on YuNet-aligned faces with a per-template cohort
shift holds every group's same-group FMR at the target where dlib's fixed 0.50 lets look-alikes of the
same group through, and dlib's score added nothing in fusion. So the decision is this score alone when the
customer has second-model templates; dlib stays for the 68 landmarks (liveness, quality) and for naming an
impostor through the 1:N matcher tier. Reads only, except ``template_reid_fill`` (the caller saves).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
from django.conf import settings

from biometrics import engine
from biometrics.comparison import normalised_scores, normalised_threshold, template_shift
from biometrics.model_files import feature_active
from biometrics.models import REID_ENCODING_SIZE, FaceTemplate, encoding_pack, encoding_unpack

# The version names the embedding and its cohort term (``reid_shift``): /1 stored the 1 % cohort quantile (a
# divisor), /2 the cohort shift (added). Rows of another version are ignored and re-encoded by
# `reencode_templates` (the comparison, not the embedding, changed: their photos are embedded again).
REID_VERSION = "reid0095-fp16/yunet2023mar/cohort-top025-shift/2"
COHORT_MAX = 2000  # newest active templates of other customers a new template is shifted against
_CACHE_SIZE = 512
_cache: OrderedDict[int, tuple[tuple[int, int], np.ndarray, np.ndarray]] = OrderedDict()
_lock = threading.Lock()


def second_model_active() -> bool:
    return feature_active("face_model")


def cache_clear() -> None:
    with _lock:
        _cache.clear()


def image_embed(image: np.ndarray, near: engine.Box | None = None) -> np.ndarray | None:
    """The second model's embedding of the face in ``image`` nearest ``near`` (the dlib box), else the
    largest; None when YuNet finds no face there."""
    faces = engine.detect_faces_yunet(image)
    if near is not None:
        centre = ((near.left + near.right) / 2, (near.top + near.bottom) / 2)
        faces = [
            f
            for f in faces
            if f.box.left <= centre[0] <= f.box.right and f.box.top <= centre[1] <= f.box.bottom
        ]
    if not faces:
        return None
    best = max(faces, key=lambda face: face.box.width * face.box.height)
    return engine.encode_face_reid(image, best.landmarks)


def cohort_read(*, exclude_customer_id: int) -> np.ndarray:
    """Other customers' active second-model embeddings (newest first, at most COHORT_MAX): no labels."""
    rows = (
        FaceTemplate.objects.filter(
            revoked_at__isnull=True,
            gallery_added_version__isnull=False,
            reid_version=REID_VERSION,
        )
        .exclude(customer_id=exclude_customer_id)
        .order_by("-id")
        .values_list("reid_encoding", flat=True)[:COHORT_MAX]
    )
    vectors = [encoding_unpack(text, size=REID_ENCODING_SIZE) for text in rows]
    return np.vstack(vectors) if vectors else np.empty((0, REID_ENCODING_SIZE), np.float32)


def template_reid_fill(template: FaceTemplate, embedding: np.ndarray, cohort: np.ndarray) -> None:
    """Set the template's encrypted embedding and its shift against ``cohort`` (the caller saves the row; the
    shift lives in ``reid_shift``)."""
    template.reid_encoding = encoding_pack(embedding, size=REID_ENCODING_SIZE)
    template.reid_version = REID_VERSION
    template.reid_shift = template_shift(embedding, cohort)


def customer_reid_templates(*, customer_id: int, state: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(N, 256) embeddings and (N,) shifts of the customer's active templates that have one; cached per
    process for the gallery version, like the dlib encodings."""
    with _lock:
        hit = _cache.get(customer_id)
        if hit is not None and hit[0] == state:
            _cache.move_to_end(customer_id)
            return hit[1], hit[2]
    rows = list(
        FaceTemplate.objects.filter(
            customer_id=customer_id,
            engine_version=engine.ENGINE_VERSION,
            gallery_added_version__isnull=False,
            revoked_at__isnull=True,
            reid_version=REID_VERSION,
            reid_shift__isnull=False,
        ).values_list("reid_encoding", "reid_shift")
    )
    matrix = np.array([encoding_unpack(text, size=REID_ENCODING_SIZE) for text, _ in rows], np.float32)
    shifts = np.array([shift for _, shift in rows], np.float64)
    matrix = matrix.reshape(-1, REID_ENCODING_SIZE)
    with _lock:
        _cache[customer_id] = (state, matrix, shifts)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return matrix, shifts


def as_distance(normalised: float) -> float:
    """The normalised score on the dlib-distance scale of the kiosk (its threshold maps onto
    FACE_DISTANCE_THRESHOLD), so verdicts, streaks and the shown percentage keep one meaning."""
    return normalised / normalised_threshold(settings.FACE_TARGET_FMR) * settings.FACE_DISTANCE_THRESHOLD


def frame_distance(
    *, customer_id: int, image: np.ndarray, face: engine.Face, state: tuple[int, int]
) -> float | None:
    """The customer's best second-model score for this frame on the kiosk's distance scale; None when the
    second model is off or the customer has no second-model template yet (the caller falls back to dlib).
    A frame where YuNet finds no face at dlib's face scores as a clear non-match."""
    return frame_scores(customer_id=customer_id, image=image, face=face, state=state)[0]


def frame_scores(
    *, customer_id: int, image: np.ndarray, face: engine.Face, state: tuple[int, int]
) -> tuple[float | None, np.ndarray | None]:
    """``frame_distance`` and the frame's second-model probe (None when not computed: the second model is
    off, or the customer has no second-model template; or YuNet found no face)."""
    if not second_model_active():
        return None, None
    templates, shifts = customer_reid_templates(customer_id=customer_id, state=state)
    if len(templates) == 0:
        return None, None
    probe = image_embed(image, near=face.box)
    if probe is None:
        return 2.0 * settings.FACE_DISTANCE_THRESHOLD, None
    return as_distance(float(normalised_scores(templates, shifts, probe).min())), probe


def frame_probe(*, image: np.ndarray, face: engine.Face) -> np.ndarray | None:
    """The frame's second-model embedding for the 1:N tier (None with the second model off or no face)."""
    return image_embed(image, near=face.box) if second_model_active() else None


def candidate_distance(*, customer_id: int, probe: np.ndarray | None, state: tuple[int, int]) -> float | None:
    """A card-less candidate's second-model score on the kiosk scale (None: no probe or no template)."""
    if probe is None:
        return None
    templates, shifts = customer_reid_templates(customer_id=customer_id, state=state)
    if len(templates) == 0:
        return None
    return as_distance(float(normalised_scores(templates, shifts, probe).min()))
