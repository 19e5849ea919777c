"""The HTTP rows of `manage.py benchmark_speed`: the full frame path through a real gunicorn server.

The server runs with 2 sync worker processes on a scratch SQLite database in a temporary folder, seeded with
the demo bank (demo faces enrolled from the photo folder) and one provisioned kiosk per client; kiosk clients
(threads here) post the owner's letterboxed portrait, with faint noise, as camera frames: the first portrait
whose face the kiosk compares (one face, large and sharp enough), so every frame is encoded and matched.
Every session stays in the face check for the whole run; one that leaves it (verified, failed) stops the
benchmark.

With ``pad`` the server runs with liveness and PAD on: the still portrait never meets the head-turn challenge
within the hour the settings allow, so every frame matches the owner and has its face crop scored by the PAD
models; the scored frames are counted from the sessions' liveness state afterwards.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.management.base import CommandError

from accounts.demo import DEMO_CUSTOMERS
from bench.frames import jpeg_variants, letterboxed, percentiles
from bench.scratch_env import run_in_scratch, scratch_env
from biometrics import engine
from biometrics.quality import face_problem

KIOSK_CLIENTS = (1, 2, 4)
SERVER_WORKERS = 2
WARM_UP_FRAMES = 6
CLIENT_OFFSET = 50
SCRATCH_PREFIX = "atm-bench-"

Log = Callable[[str], None]
Client = tuple[dict[str, str], list[bytes]]  # a provisioned kiosk (token, card) and the frames it sends


def http_figures(
    faces: Path,
    portraits: dict[str, list[Path]],
    *,
    frames_each: int,
    clients: Sequence[int] = KIOSK_CLIENTS,
    log: Log,
    pad: bool = False,
) -> dict[str, Any]:
    """Latency of one kiosk's frames, then frames per second with each count of concurrent kiosks.

    With ``pad`` the keys end in ``_pad`` and ``pad_frames_scored`` counts the frames PAD scored."""
    suffix = "_pad" if pad else ""
    with scratch_server(faces, kiosk_count=max(clients), log=log, pad=pad) as (port, kiosks, env):
        # Client k sends variants from CLIENT_OFFSET * k on: no client repeats a frame within a session.
        variants = CLIENT_OFFSET * (len(kiosks) - 1) + max(frames_each, WARM_UP_FRAMES)
        drivers: list[Client] = []
        for kiosk in kiosks:
            demo = next(d for d in DEMO_CUSTOMERS if d.pan == kiosk["pan"])
            frame = _owner_frame(portraits.get(demo.face_identity, []), demo.face_identity)
            drivers.append((kiosk, jpeg_variants(frame, variants)))
        # Warm both workers (models, owner templates) before measuring.
        drive(port, drivers[:SERVER_WORKERS], frames_each=WARM_UP_FRAMES)
        single = drive(port, drivers[:1], frames_each=frames_each)
        frame_verify = percentiles(single.latencies)
        log(f"frame verify over HTTP{' (PAD on)' if pad else ''}: {frame_verify}")
        throughput: dict[str, float] = {}
        for count in clients:
            run = single if count == 1 else drive(port, drivers[:count], frames_each=frames_each)
            throughput[str(count)] = round(len(run.latencies) / run.seconds, 2)
            log(f"{count} kiosk(s): {throughput[str(count)]}/s, {percentiles(run.latencies)}")
        report: dict[str, Any] = {f"frame_verify{suffix}_ms": frame_verify}
        report[f"frames_per_s{suffix}"] = throughput
        if pad:
            report["pad_frames_scored"] = _pad_frames_scored(env, log)
    return {**report, "server_workers": SERVER_WORKERS}


def _owner_frame(paths: list[Path], identity: str) -> np.ndarray:
    """The first portrait whose 640x480 frame the kiosk compares: a frame refused before encoding (face too
    small or blurred) would time the cheap path, and PAD never scores it."""
    for path in paths:
        frame = letterboxed(path)
        found = engine.detect_faces(frame, purpose="live")
        if len(found) == 1 and face_problem(found[0].quality) is None:
            return frame
    raise CommandError(f"no portrait of {identity} shows one face the kiosk compares at 640x480")


def _pad_frames_scored(env: dict[str, str], log: Log) -> int:
    """Frames PAD scored, from the sessions' liveness state: every frame of the run, or the run fails."""
    sessions = json.loads(run_in_scratch(env, "-m", "bench.scratch", "pad-frames")[-1])
    log(f"PAD-scored frames: {sessions}")
    # A kiosk's next session ends its previous one (replaced); any other end or decision is a failed run.
    if sessions["sessions_unscored"] or set(sessions["states"]) - {"face_pending", "ended:replaced"}:
        raise CommandError(f"PAD did not score every frame of a running face check: {sessions}")
    return int(sessions["pad_scored"])


def _server_env(scratch: Path, faces: Path, *, pad: bool) -> dict[str, str]:
    # A still photo never meets the head-turn challenge: with liveness on (for PAD), the challenge's time
    # limit is the face check's hour, so the session stays pending and each owner frame is scored by PAD.
    liveness = (
        {"LIVENESS_ENABLED": "true", "PAD_ENABLED": "true", "LIVENESS_TIME_LIMIT_S": "3600"}
        if pad
        else {"LIVENESS_ENABLED": "false"}  # liveness alone is measured by benchmark_liveness
    )
    return scratch_env(
        scratch,
        "bench.sqlite3",
        ATM_FACES_DIR=str(faces),
        # Keep every session in the face check so each request does the full frame path.
        FACE_MATCH_FRAMES_REQUIRED=str(10**9),
        KIOSK_FACE_TIMEOUT_S="3600",
        KIOSK_IDLE_TIMEOUT_S="3600",
        KIOSK_SESSION_MAX_S="3600",
        RATELIMIT_ENABLE="false",
        **liveness,
    )


@contextlib.contextmanager
def scratch_server(
    faces: Path, *, kiosk_count: int, log: Log, pad: bool = False
) -> Iterator[tuple[int, list[dict[str, str]], dict[str, str]]]:
    """A migrated, seeded scratch database with ``kiosk_count`` kiosks, served by gunicorn: (port, kiosks,
    the server's environment)."""
    scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX))
    env = _server_env(scratch, faces, pad=pad)
    log(f"scratch server in {scratch}: migrate, seed the demo bank (enrols demo faces)...")
    try:
        run_in_scratch(env, "manage.py", "migrate", "-v0")
        run_in_scratch(env, "manage.py", "seed_demo")
        kiosks = json.loads(run_in_scratch(env, "-m", "bench.scratch", "kiosks", str(kiosk_count))[-1])
        log(f"scratch bank ready with {len(kiosks)} kiosk(s); starting gunicorn...")
        port = _free_port()
        server = subprocess.Popen(
            [
                *(str(Path(sys.executable).parent / "gunicorn"), "atmsite.wsgi:application"),
                *("--bind", f"127.0.0.1:{port}", "--workers", str(SERVER_WORKERS), "--worker-class", "sync"),
                *("--config", str(settings.BASE_DIR / "atmsite" / "gunicorn_conf.py")),
                *("--log-level", "warning"),
            ],
            env=env,
            cwd=settings.BASE_DIR,
        )
        try:
            _wait_for_port(port, timeout=60)
            log(f"gunicorn listening on port {port}")
            yield port, kiosks, env
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@dataclass
class Run:
    """What the kiosk clients of one ``drive`` saw: every frame's latency (ms), answer and the wall time."""

    latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def drive(port: int, clients: list[Client], frames_each: int) -> Run:
    """Each client (a thread) starts a session with its card and posts ``frames_each`` frames in turn."""
    run = Run()
    threads = []
    for number, (kiosk, variants) in enumerate(clients):
        args = (port, kiosk, variants, CLIENT_OFFSET * number, frames_each, run)
        threads.append(threading.Thread(target=_kiosk_client, args=args))
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.seconds = time.perf_counter() - start
    if run.errors:
        raise CommandError("kiosk client failed: " + "; ".join(run.errors[:3]))
    if set(run.outcomes) != {"checking"}:
        raise CommandError(f"a session left the face check: answers {dict(run.outcomes)}")
    return run


def _kiosk_client(
    port: int, kiosk: dict[str, str], variants: list[bytes], offset: int, frames_each: int, run: Run
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Kiosk {kiosk['token']}"}
    card = json.dumps({"card_number": kiosk["pan"], "expiry": kiosk["expiry"]}).encode()
    json_headers = {**headers, "Content-Type": "application/json"}
    status, session = _request(connection, "POST", "/api/kiosk/sessions/", card, json_headers)
    if status != 201:
        run.errors.append(f"session start {status}: {session}")
        return
    for index in range(frames_each):
        body, content_type = _multipart(
            {"nonce": session["frame_nonce"], "seq": str(session["next_seq"])},
            variants[(offset + index) % len(variants)],
        )
        path = f"/api/kiosk/sessions/{session['id']}/frames/"
        start = time.perf_counter()
        status, answer = _request(connection, "POST", path, body, {**headers, "Content-Type": content_type})
        elapsed = (time.perf_counter() - start) * 1000
        if status != 200:
            run.errors.append(f"frame {status}: {answer}")
            return
        with run.lock:
            run.latencies.append(elapsed)
            run.outcomes[answer["outcome"]] += 1
        session = answer["session"]
    connection.close()


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
