"""What `manage.py rotate_keys` re-encrypts: each app registers its own data encrypted at rest.

audit sits below the apps that hold encrypted data (biometrics' face templates and enrolment photos), so the
command cannot import their models; instead each app names its encrypted columns and files from its
AppConfig.ready, and the command walks this list. The registration order is the order of the report.

A column is an EncryptedTextField-style column (rotated by re-saving the row under the newest key); files
are rows with a `storage_name` naming an encrypted file (rotated into a new file, the old one deleted after
the commit).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models


@dataclass(frozen=True)
class EncryptedColumn:
    name: str  # the report's and the audit event's name: "templates" -> templates_rotated, ...
    model: type[models.Model]
    field: str


@dataclass(frozen=True)
class EncryptedFiles:
    name: str
    rows: Callable[[], models.QuerySet]  # a callable: evaluated when the command runs, not at ready()


_columns: dict[str, EncryptedColumn] = {}
_files: dict[str, EncryptedFiles] = {}


def encrypted_column_register(*, name: str, model: type[models.Model], field: str) -> None:
    if name in _columns or name in _files:
        raise ValueError(f"{name!r} is already registered for key rotation")
    _columns[name] = EncryptedColumn(name=name, model=model, field=field)


def encrypted_files_register(*, name: str, rows: Callable[[], models.QuerySet]) -> None:
    if name in _columns or name in _files:
        raise ValueError(f"{name!r} is already registered for key rotation")
    _files[name] = EncryptedFiles(name=name, rows=rows)


def encrypted_columns() -> list[EncryptedColumn]:
    return list(_columns.values())


def encrypted_files() -> list[EncryptedFiles]:
    return list(_files.values())
