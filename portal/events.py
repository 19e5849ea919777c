"""The portal's audit event kinds (recorded in the one audit chain, actor "customer:<id>" for the customer's
own acts) and the WhatsApp sending every portal message goes through."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from django.utils import translation

from audit.actors import Actor, CustomerActor
from audit.models import AuditEvent
from audit.services import audit_event_record
from notifications.senders import OtpSendError, otp_sender_get

from .models import CustomerLogin

logger = logging.getLogger(__name__)


class PortalEvent(StrEnum):
    ACTIVATION_ISSUED = "portal.activation_issued"
    ACTIVATED = "portal.activated"
    SIGN_IN_PASSWORD = "portal.sign_in_password"  # noqa: S105 - an event name, not a password
    SIGN_IN_FAILED = "portal.sign_in_failed"
    SIGNED_IN = "portal.signed_in"
    LOCKED = "portal.locked"
    SIGNED_OUT = "portal.signed_out"
    SIGNED_OUT_EVERYWHERE = "portal.signed_out_everywhere"
    TOTP_ENABLED = "portal.totp_enabled"
    CODE_SENT = "portal.code_sent"
    CARD_FROZEN = "portal.card_frozen"
    UNFREEZE_REQUESTED = "portal.unfreeze_requested"
    CARD_UNFROZEN = "portal.card_unfrozen"
    CARDLESS_OFF = "portal.cardless_off"
    NOTIFICATIONS_CHANGED = "portal.notifications_changed"
    FRAUD_REPORTED = "portal.fraud_reported"
    FRAUD_CASE_UPDATED = "portal.fraud_case_updated"
    CONSENT_WITHDRAWN = "portal.consent_withdrawn"
    ERASURE_REQUESTED = "portal.erasure_requested"
    DATA_DOWNLOADED = "portal.data_downloaded"


def customer_actor(login: CustomerLogin) -> CustomerActor:
    return CustomerActor(customer_id=login.customer_id)


def portal_audit(
    *,
    kind: PortalEvent,
    customer_id: int | None,
    outcome: str = AuditEvent.Outcome.INFO,
    actor: Actor = None,
    card_last4: str = "",
    data: dict[str, Any] | None = None,
    personal: dict[str, Any] | None = None,
) -> None:
    """One portal event in the audit chain, in the caller's transaction. Without another actor, the customer
    named by `customer_id` is the actor."""
    if actor is None and customer_id is not None:
        actor = CustomerActor(customer_id=customer_id)
    audit_event_record(
        kind=kind,
        outcome=outcome,
        actor=actor,
        customer_id=customer_id,
        card_last4=card_last4,
        data={"channel": "portal", **(data or {})},
        personal=personal,
    )


def whatsapp_send(*, phone: str, language: str, body: Any, params: dict[str, Any] | None = None) -> bool:
    """Send one message (a lazy translation, rendered in the customer's language); never raises.

    Called after commit: a message about a change that rolled back is never sent. The body is never logged.
    """
    with translation.override(language or "en"):
        text = str(body) % params if params else str(body)
    try:
        otp_sender_get().send(phone=phone, body=text)
    except OtpSendError as error:
        logger.warning("Portal WhatsApp message not sent: %s", error.reason)
        return False
    return True
