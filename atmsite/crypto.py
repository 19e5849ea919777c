"""Fernet encryption for binary data at rest (enrolment photos, snapshots, templates).

The keys are settings.FIELD_ENCRYPTION_KEY (newest first) — the same list django-encrypted-model-fields uses,
so one rotation covers fields and files. Files are written through Django storage as ciphertext only.
"""

from __future__ import annotations

import secrets
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    keys = settings.FIELD_ENCRYPTION_KEY
    return _fernet(tuple(keys) if isinstance(keys, list | tuple) else (keys,))


def encrypt_bytes(data: bytes) -> bytes:
    return fernet().encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    return fernet().decrypt(token)


def rotate_bytes(token: bytes) -> bytes:
    """Re-encrypt under the newest key (MultiFernet.rotate keeps the original timestamp)."""
    return fernet().rotate(token)


def encrypted_file_save(*, folder: str, data: bytes) -> str:
    """Store `data` encrypted under an unguessable name; returns the storage name."""
    name = f"{folder}/{secrets.token_urlsafe(24)}.bin"
    return default_storage.save(name, ContentFile(encrypt_bytes(data)))


def encrypted_file_read(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return decrypt_bytes(handle.read())


def encrypted_file_delete(name: str) -> None:
    if name and default_storage.exists(name):
        default_storage.delete(name)


__all__ = [
    "InvalidToken",
    "decrypt_bytes",
    "encrypt_bytes",
    "encrypted_file_delete",
    "encrypted_file_read",
    "encrypted_file_save",
    "fernet",
    "rotate_bytes",
]
