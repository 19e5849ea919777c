"""Measure the kiosk's speed against the face engine's own floor and against the seed project's path.

    python manage.py benchmark_speed [--json] [--customers 1000 100000 1000000] [--repeat 30]
        [--tier-customers 1000 1000000] [--broker redis://127.0.0.1:6379/6] [--skip-tier] [--skip-http]
        [--pad]

Everything runs on real photos from the photo folder (--faces, default ATM_FACES_DIR) resized (letterboxed) to
640x480. The HTTP figures come from a real gunicorn server with 2 worker processes on a scratch SQLite
database in a temporary folder, seeded with the demo bank (demo faces enrolled from the photo folder), driven
by 1, 2 and 4 concurrent kiosk clients (bench/http_path.py), with liveness and PAD off. `--pad` runs the HTTP
rows a second time on a server with liveness and PAD on, where every frame matches the owner and is scored by
the PAD models (`*_pad` keys; `overhead_ratio_pad` is over the engine floor with PAD, `pad_on_extra_ms` the
p50 a frame gains: PAD and the liveness state it is kept in). The matcher-tier figures (`--tier-customers`)
use a scratch SQLite database per size holding that many encrypted templates (one per synthetic customer,
plus the owner's): a fresh web-worker process serving frames (RSS, start to first frame, no gallery), a
shard load (time, memory, decryption), and real Celery matcher workers on the `--broker` Redis with 1 and 2
shards, asked through the broker as the kiosk asks them (bench/tier.py).
Timings are figures to read, not assertions: run it on a quiet machine.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bench import speed
from bench.frames import letterboxed, portraits
from bench.http_path import KIOSK_CLIENTS, http_figures
from bench.tier import QUERIES, SHARD_COUNTS, WEB_FRAMES, tier_measure
from biometrics import engine
from biometrics.model_files import feature_active


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")
        parser.add_argument("--faces", type=Path, default=settings.ATM_FACES_DIR, help="Photo folder.")
        parser.add_argument("--photos", type=int, help="Use at most this many portraits per identity.")
        parser.add_argument("--customers", nargs="+", type=int, default=[1_000, 100_000, 1_000_000])
        parser.add_argument("--repeat", type=int, default=30, help="Repetitions of each per-frame figure.")
        parser.add_argument(
            "--skip-local",
            action="store_true",
            help="Leave out the in-process rows.",
        )
        parser.add_argument("--skip-http", action="store_true", help="Leave out the gunicorn figures.")
        parser.add_argument(
            "--pad", action="store_true", help="Also measure the engine floor and HTTP path with PAD on."
        )
        parser.add_argument(
            "--http-frames", type=int, default=30, help="Least frames each kiosk client posts."
        )
        parser.add_argument("--kiosk-clients", nargs="+", type=int, default=list(KIOSK_CLIENTS))
        parser.add_argument("--skip-tier", action="store_true", help="Leave out the matcher-tier figures.")
        parser.add_argument("--tier-customers", nargs="+", type=int, default=[1_000, 1_000_000])
        parser.add_argument("--tier-shards", nargs="+", type=int, default=list(SHARD_COUNTS))
        parser.add_argument(
            "--tier-queries", type=int, default=QUERIES, help="1:N queries timed per shard count."
        )
        parser.add_argument("--tier-web-frames", type=int, default=WEB_FRAMES, help="Web worker frames.")
        parser.add_argument(
            "--broker", default=os.environ.get("BENCHMARK_BROKER_URL", "redis://127.0.0.1:6379/6")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        faces: Path = options["faces"].resolve()
        if not (faces / "MANIFEST.csv").is_file():
            raise CommandError(f"No photos at {faces}: set ATM_FACES_DIR or give --faces")
        by_identity = portraits(faces, per_identity=options["photos"])
        frames = [letterboxed(path) for paths in by_identity.values() for path in paths]
        self._log(f"{len(frames)} real frames at 640x480 from {faces}")
        repeat = options["repeat"]
        report: dict[str, Any] = {"machine": self._machine(), "frames": len(frames)}
        if not options["skip_local"]:
            report["engine_floor_ms"] = speed.engine_floor(frames, repeat, self._log)
            if feature_active("face_model"):
                # What a frame of a customer with second-model templates costs (no dlib encoding on a match).
                report["engine_floor_second_ms"] = speed.engine_floor(frames, repeat, self._log, second=True)
            if options["pad"]:
                report["engine_floor_pad_ms"] = speed.engine_floor(frames, repeat, self._log, pad=True)
            report.update(speed.gallery_and_seed(frames, options["customers"], repeat, self._log))
            report["enrol_encode_s"] = speed.enrol_encode(by_identity, self._log)
            report["cardless_decision_ms"] = speed.cardless(frames, by_identity, repeat, self._log)
        if not options["skip_tier"]:
            report["matcher_tier"] = tier_measure(
                frames=frames,
                sizes=options["tier_customers"],
                broker=options["broker"],
                log=self._log,
                shard_counts=options["tier_shards"],
                queries=options["tier_queries"],
                web_frames=options["tier_web_frames"],
            )
        if not options["skip_http"]:
            self._http(report, faces, options)
        self.stdout.write(json.dumps(report) if options["json"] else json.dumps(report, indent=2))

    def _http(self, report: dict[str, Any], faces: Path, options: dict[str, Any]) -> None:
        """The HTTP rows with PAD off (and, with --pad, on), and each one's ratio to its engine floor."""
        for pad in (False, True) if options["pad"] else (False,):
            figures = http_figures(
                faces,
                portraits(faces),  # each kiosk's owner gets a usable portrait whatever --photos says
                frames_each=max(options["repeat"], options["http_frames"]),
                clients=options["kiosk_clients"],
                log=self._log,
                pad=pad,
            )
            report.update(figures)
        for suffix in ("", "_pad"):
            floor, verify = report.get(f"engine_floor{suffix}_ms"), report.get(f"frame_verify{suffix}_ms")
            if floor and verify:
                report[f"overhead_ratio{suffix}"] = round(verify["p50"] / floor["p50"], 3)
        # The HTTP server compares the owner by the second model when it is on (its customers are enrolled
        # with it), so the fair floor is that path's.
        second, verify = report.get("engine_floor_second_ms"), report.get("frame_verify_ms")
        if second and verify:
            report["overhead_ratio_second"] = round(verify["p50"] / second["p50"], 3)
        if "frame_verify_pad_ms" in report:
            extra = report["frame_verify_pad_ms"]["p50"] - report["frame_verify_ms"]["p50"]
            report["pad_on_extra_ms"] = round(extra, 1)

    def _log(self, message: str) -> None:
        self.stderr.write(message)

    @staticmethod
    def _machine() -> dict[str, Any]:
        return {"cpus": os.cpu_count(), "python": sys.version.split()[0], "engine": engine.ENGINE_VERSION}
