"""`manage.py audit_verify`: walk the keyed hash chain and check it against every checkpoint the witness
signed (both copies: the sink and the witness's own log); report the first problem (exit status 1 if any)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.checkpoints import anchor_load, sink_configured
from audit.selectors import chain_verify


class Command(BaseCommand):
    help = (
        "Verify the audit trail's keyed hash chain against every checkpoint signed by the witness; exits "
        "non-zero and names the first broken seq or the checkpoint problem."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoints",
            type=Path,
            help="Read the sink's copy from this file (e.g. lines exported from the syslog server) instead "
            "of AUDIT_CHECKPOINT_SINK.",
        )
        parser.add_argument(
            "--witness",
            help="The witness's copy: http://host:port of `audit_witness serve`, or its log file "
            "(default AUDIT_WITNESS_URL).",
        )
        parser.add_argument(
            "--no-witness",
            action="store_true",
            help="Do not compare with the witness's copy (says so: a deleted newest line goes unseen).",
        )
        parser.add_argument(
            "--chain-only",
            action="store_true",
            help="Walk the chain without checking it against a checkpoint (says so in the output).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["chain_only"]:
            status = chain_verify()
            if not status.ok:
                raise CommandError(f"Audit chain {status}")
            self.stdout.write(self.style.WARNING(f"Audit chain {status}; anchor NOT checked (--chain-only)"))
            return
        anchor = anchor_load(
            sink_path=options["checkpoints"],
            witness_source=options["witness"],
            use_witness=not options["no_witness"],
        )
        # CommandError makes manage.py exit with status 1 and print the message on stderr.
        if anchor.problem:
            raise CommandError(f"Audit checkpoints: {anchor.problem}")
        status = chain_verify(checkpoints=anchor.checkpoints)
        if not status.ok:
            raise CommandError(f"Audit chain {status}")
        if anchor.newest is None and status.head_seq > 0:
            source = options["checkpoints"] or sink_configured()
            raise CommandError(
                f"Audit chain {status}, but the witness has signed no checkpoint ({source}): the chain is "
                "not anchored outside the portal (run the witness: docs/audit-witness.md)"
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain {status}"))
        if not anchor.witness_compared:
            self.stdout.write(self.style.WARNING("The witness's own copy was NOT compared (--no-witness)."))
