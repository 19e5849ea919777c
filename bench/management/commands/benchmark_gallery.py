"""`manage.py benchmark_gallery [--size N] [--queries Q] [--add-batches B] [--json]`: the in-memory 1:N
gallery on N synthetic templates (search, add and remove timings; see bench/gallery.py)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from bench.gallery import gallery_benchmark


class Command(BaseCommand):
    help = "Time the in-memory 1:N gallery (search, add 10, remove 10) on N synthetic templates."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--size", type=int, default=1_000_000, help="Templates in the gallery.")
        parser.add_argument("--queries", type=int, default=50, help="Searches timed.")
        parser.add_argument("--add-batches", type=int, default=50, help="Batches of 10 templates added.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args: Any, **options: Any) -> None:
        figures = gallery_benchmark(
            size=options["size"], queries=options["queries"], add_batches=options["add_batches"]
        )
        if options["json"]:
            self.stdout.write(json.dumps(figures))
            return
        for name, value in figures.items():
            self.stdout.write(f"{name}: {value:,.3f}")
