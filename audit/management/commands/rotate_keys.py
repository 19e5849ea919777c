"""`manage.py rotate_keys`: re-encrypt everything encrypted at rest under the NEWEST key.

Procedure: put a new key in front of FIELD_ENCRYPTION_KEY (newest first, old keys after it), restart, run this
command, and once it reports every item verified with the newest key alone, drop the old keys.

Covers what the apps register in audit.rekeying from their AppConfig.ready: every encrypted column (face
templates of both models, deferred-naming probes, cash-in module keys, portal TOTP secrets; a test refuses an
encrypted field nobody registered), enrolment photo files and audit snapshot files. Works
in batches (one short transaction each), is idempotent (items already under the newest key are left alone,
so an interrupted run is simply run again), verifies every item with the newest key alone, and records a
KEYS_ROTATED audit event with the counts.

AUDIT_CHAIN_KEY is rotated differently: events are never re-chained (that would be rewriting the trail). Put a
new key in front and restart: new events are chained with it, and each event names the key that chained it,
so every older key stays listed in AUDIT_CHAIN_KEY for verification. This command reports which chain keys
the trail uses and fails if one of them is no longer listed.
"""

from __future__ import annotations

import posixpath
import secrets
from collections import Counter
from collections.abc import Iterator
from functools import partial
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction

from atmsite.crypto import encrypted_file_delete
from audit.chain import chain_key_current, chain_keys
from audit.models import AuditEvent
from audit.rekeying import encrypted_columns, encrypted_files
from audit.services import audit_event_record


def _keys() -> list[str]:
    keys = settings.FIELD_ENCRYPTION_KEY
    return list(keys) if isinstance(keys, list | tuple) else [keys]


def _token_bytes(value: Any) -> bytes:
    return value.encode() if isinstance(value, str) else bytes(value)


def _files_delete(names: tuple[str, ...]) -> None:
    for name in names:
        encrypted_file_delete(name)


class Command(BaseCommand):
    help = (
        "Re-encrypt what is encrypted at rest (face templates, probes, device keys, TOTP secrets, enrolment "
        "photos, audit snapshots) under the newest FIELD_ENCRYPTION_KEY."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=200, help="Rows per transaction (default 200).")

    def handle(self, *args: Any, **options: Any) -> None:
        keys = _keys()
        if not keys:
            raise CommandError("FIELD_ENCRYPTION_KEY is empty")
        self.batch_size = max(1, options["batch_size"])
        self.all_keys = MultiFernet([Fernet(key) for key in keys])
        self.newest = Fernet(keys[0])
        self.counts: Counter[str] = Counter()
        self._rebuild_field_crypter()

        for column in encrypted_columns():
            self._rotate_column(column.name, column.model, column.field)
        for files in encrypted_files():
            self._rotate_files(files.name, files.rows())

        failures = self._verify()
        chain_keys_used = sorted(
            set(AuditEvent.objects.order_by().values_list("chain_key_id", flat=True).distinct())
        )
        chain_keys_missing = [key_id for key_id in chain_keys_used if key_id not in chain_keys()]
        data = {
            **dict(sorted(self.counts.items())),
            "keys_configured": len(keys),
            "verify_failures": failures,
            "audit_chain_key_id": chain_key_current().id,
            "audit_chain_keys_used": chain_keys_used,
        }
        with transaction.atomic():
            audit_event_record(
                kind=AuditEvent.Kind.KEYS_ROTATED,
                outcome=AuditEvent.Outcome.FAILURE if failures else AuditEvent.Outcome.SUCCESS,
                data=data,
            )
        names = [column.name for column in encrypted_columns()] + [files.name for files in encrypted_files()]
        for name in names:
            self.stdout.write(
                f"{name}: {self.counts[f'{name}_rotated']} re-encrypted, "
                f"{self.counts[f'{name}_current']} already under the newest key, "
                f"{self.counts[f'{name}_missing']} missing, {self.counts[f'{name}_unreadable']} unreadable"
            )
        self.stdout.write(
            f"audit chain: new events chained with key {chain_key_current().id}; events use "
            f"{', '.join(chain_keys_used) or 'no key yet'} (keep each listed in AUDIT_CHAIN_KEY)"
        )
        if failures:
            raise CommandError(
                f"{failures} item(s) do not decrypt with the newest key alone: keep the old keys configured"
            )
        if chain_keys_missing:
            raise CommandError(
                f"audit events chained with key(s) {', '.join(chain_keys_missing)} no longer verify: put the "
                "retired key(s) back in AUDIT_CHAIN_KEY"
            )
        self.stdout.write(self.style.SUCCESS("Every item decrypts with the newest key alone."))

    def _rebuild_field_crypter(self) -> None:
        # encrypted_model_fields builds its MultiFernet once, at import: rebuild it from the current
        # settings so reads use every configured key and writes use the newest one.
        from encrypted_model_fields import fields

        fields.CRYPTER = fields.get_crypter()

    # --- Columns ----------------------------------------------------------------------------------------

    def _raw_tokens(self, model: type[models.Model], field: str, pks: list[int]) -> dict[int, str]:
        """The stored ciphertext: the ORM would decrypt it, and silently return it as is on a wrong key."""
        meta = model._meta
        column = str(meta.get_field(field).column)  # type: ignore[union-attr]
        pk_column, table = str(meta.pk.column), str(meta.db_table)
        quote = connection.ops.quote_name
        placeholders = ", ".join(["%s"] * len(pks))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote(pk_column)}, {quote(column)} FROM {quote(table)} "  # noqa: S608
                f"WHERE {quote(pk_column)} IN ({placeholders})",
                pks,
            )
            return {pk: value or "" for pk, value in cursor.fetchall()}

    def _batches(self, queryset: models.QuerySet) -> Iterator[list[int]]:
        last = 0
        while True:
            pks = list(
                queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[: self.batch_size]
            )
            if not pks:
                return
            yield pks
            last = pks[-1]

    def _rotate_column(self, name: str, model: type[models.Model], field: str) -> None:
        manager = model._default_manager
        for pks in self._batches(manager.all()):
            with transaction.atomic():
                rows = {row.pk: row for row in manager.select_for_update().filter(pk__in=pks)}
                for pk, token in self._raw_tokens(model, field, pks).items():
                    if not token:
                        self.counts[f"{name}_current"] += 1  # erased: nothing encrypted to rotate
                        continue
                    try:
                        self.newest.decrypt(_token_bytes(token))
                        self.counts[f"{name}_current"] += 1
                        continue
                    except InvalidToken:
                        pass
                    try:
                        self.all_keys.decrypt(_token_bytes(token))
                    except InvalidToken:
                        # Never re-save it: the field would then encrypt the ciphertext itself.
                        self.counts[f"{name}_unreadable"] += 1
                        continue
                    # Loaded with every key (the rebuilt crypter), saved with the newest.
                    rows[pk].save(update_fields=[field])
                    self.counts[f"{name}_rotated"] += 1

    # --- Files ------------------------------------------------------------------------------------------

    def _rotate_files(self, name: str, queryset: models.QuerySet) -> None:
        model = queryset.model
        for pks in self._batches(queryset):
            retired: list[str] = []
            with transaction.atomic():
                for row in model._default_manager.select_for_update().filter(pk__in=pks):
                    old_name = row.storage_name
                    if not old_name or not default_storage.exists(old_name):
                        self.counts[f"{name}_missing"] += 1
                        continue
                    with default_storage.open(old_name, "rb") as handle:
                        token = handle.read()
                    try:
                        self.newest.decrypt(token)
                        self.counts[f"{name}_current"] += 1
                        continue
                    except InvalidToken:
                        pass
                    try:
                        rotated = self.all_keys.rotate(token)
                    except InvalidToken:
                        self.counts[f"{name}_unreadable"] += 1
                        continue
                    # A new file, then the row points at it; the old file goes only after the commit, so a
                    # crash at any point leaves the row naming a complete file.
                    folder = posixpath.dirname(old_name) or name
                    new_name = default_storage.save(
                        f"{folder}/{secrets.token_urlsafe(24)}.bin", ContentFile(rotated)
                    )
                    model._default_manager.filter(pk=row.pk).update(storage_name=new_name)
                    retired.append(old_name)
                    self.counts[f"{name}_rotated"] += 1
                transaction.on_commit(partial(_files_delete, tuple(retired)))

    # --- Verification -----------------------------------------------------------------------------------

    def _verify(self) -> int:
        failures = 0
        for column in encrypted_columns():
            for pks in self._batches(column.model._default_manager.all()):
                for token in self._raw_tokens(column.model, column.field, pks).values():
                    failures += bool(token) and not self._newest_decrypts(_token_bytes(token))
        for files in encrypted_files():
            for name in files.rows().values_list("storage_name", flat=True).iterator():
                if not name or not default_storage.exists(name):
                    continue  # reported as missing above
                with default_storage.open(name, "rb") as handle:
                    failures += not self._newest_decrypts(handle.read())
        self.counts["verified_failures"] = failures
        return failures

    def _newest_decrypts(self, token: bytes) -> bool:
        try:
            self.newest.decrypt(token)
        except InvalidToken:
            return False
        return True
