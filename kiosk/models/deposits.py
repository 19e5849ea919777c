"""A deposit the customer opened at a kiosk and the notes the cash-in module counted into its escrow."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext

from .cash import CashInDevice
from .sessions import KioskSession


class DepositEscrow(models.Model):
    """The session's open deposit: the row exists from the moment the kiosk opens a deposit until the notes
    are credited (confirm) or returned (cancel). Changed only under its session's row lock (kiosk.locks).

    `idempotency_key` is set once the cash-in module counted notes into escrow; they are not credited yet.
    """

    session = models.OneToOneField(KioskSession, on_delete=models.CASCADE, related_name="deposit_escrow")
    opened_at = models.DateTimeField(
        help_text="The kiosk opened a deposit: the cash-in module may report a count."
    )
    notes = models.JSONField(
        default=dict,
        blank=True,
        help_text="Notes counted into escrow by the cash-in module, {denomination: count}; not credited.",
    )
    idempotency_key = models.CharField(
        max_length=64,
        blank=True,
        help_text="Idempotency key of the escrowed deposit; the ledger row gets it.",
    )
    escrowed_at = models.DateTimeField(null=True, blank=True)
    device = models.ForeignKey(
        CashInDevice,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The module that counted.",
    )

    class Meta:
        verbose_name = "deposit escrow"
        verbose_name_plural = "deposit escrows"

    def __str__(self) -> str:
        return gettext("Deposit of session %(session)s") % {"session": self.session_id}
