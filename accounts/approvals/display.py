"""What a checker reads on a change request: a plain summary and a before/after row per field, in the reader's
language (never `account_id: 6` or `card:7`). Masked as the audit trail is: no PAN, no full phone here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.models import BankAccount, Card, ChangeRequest
from accounts.pan import pan_mask
from accounts.phones import phone_mask

from .kinds import Row, change_kind

Kind = ChangeRequest.Kind
NOTHING = "—"


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


def _choice(model: type[BankAccount] | type[Card], field: str, raw: object) -> str:
    # The field's choices, not the enum's: accounts.verbose_names gives the field translated labels.
    choices = getattr(model._meta.get_field(field), "choices", None) or []
    return str(dict(choices).get(str(raw), raw))


def _card_status(raw: object) -> str:
    return _choice(Card, "status", raw)


def phone_change_rows(change: ChangeRequest) -> list[Row]:
    return [Row(_("Phone"), phone_mask(change.baseline["phone"]), phone_mask(change.payload["phone"]))]


def limit_increase_rows(change: ChangeRequest) -> list[Row]:
    account = _account(change.target.partition(":")[2])
    currency = account.currency if account else ""
    rows = [Row(_("Account"), str(account or NOTHING), str(account or NOTHING))] if account else []
    return [
        *rows,
        Row(
            _("Daily withdrawal limit"),
            money(change.baseline["limit"], currency),
            money(change.payload["limit"], currency),
        ),
    ]


def card_issue_rows(change: ChangeRequest) -> list[Row]:
    payload = change.payload
    account = _account(payload.get("account_id"))
    return [
        Row(_("Card"), NOTHING, pan_mask(payload["last4"])),
        Row(_("Account"), NOTHING, str(account or NOTHING)),
        Row(_("Expires on"), NOTHING, _date(payload["expires_on"])),
    ]


def card_replace_rows(change: ChangeRequest) -> list[Row]:
    payload, baseline = change.payload, change.baseline
    return [
        Row(_("Card"), pan_mask(baseline["last4"]), pan_mask(payload["last4"])),
        Row(_("Card status"), _card_status(baseline["status"]), pgettext("old card", "Blocked (replaced)")),
        Row(_("Expires on"), NOTHING, _date(payload["expires_on"])),
    ]


def _account_status(raw: object) -> str:
    return _choice(BankAccount, "status", raw)


def account_close_rows(change: ChangeRequest) -> list[Row]:
    account = _account(change.payload.get("account_id"))
    return [
        Row(_("Status"), _account_status(change.baseline["status"]), _account_status("closed")),
        Row(_("Account"), str(account or NOTHING), str(account or NOTHING)),
    ]


def _user_field(name: str) -> str:
    from django.contrib.auth.models import User

    # Django's own field names, translated by Django's catalogue ("superuser status", "groups", ...).
    field = User._meta.get_field(name)
    return str(getattr(field, "verbose_name", name)).capitalize()


def _listed(values: list[Any]) -> str:
    return ", ".join(str(value) for value in values) or NOTHING


def _flag(value: object) -> str:
    return _("Yes") if value else _("No")


def staff_grant_rows(change: ChangeRequest) -> list[Row]:
    payload, baseline = change.payload, change.baseline
    login = str(payload.get("username") or NOTHING)
    # The roles first: the summary line shows the first row.
    return [
        Row(_user_field("groups"), _listed(baseline["groups"]), _listed(payload["groups"])),
        Row(_user_field("username"), login, login),
        *(
            Row(_user_field(flag), _flag(baseline[flag]), _flag(payload[flag]))
            for flag in ("is_active", "is_staff", "is_superuser")
        ),
        Row(
            _user_field("user_permissions"), _listed(baseline["permissions"]), _listed(payload["permissions"])
        ),
    ]


def change_request_rows(change: ChangeRequest) -> list[Row]:
    """One row per field the request changes: label, value now, value after approval (the kind's own
    `rows`, registered by the app that owns it)."""
    return change_kind(change.kind).rows(change)


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
