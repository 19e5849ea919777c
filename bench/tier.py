"""The matcher-tier rows of `manage.py benchmark_speed` (see its docstring). Figures, not assertions.

Per gallery size, a scratch SQLite database holds that many encrypted templates (one per synthetic customer,
plus the owner's): a fresh web-worker process serving frames (memory, start to first frame, no gallery), a
shard load (time, memory, decryption), and real Celery matcher workers on a Redis broker, asked through the
broker as the kiosk asks them.
"""

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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from bench.scratch import OWNER_CUSTOMER_ID
from bench.scratch_env import rss_mb, run_in_scratch, scratch_env
from biometrics import engine

WEB_FRAMES = 30
QUERIES = 200
WARM_QUERIES = 5  # the first few warm the connections and the pages
SHARD_COUNTS = (1, 2)

Log = Callable[[str], None]


def tier_measure(
    *,
    frames: list[np.ndarray],
    sizes: list[int],
    broker: str,
    log: Log,
    shard_counts: Sequence[int] = SHARD_COUNTS,
    queries: int = QUERIES,
    web_frames: int = WEB_FRAMES,
) -> dict[str, Any]:
    """Every size: templates inserted, a web worker, shard loads; at the largest size, queries via Celery."""
    owner_frame = next(frame for frame in frames if len(engine.detect_faces(frame, purpose="live")) == 1)
    owner_face = engine.detect_faces(owner_frame, purpose="live")[0]
    root = Path(tempfile.mkdtemp(prefix="atm-tier-"))
    np.save(root / "owner_frame.npy", owner_frame)
    np.save(root / "owner_encoding.npy", engine.encode_face(owner_frame, owner_face))
    report: dict[str, Any] = {"templates_per_customer": 1}
    try:
        for size in sizes:
            scratch = root / str(size)
            scratch.mkdir()
            env = _tier_env(scratch, root / "owner_encoding.npy")
            run_in_scratch(env, "manage.py", "migrate", "-v0")
            row: dict[str, Any] = {"insert": _step(env, "templates", size)}
            log(f"tier N={size}: {row['insert']}")
            row["web_worker"] = _web_worker(env, root / "owner_frame.npy", broker, web_frames)
            log(f"tier N={size}: web worker {row['web_worker']}")
            row["shard_load"] = {}
            for shards in shard_counts:
                row["shard_load"][str(shards)] = load = _step(env, "shard-load", shards)
                log(f"tier N={size}: shard 0 of {shards} {load}")
            if size == max(sizes):
                row["query_ms"] = {}
                for shards in shard_counts:
                    row["query_ms"][str(shards)] = query = _celery_queries(env, broker, shards, queries)
                    log(f"tier N={size}: {shards} shard(s) through Celery {query}")
            report[str(size)] = row
            shutil.rmtree(scratch, ignore_errors=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return report


def _tier_env(scratch: Path, owner_encoding: Path) -> dict[str, str]:
    keys = settings.FIELD_ENCRYPTION_KEY
    env = scratch_env(scratch, "tier.sqlite3", BENCH_OWNER_ENCODING=str(owner_encoding))
    # This process encrypts the probes it sends: every scratch process must share its keys.
    env.setdefault("FIELD_ENCRYPTION_KEY", ",".join(keys) if isinstance(keys, list | tuple) else str(keys))
    return env


def _step(env: dict[str, str], *args: str | int | Path) -> dict[str, Any]:
    """One ``python -m bench.scratch`` step in ``env``: the JSON object it printed."""
    lines = run_in_scratch(env, "-m", "bench.scratch", *map(str, args))
    return json.loads(lines[-1]) if lines else {}


def _web_worker(env: dict[str, str], frame_path: Path, broker: str, frames: int) -> dict[str, Any]:
    """A fresh production-shaped web process (a broker configured): start → first served frame, then RSS."""
    spawned = time.time()
    worker_env = {**env, "CELERY_BROKER_URL": broker}
    result = _step(worker_env, "web-worker", frame_path, OWNER_CUSTOMER_ID, frames)
    result["start_to_first_frame_ms"] = round((result.pop("first_frame_at") - spawned) * 1000, 1)
    result["frames_served"] = frames + 1
    return result


@contextmanager
def _matcher_workers(env: dict[str, str], broker: str, shards: int) -> Iterator[tuple[str, list[int]]]:
    """Real matcher workers, one per shard (--pool=solo), on a queue of their own: (queue, their pids)."""
    queue = f"match-bench-{secrets.token_hex(4)}"
    worker_env = {**env, "CELERY_BROKER_URL": broker, "MATCHER_SHARDS": str(shards), "MATCHER_QUEUE": queue}
    workers = [
        subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "atmsite", "worker", "--pool=solo"),
                *("-Q", f"{queue}.{shard}", "-n", f"{queue}-{shard}@%h", "--loglevel=WARNING"),
                *("--without-mingle", "--without-gossip", "--without-heartbeat"),
            ],
            env=worker_env,
            cwd=settings.BASE_DIR,
            stdout=(Path(env["ATM_VAR_DIR"]) / f"matcher-{shards}-{shard}.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for shard in range(shards)
    ]
    try:
        yield queue, [worker.pid for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)


@contextmanager
def _broker(broker: str) -> Iterator[None]:
    """This process's Celery app sends to ``broker`` for the duration."""
    from celery import current_app

    # The project's app (atmsite.celery: apps never import the wiring), unproxied: its __dict__ is edited.
    app = current_app._get_current_object()

    saved = app.conf.broker_url
    app.conf.broker_url = broker
    app.__dict__.pop("amqp", None)
    try:
        yield
    finally:
        app.conf.broker_url = saved
        app.__dict__.pop("amqp", None)


def _celery_queries(env: dict[str, str], broker: str, shards: int, queries: int) -> dict[str, Any]:
    """Real matcher workers asked through the broker from this process, as the kiosk's web worker asks."""
    from django.test.utils import override_settings

    from biometrics.matcher import match_nearest

    rng = np.random.default_rng(3)
    with (
        _matcher_workers(env, broker, shards) as (queue, pids),
        _broker(broker),
        override_settings(MATCHER_IN_PROCESS=False, MATCHER_SHARDS=shards, MATCHER_QUEUE=queue),
    ):
        ready_s = _wait_for_matchers(env, match_nearest)
        memory = [round(rss_mb(pid)) for pid in pids]
        samples, incomplete = [], 0
        for index in range(queries + WARM_QUERIES):
            probe = rng.normal(0.0, 0.088, 128).astype(np.float32)
            begun = time.perf_counter()
            answer = match_nearest(probes=probe, exclude_customer_id=OWNER_CUSTOMER_ID, deadline_s=2)
            elapsed = (time.perf_counter() - begun) * 1000
            if index >= WARM_QUERIES:
                samples.append(elapsed)
                incomplete += not answer.complete
    ordered = sorted(samples)
    return {
        "p50": round(float(np.percentile(ordered, 50)), 2),
        "p95": round(float(np.percentile(ordered, 95)), 2),
        "n": len(ordered),
        "incomplete": incomplete,
        "workers_ready_s": ready_s,
        "worker_rss_mb": memory,
    }


def _wait_for_matchers(env: dict[str, str], match_nearest: Callable[..., Any]) -> float:
    """Seconds until every shard answers a query in time (each loads its part of the gallery first)."""
    started = time.monotonic()
    while not match_nearest(probes=np.zeros(128), deadline_s=2).complete:
        if time.monotonic() - started > 900:
            logs = Path(env["ATM_VAR_DIR"]).glob("matcher-*.log")
            tails = "\n".join(log.read_text(errors="replace")[-1500:] for log in logs)
            raise RuntimeError(f"matcher workers did not become ready:\n{tails}")
    return round(time.monotonic() - started, 1)
