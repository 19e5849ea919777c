"""Ask every process to reload its in-memory gallery in full, and report the size of a fresh load."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from biometrics.services import gallery_sync


class Command(BaseCommand):
    help = "Rebuild the 1:N face gallery: every web and worker process reloads it in full on its next use."

    def handle(self, *args: Any, **options: Any) -> None:
        state = gallery_sync.gallery_rebuild_request()
        started = time.perf_counter()
        gallery = gallery_sync.gallery_rebuild()
        elapsed = (time.perf_counter() - started) * 1000
        self.stdout.write(
            self.style.SUCCESS(
                f"Gallery epoch {state.epoch}, version {state.version}: {len(gallery)} active templates "
                f"loaded in {elapsed:.0f} ms ({gallery.nbytes() / 1e6:.1f} MB)."
            )
        )
