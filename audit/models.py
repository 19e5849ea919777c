from __future__ import annotations

from django.db import models


class AuditEvent(models.Model):
    """One security-relevant event, hash-chained to the one before it.

    `seq` numbers events without gaps and `hash` = SHA-256 over the canonical content plus `prev_hash`
    (see audit.chain), so an edited, inserted or deleted row breaks the chain (`manage.py audit_verify`).
    Personal data (names, phones) lives in `personal`; the chain covers only its salted digest, so erasure can
    blank it without breaking the chain.
    """

    class Kind(models.TextChoices):
        KIOSK_SESSION_START = "kiosk.session_start", "Kiosk session started"
        KIOSK_SESSION_END = "kiosk.session_end", "Kiosk session ended"
        KIOSK_PROVISIONED = "kiosk.provisioned", "Kiosk provisioned"
        KIOSK_CREDENTIAL_REVOKED = "kiosk.credential_revoked", "Kiosk credential revoked"
        FACE_DECISION = "face.decision", "Face decision"
        LIVENESS_FAILED = "face.liveness_failed", "Liveness check failed"
        OTP_SENT = "otp.sent", "OTP sent"
        OTP_SEND_FAILED = "otp.send_failed", "OTP sending failed"
        OTP_FAILED = "otp.failed", "OTP wrong"
        OTP_VERIFIED = "otp.verified", "OTP verified"
        LOCKOUT = "card.lockout", "Face lockout"
        CARD_ISSUED = "card.issued", "Card issued"
        CARD_BLOCKED = "card.blocked", "Card blocked"
        CARD_UNBLOCKED = "card.unblocked", "Card unblocked"
        CUSTOMER_CREATED = "customer.created", "Customer created"
        CONSENT_RECORDED = "customer.consent", "Biometric consent recorded"
        ENROLMENT_SUBMITTED = "enrolment.submitted", "Enrolment submitted"
        ENROLMENT_COMPLETED = "enrolment.completed", "Enrolment completed"
        ENROLMENT_FAILED = "enrolment.failed", "Enrolment failed"
        DUPLICATE_IDENTITY = "enrolment.duplicate_identity", "Duplicate identity flagged"
        ENROLMENT_REVIEWED = "enrolment.reviewed", "Enrolment reviewed"
        BIOMETRICS_REVOKED = "biometrics.revoked", "Biometrics revoked"
        BIOMETRICS_ERASED = "biometrics.erased", "Biometrics erased"
        STAFF_LOGIN = "staff.login", "Staff login"
        STAFF_LOGIN_FAILED = "staff.login_failed", "Staff login failed"
        STAFF_LOGOUT = "staff.logout", "Staff logout"
        ADMIN_ACTION = "admin.action", "Admin action"
        SNAPSHOT_VIEWED = "snapshot.viewed", "Snapshot viewed"
        SNAPSHOT_MARKED = "snapshot.marked", "Snapshot marked"
        SNAPSHOT_PURGED = "snapshot.purged", "Snapshots purged"
        WITHDRAWAL = "money.withdrawal", "Withdrawal"
        DEPOSIT = "money.deposit", "Deposit"
        KEYS_ROTATED = "security.keys_rotated", "Encryption keys rotated"

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        FAILURE = "failure", "Failure"
        INFO = "info", "Info"

    seq = models.PositiveBigIntegerField(unique=True, editable=False)
    created_at = models.DateTimeField(editable=False, db_index=True)
    kind = models.CharField(max_length=40, choices=Kind.choices, db_index=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.INFO)
    actor_id = models.BigIntegerField(null=True, blank=True, help_text="Staff user id, when a person acted.")
    actor_username = models.CharField(max_length=150, blank=True)
    kiosk_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    customer_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    card_last4 = models.CharField(max_length=4, blank=True, db_index=True)
    data = models.JSONField(
        default=dict, blank=True, help_text="Facts of the event; never images or secrets."
    )
    personal = models.JSONField(default=dict, blank=True, help_text="Personal data, blanked on erasure.")
    personal_digest = models.CharField(max_length=100, blank=True, editable=False)
    personal_erased = models.BooleanField(default=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["-seq"]
        indexes = [models.Index(fields=["kind", "created_at"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind} {self.outcome}"


class AuditChainHead(models.Model):
    """Singleton row holding the newest seq and hash; locking it serialises appends to the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"Audit chain head at #{self.seq}"
