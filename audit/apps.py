from __future__ import annotations

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from . import checks, signals  # noqa: F401 - checks registers itself

        signals.connect()
        self._rekeying_register()

    def _rekeying_register(self) -> None:
        from .models import AuditSnapshot
        from .rekeying import encrypted_files_register

        # Purged snapshots have no file left to rotate.
        encrypted_files_register(
            name="snapshots", rows=lambda: AuditSnapshot.objects.filter(purged_at__isnull=True)
        )
