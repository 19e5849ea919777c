"""A kiosk, its cassettes and its device credentials (with the one-time codes that provision them)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext


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
    last_contact_at = models.DateTimeField(
        null=True, blank=True, help_text="The kiosk page's last heartbeat (kiosk.services.heartbeat)."
    )
    last_error = models.CharField(
        max_length=200,
        blank=True,
        help_text="The last error the kiosk reported; cleared by a heartbeat without one.",
    )
    last_error_at = models.DateTimeField(null=True, blank=True)

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
        return gettext("%(denomination)s × %(count)s notes") % {
            "denomination": self.denomination,
            "count": self.count,
        }


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
