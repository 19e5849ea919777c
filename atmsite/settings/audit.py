"""Audit trail settings: the chain key, the witness's public key, snapshot retention, where checkpoints go."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from audit.witness import dev_key_text, private_key_parse, public_key_text

from .environment import DEBUG, VAR_DIR, env, secret

# HMAC keys of the audit chain, newest first: new events are chained with the first; every event records the
# id of its key, so retired keys stay listed for as long as their events must verify.
AUDIT_CHAIN_KEY = [key.strip() for key in secret("AUDIT_CHAIN_KEY").split(",") if key.strip()]

# Checkpoints of the chain head are signed by the witness (scripts/audit_witness.py, docs/audit-witness.md),
# never by the portal: the portal holds only the witness's PUBLIC key(s), newest first. Its private key
# (AUDIT_WITNESS_KEY) must not be in the portal's environment: with it, the portal could sign a rewrite.
if not DEBUG and (env.str("AUDIT_WITNESS_KEY", default="") or env.str("AUDIT_WITNESS_KEY_FILE", default="")):
    raise ImproperlyConfigured(
        "AUDIT_WITNESS_KEY is in the portal's environment: it belongs to the witness process alone; give the "
        "portal AUDIT_WITNESS_PUBLIC_KEY (docs/audit-witness.md)"
    )
_witness_public = env.str("AUDIT_WITNESS_PUBLIC_KEY", default="")
if not _witness_public:
    if not DEBUG:
        raise ImproperlyConfigured(
            "AUDIT_WITNESS_PUBLIC_KEY must be set when DEBUG is off (`scripts/audit_witness.py public-key` "
            "on the witness prints it; docs/audit-witness.md)"
        )
    # DEVELOPMENT ONLY: the public half of the dev witness key `scripts/audit_witness.py` generates in var/.
    _witness_public = public_key_text(private_key_parse(dev_key_text(VAR_DIR)).public_key())
AUDIT_WITNESS_PUBLIC_KEY = [key.strip() for key in _witness_public.split(",") if key.strip()]
# The witness's own copy of its checkpoints: http://host:port of `audit_witness serve`, or its log file when
# it runs on this host. Compared with the sink so that a deleted newest line shows.
AUDIT_WITNESS_URL = env.str(
    "AUDIT_WITNESS_URL", default=str(VAR_DIR / "audit-witness.jsonl") if DEBUG else ""
)

AUDIT_SNAPSHOT_RETENTION_DAYS = env.int("AUDIT_SNAPSHOT_RETENTION_DAYS", default=90)
# Where the witness publishes its checkpoints, outside the database: a file path (append-only JSON lines), or
# syslog: syslog:///dev/log (local socket), syslog://host:514 (UDP), syslog+tcp://host:514. Give the witness
# and the portal the same value.
AUDIT_CHECKPOINT_SINK = env.str("AUDIT_CHECKPOINT_SINK", default=str(VAR_DIR / "audit-checkpoints.v2.jsonl"))
