"""`manage.py audit_verify`: walk the keyed hash chain and check it against the latest signed checkpoint
kept outside the database; report the first problem (exit status 1 if any)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.checkpoints import CheckpointError, checkpoint_latest, sink_configured
from audit.selectors import chain_verify


class Command(BaseCommand):
    help = (
        "Verify the audit trail's keyed hash chain against the latest signed checkpoint; exits non-zero and "
        "names the first broken seq or the checkpoint problem."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoints",
            type=Path,
            help="Read checkpoints from this file (e.g. lines exported from the syslog server) instead of "
            "AUDIT_CHECKPOINT_SINK.",
        )
        parser.add_argument(
            "--chain-only",
            action="store_true",
            help="Walk the chain without checking it against a checkpoint (says so in the output).",
        )

    def handle(
        self, *args: Any, checkpoints: Path | None = None, chain_only: bool = False, **options: Any
    ) -> None:
        if chain_only:
            status = chain_verify()
            if not status.ok:
                raise CommandError(f"Audit chain {status}")
            self.stdout.write(self.style.WARNING(f"Audit chain {status}; anchor NOT checked (--chain-only)"))
            return
        try:
            checkpoint = checkpoint_latest(path=checkpoints)
        except CheckpointError as error:
            raise CommandError(f"Audit checkpoint: {error}") from error
        # CommandError makes manage.py exit with status 1 and print the message on stderr.
        status = chain_verify(checkpoint=checkpoint)
        if not status.ok:
            raise CommandError(f"Audit chain {status}")
        if checkpoint is None and status.head_seq > 0:
            source = checkpoints or sink_configured()
            raise CommandError(
                f"Audit chain {status}, but there is no checkpoint in {source}: the chain is not anchored "
                "outside the database (run `manage.py audit_checkpoint`; beat writes one every "
                "AUDIT_CHECKPOINT_INTERVAL_S)"
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain {status}"))
