"""What every settings module reads: the environment, the project folders, DEBUG and secrets."""

from __future__ import annotations

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from atmsite.devkeys import dev_secret

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("ATM_VAR_DIR", BASE_DIR / "var"))

env = environ.Env()

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
