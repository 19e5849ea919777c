"""The chain becomes an HMAC under AUDIT_CHAIN_KEY; events written before are re-chained once, if intact.

The product was never deployed with the plain SHA-256 chain, so the only such events are in development
databases. They are walked with the old formula first: an intact old chain is re-chained under the newest
key (each row keeps its content, gets a key id and a keyed hash); a broken one is left exactly as it is, and
`audit_verify` then names its first event as not chained with AUDIT_CHAIN_KEY.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import migrations, models

# The old chain, frozen here: the fields it covered and its plain SHA-256 link.
_LEGACY_FIELDS = (
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
_GENESIS = "0" * 64


def _legacy_hash(row: dict[str, Any], prev_hash: str) -> str:
    body = {name: row[name] for name in _LEGACY_FIELDS}
    body["created_at"] = row["created_at"].isoformat()
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(prev_hash.encode() + text.encode()).hexdigest()


def legacy_events_rechain(apps: Any, schema_editor: Any) -> None:
    from audit.chain import chain_key_current, event_hash

    event_model = apps.get_model("audit", "AuditEvent")
    head_model = apps.get_model("audit", "AuditChainHead")
    # _base_manager: a plain manager here and with the real model (whose default manager is append-only).
    events = event_model._base_manager
    legacy = events.filter(chain_key_id="").order_by("seq")
    if not legacy.exists() or events.exclude(chain_key_id="").exists():
        return
    rows = list(legacy.values())
    prev_hash = _GENESIS
    for expected_seq, row in enumerate(rows, start=1):
        if row["seq"] != expected_seq or row["prev_hash"] != prev_hash or _legacy_hash(row, prev_hash) != row["hash"]:
            return  # broken before the upgrade: keep the evidence untouched
        prev_hash = row["hash"]
    head = head_model._base_manager.filter(id=1).first()
    if head is None or (head.seq, head.hash) != (rows[-1]["seq"], rows[-1]["hash"]):
        return
    key = chain_key_current()
    prev_hash = _GENESIS
    for row in rows:
        row["chain_key_id"] = key.id
        digest = event_hash(values=row, prev_hash=prev_hash, secret=key.secret)
        events.filter(pk=row["id"]).update(chain_key_id=key.id, prev_hash=prev_hash, hash=digest)
        prev_hash = digest
    head_model._base_manager.filter(id=1).update(hash=prev_hash)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_snapshots_and_permissions"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="chain_key_id",
            field=models.CharField(
                blank=True,
                default="",
                editable=False,
                help_text="Id of the AUDIT_CHAIN_KEY whose HMAC chained this event (audit.chain.chain_key_id).",
                max_length=16,
            ),
        ),
        migrations.RunPython(legacy_events_rechain, migrations.RunPython.noop),
    ]
