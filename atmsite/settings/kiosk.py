"""Kiosk settings: session timeouts and lockouts, cash, card-less mode, one-time codes."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ImproperlyConfigured

from .environment import DEBUG, env

# --- Kiosk ---
KIOSK_FACE_TIMEOUT_S = env.int("KIOSK_FACE_TIMEOUT_S", default=20)
KIOSK_IDLE_TIMEOUT_S = env.int("KIOSK_IDLE_TIMEOUT_S", default=60)
# Several faces in the frames for this long fail the face check; a shorter glimpse of a passer-by only warns.
KIOSK_SEVERAL_FACES_GRACE_S = env.float("KIOSK_SEVERAL_FACES_GRACE_S", default=1.0)
# This many identical frames in a row (a still image from a virtual camera) fail liveness at once.
KIOSK_REPLAYED_FRAMES_LIMIT = env.int("KIOSK_REPLAYED_FRAMES_LIMIT", default=3)
KIOSK_SESSION_MAX_S = env.int("KIOSK_SESSION_MAX_S", default=300)
# 5 failed face checks in a row lock face verification for the card (OTP still works) for 30 minutes.
KIOSK_FACE_LOCKOUT_FAILURES = env.int("KIOSK_FACE_LOCKOUT_FAILURES", default=5)
KIOSK_FACE_LOCKOUT_S = env.int("KIOSK_FACE_LOCKOUT_S", default=30 * 60)
# Another enrolled customer's face at a card, seen from this many DIFFERENT kiosks within the window, blocks
# the card (one person repeating it at one kiosk does not: that would let anyone block someone else's card).
KIOSK_MISMATCH_BLOCK_KIOSKS = env.int("KIOSK_MISMATCH_BLOCK_KIOSKS", default=2)
KIOSK_MISMATCH_WINDOW_S = env.int("KIOSK_MISMATCH_WINDOW_S", default=24 * 3600)
KIOSK_PROVISIONING_CODE_TTL_S = env.int("KIOSK_PROVISIONING_CODE_TTL_S", default=15 * 60)
KIOSK_CREDENTIAL_COOKIE = "kiosk_credential"
KIOSK_CREDENTIAL_COOKIE_AGE_S = env.int("KIOSK_CREDENTIAL_COOKIE_AGE_S", default=365 * 24 * 3600)
KIOSK_FRAME_MAX_BYTES = env.int("KIOSK_FRAME_MAX_BYTES", default=2 * 1024 * 1024)
KIOSK_FRAME_MAX_PIXELS = env.int("KIOSK_FRAME_MAX_PIXELS", default=4_000_000)
KIOSK_MAX_NOTES = env.int("KIOSK_MAX_NOTES", default=40)
# The admin's "Today" panel: a kiosk silent for longer is offline (the page beats every 30 s); a cassette
# below this many notes is low; a cash-in bin from this share of its capacity needs emptying.
KIOSK_OFFLINE_AFTER_S = env.int("KIOSK_OFFLINE_AFTER_S", default=120)
KIOSK_CASSETTE_LOW_NOTES = env.int("KIOSK_CASSETTE_LOW_NOTES", default=50)
KIOSK_BIN_CAPACITY_NOTES = env.int("KIOSK_BIN_CAPACITY_NOTES", default=2000)
KIOSK_BIN_WARN_PERCENT = env.int("KIOSK_BIN_WARN_PERCENT", default=80)
KIOSK_WITHDRAWAL_PRESETS = env.list("KIOSK_WITHDRAWAL_PRESETS", cast=int, default=[20, 50, 100, 200])
# Notes the cash-in module accepts, per currency: "EUR:5/10/20/50/100/200/500,USD:1/5/10/20/50/100".
KIOSK_DEPOSIT_DENOMINATIONS = {
    currency.strip().upper(): sorted({int(value) for value in values.split("/") if value.strip()})
    for currency, _sep, values in (
        item.partition(":")
        for item in env.list("KIOSK_DEPOSIT_DENOMINATIONS", default=["EUR:5/10/20/50/100/200/500"])
    )
}
# Deposit limits: notes in one deposit (the escrow's capacity), amount of one deposit, deposits per account
# per day (since midnight in TIME_ZONE).
KIOSK_DEPOSIT_MAX_NOTES = env.int("KIOSK_DEPOSIT_MAX_NOTES", default=100)
KIOSK_DEPOSIT_MAX_AMOUNT = Decimal(env.str("KIOSK_DEPOSIT_MAX_AMOUNT", default="5000.00"))
KIOSK_DEPOSITS_PER_DAY = env.int("KIOSK_DEPOSITS_PER_DAY", default=5)
# Counted notes come only from the cash-in module's signed reports; one older (or newer) than this is refused.
KIOSK_CASH_IN_REPORT_MAX_AGE_S = env.int("KIOSK_CASH_IN_REPORT_MAX_AGE_S", default=60)
# Development only: the kiosk page shows a simulated note acceptor (the server signs as the module).
# Refused when DEBUG is off (here and by the kiosk.E001 system check).
KIOSK_SIMULATED_ACCEPTOR = env.bool("KIOSK_SIMULATED_ACCEPTOR", default=DEBUG)
if KIOSK_SIMULATED_ACCEPTOR and not DEBUG:
    raise ImproperlyConfigured(
        "KIOSK_SIMULATED_ACCEPTOR=true lets a kiosk page create money: refused when DEBUG is off"
    )
# Failed card reads (unknown card, wrong expiry) at one kiosk before its card reads pause for the window.
KIOSK_CARD_READ_FAILURES = env.int("KIOSK_CARD_READ_FAILURES", default=10)
KIOSK_CARD_READ_WINDOW_S = env.int("KIOSK_CARD_READ_WINDOW_S", default=10 * 60)
# Failed reads of one card number (any kiosk) within the window before that number's reads pause.
KIOSK_CARD_READ_FAILURES_PER_CARD = env.int("KIOSK_CARD_READ_FAILURES_PER_CARD", default=5)
# Card-less mode (phone + face + PIN): the region of nationally typed phone numbers, the margin by which the
# best of several candidates sharing a phone must beat the runner-up, the card-less daily limit, wrong PINs
# before card-less use is disabled (until a branch reset), and the key of the phone HMAC on sessions.
CARDLESS_DEFAULT_REGION = env.str("CARDLESS_DEFAULT_REGION", default="GB")
# Staff forms: a number typed without + is national here (accounts.phones.phone_e164), else in one of the
# other regions where it is a valid number there (a leading 8 in Russia).
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default=CARDLESS_DEFAULT_REGION)
PHONE_OTHER_REGIONS = env.list("PHONE_OTHER_REGIONS", default=["RU"])
CARDLESS_CANDIDATE_MARGIN = env.float("CARDLESS_CANDIDATE_MARGIN", default=0.06)
CARDLESS_DAILY_LIMIT = Decimal(env.str("CARDLESS_DAILY_LIMIT", default="200.00"))
CARDLESS_PIN_MAX_FAILURES = env.int("CARDLESS_PIN_MAX_FAILURES", default=3)

# --- OTP over WhatsApp ---
# The sender (notifications.senders, used for codes and notices alike) reads OTP_SENDER and TWILIO_*.
# "console" logs the message server-side (development only, refused when DEBUG is off); "twilio" sends it.
OTP_SENDER = env.str("OTP_SENDER", default="console" if DEBUG else "twilio")
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_WHATSAPP_FROM = env.str("TWILIO_WHATSAPP_FROM", default="")
TWILIO_TIMEOUT_S = env.float("TWILIO_TIMEOUT_S", default=10.0)
OTP_TTL_S = env.int("OTP_TTL_S", default=5 * 60)
OTP_MAX_ATTEMPTS = env.int("OTP_MAX_ATTEMPTS", default=5)
OTP_MAX_SENDS = env.int("OTP_MAX_SENDS", default=3)
OTP_SEND_WINDOW_S = env.int("OTP_SEND_WINDOW_S", default=15 * 60)
# Wrong codes in a row (across codes and sessions) before the code path for the card cools down, and the
# cool-downs in seconds, one longer each time (the last repeats). The card itself is never blocked for this.
OTP_COOLDOWN_AFTER = env.int("OTP_COOLDOWN_AFTER", default=5)
OTP_COOLDOWN_STEPS_S = env.list("OTP_COOLDOWN_STEPS_S", cast=int, default=[60, 300, 1800, 7200, 86400])
if not DEBUG and OTP_SENDER == "console":
    raise ImproperlyConfigured("OTP_SENDER=console logs codes and is refused when DEBUG is off")
# Hours after an approved phone change during which the kiosk sends no code to the new number.
OTP_DISABLED_AFTER_PHONE_CHANGE_H = env.int("OTP_DISABLED_AFTER_PHONE_CHANGE_H", default=24)
