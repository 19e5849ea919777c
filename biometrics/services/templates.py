"""Face templates: create (idempotently), activate, revoke, erase, re-encode after an engine change.

Every change of the matchable set locks GalleryState, bumps its version and stamps the rows with it in the
same transaction (see biometrics.models.FaceTemplate), then writes the audit row last.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from accounts.models import Customer
from atmsite.crypto import InvalidToken, encrypted_file_delete, encrypted_file_read
from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from audit.services import audit_customer_erase, audit_event_record
from biometrics import engine
from biometrics.errors import BiometricsError
from biometrics.models import Enrolment, EnrolmentPhoto, FaceTemplate, encoding_pack
from biometrics.quality import QualityFigures, quality_figures
from biometrics.services.gallery_state import gallery_state_lock, gallery_version_bump
from biometrics.services.second_model import cohort_read, image_embed, second_model_active, template_reid_fill

logger = logging.getLogger(__name__)


def template_create(
    *,
    enrolment: Enrolment,
    photo: EnrolmentPhoto,
    encoding: np.ndarray,
    quality: QualityFigures,
    reid: np.ndarray | None = None,
    cohort: np.ndarray | None = None,
) -> tuple[FaceTemplate, bool]:
    """The template of `photo` for the running engine; a repeated call returns the existing row.

    The unique (photo, engine_version) constraint makes this safe against two workers running the same task
    after a redelivery: the loser of the insert race gets the winner's row. ``reid`` (the second model's
    embedding of the same photo) is stored encrypted with its shift against ``cohort``.
    """
    template = FaceTemplate(
        customer_id=enrolment.customer_id,
        enrolment=enrolment,
        encoding=encoding_pack(encoding),
        source=FaceTemplate.Source.ENROLMENT_PHOTO,
        quality=quality,
    )
    if reid is not None:
        template_reid_fill(template, reid, cohort if cohort is not None else np.empty((0, reid.size)))
    fields = ("customer_id", "enrolment", "encoding", "source", "quality", "reid_encoding", "reid_version")
    defaults = {name: getattr(template, name) for name in fields} | {"reid_shift": template.reid_shift}
    return FaceTemplate.objects.get_or_create(
        photo=photo, engine_version=engine.ENGINE_VERSION, defaults=defaults
    )


def photo_image(*, photo: EnrolmentPhoto) -> np.ndarray:
    """Decrypt and decode a stored photo. Raises ValueError with a reason for people."""
    try:
        data = encrypted_file_read(photo.storage_name)
    except (InvalidToken, OSError) as error:
        raise ValueError("The stored photo could not be read.") from error
    try:
        return engine.decode_image(data)
    except engine.ImageRejected as error:
        raise ValueError(error.message) from error


def photo_encode(*, photo: EnrolmentPhoto) -> tuple[np.ndarray, QualityFigures, np.ndarray | None]:
    """Decrypt a stored photo and encode its (largest) face: the dlib encoding, its quality and, with the
    second model on, that model's embedding (None when it is off or finds no face). Raises ValueError with a
    reason for people."""
    image = photo_image(photo=photo)
    faces = engine.detect_faces(image, purpose="enrol")
    if not faces:
        raise ValueError("No face was found in the stored photo.")
    face = faces[0]
    reid = image_embed(image, near=face.box) if second_model_active() else None
    return engine.encode_face(image, face), quality_figures(face.quality), reid


def templates_activate(*, templates: list[FaceTemplate], customer: Customer, version: int) -> int:
    """Put `templates` into the gallery at `version` and revoke the customer's other templates (re-enrolment:
    the old rows stay for the audit trail but are never matched again). Caller holds the GalleryState lock."""
    now = timezone.now()
    new_ids = [template.pk for template in templates]
    revoked = (
        FaceTemplate.objects.filter(customer=customer, revoked_at__isnull=True)
        .exclude(pk__in=new_ids)
        .update(revoked_at=now, gallery_revoked_version=version)
    )
    # Rows already in the gallery keep their version: restamping would make lagging processes add them twice.
    FaceTemplate.objects.filter(pk__in=new_ids, gallery_added_version__isnull=True).update(
        gallery_added_version=version
    )
    return revoked


@dataclass(frozen=True)
class RevokeResult:
    templates_revoked: int
    gallery_version: int


@transaction.atomic
def biometrics_revoke(*, customer: Customer, actor: User | None, reason: str = "") -> RevokeResult:
    """Stop matching this customer's face everywhere: every template is revoked (rows kept for the audit
    trail), open and active enrolments end. The kiosk falls back to the one-time code."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    state = gallery_state_lock()
    live = FaceTemplate.objects.filter(customer=customer, revoked_at__isnull=True)
    count = live.count()
    version = state.version
    if count:
        version = gallery_version_bump(state=state)
        # Only templates that were in the gallery get a revoked version; the others were never matchable.
        live.filter(gallery_added_version__isnull=False).update(
            revoked_at=timezone.now(), gallery_revoked_version=version
        )
        live.update(revoked_at=timezone.now())
    Enrolment.objects.filter(
        customer=customer,
        status__in=[*Enrolment.OPEN_STATUSES, Enrolment.Status.ACTIVE, Enrolment.Status.NEEDS_REVIEW],
    ).update(status=Enrolment.Status.REVOKED, failure_reason=(reason or "Biometrics revoked")[:300])
    audit_event_record(
        kind=AuditEvent.Kind.BIOMETRICS_REVOKED,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        customer_id=customer.pk,
        data={"templates_revoked": count, "gallery_version": version, "reason": reason[:200]},
    )
    return RevokeResult(templates_revoked=count, gallery_version=version)


@dataclass(frozen=True)
class EraseResult:
    templates_erased: int
    photos_erased: int


@transaction.atomic
def biometrics_erase(*, customer: Customer, actor: User | None) -> EraseResult:
    """Right to erasure: revoke, blank every template's ciphertext, delete the photos (rows now, files after
    commit) and the consent, then let the audit app erase the customer's snapshots and personal data.

    Template rows stay as tombstones with an empty encoding: their gallery versions let every process drop
    them by a delta instead of a full reload.
    """
    biometrics_revoke(customer=customer, actor=actor, reason="Erasure")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    templates = FaceTemplate.objects.filter(customer=customer).exclude(encoding="")
    template_count = templates.update(encoding="", reid_encoding="", reid_version="", reid_shift=None)
    photos = EnrolmentPhoto.objects.filter(enrolment__customer=customer)
    names = list(photos.values_list("storage_name", flat=True))
    photos.delete()
    customer.biometric_consent_at = None
    customer.biometric_consent_by = None
    customer.save(update_fields=["biometric_consent_at", "biometric_consent_by"])

    def delete_files() -> None:
        for name in names:
            try:
                encrypted_file_delete(name)
            except OSError:  # a missing file must not stop the others; the row is already gone
                logger.warning("could not delete an erased enrolment photo file")

    # Files go only once the rows are gone for good: a rollback must not leave rows without their files.
    transaction.on_commit(delete_files)
    # One BIOMETRICS_ERASED event, written by the audit app as it erases the customer's snapshots and personal
    # data; it carries what was erased here, so the trail shows the erasure was complete.
    audit_customer_erase(
        customer_id=customer.pk,
        actor=actor,
        data={"templates_erased": template_count, "photos_erased": len(names)},
    )
    return EraseResult(templates_erased=template_count, photos_erased=len(names))


@dataclass(frozen=True)
class ReencodeResult:
    customers: int
    templates_created: int
    photos_failed: int


def templates_reencode(*, engine_version: str) -> ReencodeResult:
    """Re-encode every active enrolment's retained photos with the running engine, then swap each customer's
    templates in one transaction. Safe to re-run: existing (photo, engine_version) rows are reused."""
    if engine_version != engine.ENGINE_VERSION:
        # A worker still running the previous build would write templates under the wrong version.
        raise ApplicationError(
            BiometricsError.ENGINE_VERSION_MISMATCH,
            params={"running": engine.ENGINE_VERSION, "asked": engine_version},
            status_code=409,
        )
    customers = created = failed = 0
    enrolments = Enrolment.objects.filter(status=Enrolment.Status.ACTIVE).order_by("id")
    for enrolment in enrolments.iterator():
        fresh: list[FaceTemplate] = []
        for photo in enrolment.photos.filter(status=EnrolmentPhoto.Status.OK).order_by("index"):
            existing = FaceTemplate.objects.filter(photo=photo, engine_version=engine_version).first()
            if existing is None:
                try:
                    encoding, quality, reid = photo_encode(photo=photo)
                except ValueError:
                    failed += 1
                    continue
                existing, was_created = template_create(
                    enrolment=enrolment,
                    photo=photo,
                    encoding=encoding,
                    quality=quality,
                    reid=reid,
                    cohort=cohort_read(exclude_customer_id=enrolment.customer_id)
                    if reid is not None
                    else None,
                )
                created += int(was_created)
            fresh.append(existing)
        if not fresh:
            continue
        with transaction.atomic():
            current = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
            if current.status != Enrolment.Status.ACTIVE:
                continue  # revoked or superseded while we were encoding
            state = gallery_state_lock()
            pending = [template for template in fresh if template.gallery_added_version is None]
            if not pending:
                continue
            version = gallery_version_bump(state=state)
            revoked = templates_activate(templates=fresh, customer=enrolment.customer, version=version)
            audit_event_record(
                kind=AuditEvent.Kind.TEMPLATES_REENCODED,
                outcome=AuditEvent.Outcome.SUCCESS,
                customer_id=enrolment.customer_id,
                data={
                    "enrolment_id": enrolment.pk,
                    "engine": engine_version,
                    "templates": len(fresh),
                    "templates_revoked": revoked,
                    "gallery_version": version,
                },
            )
            customers += 1
    return ReencodeResult(customers=customers, templates_created=created, photos_failed=failed)
