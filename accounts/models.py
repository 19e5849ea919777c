from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy

from .pan import pan_mask

E164 = RegexValidator(
    r"^\+[1-9]\d{6,14}$",
    gettext_lazy("Enter the phone in international form, e.g. +7 916 555-12-34 or +44 7700 900123."),
)
MONEY_DIGITS, MONEY_PLACES = 14, 2
# The largest value the money columns hold. The configured bounds (ACCOUNT_MAX_BALANCE and
# ACCOUNT_MAX_TRANSACTION) must stay at or below it; CHECK constraints hold every row to it, so no stored
# value is unreadable.
MONEY_CEILING = Decimal("999999999999.99")


def language_default() -> str:
    """The bank's own language (settings.LANGUAGE_CODE), read when a customer is created, not at migration."""
    return settings.LANGUAGE_CODE


class Customer(models.Model):
    full_name = models.CharField(max_length=200)
    phone = models.CharField(
        max_length=16, validators=[E164], help_text="E.164; the WhatsApp one-time codes go to this number."
    )
    email = models.EmailField(blank=True)
    biometric_consent_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the customer consented to face verification (set at enrolment).",
    )
    biometric_consent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_active = models.BooleanField(default=True)
    phone_changed_at = models.DateTimeField(
        null=True, blank=True, help_text="When an approved phone change last applied (pauses one-time codes)."
    )
    preferred_language = models.CharField(
        max_length=8,
        choices=settings.LANGUAGES,
        default=language_default,
        blank=True,
        # Notices (phone change, card-less, approvals) are written in this language, whoever clicked.
        help_text="The language of the notices sent to the customer (blank: the bank's own).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["full_name"]
        indexes = [models.Index(fields=["phone"])]

    def __str__(self) -> str:
        return self.full_name


class BankAccount(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        FROZEN = "frozen", "Frozen"
        CLOSED = "closed", "Closed"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="accounts")
    number = models.CharField(max_length=34, unique=True)
    currency = models.CharField(max_length=3, default="EUR")
    balance = models.DecimalField(
        max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=Decimal("0.00")
    )
    daily_withdrawal_limit = models.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        default=Decimal("1000.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MONEY_CEILING)],
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            # The last line of defence: even a buggy service cannot overdraw.
            models.CheckConstraint(condition=Q(balance__gte=0), name="account_balance_not_negative"),
            models.CheckConstraint(
                condition=Q(daily_withdrawal_limit__gte=0), name="account_limit_not_negative"
            ),
            models.CheckConstraint(condition=Q(balance__lte=MONEY_CEILING), name="account_balance_bounded"),
            models.CheckConstraint(
                condition=Q(daily_withdrawal_limit__lte=MONEY_CEILING), name="account_limit_bounded"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.currency})"


class Card(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        BLOCKED = "blocked", "Blocked"
        EXPIRED = "expired", "Expired"
        STOLEN = "stolen", "Reported stolen"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="cards")
    account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="cards")
    pan_hmac = models.CharField(
        max_length=64, unique=True, editable=False, help_text="Keyed HMAC-SHA256 of the PAN, for lookup only."
    )
    last4 = models.CharField(max_length=4, editable=False)
    expires_on = models.DateField(help_text="Last day the card is valid.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    blocked_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["customer__full_name", "last4"]
        indexes = [models.Index(fields=["last4"])]
        permissions = [("reset_face_lock", "Can lift the face lock of an active card (with a reason)")]

    def __str__(self) -> str:
        return self.masked_pan

    @property
    def masked_pan(self) -> str:
        return pan_mask(self.last4)


class Transaction(models.Model):
    """Append-only ledger row. Balances change only through accounts.services, under an account row lock."""

    class Kind(models.TextChoices):
        WITHDRAWAL = "withdrawal", "Withdrawal"
        DEPOSIT = "deposit", "Deposit"

    account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="transactions")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount = models.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        help_text="Always positive; the kind says which way money moved.",
    )
    balance_after = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    card = models.ForeignKey(Card, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kiosk = models.ForeignKey(
        "kiosk.Kiosk", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = models.CharField(max_length=64)
    details = models.JSONField(default=dict, blank=True, help_text="E.g. the notes dispensed.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "idempotency_key"], name="ledger_idempotency_key_unique"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_amount_positive"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="ledger_balance_not_negative"),
            models.CheckConstraint(condition=Q(amount__lte=MONEY_CEILING), name="ledger_amount_bounded"),
            models.CheckConstraint(
                condition=Q(balance_after__lte=MONEY_CEILING), name="ledger_balance_bounded"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} → {self.balance_after}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("Ledger rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("Ledger rows are append-only")


class ChangeRequest(models.Model):
    """Maker-checker: a change that could hand an account to someone else, proposed by one member of staff
    and applied only when a different one, holding `approve_changerequest`, approves it.

    `payload` is what would change (never a card number in clear: its keyed HMAC and last four digits);
    `baseline` is what the proposer saw, so an approval refuses a request whose target changed meanwhile.
    """

    class Kind(models.TextChoices):
        PHONE_CHANGE = "phone_change", "Phone number change"
        CARD_ISSUE = "card_issue", "Card issue"
        CARD_REPLACE = "card_replace", "Card replacement"
        FACE_REENROL = "face_reenrol", "Face re-enrolment"
        BIOMETRICS_REVOKE = "biometrics_revoke", "Biometric revoke"
        BIOMETRICS_ERASE = "biometrics_erase", "Biometric erasure"
        LIMIT_INCREASE = "limit_increase", "Daily withdrawal limit increase"
        CARDLESS_RESET = "cardless_reset", "Card-less cash reset (after wrong PINs)"
        FACE_ENROL = "face_enrol", "First face enrolment"
        CARDLESS_OPT_IN = "cardless_opt_in", "Card-less cash opt-in"
        ACCOUNT_CLOSE = "account_close", "Account closure"
        STAFF_GRANT = "staff_grant", "Staff login or role"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        CANCELLED = "cancelled", "Cancelled"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="change_requests",
        help_text="Whose account it concerns (none for a staff login or role).",
    )
    target = models.CharField(
        max_length=40, help_text='What the change applies to, e.g. "customer:7", "account:3", "card:12".'
    )
    summary = models.CharField(max_length=200, help_text="What would change, masked; shown to the approver.")
    payload = models.JSONField(default=dict, help_text="The proposed values (PANs only as HMAC + last4).")
    baseline = models.JSONField(default=dict, help_text="The target as the proposer saw it (stale check).")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True, help_text="Why it was rejected or cancelled.")
    proposal_reason = models.CharField(
        max_length=300, blank=True, help_text="Why the proposer asks for the change (shown to the approver)."
    )
    proposer_notified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the proposer was shown the rejection (on their next page)."
    )

    class Meta:
        ordering = ["-proposed_at", "-id"]
        permissions = [("approve_changerequest", "Can approve or reject a change proposed by someone else")]
        indexes = [models.Index(fields=["customer", "kind", "state"])]
        constraints = [
            # One open proposal per kind and target: two pending phone numbers would make approval ambiguous.
            models.UniqueConstraint(
                fields=["kind", "target"],
                condition=Q(state="pending"),
                name="change_request_one_pending_per_target",
            ),
            # The last line of defence for four eyes: nobody decides their own proposal, not even a superuser.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True)
                | Q(proposed_by__isnull=True)
                | ~Q(decided_by=models.F("proposed_by")),
                name="change_request_not_self_decided",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} ({self.get_state_display()})"
