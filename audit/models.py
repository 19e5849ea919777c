from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext


class AppendOnlyError(RuntimeError):
    """Raised on any attempt to change or remove an audit event through the ORM."""


class AuditEventQuerySet(models.QuerySet):
    """The trail is append-only: events are added only by audit.services.audit_event_record.

    A database superuser can still edit rows with SQL; `manage.py audit_verify` is what detects that.
    """

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit events are append-only: they cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events are append-only: they cannot be deleted.")

    def bulk_create(self, *args: Any, **kwargs: Any) -> list[Any]:
        raise AppendOnlyError("Audit events are appended one by one through audit_event_record.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit events are append-only: they cannot be updated.")

    def _personal_erase(self) -> int:
        # The one sanctioned change (audit_customer_erase): `personal` is outside the hash (only its salted
        # digest is chained), so blanking it keeps every link valid.
        return super().update(personal={}, personal_erased=True)


class AuditEvent(models.Model):
    """One security-relevant event, hash-chained to the one before it.

    `seq` numbers events without gaps and `hash` = HMAC-SHA256 under AUDIT_CHAIN_KEY (held outside the
    database) over the canonical content plus `prev_hash` (see audit.chain), so an edited, inserted or deleted
    row breaks the chain (`manage.py audit_verify`), and signed checkpoints of the head exported outside the
    database (audit.checkpoints) catch even a holder of the key who recomputes the chain.
    Personal data (names, phones) lives in `personal`; the chain covers only its salted digest, so erasure can
    blank it without breaking the chain.
    """

    class Kind(models.TextChoices):
        KIOSK_SESSION_START = "kiosk.session_start", "Kiosk session started"
        KIOSK_SESSION_END = "kiosk.session_end", "Kiosk session ended"
        KIOSK_PROVISIONED = "kiosk.provisioned", "Kiosk provisioned"
        KIOSK_CREDENTIAL_REVOKED = "kiosk.credential_revoked", "Kiosk credential revoked"
        FACE_DECISION = "face.decision", "Face decision"
        FACE_STEP_UP = "face.step_up", "Face step-up (code asked or card-less refused)"
        LIVENESS_FAILED = "face.liveness_failed", "Liveness check failed"
        FACE_MISMATCH = "face.mismatch", "Another enrolled customer's face at a card"
        OTP_SENT = "otp.sent", "OTP sent"
        OTP_SEND_FAILED = "otp.send_failed", "OTP sending failed"
        OTP_FAILED = "otp.failed", "OTP wrong"
        OTP_VERIFIED = "otp.verified", "OTP verified"
        OTP_REFUSED = "otp.refused", "OTP not offered"
        OTP_COOLDOWN = "otp.cooldown", "OTP code path cooled down"
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
        DEPOSIT_ESCROWED = "money.deposit_escrowed", "Deposit notes counted into escrow"
        DEPOSIT_CANCELLED = "money.deposit_cancelled", "Deposit cancelled, notes returned"
        CASH_IN_BIN_EMPTIED = "cash.bin_emptied", "Cash-in bin emptied and counted"
        CASH_IN_BIN_DIFFERENCE = "cash.bin_difference", "Cash-in bin count differs from deposits"
        CASSETTES_LOADED = "cash.cassettes_loaded", "Cassettes loaded"
        CASH_IN_DEVICE_PROVISIONED = "cash.device_provisioned", "Cash-in module provisioned"
        CASH_IN_DEVICE_REVOKED = "cash.device_revoked", "Cash-in module revoked"
        CASH_IN_REPORT_REFUSED = "cash.report_refused", "Cash-in count report refused"
        CASH_COUNT_ENTERED = "cash.count_entered", "Cash count entered (a second person must confirm)"
        CASH_COUNT_DISCARDED = "cash.count_discarded", "Cash count discarded (the second count differed)"
        KIOSK_UPDATED = "kiosk.updated", "Kiosk settings changed"
        KEYS_ROTATED = "security.keys_rotated", "Encryption keys rotated"
        AUDIT_EXPORTED = "audit.exported", "Audit trail exported"
        TEMPLATES_REENCODED = "biometrics.templates_reencoded", "Templates re-encoded"
        ENROLMENT_SUPERSEDED = "enrolment.superseded", "Enrolment superseded"
        CUSTOMER_UPDATED = "customer.updated", "Customer updated"
        PHONE_CHANGE_NOTICE = "customer.phone_notice", "Phone change notice to the old number"
        ACCOUNT_OPENED = "account.opened", "Account opened"
        ACCOUNT_UPDATED = "account.updated", "Account updated"
        CHANGE_PROPOSED = "change.proposed", "Change proposed (four eyes)"
        CHANGE_APPROVED = "change.approved", "Change approved (four eyes)"
        CHANGE_REJECTED = "change.rejected", "Change rejected (four eyes)"
        CHANGE_CANCELLED = "change.cancelled", "Change cancelled (four eyes)"
        CARDLESS_OPTED_IN = "cardless.opted_in", "Card-less cash opted in"
        CARDLESS_PIN_SET = "cardless.pin_set", "Card-less PIN set by the customer"
        CARDLESS_OPTED_OUT = "cardless.opted_out", "Card-less cash opted out"
        CARDLESS_RESET = "cardless.reset", "Card-less access reset (four eyes)"
        CARDLESS_PIN_VERIFIED = "cardless.pin_verified", "Card-less PIN right"
        CARDLESS_PIN_FAILED = "cardless.pin_failed", "Card-less PIN wrong"
        CARDLESS_DISABLED = "cardless.disabled", "Card-less cash disabled (wrong PINs)"
        FACE_NAMING_DEFERRED = "face.naming_deferred", "Face naming deferred (matcher unanswered)"
        FACE_NAMING_COMPLETED = "face.naming_completed", "Deferred face naming completed"
        CUSTOMER_NOTICE = "customer.notice", "Notice to the customer (recognition or payment changed)"
        CHANGE_VIEWED = "change.viewed", "Change request viewed in full (phone numbers)"
        FACE_LOCK_RESET = "card.face_lock_reset", "Face lock reset by staff"
        STAFF_GRANTED = "staff.granted", "Staff login or role granted (four eyes)"
        PIN_PEPPER_ROTATED = "security.pin_pepper_rotated", "Card-less PIN verifiers re-keyed"

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
    chain_key_id = models.CharField(
        max_length=16,
        blank=True,
        default="",
        editable=False,
        help_text="Id of the AUDIT_CHAIN_KEY whose HMAC chained this event (audit.chain.chain_key_id).",
    )

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        indexes = [models.Index(fields=["kind", "created_at"])]
        permissions = [
            ("view_snapshot", "Can view failed-attempt snapshots"),
            ("mark_snapshot", "Can mark failed-attempt snapshots as reviewed or fraud suspected"),
            ("export_auditevent", "Can export the audit trail as CSV"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.get_kind_display()} ({self.get_outcome_display()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit events are append-only: they cannot be updated.")
        # Always INSERT: a hand-built instance carrying an existing pk must fail, never overwrite that row.
        kwargs["force_insert"] = True
        kwargs.pop("force_update", None)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events are append-only: they cannot be deleted.")


class AuditSnapshot(models.Model):
    """The camera frame of a failed attempt, stored as Fernet ciphertext (atmsite.crypto) under MEDIA_ROOT.

    Unlike the event it belongs to, this row is review metadata: auditors mark it, retention purges the file
    (purged_at set, row kept) and erasure deletes it. Its file name is random and the file is never served
    directly; the admin decrypts it on the fly for holders of audit.view_snapshot.
    """

    class Status(models.TextChoices):
        NEW = "new", "New"
        REVIEWED = "reviewed", "Reviewed"
        FRAUD_SUSPECTED = "fraud_suspected", "Fraud suspected"

    event = models.ForeignKey(AuditEvent, on_delete=models.PROTECT, related_name="snapshots")
    storage_name = models.CharField(max_length=255, help_text="Encrypted file name in default storage.")
    created_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW, db_index=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(
        max_length=300, blank=True, help_text="What the reviewer saw or did, e.g. 'Customer's twin, called'."
    )
    purged_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="When retention deleted the file; the row stays."
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return gettext("Snapshot %(pk)s of event #%(event)s") % {"pk": self.pk, "event": self.event_id}


class AuditChainHead(models.Model):
    """Singleton row holding the newest seq and hash; locking it serialises appends to the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"Audit chain head at #{self.seq}"
