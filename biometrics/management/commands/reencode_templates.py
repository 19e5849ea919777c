"""Re-encode every active enrolment from its retained encrypted photos after a face engine change."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from biometrics import engine
from biometrics.tasks import templates_reencode_task


class Command(BaseCommand):
    help = "Re-encode active enrolments with the running face engine and swap the templates (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--queue",
            action="store_true",
            help="Queue the work for a Celery worker instead of running it in this process.",
        )

    def handle(self, *args: Any, queue: bool = False, **options: Any) -> None:
        version = engine.ENGINE_VERSION
        if queue and not settings.CELERY_TASK_ALWAYS_EAGER:
            templates_reencode_task.delay(version)
            self.stdout.write(f"Queued re-encoding for engine {version}.")
            return
        result = templates_reencode_task.apply(args=[version]).get()
        self.stdout.write(
            self.style.SUCCESS(
                f"Engine {version}: {result['templates_created']} templates created for "
                f"{result['customers']} customers; {result['photos_failed']} photos could not be encoded. "
                f"Second model: {result['second_model_templates']} templates of "
                f"{result['second_model_customers']} customers; "
                f"{result['second_model_photos_failed']} photos without a face it could use."
            )
        )
