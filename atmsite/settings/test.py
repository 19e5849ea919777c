"""Test settings: SQLite by default; TEST_DATABASE_URL switches the whole run to PostgreSQL."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("ATM_VAR_DIR", tempfile.mkdtemp(prefix="atm-test-var-"))

from .base import *  # noqa: F403
from .base import env

_test_db = env.str("TEST_DATABASE_URL", default="")
if _test_db:
    DATABASES = {"default": env.db_url_config(_test_db)}

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 - whitenoise warns on every request otherwise
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; never used outside tests
OTP_SENDER = "test"
CELERY_TASK_ALWAYS_EAGER = True
AXES_ENABLED = True
LIVENESS_ENABLED = False  # unit tests fake the engine; liveness is tested with real video in its own tests
PAD_ENABLED = False  # turned on by the PAD tests, which use the real models
FACE_MODEL_ENABLED = False  # turned on by the second-model tests, which use the real models (ATM_MODELS_DIR)
# A second face fails the check at once unless a test is about the grace (tests/kiosk/test_sessions.py).
KIOSK_SEVERAL_FACES_GRACE_S = 0.0
