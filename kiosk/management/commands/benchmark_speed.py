"""Measure the kiosk's speed against the face engine's own floor and against the seed project's path.

    python manage.py benchmark_speed [--json] [--customers 1000 100000 1000000] [--repeat 30]
        [--tier-customers 1000 1000000] [--broker redis://127.0.0.1:6379/6] [--skip-tier] [--skip-http]

Everything runs on real photos from ATM_FACES_DIR resized (letterboxed) to 640x480. The HTTP figures come from
a real gunicorn server with 2 worker processes on a scratch SQLite database in a temporary folder, seeded with
the demo bank (demo faces enrolled from ATM_FACES_DIR), driven by 1, 2 and 4 concurrent kiosk clients.
The matcher-tier figures (`--tier-customers`) use a scratch SQLite database per size holding that many
encrypted templates (one per synthetic customer, plus the owner's): a fresh web-worker process serving frames
(RSS, start to first frame, no gallery), a shard load (time, memory, decryption), and real Celery matcher
workers on the `--broker` Redis with 1 and 2 shards, asked through the broker as the kiosk asks them.
Timings are figures to read, not assertions: run it on a quiet machine.
"""

from __future__ import annotations

import contextlib
import csv
import http.client
import io
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from PIL import Image, ImageOps

from accounts.demo import DEMO_CUSTOMERS
from biometrics import engine
from biometrics.gallery import Gallery

FRAME_SIZE = (640, 480)
KIOSK_CLIENTS = (1, 2, 4)
SCRATCH_SETUP_FLAG = "--scratch-setup"
OWNER_CUSTOMER_ID = 1


def _percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    p95_index = min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))
    return {
        "p50": round(statistics.median(ordered), 2),
        "p95": round(ordered[p95_index], 2),
        "n": len(ordered),
    }


def _timed(function: Callable[[], Any], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _faces_dir() -> Path:
    path = Path(os.environ.get("ATM_FACES_DIR", settings.BASE_DIR.parent / "shared" / "faces")).resolve()
    if not (path / "MANIFEST.csv").is_file():
        raise CommandError(f"No photos at {path}: set ATM_FACES_DIR")
    return path


def _portraits(faces: Path) -> dict[str, list[Path]]:
    by_identity: dict[str, list[Path]] = {}
    with (faces / "MANIFEST.csv").open() as handle:
        for row in csv.DictReader(handle):
            if row["identity"] and row["kind"] == "portrait":
                by_identity.setdefault(row["identity"], []).append(faces / row["path"])
    return by_identity


def _letterboxed(path: Path) -> np.ndarray:
    with Image.open(path) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")
    image.thumbnail(FRAME_SIZE, Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", FRAME_SIZE)
    canvas.paste(image, ((FRAME_SIZE[0] - image.width) // 2, (FRAME_SIZE[1] - image.height) // 2))
    return np.asarray(canvas)


def _jpeg_variants(frame: np.ndarray, count: int) -> list[bytes]:
    """The same frame with faint noise: real cameras never send identical bytes, and the kiosk refuses
    identical frames as replays."""
    rng = np.random.default_rng(7)
    variants = []
    for _ in range(count):
        noisy = np.clip(frame.astype(np.int16) + rng.integers(-2, 3, frame.shape), 0, 255).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(noisy).save(buffer, format="JPEG", quality=85)
        variants.append(buffer.getvalue())
    return variants


def _synthetic_encodings(count: int, rng: np.random.Generator) -> np.ndarray:
    # Real encodings have components of about ±0.1 and norms near 1: good enough to cost the same to search.
    return rng.normal(0.0, 0.088, size=(count, 128)).astype(np.float32)


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")
        parser.add_argument("--customers", nargs="+", type=int, default=[1_000, 100_000, 1_000_000])
        parser.add_argument("--repeat", type=int, default=30, help="Repetitions of each per-frame figure.")
        parser.add_argument("--skip-http", action="store_true", help="Leave out the gunicorn figures.")
        parser.add_argument(SCRATCH_SETUP_FLAG, type=int, default=0, help="(internal) provision N kiosks")
        parser.add_argument("--tier-customers", nargs="+", type=int, default=[1_000, 1_000_000])
        parser.add_argument(
            "--broker", default=os.environ.get("BENCHMARK_BROKER_URL", "redis://127.0.0.1:6379/6")
        )
        parser.add_argument("--skip-tier", action="store_true", help="Leave out the matcher-tier figures.")
        parser.add_argument("--scratch-templates", type=int, default=0, help="(internal) insert N templates")
        parser.add_argument("--scratch-web", default="", help="(internal) serve frames of this .npy image")
        parser.add_argument("--scratch-shard-load", type=int, default=0, help="(internal) load shard 0 of S")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["scratch_setup"]:
            self._scratch_setup(options["scratch_setup"])
            return
        if options["scratch_templates"] or options["scratch_web"] or options["scratch_shard_load"]:
            from kiosk.management import tier_benchmark as benchmark_tier

            benchmark_tier.scratch_entry(self, options)
            return
        faces = _faces_dir()
        portraits = _portraits(faces)
        frames = [_letterboxed(path) for paths in portraits.values() for path in paths]
        self._log(f"{len(frames)} real frames at 640x480 from {faces}")
        repeat = options["repeat"]
        report: dict[str, Any] = {"machine": self._machine(), "frames": len(frames)}
        report["engine_floor_ms"] = self._engine_floor(frames, repeat)
        report.update(self._gallery_and_seed(frames, options["customers"], repeat, portraits))
        report["enrol_encode_s"] = self._enrol_encode(portraits)
        report["cardless_decision_ms"] = self._cardless(frames, portraits, repeat)
        if not options["skip_tier"]:
            from kiosk.management import tier_benchmark as benchmark_tier

            report["matcher_tier"] = benchmark_tier.tier_measure(
                self, frames=frames, sizes=options["tier_customers"], broker=options["broker"]
            )
        if not options["skip_http"]:
            report.update(self._http(faces, portraits, repeat))
            floor = report["engine_floor_ms"]["p50"]
            report["overhead_ratio"] = round(report["frame_verify_ms"]["p50"] / floor, 3)
        if options["json"]:
            self.stdout.write(json.dumps(report))
        else:
            self.stdout.write(json.dumps(report, indent=2))

    def _cardless(self, frames: list[np.ndarray], portraits: dict[str, list[Path]], repeat: int) -> dict:
        from kiosk.management.cardless_speed import cardless_speed

        templates: list[np.ndarray] = []
        for frame in (_letterboxed(paths[0]) for paths in portraits.values()):
            found = engine.detect_faces(frame, purpose="enrol")
            if found and len(templates) < 5:
                templates.append(engine.encode_face(frame, found[0]))
        result = cardless_speed(frames, templates, repeat, _percentiles)
        self._log(f"card-less decision: {result}")
        return result

    def _log(self, message: str) -> None:
        self.stderr.write(message)

    @staticmethod
    def _machine() -> dict[str, Any]:
        return {"cpus": os.cpu_count(), "python": sys.version.split()[0], "engine": engine.ENGINE_VERSION}

    # -- engine floor

    def _engine_floor(self, frames: list[np.ndarray], repeat: int) -> dict[str, float]:
        """Bare detection (the product's live downscale) plus one encoding of the same frame."""
        usable = [frame for frame in frames if len(engine.detect_faces(frame, purpose="live")) == 1]
        samples = []
        for index in range(repeat):
            frame = usable[index % len(usable)]
            start = time.perf_counter()
            face = engine.detect_faces(frame, purpose="live")[0]
            engine.encode_face(frame, face)
            samples.append((time.perf_counter() - start) * 1000)
        result = _percentiles(samples)
        self._log(f"engine floor: {result}")
        return result

    # -- gallery, seed path

    def _gallery_and_seed(
        self, frames: list[np.ndarray], sizes: list[int], repeat: int, portraits: dict[str, list[Path]]
    ) -> dict[str, Any]:
        rng = np.random.default_rng(42)
        owner_frame = next(frame for frame in frames if len(engine.detect_faces(frame, purpose="live")) == 1)
        owner_face = engine.detect_faces(owner_frame, purpose="live")[0]
        owner_templates = np.stack([engine.encode_face(owner_frame, owner_face)] * 10)
        seed_reference = engine.SeedReference()
        search: dict[str, Any] = {}
        memory: dict[str, int] = {}
        seed_path: dict[str, Any] = {}
        product_path: dict[str, Any] = {}
        speedup: dict[str, float] = {}
        incremental: dict[str, float] | None = None
        for size in sizes:
            synthetic = _synthetic_encodings(size, rng)
            gallery = Gallery(capacity=size + 64)
            gallery.add(np.arange(size), np.arange(size) // 10 + 1_000_000, synthetic)
            probe = engine.encode_face(owner_frame, owner_face)
            search[str(size)] = _percentiles(_timed(partial(gallery.nearest, probe), max(repeat, 50)))
            memory[str(size)] = gallery.nbytes()
            if size == 100_000 or (incremental is None and size == max(sizes)):
                incremental = self._incremental_add(gallery, rng, repeat)

            def product_frame() -> None:
                # The product's per-frame work in a web worker at any gallery size: live detection, one
                # encoding, the owner's templates (1:1). The 1:N search runs on the matcher tier, and only
                # for a frame that does not match the owner (matcher_tier.query_ms).
                face = engine.detect_faces(owner_frame, purpose="live")[0]
                encoding = engine.encode_face(owner_frame, face)
                engine.distances(owner_templates, encoding)

            product_path[str(size)] = _percentiles(_timed(product_frame, max(5, repeat // 3)))
            # The seed kept every encoding as float64 arrays in a Python list (its pickle); compare_faces
            # turns that list into one array on every frame.
            known = [row.astype(np.float64) for row in synthetic] + list(owner_templates.astype(np.float64))
            del gallery
            seed_repeat = max(10, repeat // (10 if size >= 1_000_000 else 3))
            seed_path[str(size)] = _percentiles(
                _timed(partial(seed_reference.frame_matches, owner_frame, known), seed_repeat)
            )
            del known
            speedup[str(size)] = round(seed_path[str(size)]["p50"] / product_path[str(size)]["p50"], 1)
            self._log(
                f"N={size}: search {search[str(size)]}, product {product_path[str(size)]}, "
                f"seed {seed_path[str(size)]}, x{speedup[str(size)]}, {memory[str(size)] / 1e6:.0f} MB"
            )
        return {
            "gallery_search_ms": search,
            "gallery_memory_bytes": memory,
            "product_path_ms": product_path,
            "seed_path_ms": seed_path,
            "speedup_vs_seed": speedup,
            "incremental_add_ms": incremental,
        }

    def _incremental_add(self, gallery: Gallery, rng: np.random.Generator, repeat: int) -> dict[str, float]:
        """One enrolled customer (10 templates) added to the in-memory gallery; the seed retrained all."""
        samples = []
        base = 10_000_000
        for index in range(max(repeat, 20)):
            ids = np.arange(base + index * 10, base + index * 10 + 10)
            encodings = _synthetic_encodings(10, rng)
            start = time.perf_counter()
            gallery.add(ids, np.full(10, 9_000_000 + index), encodings)
            samples.append((time.perf_counter() - start) * 1000)
            gallery.remove(ids.tolist())
        result = _percentiles(samples)
        result["gallery_size"] = len(gallery)
        self._log(f"incremental add: {result}")
        return result

    # -- enrolment encoding

    def _enrol_encode(self, portraits: dict[str, list[Path]]) -> float:
        """Ten enrolment photos through the enrolment path (decode, detect with fallbacks, encode)."""
        photos = [path.read_bytes() for paths in portraits.values() for path in paths][:10]
        start = time.perf_counter()
        for data in photos:
            image = engine.decode_image(data)
            faces = engine.detect_faces(image, purpose="enrol")
            engine.encode_face(image, faces[0])
        seconds = round(time.perf_counter() - start, 2)
        self._log(f"enrol encode (10 photos): {seconds} s")
        return seconds

    # -- the full HTTP path

    def _http(self, faces: Path, portraits: dict[str, list[Path]], repeat: int) -> dict[str, Any]:
        with self._scratch_server(faces) as (port, kiosks):
            clients = []
            for kiosk in kiosks:
                demo = next(d for d in DEMO_CUSTOMERS if d.pan == kiosk["pan"])
                clients.append((kiosk, _jpeg_variants(_letterboxed(portraits[demo.face_identity][0]), 400)))
            # Warm both workers (models, owner templates, gallery) before measuring.
            self._drive(port, clients[:2], frames_each=6)
            single = self._drive(port, clients[:1], frames_each=max(repeat, 30))
            frame_verify = _percentiles(single["latencies"])
            self._log(f"frame verify over HTTP: {frame_verify}")
            throughput: dict[str, float] = {}
            for count in KIOSK_CLIENTS:
                run = single
                if count > 1:
                    run = self._drive(port, clients[:count], frames_each=max(repeat, 30))
                throughput[str(count)] = round(len(run["latencies"]) / run["seconds"], 2)
                self._log(f"{count} kiosk(s): {throughput[str(count)]}/s, {_percentiles(run['latencies'])}")
        return {"frame_verify_ms": frame_verify, "frames_per_s": throughput, "server_workers": 2}

    @contextlib.contextmanager
    def _scratch_server(self, faces: Path) -> Iterator[tuple[int, list[dict[str, str]]]]:
        scratch = Path(tempfile.mkdtemp(prefix="atm-bench-"))
        port = _free_port()
        env = {
            **os.environ,
            "DEBUG": "true",
            "ATM_VAR_DIR": str(scratch),
            "DATABASE_URL": f"sqlite:///{scratch / 'bench.sqlite3'}",
            "ATM_FACES_DIR": str(faces),
            "DJANGO_SETTINGS_MODULE": "atmsite.settings.base",
            # Keep every session in the face check so each request does the full frame path.
            "FACE_MATCH_FRAMES_REQUIRED": str(10**9),
            "KIOSK_FACE_TIMEOUT_S": "3600",
            "KIOSK_IDLE_TIMEOUT_S": "3600",
            "KIOSK_SESSION_MAX_S": "3600",
            "RATELIMIT_ENABLE": "false",
            # A still photo never meets the head-turn challenge; liveness is measured by benchmark_liveness.
            "LIVENESS_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
        }
        env.pop("CELERY_BROKER_URL", None)
        env.pop("REDIS_URL", None)
        manage = [sys.executable, "-W", "ignore", str(settings.BASE_DIR / "manage.py")]
        self._log(f"scratch server in {scratch}: migrate, seed the demo bank (enrols demo faces)...")
        for command in (["migrate", "-v0"], ["seed_demo"]):
            subprocess.run(
                [*manage, *command], env=env, check=True, capture_output=True, cwd=settings.BASE_DIR
            )
        setup = subprocess.run(
            [*manage, "benchmark_speed", SCRATCH_SETUP_FLAG, str(max(KIOSK_CLIENTS))],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            cwd=settings.BASE_DIR,
        )
        kiosks = json.loads(setup.stdout.strip().splitlines()[-1])
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "atmsite.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--worker-class",
                "sync",
                "--config",
                str(settings.BASE_DIR / "atmsite" / "gunicorn_conf.py"),
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=settings.BASE_DIR,
        )
        try:
            _wait_for_port(port, timeout=60)
            yield port, kiosks
        finally:
            server.terminate()
            server.wait(timeout=30)

    def _scratch_setup(self, count: int) -> None:
        """In the scratch server's environment: one provisioned kiosk per client, each for another card."""
        from accounts.models import Card
        from accounts.pan import pan_hash
        from kiosk.models import Cassette, Kiosk
        from kiosk.services.credentials import kiosk_provisioning_code_create, kiosk_provisioning_code_redeem

        if not settings.DEBUG or "atm-bench-" not in str(settings.VAR_DIR):
            raise CommandError("--scratch-setup runs only inside benchmark_speed's scratch environment")
        kiosks = []
        for index, demo in enumerate(DEMO_CUSTOMERS[:count]):
            kiosk, _ = Kiosk.objects.get_or_create(name=f"Benchmark kiosk {index + 1}")
            Cassette.objects.get_or_create(kiosk=kiosk, denomination=50, defaults={"count": 100})
            _code, raw = kiosk_provisioning_code_create(kiosk=kiosk, actor=None)
            _credential, token = kiosk_provisioning_code_redeem(code=raw)
            expires_on = Card.objects.get(pan_hmac=pan_hash(demo.pan)).expires_on
            kiosks.append({"token": token, "pan": demo.pan, "expiry": expires_on.strftime("%m/%y")})
        self.stdout.write(json.dumps(kiosks))

    def _drive(self, port: int, clients: list[tuple[dict[str, str], list[bytes]]], frames_each: int) -> dict:
        latencies: list[float] = []
        lock = threading.Lock()
        errors: list[str] = []

        def run(kiosk: dict[str, str], variants: list[bytes], offset: int) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            headers = {"Authorization": f"Kiosk {kiosk['token']}"}
            status, session = _request(
                connection,
                "POST",
                "/api/kiosk/sessions/",
                json.dumps({"card_number": kiosk["pan"], "expiry": kiosk["expiry"]}).encode(),
                {**headers, "Content-Type": "application/json"},
            )
            if status != 201:
                errors.append(f"session start {status}: {session}")
                return
            for index in range(frames_each):
                body, content_type = _multipart(
                    {"nonce": session["frame_nonce"], "seq": str(session["next_seq"])},
                    variants[(offset + index) % len(variants)],
                )
                start = time.perf_counter()
                status, answer = _request(
                    connection,
                    "POST",
                    f"/api/kiosk/sessions/{session['id']}/frames/",
                    body,
                    {**headers, "Content-Type": content_type},
                )
                elapsed = (time.perf_counter() - start) * 1000
                if status != 200:
                    errors.append(f"frame {status}: {answer}")
                    return
                with lock:
                    latencies.append(elapsed)
                session = answer["session"]
            connection.close()

        threads = [
            threading.Thread(target=run, args=(kiosk, variants, 50 * number))
            for number, (kiosk, variants) in enumerate(clients)
        ]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - start
        if errors:
            raise CommandError("kiosk client failed: " + "; ".join(errors[:3]))
        return {"latencies": latencies, "seconds": seconds}


def _request(
    connection: http.client.HTTPConnection, method: str, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, Any]:
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    payload = response.read()
    try:
        return response.status, json.loads(payload)
    except ValueError:
        return response.status, payload[:200]


def _multipart(fields: dict[str, str], jpeg: bytes) -> tuple[bytes, str]:
    boundary = secrets.token_hex(12)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="frame"; filename="frame.jpg"\r\n'
        f"Content-Type: image/jpeg\r\n\r\n".encode()
        + jpeg
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.2)
    raise CommandError(f"the benchmark server did not start on port {port}")
