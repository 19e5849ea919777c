"""Branch enrolment, capture: consent, opening a capture, per-shot feedback (stills and clips), submitting.

Every shot is checked (one face, usable quality, a new pose) before it is kept, encrypted; a refused shot
leaves nothing behind. Submitting hands the kept photos to the encoding task (`enrolment_encoding`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from accounts.errors import AccountsError
from accounts.models import Customer
from atmsite.crypto import encrypted_file_delete, encrypted_file_save
from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from audit.services import audit_event_record
from biometrics import engine
from biometrics.errors import BiometricsError
from biometrics.models import Enrolment, EnrolmentPhoto
from biometrics.pose import enrolment_pose
from biometrics.quality import face_problem, quality_figures

PHOTO_FOLDER = "enrolment"
# Two consecutive shots must differ by at least one of these (a slow head turn easily passes them; a camera
# firing twice at a still person does not). Units: yaw/pitch are nose offsets in inter-ocular distances,
# roll in degrees, position and scale in fractions of the image / face size.
POSE_MIN_CHANGE = {"yaw": 0.04, "pitch": 0.04, "roll": 2.0, "cx": 0.02, "cy": 0.02, "scale": 0.04}
# A clip is analysed with the fast live detector on every CLIP_FRAME_STEP-th frame: at 30 fps, 50 analysed
# frames cover the first 5 s and cost ~2-3 s of HOG on a 640-pixel frame.
CLIP_MAX_FRAMES = 50
CLIP_FRAME_STEP = 3


@dataclass(frozen=True)
class PhotoFeedback:
    accepted: bool
    code: str
    message: str
    photos_taken: int
    photos_required: int
    quality: dict[str, Any] = field(default_factory=dict)
    box: dict[str, int] | None = None


def enrolment_audit(
    enrolment: Enrolment, kind: str, outcome: str, *, actor: User | None = None, **data: object
) -> None:
    """An audit event about `enrolment` (its id and customer), inside the caller's transaction."""
    audit_event_record(
        kind=kind,
        outcome=outcome,
        actor=actor,
        customer_id=enrolment.customer_id,
        data={"enrolment_id": enrolment.pk, **data},
    )


@transaction.atomic
def customer_consent_record(*, customer: Customer, actor: User | None) -> Customer:
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
def enrolment_start(
    *, customer: Customer, actor: User | None, photos_required: int | None = None
) -> Enrolment:
    """Open a capture session; an unfinished capture of the same customer is closed as superseded."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.biometric_consent_at is None:
        raise ApplicationError(BiometricsError.CONSENT_MISSING)
    if not customer.is_active:
        raise ApplicationError(AccountsError.CUSTOMER_INACTIVE)
    required = photos_required or settings.ENROLMENT_PHOTOS_REQUIRED
    if not 1 <= required <= 30:
        raise ApplicationError(BiometricsError.PHOTOS_REQUIRED)
    if Enrolment.objects.filter(
        customer=customer, status__in=[Enrolment.Status.QUEUED, Enrolment.Status.ENCODING]
    ).exists():
        raise ApplicationError(BiometricsError.ENROLMENT_IN_PROGRESS, status_code=409)
    Enrolment.objects.filter(customer=customer, status=Enrolment.Status.CAPTURING).update(
        status=Enrolment.Status.SUPERSEDED, failure_reason="A new capture was started."
    )
    return Enrolment.objects.create(customer=customer, created_by=actor, photos_required=required)


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


def _reject(
    code: BiometricsError,
    message: str | None = None,
    *,
    enrolment: Enrolment,
    box: dict[str, int] | None = None,
) -> NoReturn:
    """Refuse a shot: ApplicationError (400) with the reason and the current count for the capture page."""
    taken = enrolment.photos.filter(status=EnrolmentPhoto.Status.OK).count()
    raise ApplicationError(
        code,
        message,
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
            BiometricsError.ENROLMENT_CLOSED,
            params={"status": enrolment.get_status_display().lower()},
            status_code=409,
        )


def _reject_if_duplicate(enrolment: Enrolment, digest: str) -> None:
    if enrolment.photos.filter(sha256=digest).exists():
        _reject(BiometricsError.PHOTO_DUPLICATE, enrolment=enrolment)


@dataclass(frozen=True)
class _Shot:
    digest: str
    box: dict[str, int]
    quality: dict[str, Any]


def _shot_examine(enrolment: Enrolment, data: bytes) -> _Shot:
    """Decode the shot and check its one face; refuses (raises) with the reason for the person at the camera.
    Detection is the slow part (~0.1-1 s): it runs before any lock is taken."""
    digest = hashlib.sha256(data).hexdigest()
    _reject_if_duplicate(enrolment, digest)
    try:
        image = engine.decode_image(data, max_pixels=settings.IMAGE_MAX_PIXELS)
    except engine.ImageRejected as error:
        _reject(BiometricsError.from_code(f"image_{error.code}"), error.message, enrolment=enrolment)
    faces = engine.detect_faces(image, purpose="enrol")
    if not faces:
        _reject(BiometricsError.NO_FACE, enrolment=enrolment)
    if len(faces) > 1:
        _reject(BiometricsError.SEVERAL_FACES, enrolment=enrolment)
    face = faces[0]
    box = face.box.as_dict()
    if problem := face_problem(face.quality):
        _reject(BiometricsError.from_code(problem), enrolment=enrolment, box=box)
    return _Shot(digest, box, {**quality_figures(face.quality), "pose": enrolment_pose(face, image.shape)})


def enrolment_photo_add(
    *, enrolment: Enrolment, data: bytes, actor: User | None, require_pose_change: bool = True
) -> PhotoFeedback:
    """Check one shot and keep it (encrypted) if it is usable; otherwise raise ApplicationError (400) with the
    reason for the person at the camera. Nothing is stored for a refused shot.

    `require_pose_change` is for live camera capture (consecutive frames of a still head add nothing);
    distinct uploaded photos are compared by their bytes only.
    """
    _check_capturing(enrolment)
    shot = _shot_examine(enrolment, data)
    with transaction.atomic():
        # The row lock serialises shots of one enrolment: index and count checks see the committed state.
        locked = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
        _check_capturing(locked)
        ok_photos = locked.photos.filter(status=EnrolmentPhoto.Status.OK)
        taken = ok_photos.count()
        if taken >= locked.photos_required:
            raise ApplicationError(BiometricsError.PHOTOS_COMPLETE, status_code=409)
        _reject_if_duplicate(locked, shot.digest)
        previous = ok_photos.order_by("-index").first()
        if (
            require_pose_change
            and previous is not None
            and not _pose_changed(previous.quality.get("pose", {}), shot.quality["pose"])
        ):
            _reject(BiometricsError.PHOTO_TOO_SIMILAR, enrolment=locked, box=shot.box)
        _photo_store(enrolment=locked, data=data, digest=shot.digest, quality=shot.quality)
    return PhotoFeedback(
        accepted=True,
        code="ok",
        message=f"Good. {taken + 1} of {locked.photos_required} taken.",
        photos_taken=taken + 1,
        photos_required=locked.photos_required,
        quality=shot.quality,
        box=shot.box,
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


def _clip_pick(enrolment: Enrolment, frames: list[np.ndarray]) -> list[tuple[bytes, dict[str, Any]]]:
    """The clip's frames worth keeping, as (JPEG still, quality): one usable face in a pose not yet taken, up
    to the number of photos still missing. Raises ApplicationError if the clip offers none."""
    kept_poses = _kept_poses(enrolment)
    needed = enrolment.photos_required - len(kept_poses)
    picked: list[tuple[bytes, dict[str, Any]]] = []
    repeats = 0
    for frame in frames:
        if len(picked) >= needed:
            break
        faces = engine.detect_faces(frame, purpose="live")
        if len(faces) != 1 or face_problem(faces[0].quality):
            continue
        pose = enrolment_pose(faces[0], frame.shape)
        if _pose_already_taken(kept_poses, pose):
            repeats += 1
            continue
        kept_poses.append(pose)
        quality = {**quality_figures(faces[0].quality), "pose": pose, "from_clip": True}
        picked.append((engine.jpeg_encode(frame, quality=92), quality))
    if not picked and repeats:
        raise ApplicationError(BiometricsError.CLIP_FRAMES_ALREADY_TAKEN, extra={"accepted": False})
    if not picked:
        raise ApplicationError(BiometricsError.CLIP_NO_USABLE_FRAMES, extra={"accepted": False})
    return picked


def enrolment_clip_add(*, enrolment: Enrolment, data: bytes, actor: User | None) -> PhotoFeedback:
    """Take the missing photos from a short clip (WebM/MP4, ~5 s, the customer turning their head slowly).

    Frames with exactly one large, sharp face whose pose differs from the last kept one are stored as JPEG
    stills, exactly as if they had been captured one by one; the rest of the clip is discarded.
    """
    _check_capturing(enrolment)
    try:
        frames = engine.decode_video_frames(data, max_frames=CLIP_MAX_FRAMES, every=CLIP_FRAME_STEP)
    except engine.ImageRejected as error:
        raise ApplicationError(BiometricsError.from_code(f"clip_{error.code}"), error.message) from error
    picked = _clip_pick(enrolment, frames)
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


def enrolment_submit(*, enrolment: Enrolment, actor: User | None, allow_partial: bool = False) -> Enrolment:
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
                BiometricsError.PHOTOS_MISSING,
                params={"taken": taken, "required": locked.photos_required},
                extra={"photos_taken": taken, "photos_required": locked.photos_required},
            )
        locked.status = Enrolment.Status.QUEUED
        locked.submitted_at = timezone.now()
        locked.encoded_count = 0
        locked.save(
            update_fields=["status", "submitted_at", "encoded_count", "photos_required", "updated_at"]
        )
        enrolment_audit(
            locked, AuditEvent.Kind.ENROLMENT_SUBMITTED, AuditEvent.Outcome.INFO, actor=actor, photos=taken
        )
        enrolment_id = locked.pk
        # The worker must never see the enrolment before this transaction commits.
        transaction.on_commit(lambda: enrolment_encode_task.delay(enrolment_id))
    locked.refresh_from_db()
    return locked
