"""Kiosk frame verification: one camera frame against the claimed customer's face (1:1), the matcher (1:N)
only to name an impostor who is another enrolled customer. A pure read: no database writes, no audit rows (the
kiosk owns the K-consecutive-frames rule, timeouts and auditing). No gallery in this process: the 1:N question
goes to `biometrics.matcher` with a short deadline; unanswered, the frame is a no-match with `naming_pending`
and the kiosk records the probe so the naming is done later.

With the second model (biometrics.services.second_model) the distance d of a customer who has its templates
is its per-template score mapped so that its threshold is FACE_DISTANCE_THRESHOLD.
Match percentage shown to people (not used for decisions): d / FACE_DISTANCE_THRESHOLD read against the
genuine scores the benchmark measured (comparison.genuine_percent): the share of genuine comparisons that
scored no better, so the median genuine customer reads 50 % and a clear match 75-100 %.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from django.conf import settings
from django.db.models import QuerySet

from biometrics import engine
from biometrics.comparison import genuine_percent
from biometrics.matcher import match_nearest
from biometrics.model_files import feature_active
from biometrics.models import ENCODING_SIZE, FaceTemplate, encoding_unpack
from biometrics.quality import face_problem
from biometrics.services import second_model
from biometrics.services.gallery_state import gallery_state_read
from biometrics.verdicts import FaceOutcome, FaceProblem, FrameVerdict

_CACHE_SIZE = 512


def match_percent(distance: float, *, threshold: float | None = None) -> int:
    """The percentage shown after the decision: the score (distance over the threshold) read against the
    genuine comparisons the benchmark measured (comparison.genuine_percent)."""
    threshold = settings.FACE_DISTANCE_THRESHOLD if threshold is None else threshold
    return genuine_percent(distance / threshold)


# customer_id -> (gallery (version, epoch), (N,128) float32). Frames of one kiosk session hit the same entry,
# so templates are decrypted once per customer per gallery version, not once per frame.
_owner_cache: OrderedDict[int, tuple[tuple[int, int], np.ndarray]] = OrderedDict()
_owner_lock = threading.Lock()


def cache_clear() -> None:
    with _owner_lock:
        _owner_cache.clear()


def _active_templates_query(customer_id: int) -> QuerySet[FaceTemplate]:
    return FaceTemplate.objects.filter(
        customer_id=customer_id,
        engine_version=engine.ENGINE_VERSION,
        gallery_added_version__isnull=False,
        revoked_at__isnull=True,
    )


def customer_active_encodings(*, customer_id: int, state: tuple[int, int] | None = None) -> np.ndarray:
    """The customer's active encodings (N,128), cached per process for the current gallery version."""
    key = state if state is not None else gallery_state_read()
    with _owner_lock:
        hit = _owner_cache.get(customer_id)
        if hit is not None and hit[0] == key:
            _owner_cache.move_to_end(customer_id)
            return hit[1]
    rows = list(_active_templates_query(customer_id).values_list("encoding", flat=True))
    matrix = (
        np.vstack([encoding_unpack(text) for text in rows]).astype(np.float32)
        if rows
        else np.empty((0, ENCODING_SIZE), dtype=np.float32)
    )
    matrix.setflags(write=False)
    with _owner_lock:
        _owner_cache[customer_id] = (key, matrix)
        _owner_cache.move_to_end(customer_id)
        while len(_owner_cache) > _CACHE_SIZE:
            _owner_cache.popitem(last=False)
    return matrix


def customer_has_active_templates(*, customer_id: int) -> bool:
    return _active_templates_query(customer_id).exists()


def _usable_face(
    image: np.ndarray, *, owner_ids: Sequence[int] = ()
) -> tuple[engine.Face, list[dict[str, int]], list[list[float]]] | FrameVerdict:
    """The frame's one face, large and sharp enough to compare (with every box and its landmarks), or the
    verdict that refuses the frame. Cheap checks: no encoding is computed for a frame that fails them, except
    several faces, which are named (`_several_faces_named`)."""
    faces = engine.detect_faces(image, purpose="live")
    boxes = [face.box.as_dict() for face in faces]
    if not faces:
        return FrameVerdict(FaceOutcome.NO_FACE, boxes, None, None, None, None, None)
    if len(faces) > 1:
        return _several_faces_named(image, faces, boxes, owner_ids=owner_ids)
    face = faces[0]
    landmarks = np.asarray(face.landmarks, dtype=np.float32).round(1).tolist()
    if problem := face_problem(face.quality):
        return FrameVerdict(FaceOutcome.LOW_QUALITY, boxes, None, None, landmarks, None, problem)
    return face, boxes, landmarks


# Faces of a several-faces frame that are encoded and named (the largest first): bounds the work per frame.
SEVERAL_FACES_NAMED = 3


def _several_faces_named(
    image: np.ndarray, faces: list[engine.Face], boxes: list[dict[str, int]], *, owner_ids: Sequence[int]
) -> FrameVerdict:
    """Several faces: still refused, but named. If none is the owner's (a card-less candidate's) and one is
    another enrolled customer's, the verdict names them (no code for the session); if the matcher cannot
    answer in time, the probes go with the verdict for a deferred naming. A bystander behind the owner is
    not a mismatch."""
    plain = FrameVerdict(FaceOutcome.SEVERAL_FACES, boxes, None, None, None, None, None)
    largest = sorted(faces, key=lambda face: face.box.width * face.box.height, reverse=True)
    probes = np.vstack([engine.encode_face(image, face) for face in largest[:SEVERAL_FACES_NAMED]])
    state = gallery_state_read()
    threshold = settings.FACE_DISTANCE_THRESHOLD
    for owner_id in owner_ids:
        known = customer_active_encodings(customer_id=owner_id, state=state)
        if len(known) and min(float(engine.distances(known, probe).min()) for probe in probes) <= threshold:
            return plain
    exclude = owner_ids[0] if len(owner_ids) == 1 else None
    other = match_nearest(probes=probes, exclude_customer_id=exclude, min_version=state[0])
    if other.names_someone(threshold=threshold) and other.customer_id not in owner_ids:
        return replace(plain, other_customer_id=other.customer_id, distance=other.distance)
    if not other.complete:
        return replace(plain, naming_pending=True, probe=probes.astype(np.float32))
    return plain


def frame_verify(*, customer_id: int, image: np.ndarray) -> FrameVerdict:
    """Decide one frame: the usable-face checks first, then 1:1 with the customer, then 1:N to name a
    mismatch."""
    usable = _usable_face(image, owner_ids=[customer_id])
    if isinstance(usable, FrameVerdict):
        return usable
    face, boxes, landmarks = usable
    state = gallery_state_read()
    known = customer_active_encodings(customer_id=customer_id, state=state)
    if len(known) == 0:
        return FrameVerdict(
            FaceOutcome.NO_MATCH, boxes, None, None, landmarks, None, FaceProblem.NOT_ENROLLED
        )
    # The second model decides when the customer has its templates (second_model); dlib's encoding is then
    # only needed to name an impostor through the 1:N tier, so a matching frame skips it.
    probe: np.ndarray | None = None
    distance, reid_probe = second_model.frame_scores(
        customer_id=customer_id, image=image, face=face, state=state
    )
    if distance is None:
        probe = engine.encode_face(image, face)
        distance = float(engine.distances(known, probe).min())
    compared = _Compared(boxes, landmarks, distance)
    threshold = settings.FACE_DISTANCE_THRESHOLD
    if distance <= threshold:
        pad_score = _pad_score(image, face)
        return compared.verdict(FaceOutcome.MATCH, pad_score=pad_score, customer_id=customer_id)
    if probe is None:
        probe = engine.encode_face(image, face)
    # PAD for another customer's face too (and one not yet named): only a live one counts towards blocking.
    if reid_probe is None:
        reid_probe = second_model.frame_probe(image=image, face=face)
    other = match_nearest(
        probes=probe, exclude_customer_id=customer_id, min_version=state[0], reid_probes=reid_probe
    )
    if other.names_someone(threshold=threshold):
        return compared.verdict(
            FaceOutcome.MISMATCH, other_customer_id=other.customer_id, pad_score=_pad_score(image, face)
        )
    return compared.verdict(
        FaceOutcome.NO_MATCH,
        naming_pending=not other.complete,
        probe=None if other.complete else np.asarray(probe, dtype=np.float32),
        pad_score=None if other.complete else _pad_score(image, face),
    )


def _pad_score(image: np.ndarray, face: engine.Face) -> float | None:
    """The PAD models' "live" probability of a matching face (None with PAD or liveness off)."""
    if not (settings.LIVENESS_ENABLED and feature_active("pad")):
        return None
    return round(engine.pad_score(image, face.box, models=settings.PAD_MODELS), 4)


@dataclass(frozen=True)
class _Compared:
    """A face that was encoded and compared: boxes, landmarks, best distance (None: no one to compare)."""

    boxes: list[dict[str, int]]
    landmarks: list[list[float]]
    distance: float | None

    def verdict(
        self,
        outcome: FaceOutcome,
        *,
        problem: FaceProblem | None = None,
        other_customer_id: int | None = None,
        customer_id: int | None = None,
        pad_score: float | None = None,
        naming_pending: bool = False,
        probe: np.ndarray | None = None,
    ) -> FrameVerdict:
        return FrameVerdict(
            outcome,
            self.boxes,
            None if self.distance is None else round(self.distance, 4),
            None if self.distance is None else match_percent(self.distance),
            self.landmarks,
            other_customer_id,
            problem,
            pad_score=pad_score,
            naming_pending=naming_pending,
            probe=probe,
            customer_id=customer_id,
        )


def frame_verify_candidates(*, customer_ids: Sequence[int], image: np.ndarray) -> FrameVerdict:
    """Card-less: one frame against the customers who share the typed phone number (1:1 or 1:few).

    One candidate (the usual case) is exactly the card path, `frame_verify`. With several, the best must be
    within the threshold AND beat the runner-up by CARDLESS_CANDIDATE_MARGIN, or nobody matches (a family
    resemblance is not an identification). With none (an unknown number) the frame gets the same work, one
    encoding and the 1:N check, so its timing does not tell a known number from an unknown one. A face that
    matches nobody here but another enrolled customer in the 1:N gallery is a mismatch, as with a card.
    """
    if len(customer_ids) == 1:
        return frame_verify(customer_id=customer_ids[0], image=image)
    usable = _usable_face(image, owner_ids=customer_ids)
    if isinstance(usable, FrameVerdict):
        return usable
    face, boxes, landmarks = usable
    state = gallery_state_read()
    probe = engine.encode_face(image, face)
    reid_probe = second_model.frame_probe(image=image, face=face)
    scored = sorted(
        (_candidate_distance(customer_id, known, probe, reid_probe, state), customer_id)
        for customer_id in customer_ids
        if len(known := customer_active_encodings(customer_id=customer_id, state=state))
    )
    decision = candidates_decide(scored)
    if decision is not None:
        distance, customer_id = decision
        # PAD-scored exactly as a single candidate's match: a shared phone is not a reason to skip it.
        return _Compared(boxes, landmarks, distance).verdict(
            FaceOutcome.MATCH, customer_id=customer_id, pad_score=_pad_score(image, face)
        )
    best = scored[0] if scored else None
    compared = _Compared(boxes, landmarks, best[0] if best else None)
    threshold = settings.FACE_DISTANCE_THRESHOLD
    if best is None or best[0] > threshold:
        other = match_nearest(
            probes=probe,
            exclude_customer_id=best[1] if best else None,
            min_version=state[0],
            reid_probes=reid_probe,
        )
        if other.names_someone(threshold=threshold) and other.customer_id not in customer_ids:
            return compared.verdict(FaceOutcome.MISMATCH, other_customer_id=other.customer_id)
        return compared.verdict(FaceOutcome.NO_MATCH)
    return compared.verdict(FaceOutcome.NO_MATCH, problem=FaceProblem.TOO_CLOSE_TO_CALL)


def _candidate_distance(
    customer_id: int,
    known: np.ndarray,
    probe: np.ndarray,
    reid_probe: np.ndarray | None,
    state: tuple[int, int],
) -> float:
    """A candidate's score as the 1:1 computes it: the second model's when the candidate has its templates,
    dlib's otherwise."""
    second = second_model.candidate_distance(customer_id=customer_id, probe=reid_probe, state=state)
    return second if second is not None else float(engine.distances(known, probe).min())


def candidates_decide(scored: Sequence[tuple[float, int]]) -> tuple[float, int] | None:
    """(distance, customer_id) of the matching candidate, from (distance, customer_id) sorted ascending.

    The best must be within FACE_DISTANCE_THRESHOLD and, with a runner-up, closer than it by at least
    CARDLESS_CANDIDATE_MARGIN; otherwise None (no match).
    """
    if not scored or scored[0][0] > settings.FACE_DISTANCE_THRESHOLD:
        return None
    if len(scored) > 1 and scored[1][0] - scored[0][0] < settings.CARDLESS_CANDIDATE_MARGIN:
        return None
    return scored[0]
