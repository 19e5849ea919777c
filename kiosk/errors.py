"""The kiosk app's refusals: each code with its one wording, in the customer's language (see
atmsite.errors.ErrorCode). Refusals of accounts (insufficient funds, the daily limit, ...) are
`accounts.errors.AccountsError` members, raised here as they are; kiosk.messages words the screens.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from atmsite.errors import ErrorCode


class KioskError(ErrorCode):
    # The kiosk and its session
    KIOSK_INACTIVE = "kiosk_inactive", _("This kiosk is out of service.")
    SESSION_NOT_FOUND = "session_not_found", _("No such session at this kiosk.")
    SESSION_ENDED = "session_ended", _("This session has ended.")
    SESSION_TIMEOUT = "session_timeout", _("This session has timed out.")
    WRONG_STATE = "wrong_state", _("This step is not available now.")
    PROVISIONING_INVALID = (
        "provisioning_invalid",
        _("This provisioning link is invalid, expired or already used."),
    )
    # The card
    CARD_READ_INVALID = (
        "card_read_invalid",
        _("The card could not be read. Insert it again, or type the number and the expiry date (MM/YY)."),
    )
    CARD_READS_THROTTLED = (
        "card_reads_throttled",
        _("Too many cards could not be read at this kiosk. Please wait a few minutes and try again."),
    )
    CARD_STOLEN = "card_stolen", _("This card was reported stolen.")
    CARD_BLOCKED = "card_blocked", _("This card is blocked. Please contact the bank.")
    CARD_EXPIRED = "card_expired", _("This card has expired.")
    CARD_INACTIVE = "card_inactive", _("This card cannot be used.")
    # Frames
    FRAME_EMPTY = "frame_empty", _("The frame is empty.")
    FRAME_TOO_LARGE = "frame_too_large", _("The frame is too large.")
    FRAME_NOT_AN_IMAGE = "frame_not_an_image", _("The data is not a recognised image.")
    FRAME_UNSUPPORTED_FORMAT = "frame_unsupported_format", _("Only JPEG, PNG and WebP images are accepted.")
    FRAME_CORRUPT = "frame_corrupt", _("The image data is damaged or incomplete.")
    FRAME_NONCE = "frame_nonce", _("This frame does not belong to the session.")
    FRAME_SEQUENCE = "frame_sequence", _("Frame out of order.")
    FRAME_REPLAYED = "frame_replayed", _("The same frame was sent twice.")
    # One-time codes and the step-up
    OTP_WAIT = "otp_wait", _("We are still checking. Please wait a moment, then ask for the code again.")
    OTP_UNAVAILABLE = (
        "otp_unavailable",
        _("A one-time code cannot be sent for this card now. Please contact the bank."),
    )
    OTP_RATE_LIMITED = (
        "otp_rate_limited",
        _("Too many codes were sent for this card. Please try again later."),
    )
    OTP_SEND_FAILED = (
        "otp_send_failed",
        _("The code could not be sent right now. Please try again in a moment."),
    )
    OTP_COOLDOWN = (
        "otp_cooldown",
        _("Too many wrong codes. Codes for this card are paused for %(minutes)d min."),
    )
    OTP_FORMAT = "otp_format", _("Enter the 6-digit code.")
    OTP_EXPIRED = "otp_expired", _("The code has expired or was used up. Ask for a new code.")
    OTP_VOIDED = "otp_voided", _("Too many wrong codes. This code no longer works; ask for a new one.")
    OTP_WRONG = "otp_wrong", _("Wrong code. Attempts left: %(remaining)d.")
    STEP_UP_REQUIRED = (
        "step_up_required",
        _("For an amount this large we also need a one-time code sent to your phone."),
    )
    # Card-less cash
    PHONE_INVALID = "phone_invalid", _("Enter your mobile phone number.")
    PIN_FORMAT = "pin_format", _("The PIN is 4 to 6 digits.")
    PIN_MISMATCH = "pin_mismatch", _("The two PINs differ. Type the PIN again.")
    PIN_WEAK = "pin_weak", _("Choose a PIN that is harder to guess.")
    PIN_WRONG = "pin_wrong", _("Wrong PIN. Attempts left: %(remaining)d.")
    PIN_NOT_EXPECTED = "pin_not_expected", _("A PIN can be set only right after opting in or a reset.")
    CARDLESS_DISABLED = (
        "cardless_disabled",
        _("Too many wrong PINs. Card-less cash is disabled; please visit a branch."),
    )
    # Card-less opt-in at the branch
    CONSENT_REQUIRED = "consent_required", _("The customer's consent to card-less cash is required.")
    ACCOUNT_INVALID = "account_invalid", _("Choose an active account of this customer.")
    NOT_ENROLLED = "not_enrolled", _("Enrol the customer's face before opting in to card-less cash.")
    CARDLESS_RESET_REQUIRED = (
        "cardless_reset_required",
        _("Card-less cash was disabled after wrong PINs: propose a reset (four eyes) first."),
    )
    CARDLESS_EXISTS = "cardless_exists", _("The customer has already opted in.")
    CHANGE_STALE = "change_stale", _("Card-less use is not disabled.")
    ACTION_INVALID = "action_invalid", _("Unknown action.")
    # Withdrawals
    AMOUNT_NOT_NOTES = "amount_not_notes", _("The amount must be a whole number of notes.")
    KIOSK_NOTES = (
        "kiosk_notes",
        _("This amount cannot be paid out with the notes in this kiosk. Try another amount."),
    )
    KIOSK_NO_CASH = "kiosk_no_cash", _("This kiosk has no cash left.")
    KIOSK_CASH = "kiosk_cash", _("This kiosk does not have enough cash for this amount.")
    CURRENCY_MISMATCH = "currency_mismatch", _("This kiosk accepts %(currency)s only.")
    # Deposits and the cash-in module
    DEPOSIT_AMOUNT_REFUSED = (
        "deposit_amount_refused",
        _("A deposit is the notes the kiosk counted; an amount cannot be entered."),
    )
    DEPOSIT_NO_NOTES = "deposit_no_notes", _("No notes were counted.")
    DEPOSIT_DENOMINATION = "deposit_denomination", _("This kiosk does not accept %(note)s notes.")
    DEPOSIT_COUNT_INVALID = "deposit_count_invalid", _("A note count must be a whole number, zero or more.")
    DEPOSIT_TOO_MANY_NOTES = "deposit_too_many_notes", _("Too many notes in one deposit (at most %(max)d).")
    DEPOSIT_AMOUNT_LIMIT = "deposit_amount_limit", _("This deposit is above the largest allowed (%(max)s).")
    DEPOSIT_DAILY_COUNT = "deposit_daily_count", _("The number of deposits for today has been reached.")
    DEPOSIT_NOT_OPEN = "deposit_not_open", _("No deposit is open at this kiosk.")
    DEPOSIT_ESCROW_HELD = (
        "deposit_escrow_held",
        _("Notes are already waiting in escrow: confirm or cancel them first."),
    )
    DEPOSIT_NO_ESCROW = "deposit_no_escrow", _("There are no counted notes waiting to be confirmed.")
    CASH_IN_UNAVAILABLE = "cash_in_unavailable", _("This kiosk cannot take deposits now.")
    CASH_IN_DEVICE_ONLY = "cash_in_device_only", _("Counted notes come only from the kiosk's cash-in module.")
    CASH_IN_DEVICE_UNKNOWN = (
        "cash_in_device_unknown",
        _("This cash-in module is not provisioned or was revoked."),
    )
    CASH_IN_SIGNATURE_INVALID = "cash_in_signature_invalid", _("The count report's signature is not valid.")
    CASH_IN_REPORT_STALE = "cash_in_report_stale", _("The count report is too old.")
    CASH_IN_REPORT_REPLAYED = "cash_in_report_replayed", _("This count report was already received (replay).")
    CASH_IN_REPORT_INVALID = "cash_in_report_invalid", _("The count report is not valid JSON.")
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type", _("The count report must be application/json.")
    # The cash office (staff)
    COUNT_INVALID = "count_invalid", _("Each count must be a whole number from 0 to 1,000,000.")
    DENOMINATION_INVALID = "denomination_invalid", _("A denomination must be positive.")
    CASH_COUNT_SAME_PERSON = (
        "cash_count_same_person",
        _("A second member of staff must confirm this count: you entered it."),
    )
    KIOSK_CURRENCY_CASH_HELD = (
        "kiosk_currency_cash_held",
        _("The currency cannot change while the cassettes or the cash-in bin hold cash: empty them first."),
    )


# Second wordings of a code, for the raise site that needs other words (the code, which programs read, is the
# same): a withdrawal's currency and note refusals, and what exactly is wrong with a malformed count report.
CURRENCY_DISPENSED_ONLY = _("This kiosk dispenses %(currency)s only.")
AMOUNT_NOT_MULTIPLE = _("The amount must be a multiple of %(note)d.")
CASH_IN_REPORT_NO_COUNTER = _("The count report needs a positive counter and a Unix timestamp.")
CASH_IN_REPORT_NOT_OBJECT = _("The count report must be a JSON object.")
CASH_IN_REPORT_SESSION = _("The session must be a string.")
CASH_IN_REPORT_NO_KEY = _("The count report needs an idempotency key.")
CASH_IN_REPORT_TOO_LARGE = _("The count report is too large.")
