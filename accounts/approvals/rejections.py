"""The proposer hears of a rejection: on their next back-office page, once (accounts.middleware)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import ChangeRequest


def rejections_unannounced(*, user: Any) -> QuerySet[ChangeRequest]:
    return ChangeRequest.objects.filter(
        proposed_by=user, state=ChangeRequest.State.REJECTED, proposer_notified_at__isnull=True
    ).select_related("customer", "decided_by")


@transaction.atomic
def rejections_announced(*, user: Any, change_ids: list[int]) -> int:
    """Mark these rejections as shown to their proposer (nothing else changes; no audit: a display fact)."""
    return (
        ChangeRequest.objects.filter(pk__in=change_ids, proposed_by=user, proposer_notified_at__isnull=True)
        .select_for_update()
        .update(proposer_notified_at=timezone.now())
    )
