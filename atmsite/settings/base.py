"""Settings. Embedded defaults work with no variable set; production is switched on by variables alone.

Every variable is listed with a comment in .env.example. Secrets may also come from NAME_FILE (a path).
"""

from __future__ import annotations

import os
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from .audit import *  # noqa: F403
from .banking import *  # noqa: F403
from .biometrics import *  # noqa: F403
from .environment import BASE_DIR, DEBUG, VAR_DIR, env
from .kiosk import *  # noqa: F403
from .portal import *  # noqa: F403
from .security import *  # noqa: F403

# Real-face photos, shared beside the project and never copied into it: demo seeding, benchmarks, tests.
ATM_FACES_DIR = Path(os.environ.get("ATM_FACES_DIR", BASE_DIR.parent / "shared" / "faces")).resolve()
# Real recordings and recaptured attacks (benchmark_liveness --real), read at run time, never committed.
ATM_ATTACKS_DIR = Path(os.environ.get("ATM_ATTACKS_DIR", BASE_DIR.parent / "shared" / "attacks")).resolve()
# Model files (PAD, YuNet, the face embedding): data read at run time, pinned by sha256 in
# biometrics/model_files.py, never committed. Production points this at the release's copy.
ATM_MODELS_DIR = Path(os.environ.get("ATM_MODELS_DIR", BASE_DIR.parent / "shared" / "models")).resolve()

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
    "notifications",
    "accounts",
    "biometrics",
    "audit",
    "kiosk",
    "portal",
    "branch",  # the teller-facing pages; templates and static files under branch/ (APP_DIRS, app finder)
    "bench",  # benchmark and demo-seeding commands only: nothing in the request path imports it
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The customer portal's own session (cookie scoped to /my/), never the staff session.
    "portal.middleware.PortalSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A proposer hears of a rejected change request on their next page (issue 23).
    "accounts.middleware.RejectionNoticeMiddleware",
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
MATCHER_IN_PROCESS = env.bool("MATCHER_IN_PROCESS", default=not CELERY_BROKER_URL)
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
        "atmsite.parsers.BoundedJSONParser",
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
    # The API description (/api/schema/, /api/docs/) maps every endpoint and field: staff logins only.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAdminUser"],
    "SERVE_AUTHENTICATION": ["rest_framework.authentication.SessionAuthentication"],
}


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
