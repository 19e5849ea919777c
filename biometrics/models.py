"""Enrolments, the photos they were built from, and the encrypted face templates the kiosk matches against."""

from __future__ import annotations

import base64

import numpy as np
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from encrypted_model_fields.fields import EncryptedTextField

ENCODING_SIZE = 128


REID_ENCODING_SIZE = 256


def encoding_pack(vector: np.ndarray, *, size: int = ENCODING_SIZE) -> str:
    """float32 (size,) → base64 text for the encrypted column. Never pickle: loading a pickle runs code."""
    array = np.asarray(vector, dtype="<f4").reshape(size)
    if not np.isfinite(array).all():
        raise ValueError("a face encoding must be finite")
    return base64.b64encode(array.tobytes()).decode("ascii")


def encoding_unpack(text: str, *, size: int = ENCODING_SIZE) -> np.ndarray:
    # django-encrypted-model-fields hands back the raw token when decryption fails (wrong key); the length
    # check turns that into an error instead of a garbage vector.
    raw = base64.b64decode(text.encode("ascii"), validate=True)
    if len(raw) != size * 4:
        raise ValueError("stored face encoding has the wrong size (wrong FIELD_ENCRYPTION_KEY?)")
    return np.frombuffer(raw, dtype="<f4").astype(np.float32)


class Enrolment(models.Model):
    """One capture session at a branch: photos → background encoding → active templates (or a review)."""

    class Status(models.TextChoices):
        CAPTURING = "capturing", "Capturing photos"
        QUEUED = "queued", "Queued for encoding"
        ENCODING = "encoding", "Encoding"
        ACTIVE = "active", "Active"
        NEEDS_REVIEW = "needs_review", "Needs review (possible duplicate identity)"
        FAILED = "failed", "Failed"
        REJECTED = "rejected", "Rejected by reviewer"
        SUPERSEDED = "superseded", "Superseded by a newer enrolment"
        REVOKED = "revoked", "Biometrics revoked"

    OPEN_STATUSES = (Status.CAPTURING, Status.QUEUED, Status.ENCODING)

    customer = models.ForeignKey("accounts.Customer", on_delete=models.PROTECT, related_name="enrolments")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CAPTURING, db_index=True)
    photos_required = models.PositiveSmallIntegerField()
    encoded_count = models.PositiveSmallIntegerField(
        default=0, help_text="Photos encoded so far by the background task (progress)."
    )
    failure_reason = models.CharField(max_length=300, blank=True)
    duplicate_of_customer = models.ForeignKey(
        "accounts.Customer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Another customer whose active face matched this enrolment (status needs review).",
    )
    duplicate_distance = models.FloatField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("review_enrolment", "Can approve or reject an enrolment flagged as duplicate")]
        constraints = [
            models.CheckConstraint(condition=Q(photos_required__gte=1), name="enrolment_needs_a_photo"),
        ]

    def __str__(self) -> str:
        return gettext("Enrolment #%(pk)s (%(status)s)") % {
            "pk": self.pk,
            "status": self.get_status_display(),
        }


class EnrolmentPhoto(models.Model):
    """An accepted capture. The original is kept encrypted (storage name only here) to re-encode after an
    engine change; rejected shots are never stored, so `rejected` only comes from the encoding task."""

    class Status(models.TextChoices):
        OK = "ok", "OK"
        REJECTED = "rejected", "Rejected"

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="photos")
    index = models.PositiveSmallIntegerField()
    storage_name = models.CharField(max_length=200, help_text="Fernet-encrypted file in default storage.")
    sha256 = models.CharField(max_length=64, help_text="Of the uploaded bytes: refuses the same shot twice.")
    quality = models.JSONField(default=dict, blank=True, help_text="Face size, sharpness, pose; no pixels.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OK)
    rejected_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["enrolment", "index"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "index"], name="enrolment_photo_index_unique"),
            models.UniqueConstraint(fields=["enrolment", "sha256"], name="enrolment_photo_sha_unique"),
        ]

    def __str__(self) -> str:
        return gettext("Photo %(index)s of enrolment #%(pk)s") % {
            "index": self.index,
            "pk": self.enrolment_id,
        }


class FaceTemplate(models.Model):
    """A 128-float face encoding, encrypted at rest.

    Gallery membership is versioned rather than timestamped: `gallery_added_version` /
    `gallery_revoked_version` are the GalleryState.version of the transaction that put the template into the
    matchable set or took it out. Each process keeps its in-memory gallery in step by asking only for rows
    whose versions lie between the one it holds and the current one (indexed, exact, no clock involved).
    """

    class Source(models.TextChoices):
        ENROLMENT_PHOTO = "enrolment_photo", "Enrolment photo"
        ADAPTATION = "adaptation", "Adaptation"

    customer = models.ForeignKey("accounts.Customer", on_delete=models.PROTECT, related_name="face_templates")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="templates")
    photo = models.ForeignKey(
        EnrolmentPhoto, null=True, blank=True, on_delete=models.SET_NULL, related_name="templates"
    )
    encoding = EncryptedTextField(
        help_text="Base64 of the float32 encoding, Fernet-encrypted; blank once erased."
    )
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.ENROLMENT_PHOTO)
    engine_version = models.CharField(max_length=80)
    # The second model's embedding of the same photo (biometrics.comparison), encrypted like `encoding`;
    # blank until computed (enrolment, or `reencode_templates` for customers enrolled before it).
    reid_encoding = EncryptedTextField(
        blank=True, default="", help_text="Base64 of the 256-float second-model embedding, Fernet-encrypted."
    )
    reid_version = models.CharField(max_length=80, blank=True, default="")
    reid_shift = models.FloatField(
        null=True,
        blank=True,
        help_text=(
            "Per-template cohort shift, fixed at enrolment against a cohort of other faces and added to the "
            "second model's distance (read under reid_version)."
        ),
    )
    quality = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    gallery_added_version = models.BigIntegerField(null=True, blank=True, db_index=True)
    gallery_revoked_version = models.BigIntegerField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # A re-run of the encoding task (acks_late after a crash) finds the row instead of adding one.
            models.UniqueConstraint(fields=["photo", "engine_version"], name="template_photo_engine_unique"),
        ]
        indexes = [models.Index(fields=["customer", "engine_version", "revoked_at"])]

    def __str__(self) -> str:
        return gettext("Template #%(pk)s of customer #%(customer)s") % {
            "pk": self.pk,
            "customer": self.customer_id,
        }

    @property
    def is_active(self) -> bool:
        return self.gallery_added_version is not None and self.revoked_at is None


class GalleryState(models.Model):
    """Singleton: the version of the matchable template set.

    Every transaction that activates or revokes templates locks this row, increments `version` and stamps the
    rows with it, so versions commit in order and a process that reads version N sees every change ≤ N.
    `epoch` changes only on a full rebuild request: processes then reload everything instead of a delta.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(default=0)
    epoch = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return gettext("Gallery v%(version)s (epoch %(epoch)s)") % {
            "version": self.version,
            "epoch": self.epoch,
        }
