"""Kiosk settings with their defaults, so the app works before the lead adds them to atmsite/settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "KIOSK_FACE_TIMEOUT_S": 20,
    "KIOSK_IDLE_TIMEOUT_S": 60,
    "KIOSK_SESSION_MAX_S": 300,
    # 5 failed face checks in a row lock face verification for the card for 30 minutes (OTP still works).
    "KIOSK_FACE_LOCKOUT_FAILURES": 5,
    "KIOSK_FACE_LOCKOUT_S": 30 * 60,
    # Another enrolled customer's face at this card twice within 24 h blocks the card.
    "KIOSK_MISMATCH_BLOCK_COUNT": 2,
    "KIOSK_MISMATCH_WINDOW_S": 24 * 3600,
    "KIOSK_PROVISIONING_CODE_TTL_S": 15 * 60,
    "KIOSK_CREDENTIAL_COOKIE": "kiosk_credential",
    "KIOSK_CREDENTIAL_COOKIE_AGE_S": 365 * 24 * 3600,
    "KIOSK_FRAME_MAX_BYTES": 2 * 1024 * 1024,
    "KIOSK_FRAME_MAX_PIXELS": 4_000_000,
    "KIOSK_MAX_NOTES": 40,
    "KIOSK_WITHDRAWAL_PRESETS": [20, 50, 100, 200],
    "FACE_MATCH_FRAMES_REQUIRED": 3,
    "LIVENESS_ENABLED": False,
    "OTP_TTL_S": 5 * 60,
    "OTP_MAX_ATTEMPTS": 5,
    "OTP_MAX_SENDS": 3,
    "OTP_SEND_WINDOW_S": 15 * 60,
    # Wrong codes in a row (across codes and sessions) before the card is blocked.
    "OTP_CARD_BLOCK_AFTER": 10,
}


def kiosk_setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])
