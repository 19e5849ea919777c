"""Settings. Embedded defaults work with no variable set; production is switched on by variables alone.

Every variable is listed with a comment in .env.example. Secrets may also come from NAME_FILE (a path).
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from biometrics.liveness.state import CHALLENGE_TIME_LIMIT_SECONDS

from .devkeys import dev_secret

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("ATM_VAR_DIR", BASE_DIR / "var"))

env = environ.Env()

# Real-face photos, shared beside the project and never copied into it: demo seeding, benchmarks, tests.
ATM_FACES_DIR = Path(os.environ.get("ATM_FACES_DIR", BASE_DIR.parent / "shared" / "faces")).resolve()

DEBUG = env.bool("DEBUG", default=True)


def secret(name: str) -> str:
    """NAME or NAME_FILE from the environment; in development only, a generated key kept in var/."""
    file_path = env.str(f"{name}_FILE", default="")
    raw = Path(file_path).read_text().strip() if file_path else env.str(name, default="")
    if not raw:
        if not DEBUG:
            raise ImproperlyConfigured(f"{name} must be set when DEBUG is off (see .env.example)")
        raw = dev_secret(VAR_DIR, name)
    return raw


SECRET_KEY = secret("SECRET_KEY")
# Fernet keys for templates, photos and snapshots, newest first: add a new key in front, run
# `manage.py rotate_keys`, then drop the old one.
FIELD_ENCRYPTION_KEY = [key.strip() for key in secret("FIELD_ENCRYPTION_KEY").split(",") if key.strip()]
CARD_HMAC_KEY = secret("CARD_HMAC_KEY")
OTP_HMAC_KEY = secret("OTP_HMAC_KEY")
# HMAC keys of the audit chain, newest first: new events are chained with the first; every event records the
# id of its key, so retired keys stay listed for as long as their events must verify.
AUDIT_CHAIN_KEY = [key.strip() for key in secret("AUDIT_CHAIN_KEY").split(",") if key.strip()]
# Ed25519 private keys (base64 of the 32-byte seed), newest first, that sign checkpoints of the chain head.
AUDIT_CHECKPOINT_SIGNING_KEY = [
    key.strip() for key in secret("AUDIT_CHECKPOINT_SIGNING_KEY").split(",") if key.strip()
]

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served locally: no CDN, CSP stays 'self'
    "encrypted_model_fields",
    "axes",
    "accounts",
    "biometrics",
    "audit",
    "kiosk",
    "bench",  # benchmark commands only: nothing in the request path imports it
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it watches the authentication results of everything above.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "atmsite.urls"
WSGI_APPLICATION = "atmsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'atm.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections: opening one (and SQLite's WAL pragma) cost ~4 ms on every kiosk frame.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the dev server, a Celery worker and tests share the file without lock errors.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL;",
        "transaction_mode": "IMMEDIATE",
    }

if not DEBUG and DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    raise ImproperlyConfigured(
        "DATABASE_URL must name a PostgreSQL database when DEBUG is off: money movements rely on its row "
        "locks (see .env.example)"
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ru", "Русский")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
# Per-language date formats that also name the time zone (atmsite/formats/<lang>/formats.py).
FORMAT_MODULE_PATH = ["atmsite.formats"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
# Everything under MEDIA_ROOT is Fernet ciphertext (photos, snapshots); it is never served directly.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Cache: Redis when configured (shared rate limits and gallery version across processes), else local memory.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if not DEBUG and not REDIS_URL:
    raise ImproperlyConfigured(
        "REDIS_URL must be set when DEBUG is off: rate limits and the gallery version are shared through it "
        "(a per-process cache multiplies every limit by the number of workers)"
    )

# Celery: no broker → tasks run eagerly in-process (embedded default).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600)}
CELERY_TIMEZONE = TIME_ZONE
# 1:N matcher tier (biometrics.matcher): shard k of MATCHER_SHARDS is served by a worker on queue
# "<MATCHER_QUEUE>.<k>"; without a broker the shards run inside the asking process (make run).
MATCHER_QUEUE = env.str("MATCHER_QUEUE", default="match")
MATCHER_SHARDS = env.int("MATCHER_SHARDS", default=1)
MATCHER_IN_PROCESS = env.bool("MATCHER_IN_PROCESS", default=not CELERY_BROKER_URL)
MATCHER_FRAME_DEADLINE_S = env.float("MATCHER_FRAME_DEADLINE_S", default=0.25)
MATCHER_ENROLMENT_DEADLINE_S = env.float("MATCHER_ENROLMENT_DEADLINE_S", default=10.0)
MATCHER_NAMING_DEADLINE_S = env.float("MATCHER_NAMING_DEADLINE_S", default=5.0)
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "audit-snapshots-purge": {"task": "audit.snapshots_purge", "schedule": crontab(hour=3, minute=17)},
    "kiosk-sessions-expire": {"task": "kiosk.tasks.kiosk_sessions_expire_task", "schedule": 60.0},
    "kiosk-deferred-namings": {"task": "kiosk.tasks.deferred_namings_sweep_task", "schedule": 60.0},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_SCHEMA_CLASS": "atmsite.schema.NestedSerializerNamingSchema",
    "EXCEPTION_HANDLER": "atmsite.errors.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Biometric ATM portal API",
    "DESCRIPTION": "Back-office, branch enrolment and kiosk APIs. Kiosk endpoints authenticate with the "
    "kiosk device credential; staff endpoints with the Django session.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# --- Banking ---
BANK_NAME = env.str("BANK_NAME", default="Demo Bank")
CARD_BIN = env.str("CARD_BIN", default="400000")
# Largest balance an account may reach and largest single ledger amount; both must stay below what the money
# columns hold (999,999,999,999.99, checked at start-up and by database CHECK constraints).
ACCOUNT_MAX_BALANCE = Decimal(env.str("ACCOUNT_MAX_BALANCE", default="1000000000.00"))
ACCOUNT_MAX_TRANSACTION = Decimal(env.str("ACCOUNT_MAX_TRANSACTION", default="100000.00"))
# Currencies a teller may open an account in (ISO 4217 codes, the first is the default).
BANK_CURRENCIES = env.list("BANK_CURRENCIES", default=["EUR", "USD", "GBP"])
# New account numbers: this prefix, then 16 random digits in groups of four.
ACCOUNT_NUMBER_PREFIX = env.str("ACCOUNT_NUMBER_PREFIX", default="DE00")

# --- Biometrics ---
FACE_DISTANCE_THRESHOLD = env.float("FACE_DISTANCE_THRESHOLD", default=0.50)
FACE_MATCH_FRAMES_REQUIRED = env.int("FACE_MATCH_FRAMES_REQUIRED", default=3)
FACE_MIN_SIZE_PX = env.int("FACE_MIN_SIZE_PX", default=80)
FACE_MIN_SHARPNESS = env.float("FACE_MIN_SHARPNESS", default=15.0)
ENROLMENT_PHOTOS_REQUIRED = env.int("ENROLMENT_PHOTOS_REQUIRED", default=10)
ENROLMENT_PHOTO_RETENTION_DAYS = env.int("ENROLMENT_PHOTO_RETENTION_DAYS", default=365)

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
# Failed card reads (unknown card, wrong expiry) at one kiosk before its card reads pause for the window.
KIOSK_CARD_READ_FAILURES = env.int("KIOSK_CARD_READ_FAILURES", default=10)
KIOSK_CARD_READ_WINDOW_S = env.int("KIOSK_CARD_READ_WINDOW_S", default=10 * 60)
# Card-less mode (phone + face + PIN): the region of nationally typed phone numbers, the margin by which the
# best of several candidates sharing a phone must beat the runner-up, the card-less daily limit, wrong PINs
# before card-less use is disabled (until a branch reset), and the key of the phone HMAC on sessions.
CARDLESS_DEFAULT_REGION = env.str("CARDLESS_DEFAULT_REGION", default="GB")
CARDLESS_CANDIDATE_MARGIN = env.float("CARDLESS_CANDIDATE_MARGIN", default=0.06)
CARDLESS_DAILY_LIMIT = Decimal(env.str("CARDLESS_DAILY_LIMIT", default="200.00"))
CARDLESS_PIN_MAX_FAILURES = env.int("CARDLESS_PIN_MAX_FAILURES", default=3)
LIVENESS_ENABLED = env.bool("LIVENESS_ENABLED", default=True)
# Challenges the kiosk picks from. Blink is off by default: frames reach the server ~5 a second, so a 150 ms
# blink is often missed, and no real blink recording was available to measure its BPCER.
LIVENESS_CHALLENGES = env.list("LIVENESS_CHALLENGES", default=["turn_left", "turn_right"])
LIVENESS_TIME_LIMIT_S = env.float("LIVENESS_TIME_LIMIT_S", default=CHALLENGE_TIME_LIMIT_SECONDS)
LIVENESS_YAW_TURN_DEGREES = env.float("LIVENESS_YAW_TURN_DEGREES", default=25.0)
LIVENESS_PARALLAX_THRESHOLD = env.float("LIVENESS_PARALLAX_THRESHOLD", default=0.25)
# Passive presentation-attack detection: texture CNNs (biometrics/models/) score every owner-matching frame
# of the liveness challenge; a session whose PAD score (liveness.pad_aggregate) is below the threshold is
# refused even when the head turn passed. Needs LIVENESS_ENABLED. With PAD on, a missing or altered model
# stops start-up. 0.85 from benchmark_liveness --pad (README, Liveness).
PAD_ENABLED = env.bool("PAD_ENABLED", default=True)
PAD_THRESHOLD = env.float("PAD_THRESHOLD", default=0.85)
PAD_MODELS = env.list("PAD_MODELS", default=["MiniFASNetV2", "MiniFASNetV1SE"])

# Rate limits (django-ratelimit, in the cache: Redis when REDIS_URL is set), per kiosk or per IP.
RATELIMIT_KIOSK_FRAMES = env.str("RATELIMIT_KIOSK_FRAMES", default="10/s")
RATELIMIT_KIOSK_SESSIONS = env.str("RATELIMIT_KIOSK_SESSIONS", default="30/m")
RATELIMIT_KIOSK_OTP_REQUESTS = env.str("RATELIMIT_KIOSK_OTP_REQUESTS", default="6/m")
RATELIMIT_KIOSK_OTP_VERIFIES = env.str("RATELIMIT_KIOSK_OTP_VERIFIES", default="20/m")
RATELIMIT_KIOSK_PROVISION_IP = env.str("RATELIMIT_KIOSK_PROVISION_IP", default="10/m")
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
if env.str("RATELIMIT_IP_META_KEY", default=""):
    RATELIMIT_IP_META_KEY = env.str("RATELIMIT_IP_META_KEY")

# --- OTP over WhatsApp ---
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

# --- Audit ---
AUDIT_SNAPSHOT_RETENTION_DAYS = env.int("AUDIT_SNAPSHOT_RETENTION_DAYS", default=90)
# Where signed checkpoints of the chain head go, outside the database: a file path (append-only JSON lines),
# or syslog: syslog:///dev/log (local socket), syslog://host:514 (UDP), syslog+tcp://host:514.
AUDIT_CHECKPOINT_SINK = env.str("AUDIT_CHECKPOINT_SINK", default=str(VAR_DIR / "audit-checkpoints.jsonl"))
# Seconds between checkpoints (beat): the newest events a key holder could still cut off unseen.
AUDIT_CHECKPOINT_INTERVAL_S = env.int("AUDIT_CHECKPOINT_INTERVAL_S", default=300)
CELERY_BEAT_SCHEDULE["audit-checkpoint"] = {
    "task": "audit.checkpoint_export",
    "schedule": float(AUDIT_CHECKPOINT_INTERVAL_S),
}
