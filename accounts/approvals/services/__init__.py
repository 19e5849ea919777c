"""Maker-checker writes: propose, approve, reject, cancel.

One member of staff proposes; nothing changes until a *different* one holding
`accounts.approve_changerequest` approves. Approval locks the request and its target, re-validates what the
proposer saw (`baseline`) and applies the change through the domain's own service, all in one transaction
with the audit events. Phones are masked to the last four digits and card numbers are never held in clear
(a pending card issue stores the keyed HMAC and the last four digits only).

One module per kind of change accounts owns (its proposal and what approving it does), `common` for what
they share and `decisions` for approving, rejecting and cancelling. Kinds owned by other apps (faces:
biometrics.approvals; card-less cash: kiosk.approvals) live there and register their handlers with
`change_kind_register` (accounts.approvals.kinds), so four-eyes never imports the apps it serves. Callers
import from `accounts.approvals.services`.
"""

from ..kinds import Row, change_kind_register
from .accounts import account_close_propose
from .cards import card_issue_check, card_issue_propose, card_replace_check, card_replace_propose
from .common import (
    APPROVE_PERMISSION,
    change_customer_pk,
    change_propose,
    change_request_values,
    reason_check,
    stale,
)
from .decisions import change_request_approve, change_request_cancel, change_request_reject
from .limits import LIMIT_MAX, limit_change_propose, limit_parse
from .phones import phone_change_propose
from .staff import staff_grant_propose, staff_grant_state, staff_recently_granted_by

__all__ = [
    "APPROVE_PERMISSION",
    "LIMIT_MAX",
    "Row",
    "account_close_propose",
    "card_issue_check",
    "card_issue_propose",
    "card_replace_check",
    "card_replace_propose",
    "change_customer_pk",
    "change_kind_register",
    "change_propose",
    "change_request_approve",
    "change_request_cancel",
    "change_request_reject",
    "change_request_values",
    "limit_change_propose",
    "limit_parse",
    "phone_change_propose",
    "reason_check",
    "staff_grant_propose",
    "staff_grant_state",
    "staff_recently_granted_by",
    "stale",
]
