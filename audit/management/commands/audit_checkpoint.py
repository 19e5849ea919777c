"""`manage.py audit_checkpoint`: sign the audit chain head and append it to the checkpoint sink, now.

Beat does the same every AUDIT_CHECKPOINT_INTERVAL_S. `--public-key` prints the Ed25519 public key(s) an
outside verifier needs; `--new-signing-key` prints a fresh private key for AUDIT_CHECKPOINT_SIGNING_KEY.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.checkpoints import public_key_id, public_key_text, signing_keys, sink_configured
from audit.services import ChainAnchorRefused, audit_checkpoint_export


class Command(BaseCommand):
    help = (
        "Sign the audit chain head and append the checkpoint to AUDIT_CHECKPOINT_SINK (outside the database)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--public-key", action="store_true", help="Print the verification public key(s).")
        parser.add_argument(
            "--new-signing-key", action="store_true", help="Print a new private key and its public key."
        )

    def handle(
        self, *args: Any, public_key: bool = False, new_signing_key: bool = False, **options: Any
    ) -> None:
        if new_signing_key:
            seed = secrets.token_bytes(32)
            public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
            self.stdout.write(f"AUDIT_CHECKPOINT_SIGNING_KEY={base64.b64encode(seed).decode()}")
            self.stdout.write(f"public key {public_key_id(public)} {public_key_text(public)}")
            return
        if public_key:
            for key in signing_keys():
                public = key.public_key()
                self.stdout.write(f"public key {public_key_id(public)} {public_key_text(public)}")
            return
        try:
            result = audit_checkpoint_export()
        except ChainAnchorRefused as error:
            raise CommandError(str(error)) from error
        if result.written:
            self.stdout.write(self.style.SUCCESS(f"Wrote {result.checkpoint} to {sink_configured()}"))
        else:
            self.stdout.write(f"Nothing written: {result.reason} ({result.checkpoint or 'no checkpoint'})")
