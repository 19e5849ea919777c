"""The matcher-tier figures of `manage.py benchmark_speed` (see its docstring). Figures, not assertions."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from biometrics import engine

OWNER_CUSTOMER_ID = 1
_WEB_FRAMES = 30
_QUERIES = 200

_WEB_SCRIPT = """
import json, os, sys, time
import django
django.setup()
from biometrics import engine
engine.warm_up()  # as gunicorn's post_fork
import numpy as np
from kiosk.services import face
image = np.load(sys.argv[1])
outcome = face.frame_verify(customer_id=int(sys.argv[2]), image=image).outcome
first_frame_at = time.time()
for _ in range(int(sys.argv[3])):
    face.frame_verify(customer_id=int(sys.argv[2]), image=image)
status = open("/proc/self/status").read()
rss = {line.split(":")[0]: int(line.split()[1]) // 1024 for line in status.splitlines()
       if line.startswith(("VmRSS", "VmHWM"))}
loaded = [m for m in ("biometrics.gallery", "biometrics.services.gallery_sync") if m in sys.modules]
print(json.dumps({"first_frame_at": first_frame_at, "outcome": outcome, "rss_mb": rss["VmRSS"],
                  "peak_rss_mb": rss["VmHWM"], "gallery_modules_loaded": loaded}))
"""


def _rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return 0.0


def _env(scratch: Path, **extra: str) -> dict[str, str]:
    keys = settings.FIELD_ENCRYPTION_KEY
    env = {
        # This process encrypts the probes it sends: every scratch process must share its keys.
        "FIELD_ENCRYPTION_KEY": ",".join(keys) if isinstance(keys, list | tuple) else str(keys),
        **os.environ,
        "DEBUG": "true",
        "ATM_VAR_DIR": str(scratch),
        "DATABASE_URL": f"sqlite:///{scratch / 'tier.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "atmsite.settings.base",
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    for name in ("CELERY_BROKER_URL", "REDIS_URL", "TEST_DATABASE_URL"):
        if name not in extra:
            env.pop(name, None)
    return env


def _manage(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-W", "ignore", str(settings.BASE_DIR / "manage.py"), *args],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


def tier_measure(command: Any, *, frames: list[np.ndarray], sizes: list[int], broker: str) -> dict[str, Any]:
    owner_frame = next(frame for frame in frames if len(engine.detect_faces(frame, purpose="live")) == 1)
    owner_face = engine.detect_faces(owner_frame, purpose="live")[0]
    owner_encoding = engine.encode_face(owner_frame, owner_face)
    root = Path(tempfile.mkdtemp(prefix="atm-tier-"))
    np.save(root / "owner_frame.npy", owner_frame)
    np.save(root / "owner_encoding.npy", owner_encoding)
    report: dict[str, Any] = {"templates_per_customer": 1}
    try:
        for size in sizes:
            scratch = root / str(size)
            scratch.mkdir()
            env = _env(scratch, BENCH_OWNER_ENCODING=str(root / "owner_encoding.npy"))
            _manage(env, "migrate", "-v0")
            inserted = _manage(env, "benchmark_speed", "--scratch-templates", str(size))
            command._log(f"tier N={size}: {inserted}")
            row: dict[str, Any] = {"insert": inserted}
            row["web_worker"] = _web_worker(env, root / "owner_frame.npy", broker)
            command._log(f"tier N={size}: web worker {row['web_worker']}")
            row["shard_load"] = {}
            for shards in (1, 2):
                row["shard_load"][str(shards)] = _manage(
                    env, "benchmark_speed", "--scratch-shard-load", str(shards)
                )
                command._log(f"tier N={size}: shard 0 of {shards} {row['shard_load'][str(shards)]}")
            if size == max(sizes):
                row["query_ms"] = {}
                for shards in (1, 2):
                    row["query_ms"][str(shards)] = _celery_queries(env, broker, shards)
                    command._log(
                        f"tier N={size}: {shards} shard(s) through Celery {row['query_ms'][str(shards)]}"
                    )
            report[str(size)] = row
            shutil.rmtree(scratch, ignore_errors=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return report


def _web_worker(env: dict[str, str], frame_path: Path, broker: str) -> dict[str, Any]:
    """A fresh production-shaped web process (a broker configured): start → first served frame, then RSS."""
    spawned = time.time()
    done = subprocess.run(
        [
            sys.executable,
            "-W",
            "ignore",
            "-c",
            _WEB_SCRIPT,
            str(frame_path),
            str(OWNER_CUSTOMER_ID),
            str(_WEB_FRAMES),
        ],
        env={**env, "CELERY_BROKER_URL": broker},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"web worker probe failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["start_to_first_frame_ms"] = round((result.pop("first_frame_at") - spawned) * 1000, 1)
    result["frames_served"] = _WEB_FRAMES + 1
    return result


def _celery_queries(env: dict[str, str], broker: str, shards: int) -> dict[str, Any]:
    """Real matcher workers (one per shard, --pool=solo) asked through the broker from this process."""
    from django.test.utils import override_settings

    from atmsite.celery import app
    from biometrics.matcher import match_nearest

    queue = f"match-bench-{secrets.token_hex(4)}"
    worker_env = {**env, "CELERY_BROKER_URL": broker, "MATCHER_SHARDS": str(shards), "MATCHER_QUEUE": queue}
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "atmsite",
                "worker",
                "--pool=solo",
                "-Q",
                f"{queue}.{shard}",
                "-n",
                f"{queue}-{shard}@%h",
                "--loglevel=WARNING",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
            ],
            env=worker_env,
            cwd=settings.BASE_DIR,
            stdout=(Path(env["ATM_VAR_DIR"]) / f"matcher-{shards}-{shard}.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for shard in range(shards)
    ]
    saved = app.conf.broker_url
    app.conf.broker_url = broker
    app.__dict__.pop("amqp", None)
    started = time.monotonic()
    rng = np.random.default_rng(3)
    try:
        with override_settings(MATCHER_IN_PROCESS=False, MATCHER_SHARDS=shards, MATCHER_QUEUE=queue):
            while not match_nearest(probes=np.zeros(128), deadline_s=2).complete:
                if time.monotonic() - started > 900:
                    logs = Path(env["ATM_VAR_DIR"]).glob("matcher-*.log")
                    tails = "\n".join(log.read_text(errors="replace")[-1500:] for log in logs)
                    raise RuntimeError(f"matcher workers did not become ready:\n{tails}")
            ready_s = round(time.monotonic() - started, 1)
            memory = [round(_rss_mb(worker.pid)) for worker in workers]
            samples, incomplete = [], 0
            for index in range(_QUERIES + 5):
                probe = rng.normal(0.0, 0.088, 128).astype(np.float32)
                begun = time.perf_counter()
                answer = match_nearest(probes=probe, exclude_customer_id=OWNER_CUSTOMER_ID, deadline_s=2)
                elapsed = (time.perf_counter() - begun) * 1000
                if index >= 5:  # the first few warm the connections and the pages
                    samples.append(elapsed)
                    incomplete += not answer.complete
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
        app.conf.broker_url = saved
        app.__dict__.pop("amqp", None)
    ordered = sorted(samples)
    return {
        "p50": round(float(np.percentile(ordered, 50)), 2),
        "p95": round(float(np.percentile(ordered, 95)), 2),
        "n": len(ordered),
        "incomplete": incomplete,
        "workers_ready_s": ready_s,
        "worker_rss_mb": memory,
    }


# --- run inside the scratch environment (manage.py benchmark_speed --scratch-...) ---------------------------


def scratch_entry(command: Any, options: dict[str, Any]) -> None:
    if "atm-tier-" not in str(settings.VAR_DIR):
        raise RuntimeError("the --scratch-* steps run only inside benchmark_speed's scratch environment")
    if options["scratch_templates"]:
        result = _scratch_templates(options["scratch_templates"])
    else:
        result = _scratch_shard_load(options["scratch_shard_load"])
    command.stdout.write(json.dumps(result))


def _scratch_templates(count: int) -> dict[str, Any]:
    """`count` synthetic customers with one encrypted template each, and the owner's three, at version 1.

    Rows go in with SQL (no Customer/Enrolment rows behind them, foreign keys off): the matcher's load query
    and the web worker's 1:1 query read FaceTemplate alone, which is what is measured.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from biometrics.models import FaceTemplate, encoding_pack

    field: Any = FaceTemplate._meta.get_field("encoding")
    owner = np.load(os.environ["BENCH_OWNER_ENCODING"]).astype(np.float32)
    rng = np.random.default_rng(5)
    now = timezone.now().isoformat()
    sql = (
        "INSERT INTO biometrics_facetemplate (customer_id, enrolment_id, photo_id, encoding, source, "
        "engine_version, quality, created_at, revoked_at, gallery_added_version, gallery_revoked_version) "
        "VALUES (%s, 1, NULL, %s, 'enrolment_photo', %s, '{}', %s, NULL, 1, NULL)"
    )

    def row(customer_id: int, vector: np.ndarray) -> tuple[Any, ...]:
        encrypted = field.get_db_prep_save(encoding_pack(vector), connection)
        return (customer_id, encrypted, engine.ENGINE_VERSION, now)

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys = OFF")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO biometrics_gallerystate (id, version, epoch, updated_at) VALUES (1, 1, 0, %s)", [now]
        )
        owner_rows = [owner + rng.normal(0, 0.01, 128).astype(np.float32) for _ in range(3)]
        cursor.executemany(sql, [row(OWNER_CUSTOMER_ID, vector) for vector in owner_rows])
        chunk = 20_000
        for start in range(0, count, chunk):
            vectors = rng.normal(0.0, 0.088, size=(min(chunk, count - start), 128)).astype(np.float32)
            cursor.executemany(
                sql, [row(1000 + start + index, vector) for index, vector in enumerate(vectors)]
            )
    return {"templates": count + 3, "insert_s": round(time.perf_counter() - started, 1)}


def _scratch_shard_load(shards: int) -> dict[str, Any]:
    """Shard 0 of `shards` loaded as a matcher worker loads it; and raw decryption throughput."""
    from django.db import connection
    from encrypted_model_fields.fields import decrypt_str

    from biometrics.services.gallery_sync import gallery_shard_current

    with connection.cursor() as cursor:
        cursor.execute("SELECT encoding FROM biometrics_facetemplate LIMIT 20000")
        sample = [row[0] for row in cursor.fetchall()]
    started = time.perf_counter()
    for token in sample:
        decrypt_str(token)
    decrypt_per_s = len(sample) / (time.perf_counter() - started)
    before = _rss_mb()
    started = time.perf_counter()
    gallery = gallery_shard_current(shard=0, shards=shards)
    seconds = time.perf_counter() - started
    return {
        "templates": len(gallery),
        "load_s": round(seconds, 1),
        "load_templates_per_s": round(len(gallery) / seconds),
        "gallery_mb": round(gallery.nbytes() / 1e6, 1),
        "rss_growth_mb": round(_rss_mb() - before),
        "process_rss_mb": round(_rss_mb()),
        "decrypt_per_s": round(decrypt_per_s),
    }
