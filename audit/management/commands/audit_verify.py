"""`manage.py audit_verify`: walk the hash chain and report the first broken link (exit status 1 if any)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.selectors import chain_verify


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; exits non-zero and names the first broken seq if tampered."

    def handle(self, *args: Any, **options: Any) -> None:
        status = chain_verify()
        if not status.ok:
            # CommandError makes manage.py exit with status 1 and print the message on stderr.
            raise CommandError(f"Audit chain {status}")
        self.stdout.write(self.style.SUCCESS(f"Audit chain {status}"))
