"""Security settings: keys, cookies and HTTPS, the content security policy, login throttling, rate limits.

Production hardening switches on with DEBUG=false.
"""

from __future__ import annotations

from .environment import DEBUG, env, secret

SECRET_KEY = secret("SECRET_KEY")
# Fernet keys for templates, photos and snapshots, newest first: add a new key in front, run
# `manage.py rotate_keys`, then drop the old one.
FIELD_ENCRYPTION_KEY = [key.strip() for key in secret("FIELD_ENCRYPTION_KEY").split(",") if key.strip()]
CARD_HMAC_KEY = secret("CARD_HMAC_KEY")
OTP_HMAC_KEY = secret("OTP_HMAC_KEY")
# HMAC keys ("pepper") of the card-less PIN verifiers, held outside the database, newest first: a copy of the
# database alone gives nothing to guess 4-digit PINs against. Rotation: `manage.py pin_pepper_rotate`.
PIN_PEPPER = [key.strip() for key in secret("PIN_PEPPER").split(",") if key.strip()]

# Uploads: frames are ~50 KB, enrolment photos a few MB; anything larger is refused with a 413/400.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=12 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
IMAGE_MAX_PIXELS = env.int("IMAGE_MAX_PIXELS", default=25_000_000)

# --- Security (production hardening switches on with DEBUG=false) ---
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", False) else None
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:", "mediastream:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# django-axes: throttle staff logins (5 failures → 15 min lock per username+IP).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "atmsite.security.axes_username"
# The client address from RATELIMIT_IP_META_KEY, exactly as the rate limits read it (one setting for both).
AXES_CLIENT_IP_CALLABLE = "atmsite.security.client_ip"

# Rate limits (django-ratelimit, in the cache: Redis when REDIS_URL is set), per kiosk or per IP. The only
# place the defaults are written (kiosk.ratelimits reads these). A kiosk page sends a frame every 200 ms
# (5/s), so 10/s leaves room for retries, not for a flood.
RATELIMIT_KIOSK_FRAMES = env.str("RATELIMIT_KIOSK_FRAMES", default="10/s")
RATELIMIT_KIOSK_SESSIONS = env.str("RATELIMIT_KIOSK_SESSIONS", default="30/m")
RATELIMIT_KIOSK_OTP_REQUESTS = env.str("RATELIMIT_KIOSK_OTP_REQUESTS", default="6/m")
RATELIMIT_KIOSK_OTP_VERIFIES = env.str("RATELIMIT_KIOSK_OTP_VERIFIES", default="20/m")
RATELIMIT_KIOSK_PROVISION_IP = env.str("RATELIMIT_KIOSK_PROVISION_IP", default="10/m")
# Count reports per cash-in module id (a module sends one per deposit; refusals are audited, so bounded).
RATELIMIT_KIOSK_CASH_IN_REPORTS = env.str("RATELIMIT_KIOSK_CASH_IN_REPORTS", default="30/m")
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
if env.str("RATELIMIT_IP_META_KEY", default=""):
    RATELIMIT_IP_META_KEY = env.str("RATELIMIT_IP_META_KEY")
