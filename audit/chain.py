"""The canonical form of an audit event and its chained HMAC-SHA256.

Each event's hash is HMAC-SHA256(key, prev_hash + canonical row) under a key from settings.AUDIT_CHAIN_KEY,
which lives outside the database: whoever can write the tables but does not hold the key cannot recompute a
chain that verifies. Keys are listed newest first; an event records the id of the key that chained it, so a
retired key stays listed (for verification only) while a new one chains everything after it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

GENESIS_HASH = "0" * 64

# Fields the hash covers. `personal` itself is left out on purpose (only its salted digest is covered) so that
# erasing a customer's personal data keeps the chain intact. `chain_key_id` is covered so an event cannot be
# moved under another key.
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
    "chain_key_id",
)


@dataclass(frozen=True)
class ChainKey:
    id: str
    secret: bytes


def chain_key_id(secret: str | bytes) -> str:
    """A key's public name: a short, one-way digest of it (names nothing about the key itself)."""
    raw = secret.encode() if isinstance(secret, str) else secret
    return hashlib.sha256(b"atm-audit-chain-key-id\n" + raw).hexdigest()[:16]


def chain_keys() -> dict[str, ChainKey]:
    """Every configured key by id, newest first (dicts keep insertion order)."""
    configured = settings.AUDIT_CHAIN_KEY
    values = [configured] if isinstance(configured, str) else list(configured)
    keys: dict[str, ChainKey] = {}
    for value in values:
        key = ChainKey(id=chain_key_id(value), secret=value.encode())
        keys.setdefault(key.id, key)
    return keys


def chain_key_current() -> ChainKey:
    keys = chain_keys()
    if not keys:
        raise ImproperlyConfigured("AUDIT_CHAIN_KEY is empty")
    return next(iter(keys.values()))


def canonical(values: dict[str, Any]) -> bytes:
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def event_hash(*, values: dict[str, Any], prev_hash: str, secret: bytes) -> str:
    body = {field: values[field] for field in CHAINED_FIELDS}
    body["created_at"] = values["created_at"].isoformat()
    return hmac.digest(secret, prev_hash.encode() + canonical(body), "sha256").hex()


def personal_digest(*, personal: dict[str, Any], salt: str) -> str:
    if not personal:
        return ""
    return salt + ":" + hashlib.sha256(salt.encode() + canonical(personal)).hexdigest()
