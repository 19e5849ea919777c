"""Per-card and per-customer counters and opt-ins the kiosk keeps: card security, card-less access."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext


class CardSecurity(models.Model):
    """Per-card counters for face and OTP failures (one row per card, created on first use, locked).

    None of these block the card: wrong codes cool the code path down, failed face checks lock face
    verification for a while. Only mismatches from several kiosks block it (kiosk.services.card_security).
    """

    card = models.OneToOneField("accounts.Card", on_delete=models.CASCADE, related_name="kiosk_security")
    consecutive_face_failures = models.PositiveSmallIntegerField(default=0)
    face_locked_until = models.DateTimeField(null=True, blank=True)
    consecutive_otp_failures = models.PositiveSmallIntegerField(default=0)
    mismatch_count = models.PositiveSmallIntegerField(
        default=0,
        help_text="Sessions where another enrolled customer stood at this card (since the last reset).",
    )
    mismatches_reset_at = models.DateTimeField(
        null=True, blank=True, help_text="Staff unblock: mismatch sessions before this no longer count."
    )
    otp_locked_until = models.DateTimeField(
        null=True, blank=True, help_text="The one-time code path is cooled down until then (wrong codes)."
    )
    otp_cooldown_level = models.PositiveSmallIntegerField(
        default=0, help_text="Cool-downs so far in this series; each one lasts longer (OTP_COOLDOWN_STEPS_S)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "card security"

    def __str__(self) -> str:
        return f"Security counters of card {self.card_id}"


class CardlessAccess(models.Model):
    """A customer's opt-in to card-less cash (phone + face + PIN), recorded at a branch.

    The PIN is kept only as a Django password hash (`pin_hash`), set by the customer on a PIN pad page; staff
    never see it. Three wrong PINs in a row disable card-less use until a four-eyes reset at a branch. The
    face and code-path counters mirror CardSecurity, per customer.
    """

    class Status(models.TextChoices):
        PIN_PENDING = "pin_pending", "Opted in, PIN not set yet"
        ACTIVE = "active", "Active"
        DISABLED = "disabled", "Disabled (wrong PINs): reset at a branch"
        REVOKED = "revoked", "Opted out"

    customer = models.OneToOneField("accounts.Customer", on_delete=models.PROTECT, related_name="cardless")
    account = models.ForeignKey(
        "accounts.BankAccount", on_delete=models.PROTECT, related_name="+", help_text="Money comes from here."
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PIN_PENDING)
    pin_hash = models.CharField(max_length=256, blank=True, editable=False)
    pin_set_at = models.DateTimeField(null=True, blank=True)
    consent_at = models.DateTimeField()
    consent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    consecutive_pin_failures = models.PositiveSmallIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    pin_reset_required = models.BooleanField(
        default=False,
        help_text="Disabled after wrong PINs and not reset since: survives an opt-out, so only an approved "
        "(four-eyes) reset re-opens card-less cash.",
    )
    consecutive_face_failures = models.PositiveSmallIntegerField(default=0)
    face_locked_until = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "card-less access"
        verbose_name_plural = "card-less access"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return gettext("Card-less access of customer %(customer)s (%(status)s)") % {
            "customer": self.customer_id,
            "status": self.get_status_display(),
        }
