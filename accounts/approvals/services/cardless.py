"""Card-less cash reset: re-open card-less withdrawals that wrong PINs disabled."""

from __future__ import annotations

from django.db import transaction

from accounts.models import ChangeRequest, Customer
from atmsite.errors import ApplicationError
from audit.actors import Actor

from .common import Kind, change_propose


@transaction.atomic
def cardless_reset_propose(*, customer: Customer, actor: Actor) -> ChangeRequest:
    """Re-open card-less cash disabled by wrong PINs; once approved the customer sets a new PIN."""
    from kiosk.models import CardlessAccess

    access = CardlessAccess.objects.select_for_update().filter(customer=customer).first()
    if access is None or access.status != CardlessAccess.Status.DISABLED:
        raise ApplicationError(
            "Card-less cash is not disabled for this customer.", code="cardless_not_disabled"
        )
    return change_propose(
        kind=Kind.CARDLESS_RESET,
        customer=customer,
        target=f"cardless:{access.pk}",
        summary="Reset card-less cash (disabled after wrong PINs); the customer sets a new PIN",
        payload={"access_id": access.pk},
        baseline={
            "status": access.status,
            "disabled_at": access.disabled_at.isoformat() if access.disabled_at else "",
        },
        actor=actor,
    )


def cardless_reset_approved(change: ChangeRequest, actor: Actor) -> None:
    from kiosk.models import CardlessAccess
    from kiosk.services.cardless import cardless_reset_apply

    access = CardlessAccess.objects.get(pk=change.payload["access_id"])
    cardless_reset_apply(access=access, actor=actor)
