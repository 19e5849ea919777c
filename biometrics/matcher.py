"""The 1:N search, asked of the matcher tier: `match_nearest` names the enrolled customer nearest to a face.

Web processes never hold the gallery. The gallery lives in matcher processes, one shard each (shard k of
`MATCHER_SHARDS` holds every customer with customer_id % MATCHER_SHARDS == k), Celery workers consuming the
queue `<MATCHER_QUEUE>.<k>` with `--pool=solo`. A query is a scatter-gather: one message per shard, each
shard pushes its nearest customer onto a reply list in the broker's Redis, and the asker waits for all of
them until its deadline. The probe travels Fernet-encrypted (FIELD_ENCRYPTION_KEY) and the answers carry only
customer ids and distances, so the broker never holds a face encoding in clear. A message that reaches a
shard after its deadline is dropped unanswered (the asker has moved on).

With no broker (`make run`, the test suite) MATCHER_IN_PROCESS is on: the same shard code runs in this
process, importing the gallery on first use.

This module imports no gallery: it is safe in a web worker.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings

from atmsite.crypto import encrypt_bytes

logger = logging.getLogger(__name__)

MATCH_TASK = "biometrics.match_shard_query"
# A reply list outlives its asker by this much at most (a late shard's answer is never read).
REPLY_TTL_S = 60


@dataclass(frozen=True)
class Nearest:
    """The nearest enrolled customer over the shards that answered in time (None if none holds anyone)."""

    customer_id: int | None
    distance: float | None
    shards: int
    shards_answered: int
    reason: str = ""  # why the answer is incomplete: "timeout" | "unavailable" | ""

    @property
    def complete(self) -> bool:
        return self.shards_answered == self.shards

    def names_someone(self, *, threshold: float | None = None) -> bool:
        """True if the nearest customer is within the decision threshold (the face is theirs)."""
        limit = settings.FACE_DISTANCE_THRESHOLD if threshold is None else threshold
        return self.distance is not None and self.distance <= limit


class MatcherUnavailable(Exception):
    """The matcher did not answer from every shard in time; callers that cannot decide without it retry."""

    def __init__(self, nearest: Nearest) -> None:
        super().__init__(
            f"matcher answered from {nearest.shards_answered} of {nearest.shards} shards ({nearest.reason})"
        )
        self.nearest = nearest


def shard_queue(shard: int) -> str:
    return f"{settings.MATCHER_QUEUE}.{shard}"


def match_nearest(
    *,
    probes: np.ndarray,
    exclude_customer_id: int | None = None,
    deadline_s: float | None = None,
    min_version: int = 0,
    reid_probes: np.ndarray | None = None,
) -> Nearest:
    """The enrolled customer nearest to any of `probes` ((128,) or (k,128) encodings), ignoring
    `exclude_customer_id` (the card owner, or the customer being enrolled).

    Never raises for a slow or missing matcher: the answer says how many shards answered (`complete`).
    `min_version`: the gallery version the caller already saw; shards answer at that version or later.
    `reid_probes`: the same faces' second-model embeddings ((256,) or (k,256)); with them the shards compare
    as the 1:1 does (second model where a template has it, dlib for the rest), distances on the kiosk scale.
    """
    vectors = np.asarray(probes, dtype=np.float32).reshape(-1, 128)
    reid = None if reid_probes is None else np.asarray(reid_probes, dtype=np.float32).reshape(-1, 256)
    shards = int(settings.MATCHER_SHARDS)
    deadline = settings.MATCHER_FRAME_DEADLINE_S if deadline_s is None else deadline_s
    if settings.MATCHER_IN_PROCESS:
        from biometrics.services import matcher_shard

        answers = [
            matcher_shard.shard_nearest(
                shard=shard,
                shards=shards,
                probes=vectors,
                exclude_customer_id=exclude_customer_id,
                min_version=min_version,
                reid_probes=reid,
            )
            for shard in range(shards)
        ]
        return _gathered(answers, shards, reason="")
    return _scatter_gather(vectors, exclude_customer_id, deadline, min_version, shards, reid)


def _gathered(answers: list[dict[str, Any]], shards: int, *, reason: str) -> Nearest:
    by_shard = {int(answer["shard"]): answer for answer in answers}
    named = [a for a in by_shard.values() if a.get("customer_id") is not None]
    best = min(named, key=lambda a: float(a["distance"]), default=None)
    return Nearest(
        customer_id=int(best["customer_id"]) if best else None,
        distance=round(float(best["distance"]), 4) if best else None,
        shards=shards,
        shards_answered=len(by_shard),
        reason="" if len(by_shard) == shards else reason,
    )


_redis_clients: dict[str, Any] = {}
_redis_lock = threading.Lock()


def reply_redis() -> Any:
    """Redis client of the broker (the reply lists live next to the queues), one per process and URL."""
    import redis
    from celery import current_app as app  # the project's app (atmsite.celery); apps never import the wiring

    url = str(app.conf.broker_url)
    with _redis_lock:
        client = _redis_clients.get(url)
        if client is None:
            client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=10)
            _redis_clients[url] = client
        return client


def _scatter_gather(
    probes: np.ndarray,
    exclude_customer_id: int | None,
    deadline_s: float,
    min_version: int,
    shards: int,
    reid: np.ndarray | None = None,
) -> Nearest:
    from celery import current_app as app  # the project's app (atmsite.celery); apps never import the wiring

    started = time.monotonic()
    reply_key = f"{settings.MATCHER_QUEUE}:reply:{secrets.token_hex(12)}"
    payload = encrypt_bytes(probes.astype("<f4").tobytes()).decode("ascii")
    reid_payload = "" if reid is None else encrypt_bytes(reid.astype("<f4").tobytes()).decode("ascii")
    expires_at = time.time() + deadline_s
    try:
        for shard in range(shards):
            app.send_task(
                MATCH_TASK,
                args=[
                    shard,
                    shards,
                    payload,
                    exclude_customer_id,
                    min_version,
                    reply_key,
                    expires_at,
                    reid_payload,
                ],
                queue=shard_queue(shard),
                expires=deadline_s,
                retry=False,
                ignore_result=True,
            )
    except Exception as error:  # broker down: the caller decides without the matcher
        logger.warning("matcher query not sent: %s", error)
        return Nearest(None, None, shards, 0, reason="unavailable")
    answers: list[dict[str, Any]] = []
    client = reply_redis()
    try:
        while len({a["shard"] for a in answers}) < shards:
            remaining = deadline_s - (time.monotonic() - started)
            if remaining <= 0:
                break
            item = client.blpop([reply_key], timeout=max(remaining, 0.001))
            if item is None:
                break
            answers.append(json.loads(item[1]))
        client.delete(reply_key)
    except Exception as error:
        logger.warning("matcher replies not read: %s", error)
        return _gathered(answers, shards, reason="unavailable")
    return _gathered(answers, shards, reason="timeout")
