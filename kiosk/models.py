from __future__ import annotations

from django.db import models
from django.db.models import Q
from encrypted_model_fields.fields import EncryptedTextField


class Kiosk(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "In service"
        MAINTENANCE = "maintenance", "Maintenance"
        DISABLED = "disabled", "Disabled"

    name = models.CharField(max_length=100, unique=True)
    location = models.CharField(max_length=200, blank=True)
    currency = models.CharField(max_length=3, default="EUR")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Cassette(models.Model):
    """Notes of one denomination loaded in a kiosk. Changed only under a lock on the kiosk row."""

    kiosk = models.ForeignKey(Kiosk, on_delete=models.CASCADE, related_name="cassettes")
    denomination = models.PositiveIntegerField(help_text="Note value in whole currency units.")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["kiosk", "-denomination"]
        constraints = [
            models.UniqueConstraint(fields=["kiosk", "denomination"], name="cassette_one_per_denomination"),
            models.CheckConstraint(condition=Q(count__gte=0), name="cassette_count_not_negative"),
            models.CheckConstraint(condition=Q(denomination__gt=0), name="cassette_denomination_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.count} × {self.denomination}"


class KioskProvisioningCode(models.Model):
    """A one-time code that, opened in the kiosk's browser, gives that browser the kiosk's device credential.

    Only the SHA-256 of the code is stored: it is 256 random bits, so a fast hash is enough (no dictionary to
    guess from). Short-lived and single use (`used_at`).
    """

    kiosk = models.ForeignKey(Kiosk, on_delete=models.CASCADE, related_name="provisioning_codes")
    code_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by_id = models.BigIntegerField(null=True, blank=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Provisioning code for {self.kiosk_id} (expires {self.expires_at:%Y-%m-%d %H:%M})"


class KioskCredential(models.Model):
    """A long-lived device credential (random 256-bit token, stored as SHA-256). Revoked, never deleted."""

    kiosk = models.ForeignKey(Kiosk, on_delete=models.CASCADE, related_name="credentials")
    token_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["kiosk", "revoked_at"])]

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "active"
        return f"Credential {self.pk} of kiosk {self.kiosk_id} ({state})"


class KioskSession(models.Model):
    """One customer at one kiosk, from the card to the end. Advanced only by kiosk.services under a row lock.

    Every deadline is checked on the server (kiosk.services.sessions.session_expire): the browser only shows
    what the server decided.
    """

    class State(models.TextChoices):
        CARD_ENTERED = "card_entered", "Card entered"
        FACE_PENDING = "face_pending", "Face check running"
        FACE_FAILED = "face_failed", "Face check failed"
        OTP_SENT = "otp_sent", "One-time code sent"
        VERIFIED = "verified", "Verified"
        IN_MENU = "in_menu", "In menu"
        ENDED = "ended", "Ended"

    OPEN_STATES = (
        State.CARD_ENTERED,
        State.FACE_PENDING,
        State.FACE_FAILED,
        State.OTP_SENT,
        State.VERIFIED,
        State.IN_MENU,
    )

    public_id = models.UUIDField(unique=True, editable=False)
    kiosk = models.ForeignKey(Kiosk, on_delete=models.PROTECT, related_name="sessions")
    card = models.ForeignKey("accounts.Card", on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=16, choices=State.choices, default=State.CARD_ENTERED)
    created_at = models.DateTimeField()
    last_activity_at = models.DateTimeField()
    face_started_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.CharField(max_length=8, blank=True, help_text='"face" or "otp".')
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, blank=True)
    face_failure_reason = models.CharField(
        max_length=32, blank=True, help_text="Why the face check failed: no_match, mismatch, timeout, ..."
    )
    face_last_outcome = models.CharField(max_length=16, blank=True)
    match_streak = models.PositiveSmallIntegerField(
        default=0, help_text="Consecutive frames matching the card owner with exactly one face."
    )
    frames_seen = models.PositiveIntegerField(default=0)
    last_frame_sha256 = models.CharField(
        max_length=64, blank=True, help_text="An identical repeated frame is a replay and is refused."
    )
    frame_nonce = models.CharField(
        max_length=64, editable=False, help_text="Issued at start; every frame carries it."
    )
    frame_seq = models.PositiveIntegerField(
        default=0, help_text="Sequence number of the last accepted frame."
    )
    liveness_state = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["kiosk", "state"]),
            models.Index(fields=["card", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"Session {self.public_id} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES


class OtpCode(models.Model):
    """A one-time code sent over WhatsApp; only its HMAC (key OTP_HMAC_KEY, bound to the session) is kept.

    A row exists only for a code that was actually sent, so counting rows per card counts sends.
    """

    session = models.ForeignKey(KioskSession, on_delete=models.CASCADE, related_name="otp_codes")
    card = models.ForeignKey("accounts.Card", on_delete=models.PROTECT, related_name="+")
    code_hmac = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["card", "created_at"])]

    def __str__(self) -> str:
        return f"OTP {self.pk} for session {self.session_id}"


class CardSecurity(models.Model):
    """Per-card counters for face and OTP failures (one row per card, created on first use, locked)."""

    card = models.OneToOneField("accounts.Card", on_delete=models.CASCADE, related_name="kiosk_security")
    consecutive_face_failures = models.PositiveSmallIntegerField(default=0)
    face_locked_until = models.DateTimeField(null=True, blank=True)
    consecutive_otp_failures = models.PositiveSmallIntegerField(default=0)
    mismatch_count = models.PositiveSmallIntegerField(
        default=0, help_text="Face checks where another enrolled customer stood at this card (all time)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "card security"

    def __str__(self) -> str:
        return f"Security counters of card {self.card_id}"


class DeferredNaming(models.Model):
    """A frame that did not match the card owner while the 1:N matcher could not say whose face it was.

    The kiosk treated it as a no-match; a task asks the matcher again later and, if the face is another
    enrolled customer's, applies the mismatch rule after the fact (session ended, codes voided, the card's
    mismatch count). The probe is erased once named.
    """

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        MISMATCH = "mismatch", "Another enrolled customer"
        NO_MATCH = "no_match", "Nobody enrolled"

    session = models.ForeignKey(KioskSession, on_delete=models.CASCADE, related_name="deferred_namings")
    probe = EncryptedTextField(
        help_text="Base64 of the frame's float32 encoding, Fernet-encrypted; blank once named."
    )
    created_at = models.DateTimeField()
    named_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING, db_index=True)
    other_customer_id = models.BigIntegerField(null=True, blank=True)
    distance = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Deferred naming {self.pk} of session {self.session_id} ({self.outcome})"
