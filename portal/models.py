"""The customer portal's own rows: a customer's online-banking login, its one-time codes, the customer's card
freezes and the fraud cases customers open ("this was not me")."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from encrypted_model_fields.fields import EncryptedCharField


class CustomerLogin(models.Model):
    """A customer's online-banking login. Separate from staff users: never a django.contrib.auth User, so a
    customer can never reach the admin, and a staff session is never a customer session.

    The password is a Django password hash; the activation link and codes are kept only as keyed HMACs; the
    authenticator (TOTP) secret is Fernet-encrypted.
    """

    class SecondFactor(models.TextChoices):
        WHATSAPP = "whatsapp", "WhatsApp code"
        TOTP = "totp", "Authenticator app"

    customer = models.OneToOneField(
        "accounts.Customer", on_delete=models.PROTECT, related_name="portal_login"
    )
    password = models.CharField(max_length=256, blank=True, editable=False)
    activation_hmac = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    activation_expires_at = models.DateTimeField(null=True, blank=True)
    activation_issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    totp_secret = EncryptedCharField(max_length=64, blank=True)
    totp_pending_secret = EncryptedCharField(
        max_length=64, blank=True, help_text="Shown once for enrolment; kept until confirmed with a code."
    )
    totp_confirmed_at = models.DateTimeField(null=True, blank=True)
    totp_last_counter = models.BigIntegerField(
        default=0, help_text="Time step of the last accepted authenticator code: a code works once."
    )
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    session_epoch = models.PositiveIntegerField(
        default=0, help_text="Raised by 'sign out everywhere': sessions of an older epoch are refused."
    )
    notify_withdrawals = models.BooleanField(default=False)
    notify_face_failures = models.BooleanField(default=True)
    language = models.CharField(max_length=8, default="en", help_text="Language of WhatsApp notices.")
    last_sign_in_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("customer portal login")
        verbose_name_plural = _("customer portal logins")

    def __str__(self) -> str:
        return f"Portal login of customer {self.customer_id}"

    @property
    def is_activated(self) -> bool:
        return self.activated_at is not None and bool(self.password)

    @property
    def has_totp(self) -> bool:
        return bool(self.totp_secret) and self.totp_confirmed_at is not None


class PortalCode(models.Model):
    """A WhatsApp one-time code for the portal; only its HMAC (OTP_HMAC_KEY, bound to the row) is kept."""

    class Purpose(models.TextChoices):
        SIGN_IN = "sign_in", "Sign-in"
        UNFREEZE = "unfreeze", "Card unfreeze"

    login = models.ForeignKey(CustomerLogin, on_delete=models.CASCADE, related_name="codes")
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    code_hmac = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["login", "purpose", "created_at"])]

    def __str__(self) -> str:
        return f"Portal code {self.pk} ({self.purpose})"


class CardFreeze(models.Model):
    """A freeze the customer put on a card in the portal (the card itself is blocked through accounts).

    Unfreezing is done at a branch (staff unblock) or by the customer with a second factor, and then only
    after the cooling-off time (PORTAL_UNFREEZE_COOLING_OFF_S) has passed since they asked.
    """

    card = models.ForeignKey("accounts.Card", on_delete=models.PROTECT, related_name="portal_freezes")
    frozen_at = models.DateTimeField()
    unfreeze_requested_at = models.DateTimeField(null=True, blank=True)
    unfreeze_not_before = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-frozen_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["card"], condition=Q(ended_at__isnull=True), name="card_freeze_one_open_per_card"
            )
        ]

    def __str__(self) -> str:
        return f"Freeze of card {self.card_id} from {self.frozen_at:%Y-%m-%d %H:%M}"


class FraudCase(models.Model):
    """A customer said "this was not me" about a use of their face or card: a case for the fraud team."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        INVESTIGATING = "investigating", _("Investigating")
        CLOSED = "closed", _("Closed")

    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.PROTECT, related_name="fraud_cases", verbose_name=_("customer")
    )
    card = models.ForeignKey(
        "accounts.Card",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fraud_cases",
        verbose_name=_("card"),
    )
    session = models.ForeignKey(
        "kiosk.KioskSession",
        on_delete=models.PROTECT,
        related_name="fraud_cases",
        help_text="The disputed use.",
    )
    state = models.CharField(
        _("state"), max_length=14, choices=State.choices, default=State.OPEN, db_index=True
    )
    customer_note = models.CharField(_("customer's note"), max_length=500, blank=True)
    card_frozen = models.BooleanField(
        _("card frozen"), default=False, help_text="The customer froze the card after the report."
    )
    opened_at = models.DateTimeField(_("opened at"))
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("handled by"),
    )
    resolution = models.CharField(_("resolution"), max_length=300, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("fraud case")
        verbose_name_plural = _("fraud cases")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["session"], name="fraud_case_one_per_session"),
        ]

    def __str__(self) -> str:
        return f"Fraud case #{self.pk} ({self.get_state_display()})"
