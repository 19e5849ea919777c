"""The matcher side of a 1:N query: one shard's nearest customer. Imports the gallery (matchers only)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
from django.conf import settings

from atmsite.crypto import decrypt_bytes
from biometrics.gallery import ENCODING_SIZE, Match
from biometrics.gallery_reid import REID_SIZE
from biometrics.matcher import REPLY_TTL_S, reply_redis
from biometrics.services.gallery_sync import gallery_shard_current

logger = logging.getLogger(__name__)


def shard_nearest(
    *,
    shard: int,
    shards: int,
    probes: np.ndarray,
    exclude_customer_id: int | None,
    min_version: int = 0,
    reid_probes: np.ndarray | None = None,
) -> dict[str, Any]:
    """The nearest template of this shard to any of `probes`, as a plain dict (no vectors).

    The combined comparison of the 1:1 (biometrics.comparison): with second-model probes, a template that has
    a second-model template is scored by it (its per-template shift, on the kiosk's distance scale) and dlib
    scores only the templates without one; without them (second model off, no YuNet face), dlib scores all.
    """
    gallery = gallery_shard_current(shard=shard, shards=shards, min_version=min_version)
    combined = reid_probes is not None and len(reid_probes) > 0 and gallery.reid is not None
    best: Match | None = None
    for probe in np.asarray(probes, dtype=np.float32).reshape(-1, ENCODING_SIZE):
        match = gallery.nearest(probe, exclude_customer_id=exclude_customer_id, skip_second=combined)
        if match is not None and (best is None or match.distance < best.distance):
            best = match
    if combined and gallery.reid is not None and reid_probes is not None:
        from biometrics.services.second_model import as_distance

        for probe in np.asarray(reid_probes, dtype=np.float32).reshape(-1, REID_SIZE):
            match = gallery.reid.nearest(probe, exclude_customer_id=exclude_customer_id)
            if match is None:
                continue
            match = Match(match.template_id, match.customer_id, as_distance(match.distance))
            if best is None or match.distance < best.distance:
                best = match
    return {
        "shard": shard,
        "customer_id": best.customer_id if best else None,
        "distance": best.distance if best else None,
        "version": gallery.version,
    }


def shard_query_reply(
    *,
    shard: int,
    shards: int,
    payload: str,
    exclude_customer_id: int | None,
    min_version: int,
    reply_key: str,
    expires_at: float,
    reid_payload: str = "",
) -> bool:
    """Answer one scattered query onto its reply list; False if it arrived after the asker's deadline."""
    if time.time() > expires_at:
        return False
    probes = np.frombuffer(decrypt_bytes(payload.encode("ascii")), dtype="<f4").reshape(-1, ENCODING_SIZE)
    reid_probes = (
        np.frombuffer(decrypt_bytes(reid_payload.encode("ascii")), dtype="<f4").reshape(-1, REID_SIZE)
        if reid_payload
        else None
    )
    answer = shard_nearest(
        shard=shard,
        shards=shards,
        probes=probes,
        exclude_customer_id=exclude_customer_id,
        min_version=min_version,
        reid_probes=reid_probes,
    )
    client = reply_redis()
    pipeline = client.pipeline()
    pipeline.rpush(reply_key, json.dumps(answer))
    pipeline.expire(reply_key, REPLY_TTL_S)
    pipeline.execute()
    return True


def shards_of_queues(queue_names: Iterable[str]) -> list[int]:
    """Shard numbers served by a worker consuming `queue_names` (`match.0`, `match.1`, ...)."""
    prefix = f"{settings.MATCHER_QUEUE}."
    shards = []
    for name in queue_names:
        if name.startswith(prefix) and name[len(prefix) :].isdigit():
            shards.append(int(name[len(prefix) :]))
    return sorted(shards)


def shards_preload(queue_names: Iterable[str]) -> list[int]:
    """Load the shards a matcher worker serves before it takes its first query (worker start)."""
    shards = int(settings.MATCHER_SHARDS)
    served = [shard for shard in shards_of_queues(queue_names) if shard < shards]
    for shard in served:
        started = time.perf_counter()
        gallery = gallery_shard_current(shard=shard, shards=shards)
        logger.info(
            "matcher shard %d/%d ready: %d templates, %.0f MB, %.1f s",
            shard,
            shards,
            len(gallery),
            gallery.nbytes() / 1e6,
            time.perf_counter() - started,
        )
    return served
