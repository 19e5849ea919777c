"""The change kinds accounts owns, registered into the four-eyes dispatch table from AccountsConfig.ready
(biometrics and kiosk register theirs from their own ready)."""

from __future__ import annotations

from . import display
from .kinds import change_kind_register
from .services import accounts, cards, limits, phones, staff


def accounts_change_kinds_register() -> None:
    from accounts.models import ChangeRequest

    kind = ChangeRequest.Kind
    change_kind_register(
        kind.PHONE_CHANGE,
        apply=phones.phone_change_approved,
        values=phones.phone_change_values,
        rows=display.phone_change_rows,
        needs_active_customer=True,
    )
    change_kind_register(
        kind.LIMIT_INCREASE,
        apply=limits.limit_increase_approved,
        values=limits.limit_increase_values,
        rows=display.limit_increase_rows,
        needs_active_customer=True,
    )
    change_kind_register(
        kind.CARD_ISSUE,
        apply=cards.card_issue_approved,
        values=cards.card_issue_values,
        rows=display.card_issue_rows,
        needs_active_customer=True,
    )
    change_kind_register(
        kind.CARD_REPLACE,
        apply=cards.card_replace_approved,
        values=cards.card_replace_values,
        rows=display.card_replace_rows,
        needs_active_customer=True,
    )
    change_kind_register(
        kind.STAFF_GRANT,
        apply=staff.staff_grant_approved,
        values=staff.staff_grant_values,
        rows=display.staff_grant_rows,
    )
    change_kind_register(
        kind.ACCOUNT_CLOSE,
        apply=accounts.account_close_approved,
        values=accounts.account_close_values,
        rows=display.account_close_rows,
    )
