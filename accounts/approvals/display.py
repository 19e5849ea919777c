"""What a checker reads on a change request: a plain summary and a before/after row per field, in the reader's
language (never `account_id: 6` or `card:7`). Masked as the audit trail is: no PAN, no full phone here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.models import BankAccount, Card, ChangeRequest
from accounts.pan import pan_mask
from accounts.phones import phone_mask

Kind = ChangeRequest.Kind
NOTHING = "—"


@dataclass(frozen=True)
class Row:
    label: str
    before: str
    after: str


def money(amount: object, currency: str = "") -> str:
    """135,00 EUR in Russian, 135.00 EUR in English: the language's decimal separator and grouping."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    number = formats.number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)
    return f"{number} {currency}".strip()


def _date(raw: object) -> str:
    try:
        return formats.date_format(dt.date.fromisoformat(str(raw)), "SHORT_DATE_FORMAT")
    except ValueError:
        return str(raw)


def _account(account_id: object) -> BankAccount | None:
    return BankAccount.objects.filter(pk=str(account_id)).first() if str(account_id or "").isdigit() else None


def _card_status(raw: object) -> str:
    return str(dict(Card.Status.choices).get(str(raw), raw))


def _cardless_status(raw: object) -> str:
    from kiosk.models import CardlessAccess

    return str(dict(CardlessAccess.Status.choices).get(str(raw), raw))


def _templates(count: int) -> str:
    return _("%(count)s active face templates") % {"count": count} if count else _("none (face check off)")


def change_request_rows(change: ChangeRequest) -> list[Row]:
    """One row per field the request changes: label, value now, value after approval."""
    payload, baseline = change.payload, change.baseline
    if change.kind == Kind.PHONE_CHANGE:
        return [Row(_("Phone"), phone_mask(baseline["phone"]), phone_mask(payload["phone"]))]
    if change.kind == Kind.LIMIT_INCREASE:
        account = _account(change.target.partition(":")[2])
        currency = account.currency if account else ""
        rows = [Row(_("Account"), str(account or NOTHING), str(account or NOTHING))] if account else []
        return [
            *rows,
            Row(
                _("Daily withdrawal limit"),
                money(baseline["limit"], currency),
                money(payload["limit"], currency),
            ),
        ]
    if change.kind == Kind.CARD_ISSUE:
        account = _account(payload.get("account_id"))
        return [
            Row(_("Card"), NOTHING, pan_mask(payload["last4"])),
            Row(_("Account"), NOTHING, str(account or NOTHING)),
            Row(_("Expires on"), NOTHING, _date(payload["expires_on"])),
        ]
    if change.kind == Kind.CARD_REPLACE:
        return [
            Row(_("Card"), pan_mask(baseline["last4"]), pan_mask(payload["last4"])),
            Row(
                _("Card status"), _card_status(baseline["status"]), pgettext("old card", "Blocked (replaced)")
            ),
            Row(_("Expires on"), NOTHING, _date(payload["expires_on"])),
        ]
    if change.kind == Kind.FACE_REENROL:
        before = len(baseline["template_ids"])
        return [
            Row(_("Face"), _templates(before), _templates(int(payload["templates"]))),
            Row(_("Enrolment"), NOTHING, f"#{payload['enrolment_id']}"),
        ]
    if change.kind == Kind.CARDLESS_RESET:
        return [
            Row(_("Card-less cash"), _cardless_status(baseline["status"]), _cardless_status("pin_pending"))
        ]
    return [Row(_("Face"), _templates(len(baseline["template_ids"])), _templates(0))]


def change_request_summary(change: ChangeRequest) -> str:
    """The one-line summary in the reader's language (the stored `summary` is the English audit copy)."""
    rows = change_request_rows(change)
    main = rows[-1] if change.kind == Kind.LIMIT_INCREASE else rows[0]
    if change.kind == Kind.CARD_ISSUE:
        return _("New card %(card)s on %(account)s, expires %(date)s") % {
            "card": rows[0].after,
            "account": rows[1].after,
            "date": rows[2].after,
        }
    return f"{main.label}: {main.before} → {main.after}"


def change_request_reason(change: ChangeRequest) -> str:
    """The proposer's reason: the one asked for with the proposal, else one a kind keeps in its payload
    (erasure, revoke, replacement)."""
    reason: Any = change.proposal_reason or change.payload.get("reason", "")
    return str(reason or "")
