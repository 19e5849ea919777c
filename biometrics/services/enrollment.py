"""Branch enrolment: consent, capture with per-shot feedback, submit, background encoding, review."""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.approvals.services import face_reenrol_propose, face_reenrol_settle
from accounts.models import Customer
from atmsite.crypto import encrypted_file_delete, encrypted_file_save
from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from audit.services import audit_event_record
from biometrics import engine
from biometrics.matcher import MatcherUnavailable, match_nearest
from biometrics.models import Enrolment, EnrolmentPhoto, FaceTemplate, encoding_unpack
from biometrics.services.gallery_state import gallery_state_lock, gallery_version_bump
from biometrics.services.templates import photo_encode, template_create, templates_activate

logger = logging.getLogger(__name__)

PHOTO_FOLDER = "enrolment"
# Two consecutive shots must differ by at least one of these (a slow head turn easily passes them; a camera
# firing twice at a still person does not). Units: yaw/pitch are nose offsets in inter-ocular distances,
# roll in degrees, position and scale in fractions of the image / face size.
POSE_MIN_CHANGE = {"yaw": 0.04, "pitch": 0.04, "roll": 2.0, "cx": 0.02, "cy": 0.02, "scale": 0.04}


def _photos_required_default() -> int:
    return settings.ENROLMENT_PHOTOS_REQUIRED


@transaction.atomic
def customer_consent_record(*, customer: Customer, actor: Any) -> Customer:
    """Record (once) that the customer agreed to face verification, when and before which staff member."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.biometric_consent_at is not None:
        return customer
    customer.biometric_consent_at = timezone.now()
    customer.biometric_consent_by = actor
    customer.save(update_fields=["biometric_consent_at", "biometric_consent_by"])
    audit_event_record(
        kind=AuditEvent.Kind.CONSENT_RECORDED,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        customer_id=customer.pk,
        data={"consent_at": customer.biometric_consent_at.isoformat()},
    )
    return customer


@transaction.atomic
def enrolment_start(*, customer: Customer, actor: Any, photos_required: int | None = None) -> Enrolment:
    """Open a capture session; an unfinished capture of the same customer is closed as superseded."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.biometric_consent_at is None:
        raise ApplicationError(
            "Record the customer's consent to face verification first.", code="consent_missing"
        )
    if not customer.is_active:
        raise ApplicationError("The customer is not active.", code="customer_inactive")
    required = photos_required or _photos_required_default()
    if not 1 <= required <= 30:
        raise ApplicationError("Between 1 and 30 photos can be required.", code="photos_required")
    if Enrolment.objects.filter(
        customer=customer, status__in=[Enrolment.Status.QUEUED, Enrolment.Status.ENCODING]
    ).exists():
        raise ApplicationError(
            "An enrolment of this customer is being encoded; wait for it to finish.",
            code="enrolment_in_progress",
            status_code=409,
        )
    Enrolment.objects.filter(customer=customer, status=Enrolment.Status.CAPTURING).update(
        status=Enrolment.Status.SUPERSEDED, failure_reason="A new capture was started."
    )
    return Enrolment.objects.create(customer=customer, created_by=actor, photos_required=required)


def _pose(face: engine.Face, image_shape: tuple[int, ...]) -> dict[str, float]:
    """A few pose figures from the landmarks: enough to tell two shots apart, not enough to identify anyone
    (the landmarks themselves are never stored)."""
    points = np.asarray(face.landmarks, dtype=np.float64)
    eye_a, eye_b = points[36:42].mean(axis=0), points[42:48].mean(axis=0)
    eyes_mid = (eye_a + eye_b) / 2
    axis = eye_b - eye_a
    ocular = float(np.hypot(*axis)) or 1.0
    unit = axis / ocular
    normal = np.array([-unit[1], unit[0]])
    nose = points[30] - eyes_mid
    height, width = image_shape[:2]
    box = face.box
    return {
        "yaw": round(float(nose @ unit) / ocular, 4),
        "pitch": round(float(nose @ normal) / ocular, 4),
        "roll": round(math.degrees(math.atan2(axis[1], axis[0])), 2),
        "cx": round((box.left + box.right) / 2 / width, 4),
        "cy": round((box.top + box.bottom) / 2 / height, 4),
        "scale": round(box.width / max(width, height), 4),
    }


def _pose_changed(previous: dict[str, float], current: dict[str, float]) -> bool:
    for key, minimum in POSE_MIN_CHANGE.items():
        before, after = previous.get(key), current.get(key)
        if before is None or after is None:
            return True
        change = abs(after - before)
        if key == "scale":
            change /= max(before, 1e-6)
        if change >= minimum:
            return True
    return False


def _kept_poses(enrolment: Enrolment) -> list[dict[str, float]]:
    photos = enrolment.photos.filter(status=EnrolmentPhoto.Status.OK).order_by("index")
    return [photo.quality["pose"] for photo in photos if photo.quality.get("pose")]


def _pose_already_taken(kept: list[dict[str, float]], pose: dict[str, float]) -> bool:
    """A clip frame is a new view only if its pose differs from every kept shot: its JPEG bytes are always
    new, so the byte check alone would let a clip of the same head positions count again."""
    return any(not _pose_changed(previous, pose) for previous in kept)


@dataclass(frozen=True)
class PhotoFeedback:
    accepted: bool
    code: str
    message: str
    photos_taken: int
    photos_required: int
    quality: dict[str, Any] = field(default_factory=dict)
    box: dict[str, int] | None = None


def _reject(code: str, message: str, *, enrolment: Enrolment, box: dict[str, int] | None = None) -> None:
    taken = enrolment.photos.filter(status=EnrolmentPhoto.Status.OK).count()
    raise ApplicationError(
        message,
        code=code,
        extra={
            "accepted": False,
            "photos_taken": taken,
            "photos_required": enrolment.photos_required,
            "box": box,
        },
    )


def _check_capturing(enrolment: Enrolment) -> None:
    if enrolment.status != Enrolment.Status.CAPTURING:
        raise ApplicationError(
            f"This enrolment is {enrolment.get_status_display().lower()}; start a new one to take photos.",
            code="enrolment_closed",
            status_code=409,
        )


def enrolment_photo_add(
    *, enrolment: Enrolment, data: bytes, actor: Any, require_pose_change: bool = True
) -> PhotoFeedback:
    """Check one shot and keep it (encrypted) if it is usable; otherwise raise ApplicationError (400) with the
    reason for the person at the camera. Nothing is stored for a refused shot.

    `require_pose_change` is for live camera capture (consecutive frames of a still head add nothing);
    distinct uploaded photos are compared by their bytes only.
    """
    _check_capturing(enrolment)
    digest = hashlib.sha256(data).hexdigest()
    if enrolment.photos.filter(sha256=digest).exists():
        _reject("photo_duplicate", "This exact photo was already taken.", enrolment=enrolment)
    try:
        image = engine.decode_image(data, max_pixels=settings.IMAGE_MAX_PIXELS)
    except engine.ImageRejected as error:
        _reject(f"image_{error.code}", error.message, enrolment=enrolment)
        raise AssertionError("unreachable") from error
    # Detection is the slow part (~0.1-1 s): it runs before any lock is taken.
    faces = engine.detect_faces(image, purpose="enrol")
    if not faces:
        _reject("no_face", "No face found. Face the camera in good light.", enrolment=enrolment)
    if len(faces) > 1:
        _reject("several_faces", "Only the customer should be in the picture.", enrolment=enrolment)
    face = faces[0]
    box = face.box.as_dict()
    if face.quality.face_px < settings.FACE_MIN_SIZE_PX:
        _reject("face_too_small", "The face is too small: move closer.", enrolment=enrolment, box=box)
    if face.quality.sharpness < settings.FACE_MIN_SHARPNESS:
        _reject("face_blurred", "The photo is blurred: hold still.", enrolment=enrolment, box=box)
    pose = _pose(face, image.shape)
    quality = {
        "face_px": face.quality.face_px,
        "sharpness": round(face.quality.sharpness, 1),
        "brightness": round(face.quality.brightness, 1),
        "pose": pose,
    }
    with transaction.atomic():
        # The row lock serialises shots of one enrolment: index and count checks see the committed state.
        locked = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
        _check_capturing(locked)
        ok_photos = locked.photos.filter(status=EnrolmentPhoto.Status.OK)
        taken = ok_photos.count()
        if taken >= locked.photos_required:
            raise ApplicationError(
                "All photos are taken; submit the enrolment.", code="photos_complete", status_code=409
            )
        if locked.photos.filter(sha256=digest).exists():
            _reject("photo_duplicate", "This exact photo was already taken.", enrolment=locked)
        previous = ok_photos.order_by("-index").first()
        if (
            require_pose_change
            and previous is not None
            and not _pose_changed(previous.quality.get("pose", {}), pose)
        ):
            _reject(
                "photo_too_similar",
                "Almost the same as the previous shot: move your head slowly.",
                enrolment=locked,
                box=box,
            )
        _photo_store(enrolment=locked, data=data, digest=digest, quality=quality)
    return PhotoFeedback(
        accepted=True,
        code="ok",
        message=f"Good. {taken + 1} of {locked.photos_required} taken.",
        photos_taken=taken + 1,
        photos_required=locked.photos_required,
        quality=quality,
        box=box,
    )


def _photo_store(
    *, enrolment: Enrolment, data: bytes, digest: str, quality: dict[str, Any]
) -> EnrolmentPhoto:
    """Keep an accepted shot, encrypted. Caller holds the enrolment row lock (index numbering)."""
    last_index = enrolment.photos.order_by("-index").values_list("index", flat=True).first()
    name = encrypted_file_save(folder=PHOTO_FOLDER, data=data)
    try:
        return EnrolmentPhoto.objects.create(
            enrolment=enrolment,
            index=(last_index or 0) + 1,
            storage_name=name,
            sha256=digest,
            quality=quality,
        )
    except Exception:
        # The row failed: do not leave an orphan ciphertext behind.
        encrypted_file_delete(name)
        raise


# A clip is analysed with the fast live detector on every CLIP_FRAME_STEP-th frame: at 30 fps, 50 analysed
# frames cover the first 5 s and cost ~2-3 s of HOG on a 640-pixel frame.
CLIP_MAX_FRAMES = 50
CLIP_FRAME_STEP = 3


def enrolment_clip_add(*, enrolment: Enrolment, data: bytes, actor: Any) -> PhotoFeedback:
    """Take the missing photos from a short clip (WebM/MP4, ~5 s, the customer turning their head slowly).

    Frames with exactly one large, sharp face whose pose differs from the last kept one are stored as JPEG
    stills, exactly as if they had been captured one by one; the rest of the clip is discarded.
    """
    _check_capturing(enrolment)
    try:
        frames = engine.decode_video_frames(data, max_frames=CLIP_MAX_FRAMES, every=CLIP_FRAME_STEP)
    except engine.ImageRejected as error:
        raise ApplicationError(error.message, code=f"clip_{error.code}") from error
    kept_poses = _kept_poses(enrolment)
    needed = enrolment.photos_required - len(kept_poses)
    picked: list[tuple[bytes, dict[str, Any]]] = []
    repeats = 0
    for frame in frames:
        if len(picked) >= needed:
            break
        faces = engine.detect_faces(frame, purpose="live")
        if len(faces) != 1:
            continue
        face = faces[0]
        if (
            face.quality.face_px < settings.FACE_MIN_SIZE_PX
            or face.quality.sharpness < settings.FACE_MIN_SHARPNESS
        ):
            continue
        pose = _pose(face, frame.shape)
        if _pose_already_taken(kept_poses, pose):
            repeats += 1
            continue
        kept_poses.append(pose)
        quality = {
            "face_px": face.quality.face_px,
            "sharpness": round(face.quality.sharpness, 1),
            "brightness": round(face.quality.brightness, 1),
            "pose": pose,
            "from_clip": True,
        }
        picked.append((engine.jpeg_encode(frame, quality=92), quality))
    if not picked and repeats:
        raise ApplicationError(
            "Every usable view in the clip was already taken: record the customer turning their head "
            "to new positions.",
            code="clip_frames_already_taken",
            extra={"accepted": False},
        )
    if not picked:
        raise ApplicationError(
            "No usable view of one face in the clip: one person, close to the camera, turning slowly.",
            code="clip_no_usable_frames",
            extra={"accepted": False},
        )
    with transaction.atomic():
        locked = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
        _check_capturing(locked)
        # Shots taken while the clip was analysed count too: compare again under the lock.
        kept_now = _kept_poses(locked)
        fresh = [
            (still, quality)
            for still, quality in picked
            if not _pose_already_taken(kept_now, quality["pose"])
            and not locked.photos.filter(sha256=hashlib.sha256(still).hexdigest()).exists()
        ]
        room = locked.photos_required - len(kept_now)
        for still, quality in fresh[: max(room, 0)]:
            _photo_store(
                enrolment=locked, data=still, digest=hashlib.sha256(still).hexdigest(), quality=quality
            )
        taken = locked.photos.filter(status=EnrolmentPhoto.Status.OK).count()
    return PhotoFeedback(
        accepted=True,
        code="ok",
        message=f"{min(len(fresh), max(room, 0))} photos taken from the clip; {taken} of "
        f"{locked.photos_required}.",
        photos_taken=taken,
        photos_required=locked.photos_required,
    )


def enrolment_submit(*, enrolment: Enrolment, actor: Any, allow_partial: bool = False) -> Enrolment:
    """Queue the photos for encoding. `allow_partial` (demo seeding from a folder) accepts fewer photos and
    lowers photos_required to what was taken."""
    from biometrics.tasks import enrolment_encode_task

    with transaction.atomic():
        locked = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
        if locked.status == Enrolment.Status.QUEUED:
            # Submitted before, but the queue may have been down when the task was published (the teller saw
            # "try again"): publish it again. Encoding is idempotent, so a second delivery does no harm.
            enrolment_id = locked.pk
            transaction.on_commit(lambda: enrolment_encode_task.delay(enrolment_id))
            return locked
        _check_capturing(locked)
        taken = locked.photos.filter(status=EnrolmentPhoto.Status.OK).count()
        if allow_partial and 0 < taken < locked.photos_required:
            locked.photos_required = taken
        if taken < locked.photos_required:
            raise ApplicationError(
                f"{taken} of {locked.photos_required} photos taken; take the rest first.",
                code="photos_missing",
                extra={"photos_taken": taken, "photos_required": locked.photos_required},
            )
        locked.status = Enrolment.Status.QUEUED
        locked.submitted_at = timezone.now()
        locked.encoded_count = 0
        locked.save(
            update_fields=["status", "submitted_at", "encoded_count", "photos_required", "updated_at"]
        )
        audit_event_record(
            kind=AuditEvent.Kind.ENROLMENT_SUBMITTED,
            outcome=AuditEvent.Outcome.INFO,
            actor=actor,
            customer_id=locked.customer_id,
            data={"enrolment_id": locked.pk, "photos": taken},
        )
        enrolment_id = locked.pk
        # The worker must never see the enrolment before this transaction commits.
        transaction.on_commit(lambda: enrolment_encode_task.delay(enrolment_id))
    locked.refresh_from_db()
    return locked


def _minimum_templates(enrolment: Enrolment) -> int:
    # Half the shots may fail at encoding (a stored file lost, an engine change that no longer finds a face)
    # and the enrolment still has enough views of the face; fewer is a retake.
    return max(1, (enrolment.photos_required + 1) // 2)


def enrolment_encode(*, enrolment_id: int) -> Enrolment:
    """The encoding task's one call. Idempotent: photos that already have a template for this engine are
    skipped, and a finished enrolment is left alone, so a redelivered task (worker killed mid-way) only does
    what is missing.
    """
    with transaction.atomic():
        enrolment = Enrolment.objects.select_for_update().get(pk=enrolment_id)
        if enrolment.status not in (Enrolment.Status.QUEUED, Enrolment.Status.ENCODING):
            return enrolment
        if enrolment.status == Enrolment.Status.QUEUED:
            enrolment.status = Enrolment.Status.ENCODING
            enrolment.save(update_fields=["status", "updated_at"])
    photos = list(enrolment.photos.filter(status=EnrolmentPhoto.Status.OK).order_by("index"))
    for photo in photos:
        if FaceTemplate.objects.filter(photo=photo, engine_version=engine.ENGINE_VERSION).exists():
            continue
        # No lock while encoding (~0.2-1 s a photo): progress is visible to the status endpoint meanwhile.
        try:
            encoding, quality = photo_encode(photo=photo)
        except ValueError as error:
            EnrolmentPhoto.objects.filter(pk=photo.pk).update(
                status=EnrolmentPhoto.Status.REJECTED, rejected_reason=str(error)[:300]
            )
            continue
        with transaction.atomic():
            template_create(enrolment=enrolment, photo=photo, encoding=encoding, quality=quality)
            Enrolment.objects.filter(pk=enrolment.pk).update(
                encoded_count=FaceTemplate.objects.filter(
                    enrolment=enrolment, engine_version=engine.ENGINE_VERSION
                ).count(),
                updated_at=timezone.now(),
            )
    return _enrolment_finish(enrolment_id=enrolment.pk)


# Same-person distances on ordinary photos reach ~0.53, different people start at ~0.66 (shared photo set):
# a photo whose median distance to the others is beyond this shows somebody else.
CONSISTENCY_MARGIN = 0.10


def _mixed_identities(templates: list[FaceTemplate]) -> bool:
    """True if some photo of the enrolment shows another person (a second face slipped into the shots)."""
    if len(templates) < 2:
        return False
    matrix = np.vstack([encoding_unpack(template.encoding) for template in templates])
    pairwise = np.linalg.norm(matrix[:, None, :] - matrix[None, :, :], axis=2)
    np.fill_diagonal(pairwise, np.nan)
    medians = np.nanmedian(pairwise, axis=1)
    return bool((medians > settings.FACE_DISTANCE_THRESHOLD + CONSISTENCY_MARGIN).any())


@transaction.atomic
def _enrolment_finish(*, enrolment_id: int) -> Enrolment:
    enrolment = Enrolment.objects.select_for_update().select_related("customer").get(pk=enrolment_id)
    if enrolment.status != Enrolment.Status.ENCODING:
        return enrolment
    templates = list(
        enrolment.templates.filter(engine_version=engine.ENGINE_VERSION, revoked_at__isnull=True)
    )
    enrolment.encoded_count = len(templates)
    enrolment.completed_at = timezone.now()
    failure = ""
    if len(templates) < _minimum_templates(enrolment):
        failure = (
            f"Only {len(templates)} of {enrolment.photos_required} photos could be encoded; please retake."
        )
    elif _mixed_identities(templates):
        failure = "The photos do not all show the same person; please retake them."
    if failure:
        enrolment.status = Enrolment.Status.FAILED
        enrolment.failure_reason = failure
        enrolment.save(
            update_fields=["status", "failure_reason", "encoded_count", "completed_at", "updated_at"]
        )
        audit_event_record(
            kind=AuditEvent.Kind.ENROLMENT_FAILED,
            outcome=AuditEvent.Outcome.FAILURE,
            customer_id=enrolment.customer_id,
            data={"enrolment_id": enrolment.pk, "encoded": len(templates), "reason": failure},
        )
        return enrolment
    # Activations are serialised on the GalleryState lock, and the duplicate check runs against exactly the
    # locked version: two people enrolling the same face at once cannot both pass it. The check asks every
    # matcher shard; without all their answers nothing is activated (the task retries, the lock is released).
    state = gallery_state_lock()
    nearest = match_nearest(
        probes=np.vstack([encoding_unpack(template.encoding) for template in templates]),
        exclude_customer_id=enrolment.customer_id,
        deadline_s=settings.MATCHER_ENROLMENT_DEADLINE_S,
        min_version=state.version,
    )
    best = nearest if nearest.names_someone() else None
    if best is None and not nearest.complete:
        raise MatcherUnavailable(nearest)
    if best is not None:
        enrolment.status = Enrolment.Status.NEEDS_REVIEW
        enrolment.duplicate_of_customer_id = best.customer_id
        enrolment.duplicate_distance = best.distance  # rounded to 4 places by the matcher
        enrolment.save(
            update_fields=[
                "status",
                "duplicate_of_customer",
                "duplicate_distance",
                "encoded_count",
                "completed_at",
                "updated_at",
            ]
        )
        audit_event_record(
            kind=AuditEvent.Kind.DUPLICATE_IDENTITY,
            outcome=AuditEvent.Outcome.FAILURE,
            customer_id=enrolment.customer_id,
            data={
                "enrolment_id": enrolment.pk,
                "other_customer_id": best.customer_id,
                "distance": enrolment.duplicate_distance,
            },
        )
        return enrolment
    if FaceTemplate.objects.filter(
        customer_id=enrolment.customer_id, revoked_at__isnull=True, gallery_added_version__isnull=False
    ).exists():
        # Replacing a face that already opens the account is a takeover path: a second member of staff
        # approves it (accounts.approvals) before the new templates replace the old ones.
        enrolment.status = Enrolment.Status.NEEDS_REVIEW
        enrolment.save(update_fields=["status", "encoded_count", "completed_at", "updated_at"])
        face_reenrol_propose(enrolment=enrolment, template_count=len(templates))
        return enrolment
    _enrolment_activate(enrolment=enrolment, templates=templates, state=state)
    audit_event_record(
        kind=AuditEvent.Kind.ENROLMENT_COMPLETED,
        outcome=AuditEvent.Outcome.SUCCESS,
        customer_id=enrolment.customer_id,
        data={"enrolment_id": enrolment.pk, "templates": len(templates), "engine": engine.ENGINE_VERSION},
    )
    return enrolment


def _enrolment_activate(*, enrolment: Enrolment, templates: list[FaceTemplate], state: Any) -> None:
    version = gallery_version_bump(state=state)
    revoked = templates_activate(templates=templates, customer=enrolment.customer, version=version)
    superseded = Enrolment.objects.filter(
        customer_id=enrolment.customer_id, status=Enrolment.Status.ACTIVE
    ).exclude(pk=enrolment.pk)
    superseded_ids = sorted(superseded.values_list("pk", flat=True))
    superseded.update(status=Enrolment.Status.SUPERSEDED)
    enrolment.status = Enrolment.Status.ACTIVE
    enrolment.save(update_fields=["status", "encoded_count", "completed_at", "updated_at"])
    if superseded_ids:
        audit_event_record(
            kind=AuditEvent.Kind.ENROLMENT_SUPERSEDED,
            outcome=AuditEvent.Outcome.SUCCESS,
            customer_id=enrolment.customer_id,
            data={
                "enrolment_id": enrolment.pk,
                "superseded_enrolment_ids": superseded_ids,
                "templates_revoked": revoked,
                "gallery_version": version,
            },
        )


@transaction.atomic
def enrolment_review(*, enrolment: Enrolment, actor: Any, approve: bool, note: str = "") -> Enrolment:
    """A second member of staff settles a possible duplicate identity or a re-enrolment of a customer who
    already had a face: approve activates the templates (e.g. identical twins, a customer with two records, a
    new face), reject revokes them. A re-enrolment's change request is settled with it."""
    enrolment = Enrolment.objects.select_for_update().select_related("customer").get(pk=enrolment.pk)
    if enrolment.status != Enrolment.Status.NEEDS_REVIEW:
        raise ApplicationError("Only an enrolment that needs review can be reviewed.", code="not_in_review")
    if actor is not None and enrolment.created_by_id == getattr(actor, "pk", None):
        raise ApplicationError(
            "The person who captured the enrolment cannot review it.", code="four_eyes", status_code=403
        )
    enrolment.reviewed_by = actor
    enrolment.reviewed_at = timezone.now()
    enrolment.review_note = note.strip()[:300]
    enrolment.save(update_fields=["reviewed_by", "reviewed_at", "review_note", "updated_at"])
    state = gallery_state_lock()
    templates = list(
        enrolment.templates.filter(engine_version=engine.ENGINE_VERSION, revoked_at__isnull=True)
    )
    if approve:
        _enrolment_activate(enrolment=enrolment, templates=templates, state=state)
    else:
        enrolment.templates.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        enrolment.status = Enrolment.Status.REJECTED
        enrolment.save(update_fields=["status", "updated_at"])
    audit_event_record(
        kind=AuditEvent.Kind.ENROLMENT_REVIEWED,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        customer_id=enrolment.customer_id,
        data={
            "enrolment_id": enrolment.pk,
            "approved": approve,
            "duplicate_of_customer_id": enrolment.duplicate_of_customer_id,
            "note": enrolment.review_note,
        },
    )
    face_reenrol_settle(enrolment=enrolment, actor=actor, approved=approve, note=enrolment.review_note)
    return enrolment
