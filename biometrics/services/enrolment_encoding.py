"""Branch enrolment, encoding: the background task's work once the photos are submitted.

Each kept photo becomes a template; then the enrolment is finished: too few templates or photos of two people
fail it, a face that matches another customer or replaces a face already in use waits for review, anything
else is activated in the gallery.
"""

from __future__ import annotations

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from biometrics import engine
from biometrics.approvals import face_enrolment_propose
from biometrics.matcher import MatcherUnavailable, match_nearest
from biometrics.models import (
    REID_ENCODING_SIZE,
    Enrolment,
    EnrolmentPhoto,
    FaceTemplate,
    GalleryState,
    encoding_unpack,
)
from biometrics.services.enrolment_capture import enrolment_audit
from biometrics.services.gallery_state import gallery_state_lock, gallery_version_bump
from biometrics.services.second_model import REID_VERSION, cohort_read
from biometrics.services.templates import photo_encode, template_create, templates_activate

# Same-person distances on ordinary photos reach ~0.53, different people start at ~0.66 (shared photo set):
# a photo whose median distance to the others is beyond this shows somebody else.
CONSISTENCY_MARGIN = 0.10


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
    cohort: np.ndarray | None = None  # other customers' second-model faces, read once when first needed
    for photo in photos:
        if FaceTemplate.objects.filter(photo=photo, engine_version=engine.ENGINE_VERSION).exists():
            continue
        # No lock while encoding (~0.2-1 s a photo): progress is visible to the status endpoint meanwhile.
        try:
            encoding, quality, reid = photo_encode(photo=photo)
        except ValueError as error:
            EnrolmentPhoto.objects.filter(pk=photo.pk).update(
                status=EnrolmentPhoto.Status.REJECTED, rejected_reason=str(error)[:300]
            )
            continue
        if reid is not None and cohort is None:
            cohort = cohort_read(exclude_customer_id=enrolment.customer_id)
        with transaction.atomic():
            template_create(
                enrolment=enrolment, photo=photo, encoding=encoding, quality=quality, reid=reid, cohort=cohort
            )
            Enrolment.objects.filter(pk=enrolment.pk).update(
                encoded_count=FaceTemplate.objects.filter(
                    enrolment=enrolment, engine_version=engine.ENGINE_VERSION
                ).count(),
                updated_at=timezone.now(),
            )
    return _enrolment_finish(enrolment_id=enrolment.pk)


def _minimum_templates(enrolment: Enrolment) -> int:
    # Half the shots may fail at encoding (a stored file lost, an engine change that no longer finds a face)
    # and the enrolment still has enough views of the face; fewer is a retake.
    return max(1, (enrolment.photos_required + 1) // 2)


def _mixed_identities(templates: list[FaceTemplate]) -> bool:
    """True if some photo of the enrolment shows another person (a second face slipped into the shots)."""
    if len(templates) < 2:
        return False
    matrix = np.vstack([encoding_unpack(template.encoding) for template in templates])
    pairwise = np.linalg.norm(matrix[:, None, :] - matrix[None, :, :], axis=2)
    np.fill_diagonal(pairwise, np.nan)
    medians = np.nanmedian(pairwise, axis=1)
    return bool((medians > settings.FACE_DISTANCE_THRESHOLD + CONSISTENCY_MARGIN).any())


def _finish_update(enrolment: Enrolment, status: Enrolment.Status, *extra_fields: str) -> None:
    enrolment.status = status
    enrolment.save(update_fields=["status", *extra_fields, "encoded_count", "completed_at", "updated_at"])


@transaction.atomic
def _enrolment_finish(*, enrolment_id: int) -> Enrolment:
    """Decide an encoded enrolment: failed, needs review, or active. Runs once (ENCODING → another status)."""
    enrolment = Enrolment.objects.select_for_update().select_related("customer").get(pk=enrolment_id)
    if enrolment.status != Enrolment.Status.ENCODING:
        return enrolment
    templates = list(
        enrolment.templates.filter(engine_version=engine.ENGINE_VERSION, revoked_at__isnull=True)
    )
    enrolment.encoded_count = len(templates)
    enrolment.completed_at = timezone.now()
    failure = _enrolment_failure(enrolment, templates)
    if failure:
        enrolment.failure_reason = failure
        _finish_update(enrolment, Enrolment.Status.FAILED, "failure_reason")
        enrolment_audit(
            enrolment,
            AuditEvent.Kind.ENROLMENT_FAILED,
            AuditEvent.Outcome.FAILURE,
            encoded=len(templates),
            reason=failure,
        )
        return enrolment
    # Activations are serialised on the GalleryState lock, and the duplicate check runs against exactly the
    # locked version: two people enrolling the same face at once cannot both pass it.
    state = gallery_state_lock()
    if _duplicate_identity_flag(enrolment, templates, state):
        return enrolment
    # Every face that would open the account waits for a second member of staff (accounts.approvals): a
    # re-enrolment replaces a face, and a first enrolment (never enrolled, revoked, erased) gives the account
    # a face at all. Either, done by one teller with an accomplice at the camera, hands the account over.
    _finish_update(enrolment, Enrolment.Status.NEEDS_REVIEW)
    face_enrolment_propose(enrolment=enrolment, template_count=len(templates))
    return enrolment


def _enrolment_failure(enrolment: Enrolment, templates: list[FaceTemplate]) -> str:
    """Why the encoded enrolment cannot be used (a reason for the teller), or "" if it can."""
    if len(templates) < _minimum_templates(enrolment):
        return f"Only {len(templates)} of {enrolment.photos_required} photos could be encoded; please retake."
    if _mixed_identities(templates):
        return "The photos do not all show the same person; please retake them."
    return ""


def _duplicate_identity_flag(
    enrolment: Enrolment, templates: list[FaceTemplate], state: GalleryState
) -> bool:
    """Ask every matcher shard whether these templates match another customer; if one does, the enrolment
    waits for review (True). Without every shard's answer nothing may be activated: MatcherUnavailable makes
    the task retry, and the transaction's rollback releases the gallery lock meanwhile."""
    # The combined comparison of the 1:1: the new photos' second-model embeddings go too (templates without
    # one are compared by dlib alone).
    reid = [
        encoding_unpack(template.reid_encoding, size=REID_ENCODING_SIZE)
        for template in templates
        if template.reid_encoding and template.reid_version == REID_VERSION
    ]
    nearest = match_nearest(
        probes=np.vstack([encoding_unpack(template.encoding) for template in templates]),
        exclude_customer_id=enrolment.customer_id,
        deadline_s=settings.MATCHER_ENROLMENT_DEADLINE_S,
        min_version=state.version,
        reid_probes=np.vstack(reid) if reid else None,
    )
    if not nearest.names_someone():
        if not nearest.complete:
            raise MatcherUnavailable(nearest)
        return False
    enrolment.duplicate_of_customer_id = nearest.customer_id
    enrolment.duplicate_distance = nearest.distance  # rounded to 4 places by the matcher
    _finish_update(enrolment, Enrolment.Status.NEEDS_REVIEW, "duplicate_of_customer", "duplicate_distance")
    enrolment_audit(
        enrolment,
        AuditEvent.Kind.DUPLICATE_IDENTITY,
        AuditEvent.Outcome.FAILURE,
        other_customer_id=nearest.customer_id,
        distance=enrolment.duplicate_distance,
    )
    return True


def enrolment_activate(*, enrolment: Enrolment, templates: list[FaceTemplate], state: GalleryState) -> None:
    """Put the enrolment's templates into the gallery and supersede the customer's previous active enrolment.
    Caller holds the enrolment row and the GalleryState lock (`state`)."""
    version = gallery_version_bump(state=state)
    revoked = templates_activate(templates=templates, customer=enrolment.customer, version=version)
    superseded = Enrolment.objects.filter(
        customer_id=enrolment.customer_id, status=Enrolment.Status.ACTIVE
    ).exclude(pk=enrolment.pk)
    superseded_ids = sorted(superseded.values_list("pk", flat=True))
    superseded.update(status=Enrolment.Status.SUPERSEDED)
    _finish_update(enrolment, Enrolment.Status.ACTIVE)
    if superseded_ids:
        enrolment_audit(
            enrolment,
            AuditEvent.Kind.ENROLMENT_SUPERSEDED,
            AuditEvent.Outcome.SUCCESS,
            superseded_enrolment_ids=superseded_ids,
            templates_revoked=revoked,
            gallery_version=version,
        )
