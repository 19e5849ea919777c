from __future__ import annotations

import json
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from .chain import canonical, event_hash, personal_digest
from .models import AuditChainHead, AuditEvent


def audit_event_record(
    *,
    kind: str,
    outcome: str = AuditEvent.Outcome.INFO,
    actor: Any = None,
    kiosk_id: int | None = None,
    customer_id: int | None = None,
    card_last4: str = "",
    data: dict[str, Any] | None = None,
    personal: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction (it rolls back with the change).

    Call it after taking every other row lock the transaction needs: it locks the chain head, which every
    audited transaction shares, so taking it last keeps the hold short and the lock order deadlock-free.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_event_record must run inside the transaction of the change it records")
    # Lock the head row: appends are serialised so seq has no gaps and each row links to its predecessor.
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=1)
    # Round-trip through canonical JSON so the hash covers exactly what the JSON columns will give back.
    personal = json.loads(canonical(personal or {}))
    values: dict[str, Any] = {
        "seq": head.seq + 1,
        "created_at": timezone.now(),
        "kind": str(kind),
        "outcome": str(outcome),
        "actor_id": getattr(actor, "pk", None),
        "actor_username": getattr(actor, "username", "") or "",
        "kiosk_id": kiosk_id,
        "customer_id": customer_id,
        "card_last4": card_last4 or "",
        "data": json.loads(canonical(data or {})),
        "personal_digest": personal_digest(personal=personal, salt=secrets.token_hex(8)),
    }
    digest = event_hash(values=values, prev_hash=head.hash)
    event = AuditEvent.objects.create(**values, personal=personal, prev_hash=head.hash, hash=digest)
    head.seq, head.hash = event.seq, digest
    head.save(update_fields=["seq", "hash"])
    return event
