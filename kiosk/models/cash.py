"""Cash models of a kiosk: the cash-in bin and its reconciliations, the cash-in module as a device, the bin's
ledger of deposits, and counts that a second member of staff must confirm."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from encrypted_model_fields.fields import EncryptedTextField


class CashInBin(models.Model):
    """Deposited notes of one denomination in a kiosk's cash-in bin since it was last emptied.

    Credited deposits add to it in the ledger's transaction; it changes only under a lock on the kiosk row.
    """

    kiosk = models.ForeignKey("kiosk.Kiosk", on_delete=models.CASCADE, related_name="cash_in_bin")
    denomination = models.PositiveIntegerField(help_text="Note value in whole currency units.")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["kiosk", "-denomination"]
        verbose_name = "cash-in bin notes"
        verbose_name_plural = "cash-in bin notes"
        constraints = [
            models.UniqueConstraint(
                fields=["kiosk", "denomination"], name="cash_in_bin_one_per_denomination"
            ),
            models.CheckConstraint(condition=Q(count__gte=0), name="cash_in_bin_count_not_negative"),
            models.CheckConstraint(condition=Q(denomination__gt=0), name="cash_in_bin_denomination_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.count} × {self.denomination}"


class CashInReconciliation(models.Model):
    """One emptying of a kiosk's cash-in bin: what credited deposits put in against what staff counted."""

    kiosk = models.ForeignKey("kiosk.Kiosk", on_delete=models.PROTECT, related_name="cash_in_reconciliations")
    counted_at = models.DateTimeField()
    counted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Second counter.",
    )
    currency = models.CharField(max_length=3)
    expected_notes = models.JSONField(help_text="{denomination: count} credited since the last emptying.")
    counted_notes = models.JSONField(help_text="{denomination: count} staff found in the bin.")
    expected_total = models.DecimalField(max_digits=14, decimal_places=2)
    counted_total = models.DecimalField(max_digits=14, decimal_places=2)
    difference = models.DecimalField(
        max_digits=14, decimal_places=2, help_text="Counted minus expected; negative means notes are missing."
    )
    notes_differ = models.BooleanField(
        help_text="Any denomination's count differs, even if the totals agree."
    )

    class Meta:
        ordering = ["-counted_at", "-id"]
        indexes = [models.Index(fields=["kiosk", "counted_at"])]

    def __str__(self) -> str:
        return gettext("Bin of kiosk %(kiosk)s counted %(when)s: %(difference)s") % {
            "kiosk": self.kiosk_id,
            "when": f"{self.counted_at:%Y-%m-%d %H:%M}",
            "difference": f"{self.difference:+}",
        }


class CashInDevice(models.Model):
    """A kiosk's cash-in module (note acceptor), a device of its own: only its signed count reports put notes
    into a deposit's escrow. One active per kiosk; revoked, never deleted.

    `signing_key` is the HMAC-SHA256 key the device signs reports with: shown once at provisioning and kept
    only as Fernet ciphertext (the server must recompute the signature, so a one-way hash cannot do).
    `last_counter` is the highest report counter accepted: a report must carry a higher one (no replay).
    """

    kiosk = models.ForeignKey("kiosk.Kiosk", on_delete=models.CASCADE, related_name="cash_in_devices")
    device_id = models.CharField(max_length=40, unique=True, editable=False)
    signing_key = EncryptedTextField(editable=False)
    last_counter = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by_id = models.BigIntegerField(null=True, blank=True)
    last_report_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kiosk"],
                condition=Q(revoked_at__isnull=True),
                name="cash_in_device_one_active_per_kiosk",
            )
        ]

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "active"
        return f"Cash-in module {self.device_id} ({state})"


class CashInDeposit(models.Model):
    """The bin's ledger: one row per credited deposit, with its session, written with the ledger entry.

    `reconciliation` is set when staff count the bin: the rows without one are the deposits since the last
    count, which a count difference lists with who confirmed them.
    """

    kiosk = models.ForeignKey("kiosk.Kiosk", on_delete=models.PROTECT, related_name="bin_deposits")
    session = models.ForeignKey("kiosk.KioskSession", on_delete=models.PROTECT, related_name="+")
    transaction = models.OneToOneField("accounts.Transaction", on_delete=models.PROTECT, related_name="+")
    device = models.ForeignKey(CashInDevice, null=True, on_delete=models.PROTECT, related_name="+")
    notes = models.JSONField(help_text="{denomination: count} the cash-in module counted.")
    total = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    customer_id = models.BigIntegerField(null=True, help_text="The verified customer who confirmed it.")
    card_last4 = models.CharField(max_length=4, blank=True)
    confirmed_at = models.DateTimeField()
    reconciliation = models.ForeignKey(
        CashInReconciliation, null=True, blank=True, on_delete=models.PROTECT, related_name="deposits"
    )

    class Meta:
        ordering = ["-confirmed_at", "-id"]
        indexes = [models.Index(fields=["kiosk", "reconciliation"])]
        verbose_name = "cash-in bin deposit"

    def __str__(self) -> str:
        return f"Deposit {self.total} {self.currency} into the bin of {self.kiosk_id}"


class CashCount(models.Model):
    """A cash count entered by one member of staff, applied only when a second one counts the same notes.

    The entered counts are never shown (the second person counts blind too); a different second count
    discards the entry and both count again.
    """

    class Kind(models.TextChoices):
        CASSETTES_LOAD = "cassettes_load", "Cassettes loaded"
        BIN_COUNT = "bin_count", "Cash-in bin emptied and counted"

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting a second person"
        APPLIED = "applied", "Confirmed and applied"
        DISCARDED = "discarded", "Discarded (the second count differed)"

    kiosk = models.ForeignKey("kiosk.Kiosk", on_delete=models.CASCADE, related_name="cash_counts")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    counts = models.JSONField(help_text="{denomination: count} the first person entered; never shown.")
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField()
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-entered_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kiosk", "kind"],
                condition=Q(status="pending"),
                name="cash_count_one_pending_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.kiosk_id} ({self.status})"
