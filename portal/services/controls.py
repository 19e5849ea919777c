"""What a signed-in customer changes for themselves: card freeze and unfreeze, card-less access off,
notifications, "this was not me", consent withdrawal and erasure requests. Every write is audited in the
same transaction with the customer as the actor; staff's fraud-queue writes live here too."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Card, ChangeRequest
from accounts.services.cards import CUSTOMER_FREEZE_REASON, card_freeze, card_unfreeze
from atmsite.errors import ApplicationError
from audit.actors import Actor, actor_user
from audit.models import AuditEvent
from biometrics.approvals import biometrics_erase_propose, biometrics_revoke_propose
from kiosk.models import CardlessAccess, KioskSession

from ..errors import PortalError
from ..events import PortalEvent, customer_actor, portal_audit
from ..models import CardFreeze, CustomerLogin, FraudCase, PortalCode
from .signin import code_send_after_commit, second_factor_matches

Outcome = AuditEvent.Outcome


def _own_card(login: CustomerLogin, card: Card) -> Card:
    # Views fetch cards through the customer's own selectors; this is the second line of defence.
    if card.customer_id != login.customer_id:
        raise ApplicationError(PortalError.NOT_FOUND, status_code=404)
    return card


@transaction.atomic
def portal_card_freeze(*, login: CustomerLogin, card: Card) -> Card:
    """Freeze at once: the card is blocked through accounts; a freeze row remembers the customer did it."""
    card = card_freeze(card=_own_card(login, card), actor=customer_actor(login))
    if (
        card.blocked_reason == CUSTOMER_FREEZE_REASON
        and not CardFreeze.objects.filter(card=card, ended_at__isnull=True).exists()
    ):
        CardFreeze.objects.create(card=card, frozen_at=timezone.now())
        # The fraud team sees at a glance that the disputed card is already frozen.
        FraudCase.objects.filter(card=card).exclude(state=FraudCase.State.CLOSED).update(card_frozen=True)
        portal_audit(
            kind=PortalEvent.CARD_FROZEN,
            customer_id=login.customer_id,
            outcome=Outcome.SUCCESS,
            card_last4=card.last4,
            data={"card_id": card.pk},
        )
    return card


def card_open_freeze(card: Card) -> CardFreeze | None:
    return CardFreeze.objects.filter(card=card, ended_at__isnull=True).first()


@transaction.atomic
def portal_unfreeze_code_send(*, login: CustomerLogin) -> None:
    login = CustomerLogin.objects.select_for_update().select_related("customer").get(pk=login.pk)
    code_send_after_commit(login=login, purpose=PortalCode.Purpose.UNFREEZE)


@transaction.atomic
def portal_unfreeze_request(*, login: CustomerLogin, card: Card, code: str) -> CardFreeze:
    """Second factor now; the card works again only after the cooling-off time (portal_unfreeze_complete)."""
    card = _own_card(login, card)
    login = CustomerLogin.objects.select_for_update().select_related("customer").get(pk=login.pk)
    freeze = CardFreeze.objects.select_for_update().filter(card=card, ended_at__isnull=True).first()
    if freeze is None or card.blocked_reason != CUSTOMER_FREEZE_REASON:
        raise ApplicationError(PortalError.NOT_FROZEN, status_code=409)
    if not second_factor_matches(login, code=code, purpose=PortalCode.Purpose.UNFREEZE):
        portal_audit(
            kind=PortalEvent.UNFREEZE_REQUESTED,
            customer_id=login.customer_id,
            outcome=Outcome.FAILURE,
            card_last4=card.last4,
            data={"card_id": card.pk, "step": "code"},
        )
        raise ApplicationError(PortalError.CODE_WRONG)
    now = timezone.now()
    freeze.unfreeze_requested_at = now
    freeze.unfreeze_not_before = now + timedelta(seconds=settings.PORTAL_UNFREEZE_COOLING_OFF_S)
    freeze.save(update_fields=["unfreeze_requested_at", "unfreeze_not_before"])
    portal_audit(
        kind=PortalEvent.UNFREEZE_REQUESTED,
        customer_id=login.customer_id,
        outcome=Outcome.SUCCESS,
        card_last4=card.last4,
        data={"card_id": card.pk, "not_before": freeze.unfreeze_not_before.isoformat()},
    )
    return freeze


@transaction.atomic
def portal_unfreeze_complete(*, login: CustomerLogin, card: Card) -> Card:
    card = _own_card(login, card)
    freeze = CardFreeze.objects.select_for_update().filter(card=card, ended_at__isnull=True).first()
    now = timezone.now()
    if freeze is None or freeze.unfreeze_not_before is None or freeze.unfreeze_not_before > now:
        raise ApplicationError(PortalError.COOLING_OFF, status_code=409)
    try:
        card = card_unfreeze(card=card, actor=customer_actor(login))
    except ValidationError:
        raise ApplicationError(PortalError.NOT_FROZEN, status_code=409) from None
    freeze.ended_at = now
    freeze.save(update_fields=["ended_at"])
    portal_audit(
        kind=PortalEvent.CARD_UNFROZEN,
        customer_id=login.customer_id,
        outcome=Outcome.SUCCESS,
        card_last4=card.last4,
        data={"card_id": card.pk},
    )
    return card


@transaction.atomic
def portal_cardless_off(*, login: CustomerLogin) -> None:
    """Turn card-less cash off (turning it on again stays a branch act)."""
    from kiosk.services.cardless import cardless_opt_out

    access = CardlessAccess.objects.filter(customer_id=login.customer_id).first()
    if access is None or access.status == CardlessAccess.Status.REVOKED:
        return
    cardless_opt_out(
        access=access, actor=customer_actor(login), reason="Turned off by the customer in the portal"
    )
    portal_audit(kind=PortalEvent.CARDLESS_OFF, customer_id=login.customer_id, outcome=Outcome.SUCCESS)


@transaction.atomic
def portal_notifications_set(
    *, login: CustomerLogin, withdrawals: bool, face_failures: bool
) -> CustomerLogin:
    login = CustomerLogin.objects.select_for_update().get(pk=login.pk)
    login.notify_withdrawals, login.notify_face_failures = withdrawals, face_failures
    login.save(update_fields=["notify_withdrawals", "notify_face_failures"])
    portal_audit(
        kind=PortalEvent.NOTIFICATIONS_CHANGED,
        customer_id=login.customer_id,
        data={"withdrawals": withdrawals, "face_failures": face_failures},
    )
    return login


@transaction.atomic
def portal_language_set(*, login: CustomerLogin, language: str) -> None:
    if language in dict(settings.LANGUAGES) and language != login.language:
        CustomerLogin.objects.filter(pk=login.pk).update(language=language)


@transaction.atomic
def portal_fraud_report(*, login: CustomerLogin, session: KioskSession, note: str = "") -> FraudCase:
    """ "This was not me" about a kiosk session on the customer's card or card-less access: a case for staff.
    Reporting the same session twice returns the first case."""
    owner = session.card.customer_id if session.card_id and session.card else session.customer_id
    if owner != login.customer_id:
        raise ApplicationError(PortalError.NOT_FOUND, status_code=404)
    note = (note or "").strip()
    if len(note) > 500:
        raise ApplicationError(PortalError.NOTE_LONG)
    existing = FraudCase.objects.filter(session=session).first()
    if existing is not None:
        return existing
    case = FraudCase.objects.create(
        customer_id=login.customer_id,
        card_id=session.card_id,
        session=session,
        customer_note=note,
        opened_at=timezone.now(),
    )
    portal_audit(
        kind=PortalEvent.FRAUD_REPORTED,
        customer_id=login.customer_id,
        outcome=Outcome.INFO,
        card_last4=session.card.last4 if session.card else "",
        data={"fraud_case_id": case.pk, "session": str(session.public_id), "kiosk_id": session.kiosk_id},
    )
    return case


@transaction.atomic
def fraud_case_update(*, case: FraudCase, state: str, actor: Actor, resolution: str = "") -> FraudCase:
    """Staff: take a case up or close it (with what was found)."""
    case = FraudCase.objects.select_for_update().get(pk=case.pk)
    if state not in FraudCase.State.values or case.state == FraudCase.State.CLOSED:
        raise ApplicationError(PortalError.FRAUD_STATE)
    resolution = (resolution or "").strip()[:300]
    if state == FraudCase.State.CLOSED and not resolution:
        raise ApplicationError(PortalError.FRAUD_RESOLUTION)
    case.state, case.handled_by = state, actor_user(actor)
    if state == FraudCase.State.CLOSED:
        case.resolution, case.closed_at = resolution, timezone.now()
    case.save(update_fields=["state", "handled_by", "resolution", "closed_at"])
    portal_audit(
        kind=PortalEvent.FRAUD_CASE_UPDATED,
        customer_id=case.customer_id,
        actor=actor,
        data={"fraud_case_id": case.pk, "state": state, "resolution": case.resolution},
    )
    return case


@transaction.atomic
def portal_face_request(*, login: CustomerLogin, erase: bool) -> ChangeRequest:
    """Withdraw biometric consent (revoke the face) or ask for erasure: a four-eyes request staff decide."""
    from accounts.models import Customer

    customer = Customer.objects.get(pk=login.customer_id)
    actor = customer_actor(login)
    propose = biometrics_erase_propose if erase else biometrics_revoke_propose
    reason = "Erasure requested by the customer" if erase else "Consent withdrawn by the customer"
    change = propose(customer=customer, actor=actor, reason=reason)
    portal_audit(
        kind=PortalEvent.ERASURE_REQUESTED if erase else PortalEvent.CONSENT_WITHDRAWN,
        customer_id=login.customer_id,
        data={"change_request_id": change.pk},
    )
    return change


@transaction.atomic
def portal_data_downloaded(*, login: CustomerLogin, file_format: str) -> None:
    portal_audit(
        kind=PortalEvent.DATA_DOWNLOADED, customer_id=login.customer_id, data={"format": file_format}
    )
