"""Customer portal settings (/my/): activation, sign-in, lock-out, sessions, card unfreeze."""

from __future__ import annotations

from .environment import DEBUG, env

# The teller's activation link works once, for this long.
PORTAL_ACTIVATION_TTL_S = env.int("PORTAL_ACTIVATION_TTL_S", default=72 * 3600)
# A WhatsApp sign-in or unfreeze code works once, for this long, and for at most this many wrong tries.
PORTAL_CODE_TTL_S = env.int("PORTAL_CODE_TTL_S", default=5 * 60)
PORTAL_CODE_MAX_ATTEMPTS = env.int("PORTAL_CODE_MAX_ATTEMPTS", default=3)
# This many failed sign-ins (wrong password or code) in a row lock the login for PORTAL_LOCKOUT_S; the
# customer gets a WhatsApp notice.
PORTAL_LOCKOUT_FAILURES = env.int("PORTAL_LOCKOUT_FAILURES", default=5)
PORTAL_LOCKOUT_S = env.int("PORTAL_LOCKOUT_S", default=30 * 60)
# A portal session ends after this long without a request, and in any case this long after sign-in.
PORTAL_IDLE_TIMEOUT_S = env.int("PORTAL_IDLE_TIMEOUT_S", default=10 * 60)
PORTAL_SESSION_MAX_S = env.int("PORTAL_SESSION_MAX_S", default=4 * 3600)
# A card the customer froze can be unfrozen by them (with a second factor) only this long after they ask.
PORTAL_UNFREEZE_COOLING_OFF_S = env.int("PORTAL_UNFREEZE_COOLING_OFF_S", default=24 * 3600)
# Its own cookie, scoped to /my/: the staff session cookie never carries a customer, and vice versa.
PORTAL_SESSION_COOKIE = "portal_session"
PORTAL_SESSION_COOKIE_SECURE = not DEBUG
# Per client IP: sign-in and code POSTs.
RATELIMIT_PORTAL_SIGNIN = env.str("RATELIMIT_PORTAL_SIGNIN", default="10/m")
# Version of the biometric consent text customers agree to at enrolment (portal.consent).
BIOMETRIC_CONSENT_VERSION = env.str("BIOMETRIC_CONSENT_VERSION", default="2026-1")
