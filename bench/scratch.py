"""Steps the speed benchmarks run in a child process on a scratch database (see bench/scratch_env.py):

    python -m bench.scratch kiosks COUNT              one provisioned kiosk per demo card (HTTP rows)
    python -m bench.scratch pad-frames                frames seen and PAD-scored by all sessions (HTTP rows)
    python -m bench.scratch templates COUNT           COUNT synthetic customers' templates (matcher tier)
    python -m bench.scratch shard-load SHARDS         load shard 0 of SHARDS as a matcher does (matcher tier)
    python -m bench.scratch web-worker FRAME.npy CUSTOMER FRAMES   a fresh web worker serving frames

Each prints one JSON object on its last line. Each refuses to run outside the benchmark's temporary folder.
Imports are made inside the steps: the web worker's figures (memory, modules loaded) must be its own.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

OWNER_CUSTOMER_ID = 1
GALLERY_MODULES = ("biometrics.gallery", "biometrics.services.gallery_sync")  # matcher processes only


def _require_scratch(prefix: str) -> None:
    from django.conf import settings

    if not settings.DEBUG or prefix not in str(settings.VAR_DIR):
        raise SystemExit(f"bench.scratch runs only inside a benchmark's scratch folder ({prefix}*)")


def kiosks(count: int) -> list[dict[str, str]]:
    """One provisioned kiosk per client, each for another demo card: its token, card number and expiry."""
    from accounts.demo import DEMO_CUSTOMERS
    from accounts.models import Card
    from accounts.pan import pan_hash
    from kiosk.models import Cassette, Kiosk
    from kiosk.services.credentials import kiosk_provisioning_code_create, kiosk_provisioning_code_redeem

    _require_scratch("atm-bench-")
    provisioned = []
    for index, demo in enumerate(DEMO_CUSTOMERS[:count]):
        kiosk, _ = Kiosk.objects.get_or_create(name=f"Benchmark kiosk {index + 1}")
        Cassette.objects.get_or_create(kiosk=kiosk, denomination=50, defaults={"count": 100})
        _code, raw = kiosk_provisioning_code_create(kiosk=kiosk, actor=None)
        _credential, token = kiosk_provisioning_code_redeem(code=raw)
        expires_on = Card.objects.get(pan_hmac=pan_hash(demo.pan)).expires_on
        provisioned.append({"token": token, "pan": demo.pan, "expiry": expires_on.strftime("%m/%y")})
    return provisioned


def pad_frames() -> dict[str, Any]:
    """All kiosk sessions: how many, their states (an ended one with its reason), the frames they accepted,
    the frames PAD scored, and the sessions with a frame PAD did not score (a session keeps its last
    ``fingerprint_memory`` scores)."""
    from biometrics.liveness import LivenessConfig
    from kiosk.models import KioskSession

    _require_scratch("atm-bench-")
    memory = LivenessConfig().fingerprint_memory
    rows = KioskSession.objects.values_list("state", "end_reason", "frames_seen", "liveness_state")
    scored = [
        (":".join(filter(None, (state, reason))), frames, len(liveness.get("pad_scores", [])))
        for state, reason, frames, liveness in rows
    ]
    return {
        "sessions": len(scored),
        "states": sorted({state for state, _frames, _pad in scored}),
        "frames": sum(frames for _state, frames, _pad in scored),
        "pad_scored": sum(pad for *_rest, pad in scored),
        "sessions_unscored": sum(pad < min(frames, memory) for _state, frames, pad in scored),
    }


def templates(count: int) -> dict[str, Any]:
    """``count`` synthetic customers with one encrypted template each, and the owner's three, at version 1.

    Rows go in with SQL (no Customer/Enrolment rows behind them, foreign keys off): the matcher's load query
    and the web worker's 1:1 query read FaceTemplate alone, which is what is measured. The owner's encoding
    comes from the file named by $BENCH_OWNER_ENCODING.
    """
    import numpy as np
    from django.db import connection, transaction
    from django.utils import timezone

    from biometrics import engine
    from biometrics.models import FaceTemplate, encoding_pack

    _require_scratch("atm-tier-")
    field: Any = FaceTemplate._meta.get_field("encoding")
    owner = np.load(os.environ["BENCH_OWNER_ENCODING"]).astype(np.float32)
    rng = np.random.default_rng(5)
    now = timezone.now().isoformat()
    sql = (
        "INSERT INTO biometrics_facetemplate (customer_id, enrolment_id, photo_id, encoding, source, "
        "engine_version, quality, created_at, revoked_at, gallery_added_version, gallery_revoked_version, "
        "reid_encoding, reid_version) "
        "VALUES (%s, 1, NULL, %s, 'enrolment_photo', %s, '{}', %s, NULL, 1, NULL, '', '')"
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


def shard_load(shards: int) -> dict[str, Any]:
    """Shard 0 of ``shards`` loaded as a matcher worker loads it; and raw decryption throughput."""
    from django.db import connection
    from encrypted_model_fields.fields import decrypt_str

    from bench.scratch_env import rss_mb
    from biometrics.services.gallery_sync import gallery_shard_current

    _require_scratch("atm-tier-")
    with connection.cursor() as cursor:
        cursor.execute("SELECT encoding FROM biometrics_facetemplate LIMIT 20000")
        sample = [row[0] for row in cursor.fetchall()]
    started = time.perf_counter()
    for token in sample:
        decrypt_str(token)
    decrypt_per_s = len(sample) / (time.perf_counter() - started)
    before = rss_mb()
    started = time.perf_counter()
    gallery = gallery_shard_current(shard=0, shards=shards)
    seconds = time.perf_counter() - started
    return {
        "templates": len(gallery),
        "load_s": round(seconds, 1),
        "load_templates_per_s": round(len(gallery) / seconds),
        "gallery_mb": round(gallery.nbytes() / 1e6, 1),
        "rss_growth_mb": round(rss_mb() - before),
        "process_rss_mb": round(rss_mb()),
        "decrypt_per_s": round(decrypt_per_s),
    }


def web_worker(frame_path: str, customer_id: int, frames: int) -> dict[str, Any]:
    """A production-shaped web process: models loaded as gunicorn's post_fork does, then ``frames`` + 1 frames
    of the saved image verified for ``customer_id``; when the first was served, its memory, and whether the
    1:N gallery was imported (a web worker must never import it)."""
    import numpy as np

    from biometrics import engine
    from kiosk.services import face

    _require_scratch("atm-tier-")
    engine.warm_up()
    image = np.load(frame_path)
    outcome = face.frame_verify(customer_id=customer_id, image=image).outcome
    first_frame_at = time.time()
    for _ in range(frames):
        face.frame_verify(customer_id=customer_id, image=image)
    with open("/proc/self/status") as status:
        rss = {
            line.split(":")[0]: int(line.split()[1]) // 1024
            for line in status
            if line.startswith(("VmRSS", "VmHWM"))
        }
    loaded = [name for name in GALLERY_MODULES if name in sys.modules]
    return {
        "first_frame_at": first_frame_at,
        "outcome": outcome,
        "rss_mb": rss["VmRSS"],
        "peak_rss_mb": rss["VmHWM"],
        "gallery_modules_loaded": loaded,
    }


def main(argv: list[str]) -> None:
    import django

    django.setup()
    step, *args = argv
    if step == "kiosks":
        result: object = kiosks(int(args[0]))
    elif step == "pad-frames":
        result = pad_frames()
    elif step == "templates":
        result = templates(int(args[0]))
    elif step == "shard-load":
        result = shard_load(int(args[0]))
    elif step == "web-worker":
        result = web_worker(args[0], int(args[1]), int(args[2]))
    else:
        raise SystemExit(f"unknown step {step!r}; see python -m bench.scratch's docstring")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
