"""'Download my data': everything held about the signed-in customer, as plain JSON-ready values.

Left out on purpose: face templates (only how many, and which engine made them), photos and snapshots,
keys, hashes and codes, and other people's data — staff appear as "staff", other customers not at all, and
audit event details are reduced to an allow-list of plain facts.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from accounts.models import Customer, Transaction
from audit.models import AuditEvent
from biometrics.models import Enrolment, FaceTemplate

from . import selectors
from .models import CustomerLogin

# Facts of an audit event a customer may see about themselves; anything else in `data` stays out
# (distances, other customers' ids, snapshot ids, staff names).
AUDIT_DATA_ALLOWED = frozenset(
    {
        "channel",
        "session",
        "reason",
        "status",
        "previous_status",
        "step",
        "factor",
        "purpose",
        "amount",
        "currency",
        "account",
        "change_kind",
        "change_request_id",
        "fraud_case_id",
        "state",
        "withdrawals",
        "face_failures",
        "format",
        "expires_at",
        "not_before",
        "until",
        "frames_seen",
        "face_locked",
        "kind",
        "mode",
    }
)


def _when(value: Any) -> str | None:
    return value.isoformat() if value else None


def _actor(event: AuditEvent, customer_id: int) -> str:
    if event.actor_username == f"customer:{customer_id}":
        return "you"
    if event.actor_id is not None or event.actor_username:
        return "staff"
    return "system"


def _audit_events(customer_id: int) -> list[dict[str, Any]]:
    events = AuditEvent.objects.filter(customer_id=customer_id).order_by("seq")
    return [
        {
            "seq": event.seq,
            "at": _when(event.created_at),
            "kind": event.kind,
            "outcome": event.outcome,
            "by": _actor(event, customer_id),
            "kiosk_id": event.kiosk_id,
            "card": f"•••• {event.card_last4}" if event.card_last4 else "",
            "details": {
                key: value
                for key, value in (event.data or {}).items()
                if key in AUDIT_DATA_ALLOWED and isinstance(value, str | int | float | bool)
            },
        }
        for event in events
    ]


def _money(customer_id: int) -> list[dict[str, Any]]:
    accounts = []
    for account in selectors.customer_accounts(customer_id=customer_id):
        rows = (
            Transaction.objects.filter(account=account).select_related("kiosk").order_by("created_at", "id")
        )
        accounts.append(
            {
                "number": account.number,
                "currency": account.currency,
                "balance": str(account.balance),
                "daily_withdrawal_limit": str(account.daily_withdrawal_limit),
                "status": account.status,
                "opened_at": _when(account.created_at),
                "transactions": [
                    {
                        "at": _when(row.created_at),
                        "kind": row.kind,
                        "amount": str(row.amount),
                        "balance_after": str(row.balance_after),
                        "kiosk": row.kiosk.name if row.kiosk else "",
                    }
                    for row in rows
                ],
            }
        )
    return accounts


def _face(customer_id: int) -> dict[str, Any]:
    summary = selectors.face_summary(customer_id=customer_id)
    templates = FaceTemplate.objects.filter(customer_id=customer_id)
    return {
        "consent_at": _when(summary.consent_at),
        "consent_version": summary.consent_version,
        "consent_text": str(summary.consent_text),
        "active_templates": summary.active_templates,
        "templates": [
            {
                "engine_version": t.engine_version,
                "created_at": _when(t.created_at),
                "revoked_at": _when(t.revoked_at),
            }
            for t in templates.order_by("created_at")
        ],
        "enrolments": [
            {
                "status": e.status,
                "started_at": _when(e.created_at),
                "completed_at": _when(e.completed_at),
                "where": "branch",
            }
            for e in Enrolment.objects.filter(customer_id=customer_id).order_by("created_at")
        ],
        "uses": [
            {
                "at": _when(use.session.created_at),
                "kiosk": use.session.kiosk.name,
                "card": use.session.card.masked_pan if use.session.card else "",
                "mode": use.session.mode,
                "outcome": use.outcome,
            }
            for use in selectors.face_timeline(customer_id=customer_id, limit=10_000)
        ],
    }


def customer_data(*, login: CustomerLogin) -> dict[str, Any]:
    customer = Customer.objects.get(pk=login.customer_id)
    cardless = selectors.cardless_access(customer_id=customer.pk)
    return {
        "generated_at": _when(timezone.now()),
        "customer": {
            "full_name": customer.full_name,
            "phone": customer.phone,
            "email": customer.email,
            "active": customer.is_active,
            "since": _when(customer.created_at),
        },
        "online_banking": {
            "activated_at": _when(login.activated_at),
            "authenticator_app": login.has_totp,
            "last_sign_in_at": _when(login.last_sign_in_at),
            "notify_withdrawals": login.notify_withdrawals,
            "notify_face_failures": login.notify_face_failures,
            "language": login.language,
        },
        "accounts": _money(customer.pk),
        "cards": [
            {
                "card": c.masked_pan,
                "status": c.status,
                "expires_on": c.expires_on.isoformat(),
                "account": c.account.number,
            }
            for c in selectors.customer_cards(customer_id=customer.pk)
        ],
        "cardless_access": {"status": cardless.status, "since": _when(cardless.consent_at)}
        if cardless
        else None,
        "face": _face(customer.pk),
        "requests": [
            {
                "kind": r.kind,
                "state": r.state,
                "proposed_at": _when(r.proposed_at),
                "decided_at": _when(r.decided_at),
            }
            for r in selectors.face_requests(customer_id=customer.pk)
        ],
        "fraud_reports": [
            {
                "opened_at": _when(f.opened_at),
                "state": f.state,
                "note": f.customer_note,
                "resolution": f.resolution,
            }
            for f in selectors.fraud_cases(customer_id=customer.pk)
        ],
        "audit_events": _audit_events(customer.pk),
    }
