"""The accounts app's refusals: each code with its one wording (see atmsite.errors.ErrorCode).

The kiosk shows these in the customer's language as they are (kiosk.apis re-words only the two it says
differently); staff pages show them too.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from atmsite.errors import ErrorCode


class AccountsError(ErrorCode):
    # Money (accounts.services.ledger)
    AMOUNT_INVALID = "amount_invalid", _("The amount is not a number.")
    AMOUNT_NOT_POSITIVE = "amount_not_positive", _("The amount must be greater than zero.")
    AMOUNT_TOO_LARGE = "amount_too_large", _("The amount is too large.")
    AMOUNT_PRECISION = "amount_precision", _("The amount has more than two decimals.")
    IDEMPOTENCY_KEY = "idempotency_key", _("An idempotency key of 8 to 64 characters is required.")
    IDEMPOTENCY_CONFLICT = (
        "idempotency_conflict",
        _("This idempotency key was already used for a different operation."),
    )
    ACCOUNT_INACTIVE = "account_inactive", _("The account is not active.")
    INSUFFICIENT_FUNDS = "insufficient_funds", _("Insufficient funds.")
    DAILY_LIMIT = "daily_limit", _("This withdrawal would exceed the daily limit.")
    BALANCE_LIMIT = "balance_limit", _("This deposit would take the balance above the largest allowed.")
    # Accounts, cards, customers
    ACCOUNT_NUMBER = "account_number", _("Could not generate a free account number; try again.")
    ACCOUNT_CLOSED = "account_closed", _("The account is already closed.")
    BALANCE_NOT_ZERO = (
        "balance_not_zero",
        _("Only an account with a zero balance can be closed; pay out or transfer the balance first."),
    )
    ACCOUNT_OWNER = "account_owner", _("The account belongs to another customer.")
    CARD_INVALID = "card_invalid", _("This is not a valid card number.")
    CARD_UNKNOWN = "card_unknown", _("This card is not known to the bank.")
    CARD_NOT_ACTIVE = (
        "card_not_active",
        _("Only an active card's face lock is reset here; unblock a blocked card instead."),
    )
    PAN_FORMAT = "pan_format", _("A card number has 12 to 19 digits.")
    PAN_LUHN = "pan_luhn", _("This is not a valid card number (check digit).")
    PAN_DUPLICATE = "pan_duplicate", _("A card with this number is already registered or awaiting approval.")
    EXPIRED = "expired", _("The expiry date must be in the future.")
    PHONE_INVALID = (
        "phone_invalid",
        _("Enter a mobile phone number, e.g. +7 916 555-12-34, 8 (916) 555-12-34 or +44 7700 900123."),
    )
    PHONE_UNCHANGED = "phone_unchanged", _("This is already the customer's phone number.")
    CUSTOMER_INACTIVE = "customer_inactive", _("The customer is not active.")
    FACE_LOCK_RESET_PERMISSION = "face_lock_reset_permission", _("You may not reset face locks.")
    QUERY_INVALID = "query_invalid", _("The search text contains a NUL character.")
    LIMIT_INVALID = "limit_invalid", _("The limit is not a number.")
    LIMIT_TOO_LARGE = "limit_too_large", _("The daily limit cannot be above the largest balance (%(max)s).")
    CURRENCY = "currency", _("This bank does not open accounts in %(currency)s.")
    STATUS = "status", _("A card can only be blocked or reported stolen.")
    CARD_STOLEN = "stolen", _("A card reported stolen is never unblocked; issue a new card.")
    NOT_FROZEN = "not_frozen", _("Only a card the customer froze can be unfrozen this way.")
    CLOSE_FOUR_EYES = (
        "close_four_eyes",
        _("An account is closed through a closure request that a second member of staff approves."),
    )
    ROLE_UNKNOWN = "role_unknown", _("Unknown role: %(roles)s.")
    # Four-eyes changes (accounts.approvals)
    INVALID = "invalid", _("Invalid input.")
    CHANGE_INVALID = "change_invalid", _("This request concerns no customer.")
    REASON_REQUIRED = "reason_required", _("Give the reason for this change.")
    CHANGE_STALE = "change_stale", _("%(what)s changed since this was proposed; reject it and propose again.")
    CHANGE_PENDING = (
        "change_pending",
        _("The same kind of change is already awaiting approval for this; decide or cancel that one first."),
    )
    CHANGE_NOT_PENDING = "change_not_pending", _("This request is already %(state)s.")
    APPROVE_PERMISSION = "approve_permission", _("You may not approve or reject changes.")
    FOUR_EYES = "four_eyes", _("You proposed this change; another member of staff must decide it.")
    FOUR_EYES_GRANTED_BY_PROPOSER = (
        "four_eyes_granted_by_proposer",
        _(
            "Your login was created or given its role by the proposer within the last %(days)d days; another "
            "member of staff must decide."
        ),
    )
    NOT_PROPOSER = "not_proposer", _("Only the proposer can cancel a request.")
    CANCEL_NOT_SUPPORTED = (
        "cancel_not_supported",
        _("An enrolment is approved or rejected by a second member of staff."),
    )
    CARDLESS_NOT_DISABLED = "cardless_not_disabled", _("Card-less cash is not disabled for this customer.")


# Second wordings of a code, for the staff page that needs other words (the code, which programs read, is the
# same); the kiosk shows the member's own wording (kiosk.apis).
ACCOUNT_INACTIVE_FOR_CARDS = _("Cards are issued on active accounts only.")
PAN_DUPLICATE_MEANWHILE = _("A card with this number was registered meanwhile.")
CHANGE_PENDING_ELSEWHERE = _("The same kind of change is already awaiting approval.")
APPROVE_STAFF_ONLY = _("Only a member of staff can decide.")
REASON_FOR_REJECTION = _("Give the reason for the rejection.")
CUSTOMER_DEACTIVATED_SINCE = _(
    "The customer was deactivated since this was proposed; nothing was applied. Reject it."
)
LIMIT_OUT_OF_RANGE = _("The limit must be zero or more, below 1,000,000,000, with at most two decimals.")
REASON_FOR_FACE_LOCK_RESET = _("Give the reason for lifting the face lock.")
PAN_DUPLICATE_REGISTERED = _("A card with this number is already registered.")
CARD_EXPIRED = _("The card has expired.")
DAILY_LIMIT_NEGATIVE = _("The daily limit must be zero or more.")
ACCOUNT_STATUS_UNKNOWN = _("Unknown account status.")
AMOUNT_ABOVE_TRANSACTION_MAX = _("The amount is above the largest single transaction.")
