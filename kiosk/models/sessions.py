"""A customer's session at a kiosk, its one-time codes and its deferred face namings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext
from encrypted_model_fields.fields import EncryptedTextField

from biometrics.verdicts import FaceOutcome

from ..vocabulary import EndReason, FailureReason, VerifiedBy
from .kiosks import Kiosk

if TYPE_CHECKING:
    from accounts.models import Card


class KioskSession(models.Model):
    """One customer at one kiosk, from the card to the end. Advanced only by kiosk.services under a row lock.

    Every deadline is checked on the server (kiosk.services.sessions.session_refresh): the browser only shows
    what the server decided.
    """

    class State(models.TextChoices):
        CARD_ENTERED = "card_entered", "Card entered"
        FACE_PENDING = "face_pending", "Face check running"
        FACE_FAILED = "face_failed", "Face check failed"
        OTP_SENT = "otp_sent", "One-time code sent"
        VERIFIED = "verified", "Verified"
        PIN_PENDING = "pin_pending", "Card-less PIN pending"
        IN_MENU = "in_menu", "In menu"
        ENDED = "ended", "Ended"

    OPEN_STATES = (
        State.CARD_ENTERED,
        State.FACE_PENDING,
        State.FACE_FAILED,
        State.OTP_SENT,
        State.VERIFIED,
        State.IN_MENU,
        State.PIN_PENDING,
    )

    class Mode(models.TextChoices):
        CARD = "card", "Card"
        CARDLESS = "cardless", "Card-less (phone, face, PIN)"

    # The session's vocabulary (kiosk.vocabulary), reachable from the model as before.
    FailureReason = FailureReason
    EndReason = EndReason
    VerifiedBy = VerifiedBy

    public_id = models.UUIDField(unique=True, editable=False)
    kiosk = models.ForeignKey(Kiosk, on_delete=models.PROTECT, related_name="sessions")
    card = models.ForeignKey(
        "accounts.Card", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.CARD)
    cardless_phone_hmac = models.CharField(
        max_length=64,
        blank=True,
        help_text="Card-less: keyed HMAC of the typed phone (E.164); never in clear.",
    )
    cardless_phone_last4 = models.CharField(max_length=4, blank=True)
    cardless_candidates = models.JSONField(
        default=list,
        blank=True,
        help_text="Card-less: ids of the opted-in customers with the typed phone (often one, may be none). "
        "Never shown to the kiosk.",
    )
    cardless_face_candidate_id = models.BigIntegerField(
        null=True, blank=True, help_text="Card-less: the candidate the current match streak belongs to."
    )
    customer = models.ForeignKey(
        "accounts.Customer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Card-less: the customer decided by face (or code) and PIN; empty for a card session.",
    )
    account = models.ForeignKey(
        "accounts.BankAccount",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Card-less: the account chosen at opt-in, set with `customer`.",
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.CARD_ENTERED)
    created_at = models.DateTimeField()
    last_activity_at = models.DateTimeField()
    face_started_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.CharField(max_length=8, blank=True, choices=VerifiedBy.choices)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, blank=True, choices=EndReason.choices)
    face_failure_reason = models.CharField(
        max_length=32, blank=True, choices=FailureReason.choices, help_text="Why the face check failed."
    )
    face_last_outcome = models.CharField(max_length=16, blank=True, choices=FaceOutcome.choices)
    match_streak = models.PositiveSmallIntegerField(
        default=0, help_text="Consecutive frames matching the card owner with exactly one face."
    )
    face_scores = models.JSONField(
        default=list,
        blank=True,
        help_text="Distances of the last FACE_MATCH_FRAMES_REQUIRED matching frames (the current streak's "
        "tail); their median decides the session.",
    )
    face_score = models.FloatField(
        null=True, blank=True, help_text="The session's aggregated face score (median distance), decided."
    )
    several_faces_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="First frame of the current run of frames with several faces: the check fails only if "
        "they persist for KIOSK_SEVERAL_FACES_GRACE_S (a passer-by is warned, not failed).",
    )
    frames_seen = models.PositiveIntegerField(default=0)
    face_frames_seen = models.PositiveIntegerField(
        default=0,
        help_text="Frames that showed a face. A face check that timed out without any is an empty camera: "
        "it does not count toward the face lock.",
    )
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
    mismatch_seen = models.BooleanField(
        default=False,
        help_text="A frame showed another enrolled customer's face: no one-time code for this session. "
        "Never shown to the kiosk before the decision.",
    )
    mismatch_counted = models.BooleanField(
        default=False,
        help_text="The mismatch was shown by a live face (PAD passed) and counts towards blocking the "
        "card; a photo of an enrolled customer denies the code but does not count.",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["kiosk", "state"]),
            models.Index(fields=["card", "created_at"]),
            models.Index(fields=["cardless_phone_hmac", "created_at"]),
        ]

    def __str__(self) -> str:
        return gettext("Session %(id)s (%(state)s)") % {
            "id": self.public_id,
            "state": self.get_state_display(),
        }

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    @property
    def is_cardless(self) -> bool:
        return self.mode == self.Mode.CARDLESS

    @property
    def claimed_card(self) -> Card:
        """The card of a card session (card-path code only: a card-less session has none)."""
        if self.card is None:
            raise ValueError("A card-less session has no card.")
        return self.card

    @property
    def owner_customer_id(self) -> int | None:
        """The card's owner, or the card-less customer once decided (None before: nobody is claimed)."""
        return self.claimed_card.customer_id if self.card_id else self.customer_id

    @property
    def money_account_id(self) -> int:
        """The account operations use: the card's, or the card-less account chosen at opt-in (set before
        the session can be verified, so every operation finds one)."""
        account_id = self.claimed_card.account_id if self.card_id else self.account_id
        if account_id is None:
            raise ValueError("The card-less session has no customer yet.")
        return account_id

    @property
    def card_last4(self) -> str:
        return self.claimed_card.last4 if self.card_id else ""

    @property
    def masked_pan(self) -> str:
        return self.claimed_card.masked_pan if self.card_id else ""


class OtpCode(models.Model):
    """A one-time code sent over WhatsApp; only its HMAC (key OTP_HMAC_KEY, bound to the session) is kept.

    A row exists only for a code that was actually sent, so counting rows per card counts sends.
    """

    session = models.ForeignKey(KioskSession, on_delete=models.CASCADE, related_name="otp_codes")
    card = models.ForeignKey(
        "accounts.Card", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
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
    pad_score = models.FloatField(
        null=True,
        blank=True,
        help_text="The frame's PAD score (PAD on): a late mismatch counts only if live.",
    )

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Deferred naming {self.pk} of session {self.session_id} ({self.outcome})"
