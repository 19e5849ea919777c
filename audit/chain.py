"""The canonical form of an audit event and its chained SHA-256."""

from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS_HASH = "0" * 64

# Fields the hash covers. `personal` itself is left out on purpose (only its salted digest is covered) so that
# erasing a customer's personal data keeps the chain intact.
CHAINED_FIELDS = (
    "seq",
    "created_at",
    "kind",
    "outcome",
    "actor_id",
    "actor_username",
    "kiosk_id",
    "customer_id",
    "card_last4",
    "data",
    "personal_digest",
)


def canonical(values: dict[str, Any]) -> bytes:
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def event_hash(*, values: dict[str, Any], prev_hash: str) -> str:
    body = {field: values[field] for field in CHAINED_FIELDS}
    body["created_at"] = values["created_at"].isoformat()
    return hashlib.sha256(prev_hash.encode() + canonical(body)).hexdigest()


def personal_digest(*, personal: dict[str, Any], salt: str) -> str:
    if not personal:
        return ""
    return salt + ":" + hashlib.sha256(salt.encode() + canonical(personal)).hexdigest()
