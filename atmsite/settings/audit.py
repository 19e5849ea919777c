"""Audit trail settings: chain and checkpoint keys, snapshot retention, where checkpoints go."""

from __future__ import annotations

from .environment import VAR_DIR, env, secret

# HMAC keys of the audit chain, newest first: new events are chained with the first; every event records the
# id of its key, so retired keys stay listed for as long as their events must verify.
AUDIT_CHAIN_KEY = [key.strip() for key in secret("AUDIT_CHAIN_KEY").split(",") if key.strip()]
# Ed25519 private keys (base64 of the 32-byte seed), newest first, that sign checkpoints of the chain head.
AUDIT_CHECKPOINT_SIGNING_KEY = [
    key.strip() for key in secret("AUDIT_CHECKPOINT_SIGNING_KEY").split(",") if key.strip()
]

AUDIT_SNAPSHOT_RETENTION_DAYS = env.int("AUDIT_SNAPSHOT_RETENTION_DAYS", default=90)
# Where signed checkpoints of the chain head go, outside the database: a file path (append-only JSON lines),
# or syslog: syslog:///dev/log (local socket), syslog://host:514 (UDP), syslog+tcp://host:514.
AUDIT_CHECKPOINT_SINK = env.str("AUDIT_CHECKPOINT_SINK", default=str(VAR_DIR / "audit-checkpoints.jsonl"))
# Seconds between checkpoints (beat): the newest events a key holder could still cut off unseen.
AUDIT_CHECKPOINT_INTERVAL_S = env.int("AUDIT_CHECKPOINT_INTERVAL_S", default=300)
